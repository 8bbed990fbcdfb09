"""Judging jobs rendered over a template, as the launcher does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.k8s import podsecurity, rendering
from shared.k8s.podsecurity import Allowlists, Level, PodSecurity, Violation
from shared.k8s.rendering import RenderSettings
from shared.k8s.template_files import Templates
from tests.support import builders

WORKER_IMAGE = "python:3.11-slim"
#: An operator's template: its own service account, a Secret mount, a sidecar and a toleration.
TEMPLATE = {
    "kind": "Pod",
    "metadata": {"labels": {"app.kubernetes.io/component": "worker", "team": "data"}},
    "spec": {
        "serviceAccountName": "worker",
        "automountServiceAccountToken": False,
        "tolerations": [{"key": "batch", "operator": "Exists"}],
        "imagePullSecrets": [{"name": "registry-login"}],
        "volumes": [
            {"name": "creds", "secret": {"secretName": "worker-creds"}},
            {
                "name": "token",
                "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]},
            },
        ],
        "containers": [
            {
                "name": "proxy",
                "image": "envoy:1",
                "envFrom": [{"secretRef": {"name": "proxy-env"}}],
            },
            {
                "name": "base",
                "env": [
                    {
                        "name": "DB_PASSWORD",
                        "valueFrom": {"secretKeyRef": {"name": "worker-creds", "key": "db"}},
                    }
                ],
            },
        ],
    },
}

Judge = Callable[..., list[Violation]]


@pytest.fixture
def judge(tmp_path: Path) -> Judge:
    """Judge a job (built from keywords) at `level` with `allow` over the operator's template."""
    template = tmp_path / "template.yaml"
    template.write_text(yaml.safe_dump(TEMPLATE))
    render = RenderSettings(
        instance="prod", namespace="jobs", worker_image=WORKER_IMAGE, template_file=template
    )

    def judged(
        *, level: Level = Level.PRIVILEGED, allow: Allowlists | None = None, **job: Any
    ) -> list[Violation]:
        templates = Templates()
        built = builders.job(**job)
        pod = rendering.render_pod(built, settings=render, templates=templates)
        allowed = allow or Allowlists(images=("python:*",))
        security = PodSecurity(level=level, allow=allowed)
        return podsecurity.judge(built, pod, security=security, render=render, templates=templates)

    return judged

"""The pods podrunner ships pass restricted, so the default level refuses no ordinary job; and an
override that strips a hardened template (`securityContext: null`) is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from shared.k8s import rendering
from shared.k8s.podsecurity import Level, violations
from shared.k8s.rendering import RenderSettings
from shared.k8s.template_files import Templates
from tests.support import builders

K8S_TEMPLATE = (
    Path(__file__).resolve().parents[5] / "k8s/base/control-plane/configmap-pod-template.yaml"
)
SETTINGS = RenderSettings(instance="prod", namespace="jobs", worker_image="python:3.11-slim")


@pytest.fixture
def shipped_template(tmp_path: Path) -> Path:
    config_map = yaml.safe_load(K8S_TEMPLATE.read_text())
    path = tmp_path / "pod-template.yaml"
    path.write_text(config_map["data"]["pod-template.yaml"])
    return path


def render(template: Path | None = None, **job: Any) -> dict[str, Any]:
    settings = RenderSettings(**{**SETTINGS.__dict__, "template_file": template})
    return rendering.render_pod(builders.job(**job), settings=settings, templates=Templates())


def test_the_pod_rendered_without_a_template_passes_restricted() -> None:
    assert violations(render(), Level.RESTRICTED) == []


def test_the_pod_rendered_over_the_shipped_template_passes_restricted(
    shipped_template: Path,
) -> None:
    assert violations(render(shipped_template), Level.RESTRICTED) == []


@pytest.mark.parametrize(
    "override",
    [
        pytest.param({"spec": {"securityContext": None}}, id="pod-security-context-null"),
        pytest.param(
            {"spec": {"containers": [{"name": "base", "securityContext": None}]}},
            id="container-security-context-null",
        ),
    ],
)
def test_an_override_stripping_the_templates_hardening_is_refused(
    shipped_template: Path, override: dict[str, Any]
) -> None:
    pod = render(shipped_template, pod_override=override)
    assert violations(pod, Level.RESTRICTED) != []


contexts = st.fixed_dictionaries(
    {},
    optional={
        "privileged": st.booleans(),
        "allowPrivilegeEscalation": st.booleans(),
        "runAsNonRoot": st.booleans(),
        "runAsUser": st.sampled_from([0, 1000]),
        "procMount": st.sampled_from(["Default", "Unmasked"]),
        "seccompProfile": st.fixed_dictionaries(
            {"type": st.sampled_from(["RuntimeDefault", "Localhost", "Unconfined"])}
        ),
        "capabilities": st.fixed_dictionaries(
            {},
            optional={
                "add": st.lists(st.sampled_from(["NET_BIND_SERVICE", "CHOWN", "SYS_ADMIN"])),
                "drop": st.lists(st.sampled_from(["ALL", "NET_RAW"])),
            },
        ),
    },
)
pods = st.builds(
    lambda pod_context, container_contexts, host_network: {
        "spec": {
            "hostNetwork": host_network,
            "securityContext": pod_context,
            "containers": [
                {"name": f"c{n}", "securityContext": context}
                for n, context in enumerate(container_contexts)
            ],
        }
    },
    contexts,
    st.lists(contexts, min_size=1, max_size=3),
    st.booleans(),
)


@given(pods)
def test_a_pod_that_passes_a_level_passes_every_lower_one(pod: dict[str, Any]) -> None:
    if not violations(pod, Level.RESTRICTED):
        assert violations(pod, Level.BASELINE) == []
    assert violations(pod, Level.PRIVILEGED) == []

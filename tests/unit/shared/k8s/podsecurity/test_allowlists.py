"""What a job changes beyond its template must be on the operator's allowlists, at every level;
what the template itself sets (its service account, Secret mounts, sidecar image, tolerations)
is the operator's and passes."""

from __future__ import annotations

from typing import Any

import pytest

from shared.k8s.podsecurity import Allowlists, Level, Placement
from shared.k8s.podsecurity.allowlists import image_patterns_for
from tests.unit.shared.k8s.podsecurity.conftest import Judge

IMAGES = ("python:*",)


def override(**spec: Any) -> dict[str, Any]:
    return {"pod_override": {"spec": spec}}


def base(**fields: Any) -> dict[str, Any]:
    return override(containers=[{"name": "base", **fields}])


def controls_and_paths(found: list[Any]) -> list[tuple[str, str]]:
    return [(v.control, v.path) for v in found]


def test_the_templates_own_choices_pass(judge: Judge) -> None:
    assert judge() == []


@pytest.mark.parametrize("level", list(Level))
def test_allowlists_apply_at_every_level(judge: Judge, level: Level) -> None:
    found = judge(level=level, **override(serviceAccountName="podrunner-reconciler"))
    assert ("serviceAccount", "spec.serviceAccountName") in controls_and_paths(found)


def test_a_job_may_name_a_service_account_on_the_list(judge: Judge) -> None:
    allow = Allowlists(images=IMAGES, service_accounts=frozenset({"etl"}))
    assert judge(allow=allow, **override(serviceAccountName="etl")) == []
    assert judge(allow=allow, **override(serviceAccountName="podrunner-reconciler")) != []


def test_the_deprecated_service_account_field_is_judged_too(judge: Judge) -> None:
    found = judge(**override(serviceAccount="podrunner-reconciler"))
    assert controls_and_paths(found) == [("serviceAccount", "spec.serviceAccount")]


@pytest.mark.parametrize("value", [True, None], ids=["true", "removed"])
def test_a_job_may_not_turn_the_service_account_token_on(judge: Judge, value: Any) -> None:
    found = judge(**override(automountServiceAccountToken=value))
    assert controls_and_paths(found) == [("serviceAccount", "spec.automountServiceAccountToken")]


@pytest.mark.parametrize(
    ("job", "path"),
    [
        pytest.param({"image": "evil.example/miner:1"}, "spec.containers[1].image", id="job-image"),
        pytest.param(base(image="evil.example/miner:1"), "spec.containers[1].image", id="base"),
        pytest.param(
            override(containers=[{"name": "proxy", "image": "evil.example/proxy:1"}]),
            "spec.containers[0].image",
            id="sidecar-changed",
        ),
        pytest.param(
            override(initContainers=[{"name": "fetch", "image": "curlimages/curl"}]),
            "spec.initContainers[0].image",
            id="init-container",
        ),
        pytest.param(
            override(ephemeralContainers=[{"name": "debug", "image": "busybox"}]),
            "spec.ephemeralContainers[0].image",
            id="ephemeral-container",
        ),
    ],
)
def test_an_image_matching_no_pattern_is_refused(
    judge: Judge, job: dict[str, Any], path: str
) -> None:
    assert controls_and_paths(judge(**job)) == [("image", path)]


def test_images_matching_a_pattern_pass(judge: Judge) -> None:
    allow = Allowlists(images=("registry.example/team/*",))
    assert judge(allow=allow, image="registry.example/team/etl:2") == []
    assert judge(allow=allow, image="registry.example/other/etl:2") != []


@pytest.mark.parametrize(
    ("image", "patterns"),
    [
        ("python:3.11-slim", ("python", "python:*", "python@*")),
        ("registry:5000/team/worker", ("registry:5000/team/worker",)),
        ("ghcr.io/o/w@sha256:ab", ("ghcr.io/o/w", "ghcr.io/o/w:*", "ghcr.io/o/w@*")),
    ],
)
def test_the_default_image_patterns_cover_the_worker_images_repository(
    image: str, patterns: tuple[str, ...]
) -> None:
    assert image_patterns_for(image)[: len(patterns)] == patterns


@pytest.mark.parametrize(
    ("volume", "path"),
    [
        pytest.param({"nfs": {"server": "n", "path": "/"}}, "spec.volumes[2].nfs", id="nfs"),
        pytest.param({"secret": {"secretName": "worker-creds"}}, "spec.volumes[2].secret", id="s"),
        pytest.param(
            {"projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
            "spec.volumes[2].projected.sources[0].serviceAccountToken",
            id="projected-token",
        ),
    ],
)
def test_a_volume_type_off_the_list_is_refused(
    judge: Judge, volume: dict[str, Any], path: str
) -> None:
    found = judge(**override(volumes=[{"name": "extra", **volume}]))
    assert controls_and_paths(found)[0] == ("volumeType", path)


def test_a_job_changing_a_template_volume_is_judged_as_the_job(judge: Judge) -> None:
    found = judge(
        **override(volumes=[{"name": "creds", "secret": {"secretName": "podrunner-secrets"}}])
    )
    assert controls_and_paths(found) == [
        ("volumeType", "spec.volumes[0].secret"),
        ("secret", "spec.volumes[0].secret"),
    ]


@pytest.mark.parametrize(
    ("job", "path"),
    [
        pytest.param(
            base(
                env=[
                    {
                        "name": "T",
                        "valueFrom": {"secretKeyRef": {"name": "podrunner-secrets", "key": "k"}},
                    }
                ]
            ),
            "spec.containers[1].env[1].valueFrom.secretKeyRef.name",
            id="env-secret-key-ref",
        ),
        pytest.param(
            base(envFrom=[{"secretRef": {"name": "podrunner-secrets"}}]),
            "spec.containers[1].envFrom[0].secretRef.name",
            id="env-from-secret",
        ),
        pytest.param(
            override(imagePullSecrets=[{"name": "podrunner-secrets"}]),
            "spec.imagePullSecrets[1].name",
            id="image-pull-secret",
        ),
        pytest.param(
            override(
                volumes=[
                    {
                        "name": "p",
                        "projected": {"sources": [{"secret": {"name": "podrunner-secrets"}}]},
                    }
                ]
            ),
            "spec.volumes[2].projected.sources[0].secret",
            id="projected-secret",
        ),
    ],
)
def test_a_secret_off_the_list_is_refused(judge: Judge, job: dict[str, Any], path: str) -> None:
    found = judge(**job)
    assert ("secret", path) in controls_and_paths(found)
    assert any('"podrunner-secrets" is not in PODRUNNER_JOB_SECRETS' in v.detail for v in found)


def test_secrets_on_the_list_pass(judge: Judge) -> None:
    allow = Allowlists(
        images=IMAGES,
        secrets=frozenset({"etl-db"}),
        volume_types=frozenset({"secret", "emptyDir"}),
    )
    env = [{"name": "T", "valueFrom": {"secretKeyRef": {"name": "etl-db", "key": "k"}}}]
    assert judge(allow=allow, **base(env=env)) == []
    volume = {"name": "db", "secret": {"secretName": "etl-db"}}
    assert judge(allow=allow, **override(volumes=[volume])) == []


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        pytest.param({"nodeName": "control-plane-1"}, "nodeName", id="node-name"),
        pytest.param({"tolerations": [{"operator": "Exists"}]}, "tolerations", id="tolerations"),
    ],
)
def test_placement_off_the_list_is_refused(judge: Judge, spec: dict[str, Any], field: str) -> None:
    assert controls_and_paths(judge(**override(**spec))) == [("placement", f"spec.{field}")]


def test_a_job_may_narrow_its_nodes_by_default(judge: Judge) -> None:
    assert judge(**override(nodeSelector={"disk": "ssd"})) == []
    allow = Allowlists(images=IMAGES, placement=frozenset({Placement.NODE_NAME}))
    assert judge(allow=allow, **override(nodeName="n1")) == []
    assert judge(allow=allow, **override(nodeSelector={"disk": "ssd"})) != []

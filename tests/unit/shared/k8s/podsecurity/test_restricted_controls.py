"""Every control restricted adds refuses its breach at restricted and nothing at baseline."""

from __future__ import annotations

from typing import Any

import pytest

from shared.k8s.podsecurity import Level, violations
from tests.support.builders import hardened_container, hardened_pod

BASE = "spec.containers[0].securityContext"


def base_context(**context: Any) -> dict[str, Any]:
    """A hardened pod whose base container has exactly the securityContext `context`."""
    return hardened_pod(containers=[hardened_container("base", securityContext=context)])


HARDENED = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
BREACHES = [
    pytest.param(
        hardened_pod(volumes=[{"name": "data", "nfs": {"server": "nfs", "path": "/"}}]),
        "restrictedVolumes",
        "spec.volumes[0].nfs",
        id="nfs-volume",
    ),
    pytest.param(
        base_context(capabilities={"drop": ["ALL"]}),
        "allowPrivilegeEscalation",
        f"{BASE}.allowPrivilegeEscalation",
        id="privilege-escalation-unset",
    ),
    pytest.param(
        base_context(**{**HARDENED, "allowPrivilegeEscalation": True}),
        "allowPrivilegeEscalation",
        f"{BASE}.allowPrivilegeEscalation",
        id="privilege-escalation-true",
    ),
    pytest.param(
        hardened_pod(securityContext={"seccompProfile": {"type": "RuntimeDefault"}}),
        "runAsNonRoot",
        f"{BASE}.runAsNonRoot",
        id="run-as-non-root-unset",
    ),
    pytest.param(
        base_context(**HARDENED, runAsNonRoot=False),
        "runAsNonRoot",
        f"{BASE}.runAsNonRoot",
        id="run-as-non-root-false-in-container",
    ),
    pytest.param(
        base_context(**HARDENED, runAsUser=0),
        "runAsUser",
        f"{BASE}.runAsUser",
        id="run-as-root-in-container",
    ),
    pytest.param(
        hardened_pod(
            securityContext={
                "runAsNonRoot": True,
                "runAsUser": 0,
                "seccompProfile": {"type": "RuntimeDefault"},
            }
        ),
        "runAsUser",
        "spec.securityContext.runAsUser",
        id="run-as-root-in-pod",
    ),
    pytest.param(
        hardened_pod(securityContext={"runAsNonRoot": True}),
        "seccompProfile",
        f"{BASE}.seccompProfile.type",
        id="seccomp-unset",
    ),
    pytest.param(
        base_context(allowPrivilegeEscalation=False),
        "capabilities",
        f"{BASE}.capabilities.drop",
        id="capabilities-not-dropped",
    ),
    pytest.param(
        base_context(
            allowPrivilegeEscalation=False,
            capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE", "CHOWN"]},
        ),
        "capabilities",
        f"{BASE}.capabilities.add[1]",
        id="capability-beyond-net-bind-service",
    ),
]


@pytest.mark.parametrize(("pod", "control", "path"), BREACHES)
def test_a_restricted_breach_is_refused_naming_control_and_path(
    pod: dict[str, Any], control: str, path: str
) -> None:
    found = violations(pod, Level.RESTRICTED)
    assert [(v.control, v.path) for v in found] == [(control, path)]


@pytest.mark.parametrize(("pod", "control", "path"), BREACHES)
def test_baseline_allows_what_only_restricted_refuses(
    pod: dict[str, Any], control: str, path: str
) -> None:
    assert violations(pod, Level.BASELINE) == []


def test_the_refusal_reads_control_path_and_rule() -> None:
    [found] = violations(base_context(capabilities={"drop": ["ALL"]}), Level.RESTRICTED)
    assert str(found) == (
        "allowPrivilegeEscalation: "
        "spec.containers[0].securityContext.allowPrivilegeEscalation must be false"
    )


@pytest.mark.parametrize(
    "volume",
    [
        {"name": "a", "configMap": {"name": "c"}},
        {"name": "b", "emptyDir": {}},
        {"name": "c", "persistentVolumeClaim": {"claimName": "x"}},
        {"name": "d", "projected": {"sources": []}},
        {"name": "e", "downwardAPI": {"items": []}},
        {"name": "f", "secret": {"secretName": "s"}},
        {"name": "g", "csi": {"driver": "d"}},
        {"name": "h", "ephemeral": {"volumeClaimTemplate": {}}},
    ],
    ids=lambda volume: next(k for k in volume if k != "name"),
)
def test_restricted_volume_types_pass(volume: dict[str, Any]) -> None:
    assert violations(hardened_pod(volumes=[volume]), Level.RESTRICTED) == []


def test_the_hardened_pod_passes_every_level() -> None:
    for level in Level:
        assert violations(hardened_pod(), level) == []

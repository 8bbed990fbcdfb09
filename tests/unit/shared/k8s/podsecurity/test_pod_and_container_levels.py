"""A container inherits the pod's runAsNonRoot and seccomp profile unless it sets its own, and a
pod declaring Windows is exempt from the Linux-only restricted controls, as Pod Security
Admission judges them."""

from __future__ import annotations

from typing import Any

from shared.k8s.podsecurity import Level, violations
from tests.support.builders import hardened_container, hardened_pod

HARDENED = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


def paths(pod: dict[str, Any]) -> list[str]:
    return [v.path for v in violations(pod, Level.RESTRICTED)]


def test_containers_setting_run_as_non_root_themselves_need_no_pod_level_value() -> None:
    context = {**HARDENED, "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    pod = hardened_pod(
        securityContext=...,
        containers=[hardened_container("base", securityContext=context)],
        initContainers=[hardened_container("setup", securityContext=context)],
    )
    assert paths(pod) == []


def test_a_pod_setting_run_as_non_root_false_is_refused_even_when_containers_say_true() -> None:
    context = {**HARDENED, "runAsNonRoot": True}
    pod = hardened_pod(
        securityContext={"runAsNonRoot": False, "seccompProfile": {"type": "RuntimeDefault"}},
        containers=[hardened_container("base", securityContext=context)],
    )
    assert paths(pod) == ["spec.securityContext.runAsNonRoot"]


def test_only_the_containers_not_covered_by_the_pod_are_named() -> None:
    covered = {**HARDENED, "runAsNonRoot": True, "seccompProfile": {"type": "Localhost"}}
    pod = hardened_pod(
        securityContext=...,
        containers=[
            hardened_container("base", securityContext=covered),
            hardened_container("sidecar"),
        ],
    )
    assert paths(pod) == [
        "spec.containers[1].securityContext.runAsNonRoot",
        "spec.containers[1].securityContext.seccompProfile.type",
    ]


def test_a_container_cannot_undo_the_pods_seccomp_profile() -> None:
    context = {**HARDENED, "seccompProfile": {"type": "Unconfined"}}
    pod = hardened_pod(containers=[hardened_container("base", securityContext=context)])
    found = violations(pod, Level.RESTRICTED)
    assert {v.path for v in found} == {"spec.containers[0].securityContext.seccompProfile.type"}


def test_a_windows_pod_is_exempt_from_the_linux_only_controls() -> None:
    pod = hardened_pod(
        os={"name": "windows"},
        securityContext={"runAsNonRoot": True},
        containers=[{"name": "base", "image": "python:3.11-slim"}],
    )
    assert paths(pod) == []


def test_a_pod_with_no_spec_at_all_breaks_only_what_needs_a_value() -> None:
    assert violations({"metadata": {}}, Level.RESTRICTED) == []
    assert violations({"spec": {"containers": [{"name": "base"}]}}, Level.BASELINE) == []


def test_fields_of_the_wrong_kind_are_read_as_unset_rather_than_crash() -> None:
    pod = {"spec": {"securityContext": "x", "containers": ["x", {"securityContext": 5}]}}
    assert {v.control for v in violations(pod, Level.RESTRICTED)} == {
        "allowPrivilegeEscalation",
        "runAsNonRoot",
        "seccompProfile",
        "capabilities",
    }

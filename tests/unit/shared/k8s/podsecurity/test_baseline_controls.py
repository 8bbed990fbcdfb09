"""Every baseline control refuses its breach, at baseline and restricted alike, naming the control
and the path; `privileged` refuses nothing."""

from __future__ import annotations

from typing import Any

import pytest

from shared.k8s.podsecurity import Level, violations
from tests.support.builders import hardened_container, hardened_pod


def with_context(**context: Any) -> dict[str, Any]:
    """A hardened pod whose base container's securityContext also has `context`."""
    merged = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, **context}
    return hardened_pod(containers=[hardened_container("base", securityContext=merged)])


def with_pod_context(**context: Any) -> dict[str, Any]:
    merged = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}, **context}
    return hardened_pod(securityContext=merged)


CONTAINER = "spec.containers[0].securityContext"
BREACHES = [
    pytest.param(
        with_pod_context(windowsOptions={"hostProcess": True}),
        "hostProcess",
        "spec.securityContext.windowsOptions.hostProcess",
        id="host-process-pod",
    ),
    pytest.param(
        with_context(windowsOptions={"hostProcess": True}),
        "hostProcess",
        f"{CONTAINER}.windowsOptions.hostProcess",
        id="host-process-container",
    ),
    pytest.param(hardened_pod(hostNetwork=True), "hostNamespaces", "spec.hostNetwork", id="net"),
    pytest.param(hardened_pod(hostPID=True), "hostNamespaces", "spec.hostPID", id="pid"),
    pytest.param(hardened_pod(hostIPC=True), "hostNamespaces", "spec.hostIPC", id="ipc"),
    pytest.param(
        with_context(privileged=True), "privileged", f"{CONTAINER}.privileged", id="privileged"
    ),
    pytest.param(
        hardened_pod(
            volumes=[{"name": "root", "hostPath": {"path": "/"}}],
        ),
        "hostPathVolumes",
        "spec.volumes[0].hostPath",
        id="host-path",
    ),
    pytest.param(
        hardened_pod(
            containers=[
                hardened_container(
                    "base", ports=[{"containerPort": 80}, {"containerPort": 81, "hostPort": 8080}]
                )
            ]
        ),
        "hostPorts",
        "spec.containers[0].ports[1].hostPort",
        id="host-port",
    ),
    pytest.param(
        {
            **hardened_pod(),
            "metadata": {
                "annotations": {"container.apparmor.security.beta.kubernetes.io/base": "unconfined"}
            },
        },
        "appArmorProfile",
        'metadata.annotations["container.apparmor.security.beta.kubernetes.io/base"]',
        id="apparmor-annotation",
    ),
    pytest.param(
        with_pod_context(appArmorProfile={"type": "Unconfined"}),
        "appArmorProfile",
        "spec.securityContext.appArmorProfile.type",
        id="apparmor-pod-field",
    ),
    pytest.param(
        with_context(appArmorProfile={"type": "Unconfined"}),
        "appArmorProfile",
        f"{CONTAINER}.appArmorProfile.type",
        id="apparmor-container-field",
    ),
    pytest.param(
        with_pod_context(seLinuxOptions={"type": "spc_t"}),
        "seLinuxOptions",
        "spec.securityContext.seLinuxOptions.type",
        id="selinux-type",
    ),
    pytest.param(
        with_context(seLinuxOptions={"user": "system_u"}),
        "seLinuxOptions",
        f"{CONTAINER}.seLinuxOptions.user",
        id="selinux-user",
    ),
    pytest.param(
        with_context(seLinuxOptions={"role": "sysadm_r"}),
        "seLinuxOptions",
        f"{CONTAINER}.seLinuxOptions.role",
        id="selinux-role",
    ),
    pytest.param(
        with_context(procMount="Unmasked"), "procMount", f"{CONTAINER}.procMount", id="proc-mount"
    ),
    pytest.param(
        with_pod_context(seccompProfile={"type": "Unconfined"}),
        "seccompProfile",
        "spec.securityContext.seccompProfile.type",
        id="seccomp-pod",
    ),
    pytest.param(
        with_context(seccompProfile={"type": "Unconfined"}),
        "seccompProfile",
        f"{CONTAINER}.seccompProfile.type",
        id="seccomp-container",
    ),
    pytest.param(
        with_pod_context(
            sysctls=[
                {"name": "net.ipv4.tcp_syncookies", "value": "1"},
                {"name": "kernel.msgmax", "value": "65536"},
            ]
        ),
        "sysctls",
        "spec.securityContext.sysctls[1].name",
        id="unsafe-sysctl",
    ),
]


@pytest.mark.parametrize(("pod", "control", "path"), BREACHES)
def test_a_baseline_breach_is_refused_naming_control_and_path(
    pod: dict[str, Any], control: str, path: str
) -> None:
    found = violations(pod, Level.BASELINE)
    assert [(v.control, v.path) for v in found] == [(control, path)]


@pytest.mark.parametrize(("pod", "control", "path"), BREACHES)
def test_a_baseline_breach_is_refused_by_restricted_too(
    pod: dict[str, Any], control: str, path: str
) -> None:
    # restricted judges hostPath as a volume type, and an unconfined pod-level seccomp profile
    # also leaves every container that inherits it unconfined
    assert path in [v.path for v in violations(pod, Level.RESTRICTED)]


@pytest.mark.parametrize(("pod", "control", "path"), BREACHES)
def test_privileged_refuses_nothing(pod: dict[str, Any], control: str, path: str) -> None:
    assert violations(pod, Level.PRIVILEGED) == []


def test_a_capability_beyond_the_baseline_set_is_refused_at_baseline() -> None:
    pod = with_context(capabilities={"add": ["CHOWN", "SYS_ADMIN"]})
    [found] = violations(pod, Level.BASELINE)
    assert (found.control, found.path) == ("capabilities", f"{CONTAINER}.capabilities.add[1]")
    assert '"SYS_ADMIN"' in found.detail


@pytest.mark.parametrize(
    "pod",
    [
        pytest.param(with_context(capabilities={"add": ["CHOWN", "KILL"]}), id="default-caps"),
        pytest.param(hardened_pod(hostNetwork=False), id="host-network-false"),
        pytest.param(with_context(procMount="Default"), id="proc-mount-default"),
        pytest.param(with_pod_context(seLinuxOptions={"type": "container_init_t"}), id="se-type"),
        pytest.param(
            with_context(seLinuxOptions={"type": None, "level": "s0:c123,c456"}), id="se-level"
        ),
        pytest.param(
            with_context(appArmorProfile={"type": "Localhost", "localhostProfile": "p"}),
            id="apparmor-localhost",
        ),
        pytest.param(
            {
                **hardened_pod(),
                "metadata": {
                    "annotations": {
                        "container.apparmor.security.beta.kubernetes.io/base": "localhost/p"
                    }
                },
            },
            id="apparmor-annotation-localhost",
        ),
        pytest.param(
            with_pod_context(sysctls=[{"name": "net.ipv4.ip_local_port_range", "value": "1 2"}]),
            id="safe-sysctl",
        ),
        pytest.param(
            hardened_pod(
                containers=[
                    hardened_container("base", ports=[{"containerPort": 80, "hostPort": 0}])
                ]
            ),
            id="host-port-zero",
        ),
    ],
)
def test_what_baseline_allows_passes(pod: dict[str, Any]) -> None:
    assert violations(pod, Level.BASELINE) == []


@pytest.mark.parametrize("field", ["initContainers", "ephemeralContainers"])
def test_init_and_ephemeral_containers_are_judged_like_the_others(field: str) -> None:
    context = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    extra = hardened_container("extra", securityContext={**context, "privileged": True})
    [found] = violations(hardened_pod(**{field: [extra]}), Level.BASELINE)
    assert found.path == f"spec.{field}[0].securityContext.privileged"

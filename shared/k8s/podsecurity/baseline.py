"""The controls of the baseline Pod Security Standard (Kubernetes 1.30), one check each.

Baseline stops the known privilege escalations while accepting ordinary pods: no Windows
HostProcess, no sharing the node's namespaces, no privileged containers or capabilities beyond the
container runtime's default set, no hostPath volumes or host ports, no unconfined AppArmor,
seccomp or /proc, no custom SELinux user, role or type, and only the sysctls that are namespaced
per pod. Each check reads pod-level and container-level fields alike, over init, regular and
ephemeral containers, the way Pod Security Admission does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from shared.k8s.podsecurity._types import Check, Violation
from shared.k8s.podsecurity._walk import (
    containers,
    contexts,
    mapping,
    objects,
    pod_context,
    quoted,
    spec_of,
)

#: Capabilities the container runtime grants by default, which baseline lets a container add.
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
#: Sysctls namespaced per pod, hence safe (the 1.30 set).
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
APPARMOR_TYPES = frozenset({"RuntimeDefault", "Localhost"})


def host_process(pod: Mapping[str, Any]) -> Iterator[Violation]:
    for where, context in contexts(pod):
        if mapping(context.get("windowsOptions")).get("hostProcess") is True:
            yield Violation("hostProcess", f"{where}.windowsOptions.hostProcess", "must be false")


def host_namespaces(pod: Mapping[str, Any]) -> Iterator[Violation]:
    spec = spec_of(pod)
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field) is True:
            yield Violation("hostNamespaces", f"spec.{field}", "must be false")


def privileged(pod: Mapping[str, Any]) -> Iterator[Violation]:
    for where, context in contexts(pod):
        if where != "spec.securityContext" and context.get("privileged") is True:
            yield Violation("privileged", f"{where}.privileged", "must be false")


def capabilities(pod: Mapping[str, Any]) -> Iterator[Violation]:
    for where, container in containers(pod):
        added = mapping(mapping(container.get("securityContext")).get("capabilities")).get("add")
        for n, capability in enumerate(added if isinstance(added, list) else []):
            if capability not in BASELINE_CAPABILITIES:
                path = f"{where}.securityContext.capabilities.add[{n}]"
                yield Violation(
                    "capabilities", path, f"{quoted(capability)} is not in the baseline set"
                )


def host_path_volumes(pod: Mapping[str, Any]) -> Iterator[Violation]:
    for n, volume in enumerate(objects(spec_of(pod).get("volumes"))):
        if volume.get("hostPath") is not None:
            yield Violation("hostPathVolumes", f"spec.volumes[{n}].hostPath", "must not be set")


def host_ports(pod: Mapping[str, Any]) -> Iterator[Violation]:
    for where, container in containers(pod):
        for n, port in enumerate(objects(container.get("ports"))):
            if port.get("hostPort") not in (None, 0):
                yield Violation("hostPorts", f"{where}.ports[{n}].hostPort", "must be unset or 0")


def app_armor(pod: Mapping[str, Any]) -> Iterator[Violation]:
    annotations = mapping(mapping(pod.get("metadata")).get("annotations"))
    for key, value in annotations.items():
        if not key.startswith(APPARMOR_ANNOTATION_PREFIX):
            continue
        if value != "runtime/default" and not str(value).startswith("localhost/"):
            path = f'metadata.annotations["{key}"]'
            yield Violation("appArmorProfile", path, "must be runtime/default or localhost/*")
    for where, context in contexts(pod):
        profile = context.get("appArmorProfile")
        if profile is not None and mapping(profile).get("type") not in APPARMOR_TYPES:
            path = f"{where}.appArmorProfile.type"
            yield Violation("appArmorProfile", path, "must be RuntimeDefault or Localhost")


def se_linux(pod: Mapping[str, Any]) -> Iterator[Violation]:
    for where, context in contexts(pod):
        options = mapping(context.get("seLinuxOptions"))
        if options.get("type") not in {None, *SELINUX_TYPES}:
            path = f"{where}.seLinuxOptions.type"
            yield Violation(
                "seLinuxOptions", path, "must be container_t, container_init_t or container_kvm_t"
            )
        for field in ("user", "role"):
            if options.get(field, "") not in ("", None):
                yield Violation(
                    "seLinuxOptions", f"{where}.seLinuxOptions.{field}", "must be unset"
                )


def proc_mount(pod: Mapping[str, Any]) -> Iterator[Violation]:
    for where, context in contexts(pod):
        if where != "spec.securityContext" and context.get("procMount") not in (None, "Default"):
            yield Violation("procMount", f"{where}.procMount", "must be Default")


def seccomp(pod: Mapping[str, Any]) -> Iterator[Violation]:
    for where, context in contexts(pod):
        if mapping(context.get("seccompProfile")).get("type") == "Unconfined":
            path = f"{where}.seccompProfile.type"
            yield Violation("seccompProfile", path, "must not be Unconfined")


def sysctls(pod: Mapping[str, Any]) -> Iterator[Violation]:
    for n, sysctl in enumerate(objects(pod_context(pod).get("sysctls"))):
        if sysctl.get("name") not in SAFE_SYSCTLS:
            path = f"spec.securityContext.sysctls[{n}].name"
            yield Violation("sysctls", path, f"{quoted(sysctl.get('name'))} is not a safe sysctl")


#: Every baseline control, by the identifier Pod Security Admission gives it.
CHECKS: dict[str, Check] = {
    "hostProcess": host_process,
    "hostNamespaces": host_namespaces,
    "privileged": privileged,
    "capabilities_baseline": capabilities,
    "hostPathVolumes": host_path_volumes,
    "hostPorts": host_ports,
    "appArmorProfile": app_armor,
    "seLinuxOptions": se_linux,
    "procMount": proc_mount,
    "seccompProfile_baseline": seccomp,
    "sysctls": sysctls,
}

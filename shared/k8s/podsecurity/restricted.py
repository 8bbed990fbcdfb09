"""The controls the restricted Pod Security Standard (Kubernetes 1.30) adds to baseline.

Restricted is current pod-hardening practice: only volume types that cannot reach the node, no
privilege escalation, a non-root user, a confining seccomp profile, and every capability dropped
but NET_BIND_SERVICE. Where a field exists at pod and container level, a container inherits the
pod's value unless it sets its own, so a pod-level setting satisfies the control only for
containers that leave the field unset, and a container's bad value is a breach whatever the pod
says. A pod that declares `spec.os.name: windows` is exempt from the Linux-only controls.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from shared.k8s.podsecurity._types import Check, Violation
from shared.k8s.podsecurity._walk import (
    containers,
    contexts,
    is_windows,
    mapping,
    objects,
    pod_context,
    quoted,
    spec_of,
)

#: Volume sources restricted allows: none of them reaches the node's filesystem or network storage
#: the pod's namespace does not already govern.
RESTRICTED_VOLUME_TYPES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
SECCOMP_TYPES = frozenset({"RuntimeDefault", "Localhost"})


def volume_type(volume: Mapping[str, Any]) -> str | None:
    """The source field a volume sets (`emptyDir`, `nfs`, ...), None when it sets none."""
    sources = [field for field, value in volume.items() if field != "name" and value is not None]
    return sources[0] if sources else None


def volumes(pod: Mapping[str, Any]) -> Iterator[Violation]:
    for n, volume in enumerate(objects(spec_of(pod).get("volumes"))):
        kind = volume_type(volume)
        if kind is not None and kind not in RESTRICTED_VOLUME_TYPES:
            yield Violation(
                "restrictedVolumes", f"spec.volumes[{n}].{kind}", "is not an allowed volume type"
            )


def privilege_escalation(pod: Mapping[str, Any]) -> Iterator[Violation]:
    if is_windows(pod):
        return
    for where, container in containers(pod):
        if mapping(container.get("securityContext")).get("allowPrivilegeEscalation") is not False:
            path = f"{where}.securityContext.allowPrivilegeEscalation"
            yield Violation("allowPrivilegeEscalation", path, "must be false")


def run_as_non_root(pod: Mapping[str, Any]) -> Iterator[Violation]:
    pod_value = pod_context(pod).get("runAsNonRoot")
    if pod_value is False:
        yield Violation("runAsNonRoot", "spec.securityContext.runAsNonRoot", "must not be false")
    for where, container in containers(pod):
        value = mapping(container.get("securityContext")).get("runAsNonRoot")
        path = f"{where}.securityContext.runAsNonRoot"
        if value is False:
            yield Violation("runAsNonRoot", path, "must not be false")
        elif value is None and pod_value is not True:
            yield Violation(
                "runAsNonRoot", path, "must be true (or spec.securityContext.runAsNonRoot)"
            )


def run_as_user(pod: Mapping[str, Any]) -> Iterator[Violation]:
    for where, context in contexts(pod):
        if context.get("runAsUser") == 0:
            yield Violation("runAsUser", f"{where}.runAsUser", "must not be 0")


def seccomp(pod: Mapping[str, Any]) -> Iterator[Violation]:
    if is_windows(pod):
        return
    pod_type = mapping(pod_context(pod).get("seccompProfile")).get("type")
    if pod_type is not None and pod_type not in SECCOMP_TYPES:
        yield Violation(
            "seccompProfile",
            "spec.securityContext.seccompProfile.type",
            f"must be RuntimeDefault or Localhost, not {quoted(pod_type)}",
        )
    for where, container in containers(pod):
        kind = mapping(mapping(container.get("securityContext")).get("seccompProfile")).get("type")
        path = f"{where}.securityContext.seccompProfile.type"
        if kind is not None and kind not in SECCOMP_TYPES:
            yield Violation(
                "seccompProfile", path, f"must be RuntimeDefault or Localhost, not {quoted(kind)}"
            )
        elif kind is None and pod_type not in SECCOMP_TYPES:
            yield Violation(
                "seccompProfile",
                path,
                "must be RuntimeDefault or Localhost (or spec.securityContext.seccompProfile.type)",
            )


def capabilities(pod: Mapping[str, Any]) -> Iterator[Violation]:
    if is_windows(pod):
        return
    for where, container in containers(pod):
        caps = mapping(mapping(container.get("securityContext")).get("capabilities"))
        path = f"{where}.securityContext.capabilities"
        dropped = caps.get("drop")
        if not isinstance(dropped, list) or "ALL" not in dropped:
            yield Violation("capabilities", f"{path}.drop", 'must include "ALL"')
        added = caps.get("add")
        for n, capability in enumerate(added if isinstance(added, list) else []):
            if capability != "NET_BIND_SERVICE":
                yield Violation(
                    "capabilities",
                    f"{path}.add[{n}]",
                    f"{quoted(capability)} is not allowed (only NET_BIND_SERVICE)",
                )


#: Every control restricted adds, by the identifier Pod Security Admission gives it.
CHECKS: dict[str, Check] = {
    "restrictedVolumes": volumes,
    "allowPrivilegeEscalation": privilege_escalation,
    "runAsNonRoot": run_as_non_root,
    "runAsUser": run_as_user,
    "seccompProfile_restricted": seccomp,
    "capabilities_restricted": capabilities,
}

#: Baseline controls a restricted one replaces, being stricter on the same fields.
OVERRIDES = frozenset({"hostPathVolumes", "seccompProfile_baseline", "capabilities_baseline"})

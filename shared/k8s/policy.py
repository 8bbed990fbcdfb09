"""The default-deny pod policy applied to a job's `pod_override`.

Jobs come from anyone who can publish to the queue or call the API, so the override they carry is
untrusted: by default it may not make a pod privileged, add Linux capabilities, mount a hostPath or
share the node's network, PID or IPC namespaces. The pod template is the platform team's and is not
checked. Each rule can be allowed explicitly (`PODRUNNER_POD_POLICY_ALLOW`); a violation names the
rule and where in the override it was found, which becomes the job's failure reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from shared.settings import PolicyRule

_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_HOST_NAMESPACES = (
    (PolicyRule.HOST_NETWORK, "hostNetwork"),
    (PolicyRule.HOST_PID, "hostPID"),
    (PolicyRule.HOST_IPC, "hostIPC"),
)


class PolicyViolation(ValueError):
    """A job's pod override breaks a pod-policy rule."""

    def __init__(self, rule: PolicyRule, where: str) -> None:
        super().__init__(f"pod_override violates pod policy {rule.value!r}: {where}")
        self.rule = rule
        self.where = where


def check_override(override: dict[str, Any], *, allow: Iterable[PolicyRule] = ()) -> None:
    """Raise `PolicyViolation` for the first denied rule `override` breaks."""
    allowed = set(allow)
    for rule, where in violations(override):
        if rule not in allowed:
            raise PolicyViolation(rule, where)


def violations(override: dict[str, Any]) -> Iterator[tuple[PolicyRule, str]]:
    """Every (rule, location) the override breaks, whatever is allowed."""
    spec = override.get("spec")
    if not isinstance(spec, dict):
        return
    for rule, field in _HOST_NAMESPACES:
        if spec.get(field) is True:
            yield rule, f"spec.{field} is true"
    for n, volume in enumerate(_dicts(spec.get("volumes"))):
        if volume.get("hostPath") is not None:
            yield PolicyRule.HOST_PATH, f"spec.volumes[{n}] ({volume.get('name')}) is a hostPath"
    for where, container in _containers(spec):
        yield from _container_violations(where, container)


def _container_violations(
    where: str, container: dict[str, Any]
) -> Iterator[tuple[PolicyRule, str]]:
    context = container.get("securityContext")
    if not isinstance(context, dict):
        return
    if context.get("privileged") is True:
        yield PolicyRule.PRIVILEGED, f"{where}.securityContext.privileged is true"
    capabilities = context.get("capabilities")
    if isinstance(capabilities, dict) and capabilities.get("add"):
        added = ", ".join(str(cap) for cap in capabilities["add"])
        yield PolicyRule.CAPABILITIES, f"{where}.securityContext.capabilities.add: {added}"


def _containers(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for field in _CONTAINER_LISTS:
        for n, container in enumerate(_dicts(spec.get(field))):
            yield f"spec.{field}[{n}] ({container.get('name')})", container


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []

"""The default-deny pod policy names the rule an override breaks."""

from __future__ import annotations

from typing import Any

import pytest

from shared.k8s import policy
from shared.settings import PolicyRule


def with_base(**security: Any) -> dict[str, Any]:
    return {"spec": {"containers": [{"name": "base", "securityContext": security}]}}


VIOLATIONS = [
    pytest.param(with_base(privileged=True), PolicyRule.PRIVILEGED, id="privileged"),
    pytest.param(
        with_base(capabilities={"add": ["NET_ADMIN"]}), PolicyRule.CAPABILITIES, id="capabilities"
    ),
    pytest.param(
        {"spec": {"volumes": [{"name": "root", "hostPath": {"path": "/"}}]}},
        PolicyRule.HOST_PATH,
        id="hostPath",
    ),
    pytest.param({"spec": {"hostNetwork": True}}, PolicyRule.HOST_NETWORK, id="hostNetwork"),
    pytest.param({"spec": {"hostPID": True}}, PolicyRule.HOST_PID, id="hostPID"),
    pytest.param({"spec": {"hostIPC": True}}, PolicyRule.HOST_IPC, id="hostIPC"),
    pytest.param(
        {"spec": {"initContainers": [{"name": "init", "securityContext": {"privileged": True}}]}},
        PolicyRule.PRIVILEGED,
        id="privileged-init-container",
    ),
]


@pytest.mark.parametrize(("override", "rule"), VIOLATIONS)
def test_each_denied_override_is_rejected_with_its_rule_named(
    override: dict[str, Any], rule: PolicyRule
) -> None:
    with pytest.raises(policy.PolicyViolation) as raised:
        policy.check_override(override)
    assert raised.value.rule is rule
    assert f"pod policy {rule.value!r}" in str(raised.value)


@pytest.mark.parametrize(("override", "rule"), VIOLATIONS)
def test_an_allowlisted_rule_lets_the_override_through(
    override: dict[str, Any], rule: PolicyRule
) -> None:
    policy.check_override(override, allow=[rule])


def test_the_violation_says_where_it_was_found() -> None:
    with pytest.raises(policy.PolicyViolation, match=r"spec\.containers\[0\] \(base\)"):
        policy.check_override(with_base(privileged=True))


@pytest.mark.parametrize(
    "override",
    [
        pytest.param({}, id="empty"),
        pytest.param(with_base(privileged=False, runAsNonRoot=True), id="explicitly-safe"),
        pytest.param(with_base(capabilities={"drop": ["ALL"]}), id="dropping-capabilities"),
        pytest.param({"spec": {"volumes": [{"name": "s", "emptyDir": {}}]}}, id="emptyDir"),
        pytest.param({"spec": "not a mapping"}, id="malformed-spec-left-to-the-api-server"),
    ],
)
def test_harmless_overrides_pass(override: dict[str, Any]) -> None:
    policy.check_override(override)


def test_allowing_one_rule_still_denies_the_others() -> None:
    override = {"spec": {"hostNetwork": True, "hostPID": True}}
    with pytest.raises(policy.PolicyViolation) as raised:
        policy.check_override(override, allow=[PolicyRule.HOST_NETWORK])
    assert raised.value.rule is PolicyRule.HOST_PID

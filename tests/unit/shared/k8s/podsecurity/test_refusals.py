"""A refusal is one line: the level, the first breach (control, path, rule), and how many more."""

from __future__ import annotations

from shared.k8s import podsecurity
from shared.k8s.podsecurity import Level, Violation


def test_one_breach_reads_as_level_control_path_and_rule() -> None:
    found = [Violation("runAsUser", "spec.securityContext.runAsUser", "must not be 0")]
    assert podsecurity.refusal(Level.RESTRICTED, found) == (
        'pod security "restricted": runAsUser: spec.securityContext.runAsUser must not be 0'
    )


def test_further_breaches_are_counted() -> None:
    found = [Violation("hostNamespaces", f"spec.{f}", "must be false") for f in ("a", "b", "c")]
    assert podsecurity.refusal(Level.BASELINE, found) == (
        'pod security "baseline": hostNamespaces: spec.a must be false (and 2 more)'
    )


def test_the_public_surface_is_small() -> None:
    assert sorted(podsecurity.__all__) == [
        "Allowlists",
        "Level",
        "Placement",
        "PodSecurity",
        "Violation",
        "judge",
        "refusal",
        "violations",
    ]

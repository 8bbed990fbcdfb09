"""Judging a whole pod against a Pod Security Standard.

A pod is judged as it will be created — template, podrunner's own fields and the job's override
merged — because only that pod says what runs: an override can break a control directly, or by
removing (with `null`) the template's hardening. Restricted runs every baseline control except
the three it replaces with stricter versions of its own, as Pod Security Admission does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.k8s.podsecurity import baseline, restricted
from shared.k8s.podsecurity._types import Check, Level, Violation


def violations(pod: Mapping[str, Any], level: Level) -> list[Violation]:
    """Every breach of `level` in `pod` (a whole manifest: `{"metadata": ..., "spec": ...}`)."""
    return [found for check in _checks(level) for found in check(pod)]


def _checks(level: Level) -> list[Check]:
    match level:
        case Level.PRIVILEGED:
            return []
        case Level.BASELINE:
            return list(baseline.CHECKS.values())
        case Level.RESTRICTED:
            kept = [c for name, c in baseline.CHECKS.items() if name not in restricted.OVERRIDES]
            return [*kept, *restricted.CHECKS.values()]

"""Priorities: the task's weight plus its queue's share, kept within a Postgres integer."""

from __future__ import annotations

from services.airflow import translating
from services.airflow.configuring import ExecutorOptions
from shared import admission

OPTIONS = ExecutorOptions(queue_priorities={"high": 5})


def test_the_priority_is_the_weight_plus_the_queues_share() -> None:
    assert translating.priority_of(3, "high", OPTIONS) == 8
    assert translating.priority_of(3, "default", OPTIONS) == 3
    assert translating.priority_of(None, None, OPTIONS) == 0


def test_the_priority_stays_within_32_bits() -> None:
    assert translating.priority_of(2**40, "high", OPTIONS) == admission.INT_MAX
    assert translating.priority_of(-(2**40), None, OPTIONS) == admission.INT_MIN

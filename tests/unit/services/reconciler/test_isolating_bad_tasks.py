"""A batch that fails for one task's fault is split until that task alone fails; a batch that
fails because the database or Redis is out of reach is not split but retried whole."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest
import sqlalchemy

from services.reconciler import isolating
from shared.messaging.connections import MessagingError

Attempt = Callable[[Mapping[str, int]], list[str]]


def failing_on(bad: set[str]) -> tuple[list[list[str]], Attempt]:
    attempts: list[list[str]] = []

    def attempt(groups: Mapping[str, int]) -> list[str]:
        attempts.append(list(groups))
        if bad & set(groups):
            raise ValueError(f"cannot apply {sorted(bad & set(groups))}\nmore detail")
        return list(groups)

    return attempts, attempt


def test_a_batch_without_faults_is_applied_in_one_attempt() -> None:
    attempts, attempt = failing_on(set())
    isolated = isolating.apply_isolating(dict.fromkeys("abcd", 0), attempt)
    assert (isolated.results, isolated.failed, len(attempts)) == ([list("abcd")], {}, 1)


def test_only_the_failing_tasks_fail_with_the_first_line_of_the_reason() -> None:
    _, attempt = failing_on({"c", "f"})
    isolated = isolating.apply_isolating(dict.fromkeys("abcdefgh", 0), attempt)
    assert sorted(key for result in isolated.results for key in result) == list("abdegh")
    assert isolated.failed == {
        "c": "ValueError: cannot apply ['c']",
        "f": "ValueError: cannot apply ['f']",
    }


@pytest.mark.parametrize(
    "error",
    [
        MessagingError("Redis does not answer"),
        sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection")),
    ],
    ids=["redis", "postgres"],
)
def test_a_lost_connection_is_not_split_but_raised(error: Exception) -> None:
    attempts: list[list[str]] = []

    def attempt(groups: Mapping[str, int]) -> None:
        attempts.append(list(groups))
        raise error

    with pytest.raises(type(error)):
        isolating.apply_isolating(dict.fromkeys("abcd", 0), attempt)
    assert attempts == [list("abcd")]

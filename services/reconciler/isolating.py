"""Applying a batch so that one task's bad events cannot take its batch-mates down.

A batch is applied in one transaction. When that transaction fails for a reason other than a lost
connection (a value Postgres refuses, a constraint, a bug met by one task's events), retrying it
would fail again forever, and the whole batch with it. So the batch is split by task key, each
half applied on its own, and so on down to the one task that fails: its events are given up with
the error's reason, everything else is applied. Errors of the connection (Postgres or Redis down)
are not the events' fault: they propagate, and the batch is retried whole later.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

import structlog

from shared.db import errors as db_errors
from shared.messaging.connections import MessagingError

log = structlog.get_logger()

Key = TypeVar("Key")
Group = TypeVar("Group")
Result = TypeVar("Result")


@dataclass(frozen=True)
class Isolated(Generic[Key, Result]):
    """What a batch's good parts gave, and the reason of each task that failed on its own."""

    results: list[Result]
    failed: dict[Key, str]


def apply_isolating(
    groups: Mapping[Key, Group], attempt: Callable[[Mapping[Key, Group]], Result]
) -> Isolated[Key, Result]:
    """`attempt(groups)`; if it fails for a task's fault, the same for each half of the groups.

    Raises:
        MessagingError, or a database error out of reach: the connection failed.
    """
    try:
        return Isolated([attempt(groups)], {})
    except Exception as error:  # whatever one task's events cause is isolated
        if is_connection_error(error):
            raise
        if len(groups) <= 1:
            reason = one_line(error)
            log.warning("task_events_failed", task=str(next(iter(groups), "")), error=reason)
            return Isolated([], dict.fromkeys(groups, reason))
        log.warning("batch_failed_splitting", tasks=len(groups), error=one_line(error))
    keys = list(groups)
    middle = len(keys) // 2
    first = apply_isolating({key: groups[key] for key in keys[:middle]}, attempt)
    second = apply_isolating({key: groups[key] for key in keys[middle:]}, attempt)
    return Isolated([*first.results, *second.results], {**first.failed, **second.failed})


def is_connection_error(error: Exception) -> bool:
    """Whether `error` says the database or Redis is out of reach (retry the whole batch)."""
    return isinstance(error, MessagingError) or db_errors.is_out_of_reach(error)


def one_line(error: Exception) -> str:
    """The error's kind and the first line of its message (for a database error, the driver's
    own, without the statement and its parameters)."""
    cause = db_errors.cause_of(error)
    lines = str(cause).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else type(cause).__name__}"

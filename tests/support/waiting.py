"""Waiting on a condition instead of sleeping: a test goes on the moment the condition holds.

A fixed sleep is either too short on a loaded machine (the test flakes) or longer than needed
everywhere else (the suite crawls); polling briefly does neither, and a failure names what never
happened.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal, TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T | Literal[False] | None],
    *,
    timeout_s: float,
    what: str,
    every_s: float = 0.05,
) -> T:
    """Poll `predicate` until it returns something truthy, and return that (so a predicate may
    answer `None` or `False` for "not yet", and the caller gets the value it found).

    Fails with "`what` did not happen within `timeout_s`s" when it never does.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s}s")
        time.sleep(every_s)

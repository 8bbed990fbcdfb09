"""Clocks a test moves by hand, for code that takes its clock as an argument.

A timeout rule is tested by advancing the clock past the limit, not by sleeping through it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class ManualClock:
    """A monotonic clock (seconds, as `time.monotonic`) that moves only when told to."""

    def __init__(self, start_s: float = 1000.0) -> None:
        self._now_s = start_s

    def __call__(self) -> float:
        return self._now_s

    def advance(self, seconds: float) -> None:
        self._now_s += seconds


class ShiftedUtcClock:
    """The wall clock (aware UTC), moved ahead by however much the test advanced it."""

    def __init__(self) -> None:
        self._ahead = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self._ahead

    def advance(self, seconds: float) -> None:
        self._ahead += timedelta(seconds=seconds)

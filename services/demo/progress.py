"""The live progress line: how many tasks are in each state while the demo waits.

On a terminal the line is rewritten in place (`\\r`); otherwise (a log file, CI) a plain line is
printed every few seconds, and the last one at the end, so the output stays readable when captured.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TextIO

#: States in the order the line shows them; the rest appear after these, when present.
ORDER = ("queued", "up_for_reschedule", "running", "success", "failed")
#: States shown even at zero (the others only while some task is in them).
ALWAYS = frozenset({"queued", "running", "success", "failed"})
#: Seconds between two plain lines when the output is not a terminal.
PLAIN_EVERY_S = 5.0


def count_states(by_state: Mapping[str, int], total: int) -> Counter[str]:
    """Tasks per state; tasks without a row yet count as `submitting`."""
    counts = Counter(by_state)
    missing = total - sum(counts.values())
    if missing > 0:
        counts["submitting"] = missing
    return counts


def progress_line(elapsed_s: float, total: int, counts: Counter[str]) -> str:
    """E.g. `[12.3s] 2000 tasks: queued 10 running 40 success 1900 failed 50`."""
    names = ["submitting", *ORDER, *sorted(set(counts) - {"submitting", *ORDER})]
    shown = [f"{name} {counts[name]}" for name in names if counts[name] or name in ALWAYS]
    return f"[{elapsed_s:.1f}s] {total} tasks: {' '.join(shown)}"


class Progress:
    """Shows progress lines on `out`: in place on a terminal, periodically elsewhere."""

    def __init__(
        self, out: TextIO, total: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._out = out
        self._total = total
        self._clock = clock
        self._started = clock()
        self._tty = out.isatty()
        self._last_line = ""
        self._printed_line = ""
        self._printed_at = float("-inf")

    def show(self, by_state: Mapping[str, int]) -> None:
        now = self._clock()
        counts = count_states(by_state, self._total)
        line = progress_line(now - self._started, self._total, counts)
        if self._tty:
            self._out.write(f"\r{line}\x1b[K")
            self._out.flush()
        elif now - self._printed_at >= PLAIN_EVERY_S:
            self._print(line, now)
        self._last_line = line

    def finish(self) -> None:
        """End the progress display: the last line stays, followed by a newline."""
        if self._tty:
            self._out.write("\n")
        elif self._last_line != self._printed_line:
            self._print(self._last_line, self._clock())
        self._out.flush()

    def _print(self, line: str, now: float) -> None:
        print(line, file=self._out, flush=True)
        self._printed_line = line
        self._printed_at = now

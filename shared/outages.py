"""What a service's work loops know about their dependencies right now: down, rebuilding, or fine.

A dependency that goes away (Redis restarting, Postgres terminating connections) makes every
pass of a work loop fail the same way. Loops report each failed pass here and keep retrying with
a pause; the start of an outage is logged once, with its error, and its end once, with how long it
lasted, instead of a traceback per pass. A loop that finds its state in Redis gone (a consumer
group, a checkpoint, a queue binding) reports that it is rebuilding it until it is done.

`/readyz` asks `check()`: not ready, with the reason, while any loop is cut off or rebuilding, so
a service that cannot do its work never claims it can.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import structlog

log = structlog.get_logger()


class NotReady(RuntimeError):
    """A loop is cut off from a dependency or rebuilding its state; the message says which."""


@dataclass(frozen=True)
class _Trouble:
    what: str
    since: float
    rebuilding: bool


class Outages:
    """The troubles of one service's loops, each loop reporting under its own name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._troubles: dict[str, _Trouble] = {}

    def failed(self, loop: str, error: str) -> None:
        """A pass of `loop` failed on a dependency; logged only when an outage starts."""
        with self._lock:
            current = self._troubles.get(loop)
            if current is not None and not current.rebuilding:
                return
            self._troubles[loop] = _Trouble(error, time.monotonic(), rebuilding=False)
        log.warning("dependency_unavailable", loop=loop, error=error)

    def rebuilding(self, loop: str, what: str) -> None:
        """`loop` found its state gone and is rebuilding `what`."""
        with self._lock:
            self._troubles[loop] = _Trouble(what, time.monotonic(), rebuilding=True)
        log.warning("rebuilding_state", loop=loop, what=what)

    def recovered(self, loop: str) -> None:
        """A pass of `loop` succeeded: whatever held it up is over (logged once)."""
        with self._lock:
            if loop not in self._troubles:  # the usual case: one dict lookup per pass
                return
            trouble = self._troubles.pop(loop)
        lasted = round(time.monotonic() - trouble.since, 3)
        event = "state_rebuilt" if trouble.rebuilding else "dependency_recovered"
        log.info(event, loop=loop, after_s=lasted)

    def check(self) -> None:
        """Raise `NotReady` naming every loop in trouble, and why."""
        with self._lock:
            troubles = sorted(self._troubles.items())
        if troubles:
            raise NotReady("; ".join(_describe(loop, t) for loop, t in troubles))


def _describe(loop: str, trouble: _Trouble) -> str:
    if trouble.rebuilding:
        return f"{loop} rebuilding {trouble.what}"
    return f"{loop} failing: {trouble.what}"

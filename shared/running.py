"""Running a service: its work loops and its health app, which live and stop together.

Each work loop runs on a thread of its own and is given the service's stop event. SIGTERM or
SIGINT sets the event: loops stop taking work, finish what they hold and return, within the grace
period Kubernetes allows (`terminationGracePeriodSeconds`). If any loop dies, or the health server
does, the others are stopped too and the process exits 1 with the reason logged: a half-running
service that still answers its probes is the failure mode this prevents.
"""

from __future__ import annotations

import gc
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from types import FrameType
from typing import Any, Protocol

import structlog

from shared.health import HealthServer

log = structlog.get_logger()


@dataclass(frozen=True)
class Loop:
    """A named work loop: `run(stop)` works until `stop` is set, then drains and returns."""

    name: str
    run: Callable[[threading.Event], None]


class Reports(Protocol):
    """Where a replica reports its health while it runs (`shared.messaging.replicas.Reporter`)."""

    def run(
        self, stop: threading.Event, *, service: str, describe: Callable[[], Mapping[str, Any]]
    ) -> None: ...


@dataclass
class Service:
    name: str
    loops: Sequence[Loop]
    health: HealthServer
    grace_s: float = 25.0
    stop: threading.Event = field(default_factory=threading.Event)
    #: Called once the loops and the health server stopped (close pools and connections).
    cleanup: Sequence[Callable[[], None]] = ()
    failures: list[str] = field(default_factory=list)
    #: Reports this replica's health for the dashboard, on a loop of its own, while it runs.
    report: Reports | None = None

    def run(self) -> int:
        """Serve until stopped; 0 after a clean stop, 1 when a loop or the health app failed."""
        self._handle_signals()
        self.health.start()
        # What start-up built (modules, clients, the app) lives as long as the process: keeping
        # it out of the collector's generations spares every full collection from walking it
        # again, while the loops allocate thousands of short-lived objects a second.
        gc.freeze()
        threads = [self._start(loop) for loop in self._loops()]
        log.info("service_started", service=self.name, loops=[loop.name for loop in self.loops])
        while not self.stop.wait(0.5):
            if not self.health.is_alive():
                self._fail("health server stopped")
        deadline = time.monotonic() + self.grace_s
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [thread.name for thread in threads if thread.is_alive()]
        if stuck:
            self.failures.append(f"did not drain within {self.grace_s:.0f}s: {', '.join(stuck)}")
        self.health.stop()
        for close in self.cleanup:
            close()
        log.info("service_stopped", service=self.name, failures=self.failures)
        return 1 if self.failures else 0

    def _loops(self) -> list[Loop]:
        if self.report is None:
            return list(self.loops)
        report = partial(self.report.run, service=self.name, describe=self.health.describe)
        return [*self.loops, Loop("report", report)]

    def _start(self, loop: Loop) -> threading.Thread:
        def body() -> None:
            try:
                loop.run(self.stop)
            except Exception as error:  # a dying loop takes the service down, with its reason
                log.exception("loop_failed", loop=loop.name)
                self._fail(f"{loop.name}: {type(error).__name__}: {error}")
            else:
                if not self.stop.is_set():
                    self._fail(f"{loop.name} returned while the service was running")

        thread = threading.Thread(target=body, name=loop.name, daemon=True)
        thread.start()
        return thread

    def _fail(self, reason: str) -> None:
        self.failures.append(reason)
        self.stop.set()

    def _handle_signals(self) -> None:
        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("stopping", service=self.name, signal=signal.Signals(signum).name)
            self.stop.set()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, on_signal)
            signal.signal(signal.SIGINT, on_signal)

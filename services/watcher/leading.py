"""Leadership of one watch scope: contend for the lease, watch while holding it, renew it.

Standbys try to take the lease every third of its TTL, so a dead leader is replaced within the
TTL. The leader renews on a thread of its own (a watch can block on a quiet stream for a while);
the moment a renewal fails, the watch loop is told to stop, and its fenced checkpoint writes would
be refused anyway.

Redis going away or forgetting everything (a restart without persistence) costs the lease: the
leader stops, reports the outage and contends again once Redis answers. A leader that finds no
checkpoint, or one it did not write itself, cannot trust that the stream holds what it published
(Redis lost it, or failed over to a replica that lagged): it lists afresh, publishing every pod's
state, and reports itself rebuilding until that list is published and checkpointed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import structlog

from services.watcher.metrics import WatcherMetrics
from services.watcher.watching import LostLeadership, WatchLoop
from shared.health import Heartbeat
from shared.messaging.checkpoints import Checkpoints
from shared.messaging.connections import MessagingError
from shared.messaging.leases import Holding, Lease
from shared.outages import Outages

log = structlog.get_logger()


@dataclass
class Leader:
    scope_name: str
    lease: Lease
    checkpoints: Checkpoints
    loop: WatchLoop
    metrics: WatcherMetrics
    heartbeat: Heartbeat
    ttl_s: float
    outages: Outages
    holding: Holding | None = field(default=None, init=False)

    @property
    def role(self) -> str:
        return "leader" if self.holding else "standby"

    def run(self, stop: threading.Event) -> None:
        """Contend, lead, repeat, until `stop` is set; release the lease on the way out."""
        while not stop.is_set():
            self.heartbeat.beat()
            try:
                holding = self.lease.acquire()
                if holding is not None:
                    self._lead(holding, stop)
            except MessagingError as error:
                self.outages.failed(self.heartbeat.name, str(error))
                stop.wait(self.ttl_s / 3)
                continue
            if holding is None:
                self.outages.recovered(self.heartbeat.name)
                self.metrics.leader.labels(scope=self.scope_name).set(0)
                stop.wait(self.ttl_s / 3)

    def checkpointed(self) -> None:
        """The loop saved a checkpoint: Redis answers and holds what this leader published."""
        self.outages.recovered(self.heartbeat.name)

    def _lead(self, holding: Holding, stop: threading.Event) -> None:
        self.holding = holding
        self.metrics.leader.labels(scope=self.scope_name).set(1)
        log.info("leading", scope=self.scope_name, token=holding.token)
        lost = threading.Event()
        renewer = threading.Thread(
            target=self._renew, args=(holding, lost, stop), name=f"renew-{self.scope_name}"
        )
        renewer.start()
        try:
            start = self._starting_point()
            self.loop.run(start, keep_going=lambda: not lost.is_set(), stop=stop)
        except LostLeadership:
            log.warning("leadership_lost", scope=self.scope_name)
        finally:
            lost.set()
            renewer.join()
            self.holding = None
            self.metrics.leader.labels(scope=self.scope_name).set(0)
            if stop.is_set():
                self._release(holding)

    def _starting_point(self) -> str | None:
        """The checkpoint to watch from; None (list afresh) unless it can be trusted: a watcher
        that published before trusts only the checkpoint it saved last itself."""
        saved = self.checkpoints.load(self.scope_name)
        published_before = self.loop.resource_version
        if saved is None or (published_before and saved != published_before):
            self.outages.rebuilding(self.heartbeat.name, "its pod events: listing afresh")
            return None
        self.outages.recovered(self.heartbeat.name)
        return saved

    def _renew(self, holding: Holding, lost: threading.Event, stop: threading.Event) -> None:
        """Renew every third of the TTL; on losing the lease or on stop, end the watch at once."""
        next_renewal = time.monotonic() + self.ttl_s / 3
        while not lost.is_set():
            if stop.wait(0.2):
                break
            if time.monotonic() < next_renewal:
                continue
            next_renewal = time.monotonic() + self.ttl_s / 3
            try:
                renewed = self.lease.renew(holding)
            except MessagingError:
                renewed = False
            if not renewed:
                log.warning("lease_not_renewed", scope=self.scope_name)
                lost.set()
        self.loop.interrupt()

    def _release(self, holding: Holding) -> None:
        try:
            self.lease.release(holding)
        except MessagingError:
            log.warning("lease_release_failed", scope=self.scope_name)

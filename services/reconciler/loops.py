"""The reconciler's two work loops: applying events as they come, and sweeping for drift.

Both run in every replica. The apply loop shares the streams with the other replicas through
the consumer group; the sweep loop runs a round only while it holds the sweep lease, so exactly
one replica sweeps at a time and a standby takes over within the lease's TTL.

Neither dies of Redis or Postgres going away: a failed pass is reported to the service's
`Outages` (logged once per outage, and `/readyz` says so), and retried after a pause.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import structlog

from services.reconciler import isolating
from services.reconciler.applying import Applier
from services.reconciler.following import FollowUps
from services.reconciler.metrics import ReconcilerMetrics
from services.reconciler.sweeping import Sweeper
from shared import health
from shared.db import errors as db_errors
from shared.k8s import errors
from shared.messages import DecodeError, PodEvent
from shared.messaging.connections import MessagingError
from shared.messaging.leases import Holding, Lease
from shared.messaging.streams import Entry, StreamConsumer
from shared.outages import Outages

log = structlog.get_logger()

#: How often the apply loop looks for pod-event streams of namespaces it does not read yet.
DISCOVERY_INTERVAL_S = 10.0
#: The pause after a pass failed on Redis or Postgres, before the next.
RETRY_PAUSE_S = 1.0


class ApplyLoop:
    """Read a batch, apply it in one transaction (which acknowledges it), then follow up."""

    def __init__(
        self,
        *,
        consumer: StreamConsumer,
        applier: Applier,
        follow_ups: FollowUps,
        heartbeat: health.Heartbeat,
        metrics: ReconcilerMetrics,
        stream_pattern: str,
        launches_stream: str,
        outages: Outages,
    ) -> None:
        self._consumer = consumer
        self._outages = outages
        self._applier = applier
        self._follow_ups = follow_ups
        self.heartbeat = heartbeat
        self._metrics = metrics
        self._pattern = stream_pattern
        self._launches = launches_stream
        self._next_discovery = 0.0

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.heartbeat.beat()
            try:
                self._discover()
                self._step()
            except (MessagingError, db_errors.DriverError) as error:
                # the applier isolates what one task's events cause (see `isolating`): what
                # comes here is Redis or Postgres out of reach; the batch comes back later
                self._outages.failed(self.heartbeat.name, isolating.one_line(error))
                stop.wait(RETRY_PAUSE_S)
            else:
                self._outages.recovered(self.heartbeat.name)

    def _discover(self) -> None:
        if time.monotonic() < self._next_discovery:
            return
        self._next_discovery = time.monotonic() + DISCOVERY_INTERVAL_S
        added = self._consumer.discover(self._pattern)
        if added:
            log.info("streams_discovered", streams=added)

    def _step(self) -> None:
        entries = self._consumer.read(block_ms=500)
        if not entries and not self._applier.holding:
            self._follow_ups.run([])  # pod releases put off while a launcher was creating
            return
        with self._metrics.batch_seconds.time():
            outcomes = self._applier.apply(entries)
        if entries:
            self._observe(entries)
        self._follow_ups.run(outcomes)

    def _observe(self, entries: list[Entry]) -> None:
        self._metrics.events_applied.inc(len(entries))
        self._metrics.batch_size.observe(len(entries))
        observed = self._newest_observation(entries)
        if observed is not None:
            now = datetime.now(UTC)
            self._metrics.apply_latency.observe(max(0.0, (now - observed).total_seconds()))

    def _newest_observation(self, entries: list[Entry]) -> datetime | None:
        """When the batch's newest pod event was observed (entries that do not decode were
        dead-lettered by the applier and are passed over)."""
        for entry in reversed(entries):
            if entry.stream == self._launches:
                continue
            try:
                return PodEvent.decode(entry.data).observed_at
            except DecodeError:
                continue
        return None


#: What a round reports for jobs refused because no launcher serves their namespace.
STRAY_JOBS = "job-for-unserved-namespace"


class SweepLoop:
    """Every interval, take (or keep) the sweep lease, sweep every namespace known, then refuse
    the jobs queued for namespaces nobody serves."""

    def __init__(
        self,
        *,
        lease: Lease,
        sweeper: Sweeper,
        namespaces: Callable[[], Iterable[str]],
        strays: Callable[[], int],
        interval_s: float,
        heartbeat: health.Heartbeat,
        metrics: ReconcilerMetrics,
        outages: Outages,
    ) -> None:
        self._lease = lease
        self._outages = outages
        self._sweeper = sweeper
        self._namespaces = namespaces
        self._strays = strays
        self._interval_s = interval_s
        self.heartbeat = heartbeat
        self._metrics = metrics
        self.last_round: dict[str, int] = {}
        self.leading = False

    def run(self, stop: threading.Event) -> None:
        holding: Holding | None = None
        while not stop.is_set():
            self.heartbeat.beat()
            try:
                holding = self._lease.acquire()
                self.leading = holding is not None
                self._metrics.sweep_leader.set(1 if self.leading else 0)
                if holding is not None:
                    self._round(holding, stop)
            except (MessagingError, db_errors.Unreachable) as error:
                self._outages.failed(self.heartbeat.name, isolating.one_line(error))
            except (errors.KubeError, db_errors.DriverError) as error:
                # one finding's failure ends this round only; the next round sweeps again
                log.warning("sweep_failed", error=isolating.one_line(error))
            else:
                self._outages.recovered(self.heartbeat.name)
            stop.wait(self._interval_s)
        if holding is not None:
            self._give_up(holding)

    def _round(self, holding: Holding, stop: threading.Event) -> None:
        renewal = _Renewal(self._lease, holding, stop)
        found: dict[str, int] = {}
        for namespace in self._namespaces():
            if not renewal.keep_going():
                return
            self.heartbeat.beat()
            for verdict in self._sweeper.sweep(namespace, keep_going=renewal.keep_going):
                found[verdict.finding.value] = found.get(verdict.finding.value, 0) + 1
        if renewal.keep_going() and (strays := self._strays()):
            found[STRAY_JOBS] = strays
        self.last_round = found

    def _give_up(self, holding: Holding) -> None:
        try:
            self._lease.release(holding)
        except MessagingError as error:
            log.warning("sweep_lease_release_failed", error=str(error))


class _Renewal:
    """Keeps the lease while a round lasts: renewed every third of its TTL; False once lost
    (another replica may be sweeping now) or once the service is stopping."""

    def __init__(self, lease: Lease, holding: Holding, stop: threading.Event) -> None:
        self._lease = lease
        self._holding = holding
        self._stop = stop
        self._renew_at = time.monotonic() + lease.ttl_s / 3

    def keep_going(self) -> bool:
        if self._stop.is_set():
            return False
        if time.monotonic() < self._renew_at:
            return True
        self._renew_at = time.monotonic() + self._lease.ttl_s / 3
        return self._lease.renew(self._holding)

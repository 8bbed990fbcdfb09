"""The watch loop of one scope (a namespace, or the whole cluster): list, then watch, forever.

The resourceVersion is a local of this loop and a checkpoint in Redis, nothing else. It starts
from the checkpoint (or a fresh list), and moves only after the events up to it are published:

* each chunk of the stream is decoded, filtered to transitions, published in one pipeline, and
  then the last resourceVersion seen (event or bookmark) is checkpointed;
* `410 Gone` (on opening or mid-stream) re-lists, page by page from one snapshot, publishes the
  current state of every pod, reports pods that vanished, and watches from the list's version;
* connection errors, timeouts and 5xx reconnect with backoff; a stream the server closed on its
  timeout reconnects at once.

The loop runs only while this replica holds the scope's lease; the fenced checkpoint write is the
last word on that.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec
import structlog

from services.watcher.metrics import WatcherMetrics
from services.watcher.tracking import Tracker
from shared.health import Heartbeat
from shared.k8s import errors, naming, snapshots
from shared.k8s.pods import PodApi
from shared.messages import EventSource, PodEvent
from shared.retrying import Backoff

log = structlog.get_logger()

Publish = Callable[[list[PodEvent]], None]
#: Saves the checkpoint; False means this replica is no longer the leader.
SaveCheckpoint = Callable[[str], bool]

#: Server-side watch timeout, and how long a silent connection may stay silent.
WATCH_TIMEOUT_S = 300
LIST_PAGE = 500


class LostLeadership(Exception):
    """The lease moved on: stop watching, let the new leader carry on."""


@dataclass
class WatchLoop:
    scope: str | None
    pods: PodApi
    instance: str
    publish: Publish
    save_checkpoint: SaveCheckpoint
    metrics: WatcherMetrics
    heartbeat: Heartbeat
    read_timeout_s: float = 30.0
    backoff: Backoff = field(default_factory=lambda: Backoff(base_s=0.5, max_s=15.0))

    def __post_init__(self) -> None:
        self.tracker = Tracker()
        self.resource_version = ""
        self._cancel: Callable[[], None] = lambda: None

    def interrupt(self) -> None:
        """End the current watch stream now (from another thread), e.g. on shutdown."""
        self._cancel()

    @property
    def selector(self) -> str:
        return naming.instance_selector(self.instance)

    def run(
        self, start_from: str | None, keep_going: Callable[[], bool], stop: threading.Event
    ) -> None:
        """Watch until `stop` is set or `keep_going()` turns false (lost lease)."""
        self.resource_version = start_from or ""
        failures = 0
        while not stop.is_set() and keep_going():
            self.heartbeat.beat()  # a quiet cluster still reconnects every read timeout
            try:
                if not self.resource_version:
                    self._relist()
                self._watch(stop, keep_going)
                failures = 0
            except errors.Gone:
                self.metrics.gone.inc()
                log.info("watch_expired_relisting", scope=self.scope, rv=self.resource_version)
                self.resource_version = ""
            except errors.KubeError as error:
                if stop.is_set() or not keep_going():
                    return
                failures += 1
                self.metrics.reconnects.inc()
                log.warning("watch_reconnecting", scope=self.scope, error=str(error))
                stop.wait(self.backoff.delay(failures, retry_after=error.retry_after))

    def _watch(self, stop: threading.Event, keep_going: Callable[[], bool]) -> None:
        stream = self.pods.watch(
            self.scope,
            label_selector=self.selector,
            resource_version=self.resource_version,
            timeout_s=WATCH_TIMEOUT_S,
            read_timeout_s=self.read_timeout_s,
            on_open=self._opened,
        )
        for lines in stream:
            self.process(lines)
            self.heartbeat.beat()
            if stop.is_set() or not keep_going():
                return
        self.heartbeat.beat()

    def _opened(self, cancel: Callable[[], None]) -> None:
        self._cancel = cancel

    def process(self, lines: list[bytes]) -> None:
        """Decode one chunk of watch lines, publish its transitions, checkpoint its last RV."""
        observed = datetime.now(UTC)
        events: list[PodEvent] = []
        last = self.resource_version
        seen: Counter[str] = Counter()
        for line in lines:
            decoded = self._decode(line, observed, seen)
            if isinstance(decoded, str):
                last = decoded or last
                continue
            last = decoded.resource_version or last
            if self.tracker.is_transition(decoded):
                events.append(decoded)
        for kind, count in seen.items():
            self.metrics.events_in.labels(type=kind).inc(count)
        self._commit(events, last)

    def _decode(self, line: bytes, observed: datetime, seen: Counter[str]) -> PodEvent | str:
        """A pod event, or (for bookmarks and pods that are not ours) just its resourceVersion."""
        try:
            raw = snapshots.EVENT_DECODER.decode(line)
            pod = raw.object or snapshots.Pod()
        except msgspec.DecodeError as error:
            seen["UNDECODABLE"] += 1
            log.warning("watch_line_undecodable", scope=self.scope, error=str(error))
            return ""
        seen[raw.type] += 1
        if raw.type == "BOOKMARK":
            return pod.metadata.resourceVersion if pod.metadata else ""
        event = snapshots.to_event(
            pod,
            deleted=raw.type == "DELETED",
            observed_at=observed,
            source=EventSource.WATCH,
        )
        if isinstance(event, snapshots.Foreign):
            self.metrics.ignored.labels(reason=event.reason).inc()
            return pod.metadata.resourceVersion if pod.metadata else ""
        return event

    def _relist(self) -> None:
        """Publish the current state of every pod, page by page, and watch from the list's RV.

        Each page is published as it arrives, so memory holds one page of events, not every
        pod's; the checkpoint moves only once the whole list (and the pods gone from it) is out.
        """
        self.metrics.relists.inc()
        observed = datetime.now(UTC)
        self.tracker.start_relist()
        listed, token, list_rv = 0, "", ""
        while True:
            page = snapshots.LIST_DECODER.decode(
                self.pods.list_page(
                    self.scope, label_selector=self.selector, limit=LIST_PAGE, continue_token=token
                )
            )
            list_rv = list_rv or str(page.metadata.get("resourceVersion", ""))
            events = self._listed(page.items, observed)
            listed += len(events)
            self._commit(events, "")
            token = str(page.metadata.get("continue") or "")
            if not token:
                break
        vanished = [
            msgspec.structs.replace(
                event,
                deleted=True,
                source=EventSource.RELIST,
                resource_version=list_rv,
                observed_at=observed,
            )
            for event in self.tracker.finish_relist()
        ]
        self._commit(vanished, list_rv)
        log.info("relisted", scope=self.scope, pods=listed, vanished=len(vanished), rv=list_rv)

    def _listed(self, pods: list[snapshots.Pod], observed: datetime) -> list[PodEvent]:
        """The events of one list page's pods (all of them: a re-list publishes every state)."""
        events: list[PodEvent] = []
        for pod in pods:
            event = snapshots.to_event(
                pod, deleted=False, observed_at=observed, source=EventSource.RELIST
            )
            if isinstance(event, snapshots.Foreign):
                self.metrics.ignored.labels(reason=event.reason).inc()
                continue
            self.tracker.is_transition(event)
            events.append(event)
        return events

    def _commit(self, events: list[PodEvent], resource_version: str) -> None:
        """Publish, then checkpoint: a restart never skips an unpublished event."""
        if events:
            self.publish(events)
            for phase, count in Counter(event.phase for event in events).items():
                self.metrics.events_out.labels(phase=phase).inc(count)
            now = datetime.now(UTC)
            self.metrics.lag.observe(max(0.0, (now - events[-1].observed_at).total_seconds()))
        if resource_version and resource_version != self.resource_version:
            if not self.save_checkpoint(resource_version):
                raise LostLeadership(self.scope or "*")
            self.resource_version = resource_version

"""One namespace's consumer: take jobs, hand creates to the pool, settle each job exactly once.

A consumer owns its kombu connection, so acknowledgements happen on its own thread; creates run
on the shared worker pool and come back through a queue. Each job is settled once: its launch
event is published first, then it is acknowledged (or, for transient failures, put back on the
queue). Jobs that cannot get an active-pod slot stay in hand, in arrival order, and the consumer
takes no more until one frees; with prefetch bounded, the rest wait in the queue in priority order.
A job whose pod already ran to its end (delivered again after its launcher died) is acknowledged
without a create.
On stop it takes nothing new, lets the creates in flight finish, settles them, and puts every job
still waiting for a slot back on the queue.

When Redis fails under it, the consumer reports the outage, pauses and connects again, keeping the
jobs in hand. A new connection declares the queue and its binding again: Redis may have restarted
empty, and without the binding a job published to the exchange would be dropped silently.
"""

from __future__ import annotations

import functools
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from services.launcher.creating import Creator, Outcome, Result
from services.launcher.metrics import LauncherMetrics
from services.launcher.preparing import Prepared, Rejection, unexpected
from shared.health import Heartbeat
from shared.k8s import naming
from shared.messages import SCHEMA_VERSION, LaunchEvent, LaunchOutcome
from shared.messaging.connections import MessagingError
from shared.messaging.jobqueue import Delivery, JobConsumer, Jobs
from shared.messaging.slots import Claim, Slots
from shared.outages import Outages

log = structlog.get_logger()

#: How often jobs waiting for a slot look again, and the queue depth is read.
SLOT_RETRY_S = 0.25
_LAUNCHED = (Outcome.CREATED, Outcome.EXISTS)
DEPTH_EVERY_S = 5.0
#: The pause after Redis failed a pass, before connecting again.
RECONNECT_PAUSE_S = 1.0

Prepare = Callable[[bytes, str], Prepared | Rejection]
Publish = Callable[[list[LaunchEvent]], None]
DeadLetter = Callable[[str, bytes, str], None]


@dataclass(frozen=True)
class Settled:
    delivery: Delivery
    prepared: Prepared
    result: Result


class NamespaceConsumer:
    def __init__(
        self,
        *,
        namespace: str,
        jobs: Jobs,
        prefetch: int,
        pool: ThreadPoolExecutor,
        prepare: Prepare,
        creator: Creator,
        slots: Slots,
        max_active: int,
        publish: Publish,
        dead_letter: DeadLetter,
        metrics: LauncherMetrics,
        heartbeat: Heartbeat,
        outages: Outages,
    ) -> None:
        self.namespace = namespace
        self._heartbeat = heartbeat
        self._outages = outages
        self._jobs = jobs
        self._prefetch = prefetch
        self._pool = pool
        self._prepare = prepare
        self._creator = creator
        self._slots = slots
        self._max_active = max_active
        self._publish = publish
        self._dead_letter = dead_letter
        self._metrics = metrics
        self._done: queue.Queue[Settled] = queue.Queue()
        self._waiting: deque[tuple[Delivery, Prepared]] = deque()
        self._in_flight = 0
        self._next_depth = 0.0

    @property
    def heartbeat(self) -> Heartbeat:
        """The heartbeat of this consumer's loop (stale when the loop is stuck)."""
        return self._heartbeat

    @property
    def in_hand(self) -> int:
        return self._in_flight + len(self._waiting)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self._heartbeat.beat()  # retrying is alive
            try:
                with self._jobs.consumer([self.namespace], prefetch=self._prefetch) as consumer:
                    self._consume(consumer, stop)
            except MessagingError as error:
                self._outages.failed(self._heartbeat.name, str(error))
                stop.wait(RECONNECT_PAUSE_S)

    def _consume(self, consumer: JobConsumer, stop: threading.Event) -> None:
        """Work on this connection until stopped (then drain) or until Redis fails (raises)."""
        while not stop.is_set():
            self._step(consumer)
            self._outages.recovered(self._heartbeat.name)
        self._drain(consumer)

    def _step(self, consumer: JobConsumer) -> None:
        self._heartbeat.beat()
        self._settle_done(consumer, block_s=0.0)
        self._start_waiting()
        self._report()
        room = self._prefetch - self.in_hand
        if room > 0 and not self._waiting:
            for delivery in consumer.poll(timeout_s=0.2, most=room):
                self._take(delivery)
            self._start_waiting()
        else:
            self._settle_done(consumer, block_s=SLOT_RETRY_S)

    def _take(self, delivery: Delivery) -> None:
        self._metrics.jobs_consumed.labels(namespace=self.namespace).inc()
        try:
            prepared = self._prepare(delivery.body, self.namespace)
        except Exception as error:  # noqa: BLE001 - one job's fault must not stop its batch-mates
            prepared = Rejection(unexpected("preparing the job", error), self.namespace)
        if isinstance(prepared, Rejection):
            self._reject(delivery, prepared)
            return
        self._waiting.append((delivery, prepared))

    def _start_waiting(self) -> None:
        """Submit waiting jobs, in order, for as many as slots can be had (one round trip);
        settle at once those whose pod already ran to its end."""
        names = [prepared.name for _, prepared in self._waiting]
        for claim in self._slots.acquire_many(self.namespace, names, limit=self._max_active):
            delivery, prepared = self._waiting.popleft()
            if claim is Claim.FINISHED:
                self._already_finished(delivery, prepared)
                continue
            self._in_flight += 1
            future = self._pool.submit(self._creator.create, prepared)
            future.add_done_callback(functools.partial(self._completed, delivery, prepared))

    def _already_finished(self, delivery: Delivery, prepared: Prepared) -> None:
        """A job delivered again after its task ended (its launcher died before acknowledging
        it): creating its pod would run the task a second time. Its row is already final, so
        it is acknowledged with no launch event."""
        log.info("job_already_finished", pod=prepared.name, namespace=self.namespace)
        self._metrics.outcomes.labels(namespace=self.namespace, outcome="finished").inc()
        delivery.ack()

    def _completed(self, delivery: Delivery, prepared: Prepared, future: Future[Result]) -> None:
        error = future.exception()
        result = (
            Result(Outcome.RETRY_LATER, f"create failed unexpectedly: {error!r}")
            if error is not None
            else future.result()
        )
        self._done.put(Settled(delivery, prepared, result))

    def _settle_done(self, consumer: JobConsumer, *, block_s: float) -> None:
        settled: list[Settled] = []
        try:
            settled.append(self._done.get(timeout=block_s) if block_s else self._done.get_nowait())
            while True:
                settled.append(self._done.get_nowait())
        except queue.Empty:
            pass
        if settled:
            with consumer.settling():
                self._settle(settled)

    def _settle(self, settled: list[Settled]) -> None:
        """Publish the launch events of finished creates, then acknowledge or requeue them."""
        events = [self._event(s) for s in settled if s.result.outcome is not Outcome.RETRY_LATER]
        try:
            self._publish(events)
        except MessagingError:
            log.exception("publishing_launch_events_failed", namespace=self.namespace)
            for item in settled:
                self._finish(item.delivery, item.prepared, Outcome.RETRY_LATER)
            return
        launched = [s.prepared.name for s in settled if s.result.outcome in _LAUNCHED]
        failed = [s.prepared.name for s in settled if s.result.outcome not in _LAUNCHED]
        self._slots.mark_created(self.namespace, *launched)
        self._slots.give_back(self.namespace, *failed)
        for item in settled:
            outcome, reason = item.result.outcome, item.result.reason
            if outcome is Outcome.REJECTED and not self._dead_lettered(item.delivery, reason):
                outcome = Outcome.RETRY_LATER  # its event is out: a second one changes nothing
            self._finish(item.delivery, item.prepared, outcome, reason)

    def _dead_lettered(self, delivery: Delivery, reason: str) -> bool:
        """Keep a rejected job's body, with the reason, where an operator can find and replay
        it; False when Redis did not take it."""
        try:
            self._dead_letter(self.namespace, delivery.body, reason)
        except MessagingError:
            log.exception("dead_lettering_failed", namespace=self.namespace)
            return False
        return True

    def _finish(
        self, delivery: Delivery, prepared: Prepared, outcome: Outcome, reason: str = ""
    ) -> None:
        self._in_flight -= 1
        self._metrics.outcomes.labels(namespace=self.namespace, outcome=outcome.value).inc()
        if outcome in _LAUNCHED:
            if outcome is Outcome.CREATED:
                self._metrics.pods_created.labels(namespace=self.namespace).inc()
            delivery.ack()
            return
        if outcome is Outcome.REJECTED:
            log.warning("job_rejected", pod=prepared.name, namespace=self.namespace, reason=reason)
            delivery.ack()
        else:
            log.info("job_requeued", pod=prepared.name, namespace=self.namespace, reason=reason)
            delivery.requeue()

    def _reject(self, delivery: Delivery, rejection: Rejection) -> None:
        """Settle a job refused before any API call: its event (when the key is known, so the
        reconciler fails its row, or makes one, with the reason), and its dead letter."""
        self._metrics.outcomes.labels(namespace=self.namespace, outcome="rejected").inc()
        log.warning("job_rejected", namespace=self.namespace, reason=rejection.reason)
        try:
            if rejection.key is not None:
                self._publish([_rejected_event(rejection)])
            self._dead_letter(self.namespace, delivery.body, rejection.reason)
        except MessagingError:
            log.exception("recording_rejection_failed", namespace=self.namespace)
            delivery.requeue()
            return
        delivery.ack()

    def _event(self, settled: Settled) -> LaunchEvent:
        job, result = settled.prepared.job, settled.result
        outcome = {
            Outcome.CREATED: LaunchOutcome.CREATED,
            Outcome.EXISTS: LaunchOutcome.EXISTS,
            Outcome.REJECTED: LaunchOutcome.REJECTED,
        }[result.outcome]
        return LaunchEvent(
            version=SCHEMA_VERSION,
            key=job.key,
            try_number=job.try_number,
            namespace=settled.prepared.namespace,
            pod=settled.prepared.name,
            outcome=outcome,
            reason=result.reason,
            job=job,
            at=datetime.now(UTC),
        )

    def _report(self) -> None:
        self._metrics.in_flight.labels(namespace=self.namespace).set(self.in_hand)
        self._metrics.waiting_for_slot.labels(namespace=self.namespace).set(len(self._waiting))
        now = time.monotonic()
        if now >= self._next_depth:
            self._next_depth = now + DEPTH_EVERY_S
            try:
                depth = self._jobs.depth(self.namespace)
            except MessagingError:
                return
            self._metrics.queue_depth.labels(namespace=self.namespace).set(depth)

    def _drain(self, consumer: JobConsumer) -> None:
        """Stop: waiting jobs go back on the queue; creates in flight finish and are settled."""
        while self._waiting:
            delivery, _ = self._waiting.popleft()
            delivery.requeue()
        while self._in_flight:
            self._settle_done(consumer, block_s=1.0)
        log.info("consumer_drained", namespace=self.namespace)


def _rejected_event(rejection: Rejection) -> LaunchEvent:
    assert rejection.key is not None
    return LaunchEvent(
        version=SCHEMA_VERSION,
        key=rejection.key,
        try_number=rejection.try_number,
        namespace=rejection.namespace,
        pod=naming.pod_name(rejection.key, rejection.try_number),
        outcome=LaunchOutcome.REJECTED,
        reason=rejection.reason,
        job=rejection.job,
        at=datetime.now(UTC),
    )

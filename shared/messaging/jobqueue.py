"""The job queues: kombu, one queue per namespace, manual acknowledgement, priorities.

Jobs are published to the direct exchange `podrunner.jobs` with the namespace as routing key, into
queue `podrunner.jobs.<namespace>`, as plain JSON (kombu's `json` serializer), so any kombu
producer can submit work. A job is acknowledged only once its outcome is recorded; a consumer that
dies holding jobs gets them redelivered (at once on AMQP, after the visibility timeout on Redis).

Priorities: a job's `priority` (higher is more urgent) is clamped to 0-9. AMQP serves higher
numbers first, kombu's Redis transport lower ones, so the level is flipped for Redis; its priority
steps are set to all ten levels so no two priorities share a list.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import kombu.exceptions
import redis
from kombu.connection import Connection
from kombu.entity import Exchange, Queue
from kombu.message import Message
from kombu.utils.encoding import bytes_to_str

from shared.messages import Job
from shared.messaging.connections import MessagingError
from shared.messaging.keys import JOB_EXCHANGE, job_queue
from shared.messaging.redis_transport import BatchingChannel, BatchingTransport, Taken

MAX_PRIORITY = 9
#: Broker connections kept open for publishing (one per thread publishing at the same moment).
PUBLISH_CONNECTIONS = 8
#: A publish gives up within about a second when the broker is down: its caller (the API, the
#: CLI, a sweep) has the row as the outbox, and an HTTP client must not wait 30 s for a 202. One
#: quick retry still gets past a pooled connection the broker closed (a restart).
PUBLISH_CONNECT_TIMEOUT_S = 2.0
PUBLISH_WAIT_S = 5.0
_PUBLISH_RETRY: dict[str, float] = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
_REDIS_SCHEMES = ("redis", "rediss", "redis+socket", "unix")
#: What kombu lets through when the broker cannot be reached: its own errors, the Redis client's
#: (kombu's Redis transport raises them unwrapped from a pooled connection), the socket's.
_CONNECTION_ERRORS = (
    kombu.exceptions.OperationalError,
    redis.RedisError,
    OSError,
    ConnectionError,
)
#: Jobs buffered in one publish round before they are sent (kombu flushes at this size).
PUBLISH_BATCH = 1000
#: Longest kombu's restore lock (`unacked_mutex_expire`) outlives a consumer killed holding it.
RESTORE_LOCK_S = 10.0


@dataclass(frozen=True)
class BrokerSettings:
    url: str
    visibility_timeout_s: float = 300.0


class Settles(Protocol):
    """What a delivery settles through: a kombu message, or a stand-in for one."""

    def ack(self) -> None: ...

    def requeue(self) -> None: ...

    def reject(self, requeue: bool = False) -> None: ...


class _Unread:
    """Stands in for the kombu message of something kombu cannot read: whoever cannot read its
    body dead-letters it, so settling it only drops the record of it as taken, if it has one."""

    def __init__(self, forget: Callable[[], None] | None = None) -> None:
        self._forget = forget

    def ack(self) -> None:
        if self._forget is not None:
            self._forget()

    def requeue(self) -> None:
        self.ack()

    def reject(self, requeue: bool = False) -> None:  # noqa: ARG002 - kombu Message's signature
        self.ack()


@dataclass
class Delivery:
    """One job message as received; `ack`, `requeue` or `reject` it exactly once."""

    namespace: str
    body: bytes
    _message: Settles = field(repr=False)

    def ack(self) -> None:
        self._message.ack()

    def requeue(self) -> None:
        """Put the job back on its queue for another consumer (or this one) to take."""
        self._message.requeue()

    def reject(self) -> None:
        """Drop the job from the queue (only after it was dead-lettered elsewhere)."""
        self._message.reject(requeue=False)


class JobQueue:
    """Publishes jobs to, and consumes them from, the per-namespace queues."""

    def __init__(self, settings: BrokerSettings) -> None:
        self._settings = settings
        self._exchange = Exchange(JOB_EXCHANGE, type="direct", durable=True)
        self._is_redis = settings.url.split(":", 1)[0] in _REDIS_SCHEMES
        # opening a connection (and its channel) cost ~14 ms, twenty times the publish itself
        publishing = self.connection(connect_timeout_s=PUBLISH_CONNECT_TIMEOUT_S, **_PUBLISH_RETRY)
        self._publishing = publishing.Pool(limit=PUBLISH_CONNECTIONS)

    def connection(self, *, connect_timeout_s: float = 10.0, **retry: float) -> Connection:
        """A broker connection; `retry` (kombu's `max_retries`, `interval_start`, ...) bounds how
        it retries connecting."""
        visibility_s = self._settings.visibility_timeout_s
        options: dict[str, Any] = {
            "visibility_timeout": visibility_s,
            # kombu restores what dead consumers held under a Redis lock that lives 5 minutes
            # by default: a consumer killed while restoring would hold every redelivery back
            # that long. A restore round takes milliseconds, so the lock may lapse far sooner.
            "unacked_mutex_expire": max(1, round(min(visibility_s, RESTORE_LOCK_S))),
            **retry,
        }
        if self._is_redis:
            options["priority_steps"] = list(range(MAX_PRIORITY + 1))
        url = self._settings.url
        if url.startswith("unix://"):
            url = "redis+socket://" + url.removeprefix("unix://")
        transport = BatchingTransport if self._is_redis else None
        return Connection(
            url, transport=transport, transport_options=options, connect_timeout=connect_timeout_s
        )

    def queue(self, namespace: str) -> Queue:
        return Queue(
            job_queue(namespace),
            exchange=self._exchange,
            routing_key=namespace,
            durable=True,
            max_priority=MAX_PRIORITY,
        )

    def kombu_priority(self, priority: int) -> int:
        level = max(0, min(MAX_PRIORITY, priority))
        return MAX_PRIORITY - level if self._is_redis else level

    def publish(self, jobs: Iterable[tuple[Job, str]]) -> int:
        """Publish each (job, namespace) in one round; return how many. Declares the queues it
        publishes to.

        On Redis a round is one pipeline of pushes, after one lookup of the exchange's bindings,
        whatever the number of jobs: a batch costs a few round trips, not two per job. A round
        that meets a broken connection is sent once more, whole, on a fresh one (kombu's own
        per-message retry cannot run inside a batch: it swaps the channel under it); a job the
        first round did push is then pushed twice, which its launch tolerates (the pod's name
        is its key)."""
        batch = list(jobs)
        try:
            try:
                self._publish_round(batch)
            except _CONNECTION_ERRORS:
                self._publish_round(batch)
        except _CONNECTION_ERRORS as error:
            raise MessagingError(f"publishing jobs failed: {error}") from error
        return len(batch)

    def _publish_round(self, batch: list[tuple[Job, str]]) -> None:
        with self._publishing.acquire(block=True, timeout=PUBLISH_WAIT_S) as connection:
            try:
                producer = connection.Producer(serializer="json")
                channel = connection.default_channel
                # declared before the round: its bindings are looked up once, at its start
                for namespace in dict.fromkeys(namespace for _, namespace in batch):
                    self.queue(namespace)(channel).declare()
                with _routing_once(channel), producer.batch(max_size=PUBLISH_BATCH):
                    for job, namespace in batch:
                        producer.publish(
                            job.to_dict(),
                            exchange=self._exchange,
                            routing_key=namespace,
                            priority=self.kombu_priority(job.priority),
                        )
            except _CONNECTION_ERRORS:
                connection.collect()  # its sockets are dead: its next use connects anew
                raise

    def close(self) -> None:
        """Close the publishing connections."""
        self._publishing.force_close_all()

    def ping(self) -> None:
        """Raise `MessagingError` unless the broker accepts a connection."""
        try:
            with self.connection() as connection:
                connection.ensure_connection(max_retries=1, timeout=5)
        except _CONNECTION_ERRORS as error:
            raise MessagingError(f"the broker does not answer: {error}") from error

    def depth(self, namespace: str) -> int:
        """Jobs waiting (not yet taken) in the queue of `namespace`."""
        return self.depths([namespace])[namespace]

    def depths(self, namespaces: Iterable[str]) -> dict[str, int]:
        """Jobs waiting in the queue of each of `namespaces`, read on one connection (a page
        showing every namespace's queue would otherwise open one per namespace)."""
        found: dict[str, int] = {}
        try:
            with self.connection() as connection:
                channel = connection.default_channel
                for namespace in namespaces:
                    bound = self.queue(namespace)(channel)
                    bound.exchange.declare()
                    found[namespace] = int(bound.queue_declare().message_count)
        except _CONNECTION_ERRORS as error:
            raise MessagingError(f"reading queue depth failed: {error}") from error
        return found

    def queued_namespaces(self) -> set[str]:
        """Namespaces whose queue holds jobs now, found by scanning Redis for queue lists (the
        one way to see a queue nobody consumes); an empty set on other brokers."""
        if not self._is_redis:
            return set()
        try:
            with self.connection() as connection:
                channel = connection.default_channel
                with channel.conn_or_acquire() as client:
                    lists = client.scan_iter(match=job_queue("*"), count=1000, _type="list")
                    names = {bytes_to_str(name).split(channel.sep, 1)[0] for name in lists}
        except (*_CONNECTION_ERRORS, redis.RedisError) as error:
            raise MessagingError(f"looking for job queues failed: {error}") from error
        return {name.removeprefix(job_queue("")) for name in names}

    @contextmanager
    def consumer(self, namespaces: Iterable[str], *, prefetch: int) -> Iterator[JobConsumer]:
        """Consume the queues of `namespaces`, holding at most `prefetch` unacknowledged jobs.

        Each call opens a connection of its own, which declares the queues and their bindings
        afresh: after Redis lost them, connecting again is how a consumer puts them back."""
        try:
            with self.connection() as connection:
                queues = [self.queue(ns) for ns in namespaces]
                if isinstance(connection.default_channel, BatchingChannel):
                    yield _RoundsConsumer(connection.default_channel, queues, prefetch)
                    return
                consumer = _KombuConsumer(connection, queues, prefetch)
                with consumer.kombu_consumer:
                    yield consumer
        except _CONNECTION_ERRORS as error:
            raise MessagingError(f"consuming jobs failed: {error}") from error


@runtime_checkable
class Jobs(Protocol):
    """The job queues as the services use them: `JobQueue` on a broker, and
    `shared.messaging.stub.StubJobQueue` in memory for unit tests."""

    def publish(self, jobs: Iterable[tuple[Job, str]]) -> int: ...

    def close(self) -> None: ...

    def ping(self) -> None: ...

    def depth(self, namespace: str) -> int: ...

    def depths(self, namespaces: Iterable[str]) -> dict[str, int]: ...

    def queued_namespaces(self) -> set[str]: ...

    def consumer(
        self, namespaces: Iterable[str], *, prefetch: int
    ) -> AbstractContextManager[JobConsumer]: ...


class JobConsumer(Protocol):
    """An open subscription to job queues."""

    def poll(self, *, timeout_s: float = 1.0, most: int = 1) -> list[Delivery]:
        """Deliveries that arrived within `timeout_s` (an empty list when none did), up to
        `most` of them."""

    def settling(self) -> AbstractContextManager[None]:
        """Acknowledgements made inside reach the broker together, on leaving (on Redis)."""


class _RoundsConsumer:
    """Takes jobs from Redis in rounds, each job recorded as taken by the step that pops it."""

    def __init__(self, channel: BatchingChannel, queues: list[Queue], prefetch: int) -> None:
        for queue in queues:
            queue(channel).declare()
        channel.basic_qos(prefetch_count=prefetch)  # type: ignore[no-untyped-call]
        self._channel = channel
        self._queues = [queue.name for queue in queues]
        self._namespaces = {queue.name: str(queue.routing_key) for queue in queues}

    def poll(self, *, timeout_s: float = 1.0, most: int = 1) -> list[Delivery]:
        taken = self._channel.take(self._queues, most, timeout_s=timeout_s)
        return [self._delivery(item) for item in taken]

    @contextmanager
    def settling(self) -> Iterator[None]:
        try:
            with self._channel.qos.acknowledging_together():
                yield
        except _CONNECTION_ERRORS as error:
            raise MessagingError(f"acknowledging jobs failed: {error}") from error

    def _delivery(self, taken: Taken) -> Delivery:
        namespace = self._namespaces.get(taken.queue, taken.queue)
        if taken.message is not None:
            return Delivery(namespace=namespace, body=_body(taken.message), _message=taken.message)
        forget = None
        if taken.tag is not None:
            forget = functools.partial(self._channel.qos.forget, taken.tag)
        return Delivery(namespace=namespace, body=taken.raw, _message=_Unread(forget))


class _KombuConsumer:
    """kombu's own consumer, on brokers other than Redis."""

    def __init__(self, connection: Connection, queues: list[Queue], prefetch: int):
        self._connection = connection
        self._received: list[Delivery] = []
        self.kombu_consumer = connection.Consumer(
            queues, on_message=self._on_message, accept=["json"], prefetch_count=prefetch
        )

    def poll(self, *, timeout_s: float = 1.0, most: int = 1) -> list[Delivery]:
        with contextlib.suppress(TimeoutError):  # nothing arrived in time: an empty poll
            self._connection.drain_events(timeout=timeout_s)
            while self._received and len(self._received) < most:
                before = len(self._received)
                self._connection.drain_events(timeout=0.001)
                if len(self._received) == before:
                    break
        received, self._received = self._received, []
        return received

    @contextmanager
    def settling(self) -> Iterator[None]:
        yield

    def _on_message(self, message: Message) -> None:
        queue = message.delivery_info.get("routing_key") or ""
        self._received.append(Delivery(namespace=str(queue), body=_body(message), _message=message))


def _routing_once(channel: Any) -> AbstractContextManager[None]:
    """Route a publish round with one lookup of each exchange's bindings, where the channel can
    (podrunner's Redis channel)."""
    if isinstance(channel, BatchingChannel):
        return channel.routing_once()
    return contextlib.nullcontext()


def _body(message: Message) -> bytes:
    return message.body if isinstance(message.body, bytes) else str(message.body).encode()

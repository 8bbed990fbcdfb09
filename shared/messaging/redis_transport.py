"""kombu's Redis transport, taking and acknowledging jobs in batches.

Stock kombu spends three Redis round trips on every job: a BRPOP that returns one message, a
MULTI/EXEC that records it as unacknowledged, and another that forgets it on acknowledgement. On a
launcher that was half its time. Here, once a BRPOP returns a job, one script records it and takes
as many more as the prefetch allows, from the same queue's priority lists in order, recording each
exactly as kombu does (the `unacked` hash and `unacked_index` sorted set), so kombu's visibility
timeout restores them, and stock kombu consumers can share the queues. Acknowledgements made
inside `acknowledging_together` leave in one round trip.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from queue import Empty
from typing import Any

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import loads

#: Records the BRPOP'd job (ARGV[3]), then pops and records up to ARGV[2] more from the priority
#: lists KEYS[3..] in order. Returns the popped messages and the delivery tags recorded: a message
#: kombu cannot have written (not JSON, no delivery tag) is returned unrecorded.
_TAKE = """
local recorded = {}
local function record(item)
  local ok, message = pcall(cjson.decode, item)
  if not ok or type(message) ~= 'table' or type(message.properties) ~= 'table' then return end
  local properties = message.properties
  local info = properties.delivery_info
  local tag = properties.delivery_tag
  if type(tag) ~= 'string' or type(info) ~= 'table' then return end
  local entry = '[' .. item .. ',' .. cjson.encode(info.exchange) .. ','
    .. cjson.encode(info.routing_key) .. ']'
  redis.call('ZADD', KEYS[1], ARGV[1], tag)
  redis.call('HSET', KEYS[2], tag, entry)
  recorded[#recorded + 1] = tag
end
record(ARGV[3])
local wanted = tonumber(ARGV[2])
local taken = {}
for i = 3, #KEYS do
  while #taken < wanted do
    local item = redis.call('RPOP', KEYS[i])
    if not item then break end
    record(item)
    taken[#taken + 1] = item
  end
end
return {taken, recorded}
"""

#: Called with a popped message kombu cannot read, and its queue (it was never recorded).
Unreadable = Callable[[bytes, str], None]


class BatchingQoS(kombu_redis.QoS):
    """kombu's Redis acknowledgement emulation, skipping what the take script already recorded
    and, inside `acknowledging_together`, forgetting acknowledged jobs in one round trip."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]
        self.recorded: set[str] = set()
        self._acks: list[str] | None = None

    def append(self, message: Any, delivery_tag: str) -> None:
        if delivery_tag in self.recorded:
            self.recorded.discard(delivery_tag)
            virtual.QoS.append(self, message, delivery_tag)
        else:
            super().append(message, delivery_tag)  # type: ignore[no-untyped-call]

    def ack(self, delivery_tag: str) -> None:
        if self._acks is None:
            super().ack(delivery_tag)  # type: ignore[no-untyped-call]
            return
        self._acks.append(delivery_tag)
        virtual.QoS.ack(self, delivery_tag)

    @contextmanager
    def acknowledging_together(self) -> Iterator[None]:
        self._acks = []
        try:
            yield
        finally:
            acks, self._acks = self._acks, None
            if acks:
                with self.channel.conn_or_acquire() as client:
                    pipe = client.pipeline(transaction=False)
                    pipe.zrem(self.unacked_index_key, *acks).hdel(self.unacked_key, *acks)
                    pipe.execute()


class BatchingChannel(kombu_redis.Channel):
    """kombu's Redis channel, taking jobs in batches and building its Redis client once.

    kombu builds a new client object for each acknowledgement; at hundreds of jobs a second that
    construction costs more than the round trip. The client shares the channel's connection pool,
    and a channel is used by one consumer thread, so one client is enough. A message that is not
    kombu's goes to `unreadable` (when set) instead of failing the poll that popped it."""

    QoS = BatchingQoS
    unreadable: Unreadable | None = None
    _sync_client: Any = None
    _take_script: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        if self._sync_client is None:
            self._sync_client = self._create_client()  # type: ignore[no-untyped-call]
            self._take_script = self._sync_client.register_script(_TAKE)
        yield self._sync_client

    def get_table(self, exchange: str) -> list[tuple[str, ...]]:
        """The exchange's bindings as Redis holds them, after writing back any this connection
        declared that Redis no longer has (it restarted empty, or failed over to a replica that
        lagged). kombu remembers a declared binding and never writes it again, so without this
        a publish after such a loss finds no queue and drops the job silently. Costs nothing
        while the bindings are there: kombu reads the table on every publish anyway."""
        table: list[tuple[str, ...]] = super().get_table(exchange)  # type: ignore[no-untyped-call]
        present = set(table)
        missing = [
            meta
            for key, arguments in self.state.bindings.items()
            if key.exchange == exchange
            and (meta := self._binding_meta(key, arguments)) not in present
        ]
        if not missing:
            return table
        for meta in missing:
            self._queue_bind(exchange, *meta)  # type: ignore[no-untyped-call]
        return table + missing

    def _binding_meta(self, key: Any, arguments: Any) -> tuple[str, str, str]:
        exchange_type = self.typeof(key.exchange)  # type: ignore[no-untyped-call]
        routing_key, pattern, queue = exchange_type.prepare_bind(
            key.queue, key.exchange, key.routing_key, arguments
        )
        return (routing_key or "", pattern or "", queue or "")

    def _brpop_read(self, **options: Any) -> bool:
        try:
            try:
                popped = self.client.parse_response(self.client.connection, "BRPOP", **options)
            except self.connection_errors:
                self.client.connection.disconnect()
                raise
        finally:
            self._in_poll = False
            self._flush_brpop_reauth()  # type: ignore[no-untyped-call]
        if not popped:
            raise Empty()
        key, first = popped
        queue = bytes_to_str(key).rsplit(self.sep, 1)[0]
        self._queue_cycle.rotate(queue)
        for item in (first, *self._take(queue, first)):
            self._deliver(item, queue)
        return True

    def _take(self, queue: str, first: bytes) -> list[bytes]:
        """Record `first` and take as many more from `queue` as the prefetch has room for."""
        room = self.qos.can_consume_max_estimate()
        wanted = 0 if room is None else max(0, room - 1)
        keys = [self.unacked_index_key, self.unacked_key]
        keys += [self._q_for_pri(queue, step) for step in self.priority_steps]  # type: ignore[no-untyped-call]
        with self.conn_or_acquire() as client:
            taken, recorded = self._take_script(
                keys=keys, args=[time.time(), wanted, first], client=client
            )
        self.qos.recorded.update(bytes_to_str(tag) for tag in recorded)
        return list(taken)

    def _deliver(self, item: bytes, queue: str) -> None:
        """Hand a recorded message to kombu; anything else (never recorded) to `unreadable`."""
        message = _kombu_message(item)
        if message is not None and message["properties"]["delivery_tag"] in self.qos.recorded:
            self.connection._deliver(message, queue)
        elif self.unreadable is not None:
            self.unreadable(item, queue)
        else:
            raise ValueError(f"not a kombu message in {queue}: {item[:80]!r}")


def _kombu_message(item: bytes) -> dict[str, Any] | None:
    try:
        message = loads(bytes_to_str(item))
    except ValueError:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("properties"), dict):
        return None
    return message if isinstance(message["properties"].get("delivery_tag"), str) else None


class BatchingTransport(kombu_redis.Transport):
    Channel = BatchingChannel

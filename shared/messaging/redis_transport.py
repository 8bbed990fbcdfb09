"""kombu's Redis transport, taking jobs in rounds (each recorded as taken as it is popped) and
acknowledging them together.

Stock kombu takes a job with a BRPOP and records it as unacknowledged in a second command: a
consumer that dies between the two has popped a job that is recorded nowhere, and it is lost. Here
one script pops and records in the same step: it takes up to the prefetch room from the queues'
priority lists, most urgent first, recording each job exactly as kombu does (its `unacked` hash and
`unacked_index` sorted set), so kombu's visibility timeout restores what a dead consumer held and
stock kombu consumers can share the queues. A round that finds nothing is followed by a short
wait, a few milliseconds after a busy round and backing off while the queues stay empty, so the
idle latency stays low without spinning. Acknowledgements made inside `acknowledging_together`
leave in one round trip.

kombu is pinned to one version: what is relied on beyond its public API is checked by
tests/integration/shared/messaging/test_kombu_internals.py, which fails naming the internal that
an upgrade changed. That is the layout of the unacked records (the `unacked` hash and
`unacked_index` sorted set), the names of a queue's priority lists (the queue's name, the
channel's `sep` and the step), the envelope's `properties.delivery_tag` and `delivery_info`, and
the connection state's bindings (`Channel.state`, a `BrokerState`). No private method is called:
a binding Redis lost is forgotten in that state and declared again through the public
`queue_bind`. The signatures of the overridden and called methods are checked too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from kombu.message import Message
from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import loads

#: Pops up to ARGV[2] messages from the priority lists KEYS[3..] in order, recording each one kombu
#: can have written (JSON with a delivery tag and delivery info) in the unacked index KEYS[1] (at
#: time ARGV[1]) and hash KEYS[2]. Returns the messages, the list each came from (1-based) and
#: whether each was recorded (1) or not (0).
_TAKE = """
local function record(item)
  local ok, message = pcall(cjson.decode, item)
  if not ok or type(message) ~= 'table' or type(message.properties) ~= 'table' then return 0 end
  local info = message.properties.delivery_info
  local tag = message.properties.delivery_tag
  if type(tag) ~= 'string' or type(info) ~= 'table' then return 0 end
  local entry = '[' .. item .. ',' .. cjson.encode(info.exchange) .. ','
    .. cjson.encode(info.routing_key) .. ']'
  redis.call('ZADD', KEYS[1], ARGV[1], tag)
  redis.call('HSET', KEYS[2], tag, entry)
  return 1
end
local wanted = tonumber(ARGV[2])
local items, sources, recorded = {}, {}, {}
for i = 3, #KEYS do
  while #items < wanted do
    local item = redis.call('RPOP', KEYS[i])
    if not item then break end
    items[#items + 1] = item
    sources[#sources + 1] = i - 2
    recorded[#recorded + 1] = record(item)
  end
end
return {items, sources, recorded}
"""

#: The wait after the first empty round, and the longest wait while the queues stay empty.
FIRST_WAIT_S = 0.002
LONGEST_WAIT_S = 0.064


@dataclass(frozen=True)
class Taken:
    """A message popped from `queue`: `message` is kombu's, held as unacknowledged, when kombu can
    read it; `tag` is set when it was recorded as taken (kombu may still fail to read it)."""

    queue: str
    raw: bytes
    tag: str | None
    message: Message | None


class BatchingQoS(kombu_redis.QoS):
    """kombu's Redis acknowledgement emulation, holding what the take script already recorded and,
    inside `acknowledging_together`, forgetting acknowledged jobs in one round trip."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]
        self._acks: list[str] | None = None

    def hold(self, message: Message) -> None:
        """Count `message` as delivered and unacknowledged (its Redis record already exists)."""
        virtual.QoS.append(self, message, message.delivery_tag)

    def forget(self, tag: str) -> None:
        """Drop the record of a taken message kombu could not read (it was dead-lettered)."""
        with self.channel.conn_or_acquire() as client:
            client.pipeline(transaction=False).zrem(self.unacked_index_key, tag).hdel(
                self.unacked_key, tag
            ).execute()

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
    """kombu's Redis channel, taking jobs in rounds and building its Redis client once.

    kombu builds a new client object for each acknowledgement; at hundreds of jobs a second that
    construction costs more than the round trip. The client shares the channel's connection pool,
    and a channel is used by one consumer thread, so one client is enough."""

    QoS = BatchingQoS
    _sync_client: Any = None
    _take_script: Any = None
    _wait_s = FIRST_WAIT_S
    _lists: dict[tuple[str, ...], list[tuple[str, str]]] | None = None
    _tables: dict[str, list[tuple[str, ...]]] | None = None

    @contextmanager
    def routing_once(self) -> Iterator[None]:
        """Look each exchange's bindings up once while this lasts, not once per message: what
        a publish round needs (kombu routes every message through `get_table`)."""
        self._tables = {}
        try:
            yield
        finally:
            self._tables = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        if self._sync_client is None:
            self._sync_client = self.Client(connection_pool=self.pool)
            self._take_script = self._sync_client.register_script(_TAKE)
        yield self._sync_client

    def get_table(self, exchange: str) -> list[tuple[str, ...]]:
        """The exchange's bindings as Redis holds them, after writing back any this connection
        declared that Redis no longer has (it restarted empty, or failed over to a replica that
        lagged). kombu remembers a declared binding and never writes it again, so without this
        a publish after such a loss finds no queue and drops the job silently. Costs nothing
        while the bindings are there: kombu reads the table on every publish anyway."""
        if self._tables is not None and exchange in self._tables:
            return self._tables[exchange]
        table = self._read_table(exchange)
        if self._tables is not None:
            self._tables[exchange] = table
        return table

    def _read_table(self, exchange: str) -> list[tuple[str, ...]]:
        table: list[tuple[str, ...]] = super().get_table(exchange)  # type: ignore[no-untyped-call]
        present = set(table)
        missing = [
            (key, arguments, meta)
            for key, arguments in self.state.bindings.items()
            if key.exchange == exchange
            and (meta := self._binding_meta(key, arguments)) not in present
        ]
        for key, arguments, meta in missing:
            self._bind_again(key, arguments, meta)
        return table + [meta for _, _, meta in missing]

    def _bind_again(self, key: Any, arguments: Any, meta: tuple[str, str, str]) -> None:
        """Write a binding back through the public `queue_bind`, which writes only what the
        connection's state does not hold yet: forget it there first (and its routing-table entry,
        which `queue_bind` appends again)."""
        self.state.binding_delete(key.queue, key.exchange, key.routing_key)
        table = self.state.exchanges.get(key.exchange, {}).get("table", [])
        if meta in table:
            table.remove(meta)
        self.queue_bind(key.queue, key.exchange, key.routing_key, arguments)  # type: ignore[no-untyped-call]

    def _binding_meta(self, key: Any, arguments: Any) -> tuple[str, str, str]:
        exchange_type = self.typeof(key.exchange)  # type: ignore[no-untyped-call]
        routing_key, pattern, queue = exchange_type.prepare_bind(
            key.queue, key.exchange, key.routing_key, arguments
        )
        return (routing_key or "", pattern or "", queue or "")

    def take(self, queues: list[str], most: int, *, timeout_s: float) -> list[Taken]:
        """Take up to `most` messages (and no more than the prefetch has room for) from `queues`,
        most urgent first, each recorded as taken in the same step; wait up to `timeout_s` for
        any to arrive, in rounds spaced as the module docstring says."""
        deadline = time.monotonic() + timeout_s
        while True:
            taken = self._take_round(queues, most)
            if taken:
                self._wait_s = FIRST_WAIT_S
                return taken
            self.qos.restore_visible(
                num=self.unacked_restore_limit, interval=self.unacked_restore_throttle
            )
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            time.sleep(min(self._wait_s, left))
            self._wait_s = min(self._wait_s * 2, LONGEST_WAIT_S)

    def _take_round(self, queues: list[str], most: int) -> list[Taken]:
        room = self.qos.can_consume_max_estimate()
        wanted = most if room is None else min(most, room)
        if wanted <= 0 or not queues:
            return []
        lists = self._priority_lists(tuple(queues))
        keys = [self.qos.unacked_index_key, self.qos.unacked_key, *(key for _, key in lists)]
        with self.conn_or_acquire() as client:
            items, sources, recorded = self._take_script(
                keys=keys, args=[time.time(), wanted], client=client
            )
        return [
            self._taken(lists[source - 1][0], item, bool(was_recorded))
            for item, source, was_recorded in zip(items, sources, recorded, strict=True)
        ]

    def _priority_lists(self, queues: tuple[str, ...]) -> list[tuple[str, str]]:
        """(queue, list) for every priority list of `queues`, most urgent first, as kombu names
        them (kept: rounds come hundreds a second)."""
        if self._lists is None:
            self._lists = {}
        lists = self._lists.get(queues)
        if lists is None:
            lists = [(q, self._list_of(q, step)) for step in self.priority_steps for q in queues]
            self._lists[queues] = lists
        return lists

    def _list_of(self, queue: str, step: int) -> str:
        """The Redis list of `queue`'s priority `step`: the queue's own name for the first step,
        else the name, kombu's separator and the step."""
        level = self.priority(step)  # type: ignore[no-untyped-call]
        return f"{queue}{self.sep}{level}" if level else queue

    def _taken(self, queue: str, raw: bytes, recorded: bool) -> Taken:
        if not recorded:
            return Taken(queue, raw, None, None)
        payload = loads(bytes_to_str(raw))
        tag = str(payload["properties"]["delivery_tag"])
        try:
            message = self.message_to_python(payload)  # type: ignore[no-untyped-call]
        except Exception:  # noqa: BLE001 - any envelope kombu cannot read is handed over raw
            return Taken(queue, raw, tag, None)
        self.qos.hold(message)
        return Taken(queue, raw, tag, message)


class BatchingTransport(kombu_redis.Transport):
    Channel = BatchingChannel

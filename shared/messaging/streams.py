"""Redis streams: publishing events, and reading them through consumer groups, at least once.

Publishing appends many entries in one round trip (a script of `XADD`s) and trims each stream
approximately, so a stream never grows without bound. Reading goes through a consumer group, so
several reconcilers share the work and other programs can subscribe with groups of their own.

Delivery is at least once. An entry stays pending until the consumer acknowledges it (after its
database commit); an entry left pending longer than `claim_idle_ms` — its consumer died, or
reported a failure with `fail()` — is claimed by whichever consumer reads next. Each claim counts
a delivery; once an entry has been delivered `max_deliveries` times it goes to the dead-letter
stream with the last error reported for it, instead of being retried forever. Entries that cannot
be decoded at all are dead-lettered at once by the caller with `dead_letter()`.

A group lives in Redis, so Redis can forget it (a restart without persistence, a failover to a
replica that lagged). A read that meets `NOGROUP` creates the group again on every stream read,
from the stream's beginning, and carries on: whatever the streams still hold is read (again, at
worst; applying is idempotent) and nothing published since the loss is skipped.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import redis
import structlog

from shared.messaging.connections import MessagingError
from shared.messaging.keys import EVENT_FIELD, RedisKeys

log = structlog.get_logger()


class Entry(msgspec.Struct, frozen=True):
    """One stream entry as delivered: where from, its id, its `event` payload, delivery count.

    A msgspec struct: thousands are built a second, and a frozen dataclass's `__init__` was a
    noticeable share of the reconciler's time."""

    stream: str
    id: str
    data: bytes
    deliveries: int = 1


#: Appends each payload after the first two arguments (MAXLEN, field name) to KEYS[1].
_PUBLISH = """
local ids = {}
for i = 3, #ARGV do
  ids[#ids + 1] = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', ARGV[2], ARGV[i])
end
return ids
"""
#: Payloads per script call: bounds how long one call keeps Redis busy.
PUBLISH_CHUNK = 1_000


def publish(
    client: redis.Redis, stream: str, payloads: Sequence[bytes], *, maxlen: int
) -> list[str]:
    """Append `payloads` to `stream` (one script call per thousand); return their entry ids.

    A script rather than a pipeline of `XADD`s: redis-py packs and parses each command of a
    pipeline on its own, which made publishing half of the watcher's time."""
    if not payloads:
        return []
    script = client.register_script(_PUBLISH)
    ids: list[str] = []
    try:
        for start in range(0, len(payloads), PUBLISH_CHUNK):
            chunk = payloads[start : start + PUBLISH_CHUNK]
            ids += map(_text, script(keys=[stream], args=[maxlen, EVENT_FIELD, *chunk]))
    except redis.RedisError as error:
        raise MessagingError(f"publishing to {stream} failed: {error}") from error
    return ids


def dead_letter_raw(
    client: redis.Redis, keys: RedisKeys, *, source: str, data: bytes, error: str
) -> None:
    """Record something that is not a stream entry (an undecodable job) as a dead letter."""
    record = {b"stream": source, EVENT_FIELD: data, b"error": error, b"at": f"{time.time():.3f}"}
    try:
        client.xadd(keys.dead_letters, record)  # type: ignore[arg-type]
    except redis.RedisError as failure:
        raise MessagingError(f"dead-lettering from {source} failed: {failure}") from failure


@dataclass(frozen=True)
class Backlog:
    lag: int
    pending: int


@dataclass(frozen=True)
class GroupSettings:
    """How a consumer group reads: batch size, claim idle time and delivery limit."""

    group: str
    consumer: str
    #: Entries per read (XREADGROUP/XAUTOCLAIM COUNT); the reconciler's is
    #: `PODRUNNER_APPLY_BATCH_SIZE`.
    batch_size: int = 2_000
    claim_idle_ms: int = 30_000
    max_deliveries: int = 5


class StreamConsumer:
    """Reads entries of some streams through one consumer group, with claiming and dead letters."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        keys: RedisKeys,
        streams: Iterable[str],
        settings: GroupSettings,
    ) -> None:
        self._client = client
        # the same connections, with XREADGROUP's reply taken as Redis sends it: redis-py would
        # turn each entry's field list into a dict, which took longer than reading the batch
        self._reader = redis.Redis(connection_pool=client.connection_pool)
        self._reader.set_response_callback("XREADGROUP", _as_sent)
        self._keys = keys
        self._settings = settings
        self._streams: list[str] = []
        #: How many times Redis had forgotten the group and it was created again.
        self.groups_recreated = 0
        self.add_streams(streams)

    @property
    def streams(self) -> tuple[str, ...]:
        return tuple(self._streams)

    def add_streams(self, streams: Iterable[str]) -> None:
        """Start reading `streams` too, creating the group on each (from its beginning)."""
        added = [stream for stream in dict.fromkeys(streams) if stream not in self._streams]
        self._create_groups(added)
        self._streams += added

    def read(self, *, block_ms: int = 1000) -> list[Entry]:
        """The next batch: entries idle too long first (claimed), else new ones (waiting up to
        `block_ms`). Entries over the delivery limit are dead-lettered, not returned. A group
        Redis forgot is created again, and the read made once more."""
        try:
            return self._read(block_ms)
        except redis.ResponseError as error:
            if not str(error).startswith("NOGROUP"):
                raise MessagingError(
                    f"reading {', '.join(self._streams)} failed: {error}"
                ) from error
        except redis.RedisError as error:
            raise MessagingError(f"reading {', '.join(self._streams)} failed: {error}") from error
        self._create_groups(self._streams)
        self.groups_recreated += 1
        log.warning("consumer_group_recreated", group=self._settings.group, streams=self._streams)
        try:
            return self._read(block_ms)
        except redis.RedisError as error:
            raise MessagingError(f"reading {', '.join(self._streams)} failed: {error}") from error

    def _read(self, block_ms: int) -> list[Entry]:
        claimed = self._claim_idle()
        if claimed:
            return claimed
        return self._read_new(block_ms)

    def _create_groups(self, streams: Sequence[str]) -> None:
        """Create the group on each of `streams` (and the stream if need be), in one round trip;
        a group that exists already is left as it is."""
        if not streams:
            return
        try:
            with self._client.pipeline(transaction=False) as pipe:
                for stream in streams:
                    pipe.xgroup_create(stream, self._settings.group, id="0", mkstream=True)
                answers = pipe.execute(raise_on_error=False)
        except redis.RedisError as error:
            raise MessagingError(f"cannot create group on {', '.join(streams)}: {error}") from error
        for stream, answer in zip(streams, answers, strict=True):
            if isinstance(answer, Exception) and "BUSYGROUP" not in str(answer):
                raise MessagingError(f"cannot create group on {stream}: {answer}")

    def ack(self, entries: Iterable[Entry]) -> None:
        """Acknowledge `entries`: they are done and will not be delivered again."""
        by_stream: dict[str, list[str]] = {}
        # only a redelivered entry can have a failure on record (see `fail`)
        redelivered: dict[str, list[str]] = {}
        for entry in entries:
            by_stream.setdefault(entry.stream, []).append(entry.id)
            if entry.deliveries > 1:
                redelivered.setdefault(entry.stream, []).append(entry.id)
        if not by_stream:
            return
        try:
            with self._client.pipeline(transaction=False) as pipe:
                for stream, ids in by_stream.items():
                    pipe.xack(stream, self._settings.group, *ids)
                for stream, ids in redelivered.items():
                    pipe.hdel(self._keys.entry_errors(stream), *ids)
                pipe.execute()
        except redis.RedisError as error:
            raise MessagingError(f"acknowledging entries failed: {error}") from error

    def fail(self, entry: Entry, error: str) -> None:
        """Record why `entry` failed; it stays pending and is retried after the claim idle time."""
        try:
            self._client.hset(self._keys.entry_errors(entry.stream), entry.id, error)
        except redis.RedisError as failure:
            raise MessagingError(f"recording a failure failed: {failure}") from failure

    def dead_letter(self, entry: Entry, error: str) -> None:
        """Move `entry` to the dead-letter stream with `error`, and acknowledge it."""
        record = {
            b"stream": entry.stream,
            b"id": entry.id,
            EVENT_FIELD: entry.data,
            b"error": error,
            b"deliveries": str(entry.deliveries),
            b"group": self._settings.group,
            b"at": f"{time.time():.3f}",
        }
        try:
            with self._client.pipeline(transaction=True) as pipe:
                pipe.xadd(self._keys.dead_letters, record)  # type: ignore[arg-type]
                pipe.xack(entry.stream, self._settings.group, entry.id)
                pipe.hdel(self._keys.entry_errors(entry.stream), entry.id)
                pipe.execute()
        except redis.RedisError as failure:
            raise MessagingError(f"dead-lettering {entry.id} failed: {failure}") from failure

    def discover(self, pattern: str) -> list[str]:
        """Start reading every stream whose name matches `pattern` (e.g. the pod-event streams
        of namespaces an all-namespaces watcher found); return the ones added now."""
        try:
            found = sorted(
                _text(name) for name in self._client.scan_iter(match=pattern, _type="STREAM")
            )
        except redis.RedisError as error:
            raise MessagingError(f"scanning for {pattern} failed: {error}") from error
        added = [stream for stream in found if stream not in self._streams]
        self.add_streams(added)
        return added

    def backlog(self) -> dict[str, Backlog]:
        """Per stream: entries not yet delivered to the group (lag) and delivered but not yet
        acknowledged (pending)."""
        figures: dict[str, Backlog] = {}
        try:
            for stream in self._streams:
                for group in self._client.xinfo_groups(stream):
                    if _text(group["name"]) == self._settings.group:
                        figures[stream] = Backlog(int(group.get("lag") or 0), int(group["pending"]))
        except redis.RedisError as error:
            raise MessagingError(f"reading the backlog failed: {error}") from error
        return figures

    def dead_letter_count(self) -> int:
        try:
            return int(self._client.xlen(self._keys.dead_letters))
        except redis.RedisError as error:
            raise MessagingError(f"reading the dead letters failed: {error}") from error

    def _read_new(self, block_ms: int) -> list[Entry]:
        if not self._streams:
            return []
        response: Any = self._reader.xreadgroup(
            self._settings.group,
            self._settings.consumer,
            dict.fromkeys(self._streams, ">"),
            count=self._settings.batch_size,
            block=block_ms,
        )
        # RESP2 sends [[stream, messages], ...], RESP3 a map; a message is [id, [field, value...]]
        per_stream = response.items() if isinstance(response, dict) else response or []
        entries: list[Entry] = []
        for stream, messages in per_stream:
            name = _text(stream)
            entries.extend(
                Entry(name, _text(entry_id), _event_field(fields))
                for entry_id, fields in messages
                if fields is not None
            )
        return entries

    def _claim_idle(self) -> list[Entry]:
        claimed: list[Entry] = []
        for stream in self._streams:
            claimed.extend(self._claim_stream(stream))
        return claimed

    def _claim_stream(self, stream: str) -> list[Entry]:
        response = self._client.xautoclaim(
            stream,
            self._settings.group,
            self._settings.consumer,
            min_idle_time=self._settings.claim_idle_ms,
            start_id="0-0",
            count=self._settings.batch_size,
        )
        messages = [m for m in response[1] if m and m[1] is not None]
        if len(messages) < len(response[1]):
            self._ack_vanished(stream)
        if not messages:
            return []
        counts = self._delivery_counts(stream, [_text(m[0]) for m in messages])
        deliverable: list[Entry] = []
        for claimed in _entries(stream, messages, deliveries=1):
            entry = Entry(claimed.stream, claimed.id, claimed.data, counts.get(claimed.id, 1))
            if entry.deliveries > self._settings.max_deliveries:
                self.dead_letter(entry, self._last_error(entry))
            else:
                deliverable.append(entry)
        return deliverable

    def _ack_vanished(self, stream: str) -> None:
        """Acknowledge pending entries trimmed away before anyone acknowledged them.

        Redis 7 drops them from the pending list while claiming; Redis 6.2 claims them as empty
        entries without even their ids, so they are found here and acknowledged.
        """
        pending = self._client.xpending_range(
            stream, self._settings.group, min="-", max="+", count=self._settings.batch_size
        )
        for item in pending:
            entry_id = item["message_id"]
            if not self._client.xrange(stream, min=entry_id, max=entry_id):
                self._client.xack(stream, self._settings.group, entry_id)

    def _delivery_counts(self, stream: str, ids: list[str]) -> dict[str, int]:
        pending: Any = self._client.xpending_range(
            stream,
            self._settings.group,
            min=ids[0],
            max=ids[-1],
            count=len(ids),
            consumername=self._settings.consumer,
        )
        return {_text(item["message_id"]): int(item["times_delivered"]) for item in pending}

    def _last_error(self, entry: Entry) -> str:
        recorded = self._client.hget(self._keys.entry_errors(entry.stream), entry.id)
        reason = _text(recorded) if recorded else "no acknowledgement (consumer died or hung)"
        return f"delivered {entry.deliveries - 1} times without success; last error: {reason}"


def _entries(stream: str, messages: Sequence[Any], *, deliveries: int) -> list[Entry]:
    return [
        Entry(stream, _text(entry_id), fields.get(EVENT_FIELD, b""), deliveries)
        for entry_id, fields in messages
        if fields is not None
    ]


def _as_sent(response: Any, **options: Any) -> Any:
    del options
    return response


def _event_field(fields: list[bytes]) -> bytes:
    """The `event` value of an entry's flat field list (normally its only field)."""
    if fields[:1] == [EVENT_FIELD]:
        return fields[1]
    named = dict(zip(fields[::2], fields[1::2], strict=False))
    return named.get(EVENT_FIELD, b"")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

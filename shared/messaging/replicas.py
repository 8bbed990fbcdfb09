"""Every replica's report of itself in one Redis hash, so one page shows them all.

Each service replica (launcher, watcher, reconciler; however many of each) writes, every
`REPORT_EVERY_S`, one field of the instance's `replicas` hash: its service, holder, host and
health (the loops that stalled, the readiness checks that fail) with the time of the report. A
reader gets every replica of the instance with one HGETALL, whatever the number of pods or
namespaces, and needs no address of any replica (a pod's port is seldom reachable from another).
A replica that stops reporting (killed, partitioned, stuck) is shown as silent once its report is
older than `SILENT_AFTER_S`, and its field is pruned after `FORGET_AFTER_S`, so a scaled-down
replica leaves the page by itself. Reporting is best effort: Redis being away only delays it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import redis
import structlog

from shared.messaging.connections import MessagingError
from shared.messaging.keys import RedisKeys

log = structlog.get_logger()

#: Seconds between two reports of one replica.
REPORT_EVERY_S = 5.0
#: A report older than this (seconds) means the replica stopped reporting.
SILENT_AFTER_S = 3 * REPORT_EVERY_S
#: A report older than this (seconds) is removed by the reader: the replica is gone.
FORGET_AFTER_S = 600.0


@dataclass(frozen=True)
class Reporter:
    """Writes one replica's report every `every_s` while its service runs."""

    client: redis.Redis
    keys: RedisKeys
    holder: str
    every_s: float = REPORT_EVERY_S

    def run(
        self, stop: threading.Event, *, service: str, describe: Callable[[], Mapping[str, Any]]
    ) -> None:
        """Report until `stop` is set, then withdraw the report (a clean stop is no silence)."""
        field = f"{service}/{self.holder}"
        while not stop.is_set():
            report = {"service": service, "holder": self.holder, **describe()}
            self._write(field, {**report, "reported_at": time.time()})
            stop.wait(self.every_s)
        try:
            self.client.hdel(self.keys.replicas, field)
        except redis.RedisError as error:
            log.info("replica_report_not_withdrawn", error=str(error))

    def _write(self, field: str, report: Mapping[str, Any]) -> None:
        try:
            self.client.hset(self.keys.replicas, field, orjson.dumps(report))
        except redis.RedisError as error:
            log.info("replica_report_failed", error=str(error))


def read(client: redis.Redis, keys: RedisKeys, *, now: float | None = None) -> list[dict[str, Any]]:
    """Every replica's last report, with `age_s` and `silent`, by service and holder; reports
    older than `FORGET_AFTER_S` are removed.

    Raises:
        MessagingError: Redis failed.
    """
    try:
        fields: dict[bytes, bytes] = client.hgetall(keys.replicas)  # type: ignore[assignment]
    except redis.RedisError as error:
        raise MessagingError(f"reading the replicas' reports failed: {error}") from error
    now = time.time() if now is None else now
    reports, gone = [], []
    for field, raw in fields.items():
        report = _decoded(raw)
        age = now - float(report.get("reported_at", 0))
        if age > FORGET_AFTER_S:
            gone.append(field)
            continue
        reports.append({**report, "age_s": round(age, 1), "silent": age > SILENT_AFTER_S})
    if gone:
        _forget(client, keys, gone)
    return sorted(reports, key=lambda r: (str(r.get("service")), str(r.get("holder"))))


def _decoded(raw: bytes) -> dict[str, Any]:
    try:
        report = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return report if isinstance(report, dict) else {}


def _forget(client: redis.Redis, keys: RedisKeys, fields: list[bytes]) -> None:
    try:
        client.hdel(keys.replicas, *fields)
    except redis.RedisError as error:
        log.info("replica_reports_not_pruned", error=str(error))

"""The reconciler's event application on real Postgres and Redis (a benchmark, not a test).

    python -m tests.benchmarks.bench_reconciler [--events 100000] [--runs 3] [--quick] [--json PATH]

Pod events for realistic task lives (Pending, Pending/ContainerCreating, Running, then Succeeded
or one in ten Failed; one pod uid per pod; lives overlapping in time, so a batch holds events of
many tasks) are published to a pod-events stream whose task rows are already `queued`, in a
scratch database migrated to head (dropped at the end). Then, through the real code path (a
`StreamConsumer` reading the launches and pod-events streams with the reconciler's group settings,
and `Applier.apply`: decode, lock the rows, fold, one bulk update, commit, then ack):

* throughput, batched: the stream drained batch by batch, as the apply loop does;
* throughput, the baseline: a smaller sample drained with one `Applier.apply` per entry, so each
  event has its own transaction, commit and ack (entries are still read in batches);
* latency: a publisher thread publishes at a steady rate while the real `ApplyLoop` runs (its
  follow-ups, which talk to Kubernetes, are skipped); each event's latency is from just before its
  XADD to the return of the `Applier.apply` that committed and acknowledged it.

Prints events per second (median of `--runs`), the ratio, and the latency percentiles; with
`--json PATH` also writes the figures there. Only servers on 127.0.0.1 are accepted; the Redis
keys (under a unique instance name) are deleted at the end.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import random
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import redis
import sqlalchemy
from prometheus_client import CollectorRegistry

from services.reconciler.applying import Applier, Outcome
from services.reconciler.following import FollowUps
from services.reconciler.ledger import Rules
from services.reconciler.loops import ApplyLoop
from services.reconciler.metrics import ReconcilerMetrics
from shared.db import engines
from shared.db.keys import TABLE
from shared.db.models import TaskState
from shared.health import Heartbeat
from shared.messages import SCHEMA_VERSION, PodEvent, PodPhase, TaskKey
from shared.messaging import streams
from shared.messaging.keys import RECONCILER_GROUP, RedisKeys
from shared.messaging.streams import Entry, GroupSettings, StreamConsumer
from shared.outages import Outages
from shared.settings import Settings
from tests.benchmarks import common
from tests.support import builders
from tests.support.scratch import scratch_database

NAMESPACE = "bench"
DAG_ID = "etl"
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
#: Tasks starting per simulated second: with lives of 5-30 s, about 2,000 pods are alive at once.
ARRIVALS_PER_S = 100.0
EVENTS_PER_TASK = 4
#: Entries published per round trip while pre-filling the stream.
PUBLISH_CHUNK = 5_000
#: How long the apply loop may go without new entries before a phase is declared stuck.
STALL_S = 30.0


def progress(message: str) -> None:
    print(f"[bench-reconciler] {message}", file=sys.stderr, flush=True)


# --- the workload ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """Task rows to pre-insert as `queued`, and their pod events, encoded, in observed order."""

    rows: list[dict[str, Any]]
    payloads: list[bytes]
    succeeded: int
    failed: int


def workload(tasks: int, *, run_id: str, seed: int) -> Workload:
    """`tasks` task lives of four pod events each, interleaved as a watcher would see them."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    timeline: list[tuple[float, int, int]] = []
    for n in range(tasks):
        start = n / ARRIVALS_PER_S
        creating = start + rng.uniform(0.2, 1.0)
        running = creating + rng.uniform(0.5, 3.0)
        ended = running + rng.uniform(5.0, 30.0)
        timeline += [(start, n, 0), (creating, n, 1), (running, n, 2), (ended, n, 3)]
        rows.append(_row(f"t{n}", run_id))
    timeline.sort()
    uids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(tasks)]
    failing = {n for n in range(tasks) if n % 10 == 9}
    started_at: dict[int, datetime] = {}
    payloads: list[bytes] = []
    for version, (at, n, stage) in enumerate(timeline, start=1):
        observed = T0 + timedelta(seconds=at)
        if stage == 2:
            started_at[n] = observed
        event = _pod_event(
            n,
            stage,
            run_id=run_id,
            uid=uids[n],
            fails=n in failing,
            started=started_at.get(n),
            observed=observed,
            resource_version=str(version),
        )
        payloads.append(event.encode())
    return Workload(rows, payloads, succeeded=tasks - len(failing), failed=len(failing))


def _row(task_id: str, run_id: str) -> dict[str, Any]:
    """A task row as job intake writes it (`shared/intake.py`)."""
    job = builders.job_dict(dag_id=DAG_ID, task_id=task_id, run_id=run_id, namespace=NAMESPACE)
    return {
        "dag_id": DAG_ID,
        "task_id": task_id,
        "run_id": run_id,
        "map_index": -1,
        "try_number": 1,
        "state": TaskState.QUEUED,
        "namespace": NAMESPACE,
        "job": job,
        "priority": 0,
        "queued_at": T0,
        "updated_at": T0,
    }


def _pod_event(
    n: int,
    stage: int,
    *,
    run_id: str,
    uid: str,
    fails: bool,
    started: datetime | None,
    observed: datetime,
    resource_version: str,
) -> PodEvent:
    fields: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "key": TaskKey(dag_id=DAG_ID, task_id=f"t{n}", run_id=run_id),
        "try_number": 1,
        "namespace": NAMESPACE,
        "pod": f"etl-t{n}-{n:08x}",
        "pod_uid": uid,
        "resource_version": resource_version,
        "observed_at": observed,
    }
    if stage == 0:
        return PodEvent(**fields, phase=PodPhase.PENDING)
    if stage == 1:
        return PodEvent(**fields, phase=PodPhase.PENDING, waiting_reason="ContainerCreating")
    if stage == 2:
        return PodEvent(**fields, phase=PodPhase.RUNNING, started_at=started)
    return PodEvent(
        **fields,
        phase=PodPhase.FAILED if fails else PodPhase.SUCCEEDED,
        started_at=started,
        finished_at=observed,
        terminated_reason="Error" if fails else "Completed",
        exit_code=1 if fails else 0,
    )


# --- the servers -------------------------------------------------------------------------------


@dataclass
class Bench:
    """The servers and names one benchmark run uses."""

    engine: sqlalchemy.Engine
    client: redis.Redis
    keys: RedisKeys
    batch_size: int

    @property
    def stream(self) -> str:
        return self.keys.pod_events(NAMESPACE)

    def reset(self, rows: list[dict[str, Any]]) -> None:
        """An empty stream (group and errors gone too) and exactly `rows`, queued."""
        self.delete_keys()
        with self.engine.begin() as connection:
            connection.execute(sqlalchemy.text("TRUNCATE task_instance"))
            for start in range(0, len(rows), 5_000):
                connection.execute(sqlalchemy.insert(TABLE), rows[start : start + 5_000])
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sqlalchemy.text("VACUUM ANALYZE task_instance"))

    def fill(self, payloads: list[bytes]) -> None:
        for start in range(0, len(payloads), PUBLISH_CHUNK):
            chunk = payloads[start : start + PUBLISH_CHUNK]
            streams.publish(self.client, self.stream, chunk, maxlen=10 * len(payloads))

    def consumer(self, name: str = "bench") -> StreamConsumer:
        """A consumer as the reconciler builds it (`services/reconciler/service.py`)."""
        return StreamConsumer(
            self.client,
            keys=self.keys,
            streams=[self.keys.launches, self.stream],
            settings=GroupSettings(RECONCILER_GROUP, name, batch_size=self.batch_size),
        )

    def applier(self, consumer: StreamConsumer) -> Applier:
        return Applier(self.engine, consumer, launches_stream=self.keys.launches, rules=Rules())

    def states(self) -> dict[str, int]:
        query = sqlalchemy.text("SELECT state, count(*) FROM task_instance GROUP BY state")
        with self.engine.connect() as connection:
            return {str(state): int(count) for state, count in connection.execute(query)}

    def delete_keys(self) -> None:
        names = list(self.client.scan_iter(match=f"{self.keys.prefix}*", count=1000))
        if names:
            self.client.delete(*names)


# --- throughput --------------------------------------------------------------------------------


def throughput(
    bench: Bench, load: Workload, *, per_event: bool, label: str, workers: int = 1
) -> float:
    """Drain `load` from a pre-filled stream with `workers` apply threads (each a consumer of
    the group, as the reconciler runs them); return events per second."""
    bench.reset(load.rows)
    bench.fill(load.payloads)
    total = len(load.payloads)
    progress(f"{label}: stream filled with {total:,} events; draining with {workers} worker(s)")
    drain = _Drain(bench, total=total, per_event=per_event)
    threads = [
        threading.Thread(target=drain.run, args=(f"bench-{n}",), name=f"apply-{n}")
        for n in range(workers)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        next(thread for thread in threads if thread.is_alive()).join(timeout=2.0)
        rate = drain.applied / (time.perf_counter() - started)
        progress(f"{label}: {drain.applied:,}/{total:,} events, {rate:,.0f}/s so far")
    if drain.failure is not None:
        raise RuntimeError(f"{label}: {drain.failure}")
    rate = total / (time.perf_counter() - started)
    _check_rows(bench, load, label)
    progress(f"{label}: {rate:,.0f} events/s")
    return rate


@dataclass
class _Drain:
    """Apply threads sharing one pre-filled stream until `total` entries are applied."""

    bench: Bench
    total: int
    per_event: bool
    applied: int = 0
    failure: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, name: str) -> None:
        consumer = self.bench.consumer(name)
        applier = self.bench.applier(consumer)
        last_read = time.perf_counter()
        while self.applied < self.total and self.failure is None:
            entries = consumer.read(block_ms=200)
            if entries:
                last_read = time.perf_counter()
            elif time.perf_counter() - last_read > STALL_S:
                self.failure = f"stalled after {self.applied:,} of {self.total:,} events"
            for batch in [[entry] for entry in entries] if self.per_event else [entries]:
                applier.apply(batch)
            with self._lock:
                self.applied += len(entries)


def _check_rows(bench: Bench, load: Workload, label: str) -> None:
    states = bench.states()
    expected = {TaskState.SUCCESS.value: load.succeeded, TaskState.FAILED.value: load.failed}
    expected = {state: count for state, count in expected.items() if count}
    if states != expected:
        progress(f"{label}: WARNING rows ended as {states}, expected {expected}")


# --- latency -----------------------------------------------------------------------------------


class _TimedApplier(Applier):
    """The real `Applier`, noting when each entry's batch was committed and acknowledged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.committed: list[tuple[str, float]] = []

    def apply(self, entries: Sequence[Entry]) -> list[Outcome]:
        outcomes = super().apply(entries)
        now = time.perf_counter()
        self.committed.extend((entry.id, now) for entry in entries)
        return outcomes


class _NoFollowUps:
    """Follow-ups talk to Kubernetes (logs, finalizers, deletions); this benchmark measures
    applying, so there are none."""

    def run(self, outcomes: Sequence[Outcome]) -> None:
        del outcomes


@dataclass
class _Publisher:
    """Publishes `payloads` at `rate` per second, noting when each entry was sent."""

    bench: Bench
    payloads: list[bytes]
    rate: float
    published: dict[str, float] = field(default_factory=dict)

    def run(self) -> None:
        started = time.perf_counter()
        sent = 0
        while sent < len(self.payloads):
            due = min(len(self.payloads), int((time.perf_counter() - started) * self.rate) + 1)
            if due > sent:
                at = time.perf_counter()
                ids = streams.publish(
                    self.bench.client,
                    self.bench.stream,
                    self.payloads[sent:due],
                    maxlen=10 * len(self.payloads),
                )
                self.published.update(dict.fromkeys(ids, at))
                sent = due
            time.sleep(0.005)


@dataclass(frozen=True)
class Latency:
    events: int
    seconds: float
    p50_s: float
    p99_s: float
    max_s: float


def latency(bench: Bench, load: Workload, *, rate: float) -> Latency:
    bench.reset(load.rows)
    consumer = bench.consumer()
    applier = _TimedApplier(
        bench.engine, consumer, launches_stream=bench.keys.launches, rules=Rules()
    )
    loop = ApplyLoop(
        consumer=consumer,
        applier=applier,
        follow_ups=cast(FollowUps, _NoFollowUps()),
        heartbeat=Heartbeat("apply", deadline_s=60),
        metrics=ReconcilerMetrics(CollectorRegistry()),
        stream_pattern=bench.keys.pod_events_pattern,
        launches_stream=bench.keys.launches,
        outages=Outages(),
    )
    publisher = _Publisher(bench, load.payloads, rate)
    stop = threading.Event()
    applying = threading.Thread(target=loop.run, args=(stop,), name="apply-loop")
    publishing = threading.Thread(target=publisher.run, name="publisher")
    total = len(load.payloads)
    progress(f"latency: publishing {total:,} events at {rate:,.0f}/s while the apply loop runs")
    applying.start()
    started = time.perf_counter()
    publishing.start()
    try:
        _wait_for(applier, total, started=started)
    finally:
        stop.set()
        publishing.join()
        applying.join()
    seconds = time.perf_counter() - started
    _check_rows(bench, load, "latency")
    waits = sorted(at - publisher.published[entry_id] for entry_id, at in applier.committed)
    return Latency(
        events=len(waits),
        seconds=seconds,
        p50_s=_percentile(waits, 50),
        p99_s=_percentile(waits, 99),
        max_s=waits[-1],
    )


def _wait_for(applier: _TimedApplier, total: int, *, started: float) -> None:
    last_count, last_change = 0, time.perf_counter()
    while len(applier.committed) < total:
        time.sleep(2.0)
        count, now = len(applier.committed), time.perf_counter()
        if count != last_count:
            last_count, last_change = count, now
        elif now - last_change > STALL_S:
            raise RuntimeError(f"latency: stalled after {count:,} of {total:,} events")
        progress(f"latency: {count:,}/{total:,} events committed after {now - started:.0f}s")


def _percentile(ordered: list[float], percent: float) -> float:
    """Nearest-rank percentile of the sorted `ordered`."""
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


# --- the report --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events of the batched run")
    parser.add_argument(
        "--baseline-events", type=int, default=5_000, help="events of the per-event baseline"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=Settings.model_fields["apply_workers"].default,
        help="apply threads of the batched run (the reconciler's PODRUNNER_APPLY_WORKERS)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=Settings.model_fields["apply_batch_size"].default,
        help="entries per read and transaction (the reconciler's PODRUNNER_APPLY_BATCH_SIZE)",
    )
    parser.add_argument("--rate", type=float, default=1_000.0, help="events/s of the latency run")
    parser.add_argument("--latency-seconds", type=float, default=15.0)
    common.add_servers(parser)
    common.add_common(parser, runs=3)
    quick = {"events": 2_000, "baseline_events": 200, "latency_seconds": 2.0, "runs": 1}
    args = common.parse(parser, argv, quick)
    redis_url, database_url = args.redis_url, args.database_url
    progress("building the workloads")
    batched_load = workload(args.events // EVENTS_PER_TASK, run_id="batched", seed=1)
    baseline_load = workload(args.baseline_events // EVENTS_PER_TASK, run_id="baseline", seed=2)
    latency_tasks = int(args.rate * args.latency_seconds) // EVENTS_PER_TASK
    latency_load = workload(latency_tasks, run_id="latency", seed=3)
    # the workloads live as long as the run but are no part of a reconciler: keep the garbage
    # collector from walking them again and again
    gc.freeze()
    client = redis.Redis.from_url(redis_url)
    bench_keys = RedisKeys(f"bench-reconciler-{uuid.uuid4().hex[:8]}")
    try:
        with scratch_database(database_url, say=progress) as url:
            engine = engines.make_engine(url)
            bench = Bench(engine, client, bench_keys, args.batch_size)
            try:
                figures = measure(bench, args, batched_load, baseline_load, latency_load)
            finally:
                engine.dispose()
                bench.delete_keys()
    finally:
        client.close()
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
        progress(f"figures written to {args.json}")
    return 0


def measure(
    bench: Bench,
    args: argparse.Namespace,
    batched_load: Workload,
    baseline_load: Workload,
    latency_load: Workload,
) -> dict[str, Any]:
    batched_runs, baseline_runs = [], []
    for run in range(1, args.runs + 1):
        batched_runs.append(
            throughput(
                bench,
                batched_load,
                per_event=False,
                label=f"batched run {run}",
                workers=args.workers,
            )
        )
        baseline_runs.append(
            throughput(bench, baseline_load, per_event=True, label=f"per-event run {run}")
        )
    waits = latency(bench, latency_load, rate=args.rate)
    batched, baseline = statistics.median(batched_runs), statistics.median(baseline_runs)
    return {
        "benchmark": "reconciler-apply",
        "runs": args.runs,
        "batch_size": args.batch_size,
        "workers": args.workers,
        "batched": {
            "events": len(batched_load.payloads),
            "tasks": len(batched_load.rows),
            "events_per_s": round(batched),
            "runs_events_per_s": [round(rate) for rate in batched_runs],
            "target_events_per_s": 20_000,
        },
        "baseline": {
            "events": len(baseline_load.payloads),
            "tasks": len(baseline_load.rows),
            "events_per_s": round(baseline),
            "runs_events_per_s": [round(rate) for rate in baseline_runs],
        },
        "ratio": round(batched / baseline, 2),
        "target_ratio": 5.0,
        "latency": {
            "rate_events_per_s": args.rate,
            "events": waits.events,
            "seconds": round(waits.seconds, 1),
            "p50_s": round(waits.p50_s, 4),
            "p99_s": round(waits.p99_s, 4),
            "max_s": round(waits.max_s, 4),
            "target_p99_s": 1.0,
        },
    }


def report(figures: dict[str, Any]) -> None:
    batched, baseline, waits = figures["batched"], figures["baseline"], figures["latency"]
    print(
        f"reconciler apply benchmark: real Postgres and Redis, median of {figures['runs']} runs, "
        f"read batches of {figures['batch_size']}, {figures['workers']} apply worker(s)"
    )
    rows = [
        (
            f"batched, {batched['events']:,} events ({batched['tasks']:,} tasks), target >= 20,000",
            f"{batched['events_per_s']:,} events/s",
        ),
        (
            f"one commit per event, {baseline['events']:,}-event sample, the baseline",
            f"{baseline['events_per_s']:,} events/s",
        ),
        ("ratio, target >= 5x", f"{figures['ratio']:.1f}x"),
        (
            f"latency at {waits['rate_events_per_s']:,.0f} events/s, {waits['events']:,} events: "
            "p50",
            f"{waits['p50_s'] * 1000:,.0f} ms",
        ),
        ("  p99, target <= 1 s", f"{waits['p99_s'] * 1000:,.0f} ms"),
        ("  max", f"{waits['max_s'] * 1000:,.0f} ms"),
    ]
    for label, value in rows:
        print(f"  {label:<70} {value:>16}")


if __name__ == "__main__":
    sys.exit(main())

"""The watcher's decode-and-publish rate on a recorded stream (a benchmark, not a test).

    python -m tests.benchmarks.bench_watcher [--events 100000] [--runs 3] [--quick] [--json PATH]

A real watch stream of pods going through their lives is recorded from kubesim, then replayed
(pod names varied) up to `--events` lines. Both paths turn each line into a `PodEvent`, keep
transitions only and publish them to a real Redis stream in batches:

* podrunner's: msgspec structs holding only the needed fields (`services/watcher/decoding.py`);
* the baseline: what the official client's `Watch().stream` does per event, `json.loads` then
  deserialization into a `V1Pod` model (`Watch.unmarshal_event`), mapped to the same event.

Prints events per second for each (median of `--runs`, the two paths taking turns) and the ratio;
with `--json PATH` also writes them there. Redis is `--redis-url` (only on this machine), else the
test suite's choice (`PODRUNNER_TEST_REDIS_URL`, a container or an embedded server); the streams
written are deleted.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import redis
from kubernetes import watch
from prometheus_client import CollectorRegistry

from services.watcher.metrics import WatcherMetrics
from services.watcher.watching import WatchLoop
from shared.health import Heartbeat
from shared.k8s import naming
from shared.k8s.rendering import RenderSettings, render_pod
from shared.k8s.template_files import Templates
from shared.messages import SCHEMA_VERSION, EventSource, PodEvent, PodPhase
from shared.messaging import streams
from shared.messaging.keys import RedisKeys
from tests.benchmarks import common
from tests.support import builders, servers
from tests.support.kubesim import start_kubesim

INSTANCE = "bench"
BATCH = 500


def record(pods: int) -> list[bytes]:
    """Watch kubesim while `pods` pods live their lives; return the raw lines."""
    with tempfile.TemporaryDirectory() as directory:
        sim = start_kubesim(Path(directory))
        try:
            rv = httpx.get(f"{sim.url}/api/v1/namespaces/default/pods").json()["metadata"][
                "resourceVersion"
            ]
            lines: list[bytes] = []
            params = {"watch": "1", "resourceVersion": rv, "timeoutSeconds": "60"}

            def read() -> None:
                with httpx.stream(
                    "GET", f"{sim.url}/api/v1/namespaces/default/pods", params=params, timeout=90
                ) as response:
                    for line in response.iter_lines():
                        lines.append(line.encode())
                        if len(lines) >= pods * 5:
                            return

            reader = threading.Thread(target=read)
            reader.start()
            settings = RenderSettings(INSTANCE, "default", "busybox:1.37")
            for n in range(pods):
                job = builders.job(
                    task_id=f"t{n}", annotations={"kubesim.podrunner.io/exit-code": str(n % 3)}
                )
                httpx.post(
                    f"{sim.url}/api/v1/namespaces/default/pods",
                    json=render_pod(job, settings=settings, templates=Templates()),
                )
            reader.join(120)
        finally:
            sim.stop()
    return lines


def replay(recorded: list[bytes], total: int) -> list[bytes]:
    """`total` lines: the recording repeated, each copy's pods renamed so they are new pods."""
    lines: list[bytes] = []
    copy = 0
    while len(lines) < total:
        suffix = f"-c{copy}".encode()
        lines.extend(
            line.replace(b'"name":"etl-load', b'"name":"etl-load' + suffix) for line in recorded
        )
        copy += 1
    return lines[:total]


def ours(lines: list[bytes], client_: redis.Redis) -> float:
    keys = RedisKeys(f"b{uuid.uuid4().hex[:6]}")
    with _deleting(client_, keys):
        return _ours(lines, client_, keys)


@contextlib.contextmanager
def _deleting(client_: redis.Redis, keys: RedisKeys) -> Iterator[None]:
    """The stream `keys` names for the run, deleted afterwards."""
    try:
        yield
    finally:
        client_.delete(keys.pod_events("default"))


def _ours(lines: list[bytes], client_: redis.Redis, keys: RedisKeys) -> float:
    loop = WatchLoop(
        scope="default",
        pods=None,  # type: ignore[arg-type]  # never listed or watched: lines are fed in
        instance=INSTANCE,
        publish=lambda events: publish(client_, keys, events),
        save_checkpoint=lambda _rv: True,
        metrics=WatcherMetrics(CollectorRegistry()),
        heartbeat=Heartbeat("bench", deadline_s=60),
    )
    started = time.perf_counter()
    for start in range(0, len(lines), BATCH):
        loop.process(lines[start : start + BATCH])
    return len(lines) / (time.perf_counter() - started)


def publish(client_: redis.Redis, keys: RedisKeys, events: list[Any]) -> None:
    payloads = [event.encode() for event in events]
    streams.publish(client_, keys.pod_events("default"), payloads, maxlen=10**7)


def baseline(lines: list[bytes], client_: redis.Redis) -> float:
    keys = RedisKeys(f"b{uuid.uuid4().hex[:6]}")
    with _deleting(client_, keys):
        return _baseline(lines, client_, keys)


def _baseline(lines: list[bytes], client_: redis.Redis, keys: RedisKeys) -> float:
    unmarshal = watch.Watch().unmarshal_event
    tracker: dict[tuple[str, str], tuple[object, ...]] = {}
    started = time.perf_counter()
    for start in range(0, len(lines), BATCH):
        observed = datetime.now(UTC)
        events = []
        for line in lines[start : start + BATCH]:
            event = unmarshal(line.decode(), "V1Pod")  # type: ignore[no-untyped-call]
            if event["type"] == "BOOKMARK":
                continue
            pod_event = _from_model(
                event["object"], deleted=event["type"] == "DELETED", observed=observed
            )
            if pod_event is None:
                continue
            pod_key = (pod_event.namespace, pod_event.pod)
            state = (
                pod_event.phase,
                pod_event.reason,
                pod_event.waiting_reason,
                pod_event.terminated_reason,
                pod_event.exit_code,
                pod_event.deletion_requested,
                pod_event.deleted,
            )
            if tracker.get(pod_key) != state:
                tracker[pod_key] = state
                events.append(pod_event)
        streams.publish(
            client_, keys.pod_events("default"), [e.encode() for e in events], maxlen=10**7
        )
    return len(lines) / (time.perf_counter() - started)


def _from_model(pod: Any, *, deleted: bool, observed: datetime) -> PodEvent | None:
    metadata = pod.metadata
    if (metadata.labels or {}).get(naming.INSTANCE_LABEL) != INSTANCE:
        return None
    key, try_number = naming.key_from_annotations(metadata.annotations or {})
    statuses = pod.status.container_statuses or []
    base = next((s for s in statuses if s.name == "base"), None)
    state = base.state if base else None
    waiting = state.waiting if state else None
    terminated = state.terminated if state else None
    return PodEvent(
        version=SCHEMA_VERSION,
        key=key,
        try_number=try_number,
        namespace=metadata.namespace,
        pod=metadata.name,
        phase=PodPhase(pod.status.phase),
        reason=pod.status.reason or "",
        waiting_reason=(waiting.reason or "") if waiting else "",
        terminated_reason=(terminated.reason or "") if terminated else "",
        exit_code=terminated.exit_code if terminated else None,
        deletion_requested=metadata.deletion_timestamp is not None,
        deleted=deleted,
        resource_version=metadata.resource_version,
        observed_at=observed,
        source=EventSource.WATCH,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--pods", type=int, default=1_000, help="pods in the recording")
    parser.add_argument("--redis-url", help="default: the test suite's Redis")
    common.add_common(parser, runs=3)
    args = common.parse(parser, argv, {"events": 5_000, "pods": 100, "runs": 1})
    recorded = record(args.pods)
    lines = replay(recorded, args.events)
    print(
        f"recorded {len(recorded):,} lines from {args.pods:,} pods; replaying {len(lines):,}",
        file=sys.stderr,
    )
    with redis_for(args.redis_url) as redis_url:
        client_ = redis.Redis.from_url(redis_url)
        # the two paths take turns, so a machine slower for a while slows both alike
        pairs = [(ours(lines, client_), baseline(lines, client_)) for _ in range(args.runs)]
        ours_rate = statistics.median(rate for rate, _ in pairs)
        base_rate = statistics.median(rate for _, rate in pairs)
        client_.close()
    print(f"watcher benchmark: {len(lines):,} recorded pod events, median of {args.runs} runs")
    rows = [
        ("podrunner (msgspec structs), target >= 30,000", f"{ours_rate:,.0f} events/s"),
        ("official client (V1Pod models), the baseline", f"{base_rate:,.0f} events/s"),
        ("ratio, target >= 10x", f"{ours_rate / base_rate:.1f}x"),
    ]
    for label, value in rows:
        print(f"  {label:<48} {value:>16}")
    common.write_json(
        args.json,
        {
            "benchmark": "watcher",
            "runs": args.runs,
            "events": len(lines),
            "recorded_lines": len(recorded),
            "events_per_s": round(ours_rate),
            "baseline_events_per_s": round(base_rate),
            "ratio": round(ours_rate / base_rate, 2),
            "target_events_per_s": 30_000,
            "target_ratio": 10.0,
        },
    )
    return 0


@contextlib.contextmanager
def redis_for(url: str | None) -> Iterator[str]:
    """`url` when given (on this machine only), else the test suite's Redis."""
    if url:
        yield common.local_only(url, bench="bench-watcher")
    else:
        with servers.redis_server() as found:
            yield found


if __name__ == "__main__":
    sys.exit(main())

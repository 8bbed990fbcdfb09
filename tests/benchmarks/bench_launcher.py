"""The launcher's create throughput against kubesim (a benchmark, not a test).

    python -m tests.benchmarks.bench_launcher [--jobs 5000] [--runs 3] [--quick] [--json PATH]

For each concurrency (1 with one job in hand, a serial loop like the upstream executor's, and the
defaults) it queues `--jobs` jobs, starts `podrunner launcher` as a process, and times from its
first launch event to its last (the process's start-up is not counted). kubesim's kubelet is paused
so only the create path is measured. Prints pods/s (median of `--runs`) and the ratio of the two;
with `--json PATH` also writes them there. Redis is `--redis-url` (only on this machine), else the
test suite's choice (`PODRUNNER_TEST_REDIS_URL`, a container or an embedded server); each run's
keys and queue are deleted afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import redis

from shared.messaging.jobqueue import BrokerSettings, JobQueue
from shared.messaging.keys import RedisKeys
from shared.settings import Settings
from tests.benchmarks import common
from tests.support import builders, servers
from tests.support.kubesim import free_port, start_kubesim

#: No new launch for this long means the run is stuck (its queue or stream gone, say), not slow.
STALL_S = 60.0


def progress(message: str) -> None:
    print(f"[bench-launcher] {message}", file=sys.stderr, flush=True)


def one_run(sim_url: str, kubeconfig: Path, redis_url: str, jobs: int, concurrency: int) -> float:
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    instance = f"b{uuid.uuid4().hex[:8]}"
    httpx.post(f"{sim_url}/api/v1/namespaces", json={"metadata": {"name": namespace}})
    queue = JobQueue(BrokerSettings(url=redis_url))
    queue.publish((builders.job(task_id=f"t{n}"), namespace) for n in range(jobs))
    env = {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        "PODRUNNER_REDIS_URL": redis_url,
        "PODRUNNER_INSTANCE": instance,
        "PODRUNNER_NAMESPACES": namespace,
        "PODRUNNER_NAMESPACE": namespace,
        "PODRUNNER_LAUNCH_CONCURRENCY": str(concurrency),
        # the serial baseline takes, creates and acknowledges one job at a time, as upstream does
        **({"PODRUNNER_LAUNCH_PREFETCH": "1"} if concurrency == 1 else {}),
        "PODRUNNER_LAUNCH_QPS": "100000",
        "PODRUNNER_MAX_ACTIVE_PODS": str(jobs * 2),
        "PODRUNNER_HEALTH_HOST": "127.0.0.1",
        "PODRUNNER_HEALTH_PORT": str(free_port()),
        "PODRUNNER_LOG_LEVEL": "WARNING",
    }
    client = redis.Redis.from_url(redis_url)
    launches = RedisKeys(instance).launches
    process = subprocess.Popen([sys.executable, "-m", "services.cli", "launcher"], env=env)
    try:
        while not client.xlen(launches):
            _check(process, since=None)
            time.sleep(0.001)
        started, first = time.perf_counter(), client.xlen(launches)
        seen, last_change = first, started
        while seen < jobs:
            time.sleep(0.02)
            if (now := client.xlen(launches)) != seen:
                seen, last_change = now, time.perf_counter()
            _check(process, since=last_change)
        elapsed = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(30)
        common.delete_run_keys(client, instance, namespace)
        client.close()
    return (jobs - first) / elapsed


def _check(process: subprocess.Popen[bytes], *, since: float | None) -> None:
    """Raise if the launcher exited, or launched nothing for `STALL_S` since `since`."""
    if process.poll() is not None:
        raise RuntimeError(f"the launcher exited ({process.returncode})")
    if since is not None and time.perf_counter() - since > STALL_S:
        raise RuntimeError(f"no launch for {STALL_S:.0f}s: stalled")


@contextlib.contextmanager
def redis_for(url: str | None) -> Iterator[str]:
    """`url` when given (on this machine only), else the test suite's Redis."""
    if url:
        yield common.local_only(url, bench="bench-launcher")
    else:
        with servers.redis_server() as found:
            yield found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument(
        "--latency-ms", type=float, default=20.0, help="API latency of the second scenario"
    )
    parser.add_argument(
        "--latency-jobs",
        type=int,
        default=1000,
        help="jobs of the second (slow) scenario; 0 skips it",
    )
    parser.add_argument("--redis-url", help="default: the test suite's Redis")
    common.add_common(parser, runs=3)
    args = common.parse(parser, argv, {"jobs": 200, "latency_jobs": 0, "runs": 1})
    default = Settings().launch_concurrency
    scenarios = {"kubesim as fast as it answers": (0.0, args.jobs)}
    if args.latency_jobs:
        scenarios[f"+{args.latency_ms:g} ms per create"] = (args.latency_ms, args.latency_jobs)
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as directory, redis_for(args.redis_url) as redis_url:
        sim = start_kubesim(Path(directory), "--history-limit", "20000")
        try:
            httpx.post(f"{sim.url}/kubesim/kubelet/pause")
            for label, (latency, count) in scenarios.items():
                httpx.put(f"{sim.url}/kubesim/latency", json={"verb": "create", "ms": latency})
                serial, concurrent = (
                    statistics.median(
                        one_run(sim.url, sim.kubeconfig, redis_url, count, concurrency)
                        for _ in range(args.runs)
                    )
                    for concurrency in (1, default)
                )
                rows.append((label, serial, concurrent))
                progress(f"{label}: {serial:,.0f} pods/s serial, {concurrent:,.0f} concurrent")
        finally:
            sim.stop()
    _print(args, default, rows)
    common.write_json(args.json, figures(args, default, scenarios, rows))
    return 0


def figures(
    args: argparse.Namespace,
    default: int,
    scenarios: dict[str, tuple[float, int]],
    rows: list[tuple[str, float, float]],
) -> dict[str, Any]:
    """The JSON figures: per scenario, the serial and concurrent pods/s and their ratio."""
    return {
        "benchmark": "launcher",
        "runs": args.runs,
        "concurrency": default,
        "target_pods_per_s": 500,
        "scenarios": [
            {
                "label": label,
                "jobs": scenarios[label][1],
                "latency_ms": scenarios[label][0],
                "serial_pods_per_s": round(serial, 1),
                "concurrent_pods_per_s": round(concurrent, 1),
                "ratio": round(concurrent / serial, 2),
            }
            for label, serial, concurrent in rows
        ],
    }


def _print(args: argparse.Namespace, default: int, rows: list[tuple[str, float, float]]) -> None:
    print(
        f"launcher benchmark: {args.jobs:,} jobs ({args.latency_jobs:,} with latency), "
        f"median of {args.runs} runs (target >= 500 pods/s)"
    )
    print(f"  {'API':<32} {'concurrency 1':>14} {f'concurrency {default}':>15} {'ratio':>7}")
    for label, serial, concurrent in rows:
        print(
            f"  {label:<32} {serial:>10,.0f}/s {concurrent:>11,.0f}/s {concurrent / serial:>6.1f}x"
        )


if __name__ == "__main__":
    sys.exit(main())

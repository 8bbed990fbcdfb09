"""The launcher's create throughput against kubesim (a benchmark, not a test).

    python -m tests.benchmarks.bench_launcher [--jobs 5000] [--runs 3]

For each concurrency (1, a serial loop like the upstream executor's, and the default) it
queues `--jobs` jobs, starts `podrunner launcher` as a process, and times from its first launch
event to its last (the process's start-up is not counted). kubesim's kubelet is paused so only
the create path is measured. Prints pods/s (median of `--runs`) and the ratio of the two.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import redis

from shared.messaging.jobqueue import BrokerSettings, JobQueue
from shared.messaging.keys import RedisKeys
from shared.settings import Settings
from tests.support import builders, servers
from tests.support.kubesim import free_port, start_kubesim


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
            if process.poll() is not None:
                raise RuntimeError("the launcher exited")
            time.sleep(0.001)
        started, first = time.perf_counter(), client.xlen(launches)
        while client.xlen(launches) < jobs:
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(30)
        client.close()
    return (jobs - first) / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--latency-ms", type=float, default=20.0, help="API latency of the second scenario"
    )
    parser.add_argument(
        "--latency-jobs", type=int, default=1000, help="jobs of the second (slow) scenario"
    )
    args = parser.parse_args(argv)
    default = Settings().launch_concurrency
    scenarios = {
        "kubesim as fast as it answers": (0.0, args.jobs),
        f"+{args.latency_ms:g} ms per create": (args.latency_ms, args.latency_jobs),
    }
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as directory, servers.redis_server() as redis_url:
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
        finally:
            sim.stop()
    print(
        f"launcher benchmark: {args.jobs:,} jobs ({args.latency_jobs:,} with latency), "
        f"median of {args.runs} runs (target >= 500 pods/s)"
    )
    print(f"  {'API':<32} {'concurrency 1':>14} {f'concurrency {default}':>15} {'ratio':>7}")
    for label, serial, concurrent in rows:
        print(
            f"  {label:<32} {serial:>10,.0f}/s {concurrent:>11,.0f}/s {concurrent / serial:>6.1f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How fast the dashboard answers with 100,000 task rows (a benchmark, not a test).

    python -m tests.benchmarks.bench_dashboard [--rows 100000] [--runs 20] [--quick] [--json PATH]

A scratch database migrated to head (dropped at the end) is filled with `--rows` rows of the last
day: most succeeded, some failed with one of a few reasons, some running or queued, over 4
namespaces and 50 dags, then analysed as autovacuum would. The reconciler's dashboard router is
served as the service serves it (uvicorn on a loopback port, the bearer token checked), and each
of its data pages is asked `--runs` times over HTTP: the Now and Flow views, the failures, the task
table's first page, a deep page, filtered by state, by dag, by a part of the reason and by a time
window, sorted by another column, and the page of one task.

Prints each page's median, 95th percentile and slowest answer in milliseconds, and whether its
slowest answer was within the 200 ms the dashboard aims for; with `--json PATH` also writes them.
Only servers on 127.0.0.1 are used; the Redis keys (a unique instance) are deleted at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from typing import Any

import httpx
import redis
import sqlalchemy
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from services.reconciler.dashboard import routing as dashboard
from shared import health
from shared.db import engines
from shared.k8s.stub import StubPodApi
from shared.messaging import replicas
from shared.messaging.jobqueue import BrokerSettings, JobQueue
from shared.messaging.keys import RedisKeys
from shared.messaging.pod_history import PodHistory
from tests.benchmarks import common
from tests.support.scratch import scratch_database

TOKEN = "bench-dashboard-token-0123456789"
#: Each page should answer within this, in milliseconds.
TARGET_MS = 200.0
NAMESPACES = 4

# Rows of the last day: 80% success, 10% failed (one of four reasons), 5% running, 5% queued.
_FILL = sqlalchemy.text(
    """
    INSERT INTO task_instance (dag_id, task_id, run_id, map_index, try_number, state, namespace,
        pod_name, job, priority, queued_at, started_at, ended_at, updated_at, pod_phase,
        exit_code, failure_reason)
    SELECT 'dag-' || (n % 50), 'task-' || (n % 997), 'run-' || (n / 997), -1, 1, s.state,
        'ns-' || (n % :namespaces), 'pod-' || n, '{}'::jsonb, 0, q.at,
        CASE WHEN s.state <> 'queued' THEN q.at + interval '2 seconds' END,
        CASE WHEN s.state IN ('success', 'failed') THEN q.at + interval '30 seconds' END,
        q.at, NULL,
        CASE WHEN s.state = 'failed' THEN 1 + n % 4 END,
        CASE WHEN s.state = 'failed' THEN (ARRAY['Error (exit 1)', 'OOMKilled (exit 137)',
            'ErrImagePull: pull access denied', 'Evicted: the node was low on memory'])[1 + n % 4]
        END
    FROM generate_series(1, :rows) AS n,
    LATERAL (SELECT now() - (n::float / :rows) * interval '1 day' AS at) AS q,
    LATERAL (SELECT CASE WHEN n % 20 = 0 THEN 'queued' WHEN n % 20 = 1 THEN 'running'
        WHEN n % 10 = 2 THEN 'failed' ELSE 'success' END AS state) AS s
    """
)


def pages(rows: int) -> dict[str, str]:
    """The pages asked, by name: path and query."""
    deep = max(1, rows // 50 - 1)
    return {
        "now": "/ui/data/now",
        "flow": "/ui/data/flow",
        "failures": "/ui/data/failures",
        "tasks": "/ui/data/tasks",
        "tasks, a deep page": f"/ui/data/tasks?page={deep}",
        "tasks, failed": "/ui/data/tasks?state=failed",
        "tasks, one dag": "/ui/data/tasks?dag_id=dag-7",
        "tasks, reason contains": "/ui/data/tasks?reason=memory",
        "tasks, last hour": "/ui/data/tasks?since=" + _hour_ago(),
        "tasks, by end, oldest first": "/ui/data/tasks?sort=ended_at&order=asc",
        "one task": "/ui/data/task?dag_id=dag-1&task_id=task-1&run_id=run-0&map_index=-1",
    }


def _hour_ago() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))


def measure(url: str, path: str, runs: int) -> list[float]:
    """Milliseconds of each of `runs` answers to `path` (after one unmeasured warm-up)."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    timings = []
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        for n in range(runs + 1):
            started = time.perf_counter()
            response = client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{path}: HTTP {response.status_code}: {response.text[:200]}")
            if n:
                timings.append(elapsed)
    return timings


def serve(database: Any, redis_url: str, instance: str) -> tuple[health.HealthServer, Any]:
    engine = engines.make_engine(database)
    client = redis.Redis.from_url(redis_url)
    keys = RedisKeys(instance)
    jobs = JobQueue(BrokerSettings(url=redis_url))
    names = [f"ns-{n}" for n in range(NAMESPACES)]
    sources = dashboard.Sources(
        engine=engine,
        jobs=jobs,
        pods=StubPodApi(),
        history=PodHistory(client, keys),
        active_pods=lambda namespace: int(client.hlen(keys.active_pods(namespace))),
        dead_letters=lambda: int(client.xlen(keys.dead_letters)),
        replicas=lambda: replicas.read(client, keys),
        namespaces=lambda: names,
        max_active_pods=1000,
    )
    router = dashboard.make_router(sources, api_token=SecretStr(TOKEN))
    app = health.make_health_app(
        service="reconciler",
        heartbeats=[],
        readiness=health.Readiness({}),
        registry=CollectorRegistry(),
        status=dict,
        routers=[router],
    )
    server = health.HealthServer(app, host="127.0.0.1", port=0)
    server.start()

    def close() -> None:
        server.stop()
        jobs.close()
        client.close()
        engine.dispose()

    return server, close


def run(args: argparse.Namespace) -> dict[str, Any]:
    instance = f"bench-dash-{uuid.uuid4().hex[:8]}"
    with scratch_database(args.database_url, say=_say, prefix=args.scratch_prefix) as database:
        engine = engines.make_engine(database)
        started = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(_FILL, {"rows": args.rows, "namespaces": NAMESPACES})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sqlalchemy.text("VACUUM ANALYZE task_instance"))
        engine.dispose()
        _say(f"{args.rows} rows written and analysed in {time.perf_counter() - started:.1f}s")
        server, close = serve(database, args.redis_url, instance)
        try:
            url = f"http://127.0.0.1:{server.port}"
            figures = {
                name: _summary(measure(url, path, args.runs))
                for name, path in pages(args.rows).items()
            }
        finally:
            close()
    return {"rows": args.rows, "runs": args.runs, "target_ms": TARGET_MS, "pages": figures}


def _summary(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 1),
        "max_ms": round(ordered[-1], 1),
    }


def report(figures: dict[str, Any]) -> str:
    lines = [
        f"dashboard pages with {figures['rows']:,} rows, {figures['runs']} answers each (ms):",
        f"{'page':30} {'p50':>7} {'p95':>7} {'max':>7}  within {TARGET_MS:.0f} ms",
    ]
    for name, page in figures["pages"].items():
        within = "yes" if page["max_ms"] <= TARGET_MS else "NO"
        lines.append(
            f"{name:30} {page['p50_ms']:7.1f} {page['p95_ms']:7.1f} {page['max_ms']:7.1f}  {within}"
        )
    return "\n".join(lines)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="task rows (default 100000)")
    common.add_servers(parser)
    parser.add_argument(
        "--scratch-prefix",
        default="podrunner_bench",
        help="start of the scratch database's name (default podrunner_bench)",
    )
    common.add_common(parser, runs=20)
    args = common.parse(parser, argv, {"rows": 2000, "runs": 3})
    figures = run(args)
    print(report(figures))
    common.write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The whole pipeline, end to end, and the services' memory (a benchmark, not a test).

    python -m tests.benchmarks.bench_pipeline [--tasks 10000] [--large-tasks 100000]
        [--memory-pods 100000] [--submit bulk|queue|intake|http] [--runs 3] [--quick] [--json PATH]

The unit benchmarks each time one service on its own; what a user waits for is the sum, with the
three services sharing the machine's cores, Redis and Postgres. So this runs what a deployment
runs: a scratch database migrated to head (dropped at the end), kubesim in simulate mode with
instant pods (annotation `run-seconds: 0`), and `podrunner launcher`, `watcher` and `reconciler`
as processes under a unique instance name. Then:

* the pipeline: `--tasks` jobs submitted as fast as the system accepts them, until every row is
  terminal. The API has no bulk endpoint, and intake (`podrunner submit`, `POST /api/v1/jobs`)
  costs a transaction and a publish per job; so by default (`--submit bulk`) jobs go in chunks
  of 500 in intake's order: the rows written as intake writes them, one INSERT,
  then the jobs published over one broker connection. `--submit queue` publishes straight to the
  kombu queue (the reconciler writes each row from its launch event; with instant
  pods a pod's events can be applied before its launch event, find no row, and leave the row
  queued until the drift scan), `intake` calls intake from a thread pool and `http` posts to the
  API from a thread pool. Reports the wall
  time (first submit to the last terminal commit), tasks/s, p50/p99 of submit -> terminal per task
  (from when its job was accepted to the row's `updated_at` in the commit that made it terminal),
  and each process's peak RSS. With `--large-tasks`, the same again at that size when the first
  run projects it within `--large-budget-s`;
* memory with pods tracked: kubesim filled with `--memory-pods` long-running pods rendered as
  the launcher renders them (rows written as intake does), then the watcher lists and tracks them
  and the reconciler applies their events and sweeps them; reports both peaks.

Peak RSS is the larger of VmRSS sampled every 0.2 s and the kernel's VmHWM. Progress goes to
stderr every 2 s. The launch rate limit (`PODRUNNER_LAUNCH_QPS`, a courtesy to a real API server)
is lifted so the figure is the pipeline's; everything else is the services' default.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import redis
import sqlalchemy
from sqlalchemy.engine import URL

from shared import intake
from shared.db import engines, queueing
from shared.db.keys import TABLE
from shared.db.models import TaskState
from shared.k8s.rendering import RenderSettings, render_pod
from shared.k8s.template_files import Templates
from shared.messages import Job
from shared.messaging.jobqueue import BrokerSettings, JobQueue
from tests.benchmarks import common
from tests.support import builders
from tests.support.kubesim import KubesimProcess, free_port, start_kubesim
from tests.support.scratch import scratch_database
from tests.support.services import API_HEADERS, API_TOKEN

#: One namespace (so one job queue) per benchmark process: runs by others sharing Redis stay apart.
NAMESPACE = f"bench-{uuid.uuid4().hex[:8]}"
DAG_ID = "bench"
SERVICES = ("launcher", "watcher", "reconciler")
TERMINAL = (TaskState.SUCCESS.value, TaskState.FAILED.value)
#: Pods that finish at once (the pipeline) or run for the whole memory phase.
INSTANT = {"kubesim.podrunner.io/run-seconds": "0"}
LONG_RUNNING = {"kubesim.podrunner.io/run-seconds": "3600"}
TARGET_WALL_S = 60.0
TARGET_RSS_MB = 150.0
#: No row changing state for this long means the pipeline is stuck, not slow.
STALL_S = 90.0
PROGRESS_EVERY_S = 2.0
SAMPLE_EVERY_S = 0.2
READY_TIMEOUT_S = 60.0
ROW_CHUNK = 5_000


def progress(message: str) -> None:
    print(f"[bench-pipeline] {message}", file=sys.stderr, flush=True)


# --- the scratch database and the processes ----------------------------------------------------


@dataclass
class Stack:
    """Service processes sharing one environment, each with its health app on a free port."""

    env: dict[str, str]
    workdir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    def start(self, *names: str) -> None:
        for name in names:
            self.ports[name] = free_port()
            env = {**self.env, "PODRUNNER_HEALTH_PORT": str(self.ports[name])}
            with (self.workdir / f"{name}.log").open("ab") as log:
                self.processes[name] = subprocess.Popen(
                    [sys.executable, "-m", "services.cli", name],
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        for name in names:
            self._wait_ready(name)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def stop(self) -> None:
        """SIGTERM to all, SIGKILL to any still there after 30 s."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"the {name} exited ({process.returncode}); {self._tail(name)}")

    def _wait_ready(self, name: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            self.check_alive()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url(name)}/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the {name} was not ready in {READY_TIMEOUT_S:.0f}s")

    def _tail(self, name: str) -> str:
        lines = (self.workdir / f"{name}.log").read_text(errors="replace").splitlines()
        return "last log lines: " + " | ".join(lines[-5:])


def service_env(sim: KubesimProcess, redis_url: str, database: URL, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "KUBECONFIG": str(sim.kubeconfig),
        "PODRUNNER_REDIS_URL": redis_url,
        "PODRUNNER_DATABASE_URL": database.render_as_string(hide_password=False),
        "PODRUNNER_INSTANCE": f"bench{uuid.uuid4().hex[:8]}",
        "PODRUNNER_NAMESPACE": NAMESPACE,
        "PODRUNNER_NAMESPACES": NAMESPACE,
        "PODRUNNER_HEALTH_HOST": "127.0.0.1",
        "PODRUNNER_LAUNCH_QPS": "100000",
        "PODRUNNER_API_TOKEN": API_TOKEN,
        **extra,
    }


class PeakRss:
    """Samples the resident memory of named processes in a thread; keeps each one's peak."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self._pids = dict(pids)
        self.peak_mb = dict.fromkeys(self._pids, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            self._sample()

    def _sample(self) -> None:
        for name, pid in self._pids.items():
            now = max(common.rss_mb(pid), common.rss_mb(pid, "VmHWM"))
            self.peak_mb[name] = max(self.peak_mb[name], now)


@contextlib.contextmanager
def redis_keys_deleted(redis_url: str, instance: str) -> Iterator[None]:
    """The instance's keys, the namespace's job queue and its binding are deleted at the end."""
    try:
        yield
    finally:
        client = redis.Redis.from_url(redis_url)
        try:
            common.delete_run_keys(client, instance, NAMESPACE)
        finally:
            client.close()


# --- the pipeline ------------------------------------------------------------------------------


def bench_job(n: int, run_id: str, behaviour: Mapping[str, str]) -> Job:
    return builders.job(
        dag_id=DAG_ID,
        task_id=f"t{n}",
        run_id=run_id,
        namespace=NAMESPACE,
        command=["true"],
        annotations=dict(behaviour),
    )


#: Jobs per `JobQueue.publish` call (one broker connection each) when submitting to the queue.
PUBLISH_CHUNK = 500


@dataclass(frozen=True)
class Submitted:
    """How long submitting took, and when each task's job was accepted (epoch seconds)."""

    seconds: float
    accepted: dict[str, float]


class Submitter:
    """Submits jobs as fast as they are accepted, by one of four paths (`--submit`):

    * `bulk`: intake's order, in chunks: the chunk's rows written as intake writes them (one
      INSERT), then its jobs published (one broker connection);
    * `queue`: straight to the kombu queue in chunks, as any program may (the
      reconciler writes each row from the launch event, which carries the job);
    * `intake`: `intake.submit` (row, then queue) from a thread pool, as `podrunner submit` does;
    * `http`: `POST /api/v1/jobs` to the reconciler from a thread pool.
    """

    def __init__(self, args: argparse.Namespace, engine: sqlalchemy.Engine, api_url: str) -> None:
        self._how = args.submit
        self._threads = args.submitters
        self._engine = engine
        self._broker = BrokerSettings(args.redis_url)
        self._api_url = api_url
        self._local = threading.local()

    def run(self, jobs: list[Job]) -> Submitted:
        started = time.perf_counter()
        if self._how in ("bulk", "queue"):
            accepted = self._publish(jobs, rows_first=self._how == "bulk")
        else:
            with ThreadPoolExecutor(self._threads, thread_name_prefix="submit") as pool:
                accepted = dict(pool.map(self._one, jobs))
        return Submitted(time.perf_counter() - started, accepted)

    def _publish(self, jobs: list[Job], *, rows_first: bool) -> dict[str, float]:
        queue, accepted = JobQueue(self._broker), {}
        for start in range(0, len(jobs), PUBLISH_CHUNK):
            chunk = jobs[start : start + PUBLISH_CHUNK]
            if rows_first:
                insert_rows(self._engine, chunk)
            queue.publish((job, NAMESPACE) for job in chunk)
            accepted.update(dict.fromkeys((job.task_id for job in chunk), time.time()))
        return accepted

    def _one(self, job: Job) -> tuple[str, float]:
        if self._how == "http":
            client = self._thread_own(
                "client", lambda: httpx.Client(timeout=30, headers=API_HEADERS)
            )
            response = client.post(f"{self._api_url}/api/v1/jobs", json=job.to_dict())
            if response.status_code not in (201, 202):
                raise RuntimeError(f"submit refused: {response.status_code} {response.text[:200]}")
        else:
            queue = self._thread_own("queue", lambda: JobQueue(self._broker))
            intake.submit(self._engine, queue, job, default_namespace=NAMESPACE)
        return job.task_id, time.time()

    def _thread_own(self, name: str, make: Callable[[], Any]) -> Any:
        if not hasattr(self._local, name):
            setattr(self._local, name, make())
        return getattr(self._local, name)


def failed_if_failed(future: Future[Any]) -> Callable[[], None]:
    """A check raising the exception of `future` once it has one."""

    def check() -> None:
        if future.done():
            future.result()

    return check


def states(engine: sqlalchemy.Engine) -> dict[str, int]:
    query = sqlalchemy.text("SELECT state, count(*) FROM task_instance GROUP BY state")
    with engine.connect() as connection:
        return {str(state): int(count) for state, count in connection.execute(query)}


@dataclass
class Waiting:
    """Polls the rows until `total` are terminal, with a progress line every 2 s."""

    engine: sqlalchemy.Engine
    stack: Stack
    total: int
    timeout_s: float
    done_when: Callable[[dict[str, int]], int] = lambda found: sum(
        found.get(state, 0) for state in TERMINAL
    )
    check: Callable[[], None] = lambda: None

    def run(self, started: float) -> bool:
        """True when all are done, False when time ran out; raises when stalled."""
        last_report = last_change = time.perf_counter()
        last_done = reported_done = 0
        while True:
            found = states(self.engine)
            done, now = self.done_when(found), time.perf_counter()
            if done >= self.total:
                return True
            if done != last_done:
                last_done, last_change = done, now
            self._give_up_if_stuck(now, started, last_change)
            if now - started > self.timeout_s:
                return False
            if now - last_report >= PROGRESS_EVERY_S:
                rate = (done - reported_done) / (now - last_report)
                progress(f"{now - started:5.0f}s {self._line(found)}; {rate:,.0f}/s")
                last_report, reported_done = now, done
            time.sleep(0.25)

    def _give_up_if_stuck(self, now: float, started: float, last_change: float) -> None:
        self.stack.check_alive()
        self.check()
        if now - last_change > STALL_S:
            raise RuntimeError(f"no row finished for {STALL_S:.0f}s after {now - started:.0f}s")

    def _line(self, found: dict[str, int]) -> str:
        parts = [f"{state} {count:,}" for state, count in sorted(found.items())]
        return f"{sum(found.values()):,}/{self.total:,} rows: " + ", ".join(parts)


@dataclass(frozen=True)
class Timings:
    """Each task's submit -> terminal (sorted), and when the last row became terminal."""

    latencies_s: list[float]
    last_terminal: float


def timings(engine: sqlalchemy.Engine, accepted: dict[str, float]) -> Timings:
    """From each job's acceptance to the commit that made its row terminal (`updated_at`)."""
    query = sqlalchemy.text(
        "SELECT task_id, EXTRACT(EPOCH FROM updated_at)::float8 AS ended "
        "FROM task_instance WHERE state IN ('success', 'failed')"
    )
    with engine.connect() as connection:
        ended = {str(row.task_id): float(row.ended) for row in connection.execute(query)}
    waits = sorted(at - accepted[task] for task, at in ended.items())
    return Timings(waits, max(ended.values()))


def percentile(ordered: list[float], percent: float) -> float:
    """Nearest-rank percentile of the sorted `ordered`."""
    rank = max(1, -(-int(percent * len(ordered)) // 100))
    return ordered[min(rank, len(ordered)) - 1]


def pipeline_run(args: argparse.Namespace, tasks: int, label: str) -> dict[str, Any]:
    """One end-to-end run of `tasks` tasks on a fresh database, kubesim and services."""
    with contextlib.ExitStack() as cleanup:
        workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        database = cleanup.enter_context(scratch_database(args.database_url, say=progress))
        sim = start_kubesim(workdir, "--namespace", NAMESPACE, "--history-limit", "20000")
        cleanup.callback(sim.stop)
        env = service_env(sim, args.redis_url, database)
        cleanup.enter_context(redis_keys_deleted(args.redis_url, env["PODRUNNER_INSTANCE"]))
        stack = Stack(env, workdir)
        cleanup.callback(stack.stop)
        stack.start(*SERVICES)
        engine = engines.make_engine(database, pool_size=args.submitters + 2)
        cleanup.callback(engine.dispose)
        pids = {name: process.pid for name, process in stack.processes.items()}
        with PeakRss({**pids, "kubesim": sim.process.pid}) as rss:
            figures = _drive(args, engine, stack, tasks, label)
        return {**figures, "peak_rss_mb": {k: round(v, 1) for k, v in rss.peak_mb.items()}}


def _drive(
    args: argparse.Namespace, engine: sqlalchemy.Engine, stack: Stack, tasks: int, label: str
) -> dict[str, Any]:
    jobs = [bench_job(n, label, INSTANT) for n in range(tasks)]
    submitter = Submitter(args, engine, stack.url("reconciler"))
    progress(f"{label}: submitting {tasks:,} tasks ({args.submit})")
    started_wall, started = time.time(), time.perf_counter()
    with ThreadPoolExecutor(1, thread_name_prefix="submitting") as submitting:
        submitted = submitting.submit(submitter.run, jobs)
        waiting = Waiting(engine, stack, tasks, args.timeout_s, check=failed_if_failed(submitted))
        finished = waiting.run(started)
    if not finished:
        return {"tasks": tasks, "completed": False, "states": states(engine)}
    found = timings(engine, submitted.result().accepted)
    wall = found.last_terminal - started_wall
    progress(f"{label}: {tasks:,} terminal in {wall:.1f}s ({tasks / wall:,.0f} tasks/s)")
    return {
        "tasks": tasks,
        "completed": True,
        "submit": args.submit,
        "submit_seconds": round(submitted.result().seconds, 2),
        "wall_s": round(wall, 2),
        "tasks_per_s": round(tasks / wall, 1),
        "p50_s": round(percentile(found.latencies_s, 50), 3),
        "p99_s": round(percentile(found.latencies_s, 99), 3),
        "states": states(engine),
    }


# --- memory with many pods tracked -------------------------------------------------------------


def memory_run(args: argparse.Namespace) -> dict[str, Any]:
    """kubesim holding `--memory-pods` running pods; the watcher and reconciler tracking them."""
    pods = args.memory_pods
    with contextlib.ExitStack() as cleanup:
        workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        database = cleanup.enter_context(scratch_database(args.database_url, say=progress))
        sim = start_kubesim(workdir, "--namespace", NAMESPACE, "--history-limit", "10000")
        cleanup.callback(sim.stop)
        sweeps = {"PODRUNNER_SWEEP_INTERVAL_S": str(args.sweep_interval_s)}
        env = service_env(sim, args.redis_url, database, **sweeps)
        cleanup.enter_context(redis_keys_deleted(args.redis_url, env["PODRUNNER_INSTANCE"]))
        engine = engines.make_engine(database)
        cleanup.callback(engine.dispose)
        jobs = [bench_job(n, "memory", LONG_RUNNING) for n in range(pods)]
        _fill(engine, sim, env["PODRUNNER_INSTANCE"], jobs)
        stack = Stack(env, workdir)
        cleanup.callback(stack.stop)
        started = time.perf_counter()
        stack.start("watcher", "reconciler")
        pids = {name: process.pid for name, process in stack.processes.items()}
        with PeakRss({**pids, "kubesim": sim.process.pid}) as rss:
            tracked = _track(args, engine, stack, pods, started)
        peaks = {name: round(mb, 1) for name, mb in rss.peak_mb.items()}
        progress(f"memory: peak RSS with {pods:,} pods tracked: {peaks}")
        return {"pods": pods, "all_running": tracked, "peak_rss_mb": peaks}


def _track(
    args: argparse.Namespace, engine: sqlalchemy.Engine, stack: Stack, pods: int, started: float
) -> bool:
    """Wait for every row to follow its pod to `running`, then for two rounds of sweeps."""
    waiting = Waiting(
        engine, stack, pods, args.timeout_s, done_when=lambda found: found.get("running", 0)
    )
    tracked = waiting.run(started)
    progress(f"memory: {pods:,} rows running after {time.perf_counter() - started:.0f}s")
    time.sleep(2 * args.sweep_interval_s + 2)  # two rounds of sweeps over every pod and row
    stack.check_alive()
    return tracked


def _fill(engine: sqlalchemy.Engine, sim: KubesimProcess, instance: str, jobs: list[Job]) -> None:
    """Rows as intake writes them, and the launcher's pods, created straight in kubesim."""
    progress(f"memory: writing {len(jobs):,} rows and creating their pods")
    insert_rows(engine, jobs)
    settings = RenderSettings(instance, NAMESPACE, "busybox:1.37")
    templates = Templates()
    bodies = [orjson.dumps(render_pod(job, settings=settings, templates=templates)) for job in jobs]
    started = time.perf_counter()
    asyncio.run(create_pods(sim.url, bodies, connections=32))
    rate = len(bodies) / (time.perf_counter() - started)
    progress(f"memory: {len(bodies):,} pods created ({rate:,.0f}/s)")


def insert_rows(engine: sqlalchemy.Engine, jobs: list[Job]) -> None:
    """The rows of `jobs`, `queued`, as intake writes them (none of them has a row yet)."""
    now = datetime.now(UTC)
    rows = [queueing.queued_row(job, NAMESPACE, at=now) for job in jobs]
    with engine.begin() as connection:
        for start in range(0, len(rows), ROW_CHUNK):
            connection.execute(sqlalchemy.insert(TABLE), rows[start : start + ROW_CHUNK])


async def create_pods(url: str, bodies: list[bytes], *, connections: int) -> None:
    """POST each body over `connections` keep-alive connections with a minimal HTTP client
    (httpx would spend more CPU than kubesim does)."""
    host, port = url.removeprefix("http://").split(":")
    head = (
        f"POST /api/v1/namespaces/{NAMESPACE}/pods HTTP/1.1\r\nHost: {host}\r\n"
        "Content-Type: application/json\r\n"
    )

    async def connection(offset: int) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        for body in bodies[offset::connections]:
            writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
            status = await common.read_response(reader)
            if b" 201 " not in status:
                raise RuntimeError(f"kubesim refused a pod: {status!r}")
        writer.close()
        await writer.wait_closed()

    await asyncio.gather(*(connection(n) for n in range(connections)))


# --- the report --------------------------------------------------------------------------------


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median wall time, with every run's wall time beside it."""
    done = sorted((run for run in runs if run.get("completed")), key=lambda run: run["wall_s"])
    if not done:
        return runs[0]
    middle = done[(len(done) - 1) // 2]
    return {**middle, "runs_wall_s": [run["wall_s"] for run in done]}


def pipeline(args: argparse.Namespace) -> dict[str, Any]:
    runs = [pipeline_run(args, args.tasks, f"run{n}") for n in range(1, args.runs + 1)]
    figures: dict[str, Any] = {
        "benchmark": "pipeline",
        "runs": args.runs,
        "target_wall_s": TARGET_WALL_S,
        "target_rss_mb": TARGET_RSS_MB,
        "large_budget_s": args.large_budget_s,
        "pipeline": median_run(runs),
    }
    figures["large"] = _large(args, figures["pipeline"])
    if args.memory_pods:
        figures["memory"] = memory_run(args)
    return figures


def _large(args: argparse.Namespace, small: dict[str, Any]) -> dict[str, Any] | None:
    """The `--large-tasks` run, when the first run projects it within the budget."""
    if not args.large_tasks:
        return None
    if not small.get("completed"):
        return {"tasks": args.large_tasks, "completed": False, "skipped": "the first run failed"}
    projected = small["wall_s"] * args.large_tasks / small["tasks"]
    if projected > args.large_budget_s:
        reason = f"projected {projected:.0f}s > budget {args.large_budget_s:.0f}s"
        progress(f"large run skipped: {reason}")
        return {"tasks": args.large_tasks, "completed": False, "skipped": reason}
    large = argparse.Namespace(**{**vars(args), "timeout_s": args.large_budget_s})
    return pipeline_run(large, args.large_tasks, "large")


def report(figures: dict[str, Any]) -> None:
    print(
        "pipeline benchmark: all three services as processes, kubesim simulate mode, instant pods"
    )
    targets = {"pipeline": TARGET_WALL_S, "large": figures["large_budget_s"]}
    for name, target_s in targets.items():
        run = figures.get(name)
        if run:
            _report_run(run, target_s)
    memory = figures.get("memory")
    if memory:
        peaks = ", ".join(f"{k} {v:,.0f} MB" for k, v in memory["peak_rss_mb"].items())
        print(f"  peak RSS with {memory['pods']:,} pods tracked: {peaks}")


def _report_run(run: dict[str, Any], target_s: float) -> None:
    if not run.get("completed"):
        print(
            f"  {run['tasks']:,} tasks: not completed ({run.get('skipped') or run.get('states')})"
        )
        return
    print(
        f"  {run['tasks']:,} tasks ({run['submit']} submit, {run['submit_seconds']:.1f}s): "
        f"wall {run['wall_s']:.1f}s (target <= {target_s:.0f}s), "
        f"{run['tasks_per_s']:,.0f} tasks/s, "
        f"submit -> terminal p50 {run['p50_s']:.2f}s p99 {run['p99_s']:.2f}s"
    )
    peaks = ", ".join(f"{k} {v:,.0f} MB" for k, v in run["peak_rss_mb"].items())
    print(f"    peak RSS: {peaks} (target <= {TARGET_RSS_MB:.0f} MB per service)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--large-tasks", type=int, default=0, help="e.g. 100000; 0: none")
    parser.add_argument("--large-budget-s", type=float, default=900.0)
    parser.add_argument("--memory-pods", type=int, default=100_000, help="0: no memory phase")
    parser.add_argument("--submit", choices=["bulk", "queue", "intake", "http"], default="bulk")
    parser.add_argument("--submitters", type=int, default=8, help="threads for intake or http")
    parser.add_argument("--timeout-s", type=float, default=600.0)
    parser.add_argument(
        "--sweep-interval-s", type=float, default=5.0, help="the reconciler's, in the memory phase"
    )
    common.add_servers(parser)
    common.add_common(parser, runs=3)
    args = common.parse(
        parser,
        argv,
        {
            "runs": 1,
            "tasks": 200,
            "memory_pods": 500,
            "timeout_s": 120.0,
            "sweep_interval_s": 1.0,
        },
    )
    figures = pipeline(args)
    report(figures)
    common.write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One demo run from start to finish: servers, kubesim, services, tasks, verdict, clean-up.

Everything started goes onto one `ExitStack`, so the services, kubesim and any embedded servers
stop in reverse order however the run ends: done, failed, Ctrl-C or SIGTERM. Each run has its own
podrunner instance name and run id, so a shared Redis and Postgres are safe to use.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from services.demo import embedded, report, stack
from services.demo.client import ApiClient, ApiFailed
from services.demo.progress import Progress
from services.demo.states import count_by_state
from services.demo.tasks import DAG_ID, KINDS, DemoTask, demo_tasks, job
from shared.db import engines, migrating
from shared.db.engines import Engine
from shared.k8s.podsecurity import allowlists
from shared.redaction import redact_url
from shared.settings import Settings

TERMINAL = frozenset({"success", "failed"})
#: How long the demo waits for its tasks: a base plus a little per task.
WAIT_BASE_S, WAIT_PER_TASK_S = 120.0, 0.1
SUBMITTERS = 8
#: Unfinished pods at once (unless PODRUNNER_MAX_ACTIVE_PODS says otherwise). In process mode every
#: pod is a real process on this machine, and kubesim forks each one from its event loop: a burst
#: of a thousand starts stalls its API for seconds, so the demo keeps bursts small.
MAX_ACTIVE_PODS = "100"
LOG_LINES = 5


@dataclass(frozen=True)
class Options:
    tasks: int
    report: Path | None = None
    redis_url: str | None = None
    database_url: str | None = None
    api_token: str | None = None
    namespace: str = "demo"
    #: Keep everything running after the tasks ended, until Ctrl-C or SIGTERM.
    keep: bool = False


@dataclass(frozen=True)
class Stack:
    """What is running for the demo, and where."""

    instance: str
    workdir: Path
    kubesim: stack.Kubesim
    services: dict[str, stack.Service]
    database: Engine


def run(options: Options, out: TextIO = sys.stdout) -> int:
    """Run the demo; 0 when every task ended as expected, 1 otherwise (or when interrupted).

    Raises:
        embedded.Unavailable: no URLs were given and the embedded servers are not installed.
    """
    if not (options.redis_url and options.database_url):
        embedded.check_available()
    # the demo's API is closed like any other: it makes up its own token unless given one
    options = dataclasses.replace(options, api_token=options.api_token or secrets.token_urlsafe(32))
    instance = f"demo-{secrets.token_hex(4)}"
    workdir = Path(tempfile.mkdtemp(prefix=f"podrunner-{instance}-"))
    print(f"podrunner demo: {options.tasks} tasks, instance {instance}", file=out)
    try:
        with _interrupted_by_sigterm(), contextlib.ExitStack() as resources:
            code = _run(options, instance, workdir, resources, out)
    except KeyboardInterrupt:
        print("\ninterrupted: everything the demo started has been stopped", file=out)
        return report.EXIT_UNEXPECTED
    except (stack.StartFailed, ApiFailed) as error:
        print(f"podrunner demo: {error}", file=out)
        return report.EXIT_UNEXPECTED
    print(_afterwards(workdir, options), file=out)
    return code


def _run(
    options: Options, instance: str, workdir: Path, resources: contextlib.ExitStack, out: TextIO
) -> int:
    began = time.monotonic()
    running = _start(options, instance, workdir, resources, out)
    print(f"started in {time.monotonic() - began:.1f}s", file=out)
    _where(running, _keep_token(workdir, options.api_token or ""), out)
    tasks = demo_tasks(options.tasks)
    client = ApiClient(running.services["reconciler"].url, token=options.api_token)
    submitted_at = time.monotonic()
    rows = _submit_and_wait(
        client,
        running.database,
        tasks=tasks,
        run_id=instance,
        namespace=options.namespace,
        resources=resources,
        out=out,
    )
    wall_s = time.monotonic() - submitted_at
    outcomes = _outcomes(client, tasks, instance, rows)
    _show(outcomes, out)
    print(f"throughput: {report.throughput(len(tasks), wall_s)} (submit to last result)", file=out)
    if options.report is not None:
        report.write_json(options.report, outcomes)
    verdict = _verdict(outcomes, out)
    if options.keep:
        _keep_running(running, out)
    return verdict


def _keep_running(running: Stack, out: TextIO) -> None:
    """Wait, with everything running, until Ctrl-C or SIGTERM (see `_interrupted_by_sigterm`)."""
    dashboard = f"{running.services['reconciler'].url}/ui/"
    print(f"--keep: everything keeps running; the dashboard: {dashboard}", file=out)
    print("press Ctrl-C to stop", file=out, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nstopping", file=out)


def _start(
    options: Options, instance: str, workdir: Path, resources: contextlib.ExitStack, out: TextIO
) -> Stack:
    redis_url = options.redis_url or _embedded(
        resources, embedded.redis, workdir / "redis", "PODRUNNER_REDIS_URL", out
    )
    database_url = options.database_url or _embedded(
        resources, embedded.postgres, workdir / "postgres", "PODRUNNER_DATABASE_URL", out
    )
    print(f"redis {redact_url(redis_url)}, postgres {redact_url(database_url)}", file=out)
    migrating.upgrade(database_url)
    sim = resources.enter_context(stack.kubesim(workdir, options.namespace))
    env = _service_env(options, instance, sim, redis_url, database_url)
    services = resources.enter_context(stack.services(env, workdir))
    return Stack(instance, workdir, sim, services, _engine(resources, database_url))


def _engine(resources: contextlib.ExitStack, database_url: str) -> Engine:
    engine = engines.make_engine(database_url, pool_size=1)
    resources.callback(engine.dispose)
    return engine


def _embedded(
    resources: contextlib.ExitStack, server: Any, directory: Path, variable: str, out: TextIO
) -> str:
    print(f"starting an embedded {directory.name} (no {variable} given)", file=out)
    directory.mkdir()
    return str(resources.enter_context(server(directory)))


def _service_env(
    options: Options, instance: str, sim: stack.Kubesim, redis_url: str, database_url: str
) -> dict[str, str]:
    keep_pods = options.tasks <= report.TABLE_LIMIT  # so every task's log can still be read
    return {
        **os.environ,
        "KUBECONFIG": str(sim.kubeconfig),
        "PODRUNNER_REDIS_URL": redis_url,
        "PODRUNNER_DATABASE_URL": database_url,
        "PODRUNNER_INSTANCE": instance,
        "PODRUNNER_NAMESPACE": options.namespace,
        "PODRUNNER_NAMESPACES": options.namespace,
        "PODRUNNER_HEALTH_HOST": "127.0.0.1",
        "PODRUNNER_LOG_FORMAT": "console",
        "PODRUNNER_API_AUTH": "token",
        "PODRUNNER_API_TOKEN": options.api_token or "",
        "PODRUNNER_DELETE_WORKER_PODS": "false" if keep_pods else "true",
        "PODRUNNER_MAX_ACTIVE_PODS": os.environ.get("PODRUNNER_MAX_ACTIVE_PODS", MAX_ACTIVE_PODS),
        "PODRUNNER_JOB_IMAGES": os.environ.get("PODRUNNER_JOB_IMAGES", _job_images()),
    }


def _job_images() -> str:
    """The images a job may name: the worker image's repository, as by default, and the images
    the demo's tasks name (the unpullable one must reach the kubelet to fail there)."""
    worker = os.environ.get("PODRUNNER_WORKER_IMAGE", Settings.model_fields["worker_image"].default)
    named = [kind.image for kind in KINDS if kind.image]
    return ",".join([*allowlists.image_patterns_for(worker), *named])


def _keep_token(workdir: Path, token: str) -> Path:
    """Write the API token to a file only its owner reads, so it is shown nowhere."""
    path = workdir / "api-token"
    path.touch(mode=0o600)
    path.write_text(token)
    return path


def _where(running: Stack, token_file: Path, out: TextIO) -> None:
    api = running.services["reconciler"].url
    lines = [
        f"  kubesim (process mode: pods run here as subprocesses): {running.kubesim.url}",
        f"  tasks:   {api}/api/v1/tasks?run_id={running.instance}   (API docs: {api}/docs)",
        f'           curl -H "Authorization: Bearer $(cat {token_file})" ...',
        "  metrics: " + "  ".join(f"{s.name} {s.url}/metrics" for s in running.services.values()),
        f"  dashboard: {api}/ui/   (it asks for the API token above)",
        f"  logs:    {running.workdir}/",
        "  (these URLs answer while the demo runs; everything stops when it ends, or with --keep"
        " when you press Ctrl-C)",
    ]
    print("\n".join(lines), file=out)


def _submit_and_wait(
    client: ApiClient,
    database: Engine,
    *,
    tasks: Sequence[DemoTask],
    run_id: str,
    namespace: str,
    resources: contextlib.ExitStack,
    out: TextIO,
) -> list[dict[str, Any]]:
    print(f"submitting {len(tasks)} tasks through POST /api/v1/jobs", file=out)
    pool = ThreadPoolExecutor(SUBMITTERS, thread_name_prefix="demo-submit")
    resources.callback(pool.shutdown, wait=True, cancel_futures=True)
    python = sys.executable
    futures = [
        pool.submit(client.submit, job(task, run_id=run_id, namespace=namespace, python=python))
        for task in tasks
    ]
    _wait(database, run_id, futures, out)
    _report_refusals(futures, out)
    return client.tasks(run_id)


def _wait(database: Engine, run_id: str, futures: Sequence[Future[None]], out: TextIO) -> None:
    """Poll the run's counts until every accepted task is final, showing progress meanwhile."""
    progress = Progress(out, len(futures))
    deadline = time.monotonic() + WAIT_BASE_S + WAIT_PER_TASK_S * len(futures)
    try:
        while True:
            counts = count_by_state(database, run_id)
            progress.show(counts)
            if _all_final(counts, futures) or time.monotonic() > deadline:
                return
            time.sleep(0.25)
    finally:
        progress.finish()


def _all_final(counts: dict[str, int], futures: Sequence[Future[None]]) -> bool:
    if not all(future.done() for future in futures):
        return False
    accepted = sum(future.exception() is None for future in futures)
    final = sum(counts.get(state, 0) for state in TERMINAL)
    return final >= accepted and final == sum(counts.values())


def _report_refusals(futures: Sequence[Future[None]], out: TextIO) -> None:
    errors = [f.exception() for f in futures if f.done() and f.exception() is not None]
    for error in errors[:5]:
        print(f"  refused: {error}", file=out)
    if len(errors) > 5:
        print(f"  ... {len(errors)} jobs refused in all", file=out)


def _outcomes(
    client: ApiClient, tasks: Sequence[DemoTask], run_id: str, rows: Sequence[dict[str, Any]]
) -> list[report.Outcome]:
    by_key = {(row["task_id"], row["map_index"]): row for row in rows}
    with_logs = len(tasks) <= report.TABLE_LIMIT
    outcomes = []
    for task in tasks:
        row = by_key.get((task.task_id, task.map_index), {})
        log = _log(client, (DAG_ID, task.task_id, run_id, task.map_index)) if with_logs else ""
        outcome = report.Outcome(task, run_id, row.get("state"), row.get("failure_reason"), log)
        outcomes.append(outcome)
    return outcomes


def _log(client: ApiClient, key: tuple[str, str, str, int]) -> str:
    try:
        return client.log(key, lines=LOG_LINES)
    except ApiFailed:
        return ""


def _show(outcomes: Sequence[report.Outcome], out: TextIO) -> None:
    if len(outcomes) <= report.TABLE_LIMIT:
        lines = report.table(outcomes)
    else:
        lines = ["tasks by final state and reason:", *report.summary(outcomes)]
    print("\n".join(lines), file=out)


def _verdict(outcomes: Sequence[report.Outcome], out: TextIO) -> int:
    code = report.exit_code(outcomes)
    if code == report.EXIT_AS_EXPECTED:
        print(f"all {len(outcomes)} tasks ended as expected", file=out)
    else:
        wrong = report.unexpected(outcomes)
        print("tasks that did not end as expected:", *wrong, sep="\n  ", file=out)
    return code


def _afterwards(workdir: Path, options: Options) -> str:
    kept = "" if options.database_url is None else " (the rows stay in the given Postgres)"
    return f"stopped the services, kubesim and any embedded servers{kept}; logs in {workdir}/"


@contextlib.contextmanager
def _interrupted_by_sigterm() -> Iterator[None]:
    """SIGTERM ends the demo as Ctrl-C does, so the clean-up runs either way."""

    def interrupt(_signal: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

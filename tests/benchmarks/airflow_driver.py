"""One Airflow "scheduler" handing task instances to an executor, timed (run by `bench_airflow`).

    python tests/benchmarks/airflow_driver.py --tasks N --json PATH [--max-tis-per-loop 16]

The same script drives Airflow's own KubernetesExecutor (in a virtual environment of its own:
its provider needs an older Kubernetes client than podrunner) and podrunner's executor, so it
imports Airflow (with SQLAlchemy, in which Airflow's models are queried) and the standard library
only. Everything else comes from the environment, as a scheduler's settings do: the metadata
database, `[core] executor`, the executor's own section.

It prepares an empty metadata database the way a deployment would (`airflow db migrate`, the
DAG file parsed by `airflow dags reserialize`, a run triggered by `airflow dags trigger`), marks
the run's N task instances scheduled, and then loops as the scheduler's critical section does:
up to `--max-tis-per-loop` task instances (as many as the executor has slots for) set `queued`
in one UPDATE, made into `ExecuteTask` workloads and handed over with `queue_workload`; then
`heartbeat()` (which submits and calls `sync()`); then the event buffer is drained. A loop that
handed nothing over and saw no event sleeps `--idle-sleep-s`, as the scheduler idles. A task
counts as ended when an event arrives for it and the executor no longer holds it as running.

Measured from the first hand-over to the last end: wall time, the CPU time of this process (all
its threads) and of its child processes (the KubernetesExecutor's watcher and queue manager), and,
apart, the CPU of the driver's own share (querying, updating, building workloads), which is the
same for every executor. The JSON written holds these and the ends counted by state.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow.configuration import conf
from airflow.executors import workloads
from airflow.executors.executor_loader import ExecutorLoader
from airflow.jobs.job import Job
from airflow.models.dagrun import DagRun
from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session
from airflow.utils.state import DagRunState, TaskInstanceState
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload, make_transient

DAG_ID = "podrunner_bench"
RUN_ID = "bench"
DAG_FILE = '''"""The benchmark's DAG: {tasks} independent tasks (their pods' behaviour comes
from the pod template, so the command is never run)."""
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG("{dag_id}", schedule=None, catchup=False):
    for n in range({tasks}):
        BashOperator(task_id=f"t{{n:05d}}", bash_command="true")
'''
PROGRESS_EVERY_S = 2.0


def say(message: str) -> None:
    print(f"[airflow-driver] {message}", file=sys.stderr, flush=True)


# --- preparing the metadata database ------------------------------------------------------------


def airflow_cli(*args: str) -> None:
    """Run `airflow ARGS` with this interpreter; its output goes to our stderr."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "airflow", *args],
        check=True,
        stdout=sys.stderr,
        stdin=subprocess.DEVNULL,
    )
    say(f"airflow {' '.join(args)}: {time.perf_counter() - started:.1f}s")


def prepare(tasks: int) -> None:
    """A migrated database holding the DAG and one run of it, its task instances scheduled."""
    dags = Path(conf.get("core", "dags_folder"))
    dags.mkdir(parents=True, exist_ok=True)
    (dags / f"{DAG_ID}.py").write_text(DAG_FILE.format(dag_id=DAG_ID, tasks=tasks))
    airflow_cli("db", "migrate")
    airflow_cli("dags", "reserialize")
    airflow_cli("dags", "trigger", DAG_ID, "--run-id", RUN_ID)
    with create_session() as session:
        # what the scheduler does first: the run starts, its task instances are scheduled (try 1)
        session.execute(
            update(DagRun).where(DagRun.dag_id == DAG_ID).values(state=DagRunState.RUNNING)
        )
        scheduled = session.execute(
            update(TaskInstance)
            .where(TaskInstance.dag_id == DAG_ID, TaskInstance.run_id == RUN_ID)
            .values(state=TaskInstanceState.SCHEDULED, try_number=1)
            .execution_options(synchronize_session=False)
        )
        found = getattr(scheduled, "rowcount", 0)
    if found != tasks:
        raise SystemExit(f"airflow-driver: the run has {found} task instances, not {tasks}")


def scheduler_job() -> int:
    """A scheduler job row, as a running scheduler has: its id marks what it queued."""
    with create_session() as session:
        job = Job(job_type="SchedulerJob")  # type: ignore[no-untyped-call]
        session.add(job)
        session.flush()
        return int(job.id)


# --- handing over and waiting -------------------------------------------------------------------


def hand_over(executor: Any, job_id: int, limit: int) -> int:
    """Queue up to `limit` scheduled task instances and give them to the executor, as the
    scheduler's critical section does; how many were handed over."""
    with create_session() as session:
        tis = list(
            session.scalars(
                select(TaskInstance)
                .where(
                    TaskInstance.dag_id == DAG_ID,
                    TaskInstance.run_id == RUN_ID,
                    TaskInstance.state == TaskInstanceState.SCHEDULED,
                )
                .order_by(TaskInstance.task_id)
                .limit(limit)
                .options(joinedload(TaskInstance.dag_run), joinedload(TaskInstance.dag_model))
            )
        )
        if not tis:
            return 0
        session.execute(
            update(TaskInstance)
            .where(TaskInstance.id.in_([ti.id for ti in tis]))
            .values(
                state=TaskInstanceState.QUEUED,
                queued_dttm=datetime.now(UTC),
                queued_by_job_id=job_id,
            )
            .execution_options(synchronize_session=False)
        )
        for ti in tis:
            make_transient(ti)
            ti.state = TaskInstanceState.QUEUED
            ti.queued_by_job_id = job_id
        for ti in tis:
            workload = workloads.ExecuteTask.make(ti, generator=executor.jwt_generator)
            executor.queue_workload(workload, session=session)
    return len(tis)


def process_cpu_s(pid: int) -> float:
    """utime + stime of one process, from /proc; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> set[int]:
    """Every live process under `pid`."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


@dataclass
class Clock:
    """Wall and CPU time since the first hand-over; the driver's own CPU apart."""

    wall: float
    cpu: float
    children: dict[int, float]
    own_cpu: float = 0.0

    @classmethod
    def start(cls) -> Clock:
        kids = {pid: process_cpu_s(pid) for pid in descendants(os.getpid())}
        return cls(time.perf_counter(), time.process_time(), kids)

    def children_cpu(self) -> float:
        now = {pid: process_cpu_s(pid) for pid in descendants(os.getpid())}
        return sum(cpu - self.children.get(pid, 0.0) for pid, cpu in now.items())


@dataclass
class Ends:
    """The tasks that ended, each with its state; the reasons of the failures."""

    states: dict[Any, str] = field(default_factory=dict)
    reasons: Counter[str] = field(default_factory=Counter)

    def collect(self, executor: Any) -> int:
        """Drain the event buffer; count a task once the executor no longer holds it. How many
        events there were."""
        events = executor.get_event_buffer()
        for key, (state, info) in events.items():
            if key not in executor.running and key not in executor.queued_tasks:
                self.states[key] = str(state.value if hasattr(state, "value") else state)
                if self.states[key] == "failed":
                    self.reasons[str(info)[:120]] += 1
        return len(events)


def drive(executor: Any, job_id: int, args: argparse.Namespace) -> dict[str, Any]:
    """Hand all tasks over and wait for all their ends; the figures."""
    ends = Ends()
    handed = loops = 0
    clock = Clock.start()
    last_report = clock.wall
    while len(ends.states) < args.tasks:
        loops += 1
        own = time.process_time()
        room = min(args.max_tis_per_loop, executor.slots_available, args.tasks - handed)
        given = hand_over(executor, job_id, room) if room > 0 else 0
        handed += given
        clock.own_cpu += time.process_time() - own
        executor.heartbeat()
        own = time.process_time()
        events = ends.collect(executor)
        clock.own_cpu += time.process_time() - own
        now = time.perf_counter()
        if now - clock.wall > args.timeout_s:
            say(f"gave up after {args.timeout_s:.0f}s: {len(ends.states)} of {args.tasks} ended")
            break
        if now - last_report >= PROGRESS_EVERY_S:
            say(f"{now - clock.wall:5.1f}s handed over {handed}, ended {len(ends.states)}")
            last_report = now
        if not given and not events:
            time.sleep(args.idle_sleep_s)
    return figures(ends, clock, loops, args)


def figures(ends: Ends, clock: Clock, loops: int, args: argparse.Namespace) -> dict[str, Any]:
    wall = time.perf_counter() - clock.wall
    cpu = time.process_time() - clock.cpu
    count = len(ends.states)
    return {
        "tasks": args.tasks,
        "ended": count,
        "completed": count == args.tasks,
        "states": dict(Counter(ends.states.values())),
        "failure_reasons": dict(ends.reasons.most_common(5)),
        "wall_s": round(wall, 3),
        "tasks_per_s": round(count / wall, 2),
        "scheduler_cpu_s": round(cpu, 3),
        "scheduler_cpu_s_per_task": round(cpu / max(1, count), 6),
        "driver_own_cpu_s_per_task": round(clock.own_cpu / max(1, count), 6),
        "child_processes_cpu_s_per_task": round(clock.children_cpu() / max(1, count), 6),
        "loops": loops,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, required=True)
    parser.add_argument("--json", type=Path, required=True, metavar="PATH")
    parser.add_argument(
        "--max-tis-per-loop", type=int, default=16, help="[scheduler] max_tis_per_query"
    )
    parser.add_argument("--idle-sleep-s", type=float, default=0.05)
    parser.add_argument("--timeout-s", type=float, default=600.0)
    args = parser.parse_args()
    prepare(args.tasks)
    job_id = scheduler_job()
    executor = ExecutorLoader.get_default_executor()
    executor.job_id = job_id
    executor.start()  # type: ignore[no-untyped-call]
    say(f"{type(executor).__name__} started (parallelism {executor.parallelism})")
    try:
        figures = drive(executor, job_id, args)
    finally:
        executor.end()
    figures["executor"] = f"{type(executor).__module__}.{type(executor).__name__}"
    figures["parallelism"] = executor.parallelism
    figures["max_tis_per_loop"] = args.max_tis_per_loop
    args.json.write_text(json.dumps(figures, indent=2) + "\n")
    say(f"figures: {figures}")
    return 0 if figures["completed"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""Airflow's KubernetesExecutor against podrunner's executor, one scheduler each (a benchmark).

    python -m tests.benchmarks.bench_airflow [--tasks 1000] [--runs 3] [--quick] [--json PATH]
        [--database-url URL] [--redis-url URL]

What an Airflow user would compare: the same tasks handed over by the same scheduler loop
(`airflow_driver.py`, one script run for both executors) to

* the baseline: Airflow 3.3.2's `KubernetesExecutor` from apache-airflow-providers-cncf-kubernetes
  10.25.0, with the provider's defaults, in `.venv-airflow-baseline` (`airflow_venv.py`: its
  Kubernetes client is older than podrunner's; created with pip on first use);
* podrunner: `services.airflow.executor.PodrunnerExecutor` in this environment, with the launcher,
  watcher and reconciler running as processes (default settings, launch rate limit lifted as in
  the pipeline benchmark, since the KubernetesExecutor has none).

Each run gets a fresh kubesim (simulate mode, `--seed` fixed) and fresh databases (Airflow's
metadata database, and podrunner's), dropped at the end. Both executors' pods come from one pod
template (`[kubernetes_executor] pod_template_file` and `PODRUNNER_POD_TEMPLATE_FILE`) whose
annotations make kubesim run each pod 0.2 s and fail 10% of them with exit 1, drawn from the
same seeded sequence, so both see the same failures (its security context is one podrunner's
default policy, `restricted`, admits: Airflow's image runs as user 50000).

The scheduler side is Airflow's defaults but for two settings a deployment running thousands of
short tasks raises: `[core] parallelism` 1024 (the default 32 caps both executors at 32 tasks in
flight) and `[scheduler] max_tis_per_query` 512 (task instances queued per scheduler loop; its
default before Airflow 2.7, now 16). The KubernetesExecutor creates one pod per loop whatever it
is handed (its `worker_pods_creation_batch_size` default), so only podrunner's figure depends on
the latter; one more podrunner run at 16 per loop (`--also-max-tis-per-loop`) shows by how much.

Reported per executor (median of `--runs`, the executors taking turns): tasks/s from the first
hand-over to the last end, and the CPU seconds per task spent in the scheduler process; beside
them the CPU per task of the executor's other processes (the KubernetesExecutor's watcher and
queue manager; podrunner's three services) and the driver's own share. Targets: podrunner at least
10x the tasks/s and at most 1/10 of the scheduler CPU per task. When the baseline's environment
cannot be created, podrunner is measured alone and the reason is given.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from tests.benchmarks import airflow_venv, common
from tests.benchmarks.bench_pipeline import (
    NAMESPACE,
    SERVICES,
    Stack,
    redis_keys_deleted,
    service_env,
)
from tests.support.kubesim import KubesimProcess, start_kubesim
from tests.support.scratch import scratch_database

DRIVER = Path(__file__).with_name("airflow_driver.py")
BASELINE = "KubernetesExecutor"
PODRUNNER = "PodrunnerExecutor"
EXECUTORS = {
    BASELINE: "airflow.providers.cncf.kubernetes.executors.kubernetes_executor.KubernetesExecutor",
    PODRUNNER: "services.airflow.executor.PodrunnerExecutor",
}
IMAGE = "apache/airflow:3.3.2"
RUN_SECONDS = 0.2
FAILING = 0.1
TARGET_SPEEDUP = 10.0
TARGET_CPU_RATIO = 0.1
TEMPLATE = f"""apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubesim.podrunner.io/run-seconds: "{RUN_SECONDS}"
    kubesim.podrunner.io/exit-rate: "{FAILING}"
spec:
  restartPolicy: Never
  securityContext:
    runAsNonRoot: true
    runAsUser: 50000
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: base
      image: {IMAGE}
      securityContext:
        allowPrivilegeEscalation: false
        capabilities:
          drop: [ALL]
"""


def progress(message: str) -> None:
    print(f"[bench-airflow] {message}", file=sys.stderr, flush=True)


# --- the environment of each driver -------------------------------------------------------------


def airflow_env(home: Path, database: URL, args: argparse.Namespace) -> dict[str, str]:
    """Airflow's settings for the driver: its own home, the scratch metadata database."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PODRUNNER"))}
    sync = database.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    run = database.set(drivername="postgresql+psycopg_async")
    return {
        **inherited,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": str(args.parallelism),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sync,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": run.render_as_string(hide_password=False),
        "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,
    }


def baseline_env(sim: KubesimProcess, template: Path) -> dict[str, str]:
    """The KubernetesExecutor's section: kubesim's kubeconfig, the template; otherwise defaults."""
    repository, tag = IMAGE.split(":")
    section = {
        "NAMESPACE": NAMESPACE,
        "IN_CLUSTER": "False",
        "CONFIG_FILE": str(sim.kubeconfig),
        "POD_TEMPLATE_FILE": str(template),
        "WORKER_CONTAINER_REPOSITORY": repository,
        "WORKER_CONTAINER_TAG": tag,
    }
    return {f"AIRFLOW__KUBERNETES_EXECUTOR__{k}": v for k, v in section.items()}


# --- one run of one executor --------------------------------------------------------------------


def run_one(executor: str, python: Path, args: argparse.Namespace) -> dict[str, Any]:
    """A fresh kubesim and databases, the driver run once; its figures."""
    progress(f"{executor}: {args.tasks:,} tasks")
    with contextlib.ExitStack() as cleanup:
        workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="bench-af-")))
        template = workdir / "pod-template.yaml"
        template.write_text(TEMPLATE)
        sim = start_kubesim(
            workdir, "--namespace", NAMESPACE, "--seed", str(args.seed), log=workdir / "kubesim.log"
        )
        cleanup.callback(sim.stop)
        metadata = cleanup.enter_context(
            scratch_database(
                args.database_url, prefix=f"{args.database_prefix}_af", migrate=False, say=progress
            )
        )
        env = airflow_env(workdir / "airflow", metadata, args)
        env["AIRFLOW__CORE__EXECUTOR"] = EXECUTORS[executor]
        pids: list[int] = []
        if executor == BASELINE:
            env.update(baseline_env(sim, template))
        else:
            services = _start_services(cleanup, sim, template, workdir, args)
            env.update({k: v for k, v in services.env.items() if k.startswith("PODRUNNER_")})
            pids = [process.pid for process in services.processes.values()]
        return _drive(python, env, workdir, pids, args)


def _start_services(
    cleanup: contextlib.ExitStack,
    sim: KubesimProcess,
    template: Path,
    workdir: Path,
    args: argparse.Namespace,
) -> Stack:
    database = cleanup.enter_context(
        scratch_database(args.database_url, prefix=args.database_prefix, say=progress)
    )
    extra = {"PODRUNNER_POD_TEMPLATE_FILE": str(template), "PODRUNNER_WORKER_IMAGE": IMAGE}
    env = service_env(sim, args.redis_url, database, **extra)
    cleanup.enter_context(redis_keys_deleted(args.redis_url, env["PODRUNNER_INSTANCE"]))
    stack = Stack(env, workdir)
    cleanup.callback(stack.stop)
    stack.start(*SERVICES)
    return stack


def _drive(
    python: Path, env: dict[str, str], workdir: Path, pids: list[int], args: argparse.Namespace
) -> dict[str, Any]:
    """Run the driver; its figures, with the CPU of `pids` (podrunner's services) per task."""
    out = workdir / "driver.json"
    argv = [str(python), str(DRIVER), "--tasks", str(args.tasks), "--json", str(out)]
    argv += ["--max-tis-per-loop", str(args.max_tis_per_loop)]
    argv += ["--idle-sleep-s", str(args.idle_sleep_s), "--timeout-s", str(args.timeout_s)]
    log = workdir / "driver.log"
    before = sum(common.cpu_s(pid) for pid in pids)
    with log.open("wb") as output:
        done = subprocess.run(
            argv, env=env, cwd=common.ROOT, stdout=output, stderr=subprocess.STDOUT, check=False
        )
    services_cpu = sum(common.cpu_s(pid) for pid in pids) - before
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("[airflow-driver]") and "figures:" not in line:
            print(line, file=sys.stderr, flush=True)  # its progress (Airflow's logs stay behind)
    if not out.exists():
        tail = " | ".join(log.read_text(errors="replace").splitlines()[-8:])
        raise RuntimeError(f"the driver failed (exit {done.returncode}): {tail}")
    figures: dict[str, Any] = json.loads(out.read_text())
    ended = max(1, figures["ended"])
    if pids:
        figures["child_processes_cpu_s_per_task"] = round(services_cpu / ended, 6)
    progress(
        f"{figures['ended']:,} ended in {figures['wall_s']:.1f}s: {figures['tasks_per_s']:,.1f} "
        f"tasks/s, scheduler CPU {1000 * figures['scheduler_cpu_s_per_task']:.2f} ms/task, "
        f"states {figures['states']}"
    )
    return figures


# --- the runs and the figures -------------------------------------------------------------------


#: Per-task CPU figures, each reported as its median over the runs.
CPU_FIGURES = (
    "scheduler_cpu_s_per_task",
    "driver_own_cpu_s_per_task",
    "child_processes_cpu_s_per_task",
)


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median tasks/s, every run's tasks/s beside it, and the median of each
    CPU figure over the runs (`median_<figure>`)."""
    ordered = sorted(runs, key=lambda run: run["tasks_per_s"])
    middle = dict(ordered[(len(ordered) - 1) // 2])
    middle["runs_tasks_per_s"] = [run["tasks_per_s"] for run in runs]
    for name in CPU_FIGURES:
        middle[f"runs_{name}"] = [run[name] for run in runs]
        middle[f"median_{name}"] = statistics.median(run[name] for run in runs)
    return middle


def bench(args: argparse.Namespace) -> dict[str, Any]:
    chosen = args.executor or list(EXECUTORS)
    pythons = {PODRUNNER: Path(sys.executable)} if PODRUNNER in chosen else {}
    skipped = None
    try:
        if BASELINE in chosen:
            pythons[BASELINE] = airflow_venv.python(progress)
    except airflow_venv.Unavailable as error:
        skipped = str(error)
        progress(f"the baseline is not run: {skipped}")
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in pythons}
    for n in range(args.runs):
        order = sorted(pythons, reverse=n % 2 == 1)  # the executors take turns going first
        for executor in order:
            runs[executor].append(run_one(executor, pythons[executor], args))
    figures: dict[str, Any] = {
        "benchmark": "airflow",
        "tasks": args.tasks,
        "runs": args.runs,
        "pod": {"run_seconds": RUN_SECONDS, "failing": FAILING, "seed": args.seed},
        "parallelism": args.parallelism,
        "max_tis_per_loop": args.max_tis_per_loop,
        "target_speedup": TARGET_SPEEDUP,
        "target_cpu_ratio": TARGET_CPU_RATIO,
        "executors": {name: median_run(found) for name, found in runs.items()},
    }
    if skipped:
        figures["baseline_skipped"] = skipped
    if args.also_max_tis_per_loop and PODRUNNER in pythons:
        fewer = argparse.Namespace(**{**vars(args), "max_tis_per_loop": args.also_max_tis_per_loop})
        figures["podrunner_fewer_per_loop"] = run_one(PODRUNNER, pythons[PODRUNNER], fewer)
    return figures


def report(figures: dict[str, Any]) -> None:
    print(f"Airflow executors, {figures['tasks']:,} tasks (0.2 s pods, 10% exit 1), kubesim")
    for name, run in figures["executors"].items():
        print(
            f"  {name}: {run['tasks_per_s']:,.1f} tasks/s, scheduler CPU "
            f"{1000 * run['median_scheduler_cpu_s_per_task']:.2f} ms/task, other processes "
            f"{1000 * run['median_child_processes_cpu_s_per_task']:.2f} ms/task ({run['states']})"
        )
    if figures.get("baseline_skipped"):
        print(f"  {BASELINE}: not run ({figures['baseline_skipped']})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--parallelism", type=int, default=1024, help="[core] parallelism")
    parser.add_argument(
        "--max-tis-per-loop", type=int, default=512, help="[scheduler] max_tis_per_query"
    )
    parser.add_argument(
        "--also-max-tis-per-loop",
        type=int,
        default=16,
        metavar="N",
        help="one more PodrunnerExecutor run handing over N per loop (Airflow's default 16; 0: no)",
    )
    parser.add_argument("--idle-sleep-s", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1, help="kubesim's draws of the failures")
    parser.add_argument("--timeout-s", type=float, default=900.0, help="per driver run")
    parser.add_argument(
        "--executor", action="append", choices=list(EXECUTORS), help="only these (default: both)"
    )
    common.add_servers(parser)
    parser.add_argument(
        "--database-prefix", default="podrunner_bench", help="of the scratch databases' names"
    )
    common.add_common(parser, runs=3)
    quick = {"runs": 1, "tasks": 20, "timeout_s": 120.0, "also_max_tis_per_loop": 0}
    args = common.parse(parser, argv, quick)
    figures = bench(args)
    report(figures)
    common.write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())

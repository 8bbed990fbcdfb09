"""Every benchmark in one run, one table, one JSON file (`podrunner bench`, `make bench`).

    python -m tests.benchmarks.suite [--quick] [--json bench-results.json] [--stage NAME ...]

Each stage is its own module run as a subprocess (`python -m tests.benchmarks.bench_X --json
TMP`), so one stage crashing is reported in the table and the others still run; each stage's
figures, every one a median of its runs with its baseline measured in the same run, come back as
JSON. The table says per figure: value, baseline, ratio, target, and whether the target was met.
A missed target is a result, not a failure: the exit code is 0 when every stage ran, 1 when one
crashed. The stages' own output and progress go to stderr; stdout holds the table alone.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tests.benchmarks import common

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass(frozen=True)
class Check:
    """One target: the row's `value` or its `ratio`, `>=` or `<=` a threshold."""

    on: str
    op: str
    threshold: float

    def passes(self, value: float | None, ratio: float | None) -> bool:
        measured = value if self.on == "value" else ratio
        if measured is None:
            return False
        return measured >= self.threshold if self.op == ">=" else measured <= self.threshold

    def describe(self, unit: str) -> str:
        if self.on == "ratio":
            return f"{self.op} {self.threshold:g}x"
        return f"{self.op} {format_value(self.threshold, unit)}"


def at_least(threshold: float, on: str = "value") -> Check:
    return Check(on, ">=", threshold)


def at_most(threshold: float, on: str = "value") -> Check:
    return Check(on, "<=", threshold)


@dataclass(frozen=True)
class Row:
    """One figure of the table. `met` is None for a figure without a target."""

    stage: str
    figure: str
    value: float | None
    unit: str = ""
    baseline: float | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None


def row(
    stage: str,
    figure: str,
    value: float | None,
    unit: str,
    *checks: Check,
    baseline: float | None = None,
) -> Row:
    """A row with its ratio (value / baseline) and its targets judged."""
    ratio = value / baseline if value is not None and baseline else None
    return Row(
        stage,
        figure,
        value,
        unit,
        baseline,
        ratio,
        target=", ".join(check.describe(unit) for check in checks),
        met=all(check.passes(value, ratio) for check in checks) if checks else None,
    )


# --- the figures of each stage -----------------------------------------------------------------


def kubesim_rows(figures: dict[str, Any]) -> list[Row]:
    return [
        row(
            "kubesim",
            "pod creates/s, concurrent HTTP",
            figures["creates_per_s"],
            "/s",
            at_least(2_000),
            baseline=figures["serial_creates_per_s"],
        ),
        row(
            "kubesim",
            "watch events/s to 10 watchers",
            figures["watch_events_per_s_10_watchers"],
            "/s",
            at_least(20_000),
        ),
        row("kubesim", f"RSS holding {figures['pods']:,.0f} pods", figures["rss_mb"], "MB"),
    ]


def watcher_rows(figures: dict[str, Any]) -> list[Row]:
    return [
        row(
            "watcher",
            "events decoded and published/s",
            figures["events_per_s"],
            "/s",
            at_least(figures["target_events_per_s"]),
            at_least(figures["target_ratio"], on="ratio"),
            baseline=figures["baseline_events_per_s"],
        )
    ]


def reconciler_rows(figures: dict[str, Any]) -> list[Row]:
    batched, waits = figures["batched"], figures["latency"]
    return [
        row(
            "reconciler",
            "events applied/s, batched",
            batched["events_per_s"],
            "/s",
            at_least(batched["target_events_per_s"]),
            at_least(figures["target_ratio"], on="ratio"),
            baseline=figures["baseline"]["events_per_s"],
        ),
        row(
            "reconciler",
            f"p99 publish -> commit at {waits['rate_events_per_s']:,.0f}/s",
            waits["p99_s"],
            "s",
            at_most(waits["target_p99_s"]),
        ),
    ]


def launcher_rows(figures: dict[str, Any]) -> list[Row]:
    rows = []
    for scenario in figures["scenarios"]:
        instant = scenario["latency_ms"] == 0
        rows.append(
            row(
                "launcher",
                f"pods created/s, {scenario['label']}",
                scenario["concurrent_pods_per_s"],
                "/s",
                *([at_least(figures["target_pods_per_s"])] if instant else []),
                baseline=scenario["serial_pods_per_s"],
            )
        )
    return rows


def pipeline_rows(figures: dict[str, Any]) -> list[Row]:
    rss_target = at_most(figures["target_rss_mb"])
    rows = _run_rows(figures["pipeline"], at_most(figures["target_wall_s"]), rss_target)
    large = figures.get("large")
    if large:
        rows += _run_rows(large, at_most(900.0), rss_target)
    memory = figures.get("memory")
    if memory:
        rows += [
            row("memory", f"peak RSS {name}, {memory['pods']:,} pods tracked", mb, "MB", rss_target)
            for name, mb in memory["peak_rss_mb"].items()
            if name != "kubesim"
        ]
    return rows


def _run_rows(run: dict[str, Any], wall_target: Check, rss_target: Check) -> list[Row]:
    tasks = f"{run['tasks']:,} tasks"
    if not run.get("completed"):
        why = run.get("skipped") or f"not terminal in time: {run.get('states')}"
        return [
            Row(
                "end to end",
                f"{tasks}: {why}",
                None,
                "s",
                target=wall_target.describe("s"),
                met=False,
            )
        ]
    return [
        row(
            "end to end",
            f"{tasks}, wall time ({run['submit']} submit)",
            run["wall_s"],
            "s",
            wall_target,
        ),
        row("end to end", f"{tasks}, tasks/s", run["tasks_per_s"], "/s"),
        row("end to end", f"{tasks}, submit -> terminal p50", run["p50_s"], "s"),
        row("end to end", f"{tasks}, submit -> terminal p99", run["p99_s"], "s"),
        *(
            row("memory", f"peak RSS {name}, {tasks} run", mb, "MB", rss_target)
            for name, mb in run["peak_rss_mb"].items()
            if name != "kubesim"
        ),
    ]


def airflow_rows(figures: dict[str, Any]) -> list[Row]:
    executors = figures["executors"]
    ours, theirs = executors["PodrunnerExecutor"], executors.get("KubernetesExecutor")
    skipped = figures.get("baseline_skipped")
    note = f" (KubernetesExecutor not run: {skipped})" if skipped else ""

    def ms(run: dict[str, Any] | None, key: str) -> float | None:
        return None if run is None else 1000 * run[key]

    return [
        row(
            "airflow",
            f"tasks/s, {figures['tasks']:,} tasks, PodrunnerExecutor{note}",
            ours["tasks_per_s"],
            "/s",
            at_least(figures["target_speedup"], on="ratio"),
            baseline=theirs["tasks_per_s"] if theirs else None,
        ),
        *_fewer_per_loop_rows(figures, theirs),
        row(
            "airflow",
            "scheduler process CPU per task",
            ms(ours, "median_scheduler_cpu_s_per_task"),
            "ms",
            at_most(figures["target_cpu_ratio"], on="ratio"),
            baseline=ms(theirs, "median_scheduler_cpu_s_per_task"),
        ),
        row(
            "airflow",
            "  of which the driver's own (same code)",
            ms(ours, "median_driver_own_cpu_s_per_task"),
            "ms",
            baseline=ms(theirs, "median_driver_own_cpu_s_per_task"),
        ),
        row(
            "airflow",
            "executor's other processes CPU per task",
            ms(ours, "median_child_processes_cpu_s_per_task"),
            "ms",
            baseline=ms(theirs, "median_child_processes_cpu_s_per_task"),
        ),
    ]


def _fewer_per_loop_rows(figures: dict[str, Any], theirs: dict[str, Any] | None) -> list[Row]:
    """podrunner once more, the scheduler handing over as few per loop as Airflow's default."""
    fewer = figures.get("podrunner_fewer_per_loop")
    if not fewer:
        return []
    figure = f"tasks/s, PodrunnerExecutor, {fewer['max_tis_per_loop']} handed over per loop"
    baseline = theirs["tasks_per_s"] if theirs else None
    return [row("airflow", figure, fewer["tasks_per_s"], "/s", baseline=baseline)]


# --- the stages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    name: str
    module: str
    rows: Callable[[dict[str, Any]], list[Row]]
    #: Which of --database-url / --redis-url the module takes.
    servers: tuple[str, ...] = ()
    full: tuple[str, ...] = ()
    #: Time allowed at --quick size; the Airflow stage may first have to create its baseline's
    #: environment with pip (minutes, once).
    quick_timeout_s: float = 180.0


STAGES = (
    Stage("kubesim", "bench_kubesim", kubesim_rows),
    Stage("watcher", "bench_watcher", watcher_rows, ("redis",)),
    Stage("reconciler", "bench_reconciler", reconciler_rows, ("database", "redis")),
    Stage("launcher", "bench_launcher", launcher_rows, ("redis",)),
    Stage(
        "pipeline",
        "bench_pipeline",
        pipeline_rows,
        ("database", "redis"),
        full=("--large-tasks", "100000"),
    ),
    Stage("airflow", "bench_airflow", airflow_rows, ("database", "redis"), quick_timeout_s=800.0),
)


@dataclass
class Outcome:
    """What running one stage gave: its figures, or why there are none."""

    stage: str
    seconds: float
    figures: dict[str, Any] | None = None
    error: str | None = None
    rows: list[Row] = field(default_factory=list)


def command(stage: Stage, args: argparse.Namespace, json_path: Path) -> list[str]:
    """The stage's command line: its module, its JSON file, its size and its servers."""
    argv = [sys.executable, "-m", f"tests.benchmarks.{stage.module}", "--json", str(json_path)]
    argv += ["--quick"] if args.quick else list(stage.full)
    if "database" in stage.servers:
        argv += ["--database-url", args.database_url]
    if "redis" in stage.servers:
        argv += ["--redis-url", args.redis_url]
    return argv


def run_stage(stage: Stage, args: argparse.Namespace, directory: Path) -> Outcome:
    json_path = directory / f"{stage.name}.json"
    argv = command(stage, args, json_path)
    print(f"[bench] {stage.name}: {' '.join(argv[1:])}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    default_timeout_s = stage.quick_timeout_s if args.quick else 3600.0
    returncode = run_within(argv, timeout_s=args.stage_timeout_s or default_timeout_s)
    seconds = time.perf_counter() - started
    if returncode is None:
        return Outcome(stage.name, seconds, error=f"timed out after {seconds:.0f}s")
    if returncode != 0 or not json_path.exists():
        return Outcome(stage.name, seconds, error=f"crashed (exit {returncode})")
    return judged(stage, seconds, json.loads(json_path.read_text()))


def run_within(argv: list[str], *, timeout_s: float) -> int | None:
    """Run `argv` in its own process group; its exit code, or None when it ran out of time.

    Out of time, it gets SIGTERM (a benchmark then stops its processes and drops its database),
    and whatever of its group is still there 60 s later gets SIGKILL."""
    process = subprocess.Popen(argv, cwd=ROOT, stdout=sys.stderr, start_new_session=True)
    try:
        return process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        _stop(process)
        return None
    except BaseException:  # Ctrl-C reaches the suite, not the stage's own process group
        _stop(process)
        raise


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def judged(stage: Stage, seconds: float, figures: dict[str, Any]) -> Outcome:
    """The stage's rows from its figures; figures of an unexpected shape count as a crash."""
    try:
        rows = stage.rows(figures)
    except (KeyError, TypeError, ValueError) as error:
        return Outcome(stage.name, seconds, figures, f"unreadable figures: {error!r}")
    return Outcome(stage.name, seconds, figures, rows=rows)


# --- the table ---------------------------------------------------------------------------------


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:,.2f} s" if value < 100 else f"{value:,.0f} s"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if unit == "ms":
        return f"{value:,.2f} ms"
    return f"{value:,.0f}{unit}"


def table_rows(outcomes: Sequence[Outcome]) -> list[Row]:
    """Every stage's rows; a stage that did not run is one row saying why."""
    rows: list[Row] = []
    for outcome in outcomes:
        if outcome.error:
            rows.append(Row(outcome.stage, f"STAGE FAILED: {outcome.error}", None))
        rows += outcome.rows
    return rows


def table(rows: Sequence[Row]) -> str:
    header = ("stage", "figure", "value", "baseline", "ratio", "target", "met")
    cells = [header] + [
        (
            r.stage,
            r.figure,
            format_value(r.value, r.unit),
            format_value(r.baseline, r.unit) if r.baseline is not None else "",
            _ratio(r.ratio),
            r.target,
            {True: "yes", False: "NO", None: ""}[r.met],
        )
        for r in rows
    ]
    widths = [max(len(line[n]) for line in cells) for n in range(len(header))]
    right = {2, 3, 4}
    lines = [
        "  ".join(
            cell.rjust(widths[n]) if n in right else cell.ljust(widths[n])
            for n, cell in enumerate(line)
        ).rstrip()
        for line in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _ratio(ratio: float | None) -> str:
    if ratio is None:
        return ""
    return f"{ratio:,.1f}x" if ratio >= 1 else f"{ratio:,.3f}x"


def combined(
    outcomes: Sequence[Outcome], args: argparse.Namespace, load: tuple[float, ...]
) -> dict[str, Any]:
    return {
        "quick": args.quick,
        "machine": {"cpus": os.cpu_count(), "load_average_before_after": load},
        "stages": {
            o.stage: {"seconds": round(o.seconds, 1), "error": o.error, "figures": o.figures}
            for o in outcomes
        },
        "rows": [asdict(r) for r in table_rows(outcomes)],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that all runs")
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"), metavar="PATH")
    common.add_servers(parser)
    parser.add_argument(
        "--stage", action="append", choices=[s.name for s in STAGES], help="only these stages"
    )
    parser.add_argument(
        "--stage-timeout-s",
        type=float,
        help="per stage (default: 3600 full; quick 180, 800 for the Airflow stage)",
    )
    args = parser.parse_args(argv)
    common.exit_through_finally_on_sigterm()  # a stopped suite stops its running stage too
    chosen = [s for s in STAGES if not args.stage or s.name in args.stage]
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="podrunner-bench-") as directory:
        outcomes = [run_stage(stage, args, Path(directory)) for stage in chosen]
    load = (round(load_before, 2), round(os.getloadavg()[0], 2))
    rows = table_rows(outcomes)
    print(
        f"podrunner benchmarks ({'quick' if args.quick else 'full sizes'}); "
        f"{os.cpu_count()} CPUs, load average {load[0]} before, {load[1]} after"
    )
    print(table(rows))
    args.json.write_text(json.dumps(combined(outcomes, args, load), indent=2) + "\n")
    print(f"figures written to {args.json}")
    return 1 if any(o.error for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())

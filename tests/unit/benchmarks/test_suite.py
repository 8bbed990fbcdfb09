"""The benchmark suite's judgement: ratios, targets met or missed, failed stages, the table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tests.benchmarks import suite


def watcher_figures(**changes: Any) -> dict[str, Any]:
    figures = {
        "events_per_s": 60_000,
        "baseline_events_per_s": 5_000,
        "target_events_per_s": 30_000,
        "target_ratio": 10.0,
    }
    return figures | changes


def pipeline_run(**changes: Any) -> dict[str, Any]:
    run = {
        "tasks": 10_000,
        "completed": True,
        "submit": "bulk",
        "wall_s": 42.0,
        "tasks_per_s": 238.1,
        "p50_s": 1.5,
        "p99_s": 4.0,
        "peak_rss_mb": {"launcher": 90.0, "watcher": 160.0, "kubesim": 400.0},
    }
    return run | changes


def test_a_row_has_its_ratio_to_the_baseline_and_meets_a_target_it_reaches() -> None:
    row = suite.row("s", "rate", 600.0, "/s", suite.at_least(500), baseline=200.0)
    assert row.ratio == 3.0
    assert row.met is True
    assert row.target == ">= 500/s"


def test_every_target_of_a_row_must_be_met() -> None:
    (slow_ratio,) = suite.watcher_rows(watcher_figures(baseline_events_per_s=10_000))
    assert slow_ratio.ratio == 6.0
    assert slow_ratio.met is False
    assert slow_ratio.target == ">= 30,000/s, >= 10x"
    (both,) = suite.watcher_rows(watcher_figures())
    assert both.met is True


def test_an_upper_bound_is_met_at_or_below_it() -> None:
    assert suite.at_most(1.0).passes(1.0, None)
    assert not suite.at_most(1.0).passes(1.01, None)


def test_a_figure_without_a_target_is_neither_met_nor_missed() -> None:
    row = suite.row("s", "tasks/s", 12.0, "/s")
    assert row.met is None
    assert row.target == ""


def test_the_pipeline_judges_wall_time_and_each_service_but_not_kubesim_memory() -> None:
    figures = {"target_wall_s": 60.0, "target_rss_mb": 150.0, "pipeline": pipeline_run()}
    rows = {row.figure: row for row in suite.pipeline_rows(figures)}
    assert rows["10,000 tasks, wall time (bulk submit)"].met is True
    assert rows["peak RSS launcher, 10,000 tasks run"].met is True
    assert rows["peak RSS watcher, 10,000 tasks run"].met is False
    assert not any("kubesim" in figure for figure in rows)


def test_a_run_that_did_not_complete_misses_its_target_and_says_why() -> None:
    skipped = {"tasks": 100_000, "completed": False, "skipped": "projected 1200s > budget 900s"}
    figures = {
        "target_wall_s": 60.0,
        "target_rss_mb": 150.0,
        "pipeline": pipeline_run(),
        "large": skipped,
    }
    (large,) = [row for row in suite.pipeline_rows(figures) if "100,000" in row.figure]
    assert large.met is False
    assert large.value is None
    assert "projected 1200s" in large.figure


def test_figures_of_an_unexpected_shape_count_as_a_failed_stage() -> None:
    stage = suite.STAGES[1]
    outcome = suite.judged(stage, 1.0, {"events_per_s": 1})
    assert outcome.error is not None
    assert outcome.rows == []


def test_a_failed_stage_is_one_row_of_the_table_and_the_others_stay() -> None:
    crashed = suite.Outcome("launcher", 3.0, error="crashed (exit 1)")
    ran = suite.judged(suite.STAGES[1], 9.0, watcher_figures())
    rows = suite.table_rows([crashed, ran])
    assert [row.stage for row in rows] == ["launcher", "watcher"]
    text = suite.table(rows)
    assert "STAGE FAILED: crashed (exit 1)" in text
    assert "60,000/s" in text
    assert "12.0x" in text


def test_the_table_has_one_header_and_says_yes_or_no() -> None:
    rows = [
        suite.row("a", "fast", 2.0, "/s", suite.at_least(1)),
        suite.row("b", "slow", 0.5, "/s", suite.at_least(1)),
    ]
    lines = suite.table(rows).splitlines()
    assert lines[0].split() == ["stage", "figure", "value", "baseline", "ratio", "target", "met"]
    assert lines[2].endswith("yes")
    assert lines[3].endswith("NO")


def test_a_stage_gets_quick_or_full_sizes_and_only_the_servers_it_takes() -> None:
    args = argparse.Namespace(
        quick=True, database_url="postgresql://p@127.0.0.1/db", redis_url="redis://127.0.0.1/1"
    )
    by_name = {stage.name: stage for stage in suite.STAGES}
    kubesim = suite.command(by_name["kubesim"], args, Path("k.json"))
    assert kubesim[-3:] == ["--json", "k.json", "--quick"]
    pipeline = suite.command(by_name["pipeline"], args, Path("p.json"))
    assert "--database-url" in pipeline
    assert "--redis-url" in pipeline
    args.quick = False
    full = suite.command(by_name["pipeline"], args, Path("p.json"))
    assert "--quick" not in full
    assert full[full.index("--large-tasks") + 1] == "100000"

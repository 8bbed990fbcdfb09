"""The verdict: outcomes against expectations, the table, the summary, the JSON and exit code."""

from __future__ import annotations

import json
from pathlib import Path

from services.demo import report
from services.demo.report import Outcome
from services.demo.tasks import DemoTask, Kind, demo_tasks

EXIT3 = Kind("exit-3", ("sh", "-c", "exit 3"), "failed", "Error (exit 3)")
HELLO = Kind("hello", ("sh", "-c", "echo hi"), "success")


def outcome(kind: Kind, state: str | None, reason: str | None = None, log: str = "") -> Outcome:
    return Outcome(DemoTask(kind, 0), "r1", state, reason, log)


def test_a_task_is_as_expected_with_its_state_and_its_reason_fragment() -> None:
    assert outcome(EXIT3, "failed", "Error (exit 3)").as_expected
    assert outcome(HELLO, "success").as_expected


def test_a_wrong_state_or_a_wrong_reason_or_no_row_is_unexpected() -> None:
    assert not outcome(EXIT3, "success").as_expected
    assert not outcome(EXIT3, "failed", "OOMKilled (exit 137)").as_expected
    assert not outcome(HELLO, None).as_expected


def test_the_exit_code_is_0_only_when_every_task_ended_as_expected() -> None:
    good = [outcome(HELLO, "success"), outcome(EXIT3, "failed", "Error (exit 3)")]
    assert report.exit_code(good) == 0
    assert report.exit_code([*good, outcome(HELLO, "failed", "Error (exit 1)")]) == 1


def test_unexpected_outcomes_are_named_with_what_was_expected_and_what_happened() -> None:
    lines = report.unexpected([outcome(EXIT3, "success"), outcome(HELLO, "success")])
    assert lines == ["exit-3[0]: expected failed (Error (exit 3)), got success"]


def test_a_long_list_of_unexpected_outcomes_is_cut_with_a_count() -> None:
    lines = report.unexpected([outcome(HELLO, None)] * 25)
    assert len(lines) == report.UNEXPECTED_LIMIT + 1
    assert lines[-1] == "... and 5 more"


def test_the_table_has_a_row_per_task_with_a_clipped_reason_and_the_last_log_line() -> None:
    long_reason = "ErrImagePull: failed to pull and unpack image " + "x" * 80
    rows = report.table(
        [
            outcome(HELLO, "success", log="first\nhello world\n\n"),
            outcome(EXIT3, "failed", long_reason),
        ]
    )
    assert rows[0].split() == ["task", "state", "expected", "reason", "log", "tail"]
    assert rows[1].split() == ["hello[0]", "success", "yes", "-", "hello", "world"]
    assert "…" in rows[2]
    assert "NO" in rows[2]
    assert len(rows[2]) < 100


def test_the_summary_counts_tasks_by_state_and_reason_most_frequent_first() -> None:
    outcomes = [outcome(HELLO, "success")] * 3 + [outcome(EXIT3, "failed", "Error (exit 3)")]
    assert report.summary(outcomes) == ["      3  success", "      1  failed   Error (exit 3)"]


def test_throughput_is_tasks_per_second_over_the_wall_time() -> None:
    assert report.throughput(2000, 80.0) == "2000 tasks in 80.0s: 25.0 tasks/s"


def test_the_json_report_holds_each_tasks_key_state_and_expectation(tmp_path: Path) -> None:
    tasks = demo_tasks(12)
    outcomes = [Outcome(t, "run-1", t.kind.expected_state, None) for t in tasks]
    path = tmp_path / "report.json"
    report.write_json(path, outcomes)
    records = json.loads(path.read_text())
    assert len(records) == 12
    assert set(records[0]) >= {
        "dag_id",
        "task_id",
        "run_id",
        "map_index",
        "state",
        "expected_state",
        "failure_reason",
    }
    assert records[0]["dag_id"] == "demo"
    assert records[0]["run_id"] == "run-1"

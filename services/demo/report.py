"""What the demo found: each task's outcome against its expectation, as a table, a summary, a
JSON report and the exit code.

Kept apart from the running so the verdict (which tasks ended as they should) is pure and tested
on its own: 0 when every task ended in its expected state with its expected reason, 1 otherwise.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from services.demo.tasks import DAG_ID, DemoTask

#: Runs with more tasks than this get a summary by state and reason instead of a row per task.
TABLE_LIMIT = 50
#: Unexpected outcomes listed one by one, at most.
UNEXPECTED_LIMIT = 20
EXIT_AS_EXPECTED, EXIT_UNEXPECTED = 0, 1


@dataclass(frozen=True)
class Outcome:
    """How one task ended (`state` None: it has no row) and what it printed last."""

    task: DemoTask
    run_id: str
    state: str | None
    failure_reason: str | None
    log_tail: str = ""

    @property
    def label(self) -> str:
        return f"{self.task.task_id}[{self.task.map_index}]"

    @property
    def as_expected(self) -> bool:
        kind = self.task.kind
        if self.state != kind.expected_state:
            return False
        return kind.expected_reason is None or kind.expected_reason in (self.failure_reason or "")


def clip(text: str | None, width: int) -> str:
    """`text` on one line, cut to `width` characters with an ellipsis."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def last_line(log: str) -> str:
    lines = [line for line in log.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def table(outcomes: Sequence[Outcome]) -> list[str]:
    """One row per task: task, state, whether that was expected, reason, last log line."""
    rows = [("task", "state", "expected", "reason", "log tail")]
    rows += [
        (
            o.label,
            o.state or "(no row)",
            "yes" if o.as_expected else "NO",
            clip(o.failure_reason, 36) or "-",
            clip(last_line(o.log_tail), 40) or "-",
        )
        for o in outcomes
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def summary(outcomes: Iterable[Outcome]) -> list[str]:
    """Tasks counted by final state and reason, most frequent first."""
    counts = Counter((o.state or "(no row)", clip(o.failure_reason, 60)) for o in outcomes)
    return [
        f"{count:>7}  {state:<8} {reason}".rstrip()
        for (state, reason), count in counts.most_common()
    ]


def unexpected(outcomes: Iterable[Outcome]) -> list[str]:
    """One line per task that did not end as expected (at most `UNEXPECTED_LIMIT`, then a count)."""
    wrong = [o for o in outcomes if not o.as_expected]
    lines = [
        f"{o.label}: expected {_expectation(o)}, got {o.state or 'no row'}"
        + (f" ({clip(o.failure_reason, 60)})" if o.failure_reason else "")
        for o in wrong[:UNEXPECTED_LIMIT]
    ]
    if len(wrong) > UNEXPECTED_LIMIT:
        lines.append(f"... and {len(wrong) - UNEXPECTED_LIMIT} more")
    return lines


def _expectation(outcome: Outcome) -> str:
    kind = outcome.task.kind
    reason = f" ({kind.expected_reason})" if kind.expected_reason else ""
    return kind.expected_state + reason


def throughput(count: int, wall_s: float) -> str:
    rate = count / wall_s if wall_s > 0 else 0.0
    return f"{count} tasks in {wall_s:.1f}s: {rate:.1f} tasks/s"


def exit_code(outcomes: Iterable[Outcome]) -> int:
    return EXIT_AS_EXPECTED if all(o.as_expected for o in outcomes) else EXIT_UNEXPECTED


def as_json(outcomes: Iterable[Outcome]) -> list[dict[str, object]]:
    """The `--report` records: each task's key, final state and what was expected of it."""
    return [
        {
            "dag_id": DAG_ID,
            "task_id": o.task.task_id,
            "run_id": o.run_id,
            "map_index": o.task.map_index,
            "state": o.state,
            "expected_state": o.task.kind.expected_state,
            "failure_reason": o.failure_reason,
            "expected_reason": o.task.kind.expected_reason,
        }
        for o in outcomes
    ]


def write_json(path: Path, outcomes: Iterable[Outcome]) -> None:
    path.write_text(json.dumps(as_json(outcomes), indent=1) + "\n")

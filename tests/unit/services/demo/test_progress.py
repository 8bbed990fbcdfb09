"""The progress line: counts by state, in place on a terminal, periodic lines elsewhere."""

from __future__ import annotations

import io

from services.demo.progress import PLAIN_EVERY_S, Progress, count_states, progress_line


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_line_shows_elapsed_time_total_and_each_state() -> None:
    counts = count_states({"queued": 10, "running": 40, "success": 1900, "failed": 50}, 2000)
    assert progress_line(12.34, 2000, counts) == (
        "[12.3s] 2000 tasks: queued 10 running 40 success 1900 failed 50"
    )


def test_tasks_without_a_row_yet_count_as_submitting() -> None:
    counts = count_states({"queued": 3}, 10)
    assert progress_line(0.0, 10, counts).startswith("[0.0s] 10 tasks: submitting 7 queued 3")


def test_rare_states_appear_only_when_some_task_is_in_them() -> None:
    assert "up_for_reschedule" not in progress_line(1, 5, count_states({"success": 5}, 5))
    line = progress_line(1, 5, count_states({"up_for_reschedule": 1, "success": 4}, 5))
    assert "queued 0 up_for_reschedule 1 running 0 success 4" in line


def test_on_a_terminal_the_line_is_rewritten_in_place() -> None:
    out, clock = Terminal(), Clock()
    progress = Progress(out, 2, clock=clock)
    progress.show({"queued": 2})
    clock.now = 1.0
    progress.show({"success": 2})
    progress.finish()
    text = out.getvalue()
    assert text.count("\r") == 2
    assert text.endswith("[1.0s] 2 tasks: queued 0 running 0 success 2 failed 0\x1b[K\n")


def test_elsewhere_a_plain_line_is_printed_every_few_seconds_and_the_last_at_the_end() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, 2, clock=clock)
    progress.show({"queued": 2})
    clock.now = 1.0
    progress.show({"running": 2})
    clock.now = PLAIN_EVERY_S + 0.5
    progress.show({"running": 1, "success": 1})
    clock.now = PLAIN_EVERY_S + 1
    progress.show({"success": 2})
    progress.finish()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert [line.split("]")[0] for line in lines] == ["[0.0s", "[5.5s", "[6.0s"]

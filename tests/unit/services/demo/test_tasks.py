"""The demo's task set: every kind once, then a quick mix, each task with a unique key."""

from __future__ import annotations

from collections import Counter

from services.demo.tasks import FAILED, KINDS, SUCCESS, demo_tasks, job


def test_the_default_twelve_tasks_are_every_kind_once() -> None:
    tasks = demo_tasks(12)
    assert [t.kind for t in tasks] == list(KINDS)
    assert {t.map_index for t in tasks} == {0}


def test_fewer_tasks_than_kinds_take_the_first_kinds() -> None:
    assert [t.task_id for t in demo_tasks(3)] == [k.name for k in KINDS[:3]]


def test_a_large_run_repeats_the_quick_mix_without_sleeping_tasks() -> None:
    tasks = demo_tasks(2000)
    assert len(tasks) == 2000
    counts = Counter(t.task_id for t in tasks)
    assert counts["shell-sleep"] == counts["python-sleep"] == 1
    successes = sum(t.kind.expected_state == SUCCESS for t in tasks)
    assert successes > 0.75 * len(tasks)


def test_every_task_key_is_unique_within_a_run() -> None:
    tasks = demo_tasks(500)
    assert len({(t.task_id, t.map_index) for t in tasks}) == 500


def test_every_failing_kind_names_the_reason_it_must_fail_with() -> None:
    assert all(k.expected_reason for k in KINDS if k.expected_state == FAILED)
    assert all(k.expected_reason is None for k in KINDS if k.expected_state == SUCCESS)


def test_the_job_runs_python_tasks_with_the_given_interpreter_and_carries_annotations() -> None:
    oom = next(t for t in demo_tasks(12) if t.task_id == "out-of-memory")
    body = job(oom, run_id="r1", namespace="demo", python="/opt/py/bin/python3")
    assert body["command"][0] == "/opt/py/bin/python3"
    assert body["annotations"]["kubesim.podrunner.io/oom"] == "true"
    assert (body["dag_id"], body["run_id"], body["map_index"], body["try_number"]) == (
        "demo",
        "r1",
        0,
        1,
    )


def test_the_bad_image_job_names_an_image_and_asks_kubesim_to_fail_its_pull() -> None:
    bad = next(t for t in demo_tasks(12) if t.task_id == "bad-image")
    body = job(bad, run_id="r1", namespace="demo", python="python3")
    assert body["image"].startswith("registry.invalid/")
    assert body["annotations"] == {"kubesim.podrunner.io/pull": "fail"}

"""The demo's task set: real shell and Python commands, each with the outcome it must end in.

Twelve kinds cover what a user cares about: output, short sleeps, success, a failing exit code, an
exception, an image that cannot be pulled and a container killed for memory. `--tasks N` takes the
whole set once and then repeats a quick mix (no sleeps, mostly successes) until N, so a large run
measures throughput rather than `sleep`. Each repetition of a kind gets the next map index, which
keeps every task key unique within one run.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

DAG_ID = "demo"
ANNOTATION_PREFIX = "kubesim.podrunner.io/"
SUCCESS, FAILED = "success", "failed"


@dataclass(frozen=True)
class Kind:
    """One kind of demo task: what it runs and how it must end.

    `share` is how often the kind appears in each repetition after the first full set (0: only
    once); `python` in `command` stands for the demo's own interpreter.
    """

    name: str
    command: tuple[str, ...]
    expected_state: str
    expected_reason: str | None = None
    share: int = 1
    image: str | None = None
    simulator: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoTask:
    """One task to submit: its kind and its map index (the repetition number of that kind)."""

    kind: Kind
    map_index: int

    @property
    def task_id(self) -> str:
        return self.kind.name


def _sh(script: str) -> tuple[str, ...]:
    return ("sh", "-c", script)


def _py(code: str) -> tuple[str, ...]:
    return ("python", "-c", code)


KINDS: tuple[Kind, ...] = (
    Kind("shell-hello", _sh("echo hello from a shell task; uname -s"), SUCCESS, share=8),
    Kind(
        "python-hello",
        _py("import platform; print('hello from Python', platform.python_version())"),
        SUCCESS,
        share=3,
    ),
    Kind("shell-count", _sh("seq 1 1000 | wc -l"), SUCCESS, share=8),
    Kind("python-compute", _py("print(sum(i * i for i in range(100_000)))"), SUCCESS, share=3),
    Kind(
        "python-json",
        _py("import json; print(json.dumps({'rows': 42, 'ok': True}))"),
        SUCCESS,
        share=3,
    ),
    Kind("shell-sleep", _sh("echo working; sleep 1; echo done"), SUCCESS, share=0),
    Kind(
        "python-sleep",
        _py("import time; print('sleeping', flush=True); time.sleep(1); print('awake')"),
        SUCCESS,
        share=0,
    ),
    Kind("shell-exit-3", _sh("echo 'input missing' >&2; exit 3"), FAILED, "Error (exit 3)"),
    Kind(
        "python-exit-3",
        _py("import sys; print('bad row 17'); sys.exit(3)"),
        FAILED,
        "Error (exit 3)",
    ),
    Kind(
        "python-exception",
        _py("raise ValueError('cannot parse the date 2024-13-01')"),
        FAILED,
        "Error (exit 1)",
    ),
    Kind(
        "bad-image",
        _sh("echo never runs"),
        FAILED,
        "ErrImagePull",
        image="registry.invalid/podrunner/no-such-image:1.0",
        simulator={"pull": "fail"},
    ),
    Kind(
        "out-of-memory",
        _py(
            "print('allocating', flush=True); data = bytearray(64 << 20); import time; "
            "time.sleep(5)"
        ),
        FAILED,
        "OOMKilled (exit 137)",
        simulator={"oom": "true", "run-seconds": "0.5"},
    ),
)


def demo_tasks(count: int, kinds: tuple[Kind, ...] = KINDS) -> list[DemoTask]:
    """`count` tasks: every kind once (in order), then the quick mix repeated."""
    mix = [kind for kind in kinds for _ in range(kind.share)]
    chosen = itertools.islice(itertools.chain(kinds, itertools.cycle(mix)), count)
    seen: dict[str, int] = {}
    tasks = []
    for kind in chosen:
        tasks.append(DemoTask(kind, seen.get(kind.name, 0)))
        seen[kind.name] = seen.get(kind.name, 0) + 1
    return tasks


def job(task: DemoTask, *, run_id: str, namespace: str, python: str) -> dict[str, Any]:
    """The job that runs `task`; `python` is the interpreter commands use."""
    command = [python if part == "python" else part for part in task.kind.command]
    body: dict[str, Any] = {
        "version": 1,
        "dag_id": DAG_ID,
        "task_id": task.task_id,
        "run_id": run_id,
        "map_index": task.map_index,
        "try_number": 1,
        "command": command,
        "namespace": namespace,
    }
    if task.kind.image is not None:
        body["image"] = task.kind.image
    if task.kind.simulator:
        body["annotations"] = {ANNOTATION_PREFIX + k: v for k, v in task.kind.simulator.items()}
    return body

"""The run's tasks: what each does, how it goes in, and the state it must end in.

The mix is a busy deployment's: most tasks succeed, some exit 3, some never get their image, some
are OOM-killed, and some fail and are retried (try 2 or 3) until they succeed, the way Airflow
retries a task. Nine in ten go through `POST /api/v1/jobs`, one in ten straight onto the kombu
queue, as another program would put them there. A task's behaviour is set per try with kubesim's
`kubesim.podrunner.io/*` annotations.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from typing import Any

from shared.messages import SCHEMA_VERSION, Job

DAG = "chaos"
NAMESPACE = "jobs"


class Kind(enum.StrEnum):
    SUCCESS = "success"
    EXIT_3 = "exit-3"
    PULL_FAILS = "pull-fails"
    OOM = "oom"
    RETRIED = "retried"


class Route(enum.StrEnum):
    API = "api"
    QUEUE = "queue"


#: The mix, in hundredths: 74 + 10 + 3 + 3 + 10.
MIX = (
    (Kind.SUCCESS, 74),
    (Kind.EXIT_3, 10),
    (Kind.PULL_FAILS, 3),
    (Kind.OOM, 3),
    (Kind.RETRIED, 10),
)


@dataclass(frozen=True)
class Expected:
    state: str
    try_number: int
    reason_prefix: str | None = None

    def judge(self, row: Any) -> str | None:
        """Why `row` is not what this task must end as; None when it is."""
        if (row.state, row.try_number) != (self.state, self.try_number):
            wanted = f"{self.state} at try {self.try_number}"
            return f"{row.state} at try {row.try_number}, expected {wanted}"
        reason = row.failure_reason or ""
        if self.reason_prefix is not None and not reason.startswith(self.reason_prefix):
            return f"reason {reason!r}, expected it to start with {self.reason_prefix!r}"
        return None


@dataclass(frozen=True)
class Task:
    task_id: str
    kind: Kind
    route: Route
    tries: int
    run_seconds: float

    def job(self, try_number: int, run_id: str) -> Job:
        behaviour = {"run-seconds": f"{self.run_seconds:.2f}", **self._behaviour(try_number)}
        notes = {f"kubesim.podrunner.io/{name}": value for name, value in behaviour.items()}
        return Job(
            version=SCHEMA_VERSION,
            dag_id=DAG,
            task_id=self.task_id,
            run_id=run_id,
            try_number=try_number,
            command=["python", "-c", f"print('{self.task_id} try {try_number}')"],
            namespace=NAMESPACE,
            annotations=notes,
        )

    @property
    def expected(self) -> Expected:
        return {
            Kind.SUCCESS: Expected("success", 1),
            Kind.EXIT_3: Expected("failed", 1, "Error (exit 3)"),
            Kind.PULL_FAILS: Expected("failed", 1, "ErrImagePull"),
            Kind.OOM: Expected("failed", 1, "OOMKilled"),
            Kind.RETRIED: Expected("success", self.tries),
        }[self.kind]

    def is_over(self, row: Any) -> bool:
        """Whether `row` is this task's last word: terminal, with no further try to come."""
        if row is None or row.state not in ("success", "failed"):
            return False
        return (
            row.state == "success" or self.kind is not Kind.RETRIED or row.try_number >= self.tries
        )

    def _behaviour(self, try_number: int) -> dict[str, str]:
        if self.kind is Kind.EXIT_3 or (self.kind is Kind.RETRIED and try_number < self.tries):
            return {"exit-code": "3"}
        if self.kind is Kind.PULL_FAILS:
            return {"pull": "fail"}
        if self.kind is Kind.OOM:
            return {"oom": "true"}
        return {}


def plan(count: int, *, seed: int) -> list[Task]:
    """`count` tasks in the mix, shuffled by `seed`."""
    chooser = random.Random(seed)
    kinds = [kind for kind, share in MIX for _ in range(share)]
    tasks = []
    for n in range(count):
        kind = chooser.choice(kinds)
        route = Route.QUEUE if chooser.random() < 0.10 else Route.API
        tries = chooser.choice((2, 3)) if kind is Kind.RETRIED else 1
        tasks.append(Task(f"t{n:05d}-{kind.value}", kind, route, tries, chooser.uniform(0.1, 1.5)))
    return tasks

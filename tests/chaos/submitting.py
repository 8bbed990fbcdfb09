"""Putting the run's tasks in, through the API and the queue, and their retries after failures.

A submission is retried until it is recorded, as a careful client would: the API may be down (its
reconciler was just killed) or answer 5xx, the broker may be restarting. A 409 means the try is
already recorded (an earlier attempt got through before its answer was lost), which is success.
Jobs sent straight to the queue are durable only once their launch event made their row, so
before Redis is wiped the run waits until every one of them has its row (`unrecorded`).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import sqlalchemy

from shared.messages import Job
from shared.messaging.connections import MessagingError
from shared.messaging.jobqueue import BrokerSettings, JobQueue
from tests.chaos.workload import DAG, NAMESPACE, Kind, Route, Task
from tests.support.services import API_HEADERS

#: How long one submission is retried before the run gives up on it (and counts it as refused).
SUBMIT_DEADLINE_S = 90.0


@dataclass
class Submitter:
    tasks: list[Task]
    run_id: str
    api_ports: Callable[[], list[int]]
    broker_url: str
    engine: sqlalchemy.Engine
    #: Cleared while Redis is about to be wiped: nothing goes straight onto the queue then.
    queue_open: threading.Event = field(default_factory=threading.Event)
    submitted: dict[str, int] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    _queued: set[tuple[str, int]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ports: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.queue_open.set()
        self._jobs = JobQueue(BrokerSettings(self.broker_url))

    def submit_all(self, *, seconds: float, stop: threading.Event) -> None:
        """Submit try 1 of every task, spread evenly over `seconds`."""
        started = time.monotonic()
        for n, task in enumerate(self.tasks):
            due = started + seconds * n / max(1, len(self.tasks))
            if stop.wait(max(0.0, due - time.monotonic())):
                return
            self._submit(task, 1)

    def retry_failed(self) -> int:
        """Submit the next try of every retried task whose current try failed; how many."""
        retried = {t.task_id: t for t in self.tasks if t.kind is Kind.RETRIED}
        query = sqlalchemy.text(
            "SELECT task_id, try_number FROM task_instance "
            "WHERE dag_id = :dag AND state = 'failed' AND run_id = :run"
        )
        with self.engine.connect() as connection:
            failed = connection.execute(query, {"dag": DAG, "run": self.run_id}).all()
        count = 0
        for task_id, try_number in failed:
            task = retried.get(task_id)
            if (
                task is not None
                and try_number < task.tries
                and self.submitted[task_id] == try_number
            ):
                self._submit(task, try_number + 1)
                count += 1
        return count

    def unrecorded(self) -> list[tuple[str, int]]:
        """Tries sent straight to the queue that have no row yet."""
        with self._lock:
            waiting = set(self._queued)
        if not waiting:
            return []
        query = sqlalchemy.text(
            "SELECT task_id, try_number FROM task_instance WHERE dag_id = :dag AND run_id = :run"
        )
        with self.engine.connect() as connection:
            rows: dict[str, int] = dict(
                connection.execute(query, {"dag": DAG, "run": self.run_id}).all()
            )
        recorded = {(task, tried) for task, tried in waiting if rows.get(task, 0) >= tried}
        with self._lock:
            self._queued -= recorded
            return sorted(self._queued)

    def close(self) -> None:
        self._jobs.close()

    def _submit(self, task: Task, try_number: int) -> None:
        job = task.job(try_number, self.run_id)
        if task.route is Route.QUEUE:
            self.queue_open.wait()
            with self._lock:
                self._queued.add((task.task_id, try_number))
            ok = self._publish(job)
        else:
            ok = self._post(job)
        self.submitted[task.task_id] = try_number
        if not ok:
            self.refused.append(f"{task.task_id} try {try_number}")

    def _post(self, job: Job) -> bool:
        deadline = time.monotonic() + SUBMIT_DEADLINE_S
        while time.monotonic() < deadline:
            ports = self.api_ports()
            port = ports[next(self._ports) % len(ports)]
            try:
                url = f"http://127.0.0.1:{port}/api/v1/jobs"
                response = httpx.post(url, content=job.encode(), timeout=10, headers=_JSON)
            except httpx.TransportError:
                time.sleep(0.1)
                continue
            if response.status_code in (201, 202, 409):
                return True
            if response.status_code < 500:
                return False
            time.sleep(0.1)
        return False

    def _publish(self, job: Job) -> bool:
        deadline = time.monotonic() + SUBMIT_DEADLINE_S
        while time.monotonic() < deadline:
            try:
                self._jobs.publish([(job, NAMESPACE)])
            except MessagingError:
                time.sleep(0.2)
                continue
            return True
        return False


_JSON = API_HEADERS

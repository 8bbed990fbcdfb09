"""Submitting tasks and waiting for their rows, for the end-to-end tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

import httpx
import sqlalchemy
from kombu.connection import Connection
from kombu.entity import Exchange, Queue

from shared import intake
from shared.messages import Job
from shared.messaging.jobqueue import BrokerSettings, JobQueue
from shared.messaging.keys import job_queue
from tests.support import builders

TERMINAL = ("success", "failed")


def job(task_id: str, behaviour: dict[str, str] | None = None, **changes: Any) -> Job:
    notes = {f"kubesim.podrunner.io/{k}": v for k, v in (behaviour or {}).items()}
    return builders.job(
        dag_id="e2e", task_id=task_id, run_id="r1", namespace="jobs", annotations=notes, **changes
    )


def submit(db: sqlalchemy.Engine, redis_url: str, jobs: Iterable[Job]) -> None:
    """Through the same intake as `podrunner submit` and the API: row first, then the queue."""
    queue = JobQueue(BrokerSettings(url=redis_url))
    try:
        for each in jobs:
            intake.submit(db, queue, each, default_namespace="jobs")
    finally:
        queue.close()


def publish_raw(redis_url: str, body: bytes) -> None:
    """What any kombu producer could send to the `jobs` queue."""
    with Connection(redis_url.replace("unix://", "redis+socket://")) as connection:
        exchange = Exchange("podrunner.jobs", type="direct", durable=True)
        queue = Queue(job_queue("jobs"), exchange=exchange, routing_key="jobs")
        connection.Producer().publish(
            body,
            exchange=exchange,
            routing_key="jobs",
            declare=[queue],
            content_type="application/json",
            content_encoding="utf-8",
        )


def rows(db: sqlalchemy.Engine) -> dict[str, Any]:
    with db.connect() as connection:
        query = sqlalchemy.text("SELECT * FROM task_instance")
        return {row.task_id: row for row in connection.execute(query)}


def wait_terminal(db: sqlalchemy.Engine, count: int, *, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    found: dict[str, Any] = {}
    while time.monotonic() < deadline:
        found = rows(db)
        done = [r for r in found.values() if r.state in TERMINAL]
        if len(found) >= count and len(done) == len(found):
            return found
        time.sleep(0.25)
    states = sorted((r.task_id, r.state) for r in found.values() if r.state not in TERMINAL)
    raise AssertionError(f"not terminal after {timeout_s}s: {states[:10]}")


def pods(kubesim_url: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{kubesim_url}/api/v1/namespaces/jobs/pods", timeout=10)
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def leftovers(kubesim_url: str, *, timeout_s: float) -> list[str]:
    """Pods still there (all should go once recorded) or still holding the result finalizer."""
    deadline = time.monotonic() + timeout_s
    names: list[str] = []
    while time.monotonic() < deadline:
        names = [p["metadata"]["name"] for p in pods(kubesim_url)]
        if not names:
            break
        time.sleep(0.25)
    return names


class Deleter:
    """Deletes, as an outsider would, every running pod whose task id starts with `prefix`."""

    def __init__(self, kubesim_url: str, prefix: str) -> None:
        self._url = kubesim_url
        self._prefix = prefix
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="deleter")
        self.deleted: set[str] = set()

    def __enter__(self) -> Deleter:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for pod in pods(self._url):
                name = pod["metadata"]["name"]
                task = pod["metadata"]["annotations"].get("podrunner.io/task-id", "")
                running = pod["status"].get("phase") == "Running"
                if task.startswith(self._prefix) and running and name not in self.deleted:
                    httpx.delete(f"{self._url}/api/v1/namespaces/jobs/pods/{name}", timeout=10)
                    self.deleted.add(name)


def lose_queued_jobs(redis_url: str, namespace: str) -> None:
    """Take every job off the namespace's queue and drop it: the broker lost them."""
    queue = JobQueue(BrokerSettings(url=redis_url))
    with queue.consumer([namespace], prefetch=100) as consumer:
        while deliveries := consumer.poll(timeout_s=0.5, most=100):
            for delivery in deliveries:
                delivery.ack()

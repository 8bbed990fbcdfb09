"""Fixtures for the job-queue tests: a queue with a short visibility timeout, and taking jobs."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from shared.messages import Job
from shared.messaging.jobqueue import BrokerSettings, Delivery, JobQueue


@pytest.fixture
def queue(redis_url: str) -> Iterator[JobQueue]:
    jobs = JobQueue(BrokerSettings(url=redis_url, visibility_timeout_s=1.0))
    yield jobs
    jobs.close()


def take(queue: JobQueue, namespaces: list[str], count: int, *, timeout_s: float = 5) -> list[Job]:
    """Take `count` jobs (acknowledging each), or fail after `timeout_s`."""
    taken: list[Delivery] = []
    deadline = time.monotonic() + timeout_s
    with queue.consumer(namespaces, prefetch=1) as consumer:
        while len(taken) < count and time.monotonic() < deadline:
            for delivery in consumer.poll(timeout_s=0.2):
                delivery.ack()
                taken.append(delivery)
    assert len(taken) == count, f"took {len(taken)} of {count} jobs"
    return [Job.decode(delivery.body) for delivery in taken]

"""A consumer killed at any moment, again and again while jobs stream through, loses no job: each
is still in its queue, recorded as taken (and restored after the visibility timeout), or was
delivered."""

from __future__ import annotations

import base64
import json
import queue as stdlib_queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis

from shared.messages import Job
from shared.messaging.jobqueue import JobQueue
from shared.messaging.keys import job_queue
from tests.support import builders

ROUNDS = 6
BATCH = 8


class Streamer:
    """A job_streamer process, and the task ids it reported."""

    def __init__(self, redis_url: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.job_streamer", redis_url, "ns", "4"],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: stdlib_queue.Queue[str] = stdlib_queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.strip())

    def reported(self) -> set[str]:
        """What it reported that `collect` has not yet taken (all of it, once it is dead)."""
        reported: set[str] = set()
        while not self.lines.empty():
            reported.add(self.lines.get_nowait())
        return reported

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self._reader.join(timeout=5)
        assert self.process.stdout is not None
        self.process.stdout.close()


@contextmanager
def streaming(redis_url: str) -> Iterator[Streamer]:
    streamer = Streamer(redis_url)
    try:
        yield streamer
    finally:
        if streamer.process.poll() is None:
            streamer.kill()


def collect(streamer: Streamer, delivered: set[str], wanted: set[str], timeout_s: float) -> None:
    """Add what `streamer` reports to `delivered` until it holds `wanted`, or the time is up."""
    deadline = time.monotonic() + timeout_s
    while not wanted <= delivered and time.monotonic() < deadline:
        try:
            delivered.add(streamer.lines.get(timeout=0.05))
        except stdlib_queue.Empty:
            continue


def held(redis_client: redis.Redis) -> set[str]:
    """Task ids of the jobs waiting in the queue's lists or recorded as taken (kombu's records)."""
    lists = redis_client.keys(job_queue("ns") + "*")
    envelopes = [json.loads(raw) for key in lists for raw in redis_client.lrange(key, 0, -1)]
    envelopes += [json.loads(raw)[0] for raw in redis_client.hvals("unacked")]
    return {Job.decode(_body(envelope)).task_id for envelope in envelopes}


def _body(envelope: dict[str, Any]) -> bytes:
    body = str(envelope["body"])
    if envelope["properties"].get("body_encoding") == "base64":
        return base64.b64decode(body)
    return body.encode()


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_a_consumer_killed_again_and_again_while_jobs_stream_through_loses_no_job(
    queue: JobQueue, redis_url: str, redis_client: redis.Redis
) -> None:
    published: set[str] = set()
    delivered: set[str] = set()
    for round_number in range(ROUNDS):
        with streaming(redis_url) as streamer:
            # Given jobs streaming through a consumer
            batch = {f"r{round_number}-{n}" for n in range(BATCH)}
            queue.publish((builders.job(task_id=task_id), "ns") for task_id in batch)
            published |= batch
            collect(streamer, delivered, batch, timeout_s=10)
            # When it dies: in every other round frozen first, idle, as more jobs arrive
            late = {f"r{round_number}-late{n}" for n in range(3)}
            if round_number % 2:
                streamer.process.send_signal(signal.SIGSTOP)
            queue.publish((builders.job(task_id=task_id), "ns") for task_id in late)
            published |= late
            streamer.kill()
            delivered |= streamer.reported()
    # Expect every job not delivered still in its queue or recorded as taken
    assert published - delivered <= held(redis_client), "jobs recorded nowhere"
    # and delivered again once the visibility timeout has passed
    with streaming(redis_url) as streamer:
        collect(streamer, delivered, published, timeout_s=20)
    assert published - delivered == set()

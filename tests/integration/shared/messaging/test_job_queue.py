"""The kombu job queues: routing by namespace, priority order, redelivery of unacked jobs."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from shared.messaging.jobqueue import Delivery, JobQueue
from tests.integration.shared.messaging.conftest import take
from tests.support import builders


def test_jobs_are_routed_to_their_namespaces_queue(queue: JobQueue) -> None:
    queue.publish([(builders.job(task_id="a"), "team-a"), (builders.job(task_id="b"), "team-b")])
    assert [job.task_id for job in take(queue, ["team-b"], 1)] == ["b"]
    assert queue.depth("team-a") == 1
    assert queue.depth("team-b") == 0


def test_higher_priority_jobs_are_taken_first(queue: JobQueue) -> None:
    priorities = [0, 5, 9, 1, 7, 3]
    queue.publish((builders.job(task_id=f"p{p}", priority=p), "ns") for p in priorities)
    taken = take(queue, ["ns"], len(priorities))
    assert [job.priority for job in taken] == sorted(priorities, reverse=True)


def test_the_body_is_the_plain_job_json(queue: JobQueue) -> None:
    job = builders.job()
    queue.publish([(job, "ns")])
    with queue.consumer(["ns"], prefetch=1) as consumer:
        deadline = time.monotonic() + 5
        deliveries: list[Delivery] = []
        while not deliveries and time.monotonic() < deadline:
            deliveries = consumer.poll(timeout_s=0.2)
        [delivery] = deliveries
        delivery.ack()
    assert json.loads(delivery.body) == job.to_dict()
    assert delivery.namespace == "ns"


def test_a_requeued_job_is_delivered_again(queue: JobQueue) -> None:
    queue.publish([(builders.job(), "ns")])
    with queue.consumer(["ns"], prefetch=1) as consumer:
        deadline = time.monotonic() + 5
        while not (first := consumer.poll(timeout_s=0.2)) and time.monotonic() < deadline:
            pass
        first[0].requeue()
    assert len(take(queue, ["ns"], 1)) == 1


def test_a_job_held_by_a_killed_consumer_is_delivered_to_another(
    queue: JobQueue, redis_url: str
) -> None:
    # Given a consumer process that took the job and was then killed without acknowledging it
    job = builders.job(task_id="survivor")
    queue.publish([(job, "ns")])
    taker = subprocess.Popen(
        [sys.executable, "-m", "tests.support.job_taker", redis_url, "ns"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert taker.stdout is not None
    assert json.loads(taker.stdout.readline())["task_id"] == "survivor"
    taker.send_signal(signal.SIGKILL)
    taker.wait()
    taker.stdout.close()
    # When another consumer polls past the visibility timeout, expect the same job
    [again] = take(queue, ["ns"], 1, timeout_s=10)
    assert again == job


def test_the_depths_of_several_queues_are_read_in_one_call(queue: JobQueue) -> None:
    queue.publish([(builders.job(task_id=f"a{n}"), "team-a") for n in range(3)])
    queue.publish([(builders.job(task_id="b"), "team-b")])
    assert queue.depths(["team-a", "team-b", "team-c"]) == {"team-a": 3, "team-b": 1, "team-c": 0}

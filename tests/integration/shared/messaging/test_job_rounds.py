"""Jobs on Redis are taken in rounds: as many as the prefetch allows per poll, recorded as kombu
records them, acknowledged together; a message kombu could not have written is handed over raw."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import redis

from shared.messages import Job
from shared.messaging.jobqueue import Delivery, JobConsumer, JobQueue
from shared.messaging.keys import job_queue
from tests.integration.shared.messaging.conftest import take
from tests.support import builders


def first_poll(consumer: JobConsumer, *, most: int, timeout_s: float = 5) -> list[Delivery]:
    deadline = time.monotonic() + timeout_s
    while not (deliveries := consumer.poll(timeout_s=0.2, most=most)):
        assert time.monotonic() < deadline, "nothing arrived"
    return deliveries


def test_one_poll_takes_as_many_jobs_as_the_prefetch_allows_in_priority_order(
    queue: JobQueue,
) -> None:
    priorities = [0, 5, 9, 1, 7, 3, 8, 2]
    queue.publish((builders.job(task_id=f"p{p}", priority=p), "ns") for p in priorities)
    with queue.consumer(["ns"], prefetch=5) as consumer:
        taken = first_poll(consumer, most=5)
        with consumer.settling():
            for delivery in taken:
                delivery.ack()
    assert [Job.decode(d.body).priority for d in taken] == [9, 8, 7, 5, 3]
    assert queue.depth("ns") == 3


def test_a_round_is_recorded_as_taken_and_forgotten_once_acknowledged_together(
    queue: JobQueue, redis_client: redis.Redis
) -> None:
    # kombu's own records of taken jobs: what its visibility timeout restores from
    def held() -> tuple[int, int]:
        return int(redis_client.hlen("unacked")), int(redis_client.zcard("unacked_index"))

    queue.publish((builders.job(task_id=f"t{n}"), "ns") for n in range(6))
    with queue.consumer(["ns"], prefetch=6) as consumer:
        taken = first_poll(consumer, most=6)
        assert held() == (6, 6)
        with consumer.settling():
            for delivery in taken:
                delivery.ack()
            assert held() == (6, 6), "acknowledgements leave together, on leaving"
        assert held() == (0, 0)
    assert len(taken) == 6
    assert queue.depth("ns") == 0


def test_every_job_of_a_round_held_by_a_killed_consumer_is_delivered_to_another(
    queue: JobQueue, redis_url: str
) -> None:
    # Given a consumer process that took four jobs in one round and was killed holding them
    jobs = [builders.job(task_id=f"held{n}") for n in range(4)]
    queue.publish((job, "ns") for job in jobs)
    taker = subprocess.Popen(
        [sys.executable, "-m", "tests.support.job_taker", redis_url, "ns", "4"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert taker.stdout is not None
    held = [json.loads(taker.stdout.readline())["task_id"] for _ in jobs]
    taker.send_signal(signal.SIGKILL)
    taker.wait()
    taker.stdout.close()
    assert sorted(held) == sorted(job.task_id for job in jobs)
    # When another consumer polls past the visibility timeout, expect all four again
    again = take(queue, ["ns"], len(jobs), timeout_s=10)
    assert sorted(job.task_id for job in again) == sorted(held)


def test_a_message_kombu_could_not_have_written_is_handed_over_raw_with_the_jobs_around_it(
    queue: JobQueue, redis_client: redis.Redis
) -> None:
    queue.publish([(builders.job(task_id="before"), "ns")])
    redis_client.lpush(job_queue("ns"), b"not an envelope", b'{"neither": "is this"}')
    queue.publish([(builders.job(task_id="after"), "ns")])
    with queue.consumer(["ns"], prefetch=10) as consumer:
        taken = first_poll(consumer, most=10)
        with consumer.settling():
            for delivery in taken:
                delivery.ack()
    # pushed into the queue's most urgent list, so taken first
    assert [d.body for d in taken[:2]] == [b"not an envelope", b'{"neither": "is this"}']
    assert [Job.decode(d.body).task_id for d in taken[2:]] == ["before", "after"]
    assert {d.namespace for d in taken} == {"ns"}
    assert queue.depth("ns") == 0

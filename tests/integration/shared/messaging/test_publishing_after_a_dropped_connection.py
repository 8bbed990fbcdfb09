"""A batch of jobs published on a pooled connection the broker has since closed (a Redis
restart, an idle timeout) still leaves, whole: the round is sent again on a fresh connection,
and nothing surfaces to the caller."""

from __future__ import annotations

import redis

from shared.messaging.jobqueue import JobQueue
from tests.support import builders


def _drop_every_other_connection(redis_url: str) -> None:
    """Close every client connection of the server but the one doing it."""
    with redis.Redis.from_url(redis_url) as admin:
        admin.client_kill_filter(_type="normal", skipme=True)


def test_a_batch_on_a_connection_the_broker_closed_is_published_whole(
    queue: JobQueue, redis_url: str
) -> None:
    queue.publish([(builders.job(task_id="before"), "ns")])  # the connection is now pooled
    _drop_every_other_connection(redis_url)

    jobs = [(builders.job(task_id=f"after-{n}"), "ns") for n in range(50)]
    assert queue.publish(jobs) == 50

    assert queue.depth("ns") == 51

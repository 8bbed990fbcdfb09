"""The in-memory job queue and slots stand in for Redis: same interfaces, same ordering rules."""

from __future__ import annotations

import pytest

from shared.messaging import connections, jobqueue, slots, stub

NS = "ns"


def test_the_broker_queue_and_the_stub_are_both_job_queues() -> None:
    queues: list[type[jobqueue.Jobs]] = [jobqueue.JobQueue, stub.StubJobQueue]  # checked by mypy
    pools: list[type[slots.Slots]] = [slots.SlotPool, stub.StubSlotPool]
    assert all(issubclass(kind, jobqueue.Jobs) for kind in queues)
    assert all(issubclass(kind, slots.Slots) for kind in pools)


def test_higher_priorities_come_first_then_publishing_order() -> None:
    queue = stub.StubJobQueue()
    for body, priority in [(b"low", 0), (b"high-1", 9), (b"high-2", 9), (b"mid", 5)]:
        queue.put(NS, body, priority=priority)
    with queue.consumer([NS], prefetch=10) as consumer:
        bodies = [d.body for d in consumer.poll(timeout_s=0, most=10)]
    assert bodies == [b"high-1", b"high-2", b"mid", b"low"]


def test_a_consumer_holds_no_more_than_its_prefetch_and_a_requeued_job_keeps_its_place() -> None:
    queue = stub.StubJobQueue()
    for body in (b"a", b"b", b"c"):
        queue.put(NS, body)
    with queue.consumer([NS], prefetch=2) as consumer:
        first = consumer.poll(timeout_s=0, most=5)
        assert [d.body for d in first] == [b"a", b"b"]
        assert consumer.poll(timeout_s=0, most=5) == []
        first[0].requeue()
        first[1].ack()
        assert [d.body for d in consumer.poll(timeout_s=0, most=5)] == [b"a", b"c"]
    assert (queue.depth(NS), queue.unsettled(NS)) == (0, 2)


def test_a_failing_connection_raises_the_messaging_error_an_outage_does() -> None:
    queue = stub.StubJobQueue()
    queue.fail_consumers(1)
    with pytest.raises(connections.MessagingError), queue.consumer([NS], prefetch=1):
        pass
    with queue.consumer([NS], prefetch=1) as consumer:
        assert consumer.poll(timeout_s=0) == []


def test_a_finished_pod_is_refused_a_slot_and_a_full_namespace_takes_no_more() -> None:
    pool = stub.StubSlotPool()
    pool.finish(NS, "done")
    claims = pool.acquire_many(NS, ["done", "a", "b"], limit=1)
    assert claims == [slots.Claim.FINISHED, slots.Claim.TAKEN]

"""The sweep's census of slots: a slot marked created is freed once two rounds running did not
list its pod unfinished; slots of ended pods are freed; live pods without a slot get one; a slot
being created is never touched."""

from __future__ import annotations

import pytest
import redis

from shared.messaging.keys import RedisKeys
from shared.messaging.slots import CREATED, Claim, SlotPool

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def slots(redis_client: redis.Redis, keys: RedisKeys) -> SlotPool:
    pool = SlotPool(redis_client, keys=keys, holder="launcher")
    pool.heartbeat(ttl_s=30)
    return pool


def census(slots: SlotPool, *, live: tuple[str, ...] = (), other: tuple[str, ...] = ()) -> int:
    """One round that lists `live` and `other` unfinished pods; the slots it freed as missing."""
    slots.census_begin("ns")
    slots.census_page("ns", live=list(live), other=list(other), ended=[])
    return slots.census_end("ns")


def created(slots: SlotPool, *pods: str) -> None:
    assert slots.acquire_many("ns", list(pods), limit=100)
    slots.mark_created("ns", *pods)


def test_a_created_slot_missed_by_two_rounds_running_is_freed(slots: SlotPool) -> None:
    created(slots, "gone", "running", "other")
    assert census(slots, live=("running",), other=("other",)) == 0, "one round is not enough"
    assert census(slots, live=("running",), other=("other",)) == 1
    assert slots.held("ns") == {"running": CREATED, "other": CREATED}


def test_a_slot_listed_between_two_misses_is_kept(slots: SlotPool) -> None:
    created(slots, "flaky")
    census(slots)
    census(slots, live=("flaky",))
    assert census(slots) == 0
    assert slots.held("ns") == {"flaky": CREATED}


def test_a_slot_being_created_is_never_freed(slots: SlotPool) -> None:
    slots.acquire("ns", "creating", limit=10)
    for _ in range(3):
        census(slots)
    assert slots.held("ns") == {"creating": "launcher"}


def test_a_live_pod_without_a_slot_gets_one_unless_it_ended(
    slots: SlotPool, redis_client: redis.Redis, keys: RedisKeys
) -> None:
    SlotPool(redis_client, keys=keys, holder="reconciler").finish("ns", "ended")
    slots.census_begin("ns")
    assert slots.census_page("ns", live=["running", "ended"], other=["no-row"], ended=[]) == (1, 0)
    assert slots.held("ns") == {"running": CREATED}


def test_slots_of_ended_pods_are_freed_and_recorded_unless_being_created(slots: SlotPool) -> None:
    created(slots, "ended")
    slots.acquire("ns", "being-created", limit=10)
    slots.census_begin("ns")
    freed = slots.census_page("ns", live=[], other=[], ended=["ended", "being-created", "none"])
    assert freed == (0, 1)
    assert slots.held("ns") == {"being-created": "launcher"}
    assert slots.acquire_many("ns", ["ended"], limit=10) == [Claim.FINISHED]

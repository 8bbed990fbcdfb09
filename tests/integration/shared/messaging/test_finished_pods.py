"""Pods whose task ended are never created again, and a pod a live launcher is creating is fenced
from deletion until that launcher settles, whatever order the two sides run in."""

from __future__ import annotations

import time

import pytest
import redis

from shared.messaging.keys import RedisKeys
from shared.messaging.slots import Claim, SlotPool

pytestmark = pytest.mark.timeout(30)


def launcher(client: redis.Redis, keys: RedisKeys, holder: str = "launcher") -> SlotPool:
    slots = SlotPool(client, keys=keys, holder=holder)
    slots.heartbeat(ttl_s=30)
    return slots


def reconciler(client: redis.Redis, keys: RedisKeys, *, retention_s: float = 3600) -> SlotPool:
    return SlotPool(client, keys=keys, holder="reconciler", finished_retention_s=retention_s)


def test_a_pod_recorded_as_finished_is_refused_without_taking_a_slot(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    reconciler(redis_client, keys).finish("ns", "ended")
    slots = launcher(redis_client, keys)
    claims = slots.acquire_many("ns", ["ended", "fresh"], limit=1)
    assert claims == [Claim.FINISHED, Claim.TAKEN]
    assert slots.held("ns") == {"fresh": "launcher"}


def test_recording_an_end_frees_the_slot_of_a_created_pod(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    slots = launcher(redis_client, keys)
    slots.acquire("ns", "p1", limit=5)
    slots.mark_created("ns", "p1")
    assert reconciler(redis_client, keys).finish("ns", "p1") == frozenset()
    assert slots.count("ns") == 0


def test_an_end_recorded_while_a_live_launcher_creates_the_pod_leaves_it_fenced_until_it_settles(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    # Given a launcher that took the slot and has not created the pod yet
    slots = launcher(redis_client, keys)
    assert slots.acquire("ns", "p1", limit=5)
    # When the task's end is recorded meanwhile (its job was delivered again)
    ended = reconciler(redis_client, keys)
    # Expect the pod reported as being created, its slot kept as the fence
    assert ended.finish("ns", "p1") == {"p1"}
    assert ended.creating("ns", "p1") == {"p1"}
    # and once the launcher settles, the slot freed and the fence gone
    slots.mark_created("ns", "p1")
    assert slots.count("ns") == 0
    assert ended.creating("ns", "p1") == frozenset()
    assert ended.finish("ns", "p1") == frozenset()


def test_a_job_delivered_again_marks_its_created_slot_as_being_created_once_more(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    first = launcher(redis_client, keys, "first")
    first.acquire("ns", "p1", limit=5)
    first.mark_created("ns", "p1")
    second = launcher(redis_client, keys, "second")
    assert second.acquire("ns", "p1", limit=5)
    assert second.held("ns") == {"p1": "second"}
    assert reconciler(redis_client, keys).finish("ns", "p1") == {"p1"}


def test_a_launcher_settling_late_leaves_the_slot_another_launcher_took_since_alone(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    # Given a slow launcher whose job was delivered again to another one
    slow = launcher(redis_client, keys, "slow")
    slow.acquire_many("ns", ["created", "failed"], limit=5)
    other = launcher(redis_client, keys, "other")
    other.acquire_many("ns", ["created", "failed"], limit=5)
    # When the slow one settles
    slow.mark_created("ns", "created")
    slow.give_back("ns", "failed")
    # Expect both still fenced for the other launcher
    assert slow.held("ns") == {"created": "other", "failed": "other"}


def test_the_slot_of_a_launcher_that_died_while_creating_is_no_fence(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    dead = SlotPool(redis_client, keys=keys, holder="dead")  # no heartbeat: it is gone
    dead.acquire("ns", "p1", limit=5)
    assert reconciler(redis_client, keys).finish("ns", "p1") == frozenset()
    assert dead.count("ns") == 0


def test_a_launcher_whose_create_failed_after_the_end_was_recorded_frees_the_slot(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    slots = launcher(redis_client, keys)
    slots.acquire("ns", "p1", limit=5)
    reconciler(redis_client, keys).finish("ns", "p1")
    slots.give_back("ns", "p1")
    assert slots.count("ns") == 0


def test_ends_are_forgotten_after_the_retention(redis_client: redis.Redis, keys: RedisKeys) -> None:
    ended = reconciler(redis_client, keys, retention_s=0.05)
    ended.finish("ns", "old")
    deadline = time.monotonic() + 5
    while redis_client.zscore(keys.finished_pods("ns"), "old") is not None:
        assert time.monotonic() < deadline, "the old end was never forgotten"
        ended.finish("ns", "new")
    assert redis_client.zscore(keys.finished_pods("ns"), "new") is not None

"""A pod whose job a live launcher is creating right now is not deleted, neither when its end is
recorded nor by the sweep: deleted, the launcher's create would run the task a second time. It
goes once the launcher has settled, and its job is never created again."""

from __future__ import annotations

import time

import pytest
import redis

from shared.k8s import naming
from shared.messaging.keys import RedisKeys
from shared.messaging.slots import Claim, SlotPool
from tests.integration.services.reconciler.conftest import Kit, finished
from tests.support import builders

pytestmark = pytest.mark.timeout(60)


def test_a_pod_being_created_when_its_end_is_recorded_stays_until_its_launcher_settles(
    kit: Kit, launcher: SlotPool
) -> None:
    # Given a finished pod whose job, delivered again, a live launcher is creating
    job = builders.job(task_id="fenced", namespace=kit.namespace)
    kit.submit(job)
    pod = kit.create_pod(job)
    kit.wait_for_pod(pod, finished)
    assert launcher.acquire(kit.namespace, pod, limit=10)
    # When its end is recorded
    assert kit.sweep() == ["missed-end"]
    assert kit.row(job)["state"] == "success"
    # Expect the pod kept whole, and its job refused from now on
    kept = kit.pod(pod)
    assert kept is not None
    assert naming.RESULT_FINALIZER in kept["metadata"]["finalizers"]
    assert launcher.acquire_many(kit.namespace, [pod], limit=10) == [Claim.FINISHED]
    # and once the launcher settled (its create found the pod), the pod let go with the next
    # follow-ups
    launcher.mark_created(kit.namespace, pod)
    kit.follow_ups.run([])
    kit.wait_gone(pod)
    assert launcher.count(kit.namespace) == 0


def test_a_pod_kept_for_a_launcher_is_let_go_by_the_finalizer_sweep_too(
    kit: Kit, launcher: SlotPool
) -> None:
    # Given a pod kept whole for a launcher creating it (what a reconciler that restarted
    # since finds: the pod still holds its finalizer)
    job = builders.job(task_id="restarted", namespace=kit.namespace)
    kit.submit(job)
    pod = kit.create_pod(job)
    kit.wait_for_pod(pod, finished)
    assert launcher.acquire(kit.namespace, pod, limit=10)
    assert kit.sweep() == ["missed-end"]
    # When the launcher settles and the sweep runs
    launcher.mark_created(kit.namespace, pod)
    assert kit.sweep() == ["finalizer-leak"]
    # Expect the pod let go
    kit.wait_gone(pod)


def test_a_pod_kept_for_a_launcher_that_died_is_let_go_and_its_slot_freed_once_its_heartbeat_lapsed(
    kit: Kit, redis_client: redis.Redis, keys: RedisKeys
) -> None:
    # Given a pod kept whole for a launcher that took its slot, then died
    dying = SlotPool(redis_client, keys=keys, holder="dying")
    dying.heartbeat(ttl_s=0.5)
    job = builders.job(task_id="orphaned-create", namespace=kit.namespace)
    kit.submit(job)
    pod = kit.create_pod(job)
    kit.wait_for_pod(pod, finished)
    assert dying.acquire(kit.namespace, pod, limit=10)
    assert kit.sweep() == ["missed-end"]
    assert kit.pod(pod) is not None
    # When the follow-ups run on, idle, until its heartbeat lapsed
    deadline = time.monotonic() + 10
    while kit.pod(pod) is not None:
        assert time.monotonic() < deadline, "the pod was never let go"
        kit.follow_ups.run([])
        time.sleep(0.1)
    # Expect its slot freed too
    assert dying.count(kit.namespace) == 0

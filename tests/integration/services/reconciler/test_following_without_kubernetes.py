"""When Kubernetes cannot be reached after a commit: slots are still freed, in one call per
namespace, and a relaunch waits for its old pod to be let go."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
import sqlalchemy
from kubernetes import client

from services.reconciler.applying import Outcome
from services.reconciler.following import FollowUps, PodPolicy
from services.reconciler.ledger import Decision, FollowUp
from shared.db.ledger_rows import Row
from shared.db.models import TaskState
from shared.k8s.pods import PodApi
from shared.messages import TaskKey
from shared.messaging.keys import RedisKeys
from shared.messaging.slots import SlotPool

pytestmark = pytest.mark.timeout(30)

FINISHED = frozenset({FollowUp.RELEASE_POD, FollowUp.FREE_SLOT})
RESCHEDULED = FINISHED | {FollowUp.RELAUNCH}


@pytest.fixture
def unreachable() -> Iterator[PodApi]:
    """The real client, aimed at a port where nothing listens."""
    configuration = client.Configuration(host="http://127.0.0.1:9")
    configuration.retries = False
    api_client = client.ApiClient(configuration)
    yield PodApi(api_client, timeout_s=2.0)
    api_client.close()


def outcome(task_id: str, namespace: str, state: TaskState, owed: frozenset[FollowUp]) -> Outcome:
    row = Row(try_number=1, state=state, pod_name=f"pod-{task_id}")
    return Outcome(TaskKey("etl", task_id, "run", -1), namespace, Decision(row, owed))


def test_finished_tasks_free_their_slots_even_when_their_pods_cannot_be_released(
    db: sqlalchemy.Engine, redis_client: redis.Redis, keys: RedisKeys, unreachable: PodApi
) -> None:
    slots = SlotPool(redis_client, keys=keys, holder="launcher")
    for namespace, pod in [("a", "pod-1"), ("a", "pod-2"), ("b", "pod-3")]:
        assert slots.acquire(namespace, pod, limit=10)
    relaunched: list[Outcome] = []
    follow_ups = FollowUps(
        engine=db, pods=unreachable, slots=slots, relaunch=relaunched.append, policy=PodPolicy()
    )
    try:
        follow_ups.run(
            [
                outcome("1", "a", TaskState.SUCCESS, FINISHED),
                outcome("2", "a", TaskState.FAILED, FINISHED),
                outcome("3", "b", TaskState.UP_FOR_RESCHEDULE, RESCHEDULED),
            ]
        )
    finally:
        follow_ups.close()
    assert (slots.count("a"), slots.count("b")) == (0, 0)
    # the old pod of task 3 may still be there: a new one of the same name must wait
    assert relaunched == []

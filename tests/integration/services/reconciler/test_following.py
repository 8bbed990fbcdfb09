"""After a commit: the failed pod's log tail is kept, the finalizer released, the pod deleted or
kept by policy, and the slot freed."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import redis
import sqlalchemy

from services.reconciler.applying import Applier, Outcome
from services.reconciler.following import FollowUps, PodPolicy
from services.reconciler.ledger import Rules
from shared.k8s import naming
from shared.k8s.pods import PodApi
from shared.k8s.rendering import RenderSettings, render_pod
from shared.k8s.template_files import Templates
from shared.messages import SCHEMA_VERSION, LaunchEvent, LaunchOutcome, PodEvent, PodPhase
from shared.messaging import streams
from shared.messaging.keys import RedisKeys
from shared.messaging.slots import SlotPool
from shared.messaging.streams import GroupSettings, StreamConsumer
from tests.support import builders
from tests.support.cluster import Cluster


def run_to_the_end(
    cluster: Cluster, namespace: str, instance: str, task_id: str, exit_code: int
) -> tuple[Any, str]:
    job = builders.job(
        task_id=task_id,
        namespace=namespace,
        annotations={
            "kubesim.podrunner.io/exit-code": str(exit_code),
            "kubesim.podrunner.io/log": "one\ntwo\nthree",
        },
    )
    pod = render_pod(
        job, settings=RenderSettings(instance, namespace, "busybox:1.37"), templates=Templates()
    )
    assert cluster.http.post(f"/api/v1/namespaces/{namespace}/pods", json=pod).status_code == 201
    name = str(pod["metadata"]["name"])
    deadline = time.monotonic() + 10
    while cluster.http.get(f"/api/v1/namespaces/{namespace}/pods/{name}").json()["status"].get(
        "phase"
    ) not in ("Succeeded", "Failed"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return job, name


def apply(
    db: sqlalchemy.Engine,
    client: redis.Redis,
    keys: RedisKeys,
    job: Any,
    name: str,
    namespace: str,
    exit_code: int,
) -> list[Outcome]:
    reader = StreamConsumer(
        client,
        keys=keys,
        streams=[keys.launches, keys.pod_events(namespace)],
        settings=GroupSettings(group="reconciler", consumer="r1"),
    )
    now = datetime.now(UTC)
    launch = LaunchEvent(
        version=SCHEMA_VERSION,
        key=job.key,
        try_number=1,
        namespace=namespace,
        pod=name,
        outcome=LaunchOutcome.CREATED,
        job=job,
        at=now,
    )
    end = PodEvent(
        version=SCHEMA_VERSION,
        key=job.key,
        try_number=1,
        namespace=namespace,
        pod=name,
        phase=PodPhase.SUCCEEDED if exit_code == 0 else PodPhase.FAILED,
        terminated_reason="Completed" if exit_code == 0 else "Error",
        exit_code=exit_code,
        started_at=now,
        resource_version="1",
        observed_at=now,
    )
    streams.publish(client, keys.launches, [launch.encode()], maxlen=1000)
    streams.publish(client, keys.pod_events(namespace), [end.encode()], maxlen=1000)
    applier = Applier(db, reader, launches_stream=keys.launches, rules=Rules())
    return applier.apply(reader.read(block_ms=100))


def test_a_failed_pod_leaves_its_log_tail_and_is_kept_without_its_finalizer(
    cluster: Cluster,
    namespace: str,
    instance: str,
    db: sqlalchemy.Engine,
    redis_client: redis.Redis,
    keys: RedisKeys,
    pods: PodApi,
) -> None:
    job, name = run_to_the_end(cluster, namespace, instance, "bad", 3)
    slots = SlotPool(redis_client, keys=keys, holder="launcher")
    slots.acquire(namespace, name, limit=10)
    outcomes = apply(db, redis_client, keys, job, name, namespace, 3)
    FollowUps(
        engine=db, pods=pods, slots=slots, relaunch=lambda _o: None, policy=PodPolicy(log_lines=2)
    ).run(outcomes)
    with db.connect() as connection:
        row = connection.execute(sqlalchemy.text("SELECT state, log_tail FROM task_instance")).one()
    assert (row.state, row.log_tail) == ("failed", "two\nthree\n")
    kept = cluster.http.get(f"/api/v1/namespaces/{namespace}/pods/{name}").json()
    assert naming.RESULT_FINALIZER not in (kept["metadata"].get("finalizers") or [])
    assert kept["metadata"]["labels"][naming.DONE_LABEL] == "failed"
    assert slots.count(namespace) == 0


def test_a_successful_pod_is_deleted_once_its_result_is_recorded(
    cluster: Cluster,
    namespace: str,
    instance: str,
    db: sqlalchemy.Engine,
    redis_client: redis.Redis,
    keys: RedisKeys,
    pods: PodApi,
) -> None:
    job, name = run_to_the_end(cluster, namespace, instance, "ok", 0)
    slots = SlotPool(redis_client, keys=keys, holder="launcher")
    outcomes = apply(db, redis_client, keys, job, name, namespace, 0)
    FollowUps(engine=db, pods=pods, slots=slots, relaunch=lambda _o: None, policy=PodPolicy()).run(
        outcomes
    )
    deadline = time.monotonic() + 10
    while cluster.http.get(f"/api/v1/namespaces/{namespace}/pods/{name}").status_code != 404:
        assert time.monotonic() < deadline, "the pod was not deleted"
        time.sleep(0.05)

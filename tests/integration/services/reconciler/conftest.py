"""A reconciler's parts on real Redis, Postgres and kubesim, for the sweep and follow-up tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
import sqlalchemy
from prometheus_client import CollectorRegistry

from services.reconciler import drift, service
from services.reconciler.applying import Applier, Outcome
from services.reconciler.following import FollowUps, PodPolicy
from services.reconciler.ledger import Rules
from services.reconciler.metrics import ReconcilerMetrics
from services.reconciler.sweeping import Sweeper, SweepSettings
from shared import intake
from shared.k8s import clients, naming
from shared.k8s.pods import PodApi
from shared.k8s.rendering import RenderSettings, render_pod
from shared.k8s.template_files import Templates
from shared.messages import Job
from shared.messaging.jobqueue import JobQueue
from shared.messaging.keys import RedisKeys
from shared.messaging.slots import SlotPool
from shared.messaging.streams import GroupSettings, StreamConsumer
from shared.settings import Settings
from tests.support.clocks import ShiftedUtcClock
from tests.support.cluster import Cluster
from tests.support.kubesim import free_port
from tests.support.services import InProcess


@pytest.fixture
def pods(cluster: Cluster) -> Iterator[PodApi]:
    api_client = clients.make_api_client(cluster.sim.kubeconfig)
    yield PodApi(api_client)
    api_client.close()


def finished(pod: dict[str, Any]) -> bool:
    """Whether `pod` (as kubesim returns it) has ended."""
    return pod["status"].get("phase") in ("Succeeded", "Failed")


@pytest.fixture
def launcher(redis_client: redis.Redis, keys: RedisKeys) -> SlotPool:
    """A live launcher's slot pool, to hold a pod as being created."""
    slots = SlotPool(redis_client, keys=keys, holder="launcher")
    slots.heartbeat(ttl_s=30)
    return slots


@dataclass
class Kit:
    """One namespace, its rows and pods, and a sweeper with short limits on a clock the test
    moves (`clock.advance`)."""

    cluster: Cluster
    namespace: str
    instance: str
    db: sqlalchemy.Engine
    jobs: JobQueue
    sweeper: Sweeper
    follow_ups: FollowUps
    clock: ShiftedUtcClock

    def submit(self, job: Job) -> None:
        intake.submit(self.db, self.jobs, job, default_namespace=self.namespace)

    def lose_queued_jobs(self) -> None:
        with self.jobs.consumer([self.namespace], prefetch=100) as consumer:
            while deliveries := consumer.poll(timeout_s=0.5, most=100):
                for delivery in deliveries:
                    delivery.ack()

    def create_pod(self, job: Job) -> str:
        settings = RenderSettings(self.instance, self.namespace, "busybox:1.37")
        pod = render_pod(job, settings=settings, templates=Templates())
        created = self.cluster.http.post(f"/api/v1/namespaces/{self.namespace}/pods", json=pod)
        assert created.status_code == 201, created.text
        return str(pod["metadata"]["name"])

    def pod_name(self, job: Job) -> str:
        return naming.pod_name(job.key, job.try_number)

    def pod(self, name: str) -> dict[str, Any] | None:
        response = self.cluster.http.get(f"/api/v1/namespaces/{self.namespace}/pods/{name}")
        return response.json() if response.status_code == 200 else None

    def wait_for_pod(self, name: str, check: Any, *, timeout_s: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            pod = self.pod(name)
            if pod is not None and check(pod):
                return pod
            time.sleep(0.05)
        raise AssertionError(f"pod {name} never reached the expected state")

    def wait_gone(self, name: str, *, timeout_s: float = 10) -> None:
        deadline = time.monotonic() + timeout_s
        while self.pod(name) is not None:
            assert time.monotonic() < deadline, f"pod {name} is still there"
            time.sleep(0.05)

    def row(self, job: Job) -> Any:
        query = sqlalchemy.text("SELECT * FROM task_instance WHERE task_id = :t")
        with self.db.connect() as connection:
            return connection.execute(query, {"t": job.task_id}).mappings().one()

    def set_row(self, job: Job, **values: Any) -> None:
        assignments = ", ".join(f"{name} = :{name}" for name in values)
        query = sqlalchemy.text(f"UPDATE task_instance SET {assignments} WHERE task_id = :t")  # noqa: S608
        with self.db.begin() as connection:
            connection.execute(query, {**values, "t": job.task_id})

    def sweep(self) -> list[str]:
        return [verdict.finding.value for verdict in self.sweeper.sweep(self.namespace)]


@pytest.fixture
def kit(
    cluster: Cluster,
    namespace: str,
    instance: str,
    db: sqlalchemy.Engine,
    jobs: JobQueue,
    pods: PodApi,
    redis_client: redis.Redis,
    keys: RedisKeys,
) -> Kit:
    consumer = StreamConsumer(
        redis_client,
        keys=keys,
        streams=[keys.launches, keys.pod_events(namespace)],
        settings=GroupSettings(group="reconciler", consumer="r1"),
    )
    rules = Rules(max_relaunches=2)
    applier = Applier(db, consumer, launches_stream=keys.launches, rules=rules)

    def relaunch(outcome: Outcome) -> None:
        query = sqlalchemy.text("SELECT job FROM task_instance WHERE task_id = :t")
        with db.connect() as connection:
            stored = connection.execute(query, {"t": outcome.key.task_id}).scalar_one()
        jobs.publish([(Job.decode(stored), outcome.namespace)])

    slots = SlotPool(redis_client, keys=keys, holder="reconciler")
    follow_ups = FollowUps(
        engine=db,
        pods=pods,
        slots=slots,
        relaunch=relaunch,
        policy=PodPolicy(),
    )
    settings = SweepSettings(
        selector=naming.instance_selector(instance),
        limits=drift.Limits(
            grace_s=0, pending_timeout_s=1, image_pull_grace_s=1, queued_timeout_s=0
        ),
        rules=rules,
        max_republishes=2,
    )
    clock = ShiftedUtcClock()
    sweeper = Sweeper(
        engine=db,
        pods=pods,
        applier=applier,
        follow_ups=follow_ups,
        slots=slots,
        settings=settings,
        metrics=ReconcilerMetrics(CollectorRegistry()),
        clock=clock,
    )
    return Kit(cluster, namespace, instance, db, jobs, sweeper, follow_ups, clock)


@pytest.fixture
def reconciler(
    service_env: dict[str, str],
    database_url: Any,
    db: sqlalchemy.Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[], InProcess]]:
    """Reconcilers on threads of this process (`db`: the rows they write are truncated after)."""
    monkeypatch.setenv("PODRUNNER_DATABASE_URL", database_url.render_as_string(hide_password=False))
    monkeypatch.setenv("PODRUNNER_LEASE_TTL_S", "2")
    monkeypatch.setenv("PODRUNNER_SWEEP_INTERVAL_S", "0.5")
    started: list[InProcess] = []

    def start() -> InProcess:
        port = free_port()
        monkeypatch.setenv("PODRUNNER_HEALTH_PORT", str(port))
        running = InProcess(service.build(Settings()), port).start()
        started.append(running)
        return running

    yield start
    for each in started:
        assert each.stop() == 0

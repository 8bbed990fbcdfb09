"""Wiring the reconciler's event loop: read launches and pod events, apply them, follow up.

`podrunner reconciler` reads `launches` and the `pod-events` stream of every configured namespace
through the `reconciler` consumer group (replicas share the work), applies each batch in one
transaction, acknowledges it, and then carries out what the batch decided. Sweeps and the HTTP API
are added to this same process.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

import sqlalchemy
import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram

from services.reconciler.applying import Applier, Outcome
from services.reconciler.following import FollowUps, PodPolicy
from services.reconciler.ledger import Rules
from shared import health, running
from shared.db import engines
from shared.k8s import clients
from shared.k8s.pods import PodApi
from shared.messages import Job
from shared.messaging import connections, keys
from shared.messaging.connections import MessagingError
from shared.messaging.jobqueue import BrokerSettings, JobQueue
from shared.messaging.slots import SlotPool
from shared.messaging.streams import GroupSettings, StreamConsumer
from shared.settings import Settings

log = structlog.get_logger()
LOOP_DEADLINE_S = 60.0


class ConfigurationError(ValueError):
    """The reconciler cannot run with these settings (exit 2)."""


def build(settings: Settings) -> running.Service:
    if settings.redis_url is None or settings.database_url is None or settings.broker_url is None:
        raise ConfigurationError("PODRUNNER_REDIS_URL and PODRUNNER_DATABASE_URL must be set")
    redis_client = connections.connect_redis(settings.redis_url)
    redis_keys = keys.RedisKeys(settings.instance)
    engine = engines.make_engine(settings.database_url)
    api_client = clients.make_api_client()
    pods = PodApi(api_client)
    jobs = JobQueue(BrokerSettings(settings.broker_url, settings.broker_visibility_timeout_s))
    holder = f"{socket.gethostname()}-{os.getpid()}"
    consumer = StreamConsumer(
        redis_client,
        keys=redis_keys,
        streams=[redis_keys.launches, *(redis_keys.pod_events(ns) for ns in settings.namespaces)],
        settings=GroupSettings(
            group=keys.RECONCILER_GROUP,
            consumer=holder,
            claim_idle_ms=int(settings.claim_idle_s * 1000),
            max_deliveries=settings.max_deliveries,
        ),
    )
    applier = Applier(
        engine,
        consumer,
        launches_stream=redis_keys.launches,
        rules=Rules(max_relaunches=settings.max_relaunches),
    )

    def relaunch(outcome: Outcome) -> None:
        job = _job_of(engine, outcome)
        if job is not None:
            jobs.publish([(job, outcome.namespace)])

    follow_ups = FollowUps(
        engine=engine,
        pods=pods,
        slots=SlotPool(redis_client, keys=redis_keys, holder=holder),
        relaunch=relaunch,
        policy=PodPolicy(
            delete_on_success=settings.delete_worker_pods,
            delete_on_failure=settings.delete_worker_pods_on_failure,
        ),
    )
    registry = CollectorRegistry()
    heartbeat = health.Heartbeat("apply", deadline_s=LOOP_DEADLINE_S)
    loop = ApplyLoop(consumer, applier, follow_ups, heartbeat, registry)

    def status() -> dict[str, Any]:
        return {"instance": settings.instance, "holder": holder, "streams": list(consumer.streams)}

    readiness = health.Readiness(
        {
            "redis": lambda: connections.ping(redis_client),
            "postgres": lambda: _ping(engine),
            "kubernetes": pods.ping,
        }
    )
    app = health.make_health_app(
        service="reconciler",
        heartbeats=[heartbeat],
        readiness=readiness,
        registry=registry,
        status=status,
    )
    return running.Service(
        name="reconciler",
        loops=[running.Loop("apply", loop.run)],
        health=health.HealthServer(
            app, host=settings.health_host, port=settings.health_port_for("reconciler")
        ),
        cleanup=[readiness.close, api_client.close, redis_client.close, engine.dispose],
    )


class ApplyLoop:
    """Read a batch, apply it in one transaction (which acknowledges it), then follow up."""

    def __init__(
        self,
        consumer: StreamConsumer,
        applier: Applier,
        follow_ups: FollowUps,
        heartbeat: health.Heartbeat,
        registry: CollectorRegistry,
    ) -> None:
        self._consumer = consumer
        self._applier = applier
        self._follow_ups = follow_ups
        self._heartbeat = heartbeat
        self._applied = Counter(
            "podrunner_reconciler_events_applied", "Stream entries applied.", registry=registry
        )
        self._batch_seconds = Histogram(
            "podrunner_reconciler_batch_seconds", "Time to apply one batch.", registry=registry
        )

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self._heartbeat.beat()
            try:
                self._step()
            except (MessagingError, sqlalchemy.exc.OperationalError):
                log.exception("apply_failed")
                stop.wait(1.0)

    def _step(self) -> None:
        entries = self._consumer.read(block_ms=500)
        if not entries:
            return
        with self._batch_seconds.time():
            outcomes = self._applier.apply(entries)
        self._applied.inc(len(entries))
        self._follow_ups.run(outcomes)


def _ping(engine: sqlalchemy.Engine) -> None:
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text("SELECT 1"))


def _job_of(engine: sqlalchemy.Engine, outcome: Outcome) -> Job | None:
    key = outcome.key
    query = sqlalchemy.text(
        "SELECT job FROM task_instance "
        "WHERE dag_id=:d AND task_id=:t AND run_id=:r AND map_index=:m"
    )
    with engine.connect() as connection:
        stored = connection.execute(
            query, {"d": key.dag_id, "t": key.task_id, "r": key.run_id, "m": key.map_index}
        ).scalar_one_or_none()
    return Job.decode(stored) if stored is not None else None

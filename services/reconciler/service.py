"""Wiring the reconciler: the apply loop, the sweep loop, the follow-ups and the health app.

`podrunner reconciler` reads `launches` and every namespace's `pod-events` stream (the
configured namespaces at once, others as an all-namespaces watcher creates their streams)
through the `reconciler` consumer group, so replicas share the work; applies each batch in one
transaction; acknowledges it; then carries out what the batch decided. One replica at a time
also sweeps for drift. Everything is built here from the settings and passed in.
"""

from __future__ import annotations

import os
import socket
import uuid
from typing import Any

import sqlalchemy
import structlog
from prometheus_client import CollectorRegistry

from services.reconciler import api, drift, following
from services.reconciler.applying import Applier, Outcome
from services.reconciler.following import FollowUps, PodPolicy
from services.reconciler.ledger import Rules
from services.reconciler.loops import ApplyLoop, SweepLoop
from services.reconciler.metrics import ReconcilerMetrics, StateCollector
from services.reconciler.strays import StrayJobs
from services.reconciler.sweeping import Sweeper, SweepSettings
from shared import health, running
from shared.db import engines
from shared.db.keys import TABLE, is_row_of
from shared.http_limits import HttpLimits
from shared.k8s import clients, naming
from shared.k8s.pods import PodApi
from shared.messages import Job, LaunchEvent
from shared.messaging import connections, keys, streams
from shared.messaging.jobqueue import BrokerSettings, JobQueue
from shared.messaging.leases import Lease
from shared.messaging.slots import SlotPool
from shared.messaging.streams import GroupSettings, StreamConsumer
from shared.outages import Outages
from shared.settings import ApiAuth, Settings

log = structlog.get_logger()
APPLY_DEADLINE_S = 60.0
SWEEP_LEASE = "sweeps"


class ConfigurationError(ValueError):
    """The reconciler cannot run with these settings (exit 2)."""


def build(settings: Settings) -> running.Service:
    if settings.redis_url is None or settings.database_url is None or settings.broker_url is None:
        raise ConfigurationError("PODRUNNER_REDIS_URL and PODRUNNER_DATABASE_URL must be set")
    _warn_about_api_access(settings)
    redis_client = connections.connect_redis(settings.redis_url)
    redis_keys = keys.RedisKeys(settings.instance)
    engine = engines.make_engine(settings.database_url)
    # the follow-ups' threads, plus the sweeps and the API's log reads
    api_client = clients.make_api_client(pool_size=following.CONCURRENCY + 8)
    pods = PodApi(api_client)
    jobs = JobQueue(BrokerSettings(settings.broker_url, settings.broker_visibility_timeout_s))
    # unique per process start: two replicas never share a lease or a consumer name
    holder = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    # one consumer of the group per apply worker, each under its own name, like replicas
    consumers = [
        StreamConsumer(
            redis_client,
            keys=redis_keys,
            streams=[
                redis_keys.launches,
                *(redis_keys.pod_events(ns) for ns in settings.namespaces),
            ],
            settings=_group(settings, f"{holder}-{n}"),
        )
        for n in range(settings.apply_workers)
    ]
    consumer = consumers[0]
    rules = Rules(max_relaunches=settings.max_relaunches)
    appliers = [
        Applier(engine, each, launches_stream=redis_keys.launches, rules=rules)
        for each in consumers
    ]

    def relaunch(outcome: Outcome) -> None:
        job = _job_of(engine, outcome)
        if job is not None:
            jobs.publish([(job, outcome.namespace)])

    slots = SlotPool(
        redis_client,
        keys=redis_keys,
        holder=holder,
        finished_retention_s=settings.finished_pod_retention_s,
    )
    follow_ups = FollowUps(
        engine=engine,
        pods=pods,
        slots=slots,
        relaunch=relaunch,
        policy=PodPolicy(
            delete_on_success=settings.delete_worker_pods,
            delete_on_failure=settings.delete_worker_pods_on_failure,
            log_lines=settings.log_tail_lines,
        ),
    )
    registry = CollectorRegistry()
    metrics = ReconcilerMetrics(registry)
    outages = Outages()
    registry.register(
        StateCollector(
            backlog=consumer.backlog,
            dead_letters=consumer.dead_letter_count,
            tasks_by_state=lambda: _tasks_by_state(engine),
        )
    )
    apply_beats = [
        health.Heartbeat(f"apply-{n}", deadline_s=APPLY_DEADLINE_S) for n in range(len(consumers))
    ]
    apply_loops = [
        ApplyLoop(
            consumer=each,
            applier=applier,
            follow_ups=follow_ups,
            heartbeat=beat,
            metrics=metrics,
            stream_pattern=redis_keys.pod_events_pattern,
            launches_stream=redis_keys.launches,
            outages=outages,
        )
        for each, applier, beat in zip(consumers, appliers, apply_beats, strict=True)
    ]
    sweeper = Sweeper(
        engine=engine,
        pods=pods,
        applier=appliers[0],
        follow_ups=follow_ups,
        slots=slots,
        settings=_sweep_settings(settings, rules),
        metrics=metrics,
    )
    events_prefix = redis_keys.pod_events("")

    def namespaces() -> list[str]:
        found = {
            s.removeprefix(events_prefix) for s in consumer.streams if s.startswith(events_prefix)
        }
        return sorted(found | set(settings.namespaces))

    def publish_launches(events: list[LaunchEvent]) -> None:
        payloads = [event.encode() for event in events]
        streams.publish(redis_client, redis_keys.launches, payloads, maxlen=settings.stream_maxlen)

    def dead_letter(namespace: str, body: bytes, reason: str) -> None:
        source = keys.job_queue(namespace)
        streams.dead_letter_raw(redis_client, redis_keys, source=source, data=body, error=reason)

    strays = StrayJobs(
        jobs=jobs,
        served=frozenset(settings.namespaces),
        publish=publish_launches,
        dead_letter=dead_letter,
    )
    sweep_beat = health.Heartbeat("sweep", deadline_s=max(300.0, 3 * settings.sweep_interval_s))
    sweep_loop = SweepLoop(
        lease=Lease(
            redis_client,
            keys=redis_keys,
            name=SWEEP_LEASE,
            holder=holder,
            ttl_s=settings.lease_ttl_s,
        ),
        sweeper=sweeper,
        namespaces=namespaces,
        strays=strays.sweep,
        interval_s=settings.sweep_interval_s,
        heartbeat=sweep_beat,
        metrics=metrics,
        outages=outages,
    )

    def status() -> dict[str, Any]:
        return {
            "instance": settings.instance,
            "holder": holder,
            "streams": list(consumer.streams),
            "sweep_leader": sweep_loop.leading,
            "last_sweep_findings": sweep_loop.last_round,
            "settings": settings.redacted(),
        }

    readiness = health.Readiness(
        {
            "redis": lambda: connections.ping(redis_client),
            "postgres": lambda: _ping(engine),
            "kubernetes": pods.ping,
            "work": outages.check,
        }
    )
    router = api.make_router(
        engine=engine,
        jobs=jobs,
        pods=pods,
        default_namespace=settings.namespace,
        api_token=settings.api_token,
        log_lines=settings.log_tail_lines,
        served=settings.namespaces,
        template_dir=settings.pod_template_dir,
        publish_launches=publish_launches,
    )
    app = health.make_health_app(
        service="reconciler",
        heartbeats=[*apply_beats, sweep_beat],
        readiness=readiness,
        registry=registry,
        status=status,
        routers=[router],
    )
    return running.Service(
        name="reconciler",
        loops=[
            *(running.Loop(f"apply-{n}", loop.run) for n, loop in enumerate(apply_loops)),
            running.Loop("sweep", sweep_loop.run),
        ],
        health=health.HealthServer(
            app,
            host=settings.health_host,
            port=settings.health_port_for("reconciler"),
            limits=HttpLimits.of(settings),
        ),
        cleanup=[
            follow_ups.close,
            jobs.close,
            readiness.close,
            api_client.close,
            redis_client.close,
            engine.dispose,
        ],
    )


def _warn_about_api_access(settings: Settings) -> None:
    """Say at start when the API is open to anyone, or closed to writes for want of a token."""
    if settings.api_token is not None:
        return
    port = settings.health_port_for("reconciler")
    if settings.api_auth is ApiAuth.NONE:
        log.warning(
            "api_open_without_authentication",
            detail=f"PODRUNNER_API_AUTH=none: anyone reaching port {port} may submit jobs",
        )
    else:
        log.warning(
            "api_closed_to_writes",
            detail="PODRUNNER_API_TOKEN is not set: the API refuses job submissions",
        )


def _group(settings: Settings, holder: str) -> GroupSettings:
    return GroupSettings(
        group=keys.RECONCILER_GROUP,
        consumer=holder,
        batch_size=settings.apply_batch_size,
        claim_idle_ms=int(settings.claim_idle_s * 1000),
        max_deliveries=settings.max_deliveries,
    )


def _sweep_settings(settings: Settings, rules: Rules) -> SweepSettings:
    return SweepSettings(
        selector=naming.instance_selector(settings.instance),
        limits=drift.Limits(
            grace_s=settings.drift_grace_s,
            pending_timeout_s=settings.pending_timeout_s,
            image_pull_grace_s=settings.image_pull_grace_s,
            queued_timeout_s=settings.queued_timeout_s,
            config_error_grace_s=settings.config_error_grace_s,
        ),
        rules=rules,
        max_republishes=settings.max_republishes,
    )


def _ping(engine: sqlalchemy.Engine) -> None:
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text("SELECT 1"))


def _tasks_by_state(engine: sqlalchemy.Engine) -> dict[str, int]:
    query = sqlalchemy.text("SELECT state, count(*) FROM task_instance GROUP BY state")
    with engine.connect() as connection:
        return {str(state): int(count) for state, count in connection.execute(query)}


def _job_of(engine: sqlalchemy.Engine, outcome: Outcome) -> Job | None:
    query = sqlalchemy.select(TABLE.c.job).where(is_row_of(outcome.task))
    with engine.connect() as connection:
        stored = connection.execute(query).scalar_one_or_none()
    return Job.decode(stored) if stored is not None else None

"""Wiring the reconciler: the apply loop, the sweep loop, the follow-ups and the health app.

`podrunner reconciler` reads `launches` and every namespace's `pod-events` stream (the
configured namespaces at once, others as an all-namespaces watcher creates their streams)
through the `reconciler` consumer group, so replicas share the work; applies each batch in one
transaction; acknowledges it; then carries out what the batch decided. One replica at a time
also sweeps for drift. Everything is built here from the settings and passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import structlog
from fastapi import APIRouter

from services.reconciler import drift, following
from services.reconciler.api import routing
from services.reconciler.applying import Applier, Outcome
from services.reconciler.dashboard import routing as dashboard
from services.reconciler.following import FollowUps, PodPolicy
from services.reconciler.ledger import Rules
from services.reconciler.loops import ApplyLoop, SweepLoop
from services.reconciler.metrics import ReconcilerMetrics, StateCollector
from services.reconciler.strays import StrayJobs
from services.reconciler.sweeping import Sweeper, SweepSettings
from shared import health, running, wiring
from shared.db import engines, reads
from shared.db.engines import Engine
from shared.k8s import naming
from shared.k8s.pods import PodApi
from shared.messages import Job
from shared.messaging import connections, keys, replicas
from shared.messaging.jobqueue import JobQueue
from shared.messaging.outlets import LaunchOutlet
from shared.messaging.pod_history import PodHistory
from shared.messaging.slots import SlotPool
from shared.messaging.streams import GroupSettings, StreamConsumer
from shared.settings import ApiAuth, Settings
from shared.wiring import ConfigurationError

log = structlog.get_logger()
APPLY_DEADLINE_S = 60.0
SWEEP_LEASE = "sweeps"


def build(settings: Settings) -> running.Service:
    """The reconciler service, ready to run.

    Raises:
        ConfigurationError: Redis or Postgres is not configured.
    """
    if settings.database_url is None:
        raise ConfigurationError("PODRUNNER_DATABASE_URL is not set")
    _warn_about_api_access(settings)
    # the follow-ups' threads, plus the sweeps and the API's log reads
    ground = wiring.lay_groundwork(settings, api_pool_size=following.CONCURRENCY + 8)
    engine = engines.make_engine(settings.database_url)
    jobs = wiring.job_queue(settings)
    consumers = _consumers(settings, ground.redis, ground.keys, ground.holder)
    history = PodHistory(ground.redis, ground.keys)
    rules = Rules(max_relaunches=settings.max_relaunches)
    appliers = [
        Applier(engine, each, launches_stream=ground.keys.launches, rules=rules, history=history)
        for each in consumers
    ]
    slots = SlotPool(
        ground.redis,
        keys=ground.keys,
        holder=ground.holder,
        finished_retention_s=settings.finished_pod_retention_s,
    )
    follow_ups = _follow_ups(settings, engine=engine, pods=ground.pods, slots=slots, jobs=jobs)
    metrics = _metrics(ground, consumers[0], engine)
    apply_loops = _apply_loops(consumers, appliers, ground, follow_ups=follow_ups, metrics=metrics)
    namespaces = _namespaces_seen(settings, consumers[0], ground.keys)
    outlet = LaunchOutlet(ground.redis, ground.keys, settings.stream_maxlen)
    sweeper = Sweeper(
        engine=engine,
        pods=ground.pods,
        applier=appliers[0],
        follow_ups=follow_ups,
        slots=slots,
        settings=_sweep_settings(settings, rules),
        metrics=metrics,
    )
    sweep_loop = _sweep_loop(ground, sweeper, namespaces, _strays(settings, outlet, jobs), metrics)
    serving = wiring.Serving(
        loops=[
            *(running.Loop(f"apply-{n}", loop.run) for n, loop in enumerate(apply_loops)),
            running.Loop("sweep", sweep_loop.run),
            running.Loop("pod-history", history.run),
        ],
        heartbeats=[*(loop.heartbeat for loop in apply_loops), sweep_loop.heartbeat],
        status=partial(_status, ground, consumers[0], sweep_loop),
        checks={"postgres": lambda: reads.ping(engine)},
        routers=[
            _router(settings, engine=engine, jobs=jobs, pods=ground.pods, outlet=outlet),
            _dashboard(
                ground,
                engine=engine,
                jobs=jobs,
                history=history,
                slots=slots,
                consumer=consumers[0],
                namespaces=namespaces,
            ),
        ],
        cleanup=[follow_ups.close, jobs.close, engine.dispose],
    )
    return wiring.service("reconciler", ground, serving)


def _status(
    ground: wiring.Groundwork, consumer: StreamConsumer, sweep_loop: SweepLoop
) -> dict[str, Any]:
    return {
        "instance": ground.settings.instance,
        "holder": ground.holder,
        "streams": list(consumer.streams),
        "sweep_leader": sweep_loop.leading,
        "last_sweep_findings": sweep_loop.last_round,
        "settings": ground.settings.redacted(),
    }


def _metrics(
    ground: wiring.Groundwork, consumer: StreamConsumer, engine: Engine
) -> ReconcilerMetrics:
    """The reconciler's own metrics, and the gauges read when scraped (backlog, dead letters,
    tasks by state)."""
    ground.registry.register(
        StateCollector(
            backlog=consumer.backlog,
            dead_letters=consumer.dead_letter_count,
            tasks_by_state=lambda: reads.tasks_by_state(engine),
        )
    )
    return ReconcilerMetrics(ground.registry)


def _sweep_loop(
    ground: wiring.Groundwork,
    sweeper: Sweeper,
    namespaces: Callable[[], list[str]],
    strays: StrayJobs,
    metrics: ReconcilerMetrics,
) -> SweepLoop:
    """The drift sweeps, run by whichever replica holds the sweep lease."""
    settings = ground.settings
    lease = ground.lease(SWEEP_LEASE)
    return SweepLoop(
        lease=lease,
        sweeper=sweeper,
        namespaces=namespaces,
        strays=strays.sweep,
        interval_s=settings.sweep_interval_s,
        heartbeat=health.Heartbeat("sweep", deadline_s=max(300.0, 3 * settings.sweep_interval_s)),
        metrics=metrics,
        outages=ground.outages,
    )


def _dashboard(
    ground: wiring.Groundwork,
    *,
    engine: Engine,
    jobs: JobQueue,
    history: PodHistory,
    slots: SlotPool,
    consumer: StreamConsumer,
    namespaces: Callable[[], list[str]],
) -> APIRouter:
    """The dashboard's page and data, behind the API's guards."""
    settings = ground.settings
    sources = dashboard.Sources(
        engine=engine,
        jobs=jobs,
        pods=ground.pods,
        history=history,
        active_pods=slots.count,
        dead_letters=consumer.dead_letter_count,
        replicas=partial(replicas.read, ground.redis, ground.keys),
        namespaces=namespaces,
        max_active_pods=settings.max_active_pods,
        log_lines=settings.log_tail_lines,
    )
    return dashboard.make_router(sources, api_token=settings.api_token, api_auth=settings.api_auth)


def _consumers(
    settings: Settings, client: connections.Redis, redis_keys: keys.RedisKeys, holder: str
) -> list[StreamConsumer]:
    """One consumer of the group per apply worker, each under its own name, like replicas."""
    streams = [redis_keys.launches, *map(redis_keys.pod_events, settings.namespaces)]
    return [
        StreamConsumer(
            client, keys=redis_keys, streams=streams, settings=_group(settings, f"{holder}-{n}")
        )
        for n in range(settings.apply_workers)
    ]


def _apply_loops(
    consumers: list[StreamConsumer],
    appliers: list[Applier],
    ground: wiring.Groundwork,
    *,
    follow_ups: FollowUps,
    metrics: ReconcilerMetrics,
) -> list[ApplyLoop]:
    """One apply loop per consumer of the group, each with its own heartbeat."""
    return [
        ApplyLoop(
            consumer=each,
            applier=applier,
            follow_ups=follow_ups,
            heartbeat=health.Heartbeat(f"apply-{n}", deadline_s=APPLY_DEADLINE_S),
            metrics=metrics,
            stream_pattern=ground.keys.pod_events_pattern,
            launches_stream=ground.keys.launches,
            outages=ground.outages,
        )
        for n, (each, applier) in enumerate(zip(consumers, appliers, strict=True))
    ]


def _follow_ups(
    settings: Settings, *, engine: Engine, pods: PodApi, slots: SlotPool, jobs: JobQueue
) -> FollowUps:
    """What the reconciler does after a batch is committed: logs, finalizers, relaunches."""

    def relaunch(outcome: Outcome) -> None:
        stored = reads.stored_job(engine, outcome.task)
        if stored is not None:
            jobs.publish([(Job.decode(stored), outcome.namespace)])

    return FollowUps(
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


def _strays(settings: Settings, outlet: LaunchOutlet, jobs: JobQueue) -> StrayJobs:
    """The refusal of jobs queued for namespaces this podrunner does not serve."""
    return StrayJobs(
        jobs=jobs,
        served=frozenset(settings.namespaces),
        publish=outlet.publish,
        dead_letter=outlet.dead_letter,
    )


def _namespaces_seen(
    settings: Settings, consumer: StreamConsumer, redis_keys: keys.RedisKeys
) -> Callable[[], list[str]]:
    """The namespaces to sweep: the configured ones, and any whose events stream exists."""
    events_prefix = redis_keys.pod_events("")

    def namespaces() -> list[str]:
        found = {
            s.removeprefix(events_prefix) for s in consumer.streams if s.startswith(events_prefix)
        }
        return sorted(found | set(settings.namespaces))

    return namespaces


def _router(
    settings: Settings, *, engine: Engine, jobs: JobQueue, pods: PodApi, outlet: LaunchOutlet
) -> APIRouter:
    """The HTTP API, served beside the health endpoints (a revocation goes out as a launch
    event, as the launcher's do)."""
    return routing.make_router(
        engine=engine,
        jobs=jobs,
        pods=pods,
        default_namespace=settings.namespace,
        api_token=settings.api_token,
        api_auth=settings.api_auth,
        log_lines=settings.log_tail_lines,
        served=settings.namespaces,
        template_dir=settings.pod_template_dir,
        publish_launches=outlet.publish,
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

"""What the wiring of every service shares, so the three services agree on it by construction.

One error for settings a service cannot run with (the command line turns it into exit 2), one
identity per replica (leases, slots and consumer names must never be shared by two processes), one
rule for the namespaces a replica may serve, the groundwork every replica lays before its own
parts (Redis, the API server, metrics, the outage record), and the service around its loops: the
readiness checks every service has, its report among the replicas, the health server on its own
port and the clean-up of what the groundwork opened.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from prometheus_client import CollectorRegistry

from shared import health, running
from shared.http_limits import HttpLimits
from shared.k8s import clients
from shared.k8s.pods import PodApi
from shared.messaging import connections, replicas
from shared.messaging.jobqueue import BrokerSettings, JobQueue
from shared.messaging.keys import RedisKeys
from shared.messaging.leases import Lease
from shared.outages import Outages
from shared.settings import Settings


class ConfigurationError(ValueError):
    """A service cannot run with these settings (exit 2, with this message)."""


def replica_identity() -> str:
    """This process's name among the replicas: host, pid and a random suffix, so that two
    processes (a restart that reuses a pid in a fresh container included) never share one."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def served_namespaces(settings: Settings, requested: Sequence[str]) -> tuple[str, ...]:
    """The namespaces asked for (all configured ones when none are), each of them configured.

    Raises:
        ConfigurationError: a namespace asked for is not in PODRUNNER_NAMESPACES.
    """
    chosen = tuple(requested) or settings.namespaces
    unknown = sorted(set(chosen) - set(settings.namespaces))
    if unknown:
        raise ConfigurationError(f"namespaces not in PODRUNNER_NAMESPACES: {', '.join(unknown)}")
    return chosen


@dataclass(frozen=True)
class Groundwork:
    """What every replica holds before its own parts: Redis and its key names, the replica's
    identity, the API server, the metrics registry and the record of its loops' outages."""

    settings: Settings
    redis: connections.Redis
    keys: RedisKeys
    holder: str
    api_client: Any
    pods: PodApi
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    outages: Outages = field(default_factory=Outages)

    def lease(self, name: str) -> Lease:
        """The lease `name`, held (when it is) by this replica for `PODRUNNER_LEASE_TTL_S`."""
        return Lease(
            self.redis,
            keys=self.keys,
            name=name,
            holder=self.holder,
            ttl_s=self.settings.lease_ttl_s,
        )


def lay_groundwork(settings: Settings, *, api_pool_size: int) -> Groundwork:
    """Connect what every replica needs; `api_pool_size` is how many API calls it makes at once.

    Raises:
        ConfigurationError: Redis is not configured.
    """
    if settings.redis_url is None:
        raise ConfigurationError("PODRUNNER_REDIS_URL is not set")
    api_client = clients.make_api_client(pool_size=api_pool_size)
    return Groundwork(
        settings=settings,
        redis=connections.connect_redis(settings.redis_url),
        keys=RedisKeys(settings.instance),
        holder=replica_identity(),
        api_client=api_client,
        pods=PodApi(api_client),
    )


@dataclass(frozen=True)
class Serving:
    """What a service adds to its groundwork to run: its loops, their heartbeats, what
    `/status` shows, the readiness checks of its other dependencies and its own clean-up."""

    loops: Sequence[running.Loop]
    heartbeats: Sequence[health.Heartbeat]
    status: Callable[[], Mapping[str, Any]]
    checks: Mapping[str, health.Check] = field(default_factory=dict)
    routers: Sequence[APIRouter] = ()
    cleanup: Sequence[Callable[[], None]] = ()
    stop: threading.Event = field(default_factory=threading.Event)


def service(name: str, ground: Groundwork, serving: Serving) -> running.Service:
    """The service `name`: its loops and its health server, which run and fail together; its
    own clean-up runs first, then what the groundwork opened is closed."""
    ready = readiness(
        redis=lambda: connections.ping(ground.redis),
        kubernetes=ground.pods.ping,
        outages=ground.outages,
        **serving.checks,
    )
    server = health_server(
        name,
        ground.settings,
        heartbeats=serving.heartbeats,
        readiness=ready,
        registry=ground.registry,
        status=serving.status,
        routers=serving.routers,
    )
    return running.Service(
        name=name,
        report=replicas.Reporter(ground.redis, ground.keys, ground.holder),
        loops=serving.loops,
        health=server,
        stop=serving.stop,
        cleanup=[*serving.cleanup, ready.close, ground.api_client.close, ground.redis.close],
    )


def job_queue(settings: Settings) -> JobQueue:
    """The job queues on the configured broker (Redis itself unless another is named).

    Raises:
        ConfigurationError: no broker is configured.
    """
    if settings.broker_url is None:
        raise ConfigurationError("PODRUNNER_REDIS_URL is not set")
    return JobQueue(BrokerSettings(settings.broker_url, settings.broker_visibility_timeout_s))


def readiness(
    *, redis: health.Check, kubernetes: health.Check, outages: Outages, **own: health.Check
) -> health.Readiness:
    """Every service is ready when Redis and the API server answer and no work loop is in an
    outage; `own` adds the checks of the service's other dependencies (broker, lease, Postgres)."""
    return health.Readiness(
        {"redis": redis, **own, "kubernetes": kubernetes, "work": outages.check}
    )


def health_server(
    service: str,
    settings: Settings,
    *,
    heartbeats: Sequence[health.Heartbeat],
    readiness: health.Readiness,
    registry: CollectorRegistry,
    status: Callable[[], Mapping[str, Any]],
    routers: Sequence[APIRouter] = (),
) -> health.HealthServer:
    """The health app of `service` (and its `routers`), served on the service's own port."""
    app = health.make_health_app(
        service=service,
        heartbeats=heartbeats,
        readiness=readiness,
        registry=registry,
        status=status,
        routers=routers,
    )
    return health.HealthServer(
        app,
        host=settings.health_host,
        port=settings.health_port_for(service),
        limits=HttpLimits.of(settings),
    )

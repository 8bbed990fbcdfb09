"""What the wiring of every service shares, so the three services agree on it by construction.

One error for settings a service cannot run with (the command line turns it into exit 2), one
identity per replica (leases, slots and consumer names must never be shared by two processes), one
rule for the namespaces a replica may serve, the readiness checks every service has, and the health
server on the service's own port.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import APIRouter
from prometheus_client import CollectorRegistry

from shared import health
from shared.http_limits import HttpLimits
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

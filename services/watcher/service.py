"""Wiring the watcher: one leader-or-standby per namespace (or one for the whole cluster).

`podrunner watcher [--namespace NS ... | --all-namespaces]`. Each scope has its own lease,
checkpoint and watch loop; events go to the stream of the pod's namespace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry

from services.watcher.leading import Leader
from services.watcher.metrics import WatcherMetrics
from services.watcher.watching import WatchLoop
from shared import health, running, wiring
from shared.k8s import clients
from shared.k8s.pods import PodApi
from shared.messages import PodEvent
from shared.messaging import connections, keys, replicas
from shared.messaging.checkpoints import Checkpoints
from shared.messaging.leases import Lease
from shared.messaging.outlets import PodEventOutlet
from shared.outages import Outages
from shared.settings import Settings
from shared.wiring import ConfigurationError

#: A watch loop silent (no event, bookmark or reconnect) this long is stuck.
LOOP_DEADLINE_S = 120.0
ALL = "*"


def build(settings: Settings, namespaces: list[str], *, all_namespaces: bool) -> running.Service:
    if settings.redis_url is None:
        raise ConfigurationError("PODRUNNER_REDIS_URL is not set")
    scopes = _scopes(settings, namespaces, all_namespaces=all_namespaces)
    redis_client = connections.connect_redis(settings.redis_url)
    redis_keys = keys.RedisKeys(settings.instance)
    api_client = clients.make_api_client(pool_size=len(scopes) + 2)
    pods = PodApi(api_client)
    registry = CollectorRegistry()
    metrics = WatcherMetrics(registry)
    holder = wiring.replica_identity()
    checkpoints = Checkpoints(redis_client, keys=redis_keys)
    outages = Outages()
    publish = PodEventOutlet(redis_client, redis_keys, settings.stream_maxlen).publish

    leaders = [
        _leader(
            scope,
            settings=settings,
            pods=pods,
            publish=publish,
            checkpoints=checkpoints,
            lease=Lease(
                redis_client,
                keys=redis_keys,
                name=f"watcher:{scope}",
                holder=holder,
                ttl_s=settings.lease_ttl_s,
            ),
            metrics=metrics,
            outages=outages,
        )
        for scope in scopes
    ]

    def status() -> dict[str, Any]:
        return {
            "instance": settings.instance,
            "holder": holder,
            "scopes": {
                leader.scope_name: {
                    "role": leader.role,
                    "resource_version": leader.loop.resource_version,
                    "tracked_pods": len(leader.loop.tracker),
                }
                for leader in leaders
            },
        }

    def lease_state() -> None:
        for leader in leaders:
            leader.lease.current_holder()

    readiness = wiring.readiness(
        redis=lambda: connections.ping(redis_client),
        lease=lease_state,
        kubernetes=pods.ping,
        outages=outages,
    )
    return running.Service(
        name="watcher",
        report=replicas.Reporter(redis_client, redis_keys, holder),
        loops=[running.Loop(f"watch-{leader.scope_name}", leader.run) for leader in leaders],
        health=wiring.health_server(
            "watcher",
            settings,
            heartbeats=[leader.heartbeat for leader in leaders],
            readiness=readiness,
            registry=registry,
            status=status,
        ),
        cleanup=[readiness.close, api_client.close, redis_client.close],
    )


def _leader(
    scope: str,
    *,
    settings: Settings,
    pods: PodApi,
    publish: Callable[[list[PodEvent]], None],
    checkpoints: Checkpoints,
    lease: Lease,
    metrics: WatcherMetrics,
    outages: Outages,
) -> Leader:
    heartbeat = health.Heartbeat(f"watch-{scope}", deadline_s=LOOP_DEADLINE_S)

    def save(resource_version: str) -> bool:
        holding = leader.holding
        saved = holding is not None and checkpoints.save(lease, holding, scope, resource_version)
        if saved:
            leader.checkpointed()
        return saved

    loop = WatchLoop(
        scope=None if scope == ALL else scope,
        pods=pods,
        instance=settings.instance,
        publish=publish,
        save_checkpoint=save,
        metrics=metrics,
        heartbeat=heartbeat,
        read_timeout_s=min(60.0, settings.lease_ttl_s * 2),
    )
    leader = Leader(
        scope, lease, checkpoints, loop, metrics, heartbeat, settings.lease_ttl_s, outages
    )
    return leader


def _scopes(settings: Settings, namespaces: list[str], *, all_namespaces: bool) -> list[str]:
    if all_namespaces:
        return [ALL]
    return list(wiring.served_namespaces(settings, namespaces))

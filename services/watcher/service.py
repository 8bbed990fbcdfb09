"""Wiring the watcher: one leader-or-standby per namespace (or one for the whole cluster).

`podrunner watcher [--namespace NS ... | --all-namespaces]`. Each scope has its own lease,
checkpoint and watch loop; events go to the stream of the pod's namespace.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from services.watcher.leading import Leader
from services.watcher.metrics import WatcherMetrics
from services.watcher.watching import WatchLoop
from shared import health, running, wiring
from shared.messages import PodEvent
from shared.messaging.checkpoints import Checkpoints
from shared.messaging.outlets import PodEventOutlet
from shared.settings import Settings

#: A watch loop silent (no event, bookmark or reconnect) this long is stuck.
LOOP_DEADLINE_S = 120.0
ALL = "*"


def build(settings: Settings, namespaces: list[str], *, all_namespaces: bool) -> running.Service:
    """The watcher for `namespaces` (all configured ones when empty, or the whole cluster),
    ready to run.

    Raises:
        ConfigurationError: a namespace is not configured, or Redis is not.
    """
    scopes = _scopes(settings, namespaces, all_namespaces=all_namespaces)
    ground = wiring.lay_groundwork(settings, api_pool_size=len(scopes) + 2)
    metrics = WatcherMetrics(ground.registry)
    checkpoints = Checkpoints(ground.redis, keys=ground.keys)
    publish = PodEventOutlet(ground.redis, ground.keys, settings.stream_maxlen).publish
    leaders = [
        _leader(scope, ground, publish=publish, checkpoints=checkpoints, metrics=metrics)
        for scope in scopes
    ]

    def lease_state() -> None:
        for leader in leaders:
            leader.lease.current_holder()

    serving = wiring.Serving(
        loops=[running.Loop(f"watch-{leader.scope_name}", leader.run) for leader in leaders],
        heartbeats=[leader.heartbeat for leader in leaders],
        status=partial(_status, ground, leaders),
        checks={"lease": lease_state},
    )
    return wiring.service("watcher", ground, serving)


def _status(ground: wiring.Groundwork, leaders: list[Leader]) -> dict[str, Any]:
    return {
        "instance": ground.settings.instance,
        "holder": ground.holder,
        "scopes": {
            leader.scope_name: {
                "role": leader.role,
                "resource_version": leader.loop.resource_version,
                "tracked_pods": len(leader.loop.tracker),
            }
            for leader in leaders
        },
    }


def _leader(
    scope: str,
    ground: wiring.Groundwork,
    *,
    publish: Callable[[list[PodEvent]], None],
    checkpoints: Checkpoints,
    metrics: WatcherMetrics,
) -> Leader:
    """The leader-or-standby of one scope, holding its own lease."""
    settings = ground.settings
    lease = ground.lease(f"watcher:{scope}")
    heartbeat = health.Heartbeat(f"watch-{scope}", deadline_s=LOOP_DEADLINE_S)

    def save(resource_version: str) -> bool:
        holding = leader.holding
        saved = holding is not None and checkpoints.save(lease, holding, scope, resource_version)
        if saved:
            leader.checkpointed()
        return saved

    loop = WatchLoop(
        scope=None if scope == ALL else scope,
        pods=ground.pods,
        instance=settings.instance,
        publish=publish,
        save_checkpoint=save,
        metrics=metrics,
        heartbeat=heartbeat,
        read_timeout_s=min(60.0, settings.lease_ttl_s * 2),
    )
    leader = Leader(
        scope, lease, checkpoints, loop, metrics, heartbeat, settings.lease_ttl_s, ground.outages
    )
    return leader


def _scopes(settings: Settings, namespaces: list[str], *, all_namespaces: bool) -> list[str]:
    if all_namespaces:
        return [ALL]
    return list(wiring.served_namespaces(settings, namespaces))

"""Wiring the launcher: settings in, one consumer per namespace, a worker pool, the health app.

`podrunner launcher [--namespace NS ...]` consumes the queues of the given namespaces (all the
configured ones by default). Everything is built here from the validated settings and passed in;
no module holds state of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from services.launcher import preparing
from services.launcher.consuming import NamespaceConsumer
from services.launcher.creating import Creator
from services.launcher.metrics import LauncherMetrics
from services.launcher.throttling import TokenBucket
from shared import health, running, wiring
from shared.k8s import podsecurity
from shared.k8s.rendering import RenderSettings
from shared.k8s.template_files import Templates
from shared.messaging.connections import MessagingError
from shared.messaging.jobqueue import JobQueue
from shared.messaging.outlets import LaunchOutlet
from shared.messaging.slots import SlotPool
from shared.outages import Outages
from shared.retrying import RetryPolicy
from shared.settings import Settings

#: Seconds a launcher's heartbeat lasts; its slots are reclaimable once it lapses.
HEARTBEAT_TTL_S = 30.0
#: A consumer loop silent this long is stuck (its /healthz fails).
LOOP_DEADLINE_S = 60.0


def build(settings: Settings, namespaces: list[str]) -> running.Service:
    """The launcher service for `namespaces` (all configured ones when empty), ready to run.

    Raises:
        ConfigurationError: a namespace is not configured, or Redis is not.
    """
    chosen = wiring.served_namespaces(settings, namespaces)
    ground = wiring.lay_groundwork(settings, api_pool_size=settings.launch_concurrency)
    jobs = wiring.job_queue(settings)
    slots = SlotPool(ground.redis, keys=ground.keys, holder=ground.holder)
    stop = threading.Event()
    pool = ThreadPoolExecutor(settings.launch_concurrency, thread_name_prefix="create")
    consumers = _consumers(chosen, ground, jobs=jobs, slots=slots, pool=pool, stop=stop)
    heartbeat = health.Heartbeat("heartbeat", deadline_s=HEARTBEAT_TTL_S)
    serving = wiring.Serving(
        loops=[
            *(running.Loop(f"consume-{c.namespace}", c.run) for c in consumers),
            running.Loop("heartbeat", _keep_alive(slots, heartbeat, ground.outages)),
        ],
        heartbeats=[heartbeat, *(c.heartbeat for c in consumers)],
        status=partial(_status, ground, consumers),
        checks={"broker": jobs.ping},
        cleanup=[pool.shutdown, jobs.close],
        stop=stop,
    )
    return wiring.service("launcher", ground, serving)


def _consumers(
    namespaces: Sequence[str],
    ground: wiring.Groundwork,
    *,
    jobs: JobQueue,
    slots: SlotPool,
    pool: ThreadPoolExecutor,
    stop: threading.Event,
) -> list[NamespaceConsumer]:
    """One consumer per namespace's queue, sharing the create pool, the API rate limit, the
    slots and the outlet."""
    settings = ground.settings
    metrics = LauncherMetrics(ground.registry)
    creator = Creator(
        ground.pods,
        bucket=TokenBucket(settings.launch_qps),
        policy=RetryPolicy(),
        metrics=metrics,
        instance=settings.instance,
        stop=stop,
    )
    prepare = _preparer(settings)
    outlet = LaunchOutlet(ground.redis, ground.keys, settings.stream_maxlen)
    return [
        NamespaceConsumer(
            namespace=namespace,
            jobs=jobs,
            prefetch=settings.launch_prefetch,
            pool=pool,
            prepare=prepare,
            creator=creator,
            slots=slots,
            max_active=settings.max_active_pods,
            publish=outlet.publish,
            dead_letter=outlet.dead_letter,
            metrics=metrics,
            heartbeat=health.Heartbeat(f"consume-{namespace}", deadline_s=LOOP_DEADLINE_S),
            outages=ground.outages,
        )
        for namespace in namespaces
    ]


def _status(ground: wiring.Groundwork, consumers: list[NamespaceConsumer]) -> dict[str, Any]:
    return {
        "instance": ground.settings.instance,
        "holder": ground.holder,
        "namespaces": [c.namespace for c in consumers],
        "in_flight": {c.namespace: c.in_hand for c in consumers},
        "settings": ground.settings.redacted(),
    }


def _preparer(
    settings: Settings,
) -> Callable[[bytes, str], preparing.Prepared | preparing.Rejection]:
    """Turns a job body from a namespace's queue into the pod to create, or why not."""
    launch = launch_settings(settings)
    templates = templates_of(settings)

    def prepare(body: bytes, namespace: str) -> preparing.Prepared | preparing.Rejection:
        return preparing.prepare(
            body, queue_namespace=namespace, settings=launch, templates=templates
        )

    return prepare


def _keep_alive(
    slots: SlotPool, heartbeat: health.Heartbeat, outages: Outages
) -> Callable[[threading.Event], None]:
    """The loop keeping this launcher's heartbeat key alive (its slots are not stale); Redis
    failing it is an outage to wait out, not a reason to stop."""

    def keep_alive(stop: threading.Event) -> None:
        while not stop.is_set():
            heartbeat.beat()
            try:
                slots.heartbeat(ttl_s=HEARTBEAT_TTL_S)
            except MessagingError as error:
                outages.failed(heartbeat.name, str(error))
                stop.wait(1.0)
                continue
            outages.recovered(heartbeat.name)
            stop.wait(HEARTBEAT_TTL_S / 3)

    return keep_alive


def templates_of(settings: Settings) -> Templates:
    """The template reader: jobs may name files of `PODRUNNER_POD_TEMPLATE_DIR`, none too big."""
    return Templates(directory=settings.pod_template_dir, max_bytes=settings.pod_template_max_bytes)


def launch_settings(settings: Settings) -> preparing.LaunchSettings:
    """What preparing a job needs from the settings (also used by `podrunner render-pod`)."""
    return preparing.LaunchSettings(
        render=RenderSettings(
            instance=settings.instance,
            namespace=settings.namespace,
            worker_image=settings.worker_image,
            template_file=settings.pod_template_file,
        ),
        namespaces=frozenset(settings.namespaces),
        security=podsecurity.PodSecurity(
            level=settings.pod_security,
            allow=podsecurity.Allowlists(
                images=settings.job_images,
                service_accounts=frozenset(settings.job_service_accounts),
                volume_types=frozenset(settings.job_volume_types),
                secrets=frozenset(settings.job_secrets),
                placement=frozenset(settings.job_placement),
            ),
        ),
    )

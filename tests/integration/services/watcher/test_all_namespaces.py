"""With --all-namespaces one cluster-wide watch publishes to each pod's own namespace stream."""

from __future__ import annotations

import os
import subprocess
import sys

import redis

from shared.messaging.keys import RedisKeys
from tests.integration.services.watcher.conftest import create_pod, pod_events
from tests.support.cluster import Cluster
from tests.support.kubesim import free_port
from tests.support.services import wait_ready
from tests.support.waiting import wait_until


def test_one_cluster_wide_watch_covers_every_namespace(
    cluster: Cluster,
    namespace: str,
    instance: str,
    env: dict[str, str],
    redis_client: redis.Redis,
    keys: RedisKeys,
) -> None:
    other = cluster.new_namespace()
    port = free_port()
    environment = {**os.environ, **env, "PODRUNNER_HEALTH_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "watcher", "--all-namespaces"], env=environment
    )
    try:
        wait_ready(port)
        first = create_pod(cluster, namespace, instance, "a")
        second = create_pod(cluster, other, instance, "b")
        wait_until(
            lambda: any(e.pod == first for e in pod_events(redis_client, keys, namespace)),
            timeout_s=20,
            what="any(e.pod == first for e in pod_events(redis_client, keys, namespace))",
        )
        wait_until(
            lambda: any(e.pod == second for e in pod_events(redis_client, keys, other)),
            timeout_s=20,
            what="any(e.pod == second for e in pod_events(redis_client, keys, other))",
        )
        assert all(e.namespace == other for e in pod_events(redis_client, keys, other))
    finally:
        process.terminate()
        assert process.wait(30) == 0

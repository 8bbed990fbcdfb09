"""Pods that are not ours are counted and ignored; the loop goes on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import redis

from shared.k8s import naming
from shared.messaging.keys import RedisKeys
from tests.integration.services.watcher.conftest import create_pod, pod_events
from tests.support.cluster import Cluster
from tests.support.waiting import wait_until


def stranger(name: str, labels: dict[str, str], annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": labels, "annotations": annotations},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "base", "image": "busybox:1.37"}],
        },
    }


def test_other_instances_pods_and_pods_with_bad_annotations_are_ignored_and_counted(
    cluster: Cluster,
    namespace: str,
    instance: str,
    run_watcher: Callable[..., Any],
    redis_client: redis.Redis,
    keys: RedisKeys,
) -> None:
    watched = run_watcher()
    ours = {naming.MANAGED_BY_LABEL: naming.MANAGED_BY_VALUE, naming.INSTANCE_LABEL: instance}
    garbled = {
        naming.DAG_ID: "d",
        naming.TASK_ID: "t",
        naming.RUN_ID: "r",
        naming.MAP_INDEX: "x",
        naming.TRY_NUMBER: "one",
    }
    for body in (
        stranger("no-annotations", ours, {}),
        stranger("garbled", ours, garbled),
        stranger("other-instance", {**ours, naming.INSTANCE_LABEL: "someone-else"}, garbled),
    ):
        assert (
            cluster.http.post(f"/api/v1/namespaces/{namespace}/pods", json=body).status_code == 201
        )
    mine = create_pod(cluster, namespace, instance, "mine")
    wait_until(
        lambda: any(e.pod == mine for e in pod_events(redis_client, keys, namespace)),
        timeout_s=20,
        what="any(e.pod == mine for e in pod_events(redis_client, keys, namespace))",
    )
    assert {e.pod for e in pod_events(redis_client, keys, namespace)} == {mine}
    metrics = httpx.get(f"http://127.0.0.1:{watched.port}/metrics").text
    ignored = [
        line for line in metrics.splitlines() if line.startswith("podrunner_watcher_ignored_total")
    ]
    assert any('reason="unreadable key annotations"' in line for line in ignored)
    assert httpx.get(f"http://127.0.0.1:{watched.port}/healthz").status_code == 200

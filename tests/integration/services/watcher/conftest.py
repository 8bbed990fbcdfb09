"""Fixtures for watcher tests: settings, a running watcher, and pods to watch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis

from services.watcher import service
from shared.k8s.rendering import RenderSettings, render_pod
from shared.k8s.template_files import Templates
from shared.messages import PodEvent
from shared.messaging.keys import RedisKeys
from shared.settings import Settings
from tests.support import builders
from tests.support.cluster import Cluster
from tests.support.kubesim import free_port
from tests.support.services import InProcess, wait_ready


@pytest.fixture
def env(service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("PODRUNNER_LEASE_TTL_S", "2")
    return {**service_env, "PODRUNNER_LEASE_TTL_S": "2"}


@pytest.fixture
def run_watcher(env: dict[str, str]) -> Iterator[Callable[..., InProcess]]:
    started: list[InProcess] = []

    def start(**overrides: Any) -> InProcess:
        settings = Settings(**overrides)
        built = service.build(settings, [], all_namespaces=False)
        watched = InProcess(built, settings.health_port_for("watcher"))
        started.append(watched)
        return watched.start()

    yield start
    for watched in started:
        if watched.thread.is_alive():
            watched.stop()


@dataclass
class WatcherProcess:
    process: subprocess.Popen[bytes]
    port: int

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)


@pytest.fixture
def watcher_process(env: dict[str, str]) -> Iterator[Callable[[], WatcherProcess]]:
    started: list[WatcherProcess] = []

    def start() -> WatcherProcess:
        port = free_port()
        environment = {**os.environ, **env, "PODRUNNER_HEALTH_PORT": str(port)}
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "watcher"], env=environment
        )
        watched = WatcherProcess(process, port)
        started.append(watched)
        wait_ready(port)
        return watched

    yield start
    for watched in started:
        if watched.process.poll() is None:
            watched.kill()


def create_pod(
    cluster: Cluster, namespace: str, instance: str, task_id: str, **behaviour: str
) -> str:
    """Create one of our pods, its kubesim behaviour set by `kubesim.podrunner.io/*` annotations."""
    annotations = {f"kubesim.podrunner.io/{k.replace('_', '-')}": v for k, v in behaviour.items()}
    job = builders.job(task_id=task_id, annotations=annotations or None)
    pod = render_pod(
        job, settings=RenderSettings(instance, namespace, "busybox:1.37"), templates=Templates()
    )
    response = cluster.http.post(f"/api/v1/namespaces/{namespace}/pods", json=pod)
    assert response.status_code == 201, response.text
    return str(pod["metadata"]["name"])


def pod_events(client: redis.Redis, keys: RedisKeys, namespace: str) -> list[PodEvent]:
    entries: Any = client.xrange(keys.pod_events(namespace))
    return [PodEvent.decode(fields[b"event"]) for _, fields in entries]


def events_of(events: list[PodEvent], pod: str) -> list[PodEvent]:
    return [event for event in events if event.pod == pod]

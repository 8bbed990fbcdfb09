"""Fixtures for launcher tests: kubesim, a namespace per test, settings, and a running launcher."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from kombu.connection import Connection
from kombu.entity import Exchange, Queue

from services.launcher import service
from shared.messages import Job, LaunchEvent
from shared.messaging.jobqueue import BrokerSettings, JobQueue
from shared.messaging.keys import RedisKeys, job_queue
from shared.settings import Settings
from tests.support.kubesim import free_port
from tests.support.services import InProcess, wait_ready


@pytest.fixture
def env(service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("PODRUNNER_BROKER_VISIBILITY_TIMEOUT_S", "60")
    return {**service_env, "PODRUNNER_BROKER_VISIBILITY_TIMEOUT_S": "60"}


@pytest.fixture
def jobs(redis_url: str) -> JobQueue:
    return JobQueue(BrokerSettings(url=redis_url, visibility_timeout_s=2))


@pytest.fixture
def run_launcher(env: dict[str, str]) -> Iterator[Callable[..., InProcess]]:
    """Start the launcher in this process (on threads), with settings overridden by keyword."""
    started: list[InProcess] = []

    def start(**overrides: Any) -> InProcess:
        settings = Settings(**overrides)
        launched = InProcess(service.build(settings, []), settings.health_port_for("launcher"))
        started.append(launched)
        return launched.start()

    yield start
    for launched in started:
        if launched.thread.is_alive():
            launched.stop()


@dataclass
class LauncherProcess:
    process: subprocess.Popen[bytes]
    port: int

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout_s: float = 30) -> int:
        return self.process.wait(timeout=timeout_s)


@pytest.fixture
def launcher_process(env: dict[str, str]) -> Iterator[Callable[..., LauncherProcess]]:
    """Start `podrunner launcher` as a real process."""
    started: list[LauncherProcess] = []

    def start(**extra_env: str) -> LauncherProcess:
        environment = {**os.environ, **env, **extra_env}
        if "PODRUNNER_HEALTH_PORT" not in extra_env:
            environment["PODRUNNER_HEALTH_PORT"] = str(free_port())
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "launcher"], env=environment
        )
        launched = LauncherProcess(process, int(environment["PODRUNNER_HEALTH_PORT"]))
        started.append(launched)
        wait_ready(launched.port)
        return launched

    yield start
    for launched in started:
        if launched.process.poll() is None:
            launched.signal(signal.SIGKILL)
            launched.wait()


def launch_events(client: redis.Redis, keys: RedisKeys) -> list[LaunchEvent]:
    entries: Any = client.xrange(keys.launches)
    return [LaunchEvent.decode(fields[b"event"]) for _, fields in entries]


def wait_for_events(
    client: redis.Redis, keys: RedisKeys, count: int, *, timeout_s: float = 20
) -> list[LaunchEvent]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        events = launch_events(client, keys)
        if len(events) >= count:
            return events
        time.sleep(0.05)
    raise AssertionError(f"{count} launch events did not arrive within {timeout_s}s")


def publish(jobs: JobQueue, namespace: str, *batch: Job) -> None:
    jobs.publish((job, namespace) for job in batch)


def publish_raw(redis_url: str, namespace: str, body: bytes) -> None:
    """A message any kombu producer could send: here, one that is not a valid job."""
    url = redis_url.replace("unix://", "redis+socket://")
    with Connection(url) as connection:
        exchange = Exchange("podrunner.jobs", type="direct", durable=True)
        queue = Queue(job_queue(namespace), exchange=exchange, routing_key=namespace)
        connection.Producer().publish(
            body,
            exchange=exchange,
            routing_key=namespace,
            declare=[queue],
            content_type="application/json",
            content_encoding="utf-8",
        )


def template(tmp_path: Path) -> Path:
    path = tmp_path / "template.yaml"
    hardened = "securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}"
    path.write_text(
        "kind: Pod\nmetadata: {labels: {team: data}}\n"
        "spec:\n  serviceAccountName: worker\n"
        "  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n"
        "  containers:\n"
        f"  - {{name: proxy, image: 'envoy:1', {hardened}}}\n"
        f"  - {{name: base, env: [{{name: MODE, value: t}}], {hardened}}}\n"
    )
    return path

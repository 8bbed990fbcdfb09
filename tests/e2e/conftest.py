"""End-to-end: kubesim, real Redis and Postgres, and the services as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from tests.support.kubesim import KubesimProcess, free_port, start_kubesim
from tests.support.services import API_TOKEN


@pytest.fixture
def kubesim(tmp_path: Path) -> Iterator[KubesimProcess]:
    sim = start_kubesim(tmp_path, "--namespace", "jobs")
    yield sim
    sim.stop()


@pytest.fixture
def stack_env(kubesim: KubesimProcess, redis_url: str, database_url: URL) -> dict[str, str]:
    return {
        **os.environ,
        "KUBECONFIG": str(kubesim.kubeconfig),
        "PODRUNNER_REDIS_URL": redis_url,
        "PODRUNNER_DATABASE_URL": database_url.render_as_string(hide_password=False),
        "PODRUNNER_INSTANCE": f"e{uuid.uuid4().hex[:8]}",
        "PODRUNNER_NAMESPACE": "jobs",
        "PODRUNNER_NAMESPACES": "jobs",
        "PODRUNNER_HEALTH_HOST": "127.0.0.1",
        "PODRUNNER_LEASE_TTL_S": "3",
        "PODRUNNER_SWEEP_INTERVAL_S": "1",
        "PODRUNNER_DRIFT_GRACE_S": "2",
        "PODRUNNER_PENDING_TIMEOUT_S": "3",
        "PODRUNNER_QUEUED_TIMEOUT_S": "5",
        "PODRUNNER_MAX_RELAUNCHES": "1",
        "PODRUNNER_CLAIM_IDLE_S": "2",
        "PODRUNNER_LOG_FORMAT": "console",
        "PODRUNNER_API_TOKEN": API_TOKEN,
    }


class Stack:
    """The services of one test as processes: started, stopped or killed by name."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        #: The health (and, for the reconciler, API and dashboard) port of each service.
        self.ports: dict[str, int] = {}

    def __call__(self, *names: str) -> None:
        for name in names:
            self.start(name)

    def start(self, name: str, **extra_env: str) -> None:
        env = {**self.env, "PODRUNNER_HEALTH_PORT": str(free_port()), **extra_env}
        process = subprocess.Popen([sys.executable, "-m", "services.cli", name], env=env)
        self.running[name] = process
        self.ports[name] = int(env["PODRUNNER_HEALTH_PORT"])
        _wait_ready(int(env["PODRUNNER_HEALTH_PORT"]), process)

    def stop(self, name: str) -> None:
        process = self.running.pop(name)
        process.terminate()
        assert process.wait(30) == 0, f"the {name} did not stop cleanly"

    def kill(self, name: str) -> None:
        process = self.running.pop(name)
        process.kill()
        process.wait(30)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)


@pytest.fixture
def services(stack_env: dict[str, str]) -> Iterator[Stack]:
    """Start the launcher, watcher and reconciler as processes; stop them at the end."""
    stack = Stack(stack_env)
    yield stack
    stack.stop_all()


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "a service exited during start-up"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("a service never became ready")

"""End-to-end: kubesim, real Redis and Postgres, and the services as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from tests.support.kubesim import KubesimProcess, free_port, start_kubesim


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
        "PODRUNNER_LOG_FORMAT": "console",
    }


@pytest.fixture
def services(stack_env: dict[str, str]) -> Iterator[Callable[..., None]]:
    """Start the launcher, watcher and reconciler as processes; stop them at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*names: str) -> None:
        for name in names:
            env = {**stack_env, "PODRUNNER_HEALTH_PORT": str(free_port())}
            process = subprocess.Popen([sys.executable, "-m", "services.cli", name], env=env)
            started.append(process)
            _wait_ready(int(env["PODRUNNER_HEALTH_PORT"]), process)

    yield start
    for process in started:
        process.terminate()
    for process in started:
        assert process.wait(30) == 0, "a service did not stop cleanly"


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

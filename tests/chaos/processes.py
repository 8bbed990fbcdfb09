"""Each service replica as a process that the run can kill, and that says why when it died itself.

Services are started with `python -m services.cli NAME`, each with a health port of its own, and
their output goes to a log file per process start, so a crash shows the tail of the log of the
process that crashed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.kubesim import free_port


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

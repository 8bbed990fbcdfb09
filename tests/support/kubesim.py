"""Running kubesim as a real process for tests and benchmarks, on a free loopback port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class KubesimProcess:
    process: subprocess.Popen[bytes]
    url: str
    kubeconfig: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_kubesim(directory: Path, *extra: str, log: Path | None = None) -> KubesimProcess:
    """Run `podrunner kubesim` as a real process on a free loopback port; wait until it answers.

    Its output goes to `log` when given (else it is the caller's)."""
    port = free_port()
    output = log.open("wb") if log is not None else None
    kubeconfig = directory / f"kubeconfig-{port}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "services.cli",
            "kubesim",
            "--port",
            str(port),
            "--kubeconfig-out",
            str(kubeconfig),
            "--bookmark-interval",
            "1",
            *extra,
        ],
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
    )
    if output is not None:
        output.close()  # the process has its own copy
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=0.5).status_code in (200, 401):
                return KubesimProcess(process, url, kubeconfig)
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("kubesim did not start")

"""The demo's processes: kubesim and the three services, started, checked ready and stopped.

Every process is a `python -m services.cli ...` child in a session of its own (so a Ctrl-C reaches
the demo alone, which then stops them in order), with its output in a log file of the demo's.
The services start together and stop together (start-up is mostly imports, so this saves
seconds); stopping is SIGTERM, then SIGKILL after a grace period. Each start is a context manager,
so an `ExitStack` stops whatever was started, in reverse order, whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

#: Seconds a process gets to become ready, and to stop after SIGTERM before it is killed.
START_TIMEOUT_S = 60.0
STOP_GRACE_S = 20.0
SERVICES = ("reconciler", "watcher", "launcher")


class StartFailed(Exception):
    """A process exited or never became ready; the message says which and where its log is."""


@dataclass(frozen=True)
class Kubesim:
    url: str
    kubeconfig: Path


@dataclass(frozen=True)
class Service:
    name: str
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def kubesim(workdir: Path, namespace: str) -> Iterator[Kubesim]:
    """kubesim in process mode on a free port: each pod's command runs here as a subprocess."""
    port = free_port()
    kubeconfig = workdir / "kubeconfig"
    args = ["kubesim", "--mode", "process", "--port", str(port), "--namespace", namespace]
    args += ["--kubeconfig-out", str(kubeconfig), "--bookmark-interval", "5"]
    with running("kubesim", args, dict(os.environ), workdir) as process:
        url = f"http://127.0.0.1:{port}"
        wait_ready("kubesim", f"{url}/healthz", process, workdir)
        yield Kubesim(url, kubeconfig)


@contextlib.contextmanager
def services(env: Mapping[str, str], workdir: Path) -> Iterator[dict[str, Service]]:
    """The three services, started together, each with its health app on a free port; yields
    once every `/readyz` answers, and stops them together at the end."""
    started = {name: Service(name, free_port()) for name in SERVICES}
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, each in started.items():
            own_env = {**env, "PODRUNNER_HEALTH_PORT": str(each.port)}
            processes[name] = spawn(name, [name], own_env, workdir)
        for name, each in started.items():
            wait_ready(name, f"{each.url}/readyz", processes[name], workdir)
        yield started
    finally:
        stop(*processes.values())


@contextlib.contextmanager
def running(
    name: str, args: list[str], env: Mapping[str, str], workdir: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`podrunner ARGS` as a child process, stopped at the end."""
    process = spawn(name, args, env, workdir)
    try:
        yield process
    finally:
        stop(process)


def spawn(
    name: str, args: list[str], env: Mapping[str, str], workdir: Path
) -> subprocess.Popen[bytes]:
    """`podrunner ARGS` as a child process in its own session, logging to `workdir/NAME.log`."""
    with log_path(workdir, name).open("ab") as log:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "services.cli", *args],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(*processes: subprocess.Popen[bytes], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM to all at once, then SIGKILL to any still there after `grace_s`."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + grace_s
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_ready(name: str, url: str, process: subprocess.Popen[bytes], workdir: Path) -> None:
    """Poll `url` until it answers 200; fail if the process exits or time runs out."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartFailed(
                f"the {name} exited during start-up (exit {process.returncode}); "
                f"see {log_path(workdir, name)}"
            )
        if _answers(url):
            return
        time.sleep(0.1)
    raise StartFailed(
        f"the {name} was not ready within {START_TIMEOUT_S:.0f}s; see {log_path(workdir, name)}"
    )


def log_path(workdir: Path, name: str) -> Path:
    return workdir / f"{name}.log"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False

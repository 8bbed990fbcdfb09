"""kubesim's throughput and memory, measured on this machine (a benchmark, not a test).

    python -m tests.benchmarks.bench_kubesim [--creates 12000] [--events 3000] [--pods 100000]
                                             [--runs 3] [--quick] [--json PATH]

Prints, each as a median of `--runs` runs where it makes sense:

* pod creates per second over HTTP, concurrent clients, kubelet paused (the API path alone),
  against the official client's serial create loop as the baseline;
* watch events per second delivered to 10 concurrent watchers (each write fanned out 10 times);
* the simulator's resident memory holding `--pods` pods with a bounded event history.

Clients run in separate processes, so the figures are kubesim's, not one Python client's.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from kubernetes import client, config

from tests.benchmarks import common
from tests.support.kubesim import start_kubesim

NAMESPACE = "bench"


def pod(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"app": "bench"}},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "base", "image": "busybox:1.37"}],
        },
    }


async def _raw_creates(host: str, port: int, prefix: str, count: int, connections: int) -> None:
    """Create pods over keep-alive connections with pre-encoded requests: a client cheap enough
    that the figure measures the server, not Python's HTTP clients."""

    async def connection(offset: int) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        for n in range(offset, count, connections):
            body = orjson.dumps(pod(f"{prefix}-{n}"))
            writer.write(
                f"POST /api/v1/namespaces/{NAMESPACE}/pods HTTP/1.1\r\nHost: {host}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            status = await common.read_response(reader)
            assert b" 201 " in status, status
        writer.close()
        await writer.wait_closed()

    await asyncio.gather(*(connection(i) for i in range(connections)))


def _create_worker(url: str, prefix: str, count: int, connections: int) -> None:
    address = url.removeprefix("http://")
    host, port = address.split(":")
    asyncio.run(_raw_creates(host, int(port), prefix, count, connections))


def creates_per_second(
    url: str, count: int, run: int, processes: int = 1, connections: int = 32
) -> float:
    per_process = -(-count // processes)
    jobs = [
        multiprocessing.Process(
            target=_create_worker, args=(url, f"r{run}p{i}", per_process, connections)
        )
        for i in range(processes)
    ]
    started = time.perf_counter()
    for job in jobs:
        job.start()
    for job in jobs:
        job.join()
    elapsed = time.perf_counter() - started
    assert all(job.exitcode == 0 for job in jobs), "a create worker failed"
    return per_process * processes / elapsed


def serial_official_client(kubeconfig: Path, count: int, run: int) -> float:
    configuration = client.Configuration()
    config.load_kube_config(str(kubeconfig), client_configuration=configuration)
    with client.ApiClient(configuration) as api_client:
        api = client.CoreV1Api(api_client)
        started = time.perf_counter()
        for n in range(count):
            api.create_namespaced_pod(NAMESPACE, pod(f"serial{run}-{n}"))  # type: ignore[arg-type]
        return count / (time.perf_counter() - started)


def _watch_worker(url: str, rv: str, expected: int, ready: Any, done: Any) -> None:
    """Count newline-framed events on a raw watch stream until `expected` arrived."""
    host, port = url.removeprefix("http://").split(":")
    query = f"watch=1&resourceVersion={rv}&labelSelector=app%3Dbench"
    path = f"/api/v1/namespaces/{NAMESPACE}/pods?{query}"
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        buffered = b""
        while b"\r\n\r\n" not in buffered:
            buffered += sock.recv(65536)
        ready.release()
        tail = buffered.split(b"\r\n\r\n", 1)[1]
        received = tail.count(b"}\n")
        carry = tail[-1:]
        while received < expected:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            received += (carry + chunk).count(b"}\n")
            carry = chunk[-1:]
    done.put(received)


def events_per_second(url: str, count: int, watchers: int = 10) -> float:
    rv = httpx.get(f"{url}/api/v1/namespaces/{NAMESPACE}/pods?limit=1").json()["metadata"][
        "resourceVersion"
    ]
    ready = multiprocessing.Semaphore(0)
    done: Any = multiprocessing.Queue()
    jobs = [
        multiprocessing.Process(target=_watch_worker, args=(url, rv, count, ready, done))
        for _ in range(watchers)
    ]
    for job in jobs:
        job.start()
    for _ in jobs:
        ready.acquire()
    started = time.perf_counter()
    _create_worker(url, f"w{rv}", count, 32)
    delivered = sum(int(done.get(timeout=300)) for _ in jobs)
    elapsed = time.perf_counter() - started
    for job in jobs:
        job.join()
    return delivered / elapsed


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return float(int(line.split()[1]) / 1024)
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=12_000)
    parser.add_argument("--serial", type=int, default=1_000)
    parser.add_argument("--events", type=int, default=3_000)
    parser.add_argument("--pods", type=int, default=100_000)
    common.add_common(parser, runs=3)
    quick = {"creates": 500, "serial": 100, "events": 300, "pods": 2_000, "runs": 1}
    args = common.parse(parser, argv, quick)
    with tempfile.TemporaryDirectory() as directory:
        sim = start_kubesim(Path(directory), "--namespace", NAMESPACE, "--history-limit", "10000")
        try:
            figures = _measure(sim, args)
        finally:
            sim.stop()
    _print(figures)
    common.write_json(args.json, figures)
    return 0


def _measure(sim: Any, args: argparse.Namespace) -> dict[str, float]:
    httpx.post(f"{sim.url}/kubesim/kubelet/pause")
    serial = statistics.median(
        serial_official_client(sim.kubeconfig, args.serial, r) for r in range(args.runs)
    )
    print(f"serial official-client creates/s: {serial:,.0f}", file=sys.stderr)
    creates = statistics.median(
        creates_per_second(sim.url, args.creates, r) for r in range(args.runs)
    )
    print(f"concurrent creates/s: {creates:,.0f}", file=sys.stderr)
    events = statistics.median(events_per_second(sim.url, args.events) for _ in range(args.runs))
    print(f"watch events/s to 10 watchers: {events:,.0f}", file=sys.stderr)
    existing = len(
        httpx.get(f"{sim.url}/api/v1/namespaces/{NAMESPACE}/pods?resourceVersion=0").json()["items"]
    )
    remaining = max(0, args.pods - existing)
    if remaining:
        print(f"filling to {args.pods:,} pods ...", file=sys.stderr)
        creates_per_second(sim.url, remaining, 99)
    stats = httpx.get(f"{sim.url}/kubesim/stats").json()
    return {
        "serial_creates_per_s": serial,
        "creates_per_s": creates,
        "creates_ratio_to_serial": creates / serial,
        "watch_events_per_s_10_watchers": events,
        "pods": float(stats["pods"]),
        "rss_mb": rss_mb(sim.process.pid),
    }


def _print(figures: dict[str, float]) -> None:
    rows = [
        ("pod creates/s, concurrent HTTP (target >= 2,000)", f"{figures['creates_per_s']:,.0f}"),
        (
            "pod creates/s, official client serial loop (baseline)",
            f"{figures['serial_creates_per_s']:,.0f}",
        ),
        ("ratio concurrent / serial", f"{figures['creates_ratio_to_serial']:.1f}x"),
        (
            "watch events/s delivered, 10 watchers (target >= 20,000)",
            f"{figures['watch_events_per_s_10_watchers']:,.0f}",
        ),
        (
            f"resident memory with {figures['pods']:,.0f} pods, history 10,000 events",
            f"{figures['rss_mb']:,.0f} MB",
        ),
    ]
    width = max(len(label) for label, _ in rows)
    print("kubesim benchmark (this machine)")
    for label, value in rows:
        print(f"  {label.ljust(width)}  {value}")


if __name__ == "__main__":
    sys.exit(main())

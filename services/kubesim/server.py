"""Running kubesim: build the simulator, serve it with uvicorn, write a kubeconfig for clients.

`podrunner kubesim --port P --kubeconfig-out PATH` starts one process holding the API server, the
simulated scheduler and kubelet, and the admin hooks. The kubeconfig it writes is an ordinary one
(plain HTTP on loopback, optionally a bearer token) that the official client loads unmodified.
kubesim is a test double for a real cluster, never a production path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
import yaml
from starlette.applications import Starlette

from services.kubesim import api, restarts
from services.kubesim.kubelet import Kubelet
from services.kubesim.pods import Cluster
from services.kubesim.store import Store


@dataclass(frozen=True)
class SimulatorSettings:
    host: str = "127.0.0.1"
    port: int = 6443
    #: Host written to the kubeconfig when clients reach kubesim by another name than `host`
    #: (e.g. `kubesim` in docker compose, where `host` is 0.0.0.0); None means `host`.
    advertise_address: str | None = None
    mode: str = "simulate"
    token: str | None = None
    namespaces: tuple[str, ...] = ()
    history_limit: int = 100_000
    history_age_s: float = 300.0
    bookmark_interval_s: float = 60.0
    #: How long an idle keep-alive connection stays open: kube-apiserver's 90 s (Go's
    #: `http.Server.IdleTimeout` there), not uvicorn's 5 s, which pooled clients trip over.
    keep_alive_s: float = 90.0
    step_s: float = 0.01
    #: CrashLoopBackOff: the first delay and its cap, in seconds (the kubelet's 10 s and 5 min).
    restart_backoff_s: float = restarts.KUBELET_BACKOFF_S
    restart_backoff_max_s: float = restarts.KUBELET_BACKOFF_MAX_S
    #: Seeds the draws of pods with an `exit-rate` annotation, so that two runs of the same pods
    #: get the same outcomes in the same order; None: a fresh sequence each run.
    seed: int | None = None


def build(settings: SimulatorSettings) -> tuple[api.Simulator, Starlette]:
    """The simulator and its ASGI app; the kubelet starts with the app's lifespan."""
    store = Store(
        start_rv=random.randint(1000, 100_000),
        history_limit=settings.history_limit,
        history_age_s=settings.history_age_s,
    )
    cluster = Cluster(store=store, wall_clock=time.time)
    cluster.namespaces.update(settings.namespaces)
    sim = api.Simulator(cluster=cluster, bookmark_interval_s=settings.bookmark_interval_s)
    if settings.token:
        sim.tokens[settings.token] = False
        sim.require_token = True
    app = api.make_app(sim)
    app.router.lifespan_context = _lifespan(sim, settings)
    return sim, app


def _lifespan(sim: api.Simulator, settings: SimulatorSettings):  # type: ignore[no-untyped-def]
    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        kubelet = Kubelet(
            sim.cluster,
            sim.logs,
            step_s=settings.step_s,
            paused=lambda: sim.kubelet_paused,
            process_mode=settings.mode == "process",
            backoff=restarts.Backoff(settings.restart_backoff_s, settings.restart_backoff_max_s),
            seed=settings.seed,
        )
        sim.on_write = kubelet.wake
        task = asyncio.create_task(kubelet.run(), name="kubesim-kubelet")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if kubelet.runner is not None:
                await kubelet.runner.close()

    return lifespan


def client_url(settings: SimulatorSettings) -> str:
    """The URL clients use to reach the API server: the advertised address, else the bind host."""
    host = settings.advertise_address or settings.host
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def kubeconfig(url: str, token: str | None) -> dict[str, object]:
    user: dict[str, object] = {"token": token} if token else {}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kubesim", "cluster": {"server": url}}],
        "users": [{"name": "kubesim", "user": user}],
        "contexts": [
            {
                "name": "kubesim",
                "context": {"cluster": "kubesim", "user": "kubesim", "namespace": "default"},
            }
        ],
        "current-context": "kubesim",
    }


def write_kubeconfig(path: Path, url: str, token: str | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(kubeconfig(url, token), sort_keys=False))


class _DroppedWatches(logging.Filter):
    """Watches cut on purpose (the drop hook) are not server errors worth a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionAbortedError))


def serve(settings: SimulatorSettings, kubeconfig_out: Path | None) -> None:
    """Serve until interrupted (SIGINT or SIGTERM)."""
    _, app = build(settings)
    logging.getLogger("uvicorn.error").addFilter(_DroppedWatches())
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        lifespan="on",
        timeout_keep_alive=int(settings.keep_alive_s),
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    if kubeconfig_out is not None:
        write_kubeconfig(kubeconfig_out, client_url(settings), settings.token)
    server.run()

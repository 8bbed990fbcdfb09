"""Fixtures every service test uses: one kubesim for the session, a namespace per test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.cluster import Cluster
from tests.support.kubesim import free_port, start_kubesim
from tests.support.services import API_TOKEN


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    sim = start_kubesim(tmp_path_factory.mktemp("kubesim"))
    with httpx.Client(base_url=sim.url, timeout=30) as http:
        yield Cluster(sim, http)
    sim.stop()


@pytest.fixture
def namespace(cluster: Cluster) -> Iterator[str]:
    name = cluster.new_namespace()
    yield name
    cluster.admin("DELETE", "faults")


@pytest.fixture
def service_env(
    cluster: Cluster, redis_url: str, namespace: str, instance: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The environment of a service under test (also set in this process, for in-process runs)."""
    values = {
        "KUBECONFIG": str(cluster.sim.kubeconfig),
        "PODRUNNER_REDIS_URL": redis_url,
        "PODRUNNER_INSTANCE": instance,
        "PODRUNNER_NAMESPACE": namespace,
        "PODRUNNER_NAMESPACES": namespace,
        "PODRUNNER_HEALTH_HOST": "127.0.0.1",
        "PODRUNNER_HEALTH_PORT": str(free_port()),
        "PODRUNNER_LOG_FORMAT": "console",
        "PODRUNNER_API_TOKEN": API_TOKEN,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    return values

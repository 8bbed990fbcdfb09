"""Fixtures every service test uses: one kubesim for the session, a namespace per test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.cluster import Cluster
from tests.support.kubesim import start_kubesim


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

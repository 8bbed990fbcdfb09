"""The conformance suite's target: kubesim by default, a real cluster when a kubeconfig is given.

Set `PODRUNNER_CONFORMANCE_KUBECONFIG` to run the black-box checks against a real cluster; tests
marked `kubesim_only` use the simulator's admin hooks and are skipped there. Each test gets a
namespace of its own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml
from kubernetes import client, config

from tests.support.kubesim import start_kubesim

REAL_CLUSTER = os.environ.get("PODRUNNER_CONFORMANCE_KUBECONFIG")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if REAL_CLUSTER and item.get_closest_marker("kubesim_only"):
            item.add_marker(pytest.mark.skip(reason="needs kubesim's admin hooks"))


@dataclass
class Target:
    """What a conformance check talks to: raw HTTP, the official client, and (kubesim) admin."""

    url: str
    kubeconfig: Path
    http: httpx.Client
    api: client.CoreV1Api
    is_kubesim: bool

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        assert self.is_kubesim, "admin hooks exist only on kubesim"
        response = self.http.request(method, f"/kubesim/{path}", json=body)
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    if REAL_CLUSTER:
        kubeconfig = Path(REAL_CLUSTER)
        sim = None
    else:
        sim = start_kubesim(tmp_path_factory.mktemp("kubesim"))
        kubeconfig = sim.kubeconfig
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    headers = {}
    if configuration.api_key.get("authorization"):
        headers["Authorization"] = configuration.api_key["authorization"]
    with (
        httpx.Client(base_url=configuration.host, headers=headers, timeout=30) as http,
        client.ApiClient(configuration) as api_client,
    ):
        yield Target(
            configuration.host, kubeconfig, http, client.CoreV1Api(api_client), sim is not None
        )
    if sim is not None:
        sim.stop()


@pytest.fixture
def namespace(target: Target) -> Iterator[str]:
    name = f"conf-{uuid.uuid4().hex[:10]}"
    response = target.http.post("/api/v1/namespaces", json={"metadata": {"name": name}})
    assert response.status_code == 201, response.text
    yield name
    if target.is_kubesim:
        target.admin("DELETE", "faults")
    else:
        target.http.delete(f"/api/v1/namespaces/{name}")


def pod_body(name: str, **changes: Any) -> dict[str, Any]:
    """A minimal valid pod; `changes` are merged at the top level of metadata/spec."""
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "conformance"}},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "base", "image": "busybox:1.37", "command": ["true"]}],
        },
    }
    for part, values in changes.items():
        body[part].update(values)
    return body


def kubeconfig_user(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def long_running(name: str, seconds: int = 60, **annotations: str) -> dict[str, Any]:
    """A pod that runs for `seconds`: a real `sleep`, and the annotation kubesim reads."""
    body = pod_body(name)
    body["spec"]["containers"][0]["command"] = ["sleep", str(seconds)]
    body["metadata"]["annotations"] = {
        "kubesim.podrunner.io/run-seconds": str(seconds),
        **{f"kubesim.podrunner.io/{k.replace('_', '-')}": v for k, v in annotations.items()},
    }
    return body


def watch_lines(
    target: Target, path: str, params: dict[str, str], *, count: int, timeout_s: float = 10
) -> list[dict[str, Any]]:
    """Open a raw watch and read `count` events (or until the server closes the stream)."""
    events: list[dict[str, Any]] = []
    with target.http.stream(
        "GET", path, params={"watch": "1", **params}, timeout=timeout_s
    ) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            assert line.strip(), "watch streams never carry blank lines"
            events.append(orjson.loads(line))
            if len(events) >= count:
                break
    return events

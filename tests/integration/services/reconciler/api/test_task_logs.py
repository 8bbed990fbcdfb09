"""`GET …/logs` reads the log live from the task's pod while the pod exists, and the row's stored
tail once it is gone, saying which in `X-Podrunner-Log-Source`."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy

from shared.k8s import naming
from shared.k8s.pods import PodApi
from shared.k8s.rendering import RenderSettings, render_pod
from shared.k8s.template_files import Templates
from tests.support import builders
from tests.support.cluster import Cluster
from tests.support.testclient import MakeApp, TestClient

#: The media type every write must declare.
JSON = {"content-type": "application/json"}

LOGS = "/api/v1/tasks/etl/load/r1/-1/logs"


@pytest.fixture
def client(make_app: MakeApp, namespace: str) -> Iterator[TestClient]:
    with TestClient(make_app(log_lines=3, served=("jobs", namespace))) as client:
        yield client


@pytest.fixture
def finished_pod(
    cluster: Cluster, namespace: str, instance: str, client: TestClient, db: sqlalchemy.Engine
) -> str:
    """A task whose pod ran in kubesim, logged five lines and exited 1; its name."""
    job = builders.job(
        run_id="r1",
        namespace=namespace,
        annotations={
            "kubesim.podrunner.io/exit-code": "1",
            "kubesim.podrunner.io/log": "one\ntwo\nthree\nfour\nfive",
        },
    )
    assert client.post("/api/v1/jobs", content=job.encode(), headers=JSON).status_code == 201
    pod = render_pod(
        job, settings=RenderSettings(instance, namespace, "busybox:1.37"), templates=Templates()
    )
    assert cluster.http.post(f"/api/v1/namespaces/{namespace}/pods", json=pod).status_code == 201
    name = str(pod["metadata"]["name"])
    wait_for_phase(cluster, namespace, name, "Failed")
    with db.begin() as connection:
        connection.execute(
            sqlalchemy.text("UPDATE task_instance SET pod_name=:name, state='failed'"),
            {"name": name},
        )
    return name


def wait_for_phase(cluster: Cluster, namespace: str, name: str, phase: str) -> None:
    deadline = time.monotonic() + 10
    path = f"/api/v1/namespaces/{namespace}/pods/{name}"
    while cluster.http.get(path).json().get("status", {}).get("phase") != phase:
        assert time.monotonic() < deadline, f"{name} never reached {phase}"
        time.sleep(0.05)


def remove(cluster: Cluster, pods: PodApi, namespace: str, name: str) -> None:
    pods.remove_finalizer(namespace, name, naming.RESULT_FINALIZER)
    pods.delete(namespace, name)
    deadline = time.monotonic() + 10
    while cluster.http.get(f"/api/v1/namespaces/{namespace}/pods/{name}").status_code != 404:
        assert time.monotonic() < deadline, f"{name} was never deleted"
        time.sleep(0.05)


def test_the_log_is_read_from_the_pod_while_it_exists(
    client: TestClient, finished_pod: str
) -> None:
    default = client.get(LOGS)
    two = client.get(LOGS, params={"lines": 2})

    assert default.status_code == 200, default.text
    assert default.headers["x-podrunner-log-source"] == "pod"
    assert default.headers["content-type"].startswith("text/plain")
    assert default.text.splitlines() == ["three", "four", "five"], "the router's default: 3"
    assert two.text.splitlines() == ["four", "five"]


def test_the_stored_tail_is_served_once_the_pod_is_gone(
    client: TestClient,
    finished_pod: str,
    cluster: Cluster,
    pods: PodApi,
    namespace: str,
    db: sqlalchemy.Engine,
) -> None:
    with db.begin() as connection:
        connection.execute(sqlalchemy.text("UPDATE task_instance SET log_tail='four\nfive\n'"))
    remove(cluster, pods, namespace, finished_pod)

    response = client.get(LOGS)
    last = client.get(LOGS, params={"lines": 1})

    assert response.status_code == 200, response.text
    assert response.headers["x-podrunner-log-source"] == "stored"
    assert response.text == "four\nfive\n"
    assert last.text == "five\n"


def test_the_stored_tail_is_served_when_the_api_server_fails_saying_why(
    client: TestClient, finished_pod: str, cluster: Cluster, db: sqlalchemy.Engine
) -> None:
    with db.begin() as connection:
        connection.execute(sqlalchemy.text("UPDATE task_instance SET log_tail='stored\n'"))
    cluster.admin("POST", "faults", {"verb": "get", "error": "503", "count": 1})

    response = client.get(LOGS)

    assert response.status_code == 200, response.text
    assert response.headers["x-podrunner-log-source"] == "stored"
    assert response.headers["x-podrunner-log-pod-error"] == "ServerError"
    assert response.text == "stored\n"


def test_a_task_without_a_pod_yet_has_an_empty_stored_log(client: TestClient) -> None:
    assert client.post("/api/v1/jobs", json=builders.job_dict(run_id="r1")).status_code == 201

    response = client.get(LOGS)

    assert response.status_code == 200
    assert (response.headers["x-podrunner-log-source"], response.text) == ("stored", "")


def test_an_unknown_task_has_no_log(client: TestClient) -> None:
    response = client.get(LOGS)

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "no task etl/load/r1/-1"


@pytest.mark.parametrize("lines", [0, -1, 10_001, "all"])
def test_lines_are_bounded(client: TestClient, lines: int | str) -> None:
    response = client.get(LOGS, params={"lines": lines})

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "lines"

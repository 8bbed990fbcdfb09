"""`as=Table`: the server-side printing kubectl shows, with the pod printer's columns and cells."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.conftest import Target, pod_body
from tests.support.waiting import wait_until

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
POD_COLUMNS = [
    ("Name", "string", "name", 0),
    ("Ready", "string", "", 0),
    ("Status", "string", "", 0),
    ("Restarts", "string", "", 0),
    ("Age", "string", "", 0),
    ("IP", "string", "", 1),
    ("Node", "string", "", 1),
    ("Nominated Node", "string", "", 1),
    ("Readiness Gates", "string", "", 1),
]


def table(target: Target, path: str, **params: str) -> Any:
    response = target.http.get(path, params=params, headers={"Accept": TABLE})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["kind"], body["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    return body


@pytest.fixture
def finished_pod(target: Target, namespace: str) -> str:
    response = target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=pod_body("done"))
    assert response.status_code == 201, response.text
    path = f"/api/v1/namespaces/{namespace}/pods/done"
    wait_until(
        lambda: target.http.get(path).json()["status"].get("phase") == "Succeeded",
        timeout_s=60,
        what='target.http.get(path).json()["status"].get("phase") == "Succeeded"',
    )
    return namespace


def test_a_pod_table_has_the_pod_printers_columns(target: Target, finished_pod: str) -> None:
    body = table(target, f"/api/v1/namespaces/{finished_pod}/pods")
    columns = [
        (c["name"], c["type"], c["format"], c["priority"]) for c in body["columnDefinitions"]
    ]
    assert columns == POD_COLUMNS
    assert body["metadata"]["resourceVersion"]


def test_a_finished_pod_row_reads_completed_with_its_node_and_metadata(
    target: Target, finished_pod: str
) -> None:
    [row] = table(target, f"/api/v1/namespaces/{finished_pod}/pods")["rows"]
    name, ready, status, restarts, age, _ip, node, nominated, gates = row["cells"]
    assert (name, ready, status, restarts) == ("done", "0/1", "Completed", "0")
    assert age.endswith(("s", "m"))
    assert node != "<none>"
    assert (nominated, gates) == ("<none>", "<none>")
    assert row["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["name"] == "done"


def test_a_get_is_a_one_row_table(target: Target, finished_pod: str) -> None:
    body = table(target, f"/api/v1/namespaces/{finished_pod}/pods/done")
    assert [row["cells"][0] for row in body["rows"]] == ["done"]


def test_include_object_chooses_what_each_row_carries(target: Target, finished_pod: str) -> None:
    path = f"/api/v1/namespaces/{finished_pod}/pods"
    [whole] = table(target, path, includeObject="Object")["rows"]
    assert (whole["object"]["kind"], whole["object"]["spec"]["restartPolicy"]) == ("Pod", "Never")
    [bare] = table(target, path, includeObject="None")["rows"]
    assert bare.get("object") is None


def test_a_pending_pod_reads_pending_with_no_node(target: Target, namespace: str) -> None:
    # no node matches the selector on a cluster; kubesim's scheduler is paused instead
    body = pod_body("waiting", spec={"nodeSelector": {"kubesim.podrunner.io/none": "x"}})
    if target.is_kubesim:
        target.admin("POST", "kubelet/pause")
    try:
        created = target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=body)
        assert created.status_code == 201
        [row] = table(target, f"/api/v1/namespaces/{namespace}/pods")["rows"]
    finally:
        if target.is_kubesim:
            target.admin("POST", "kubelet/resume")
    assert row["cells"][1:4] == ["0/1", "Pending", "0"]
    assert row["cells"][5:7] == ["<none>", "<none>"]
    assert "conditions" not in row

"""PUT and PATCH: optimistic concurrency, immutable fields, no-op writes, patch formats."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.conftest import Target, long_running
from tests.support.waiting import wait_until

MERGE = {"Content-Type": "application/merge-patch+json"}
STRATEGIC = {"Content-Type": "application/strategic-merge-patch+json"}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}


@pytest.fixture
def pod(target: Target, namespace: str) -> dict[str, Any]:
    body = long_running("p1")
    body["metadata"]["finalizers"] = ["example.com/keep"]
    response = target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=body)
    assert response.status_code == 201
    # settled first: a scheduler binding between a test's GET and PUT would change the spec
    path = f"/api/v1/namespaces/{namespace}/pods/p1"
    wait_until(
        lambda: target.http.get(path).json()["status"].get("phase") == "Running",
        timeout_s=10.0,
        what='target.http.get(path).json()["status"].get("phase") == "Running"',
    )
    created: dict[str, Any] = target.http.get(path).json()
    return created


def url(namespace: str, suffix: str = "") -> str:
    return f"/api/v1/namespaces/{namespace}/pods/p1{suffix}"


def current(target: Target, namespace: str) -> dict[str, Any]:
    body: dict[str, Any] = target.http.get(url(namespace)).json()
    return body


def test_put_with_a_stale_version_is_409_conflict(
    target: Target, namespace: str, pod: dict[str, Any]
) -> None:
    target.http.patch(url(namespace), json={"metadata": {"labels": {"x": "1"}}}, headers=MERGE)
    stale = {**pod, "metadata": {**pod["metadata"], "labels": {"x": "2"}}}
    response = target.http.put(url(namespace), json=stale)
    assert response.status_code == 409
    assert response.json()["message"] == (
        'Operation cannot be fulfilled on pods "p1": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )


def test_put_without_a_version_is_unconditional(
    target: Target, namespace: str, pod: dict[str, Any]
) -> None:
    target.http.patch(url(namespace), json={"metadata": {"labels": {"x": "1"}}}, headers=MERGE)
    body = current(target, namespace)
    body["metadata"].pop("resourceVersion")
    body["metadata"]["labels"]["y"] = "2"
    response = target.http.put(url(namespace), json=body)
    assert response.status_code == 200
    assert response.json()["metadata"]["labels"]["y"] == "2"


def test_put_with_another_name_is_400(target: Target, namespace: str, pod: dict[str, Any]) -> None:
    body = current(target, namespace)
    body["metadata"]["name"] = "other"
    response = target.http.put(url(namespace), json=body)
    assert response.status_code == 400
    assert response.json()["message"] == (
        "the name of the object (other) does not match the name on the URL (p1)"
    )


def test_a_write_that_changes_nothing_keeps_the_version(
    target: Target, namespace: str, pod: dict[str, Any]
) -> None:
    before = current(target, namespace)
    response = target.http.put(url(namespace), json=before)
    assert response.status_code == 200
    assert response.json()["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


def test_changing_the_command_of_a_pod_is_forbidden(
    target: Target, namespace: str, pod: dict[str, Any]
) -> None:
    patch = {"spec": {"containers": [{"name": "base", "command": ["false"]}]}}
    response = target.http.patch(url(namespace), json=patch, headers=STRATEGIC)
    assert response.status_code == 422
    assert (
        "spec: Forbidden: pod updates may not change fields other than"
        in response.json()["message"]
    )


def test_a_strategic_patch_changes_one_container_by_name(
    target: Target, namespace: str, pod: dict[str, Any]
) -> None:
    patch = {"spec": {"containers": [{"name": "base", "image": "busybox:1.36"}]}}
    response = target.http.patch(url(namespace), json=patch, headers=STRATEGIC)
    assert response.status_code == 200
    container = response.json()["spec"]["containers"][0]
    assert (container["image"], container["command"]) == ("busybox:1.36", ["sleep", "60"])


def test_a_merge_patch_null_removes_a_label(
    target: Target, namespace: str, pod: dict[str, Any]
) -> None:
    patch = {"metadata": {"labels": {"app": None}}}
    labels = target.http.patch(url(namespace), json=patch, headers=MERGE).json()["metadata"]
    assert "app" not in (labels.get("labels") or {})


def test_a_json_patch_adds_an_escaped_label(
    target: Target, namespace: str, pod: dict[str, Any]
) -> None:
    ops = [{"op": "add", "path": "/metadata/labels/example.com~1team", "value": "data"}]
    labels = target.http.patch(url(namespace), json=ops, headers=JSON_PATCH).json()["metadata"][
        "labels"
    ]
    assert labels["example.com/team"] == "data"


def test_a_failed_json_patch_test_is_422(
    target: Target, namespace: str, pod: dict[str, Any]
) -> None:
    ops = [{"op": "test", "path": "/metadata/name", "value": "other"}]
    response = target.http.patch(url(namespace), json=ops, headers=JSON_PATCH)
    assert response.status_code == 422
    assert (
        response.json()["message"]
        == "the server rejected our request due to an error in our request"
    )


def test_an_unknown_patch_type_is_415(target: Target, namespace: str, pod: dict[str, Any]) -> None:
    response = target.http.patch(url(namespace), json={}, headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.json()["reason"] == "UnsupportedMediaType"


def test_a_patch_naming_a_stale_version_is_409(
    target: Target, namespace: str, pod: dict[str, Any]
) -> None:
    target.http.patch(url(namespace), json={"metadata": {"labels": {"x": "1"}}}, headers=MERGE)
    patch = {
        "metadata": {"resourceVersion": pod["metadata"]["resourceVersion"], "labels": {"x": "2"}}
    }
    assert target.http.patch(url(namespace), json=patch, headers=MERGE).status_code == 409


def test_strategic_finalizers_are_a_union_and_delete_from_list_removes(
    target: Target, namespace: str, pod: dict[str, Any]
) -> None:
    added = target.http.patch(
        url(namespace), json={"metadata": {"finalizers": ["example.com/other"]}}, headers=STRATEGIC
    ).json()
    assert added["metadata"]["finalizers"] == ["example.com/keep", "example.com/other"]
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/keep"]}}
    removed = target.http.patch(url(namespace), json=patch, headers=STRATEGIC).json()
    assert removed["metadata"]["finalizers"] == ["example.com/other"]


def test_status_written_on_the_main_resource_is_ignored(
    target: Target, namespace: str, pod: dict[str, Any]
) -> None:
    patch = {"status": {"phase": "Failed"}, "metadata": {"labels": {"x": "1"}}}
    body = target.http.patch(url(namespace), json=patch, headers=MERGE).json()
    assert body["status"]["phase"] != "Failed"


@pytest.mark.kubesim_only
def test_the_status_subresource_changes_status_but_not_spec(
    target: Target, namespace: str, pod: dict[str, Any]
) -> None:
    target.admin("POST", "kubelet/pause")
    try:
        patch = {"status": {"message": "hello"}, "spec": {"activeDeadlineSeconds": 5}}
        body = target.http.patch(url(namespace, "/status"), json=patch, headers=MERGE).json()
    finally:
        target.admin("POST", "kubelet/resume")
    assert body["status"]["message"] == "hello"
    assert "activeDeadlineSeconds" not in body["spec"]


def test_the_official_client_patches_with_a_strategic_merge(
    target: Target, namespace: str, pod: dict[str, Any]
) -> None:
    patched: Any = target.api.patch_namespaced_pod(
        "p1", namespace, {"metadata": {"labels": {"k": "v"}}}
    )
    assert patched.metadata.labels["k"] == "v"


@pytest.mark.kubesim_only
def test_binding_assigns_a_node_once(target: Target, namespace: str) -> None:
    target.admin("POST", "kubelet/pause")
    try:
        target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=long_running("unbound"))
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": "unbound"},
            "target": {"apiVersion": "v1", "kind": "Node", "name": "node-9"},
        }
        path = f"/api/v1/namespaces/{namespace}/pods/unbound/binding"
        first = target.http.post(path, json=binding)
        second = target.http.post(path, json=binding)
    finally:
        target.admin("POST", "kubelet/resume")
    assert (first.status_code, first.json()["status"]) == (201, "Success")
    assert second.status_code == 409
    assert 'is already assigned to node "node-9"' in second.json()["message"]
    bound = target.http.get(f"/api/v1/namespaces/{namespace}/pods/unbound").json()
    assert bound["spec"]["nodeName"] == "node-9"
    scheduled = [c for c in bound["status"]["conditions"] if c["type"] == "PodScheduled"]
    assert scheduled[0]["status"] == "True"

"""POST and GET of pods: server-set fields, defaults, and the creation errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.conftest import Target, pod_body


def create(target: Target, namespace: str, body: Any) -> Any:
    return target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=body)


def test_create_answers_201_with_server_set_metadata(target: Target, namespace: str) -> None:
    response = create(target, namespace, pod_body("p1"))
    assert response.status_code == 201
    pod = response.json()
    assert (pod["kind"], pod["apiVersion"]) == ("Pod", "v1")
    metadata = pod["metadata"]
    assert len(metadata["uid"]) == 36
    assert isinstance(metadata["resourceVersion"], str)
    assert metadata["creationTimestamp"].endswith("Z")
    assert metadata["namespace"] == namespace
    assert pod["status"]["phase"] == "Pending"
    assert pod["status"]["qosClass"] == "BestEffort"


def test_create_fills_the_spec_defaults(target: Target, namespace: str) -> None:
    spec = create(target, namespace, pod_body("p1")).json()["spec"]
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["dnsPolicy"] == "ClusterFirst"
    assert spec["schedulerName"] == "default-scheduler"
    container = spec["containers"][0]
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["imagePullPolicy"] == "IfNotPresent"


def test_a_second_create_with_the_same_name_is_409_already_exists(
    target: Target, namespace: str
) -> None:
    create(target, namespace, pod_body("p1"))
    response = create(target, namespace, pod_body("p1"))
    assert response.status_code == 409
    body = response.json()
    assert body["reason"] == "AlreadyExists"
    assert body["message"] == 'pods "p1" already exists'
    assert body["details"] == {"name": "p1", "kind": "pods"}


def test_a_namespace_in_the_body_that_differs_from_the_url_is_400(
    target: Target, namespace: str
) -> None:
    body = pod_body("p1", metadata={"namespace": "elsewhere"})
    response = create(target, namespace, body)
    assert response.status_code == 400
    assert "does not match the namespace sent on the request" in response.json()["message"]


def test_a_resource_version_on_create_is_a_500_without_reason(
    target: Target, namespace: str
) -> None:
    response = create(target, namespace, pod_body("p1", metadata={"resourceVersion": "5"}))
    assert response.status_code == 500
    body = response.json()
    assert body["message"] == "resourceVersion should not be set on objects to be created"
    assert "reason" not in body


def test_create_in_a_missing_namespace_is_404(target: Target) -> None:
    response = create(target, "no-such-namespace-x1", pod_body("p1"))
    assert response.status_code == 404
    assert response.json()["message"] == 'namespaces "no-such-namespace-x1" not found'


def test_generate_name_makes_a_name_from_the_prefix(target: Target, namespace: str) -> None:
    body = pod_body("x")
    body["metadata"] = {"generateName": "task-"}
    name = create(target, namespace, body).json()["metadata"]["name"]
    assert name.startswith("task-")
    assert len(name) == len("task-") + 5


def test_dry_run_stores_nothing(target: Target, namespace: str) -> None:
    response = target.http.post(
        f"/api/v1/namespaces/{namespace}/pods", params={"dryRun": "All"}, json=pod_body("p1")
    )
    assert response.status_code == 201
    assert target.http.get(f"/api/v1/namespaces/{namespace}/pods/p1").status_code == 404


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        pytest.param(
            {"metadata": {"name": "Bad_Name"}},
            "metadata.name",
            "a lowercase RFC 1123 subdomain must consist of",
            id="invalid-name",
        ),
        pytest.param(
            {"metadata": {"name": "p1", "labels": {"app": "bad value!"}}},
            "metadata.labels",
            "a valid label must be an empty string",
            id="invalid-label-value",
        ),
        pytest.param(
            {"spec": {"containers": []}}, "spec.containers", "Required value", id="no-containers"
        ),
        pytest.param(
            {"spec": {"restartPolicy": "Sometimes", "containers": [{"name": "a", "image": "b"}]}},
            "spec.restartPolicy",
            'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
            id="bad-restart-policy",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "App", "image": "b"}]}},
            "spec.containers[0].name",
            "a lowercase RFC 1123 label must consist of",
            id="container-name-not-a-label",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "a"}]}},
            "spec.containers[0].image",
            "Required value",
            id="container-without-image",
        ),
    ],
)
def test_invalid_pods_are_422_naming_the_field(
    target: Target, namespace: str, change: dict[str, Any], field: str, fragment: str
) -> None:
    body = pod_body("p1")
    body.update({k: {**body[k], **v} for k, v in change.items()})
    response = create(target, namespace, body)
    assert response.status_code == 422
    status = response.json()
    assert status["reason"] == "Invalid"
    assert status["details"]["kind"] == "Pod"
    assert field in [cause["field"] for cause in status["details"]["causes"]]
    assert fragment in status["message"]
    assert " is invalid: " in status["message"]


def test_malformed_json_is_400(target: Target, namespace: str) -> None:
    response = target.http.post(
        f"/api/v1/namespaces/{namespace}/pods",
        content=b'{"metadata": ',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["reason"] == "BadRequest"


def test_a_body_of_the_wrong_kind_is_400(target: Target, namespace: str) -> None:
    body = {**pod_body("p1"), "kind": "Deployment"}
    assert create(target, namespace, body).status_code == 400


def test_get_returns_the_pod_with_kind_and_api_version(target: Target, namespace: str) -> None:
    create(target, namespace, pod_body("p1"))
    pod = target.http.get(f"/api/v1/namespaces/{namespace}/pods/p1").json()
    assert (pod["kind"], pod["metadata"]["name"]) == ("Pod", "p1")


def test_get_of_a_missing_pod_is_404_with_the_exact_status(target: Target, namespace: str) -> None:
    response = target.http.get(f"/api/v1/namespaces/{namespace}/pods/nope")
    assert response.status_code == 404
    assert response.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "nope" not found',
        "reason": "NotFound",
        "details": {"name": "nope", "kind": "pods"},
        "code": 404,
    }


def test_the_official_client_creates_and_reads_a_pod(target: Target, namespace: str) -> None:
    created: Any = target.api.create_namespaced_pod(namespace, pod_body("p1"))  # type: ignore[arg-type]
    read: Any = target.api.read_namespaced_pod("p1", namespace)
    assert read.metadata.uid == created.metadata.uid

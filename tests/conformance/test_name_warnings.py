"""A pod name that is not a DNS label is accepted with the server's Warning (1.29 and later)."""

from __future__ import annotations

from tests.conformance.conftest import Target, pod_body

DOTS = (
    "299 - \"metadata.name: this is used in the Pod's hostname, which can result in surprising "
    'behavior; a DNS label is recommended: [must not contain dots]"'
)


def test_a_pod_name_with_dots_is_created_with_a_warning(target: Target, namespace: str) -> None:
    response = target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=pod_body("web.v1.2"))
    assert response.status_code == 201, response.text
    assert response.headers["warning"] == DOTS


def test_a_generated_name_with_dots_gets_the_warning_too(target: Target, namespace: str) -> None:
    body = pod_body("")
    del body["metadata"]["name"]
    body["metadata"]["generateName"] = "task.run-"
    response = target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=body)
    assert response.status_code == 201, response.text
    assert response.headers["warning"] == DOTS


def test_a_dns_label_name_gets_no_warning(target: Target, namespace: str) -> None:
    response = target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=pod_body("plain"))
    assert response.status_code == 201
    assert "warning" not in response.headers

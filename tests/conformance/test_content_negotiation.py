"""Accept negotiation on get and list: metadata only, YAML, q-values and fallbacks, and the 406s.

The API server ranks the clauses of `Accept` by q-value and serves the first it can: JSON for
`*/*`, a transformation (`as=...;g=meta.k8s.io;v=v1`) only for PartialObjectMetadata(List) and
Table, and 406 NotAcceptable naming the media types it accepts when nothing fits.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.conformance.conftest import Target, pod_body

META = "application/json;as={};v=v1;g=meta.k8s.io"
ACCEPTED = (
    "only the following media types are accepted: "
    "application/json, application/yaml, application/vnd.kubernetes.protobuf"
)


@pytest.fixture
def two_pods(target: Target, namespace: str) -> str:
    for name in ("a", "b"):
        response = target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=pod_body(name))
        assert response.status_code == 201, response.text
    return namespace


def get(target: Target, path: str, accept: str) -> tuple[int, str, bytes]:
    response = target.http.get(path, headers={"Accept": accept})
    return response.status_code, response.headers["content-type"], response.content


def test_a_metadata_only_list_has_partial_items_and_the_list_metadata(
    target: Target, two_pods: str
) -> None:
    response = target.http.get(
        f"/api/v1/namespaces/{two_pods}/pods",
        params={"limit": "1"},
        headers={"Accept": META.format("PartialObjectMetadataList")},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert (body["kind"], body["apiVersion"]) == ("PartialObjectMetadataList", "meta.k8s.io/v1")
    assert body["metadata"]["continue"]
    assert body["metadata"]["resourceVersion"]
    [item] = body["items"]
    assert (item["kind"], item["apiVersion"]) == ("PartialObjectMetadata", "meta.k8s.io/v1")
    assert item["metadata"]["name"] == "a"
    assert item["metadata"]["labels"] == {"app": "conformance"}
    assert set(item) == {"kind", "apiVersion", "metadata"}


def test_a_metadata_only_get_is_one_partial_object(target: Target, two_pods: str) -> None:
    response = target.http.get(
        f"/api/v1/namespaces/{two_pods}/pods/b",
        headers={"Accept": META.format("PartialObjectMetadata")},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["kind"], body["apiVersion"]) == ("PartialObjectMetadata", "meta.k8s.io/v1")
    assert body["metadata"]["name"] == "b"
    assert "spec" not in body


def test_v1beta1_metadata_is_served_with_its_own_api_version(target: Target, two_pods: str) -> None:
    accept = "application/json;as=PartialObjectMetadataList;v=v1beta1;g=meta.k8s.io"
    status, _, content = get(target, f"/api/v1/namespaces/{two_pods}/pods", accept)
    assert status == 200
    assert yaml.safe_load(content)["apiVersion"] == "meta.k8s.io/v1beta1"


def test_asking_for_a_partial_object_of_a_list_is_406(target: Target, two_pods: str) -> None:
    response = target.http.get(
        f"/api/v1/namespaces/{two_pods}/pods",
        headers={"Accept": META.format("PartialObjectMetadata")},
    )
    assert response.status_code == 406
    body = response.json()
    assert body["reason"] == "NotAcceptable"
    assert body["message"] == (
        "you requested PartialObjectMetadata, but the requested object is a list (*core.PodList)"
    )


def test_asking_for_a_partial_list_of_one_pod_is_406(target: Target, two_pods: str) -> None:
    response = target.http.get(
        f"/api/v1/namespaces/{two_pods}/pods/a",
        headers={"Accept": META.format("PartialObjectMetadataList")},
    )
    assert response.status_code == 406
    assert response.json()["message"] == (
        "you requested PartialObjectMetadataList, but the requested object is not a list "
        "(*core.Pod)"
    )


def test_yaml_is_served_for_get_and_list(target: Target, two_pods: str) -> None:
    status, content_type, content = get(
        target, f"/api/v1/namespaces/{two_pods}/pods/a", "application/yaml"
    )
    assert status == 200
    assert content_type.startswith("application/yaml")
    pod = yaml.safe_load(content)
    assert (pod["kind"], pod["metadata"]["name"]) == ("Pod", "a")
    status, _, content = get(target, f"/api/v1/namespaces/{two_pods}/pods", "application/yaml")
    assert status == 200
    assert [i["metadata"]["name"] for i in yaml.safe_load(content)["items"]] == ["a", "b"]


@pytest.mark.parametrize(
    ("accept", "kind"),
    [
        pytest.param("*/*", "PodList", id="anything-is-json"),
        pytest.param("application/*", "PodList", id="any-application-type-is-json"),
        pytest.param("text/html, application/json;q=0.5", "PodList", id="fallback-to-json"),
        pytest.param(
            META.format("PartialObjectMetadataList") + ", application/json;q=0.9",
            "PartialObjectMetadataList",
            id="metadata-preferred",
        ),
        pytest.param(
            "application/json;q=0.8, " + META.format("PartialObjectMetadataList") + ";q=0.9",
            "PartialObjectMetadataList",
            id="higher-q-wins",
        ),
        pytest.param(
            META.format("Unknown") + ", application/json",
            "PodList",
            id="unservable-transform-falls-back",
        ),
        pytest.param(
            "application/vnd.kubernetes.protobuf;q=0.5, application/json",
            "PodList",
            id="json-over-lower-q-protobuf",
        ),
        pytest.param("application/json;charset=utf-8", "PodList", id="unknown-params-ignored"),
    ],
)
def test_the_best_acceptable_clause_is_served(
    target: Target, two_pods: str, accept: str, kind: str
) -> None:
    status, _, content = get(target, f"/api/v1/namespaces/{two_pods}/pods", accept)
    assert status == 200, content
    assert yaml.safe_load(content)["kind"] == kind


@pytest.mark.parametrize(
    "accept",
    [
        pytest.param("text/plain", id="plain-text"),
        pytest.param("text/html, image/png", id="nothing-known"),
        pytest.param(META.format("Unknown"), id="unknown-kind"),
        pytest.param("application/json;as=Table", id="table-without-group"),
        pytest.param("application/yaml;stream=watch", id="yaml-stream"),
    ],
)
def test_what_cannot_be_served_is_406_naming_the_accepted_types(
    target: Target, two_pods: str, accept: str
) -> None:
    status, content_type, content = get(target, f"/api/v1/namespaces/{two_pods}/pods", accept)
    assert status == 406
    assert content_type.startswith("application/json")
    body = yaml.safe_load(content)
    assert (body["kind"], body["reason"], body["code"]) == ("Status", "NotAcceptable", 406)
    assert body["message"] == ACCEPTED


def test_a_watch_asking_for_yaml_is_406_naming_the_streaming_types(
    target: Target, namespace: str
) -> None:
    response = target.http.get(
        f"/api/v1/namespaces/{namespace}/pods",
        params={"watch": "1", "timeoutSeconds": "1"},
        headers={"Accept": "application/yaml"},
    )
    assert response.status_code == 406
    # the Status itself is negotiated as for any error: YAML was asked for
    assert response.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(response.content)["message"] == (
        "only the following media types are accepted: "
        "application/json;stream=watch, application/vnd.kubernetes.protobuf;stream=watch"
    )


def test_a_watch_accepting_no_known_type_is_406_naming_the_plain_types(
    target: Target, namespace: str
) -> None:
    response = target.http.get(
        f"/api/v1/namespaces/{namespace}/pods",
        params={"watch": "1", "timeoutSeconds": "1"},
        headers={"Accept": "text/plain"},
    )
    assert response.status_code == 406
    assert response.json()["message"] == ACCEPTED


def test_an_error_asked_for_in_yaml_is_a_yaml_status(target: Target, namespace: str) -> None:
    status, content_type, content = get(
        target, f"/api/v1/namespaces/{namespace}/pods/missing", "application/yaml"
    )
    assert status == 404
    assert content_type.startswith("application/yaml")
    assert yaml.safe_load(content)["reason"] == "NotFound"


def test_the_official_clients_accept_headers_are_served(target: Target, two_pods: str) -> None:
    pods: Any = target.api.list_namespaced_pod(two_pods)
    assert [p.metadata.name for p in pods.items] == ["a", "b"]
    pod: Any = target.api.read_namespaced_pod("a", two_pods)
    assert pod.metadata.name == "a"

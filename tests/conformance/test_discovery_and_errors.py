"""Discovery endpoints and the Status shape of errors."""

from __future__ import annotations

from kubernetes import client

from tests.conformance.conftest import Target


def test_version_answers_with_major_and_minor(target: Target) -> None:
    body = target.http.get("/version").json()
    assert {"major", "minor", "gitVersion"} <= set(body)


def test_api_lists_v1(target: Target) -> None:
    assert "v1" in target.http.get("/api").json()["versions"]


def test_core_v1_resources_include_pods_and_their_subresources(target: Target) -> None:
    names = {r["name"] for r in target.http.get("/api/v1").json()["resources"]}
    assert {"pods", "pods/status", "pods/log", "pods/binding"} <= names


def test_an_unknown_path_is_a_404_status(target: Target) -> None:
    response = target.http.get("/api/v1/frobnicators")
    assert response.status_code == 404
    body = response.json()
    assert body["kind"] == "Status"
    assert body["reason"] == "NotFound"
    assert body["metadata"] == {}


def test_the_official_client_reads_the_version(target: Target) -> None:
    info = client.VersionApi(target.api.api_client).get_code()
    assert info.major

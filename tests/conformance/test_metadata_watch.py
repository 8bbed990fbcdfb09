"""A watch asking for `as=PartialObjectMetadata` streams each object as its metadata only."""

from __future__ import annotations

import orjson

from tests.conformance.conftest import Target, pod_body

PARTIAL = "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io"


def test_a_metadata_only_watch_sends_partial_objects(target: Target, namespace: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/pods"
    assert target.http.post(path, json=pod_body("seen")).status_code == 201
    params = {"watch": "1", "timeoutSeconds": "2"}
    with target.http.stream("GET", path, params=params, headers={"Accept": PARTIAL}) as response:
        assert response.status_code == 200
        first = orjson.loads(next(response.iter_lines()))
    assert first["type"] == "ADDED"
    assert (first["object"]["kind"], first["object"]["apiVersion"]) == (
        "PartialObjectMetadata",
        "meta.k8s.io/v1",
    )
    assert first["object"]["metadata"]["name"] == "seen"
    assert "spec" not in first["object"]

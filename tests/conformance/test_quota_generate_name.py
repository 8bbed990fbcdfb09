"""A quota denial for a `generateName` pod names the prefix: admission sees no name yet."""

from __future__ import annotations

import pytest

from tests.conformance.conftest import Target, long_running


@pytest.mark.kubesim_only
def test_a_quota_denial_names_the_generate_name_prefix(target: Target, namespace: str) -> None:
    target.admin("PUT", f"quota/{namespace}", {"pods": 0})
    body = long_running("")
    del body["metadata"]["name"]
    body["metadata"]["generateName"] = "task-"
    try:
        response = target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=body)
    finally:
        target.admin("DELETE", f"quota/{namespace}")
    assert response.status_code == 403
    status = response.json()
    assert status["message"] == (
        'pods "task-" is forbidden: exceeded quota: pod-count, '
        "requested: pods=1, used: pods=0, limited: pods=0"
    )
    assert status["details"] == {"name": "task-", "kind": "pods"}

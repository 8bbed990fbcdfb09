"""A pod's log is plain text, yet its `Accept` is negotiated like any get: `text/plain` is a 406."""

from __future__ import annotations

from tests.conformance.conftest import Target, pod_body
from tests.support.waiting import wait_until


def test_a_log_asked_for_as_plain_text_only_is_406(target: Target, namespace: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/pods"
    assert target.http.post(path, json=pod_body("talker")).status_code == 201
    wait_until(
        lambda: target.http.get(f"{path}/talker").json()["status"].get("phase") == "Succeeded",
        timeout_s=60,
        what='target.http.get(f"{path}/talker").json()["status"].get("phase") == "Succeeded"',
    )
    refused = target.http.get(f"{path}/talker/log", headers={"Accept": "text/plain"})
    assert refused.status_code == 406
    assert refused.json()["message"] == (
        "only the following media types are accepted: "
        "application/json, application/yaml, application/vnd.kubernetes.protobuf"
    )
    served = target.http.get(f"{path}/talker/log", headers={"Accept": "text/plain, */*"})
    assert served.status_code == 200

"""DELETE: grace periods, the kubelet's terminal phase, finalizers, preconditions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.conftest import Target, long_running, pod_body, watch_lines
from tests.support.waiting import wait_until


def pods_path(namespace: str) -> str:
    return f"/api/v1/namespaces/{namespace}/pods"


def create(target: Target, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    response = target.http.post(pods_path(namespace), json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def phase(target: Target, namespace: str, name: str) -> str:
    response = target.http.get(f"{pods_path(namespace)}/{name}")
    return str(response.json()["status"].get("phase")) if response.status_code == 200 else "gone"


def test_deleting_a_missing_pod_is_404(target: Target, namespace: str) -> None:
    assert target.http.delete(f"{pods_path(namespace)}/nope").status_code == 404


def test_a_running_pod_deleted_with_grace_reaches_a_terminal_phase_then_goes(
    target: Target, namespace: str
) -> None:
    create(target, namespace, long_running("r", on_sigterm="exit0"))
    wait_until(
        lambda: phase(target, namespace, "r") == "Running",
        timeout_s=10.0,
        what='phase(target, namespace, "r") == "Running"',
    )
    rv = target.http.get(pods_path(namespace)).json()["metadata"]["resourceVersion"]
    response = target.http.delete(f"{pods_path(namespace)}/r")
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "Pod"
    assert body["metadata"]["deletionTimestamp"]
    assert body["metadata"]["deletionGracePeriodSeconds"] == 30
    events = watch_lines(
        target, pods_path(namespace), {"resourceVersion": rv, "timeoutSeconds": "10"}, count=4
    )
    assert [e["type"] for e in events] == ["MODIFIED", "MODIFIED", "MODIFIED", "DELETED"]
    assert events[1]["object"]["status"]["phase"] == "Succeeded"
    assert events[2]["object"]["metadata"]["deletionGracePeriodSeconds"] == 0


def test_a_pending_pod_deleted_is_failed_with_container_status_unknown_first(
    target: Target, namespace: str
) -> None:
    create(target, namespace, long_running("pull", pull="fail"))
    wait_until(
        lambda: (
            target.http.get(f"{pods_path(namespace)}/pull")
            .json()["status"]
            .get("containerStatuses")
        ),
        timeout_s=10.0,
        what="container statuses on the pod pull",
    )
    rv = target.http.get(pods_path(namespace)).json()["metadata"]["resourceVersion"]
    target.http.delete(f"{pods_path(namespace)}/pull")
    events = watch_lines(
        target, pods_path(namespace), {"resourceVersion": rv, "timeoutSeconds": "10"}, count=4
    )
    failed = next(e["object"] for e in events if e["object"]["status"].get("phase") == "Failed")
    terminated = failed["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["reason"], terminated["exitCode"]) == ("ContainerStatusUnknown", 137)
    assert events[-1]["type"] == "DELETED"


def test_an_unscheduled_pod_is_removed_at_once(target: Target, namespace: str) -> None:
    create(target, namespace, long_running("u", unschedulable="true"))
    response = target.http.delete(f"{pods_path(namespace)}/u")
    assert response.status_code == 200
    assert response.json()["metadata"]["deletionGracePeriodSeconds"] == 0
    assert target.http.get(f"{pods_path(namespace)}/u").status_code == 404


def test_a_finalizer_keeps_a_deleted_pod_until_it_is_removed(
    target: Target, namespace: str
) -> None:
    body = pod_body("held")
    body["metadata"]["finalizers"] = ["podrunner.io/result"]
    create(target, namespace, body)
    wait_until(
        lambda: phase(target, namespace, "held") == "Succeeded",
        timeout_s=10.0,
        what='phase(target, namespace, "held") == "Succeeded"',
    )
    target.http.delete(f"{pods_path(namespace)}/held")
    held = target.http.get(f"{pods_path(namespace)}/held").json()
    assert held["metadata"]["deletionTimestamp"]
    assert held["metadata"]["deletionGracePeriodSeconds"] == 0
    response = target.http.patch(
        f"{pods_path(namespace)}/held",
        json=[{"op": "remove", "path": "/metadata/finalizers"}],
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert response.status_code == 200
    assert target.http.get(f"{pods_path(namespace)}/held").status_code == 404


def test_a_uid_precondition_that_does_not_hold_is_409(target: Target, namespace: str) -> None:
    create(target, namespace, long_running("pre"))
    options = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "not-it"}}
    response = target.http.request("DELETE", f"{pods_path(namespace)}/pre", json=options)
    assert response.status_code == 409
    body = response.json()
    assert body["details"]["kind"] == "Pod"
    assert (
        "the UID in the precondition (not-it) does not match the UID in record" in body["message"]
    )


def test_an_unknown_propagation_policy_is_422(target: Target, namespace: str) -> None:
    create(target, namespace, long_running("pp"))
    response = target.http.delete(
        f"{pods_path(namespace)}/pp", params={"propagationPolicy": "Sideways"}
    )
    assert response.status_code == 422
    assert response.json()["message"].startswith('DeleteOptions.meta.k8s.io "" is invalid: ')


def test_a_body_overrides_the_query_parameters(target: Target, namespace: str) -> None:
    create(target, namespace, long_running("b"))
    wait_until(
        lambda: phase(target, namespace, "b") == "Running",
        timeout_s=10.0,
        what='phase(target, namespace, "b") == "Running"',
    )
    options = {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 7}
    response = target.http.request(
        "DELETE", f"{pods_path(namespace)}/b", params={"gracePeriodSeconds": "0"}, json=options
    )
    assert response.json()["metadata"]["deletionGracePeriodSeconds"] == 7


@pytest.mark.kubesim_only
def test_a_container_ignoring_sigterm_is_killed_after_the_grace_period(
    target: Target, namespace: str
) -> None:
    create(target, namespace, long_running("stubborn", on_sigterm="ignore"))
    wait_until(
        lambda: phase(target, namespace, "stubborn") == "Running",
        timeout_s=10.0,
        what='phase(target, namespace, "stubborn") == "Running"',
    )
    rv = target.http.get(pods_path(namespace)).json()["metadata"]["resourceVersion"]
    target.http.delete(f"{pods_path(namespace)}/stubborn", params={"gracePeriodSeconds": "1"})
    events = watch_lines(
        target, pods_path(namespace), {"resourceVersion": rv, "timeoutSeconds": "10"}, count=4
    )
    killed = events[1]["object"]["status"]
    assert killed["phase"] == "Failed"
    assert killed["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 137
    assert events[-1]["type"] == "DELETED"

"""The simulated kubelet: phases, conditions, container states and reasons.

Outcomes are driven by `kubesim.podrunner.io/*` annotations, so these checks are kubesim's own.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.conftest import Target, long_running, pod_body
from tests.support.waiting import wait_until

pytestmark = pytest.mark.kubesim_only


def run(target: Target, namespace: str, body: dict[str, Any]) -> str:
    response = target.http.post(f"/api/v1/namespaces/{namespace}/pods", json=body)
    assert response.status_code == 201, response.text
    return str(body["metadata"]["name"])


def pod(target: Target, namespace: str, name: str) -> dict[str, Any]:
    body: dict[str, Any] = target.http.get(f"/api/v1/namespaces/{namespace}/pods/{name}").json()
    return body


def terminated(body: dict[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] = body["status"]["containerStatuses"][0]["state"]["terminated"]
    return state


def finished(target: Target, namespace: str, name: str) -> dict[str, Any]:
    return wait_until(
        lambda: (
            (p := pod(target, namespace, name))["status"].get("phase") in ("Succeeded", "Failed")
            and p
        ),
        timeout_s=10.0,
        what=f"pod {name} finished",
    )


def test_a_default_pod_succeeds_quickly_with_exit_code_zero(target: Target, namespace: str) -> None:
    body = finished(target, namespace, run(target, namespace, pod_body("ok")))
    assert body["status"]["phase"] == "Succeeded"
    assert (terminated(body)["exitCode"], terminated(body)["reason"]) == (0, "Completed")
    assert body["spec"]["nodeName"]


def test_a_non_zero_exit_code_fails_the_pod_with_reason_error(
    target: Target, namespace: str
) -> None:
    body = long_running("bad", 0)
    body["metadata"]["annotations"]["kubesim.podrunner.io/exit-code"] = "3"
    done = finished(target, namespace, run(target, namespace, body))
    assert done["status"]["phase"] == "Failed"
    assert (terminated(done)["exitCode"], terminated(done)["reason"]) == (3, "Error")


def test_an_oom_kill_is_exit_137_reason_oom_killed(target: Target, namespace: str) -> None:
    done = finished(target, namespace, run(target, namespace, long_running("oom", 0, oom="true")))
    assert (terminated(done)["exitCode"], terminated(done)["reason"]) == (137, "OOMKilled")


def test_an_evicted_pod_fails_with_pod_level_reason_evicted(target: Target, namespace: str) -> None:
    done = finished(target, namespace, run(target, namespace, long_running("ev", 1, evict="true")))
    assert done["status"]["phase"] == "Failed"
    assert done["status"]["reason"] == "Evicted"
    assert done["status"]["message"].startswith("The node was low on resource: memory.")


def test_a_failing_pull_alternates_err_image_pull_and_back_off_in_pending(
    target: Target, namespace: str
) -> None:
    name = run(target, namespace, long_running("pull", pull="fail"))
    seen: set[str] = set()

    def both_reasons() -> bool:
        body = pod(target, namespace, name)
        assert body["status"]["phase"] == "Pending"
        for status in body["status"].get("containerStatuses") or []:
            seen.add(status["state"].get("waiting", {}).get("reason", ""))
        return {"ErrImagePull", "ImagePullBackOff"} <= seen

    wait_until(both_reasons, timeout_s=5, what="ErrImagePull and ImagePullBackOff both seen")


def test_an_unschedulable_pod_stays_pending_with_pod_scheduled_false(
    target: Target, namespace: str
) -> None:
    name = run(target, namespace, long_running("nowhere", unschedulable="true"))

    def marked() -> dict[str, Any] | None:
        conditions = pod(target, namespace, name)["status"].get("conditions") or []
        return next((c for c in conditions if c["type"] == "PodScheduled"), None)

    condition = wait_until(marked, timeout_s=10.0, what="a PodScheduled condition")
    assert (condition["status"], condition["reason"]) == ("False", "Unschedulable")
    assert "nodeName" not in pod(target, namespace, name)["spec"]


def test_a_running_pod_has_ready_conditions_and_a_complete_container_status(
    target: Target, namespace: str
) -> None:
    name = run(target, namespace, long_running("up"))
    body = wait_until(
        lambda: (p := pod(target, namespace, name))["status"].get("phase") == "Running" and p,
        timeout_s=10.0,
        what=f"pod {name} running",
    )
    status = body["status"]["containerStatuses"][0]
    assert {
        "name",
        "state",
        "lastState",
        "ready",
        "restartCount",
        "image",
        "imageID",
        "started",
    } <= set(status)
    assert status["state"]["running"]["startedAt"].endswith("Z")
    ready = {c["type"]: c["status"] for c in body["status"]["conditions"]}
    assert ready["Ready"] == ready["ContainersReady"] == ready["PodScheduled"] == "True"


def test_pods_in_every_state_deserialize_with_the_official_client(
    target: Target, namespace: str
) -> None:
    run(target, namespace, long_running("pending", pull="fail"))
    run(target, namespace, long_running("running"))
    finished(target, namespace, run(target, namespace, pod_body("done")))
    listed: Any = target.api.list_namespaced_pod(namespace)
    assert {p.metadata.name for p in listed.items} == {"pending", "running", "done"}


def test_log_lines_are_served_by_the_log_subresource(target: Target, namespace: str) -> None:
    body = long_running("talk", 0)
    body["metadata"]["annotations"]["kubesim.podrunner.io/log"] = "one\ntwo\nthree"
    name = run(target, namespace, body)
    finished(target, namespace, name)
    path = f"/api/v1/namespaces/{namespace}/pods/{name}/log"
    assert target.http.get(path).text == "one\ntwo\nthree\n"
    assert target.http.get(path, params={"tailLines": "1"}).text == "three\n"
    stamped = target.http.get(path, params={"timestamps": "true"}).text.splitlines()[0]
    assert stamped.endswith("Z one")
    assert len(stamped.split(" ")[0]) == len("2026-05-01T12:00:05.123456789Z")

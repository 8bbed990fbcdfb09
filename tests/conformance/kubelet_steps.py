"""Helpers for the kubelet checks: create a pod, read it, wait for it to reach a state.

Every pod carries a real command (for a real cluster) and the `kubesim.podrunner.io/*`
annotations that make kubesim do the same, so the checks run unchanged against both.
"""

from __future__ import annotations

from typing import Any

from tests.conformance.conftest import Target, pod_body
from tests.support.waiting import wait_until

#: Long enough for a real kubelet to pull, start, back off and mount.
REAL_TIMEOUT_S = 150.0


def timeout_s(target: Target, kubesim_s: float = 10.0) -> float:
    return kubesim_s if target.is_kubesim else REAL_TIMEOUT_S


def shell_pod(name: str, script: str, *, run_s: float, exit_code: int = 0) -> dict[str, Any]:
    """A pod whose `base` container runs `sh -c script` (kubesim: `run_s`, then `exit_code`)."""
    body = pod_body(name)
    body["spec"]["containers"][0]["command"] = ["sh", "-c", script]
    body["metadata"]["annotations"] = {
        "kubesim.podrunner.io/run-seconds": str(run_s),
        "kubesim.podrunner.io/exit-code": str(exit_code),
    }
    return body


def create(target: Target, namespace: str, body: dict[str, Any], kind: str = "pods") -> str:
    response = target.http.post(f"/api/v1/namespaces/{namespace}/{kind}", json=body)
    assert response.status_code == 201, response.text
    return str(body["metadata"]["name"])


def read(target: Target, namespace: str, name: str) -> dict[str, Any]:
    response = target.http.get(f"/api/v1/namespaces/{namespace}/pods/{name}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def base_status(pod: dict[str, Any]) -> dict[str, Any]:
    statuses = pod["status"].get("containerStatuses") or [{}]
    status: dict[str, Any] = statuses[0]
    return status


def waiting(pod: dict[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] = (base_status(pod).get("state") or {}).get("waiting") or {}
    return state


def until(
    target: Target, namespace: str, name: str, check: Any, *, kubesim_s: float = 10.0
) -> dict[str, Any]:
    """The pod once `check(pod)` holds."""

    def probe() -> dict[str, Any] | None:
        pod = read(target, namespace, name)
        return pod if check(pod) else None

    found: dict[str, Any] = wait_until(
        probe,
        timeout_s=timeout_s(target, kubesim_s),
        what=f"the awaited state of pod {name}",
        every_s=0.1,
    )
    return found


def phase_is(*phases: str) -> Any:
    return lambda pod: pod["status"].get("phase") in phases


def run_control(target: Target, namespace: str) -> None:
    """Create a plain pod and wait for it to end: the cluster has had time to act on any pod
    created before it, so a pod left untouched is one the cluster will not touch."""
    name = create(target, namespace, shell_pod("control", "true", run_s=0.05))
    until(target, namespace, name, phase_is("Succeeded"))

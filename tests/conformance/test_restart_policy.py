"""restartPolicy OnFailure and Always: the kubelet restarts exited containers (restartCount,
lastState.terminated, CrashLoopBackOff) and the pod stays Running; OnFailure lets a container that
exits 0 complete. (Never: see test_kubelet.)"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conformance.conftest import Target
from tests.conformance.kubelet_steps import (
    base_status,
    create,
    phase_is,
    shell_pod,
    until,
    waiting,
)


def failing(name: str, policy: str, exit_code: int = 3) -> dict[str, Any]:
    body = shell_pod(name, f"sleep 1; exit {exit_code}", run_s=0.2, exit_code=exit_code)
    body["spec"]["restartPolicy"] = policy
    return body


def restarted(pod: dict[str, Any]) -> bool:
    return int(base_status(pod).get("restartCount") or 0) >= 1


@pytest.mark.parametrize("policy", [pytest.param(p, id=p) for p in ("OnFailure", "Always")])
def test_a_failed_container_is_restarted_with_its_last_run_kept(
    target: Target, namespace: str, policy: str
) -> None:
    name = create(target, namespace, failing(f"crash-{policy.lower()}", policy))
    pod = until(target, namespace, name, restarted)
    assert pod["status"]["phase"] == "Running"
    last = base_status(pod)["lastState"]["terminated"]
    assert (last["exitCode"], last["reason"]) == (3, "Error")
    assert last["startedAt"] <= last["finishedAt"]
    assert re.fullmatch(r"[\w-]+://[0-9a-f]{64}", last["containerID"])


def test_a_container_failing_again_waits_in_crash_loop_back_off(
    target: Target, namespace: str
) -> None:
    name = create(target, namespace, failing("loop", "OnFailure"))
    pod = until(
        target,
        namespace,
        name,
        lambda p: waiting(p).get("reason") == "CrashLoopBackOff",
        kubesim_s=15,
    )
    assert pod["status"]["phase"] == "Running"
    status = base_status(pod)
    assert status["restartCount"] >= 1
    assert status["ready"] is False
    assert status["lastState"]["terminated"]["exitCode"] == 3
    meta = pod["metadata"]
    assert waiting(pod)["message"] == (
        f"back-off 10s restarting failed container=base "
        f"pod={meta['name']}_{meta['namespace']}({meta['uid']})"
    )
    ready = {c["type"]: c for c in pod["status"]["conditions"]}["Ready"]
    assert (ready["status"], ready["reason"]) == ("False", "ContainersNotReady")


def test_on_failure_lets_a_container_that_exits_zero_complete(
    target: Target, namespace: str
) -> None:
    body = shell_pod("fine", "sleep 1", run_s=0.2)
    body["spec"]["restartPolicy"] = "OnFailure"
    pod = until(target, namespace, create(target, namespace, body), phase_is("Succeeded"))
    assert base_status(pod)["restartCount"] == 0
    assert base_status(pod)["state"]["terminated"]["reason"] == "Completed"


def test_always_restarts_a_container_that_exits_zero(target: Target, namespace: str) -> None:
    body = shell_pod("again", "sleep 1", run_s=0.2)
    body["spec"]["restartPolicy"] = "Always"
    pod = until(target, namespace, create(target, namespace, body), restarted)
    assert pod["status"]["phase"] == "Running"
    last = base_status(pod)["lastState"]["terminated"]
    assert (last["exitCode"], last["reason"]) == (0, "Completed")


def test_a_restarted_container_gets_a_new_container_id(target: Target, namespace: str) -> None:
    name = create(target, namespace, failing("new-id", "Always"))
    pod = until(
        target, namespace, name, lambda p: restarted(p) and "running" in base_status(p)["state"]
    )
    status = base_status(pod)
    assert status["containerID"] != status["lastState"]["terminated"]["containerID"]

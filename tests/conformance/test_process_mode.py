"""kubesim `--mode process`: the base container's command really runs on this machine."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conformance.conftest import pod_body
from tests.support.kubesim import KubesimProcess, start_kubesim
from tests.support.waiting import wait_until

pytestmark = pytest.mark.kubesim_only


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubesimProcess]:
    process = start_kubesim(tmp_path_factory.mktemp("process"), "--mode", "process")
    yield process
    process.stop()


def run(sim: KubesimProcess, name: str, command: list[str]) -> str:
    body = pod_body(name)
    body["spec"]["containers"][0]["command"] = command
    response = httpx.post(f"{sim.url}/api/v1/namespaces/default/pods", json=body)
    assert response.status_code == 201, response.text
    return name


def pod(sim: KubesimProcess, name: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{sim.url}/api/v1/namespaces/default/pods/{name}").json()
    return body


def finished(sim: KubesimProcess, name: str) -> dict[str, Any]:
    return wait_until(
        lambda: (p := pod(sim, name))["status"].get("phase") in ("Succeeded", "Failed") and p,
        timeout_s=15,
        what=f"pod {name} finished",
    )


def exit_code(body: dict[str, Any]) -> int:
    return int(body["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"])


def restart_count(body: dict[str, Any]) -> int:
    """The base container's restarts; 0 until the kubelet has reported its status at all."""
    statuses = body["status"].get("containerStatuses") or [{}]
    return int(statuses[0].get("restartCount", 0))


def test_the_commands_output_is_the_log_and_its_exit_code_the_outcome(sim: KubesimProcess) -> None:
    name = run(sim, "echoes", ["sh", "-c", "echo hello; echo world >&2; exit 3"])
    done = finished(sim, name)
    assert done["status"]["phase"] == "Failed"
    assert exit_code(done) == 3
    log = httpx.get(f"{sim.url}/api/v1/namespaces/default/pods/{name}/log").text
    assert log == "hello\nworld\n"


def test_a_python_task_succeeds(sim: KubesimProcess) -> None:
    name = run(sim, "py", [sys.executable, "-c", "print(6 * 7)"])
    done = finished(sim, name)
    assert (done["status"]["phase"], exit_code(done)) == ("Succeeded", 0)


def test_a_graceful_delete_sends_sigterm(sim: KubesimProcess) -> None:
    name = run(sim, "sleeper", ["sleep", "30"])
    wait_until(
        lambda: pod(sim, name)["status"].get("phase") == "Running",
        timeout_s=10.0,
        what='pod(sim, name)["status"].get("phase") == "Running"',
    )
    httpx.delete(
        f"{sim.url}/api/v1/namespaces/default/pods/{name}", params={"gracePeriodSeconds": "5"}
    )
    wait_until(
        lambda: httpx.get(f"{sim.url}/api/v1/namespaces/default/pods/{name}").status_code == 404,
        timeout_s=10,
        what='httpx.get(f"{sim.url}/api/v1/namespaces/default/pods/{name}").status_code == 404',
    )


def test_a_process_ignoring_sigterm_is_killed_after_the_grace_period(sim: KubesimProcess) -> None:
    script = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('up', flush=True); time.sleep(30)"
    )
    body = pod_body("stubborn")
    body["spec"]["containers"][0]["command"] = [sys.executable, "-c", script]
    body["metadata"]["finalizers"] = ["example.com/keep"]
    httpx.post(f"{sim.url}/api/v1/namespaces/default/pods", json=body)
    wait_until(
        lambda: "up" in httpx.get(f"{sim.url}/api/v1/namespaces/default/pods/stubborn/log").text,
        timeout_s=10.0,
        what='"up" in httpx.get(f"{sim.url}/api/v1/namespaces/default/pods/stubborn/log").text',
    )
    httpx.delete(
        f"{sim.url}/api/v1/namespaces/default/pods/stubborn", params={"gracePeriodSeconds": "1"}
    )
    done = finished(sim, "stubborn")
    assert (done["status"]["phase"], exit_code(done)) == ("Failed", 137)


def test_a_missing_program_fails_to_start(sim: KubesimProcess) -> None:
    done = finished(sim, run(sim, "nothing", ["/no/such/program"]))
    assert exit_code(done) == 128


def test_an_oom_annotation_kills_the_process_and_reports_oomkilled(sim: KubesimProcess) -> None:
    notes = {"kubesim.podrunner.io/oom": "true", "kubesim.podrunner.io/run-seconds": "0.3"}
    body = pod_body("hungry", metadata={"name": "hungry", "annotations": notes})
    body["spec"]["containers"][0]["command"] = ["sleep", "30"]
    httpx.post(f"{sim.url}/api/v1/namespaces/default/pods", json=body)
    done = finished(sim, "hungry")
    terminated = done["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (done["status"]["phase"], terminated["exitCode"], terminated["reason"]) == (
        "Failed",
        137,
        "OOMKilled",
    )


def test_a_failing_command_under_on_failure_runs_again_and_keeps_its_previous_log(
    sim: KubesimProcess,
) -> None:
    body = pod_body("again")
    body["spec"]["restartPolicy"] = "OnFailure"
    body["spec"]["containers"][0]["command"] = ["sh", "-c", "echo attempt; exit 4"]
    created = httpx.post(f"{sim.url}/api/v1/namespaces/default/pods", json=body)
    assert created.status_code == 201, created.text
    restarted = wait_until(
        lambda: restart_count(p := pod(sim, "again")) >= 1 and p,
        timeout_s=15,
        what="a restart of pod again",
    )
    assert restarted["status"]["phase"] == "Running"
    assert restarted["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"] == 4
    path = f"{sim.url}/api/v1/namespaces/default/pods/again/log"
    assert httpx.get(path, params={"previous": "true"}).text == "attempt\n"


def test_a_command_past_its_active_deadline_is_stopped(sim: KubesimProcess) -> None:
    body = pod_body("slow")
    body["spec"]["activeDeadlineSeconds"] = 1
    body["spec"]["containers"][0]["command"] = ["sleep", "30"]
    created = httpx.post(f"{sim.url}/api/v1/namespaces/default/pods", json=body)
    assert created.status_code == 201, created.text
    done = finished(sim, "slow")
    assert (done["status"]["phase"], done["status"]["reason"]) == ("Failed", "DeadlineExceeded")


def test_the_containers_env_is_the_processs_environment_and_its_path_finds_the_command(
    sim: KubesimProcess, tmp_path: Path
) -> None:
    # Given a program only the pod's own PATH leads to, as an image's PATH would
    tools = tmp_path / "tools"
    tools.mkdir()
    program = tools / "show-greeting"
    program.write_text('#!/bin/sh\necho "$GREETING from $0"\n')
    program.chmod(0o755)
    body = pod_body("environment")
    body["spec"]["containers"][0]["command"] = ["show-greeting"]
    body["spec"]["containers"][0]["env"] = [
        {"name": "GREETING", "value": "hello"},
        {"name": "PATH", "value": f"{tools}:/usr/bin:/bin"},
    ]
    created = httpx.post(f"{sim.url}/api/v1/namespaces/default/pods", json=body)
    assert created.status_code == 201, created.text
    # When it runs; expect the variables of its spec in its environment
    done = finished(sim, "environment")
    assert (done["status"]["phase"], exit_code(done)) == ("Succeeded", 0)
    log = httpx.get(f"{sim.url}/api/v1/namespaces/default/pods/environment/log").text
    assert log == f"hello from {program}\n"

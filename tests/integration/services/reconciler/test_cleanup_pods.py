"""`podrunner cleanup-pods` removes finished pods, never a result nobody has recorded."""

from __future__ import annotations

from typing import Any

import pytest

from services import cli
from shared.k8s import naming
from tests.integration.services.reconciler.conftest import Kit
from tests.support import builders

pytestmark = pytest.mark.timeout(60)


def finished(pod: dict[str, Any]) -> bool:
    return pod["status"].get("phase") in ("Succeeded", "Failed")


@pytest.fixture
def cli_env(
    kit: Kit, service_env: dict[str, str], database_url: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODRUNNER_DATABASE_URL", database_url.render_as_string(hide_password=False))


@pytest.fixture
def four_pods(kit: Kit, cli_env: None) -> dict[str, str]:
    """recorded: finished, row terminal; unrecorded: finished, row still live;
    kept: finished, finalizer released (kept by policy); running: not finished."""
    names: dict[str, str] = {}
    for task, notes in (
        ("recorded", {}),
        ("unrecorded", {}),
        ("kept", {}),
        ("running", {"kubesim.podrunner.io/run-seconds": "60"}),
    ):
        job = builders.job(task_id=task, namespace=kit.namespace, annotations=notes)
        kit.submit(job)
        names[task] = kit.create_pod(job)
    for task in ("recorded", "unrecorded", "kept"):
        kit.wait_for_pod(names[task], finished)
    kit.set_row(builders.job(task_id="recorded"), state="success")
    kit.set_row(builders.job(task_id="kept"), state="failed")
    kit.cluster.http.patch(
        f"/api/v1/namespaces/{kit.namespace}/pods/{names['kept']}",
        json={"metadata": {"finalizers": None, "labels": {naming.DONE_LABEL: "failed"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    return names


def test_only_pods_whose_results_are_safe_are_removed(
    kit: Kit, four_pods: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["cleanup-pods", "--min-age-minutes", "0"]) == 0
    kit.wait_gone(four_pods["recorded"])
    kit.wait_gone(four_pods["kept"])
    assert kit.pod(four_pods["unrecorded"]) is not None, "its result is not recorded yet"
    assert kit.pod(four_pods["running"]) is not None
    out = capsys.readouterr().out
    assert f"kept {four_pods['unrecorded']} (result not recorded yet" in out
    assert out.splitlines()[-1] == f"removed 2 of 3 finished pods in {kit.namespace}"


def test_a_dry_run_removes_nothing(
    kit: Kit, four_pods: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["cleanup-pods", "--min-age-minutes", "0", "--dry-run"]) == 0
    assert all(kit.pod(name) is not None for name in four_pods.values())
    assert "would remove 2 of 3 finished pods" in capsys.readouterr().out


@pytest.mark.usefixtures("four_pods")
def test_young_pods_are_left_until_they_are_old_enough(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["cleanup-pods", "--min-age-minutes", "30"]) == 0
    assert "removed 0 of 0 finished pods" in capsys.readouterr().out


def test_without_a_database_a_pod_holding_its_result_is_kept(
    kit: Kit,
    service_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PODRUNNER_DATABASE_URL", raising=False)
    name = kit.create_pod(builders.job(task_id="plain", namespace=kit.namespace))
    kit.wait_for_pod(name, finished)
    assert cli.main(["cleanup-pods", "--min-age-minutes", "0"]) == 0
    out = capsys.readouterr().out
    assert f"kept {name} (holds its result; PODRUNNER_DATABASE_URL is not set)" in out

"""Table cells for pods read as kubectl's server-side printer writes them."""

from __future__ import annotations

from typing import Any

import pytest

from services.kubesim import podrows

NOW = 1_700_000_000.0


def pod(status: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "creationTimestamp": "2023-11-14T22:12:20Z", **metadata},
        "spec": {"containers": [{"name": "base"}], "initContainers": [{"name": "init"}]},
        "status": status,
    }


def container(state: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": "base", "state": state, "restartCount": 0, "ready": False, **fields}


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        pytest.param({"phase": "Pending"}, "Pending", id="phase"),
        pytest.param({"phase": "Failed", "reason": "Evicted"}, "Evicted", id="status-reason"),
        pytest.param(
            {"phase": "Pending", "containerStatuses": [container({"waiting": {"reason": "X"}})]},
            "X",
            id="waiting-reason",
        ),
        pytest.param(
            {"phase": "Failed", "containerStatuses": [container({"terminated": {"exitCode": 3}})]},
            "ExitCode:3",
            id="exit-code",
        ),
        pytest.param(
            {"phase": "Failed", "containerStatuses": [container({"terminated": {"signal": 9}})]},
            "Signal:9",
            id="signal",
        ),
        pytest.param(
            {
                "phase": "Pending",
                "initContainerStatuses": [container({"waiting": {"reason": "PodInitializing"}})],
            },
            "Init:0/1",
            id="initialising",
        ),
        pytest.param(
            {
                "phase": "Pending",
                "initContainerStatuses": [container({"terminated": {"exitCode": 1}})],
            },
            "Init:ExitCode:1",
            id="init-failed",
        ),
    ],
)
def test_the_status_cell_follows_the_printers_precedence(
    status: dict[str, Any], reason: str
) -> None:
    assert podrows.pod_cells(pod(status), NOW)[2] == reason


def test_a_pod_being_deleted_reads_terminating() -> None:
    cells = podrows.pod_cells(pod({"phase": "Running"}, deletionTimestamp="x"), NOW)
    assert cells[2] == "Terminating"


def test_restarts_sum_containers_and_say_how_long_ago_the_last_ended() -> None:
    restarted = container(
        {"running": {}},
        ready=True,
        restartCount=2,
        lastState={"terminated": {"finishedAt": "2023-11-14T22:13:00Z"}},
    )
    cells = podrows.pod_cells(pod({"phase": "Running", "containerStatuses": [restarted]}), NOW)
    assert cells[1:5] == ["1/1", "Running", "2 (20s ago)", "60s"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-3, "<invalid>"),
        (-1, "0s"),
        (119, "119s"),
        (125, "2m5s"),
        (600, "10m"),
        (3 * 3600 + 60, "3h1m"),
        (8 * 3600, "8h"),
        (2 * 86400 + 3600, "2d1h"),
        (800 * 86400, "2y70d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_ages_are_the_servers_human_durations(seconds: int, text: str) -> None:
    assert podrows.human_duration(seconds) == text

"""The kubelet's restart rules as kubesim applies them: which exits restart, the back-off."""

from __future__ import annotations

import pytest

from services.kubesim import restarts


@pytest.mark.parametrize(
    ("policy", "code", "again"),
    [
        pytest.param("Never", 1, False, id="never-after-failure"),
        pytest.param("OnFailure", 1, True, id="on-failure-after-failure"),
        pytest.param("OnFailure", 0, False, id="on-failure-after-success"),
        pytest.param("Always", 0, True, id="always-after-success"),
    ],
)
def test_the_restart_policy_decides_which_exits_restart(
    policy: str, code: int, again: bool
) -> None:
    assert restarts.restarts({"spec": {"restartPolicy": policy}}, code) is again


def test_the_back_off_starts_at_ten_seconds_doubles_and_stops_at_five_minutes() -> None:
    backoff = restarts.Backoff()
    delays = [backoff.delay_s(count) for count in range(8)]
    assert delays == [0.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0]


def test_durations_are_printed_as_go_prints_them() -> None:
    assert [restarts.go_duration(s) for s in (10, 80, 300)] == ["10s", "1m20s", "5m0s"]


def test_container_ids_are_unique_64_hex_containerd_ids() -> None:
    ids = {restarts.new_container_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(i.startswith("containerd://") and len(i) == len("containerd://") + 64 for i in ids)

"""200 jobs with every kind of outcome: each row ends right, with its reason; nothing is left."""

from __future__ import annotations

import pytest
import sqlalchemy

from tests.e2e import tasks
from tests.e2e.conftest import Stack
from tests.support.kubesim import KubesimProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

#: kind → (how many, kubesim behaviour, final state, start of the failure reason)
KINDS: dict[str, tuple[int, dict[str, str], str, str | None]] = {
    "ok": (130, {}, "success", None),
    "exit3": (10, {"exit-code": "3"}, "failed", "Error (exit 3)"),
    "pull": (10, {"pull": "fail"}, "failed", "ErrImagePull: "),
    "oom": (10, {"oom": "true"}, "failed", "OOMKilled (exit 137)"),
    "evicted": (
        10,
        {"evict": "before-start"},
        "failed",
        "gave up after 1 relaunches: evicted before the task started",
    ),
    "unschedulable": (
        10,
        {"unschedulable": "true"},
        "failed",
        "pending timeout after 8s: Unschedulable: 0/1 nodes are available",
    ),
    "deleted": (20, {"run-seconds": "30"}, "failed", "pod deleted externally"),
}


def test_two_hundred_mixed_jobs_all_end_right_and_leave_nothing_behind(
    services: Stack, db: sqlalchemy.Engine, redis_url: str, kubesim: KubesimProcess
) -> None:
    services.env["PODRUNNER_DELETE_WORKER_PODS_ON_FAILURE"] = "true"
    # long enough that a loaded machine does not time out pods that are merely slow to start
    services.env["PODRUNNER_PENDING_TIMEOUT_S"] = "8"
    services("reconciler", "watcher", "launcher")
    jobs = [
        tasks.job(f"{kind}-{n}", behaviour)
        for kind, (count, behaviour, _, _) in KINDS.items()
        for n in range(count)
    ]
    assert len(jobs) == 200
    with tasks.Deleter(kubesim.url, "deleted-") as deleter:
        tasks.submit(db, redis_url, jobs)
        rows = tasks.wait_terminal(db, len(jobs), timeout_s=150)
    assert len(deleter.deleted) == KINDS["deleted"][0]
    for task_id, row in rows.items():
        _, _, state, reason = KINDS[task_id.rsplit("-", 1)[0]]
        assert row.state == state, (task_id, row.state, row.failure_reason)
        if reason is not None:
            assert row.failure_reason.startswith(reason), (task_id, row.failure_reason)
    assert tasks.leftovers(kubesim.url, timeout_s=30) == []

"""The kubelet's reasons a task can meet: a missing Secret or ConfigMap waits (the sweeps give it
a grace), an image reference that does not parse fails at once naming the image, and an active
deadline that runs out is a failure even before the task started."""

from __future__ import annotations

from datetime import timedelta

from services.reconciler import ledger
from services.reconciler.ledger import FollowUp
from shared.db.models import TaskState
from shared.messages import PodPhase
from tests.unit.services.reconciler.test_ledger import RULES, STARTED, T0, event, queued, run

BAD_IMAGE = (
    'Failed to apply default image tag "Worker:1": couldn\'t parse image reference "Worker:1": '
    "invalid reference format: repository name must be lowercase"
)
DEADLINE = "Pod was active on the node longer than the specified deadline"


def test_a_container_waiting_for_a_missing_secret_does_not_fail_the_task_yet() -> None:
    waiting = event(
        PodPhase.PENDING,
        1,
        waiting_reason="CreateContainerConfigError",
        waiting_message='secret "creds" not found',
    )
    assert run(queued(), waiting).row.state is TaskState.QUEUED


def test_an_invalid_image_name_fails_the_task_at_once_naming_the_image() -> None:
    waiting = event(
        PodPhase.PENDING, 1, waiting_reason="InvalidImageName", waiting_message=BAD_IMAGE
    )
    decision = run(queued(), waiting)
    assert decision.row.state is TaskState.FAILED
    assert decision.row.failure_reason == f"InvalidImageName: {BAD_IMAGE}"
    assert FollowUp.DELETE_POD in decision.follow_ups


def test_a_deadline_exceeded_while_running_fails_the_task_with_that_reason() -> None:
    running = event(PodPhase.RUNNING, 1, started_at=STARTED)
    killed = event(
        PodPhase.FAILED,
        2,
        started_at=STARTED,
        reason="DeadlineExceeded",
        message=DEADLINE,
        terminated_reason="Error",
        exit_code=143,
    )
    decision = run(queued(), running, killed)
    assert decision.row.state is TaskState.FAILED
    assert decision.row.failure_reason == f"DeadlineExceeded: {DEADLINE}"


def test_a_deadline_exceeded_before_the_task_started_is_a_failure_not_a_relaunch() -> None:
    killed = event(
        PodPhase.FAILED,
        1,
        reason="DeadlineExceeded",
        message=DEADLINE,
        terminated_reason="ContainerStatusUnknown",
        exit_code=137,
        finished_at=T0 + timedelta(seconds=3),
    )
    decision = ledger.apply_pod_event(queued(), killed, RULES)
    assert (decision.row.state, decision.row.relaunch_count) == (TaskState.FAILED, 0)
    assert decision.row.failure_reason == f"DeadlineExceeded: {DEADLINE}"

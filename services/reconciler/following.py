"""What is owed once a batch's decisions are committed: logs, finalizers, pods, slots, relaunches.

Each follow-up is idempotent, so replaying a batch after a crash repeats them harmlessly. Order
matters per task: the log tail is read while the pod still exists, then the result finalizer is
released (the result is safe in Postgres), then the pod is deleted or kept per policy. A pod kept
by policy is labelled `podrunner.io/done=<state>`; a pod that could never run (a bad image, a
pending timeout) is deleted whatever the policy. A relaunch publishes the task's job again for
the same try.

Before any pod is let go, the batch's ended tasks are recorded in Redis and their slots freed,
one call per namespace: from then on a job delivered again for one of them is settled without a
create. A pod a launcher was creating at that instant (its job delivered again a moment before)
keeps its finalizer and stays until no launcher is creating it (`deferring`): deleted now, the
launcher's create would run the task a second time.

Each Kubernetes call is retried a few times when the answer is transient (a 5xx, a 429 whose
Retry-After is honoured, a timeout), as the launcher's creates are; what still fails is left to
the sweeps, which also delete a pod released but never deleted.

A batch's tasks are followed up side by side (each task's steps still in order): they are a few
Kubernetes calls each, and one after another they made a batch of finished tasks wait on
hundreds of round trips in a row. Once every pod step is done, the slots of relaunched pods are
freed with one Redis call per namespace, then the relaunches are published. `run` returns when
all are done, so a reconciler never has more follow-ups in flight than its batch holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import structlog

from services.reconciler.applying import Outcome
from services.reconciler.deferring import DeferredReleases
from services.reconciler.ledger import FollowUp
from shared.db import batches
from shared.db.engines import Engine
from shared.db.models import TaskState
from shared.k8s import errors, naming
from shared.k8s.pods import PodApi
from shared.messaging.slots import SlotPool
from shared.retrying import Backoff, RetryPolicy

log = structlog.get_logger()

Relaunch = Callable[[Outcome], None]
#: Tasks followed up at once; each holds at most one Kubernetes request at a time.
CONCURRENCY = 16
#: A few quick attempts per call: a batch's follow-ups hold up the next batch while they last.
RETRIES = RetryPolicy(max_attempts=4, backoff=Backoff(base_s=0.2, max_s=2.0))
#: A Retry-After longer than this is not waited for here; the sweeps finish the work later.
MAX_RETRY_AFTER_S = 5.0
T = TypeVar("T")


@dataclass(frozen=True)
class PodPolicy:
    delete_on_success: bool = True
    delete_on_failure: bool = False
    log_lines: int = 100


class FollowUps:
    def __init__(
        self,
        *,
        engine: Engine,
        pods: PodApi,
        slots: SlotPool,
        relaunch: Relaunch,
        policy: PodPolicy,
        retries: RetryPolicy = RETRIES,
    ) -> None:
        self._engine = engine
        self._pods = pods
        self._retries = retries
        self._slots = slots
        self._relaunch = relaunch
        self._policy = policy
        self._workers = ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="follow-up")
        self._deferred = DeferredReleases(slots)

    def run(self, outcomes: Sequence[Outcome]) -> None:
        """Do what `outcomes` owe, and the pod releases put off before that may go now; a
        Kubernetes failure is logged and left to the sweeps, any other failure (Redis,
        Postgres) is raised once all are done. Called with no outcomes, it does the latter."""
        owing = [outcome for outcome in outcomes if outcome.decision.follow_ups]
        # ended pods are recorded (and their slots freed) before any is deleted, so a job
        # delivered again cannot bring one back; those a launcher is creating stay for now
        creating = self._finish(outcomes)
        owed = {(outcome.namespace, _pod_of(outcome)) for outcome in owing}
        ready = [o for o in self._deferred.ready() if (o.namespace, _pod_of(o)) not in owed]
        steps = [*owing, *ready]
        if len(steps) == 1:
            released = [self._guarded(steps[0], creating)]
        else:
            released = list(self._workers.map(lambda o: self._guarded(o, creating), steps))
        # a slot is freed even when its pod could not be let go (the sweeps will): a task that
        # is over must not hold one; a relaunch waits until the old pod is out of the way
        self._free_slots(owing)
        for outcome, ok in zip(owing, released[: len(owing)], strict=True):
            if ok and FollowUp.RELAUNCH in outcome.decision.follow_ups:
                self._relaunch(outcome)

    def close(self) -> None:
        self._workers.shutdown(wait=True)

    def _guarded(self, outcome: Outcome, creating: frozenset[tuple[str, str]]) -> bool:
        """The outcome's pod steps; False when Kubernetes failed them."""
        try:
            self._pod_steps(outcome, creating)
        except errors.KubeError as error:
            # the drift and finalizer sweeps finish what could not be done now
            log.warning("follow_up_failed", task=str(outcome.key), error=str(error))
            return False
        return True

    def _pod_steps(self, outcome: Outcome, creating: frozenset[tuple[str, str]]) -> None:
        row, owed = outcome.decision.row, outcome.decision.follow_ups
        pod = _pod_of(outcome)
        if FollowUp.CAPTURE_LOG in owed:
            lines = self._policy.log_lines
            tail = self._retried(lambda: self._pods.log_tail(outcome.namespace, pod, lines=lines))
            self._store_log(outcome, tail)
        if FollowUp.RELEASE_POD not in owed:
            return
        if (outcome.namespace, pod) in creating:
            # kept whole (finalizer too: someone may have asked to delete it already)
            log.info("pod_release_deferred", pod=pod, namespace=outcome.namespace)
            self._deferred.defer(outcome.namespace, pod, outcome)
            return
        self._release(outcome.namespace, pod, row.state, forced=FollowUp.DELETE_POD in owed)

    def _finish(self, outcomes: Sequence[Outcome]) -> frozenset[tuple[str, str]]:
        """Record the pods of tasks that ended (one Redis call per namespace); return the
        (namespace, pod) a live launcher is creating right now."""
        ended: dict[str, list[str]] = {}
        for outcome in outcomes:
            if outcome.decision.row.state.is_terminal:
                ended.setdefault(outcome.namespace, []).append(_pod_of(outcome))
        return frozenset(
            (namespace, pod)
            for namespace, pods in ended.items()
            for pod in self._slots.finish(namespace, *pods)
        )

    def _free_slots(self, outcomes: Sequence[Outcome]) -> None:
        """Free the slots of pods replaced by a relaunch (ended tasks' went with `_finish`)."""
        freed: dict[str, list[str]] = {}
        for outcome in outcomes:
            row = outcome.decision.row
            if FollowUp.FREE_SLOT in outcome.decision.follow_ups and not row.state.is_terminal:
                freed.setdefault(outcome.namespace, []).append(_pod_of(outcome))
        for namespace, pods in freed.items():
            self._slots.release(namespace, *pods)

    def delete(self, namespace: str, pod: str) -> None:
        """Delete the pod (retried while the answer is transient)."""
        self._retried(lambda: self._pods.delete(namespace, pod))

    def _release(self, namespace: str, pod: str, state: TaskState, *, forced: bool) -> None:
        """Let the pod go (its result is committed): deleted, or kept and labelled done."""
        finalizer = naming.RESULT_FINALIZER
        if forced or self.deletes(state):
            self._retried(lambda: self._pods.remove_finalizer(namespace, pod, finalizer))
            self.delete(namespace, pod)
            return
        done = {naming.DONE_LABEL: state.value}
        self._retried(lambda: self._pods.remove_finalizer(namespace, pod, finalizer, labels=done))

    def _retried(self, call: Callable[[], T]) -> T:
        """`call()`, attempted again after a backoff (or the server's Retry-After) while it fails
        transiently, up to the retry policy; the last failure is raised."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return call()
            except errors.Retryable as error:
                wait = self._retries.backoff.delay(attempt, retry_after=error.retry_after)
                if self._retries.gives_up_after(attempt) or wait > MAX_RETRY_AFTER_S:
                    raise
                time.sleep(wait)

    def deletes(self, state: TaskState) -> bool:
        """Whether policy deletes the pod of a task that ended in `state`."""
        if state is TaskState.SUCCESS:
            return self._policy.delete_on_success
        if state is TaskState.FAILED:
            return self._policy.delete_on_failure
        return True  # a pod lost before its task started is replaced: remove what is left

    def _store_log(self, outcome: Outcome, tail: str) -> None:
        with self._engine.begin() as connection:
            batches.store_log_tail(connection, outcome.task, tail)


def _pod_of(outcome: Outcome) -> str:
    row = outcome.decision.row
    return row.pod_name or naming.pod_name(outcome.key, row.try_number)

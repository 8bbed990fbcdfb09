"""Creating one pod: rate-limited, retried with backoff, every failure classified once.

The answer is one of four outcomes. `CREATED` and `EXISTS` mean the pod is there (an
AlreadyExists answer is checked: the pod must carry our instance label and this job's key, or the
job is rejected rather than adopting a stranger's pod). `REJECTED` carries the API server's own
reason. `RETRY_LATER` means transient failures outlasted the retry policy, or the launcher is
stopping: the job goes back on its queue, never dropped and never retried in a tight loop.
"""

from __future__ import annotations

import enum
import threading
import time
from dataclasses import dataclass

from services.launcher.metrics import LauncherMetrics
from services.launcher.preparing import Prepared
from services.launcher.throttling import TokenBucket
from shared.k8s import errors, naming
from shared.k8s.pods import Pods
from shared.retrying import RetryPolicy


class Outcome(enum.Enum):
    CREATED = "created"
    EXISTS = "exists"
    REJECTED = "rejected"
    RETRY_LATER = "requeued"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    reason: str = ""
    attempts: int = 1


class Creator:
    def __init__(
        self,
        pods: Pods,
        *,
        bucket: TokenBucket,
        policy: RetryPolicy,
        metrics: LauncherMetrics,
        instance: str,
        stop: threading.Event,
    ) -> None:
        self._pods = pods
        self._bucket = bucket
        self._policy = policy
        self._metrics = metrics
        self._instance = instance
        self._stop = stop

    def create(self, prepared: Prepared) -> Result:
        attempt = 0
        while True:
            attempt += 1
            if not self._bucket.acquire(self._stop):
                return Result(Outcome.RETRY_LATER, "launcher stopping", attempt)
            try:
                return self._attempt(prepared, attempt)
            except errors.Retryable as error:
                self._metrics.retries.labels(reason=error.reason or str(error.status)).inc()
                if isinstance(error, errors.Throttled) and error.retry_after:
                    self._bucket.pause_for(error.retry_after)
                if self._policy.gives_up_after(attempt):
                    return Result(Outcome.RETRY_LATER, str(error), attempt)
                delay = self._policy.backoff.delay(attempt, retry_after=error.retry_after)
                if self._stop.wait(delay):
                    return Result(Outcome.RETRY_LATER, "launcher stopping", attempt)

    def _attempt(self, prepared: Prepared, attempt: int) -> Result:
        started = time.perf_counter()
        try:
            self._pods.create(prepared.namespace, prepared.pod)
        except errors.AlreadyExists as error:
            return self._existing(prepared, error, attempt)
        except (errors.Rejected, errors.NotFound, errors.Gone) as error:
            return Result(Outcome.REJECTED, str(error), attempt)
        finally:
            self._metrics.create_latency.observe(time.perf_counter() - started)
        return Result(Outcome.CREATED, "", attempt)

    def _existing(self, prepared: Prepared, error: errors.AlreadyExists, attempt: int) -> Result:
        """A pod of this name exists: ours (launched before) or a stranger's (a rejection)."""
        if error.message.startswith("object is being deleted"):
            raise errors.Conflict(error.message, status=409, reason="PodTerminating")
        try:
            pod = self._pods.get(prepared.namespace, prepared.name)
        except errors.NotFound as gone:
            raise errors.Conflict("the pod vanished after AlreadyExists", status=409) from gone
        metadata = pod.get("metadata") or {}
        labels = metadata.get("labels") or {}
        ours = labels.get(naming.INSTANCE_LABEL) == self._instance
        same_task = _key_matches(metadata.get("annotations") or {}, prepared)
        if ours and same_task:
            return Result(Outcome.EXISTS, "", attempt)
        reason = f"pod {prepared.name} exists and is not this task's pod of this podrunner"
        return Result(Outcome.REJECTED, reason, attempt)


def _key_matches(annotations: dict[str, str], prepared: Prepared) -> bool:
    try:
        key, try_number = naming.key_from_annotations(annotations)
    except naming.AnnotationError:
        return False
    return key == prepared.job.key and try_number == prepared.job.try_number

"""The kubelet's rule table: which step comes next for a pod, and after how long.

Each `Rule` has a predicate on the pod and a delay; the kubelet schedules the first rule that
matches after every write (first match wins), plus every matching timer (the
`activeDeadlineSeconds` deadline runs beside whatever else the pod is doing). The steps follow a
real kubelet: only pods of the default scheduler are bound; a bound pod is accepted
(ContainerCreating), its image reference parsed (`InvalidImageName`), its volumes mounted (held
while a Secret or ConfigMap is missing), its image pulled, its environment built
(`CreateContainerConfigError`), then it runs; a container that exits is restarted under
`restartPolicy` OnFailure/Always with the CrashLoopBackOff back-off.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.kubesim import deleting, images, references, restarts
from services.kubesim.behaviour import Behaviour
from services.kubesim.configs import ConfigObjects
from services.kubesim.store import Stored

Pod = dict[str, Any]
#: The scheduler kubesim plays; a pod naming another one is never bound.
DEFAULT_SCHEDULER = "default-scheduler"
#: Waiting reasons of a container the kubelet is about to create.
_CREATING = ("ContainerCreating", "CreateContainerConfigError")


@dataclass(frozen=True)
class Rule:
    name: str
    applies: Callable[[Pod], bool]
    delay: Callable[[Pod], float]


def rules(
    step_s: float,
    started: dict[str, float],
    *,
    configs: ConfigObjects,
    backoff: restarts.Backoff,
    finish_by_time: bool = True,
) -> list[Rule]:
    """The rule table, first match wins; `started` holds each running container's start time.

    In process mode containers finish when their process exits, not on a timer.
    """

    def step(_pod: Pod) -> float:
        return step_s

    def remaining(pod: Pod) -> float:
        begun = started.get(pod["metadata"]["uid"])
        if begun is None:
            return Behaviour.of(pod).remaining_s(pod)
        return max(0.0, begun + Behaviour.of(pod).run_s - time.time())

    def sigterm_delay(pod: Pod) -> float:
        return Behaviour.of(pod).termination_delay(pod) if finish_by_time else step_s

    def pull_retry(pod: Pod) -> float:
        return step_s if waiting_reason(pod) == "ContainerCreating" else 1.0

    table = [
        Rule("collect_garbage", _gc_pending, step),
        Rule("remove", _terminated_and_deleting, step),
        Rule("terminate", _running_and_deleting, sigterm_delay),
        Rule("mark_unschedulable", _unschedulable, step),
        Rule("schedule", _schedulable, step),
        Rule("accept", _bound_but_not_started, step),
        Rule("reject_image", _image_invalid, step),
        Rule("hold_for_volume", functools.partial(_volume_missing, configs), lambda _p: 3600.0),
        Rule("fail_pull", _pull_to_fail, pull_retry),
        Rule("back_off_pull", _pull_failed, lambda _p: 1.0),
        Rule("evict_before_start", _to_evict_before_start, step),
        Rule("fail_config", functools.partial(_config_error, configs), step),
        Rule("start", functools.partial(_startable, configs), step),
        Rule("evict", _to_evict, lambda p: max(step_s, Behaviour.of(p).run_s / 2)),
        Rule("back_off_crash", restarts.exited_to_back_off, step),
        Rule("restart", restarts.due_to_restart, lambda p: backoff.remaining_s(p, step_s)),
    ]
    if finish_by_time:
        table.append(Rule("finish", _running, remaining))
    return table


def timers() -> list[Rule]:
    """Rules scheduled beside the first match: they fire whatever else the pod is doing."""
    return [Rule("exceed_deadline", _deadline_applies, restarts.deadline_remaining_s)]


def phase(pod: Pod) -> str:
    return str((pod.get("status") or {}).get("phase", ""))


def waiting_reason(pod: Pod) -> str:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        waiting = (status.get("state") or {}).get("waiting")
        if waiting:
            return str(waiting.get("reason", ""))
    return ""


def waiting_message(pod: Pod) -> str:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        waiting = (status.get("state") or {}).get("waiting")
        if waiting:
            return str(waiting.get("message", ""))
    return ""


def terminal(pod: Pod) -> bool:
    return phase(pod) in ("Succeeded", "Failed")


def uid_of(stored: Stored | None) -> str:
    return str(stored.obj()["metadata"].get("uid", "")) if stored is not None else ""


def creating(pod: Pod) -> bool:
    return _live(pod) and phase(pod) == "Pending" and waiting_reason(pod) in _CREATING


def _volume_missing(configs: ConfigObjects, pod: Pod) -> bool:
    return creating(pod) and references.missing_volume(pod, configs) is not None


def _config_error(configs: ConfigObjects, pod: Pod) -> bool:
    """A container's environment cannot be built (and the pod does not say so yet)."""
    message = references.env_error(pod, configs) if creating(pod) else None
    return message is not None and message != waiting_message(pod)


def _startable(configs: ConfigObjects, pod: Pod) -> bool:
    ready = creating(pod) and references.missing_volume(pod, configs) is None
    return ready and references.env_error(pod, configs) is None


def _has_statuses(pod: Pod) -> bool:
    return bool((pod.get("status") or {}).get("containerStatuses"))


def _live(pod: Pod) -> bool:
    return not pod["metadata"].get("deletionTimestamp")


def _bound(pod: Pod) -> bool:
    return bool(pod["spec"].get("nodeName"))


def _ours_to_schedule(pod: Pod) -> bool:
    return pod["spec"].get("schedulerName") in (None, "", DEFAULT_SCHEDULER)


def _terminated_and_deleting(pod: Pod) -> bool:
    grace = pod["metadata"].get("deletionGracePeriodSeconds")
    return not _live(pod) and terminal(pod) and bool(grace)


def _running_and_deleting(pod: Pod) -> bool:
    return not _live(pod) and not terminal(pod) and _bound(pod)


def _unschedulable(pod: Pod) -> bool:
    flagged = Behaviour.of(pod).unschedulable and not _unschedulable_marked(pod)
    return not _bound(pod) and _ours_to_schedule(pod) and flagged


def _schedulable(pod: Pod) -> bool:
    wanted = _live(pod) and not _bound(pod) and _ours_to_schedule(pod)
    return wanted and not Behaviour.of(pod).unschedulable


def _bound_but_not_started(pod: Pod) -> bool:
    return _live(pod) and _bound(pod) and phase(pod) == "Pending" and not _has_statuses(pod)


def _image_invalid(pod: Pod) -> bool:
    return creating(pod) and any(
        images.invalid_reason(str(c.get("image", ""))) for c in pod["spec"]["containers"]
    )


def _pull_to_fail(pod: Pod) -> bool:
    waiting = waiting_reason(pod) in ("ContainerCreating", "ImagePullBackOff")
    return _live(pod) and phase(pod) == "Pending" and Behaviour.of(pod).pull_fails and waiting


def _pull_failed(pod: Pod) -> bool:
    failed = waiting_reason(pod) == "ErrImagePull"
    return _live(pod) and phase(pod) == "Pending" and Behaviour.of(pod).pull_fails and failed


def _to_evict(pod: Pod) -> bool:
    return _live(pod) and phase(pod) == "Running" and Behaviour.of(pod).evict


def _to_evict_before_start(pod: Pod) -> bool:
    return creating(pod) and Behaviour.of(pod).evict_before_start


def _running(pod: Pod) -> bool:
    running = phase(pod) == "Running" and restarts.any_running(pod)
    return _live(pod) and running and Behaviour.of(pod).finishes_on_its_own


def _deadline_applies(pod: Pod) -> bool:
    """The pod has an active deadline running (the action checks that it has passed)."""
    return _live(pod) and not terminal(pod) and restarts.deadline_remaining_s(pod) < math.inf


def _gc_pending(pod: Pod) -> bool:
    return not _live(pod) and any(
        f in deleting.GC_FINALIZERS.values() for f in pod["metadata"].get("finalizers") or []
    )


def _unschedulable_marked(pod: Pod) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "PodScheduled" and c.get("status") == "False" for c in conditions)

"""Container restarts and the pod deadline, as the kubelet applies them. Pure: pod dicts in and out.

`restartPolicy` decides what happens when a container exits: Never leaves it terminated (the pod
ends), OnFailure restarts it unless it exited 0, Always restarts it whatever the code. A restarted
container keeps its previous run in `lastState.terminated` and counts `restartCount`. The first
restart is immediate; each later one waits in `CrashLoopBackOff` for the kubelet's back-off: 10 s,
doubling, capped at 5 min (`Backoff`; kubesim's settings may shorten it for tests). The pod stays
Running all the while. Every container start gets a new `containerd://` ID.

`activeDeadlineSeconds` counts from the pod's `status.startTime` (set when the kubelet accepts it):
past it the pod is Failed with reason `DeadlineExceeded`, whatever its containers were doing.
"""

from __future__ import annotations

import calendar
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Pod = dict[str, Any]
#: The kubelet's message on a pod killed for its `activeDeadlineSeconds`.
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"
DEADLINE_REASON = "DeadlineExceeded"
#: The kubelet's container restart back-off: first delay and cap, in seconds.
KUBELET_BACKOFF_S = 10.0
KUBELET_BACKOFF_MAX_S = 300.0


@dataclass(frozen=True)
class Backoff:
    """CrashLoopBackOff delays: `initial_s` after the second exit, doubling, up to `max_s`."""

    initial_s: float = KUBELET_BACKOFF_S
    max_s: float = KUBELET_BACKOFF_MAX_S

    def delay_s(self, restart_count: int) -> float:
        """The wait before restart number `restart_count + 1` (the first one is immediate)."""
        if restart_count < 1:
            return 0.0
        return float(min(self.initial_s * 2 ** (restart_count - 1), self.max_s))

    def remaining_s(self, pod: Pod, step_s: float) -> float:
        """Time left before the exited container of `pod` is started again."""
        for status in _statuses(pod):
            if "waiting" in (status.get("state") or {}):
                finished = _seconds((status.get("lastState") or {}).get("terminated", {}))
                delay = self.delay_s(int(status.get("restartCount") or 0))
                return max(step_s, (finished or time.time()) + delay - time.time())
        return step_s

    def message(self, pod: Pod, container: str, restart_count: int) -> str:
        meta = pod["metadata"]
        who = f"{meta['name']}_{meta.get('namespace', '')}({meta['uid']})"
        wait = go_duration(self.delay_s(restart_count))
        return f"back-off {wait} restarting failed container={container} pod={who}"


def restarts(pod: Pod, exit_code: int) -> bool:
    """Whether the kubelet starts a container again after it exits with `exit_code`."""
    policy = pod["spec"].get("restartPolicy", "Always")
    return policy == "Always" or (policy == "OnFailure" and exit_code != 0)


def new_container_id() -> str:
    return f"containerd://{secrets.token_hex(32)}"


def any_running(pod: Pod) -> bool:
    return any("running" in (s.get("state") or {}) for s in _statuses(pod))


def exited_to_back_off(pod: Pod) -> bool:
    """A restartable container exited after at least one restart: it waits in CrashLoopBackOff."""
    return _exited(pod, lambda count: count >= 1)


def due_to_restart(pod: Pod) -> bool:
    """A container to start again: its first exit (at once), or its back-off running out."""
    if not _restarting_pod(pod):
        return False
    backing_off = any(
        ((s.get("state") or {}).get("waiting") or {}).get("reason") == "CrashLoopBackOff"
        for s in _statuses(pod)
    )
    return backing_off or _exited(pod, lambda count: count == 0)


def deadline_remaining_s(pod: Pod) -> float:
    """Seconds until the pod's active deadline; infinite when it has none or has not started."""
    deadline = pod["spec"].get("activeDeadlineSeconds")
    started = _parse_time((pod.get("status") or {}).get("startTime"))
    if deadline is None or started is None:
        return math.inf
    return started + float(deadline) - time.time()


def go_duration(seconds: float) -> str:
    """A whole number of seconds as Go prints a Duration (`10s`, `1m20s`, `5m0s`)."""
    whole = int(seconds)
    minutes, rest = divmod(whole, 60)
    return f"{minutes}m{rest}s" if minutes else f"{rest}s"


def _exited(pod: Pod, count_ok: Callable[[int], bool]) -> bool:
    if not _restarting_pod(pod):
        return False
    for status in _statuses(pod):
        terminated = (status.get("state") or {}).get("terminated")
        again = terminated and restarts(pod, int(terminated.get("exitCode", 0)))
        if again and count_ok(int(status.get("restartCount") or 0)):
            return True
    return False


def _restarting_pod(pod: Pod) -> bool:
    running = (pod.get("status") or {}).get("phase") == "Running"
    return running and not pod["metadata"].get("deletionTimestamp")


def _statuses(pod: Pod) -> list[dict[str, Any]]:
    return list((pod.get("status") or {}).get("containerStatuses") or [])


def _seconds(terminated: dict[str, Any]) -> float | None:
    return _parse_time(terminated.get("finishedAt"))


def _parse_time(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    return float(calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ")))

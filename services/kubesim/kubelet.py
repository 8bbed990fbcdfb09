"""The simulated scheduler and kubelet: a rule table applied through the simulator's write path.

Like KWOK, the kubelet is data: each `Rule` has a selector (a predicate on the pod), a delay and an
action. After every write to a pod the kubelet finds the first rule that matches and schedules it;
when it is due, the pod is read again and the action runs only if the pod (same uid) still matches.
Actions write through the store, so revisions, watch events, no-op suppression and finalizer rules
are the real ones. The sequence follows kubernetes-pod-api.md §9.5 and §11: bind, kubelet accepts
(ContainerCreating), Running, then Succeeded or Failed; on deletion the pod first reaches a terminal
phase, then the kubelet's grace-0 delete removes it (unless finalizers hold it).

What a pod does is read from its annotations in `simulate` mode (`Behaviour`), or from a real
subprocess running its `base` container's command in `process` mode (`processes.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.kubesim import deleting, pods
from services.kubesim.behaviour import Behaviour
from services.kubesim.logs import LogStore
from services.kubesim.pods import Cluster
from services.kubesim.processes import ProcessRunner
from services.kubesim.statuses import ApiError
from services.kubesim.store import Event, Key, Stored

NODE = "kubesim-node-1"
HOST_IP = "10.0.0.5"
Pod = dict[str, Any]


@dataclass(frozen=True)
class Rule:
    name: str
    applies: Callable[[Pod], bool]
    delay: Callable[[Pod], float]


class Kubelet:
    """Schedules and runs rules for every pod; one asyncio task, driven by store events."""

    def __init__(
        self,
        cluster: Cluster,
        logs: LogStore,
        *,
        step_s: float = 0.01,
        paused: Callable[[], bool] = lambda: False,
        process_mode: bool = False,
    ) -> None:
        self._cluster = cluster
        self._logs = logs
        self._step_s = step_s
        self._paused = paused
        self._due: list[tuple[float, int, Key, str, str]] = []
        self._tiebreak = itertools.count()
        self._wakeup = asyncio.Event()
        self._started: dict[str, float] = {}
        self._keys: dict[str, Key] = {}
        self.runner = ProcessRunner(logs, self._exited) if process_mode else None
        self._actions = Actions(cluster, logs, self._started, self.runner)
        self._rules = rules(step_s, self._started, finish_by_time=not process_mode)
        cluster.store.subscribe(self)

    def offer(self, event: Event) -> None:
        """A pod was written: find what happens to it next."""
        if event.new is None:
            uid = _uid(event.old)
            self._logs.forget(uid)
            self._started.pop(uid, None)
            self._keys.pop(uid, None)
            return
        self.consider(event.new)

    def consider(self, stored: Stored) -> None:
        pod = stored.obj()
        self._keys[pod["metadata"]["uid"]] = stored.key
        for rule in self._rules:
            if rule.applies(pod):
                due = time.monotonic() + rule.delay(pod)
                entry = (due, next(self._tiebreak), stored.key, pod["metadata"]["uid"], rule.name)
                heapq.heappush(self._due, entry)
                self._wakeup.set()
                return

    def wake(self) -> None:
        self._wakeup.set()

    def _exited(self, uid: str, code: int, reason: str) -> None:
        """A container process ended (process mode): record its terminated state."""
        key = self._keys.get(uid)
        stored = self._cluster.store.get(key) if key else None
        if stored is None:
            return
        pod = stored.obj()
        if pod["metadata"]["uid"] == uid and not _terminal(pod):
            self._actions.complete(pod, code, reason)

    async def run(self) -> None:
        """Apply due rules forever (cancel to stop)."""
        while True:
            await self._next_due()
            if self._paused():
                continue
            now = time.monotonic()
            while self._due and self._due[0][0] <= now and not self._paused():
                _, _, key, uid, rule = heapq.heappop(self._due)
                self._apply(key, uid, rule)

    async def _next_due(self) -> None:
        self._wakeup.clear()
        wait = self._due[0][0] - time.monotonic() if self._due else 3600.0
        if self._paused():
            wait = 3600.0
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=wait)

    def _apply(self, key: Key, uid: str, name: str) -> None:
        stored = self._cluster.store.get(key)
        if stored is None:
            return
        pod = stored.obj()
        rule = next((r for r in self._rules if r.name == name), None)
        if pod["metadata"]["uid"] != uid or rule is None or not rule.applies(pod):
            return
        try:
            getattr(self._actions, name)(stored, pod)
        except ApiError:
            self.consider(stored)


def _uid(stored: Stored | None) -> str:
    return str(stored.obj()["metadata"].get("uid", "")) if stored is not None else ""


def _phase(pod: Pod) -> str:
    return str((pod.get("status") or {}).get("phase", ""))


def _waiting_reason(pod: Pod) -> str:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        waiting = (status.get("state") or {}).get("waiting")
        if waiting:
            return str(waiting.get("reason", ""))
    return ""


def _has_statuses(pod: Pod) -> bool:
    return bool((pod.get("status") or {}).get("containerStatuses"))


def _terminal(pod: Pod) -> bool:
    return _phase(pod) in ("Succeeded", "Failed")


def rules(step_s: float, started: dict[str, float], *, finish_by_time: bool = True) -> list[Rule]:
    """The rule table, first match wins; `started` holds each running pod's exact start time.

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
        return step_s if _waiting_reason(pod) == "ContainerCreating" else 1.0

    table = [
        Rule("collect_garbage", _gc_pending, step),
        Rule("remove", _terminated_and_deleting, step),
        Rule("terminate", _running_and_deleting, sigterm_delay),
        Rule("mark_unschedulable", _unschedulable, step),
        Rule("schedule", _schedulable, step),
        Rule("accept", _bound_but_not_started, step),
        Rule("fail_pull", _pull_to_fail, pull_retry),
        Rule("back_off_pull", _pull_failed, lambda _p: 1.0),
        Rule("evict_before_start", _to_evict_before_start, step),
        Rule("start", _creating, step),
        Rule("evict", _to_evict, lambda p: max(step_s, Behaviour.of(p).run_s / 2)),
    ]
    if finish_by_time:
        table.append(Rule("finish", _running, remaining))
    return table


def _live(pod: Pod) -> bool:
    return not pod["metadata"].get("deletionTimestamp")


def _bound(pod: Pod) -> bool:
    return bool(pod["spec"].get("nodeName"))


def _terminated_and_deleting(pod: Pod) -> bool:
    grace = pod["metadata"].get("deletionGracePeriodSeconds")
    return not _live(pod) and _terminal(pod) and bool(grace)


def _running_and_deleting(pod: Pod) -> bool:
    return not _live(pod) and not _terminal(pod) and _bound(pod)


def _unschedulable(pod: Pod) -> bool:
    return not _bound(pod) and Behaviour.of(pod).unschedulable and not _unschedulable_marked(pod)


def _schedulable(pod: Pod) -> bool:
    return _live(pod) and not _bound(pod) and not Behaviour.of(pod).unschedulable


def _bound_but_not_started(pod: Pod) -> bool:
    return _live(pod) and _bound(pod) and _phase(pod) == "Pending" and not _has_statuses(pod)


def _pull_to_fail(pod: Pod) -> bool:
    waiting = _waiting_reason(pod) in ("ContainerCreating", "ImagePullBackOff")
    return _live(pod) and _phase(pod) == "Pending" and Behaviour.of(pod).pull_fails and waiting


def _pull_failed(pod: Pod) -> bool:
    failed = _waiting_reason(pod) == "ErrImagePull"
    return _live(pod) and _phase(pod) == "Pending" and Behaviour.of(pod).pull_fails and failed


def _creating(pod: Pod) -> bool:
    return _live(pod) and _phase(pod) == "Pending" and _waiting_reason(pod) == "ContainerCreating"


def _to_evict(pod: Pod) -> bool:
    return _live(pod) and _phase(pod) == "Running" and Behaviour.of(pod).evict


def _to_evict_before_start(pod: Pod) -> bool:
    return _creating(pod) and Behaviour.of(pod).evict_before_start


def _running(pod: Pod) -> bool:
    return _live(pod) and _phase(pod) == "Running" and Behaviour.of(pod).finishes_on_its_own


def _gc_pending(pod: Pod) -> bool:
    return not _live(pod) and any(
        f in deleting.GC_FINALIZERS.values() for f in pod["metadata"].get("finalizers") or []
    )


def _unschedulable_marked(pod: Pod) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "PodScheduled" and c.get("status") == "False" for c in conditions)


class Actions:
    """What each rule does; every write goes through the cluster's store."""

    def __init__(
        self,
        cluster: Cluster,
        logs: LogStore,
        started: dict[str, float],
        runner: ProcessRunner | None,
    ) -> None:
        self._cluster = cluster
        self._logs = logs
        self._started = started
        self._runner = runner

    def collect_garbage(self, stored: Stored, _pod: Pod) -> None:
        deleting.collect_garbage(self._cluster, stored)

    def remove(self, stored: Stored, pod: Pod) -> None:
        uid = pod["metadata"]["uid"]
        options = deleting.DeleteOptions(grace_period_s=0, uid=uid)
        deleting.delete(self._cluster, stored.namespace, stored.name, options)

    def mark_unschedulable(self, _stored: Stored, pod: Pod) -> None:
        message = "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."
        pods.set_condition(
            pod["status"],
            "PodScheduled",
            "False",
            now=self._cluster.now(),
            reason="Unschedulable",
            message=message,
        )
        self._cluster.store.put(pod)

    def schedule(self, stored: Stored, _pod: Pod) -> None:
        pods.bind(self._cluster, stored.namespace, stored.name, NODE)

    def accept(self, _stored: Stored, pod: Pod) -> None:
        now = self._cluster.now()
        status = pod["status"]
        status.update(hostIP=HOST_IP, hostIPs=[{"ip": HOST_IP}], startTime=now)
        names = [c["name"] for c in pod["spec"]["containers"]]
        unready = f"containers with unready status: [{' '.join(names)}]"
        pods.set_condition(status, "PodReadyToStartContainers", "False", now=now)
        pods.set_condition(status, "Initialized", "True", now=now)
        pods.set_condition(
            status, "Ready", "False", now=now, reason="ContainersNotReady", message=unready
        )
        pods.set_condition(
            status,
            "ContainersReady",
            "False",
            now=now,
            reason="ContainersNotReady",
            message=unready,
        )
        pods.set_condition(status, "PodScheduled", "True", now=now)
        status["containerStatuses"] = [
            _container_status(c, {"waiting": {"reason": "ContainerCreating"}})
            for c in pod["spec"]["containers"]
        ]
        self._cluster.store.put(pod)

    def fail_pull(self, _stored: Stored, pod: Pod) -> None:
        image = pod["spec"]["containers"][0].get("image", "")
        message = (
            f'failed to pull and unpack image "{image}": '
            f'failed to resolve reference "{image}": not found'
        )
        self._set_waiting(pod, "ErrImagePull", message)

    def back_off_pull(self, _stored: Stored, pod: Pod) -> None:
        image = pod["spec"]["containers"][0].get("image", "")
        self._set_waiting(pod, "ImagePullBackOff", f'Back-off pulling image "{image}"')

    def start(self, stored: Stored, pod: Pod) -> None:
        now = self._cluster.now()
        status = pod["status"]
        status.update(phase="Running", podIP=_pod_ip(stored), podIPs=[{"ip": _pod_ip(stored)}])
        for kind in ("PodReadyToStartContainers", "Ready", "ContainersReady"):
            pods.set_condition(status, kind, "True", now=now)
        status["containerStatuses"] = [
            _container_status(c, {"running": {"startedAt": now}}, running=True)
            for c in pod["spec"]["containers"]
        ]
        self._started[pod["metadata"]["uid"]] = time.time()
        self._cluster.store.put(pod)
        if self._runner is not None:
            self._runner.start(pod)
        else:
            Behaviour.of(pod).emit_logs(self._logs, pod)

    def complete(self, pod: Pod, exit_code: int, reason: str) -> None:
        """Record a container's real exit (process mode)."""
        phase = "Succeeded" if exit_code == 0 else "Failed"
        self._terminate_all(pod, exit_code=exit_code, reason=reason, phase=phase)
        self._cluster.store.put(pod)

    def evict(self, _stored: Stored, pod: Pod) -> None:
        message = (
            "The node was low on resource: memory. Threshold quantity: 100Mi, available: 42Mi. "
        )
        self._terminate_all(pod, exit_code=137, reason="ContainerStatusUnknown", phase="Failed")
        pod["status"].update(reason="Evicted", message=message)
        pods.set_condition(
            pod["status"],
            "DisruptionTarget",
            "True",
            now=self._cluster.now(),
            reason="TerminationByKubelet",
            message=message,
        )
        self._cluster.store.put(pod)

    def evict_before_start(self, stored: Stored, pod: Pod) -> None:
        self.evict(stored, pod)

    def finish(self, _stored: Stored, pod: Pod) -> None:
        code, reason = Behaviour.of(pod).outcome()
        self._terminate_all(
            pod, exit_code=code, reason=reason, phase="Succeeded" if code == 0 else "Failed"
        )
        self._cluster.store.put(pod)

    def terminate(self, _stored: Stored, pod: Pod) -> None:
        """A deleted pod reaches a terminal phase before the kubelet removes it (§9.5)."""
        started = _phase(pod) == "Running"
        if started and self._runner is not None:
            grace = float(pod["metadata"].get("deletionGracePeriodSeconds") or 0)
            self._runner.stop(pod["metadata"]["uid"], grace)
            return
        if started:
            code = Behaviour.of(pod).sigterm_exit_code()
            reason = "Completed" if code == 0 else "Error"
        else:
            code, reason = 137, "ContainerStatusUnknown"
        self._terminate_all(
            pod, exit_code=code, reason=reason, phase="Succeeded" if code == 0 else "Failed"
        )
        self._cluster.store.put(pod)

    def _set_waiting(self, pod: Pod, reason: str, message: str) -> None:
        pod["status"]["containerStatuses"] = [
            _container_status(c, {"waiting": {"reason": reason, "message": message}})
            for c in pod["spec"]["containers"]
        ]
        self._cluster.store.put(pod)

    def _terminate_all(self, pod: Pod, *, exit_code: int, reason: str, phase: str) -> None:
        now = self._cluster.now()
        status = pod["status"]
        status["phase"] = phase
        completion = "PodCompleted" if phase == "Succeeded" else "PodFailed"
        for kind in ("Ready", "ContainersReady"):
            pods.set_condition(status, kind, "False", now=now, reason=completion)
        previous = {s["name"]: s for s in status.get("containerStatuses") or []}
        terminated_statuses = []
        for container in pod["spec"]["containers"]:
            before = previous.get(container["name"], {})
            started_at = ((before.get("state") or {}).get("running") or {}).get("startedAt")
            terminated = {
                "exitCode": exit_code,
                "reason": reason,
                "startedAt": started_at,
                "finishedAt": now,
                "containerID": _container_id(pod, container),
            }
            if started_at is None:  # a container that never ran has no end and no ID either
                terminated.update(finishedAt=None, containerID=None)
            if reason == "ContainerStatusUnknown":
                terminated["message"] = (
                    "The container could not be located when the pod was terminated"
                )
            state = {"terminated": {k: v for k, v in terminated.items() if v is not None}}
            terminated_statuses.append(_container_status(container, state))
        status["containerStatuses"] = terminated_statuses
        for container in pod["spec"]["containers"]:
            self._logs.finish(pod["metadata"]["uid"], container["name"])


def _container_status(
    container: dict[str, Any], state: dict[str, Any], *, running: bool = False
) -> dict[str, Any]:
    image = str(container.get("image", ""))
    return {
        "name": container["name"],
        "state": state,
        "lastState": {},
        "ready": running,
        "restartCount": 0,
        "image": image,
        "imageID": f"{image.split(':', maxsplit=1)[0]}@sha256:{'0' * 64}"
        if running or "terminated" in state
        else "",
        "containerID": f"containerd://{'a' * 64}" if running or "terminated" in state else "",
        "started": running,
    }


def _container_id(pod: Pod, container: dict[str, Any]) -> str:
    return f"containerd://{abs(hash((pod['metadata']['uid'], container['name']))):064d}"[:77]


def _pod_ip(stored: Stored) -> str:
    number = abs(hash(stored.key)) % 65000
    return f"10.244.{number // 250}.{number % 250 + 2}"

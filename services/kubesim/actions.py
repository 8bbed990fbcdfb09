"""What each kubelet rule does to a pod (see `rules.py` for when); every write goes through the
cluster's store, so revisions, watch events and no-op suppression are the real ones."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from services.kubesim import deleting, images, pods, references, restarts
from services.kubesim.behaviour import Behaviour
from services.kubesim.logs import LogStore
from services.kubesim.pods import Cluster
from services.kubesim.processes import ProcessRunner
from services.kubesim.store import Stored

NODE = "kubesim-node-1"
HOST_IP = "10.0.0.5"
Pod = dict[str, Any]
#: A deadline timer firing this close to the deadline counts as past it (timestamps are whole
#: seconds).
_DEADLINE_SLACK_S = 0.05


class Actions:
    """What each rule does; every write goes through the cluster's store."""

    def __init__(
        self,
        cluster: Cluster,
        logs: LogStore,
        started: dict[str, float],
        runner: ProcessRunner | None,
        backoff: restarts.Backoff,
        *,
        draw: Callable[[], float],
    ) -> None:
        self._cluster = cluster
        self._logs = logs
        self._started = started
        self._runner = runner
        self._backoff = backoff
        self._draw = draw

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
        for kind in ("Ready", "ContainersReady"):
            pods.set_condition(
                status, kind, "False", now=now, reason="ContainersNotReady", message=unready
            )
        pods.set_condition(status, "PodScheduled", "True", now=now)
        status["containerStatuses"] = [
            container_status(c, {"waiting": {"reason": "ContainerCreating"}})
            for c in pod["spec"]["containers"]
        ]
        self._cluster.store.put(pod)

    def reject_image(self, _stored: Stored, pod: Pod) -> None:
        """An image reference that does not parse: that container waits for good."""
        statuses = []
        for container in pod["spec"]["containers"]:
            problem = images.invalid_reason(str(container.get("image", "")))
            waiting = (
                {"reason": "InvalidImageName", "message": problem}
                if problem
                else {"reason": "ContainerCreating"}
            )
            statuses.append(container_status(container, {"waiting": waiting}))
        pod["status"]["containerStatuses"] = statuses
        self._cluster.store.put(pod)

    def hold_for_volume(self, _stored: Stored, _pod: Pod) -> None:
        """A volume's Secret or ConfigMap is missing: the pod stays ContainerCreating (a real
        kubelet only records a FailedMount event); it is reconsidered when configs change."""

    def fail_config(self, _stored: Stored, pod: Pod) -> None:
        message = references.env_error(pod, self._cluster.configs) or ""
        self._set_waiting(pod, "CreateContainerConfigError", message)

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
            _running_status(c, now=now) for c in pod["spec"]["containers"]
        ]
        self._run_containers(pod)

    def back_off_crash(self, _stored: Stored, pod: Pod) -> None:
        """A container that exited again waits in CrashLoopBackOff before its next start."""
        pod["status"]["containerStatuses"] = [
            self._backing_off(pod, status) for status in pod["status"]["containerStatuses"]
        ]
        self._cluster.store.put(pod)

    def restart(self, _stored: Stored, pod: Pod) -> None:
        """Start the exited containers again: a new ID, the old run in `lastState`."""
        now = self._cluster.now()
        by_name = {c["name"]: c for c in pod["spec"]["containers"]}
        pod["status"]["containerStatuses"] = [
            _restarted(by_name[status["name"]], status, now=now)
            for status in pod["status"]["containerStatuses"]
        ]
        for kind in ("Ready", "ContainersReady"):
            pods.set_condition(pod["status"], kind, "True", now=now)
        self._run_containers(pod)

    def _backing_off(self, pod: Pod, status: dict[str, Any]) -> dict[str, Any]:
        terminated = status["state"].get("terminated")
        if not terminated or not restarts.restarts(pod, int(terminated.get("exitCode", 0))):
            return status
        message = self._backoff.message(pod, status["name"], int(status.get("restartCount") or 0))
        return {
            **status,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": message}},
            "lastState": {"terminated": terminated},
        }

    def exceed_deadline(self, _stored: Stored, pod: Pod) -> None:
        if restarts.deadline_remaining_s(pod) > _DEADLINE_SLACK_S:
            return
        uid = pod["metadata"]["uid"]
        if self._runner is not None:
            self._runner.stop(uid, 0.0)
        code = Behaviour.of(pod).sigterm_exit_code()
        self._terminate_all(pod, exit_code=code, reason="Error", phase="Failed")
        message = restarts.DEADLINE_MESSAGE
        pod["status"].update(reason=restarts.DEADLINE_REASON, message=message)
        self._cluster.store.put(pod)

    def complete(self, pod: Pod, exit_code: int, reason: str) -> None:
        """Record a container's real exit (process mode)."""
        self._exit(pod, exit_code, reason)

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
        code, reason = Behaviour.of(pod).outcome(self._draw)
        self._exit(pod, code, reason)

    def terminate(self, _stored: Stored, pod: Pod) -> None:
        """A deleted pod reaches a terminal phase before the kubelet removes it."""
        started = restarts.any_running(pod)
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

    def _exit(self, pod: Pod, exit_code: int, reason: str) -> None:
        """The containers exited: restarted under the pod's policy, else the pod ends."""
        if restarts.restarts(pod, exit_code) and not pod["metadata"].get("deletionTimestamp"):
            self._terminate_all(pod, exit_code=exit_code, reason=reason, phase="Running")
        else:
            phase = "Succeeded" if exit_code == 0 else "Failed"
            self._terminate_all(pod, exit_code=exit_code, reason=reason, phase=phase)
        self._cluster.store.put(pod)

    def _run_containers(self, pod: Pod) -> None:
        self._started[pod["metadata"]["uid"]] = time.time()
        self._cluster.store.put(pod)
        if self._runner is not None:
            self._runner.start(pod)
        else:
            Behaviour.of(pod).emit_logs(self._logs, pod)

    def _set_waiting(self, pod: Pod, reason: str, message: str) -> None:
        pod["status"]["containerStatuses"] = [
            container_status(c, {"waiting": {"reason": reason, "message": message}})
            for c in pod["spec"]["containers"]
        ]
        self._cluster.store.put(pod)

    def _terminate_all(self, pod: Pod, *, exit_code: int, reason: str, phase: str) -> None:
        now = self._cluster.now()
        status = pod["status"]
        status["phase"] = phase
        completion = {"Succeeded": "PodCompleted", "Failed": "PodFailed"}.get(phase)
        names = " ".join(c["name"] for c in pod["spec"]["containers"])
        unready = "" if completion else f"containers with unready status: [{names}]"
        for kind in ("Ready", "ContainersReady"):
            pods.set_condition(
                status,
                kind,
                "False",
                now=now,
                reason=completion or "ContainersNotReady",
                message=unready,
            )
        previous = {s["name"]: s for s in status.get("containerStatuses") or []}
        status["containerStatuses"] = [
            _terminated_status(c, previous.get(c["name"], {}), exit_code, reason, now)
            for c in pod["spec"]["containers"]
        ]
        for container in pod["spec"]["containers"]:
            self._logs.finish(pod["metadata"]["uid"], container["name"])


def _terminated_status(
    container: dict[str, Any], before: dict[str, Any], exit_code: int, reason: str, now: str
) -> dict[str, Any]:
    """A container's status once it ended; one that never ran has no end and no ID."""
    running = (before.get("state") or {}).get("running") or {}
    started_at = running.get("startedAt")
    terminated: dict[str, Any] = {"exitCode": exit_code, "reason": reason}
    if started_at is not None:
        terminated.update(
            startedAt=started_at, finishedAt=now, containerID=before.get("containerID")
        )
    if reason == "ContainerStatusUnknown":
        terminated["message"] = "The container could not be located when the pod was terminated"
    status = container_status(container, {"terminated": terminated})
    status.update(
        lastState=before.get("lastState") or {},
        restartCount=int(before.get("restartCount") or 0),
        imageID=before.get("imageID", "") if started_at else "",
        containerID=before.get("containerID", "") if started_at else "",
    )
    if not status["containerID"]:
        status.pop("containerID")
    return status


def _running_status(container: dict[str, Any], *, now: str) -> dict[str, Any]:
    status = container_status(container, {"running": {"startedAt": now}}, running=True)
    status["containerID"] = restarts.new_container_id()
    return status


def _restarted(container: dict[str, Any], status: dict[str, Any], *, now: str) -> dict[str, Any]:
    """A container's status once started again (unchanged if it is running or never ran)."""
    state = status["state"]
    previous = state.get("terminated") or (status.get("lastState") or {}).get("terminated")
    if "running" in state or previous is None:
        return status
    again = _running_status(container, now=now)
    again.update(
        lastState={"terminated": previous}, restartCount=int(status.get("restartCount") or 0) + 1
    )
    return again


def container_status(
    container: dict[str, Any], state: dict[str, Any], *, running: bool = False
) -> dict[str, Any]:
    """A container's status in `state`; the caller adds the container ID of a started one."""
    image = str(container.get("image", ""))
    status: dict[str, Any] = {
        "name": container["name"],
        "state": state,
        "lastState": {},
        "ready": running,
        "restartCount": 0,
        "image": image,
        "imageID": f"{image.split(':', maxsplit=1)[0]}@sha256:{'0' * 64}" if running else "",
        "started": running,
    }
    return status


def _pod_ip(stored: Stored) -> str:
    number = abs(hash(stored.key)) % 65000
    return f"10.244.{number // 250}.{number % 250 + 2}"

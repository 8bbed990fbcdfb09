"""The cells of a Table row, computed as kubectl's server-side printers compute them.

A pod's Status is its phase, overridden by `status.reason`, then by an init container still
initialising (`Init:N/M`, `Init:<reason>`), then by the last container (in the printer's reverse
walk) that is waiting or terminated with a reason, `ExitCode:N` or `Signal:N`; a pod being deleted
and not finished shows `Terminating`. Restarts sum every container's `restartCount`, with how long
ago the last one ended. Ages are the server's human durations (`45s`, `3m20s`, `5h`, `3d4h`).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

Cells = Callable[[dict[str, Any], float], list[Any]]
NONE = "<none>"
_TERMINAL = ("Succeeded", "Failed")
_COMPLETED = {
    "Succeeded": "The pod has completed successfully.",
    "Failed": "The pod failed.",
}


def pod_cells(pod: dict[str, Any], now: float) -> list[Any]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    metadata = pod.get("metadata") or {}
    reason, ready, restarts, last_restart = _pod_state(pod)
    restarts_text = str(restarts)
    if last_restart is not None:
        restarts_text = f"{restarts} ({human_duration(now - last_restart)} ago)"
    gates = spec.get("readinessGates") or []
    return [
        metadata.get("name", ""),
        f"{ready}/{len(spec.get('containers') or [])}",
        reason,
        restarts_text,
        age(metadata, now),
        status.get("podIP") or NONE,
        spec.get("nodeName") or NONE,
        status.get("nominatedNodeName") or NONE,
        _gates(gates, status) if gates else NONE,
    ]


def namespace_cells(namespace: dict[str, Any], now: float) -> list[Any]:
    metadata = namespace.get("metadata") or {}
    phase = (namespace.get("status") or {}).get("phase", "")
    return [metadata.get("name", ""), phase, age(metadata, now)]


def default_cells(obj: dict[str, Any], _now: float) -> list[Any]:
    metadata = obj.get("metadata") or {}
    return [metadata.get("name", ""), metadata.get("creationTimestamp")]


def conditions(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    """A finished pod's row carries the `Completed` condition."""
    phase = (obj.get("status") or {}).get("phase")
    if kind != "Pod" or phase not in _COMPLETED:
        return {}
    condition = {"type": "Completed", "status": "True", "reason": phase}
    return {"conditions": [{**condition, "message": _COMPLETED[phase]}]}


def _pod_state(pod: dict[str, Any]) -> tuple[str, int, int, float | None]:
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or ""
    restarts, last = 0, None
    initializing, init_reason, init_restarts = _init_state(pod)
    restarts += init_restarts
    ready = 0
    if initializing:
        reason = init_reason
    else:
        has_running = False
        for container in reversed(status.get("containerStatuses") or []):
            restarts += int(container.get("restartCount") or 0)
            last = _latest(last, (container.get("lastState") or {}).get("terminated"))
            reason, running = _container_reason(container, reason)
            has_running = has_running or running
            ready += running
        if reason == "Completed" and has_running:
            reason = "Running" if _ready_condition(status) else "NotReady"
    deleting = (pod.get("metadata") or {}).get("deletionTimestamp")
    if deleting and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif deleting and status.get("phase") not in _TERMINAL:
        reason = "Terminating"
    return reason, ready, restarts, last


def _init_state(pod: dict[str, Any]) -> tuple[bool, str, int]:
    statuses = (pod.get("status") or {}).get("initContainerStatuses") or []
    total = len((pod.get("spec") or {}).get("initContainers") or [])
    restarts = 0
    for index, container in enumerate(statuses):
        restarts += int(container.get("restartCount") or 0)
        state = container.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated and terminated.get("exitCode") == 0:
            continue
        if terminated:
            return True, "Init:" + _terminated_reason(terminated), restarts
        if waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            return True, f"Init:{waiting['reason']}", restarts
        return True, f"Init:{index}/{total}", restarts
    return False, "", restarts


def _container_reason(container: dict[str, Any], reason: str) -> tuple[str, bool]:
    """The Status a container imposes, and whether it counts as ready and running."""
    state = container.get("state") or {}
    waiting, terminated = state.get("waiting"), state.get("terminated")
    if waiting and waiting.get("reason"):
        return waiting["reason"], False
    if terminated:
        return _terminated_reason(terminated), False
    return reason, bool(container.get("ready") and state.get("running") is not None)


def _terminated_reason(terminated: dict[str, Any]) -> str:
    if terminated.get("reason"):
        return str(terminated["reason"])
    if terminated.get("signal"):
        return f"Signal:{terminated['signal']}"
    return f"ExitCode:{terminated.get('exitCode', 0)}"


def _ready_condition(status: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


def _gates(gates: list[dict[str, Any]], status: dict[str, Any]) -> str:
    true = {c.get("type") for c in status.get("conditions") or [] if c.get("status") == "True"}
    met = sum(1 for gate in gates if gate.get("conditionType") in true)
    return f"{met}/{len(gates)}"


def _latest(current: float | None, terminated: dict[str, Any] | None) -> float | None:
    finished = _timestamp((terminated or {}).get("finishedAt"))
    if finished is None:
        return current
    return finished if current is None else max(current, finished)


def _timestamp(text: Any) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def age(metadata: dict[str, Any], now: float) -> str:
    created = _timestamp(metadata.get("creationTimestamp"))
    return "<unknown>" if created is None else human_duration(now - created)


def human_duration(seconds_float: float) -> str:
    """The server's short human duration: two units while they matter, then one."""
    seconds = int(seconds_float)
    if seconds < 0:
        return "<invalid>" if seconds < -1 else "0s"
    for limit, big, small in _DURATION_STEPS:
        if seconds < limit:
            return _units(seconds, big, small)
    return f"{seconds // _YEAR}y"


def _units(seconds: int, big: int, small: int | None) -> str:
    text = f"{seconds // big}{_UNIT_NAMES[big]}"
    if small is None or not (rest := seconds % big // small):
        return text
    return f"{text}{rest}{_UNIT_NAMES[small]}"


_MINUTE, _HOUR, _DAY, _YEAR = 60, 3600, 86400, 365 * 86400
_UNIT_NAMES = {1: "s", _MINUTE: "m", _HOUR: "h", _DAY: "d", _YEAR: "y"}
#: (below this many seconds, the big unit, the small unit shown when not zero)
_DURATION_STEPS: tuple[tuple[int, int, int | None], ...] = (
    (120, 1, None),
    (10 * _MINUTE, _MINUTE, 1),
    (180 * _MINUTE, _MINUTE, None),
    (8 * _HOUR, _HOUR, _MINUTE),
    (48 * _HOUR, _HOUR, None),
    (8 * _DAY, _DAY, _HOUR),
    (2 * _YEAR, _DAY, None),
    (8 * _YEAR, _YEAR, _DAY),
)

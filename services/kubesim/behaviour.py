"""What a pod does in `simulate` mode, read from its `kubesim.podrunner.io/*` annotations.

| annotation | effect |
| --- | --- |
| `run-seconds` | how long the containers run (default: a quick success) |
| `exit-code` | the exit code when they finish (default 0; 1 with `exit-rate`) |
| `exit-rate` | the fraction of pods exiting with `exit-code` (the others 0); drawn as they finish |
| `log` | lines the container prints, spread over its run time |
| `on-sigterm` | on a graceful delete: `exit0`, `143` (default) or `ignore` (137 after the grace) |
| `pull: fail` | ErrImagePull, then ImagePullBackOff, forever |
| `oom` | the container is OOMKilled (exit 137) |
| `evict` | `true`: evicted while running (Failed, reason Evicted); `before-start`: while created |
| `unschedulable` | the pod stays Pending with PodScheduled False/Unschedulable |

The `exit-rate` draws come from the kubelet's generator in the order pods finish, so `--seed` makes
them repeat. Tests set both a real command (for a real cluster) and these annotations (for the
simulator).
"""

from __future__ import annotations

import asyncio
import calendar
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.kubesim.logs import LogStore

PREFIX = "kubesim.podrunner.io/"
#: Run time of a pod that does not say (a quick success).
DEFAULT_RUN_S = 0.05


@dataclass(frozen=True)
class Behaviour:
    run_s: float = DEFAULT_RUN_S
    exit_code: int = 0
    #: The fraction of pods that exit with `exit_code` (the others exit 0); None: every pod.
    exit_rate: float | None = None
    log: str = ""
    on_sigterm: str = "143"
    pull_fails: bool = False
    oom: bool = False
    evict: bool = False
    evict_before_start: bool = False
    unschedulable: bool = False

    @classmethod
    def of(cls, pod: dict[str, Any]) -> Behaviour:
        annotations = pod["metadata"].get("annotations") or {}
        notes = tuple(
            sorted(
                (k.removeprefix(PREFIX), str(v))
                for k, v in annotations.items()
                if k.startswith(PREFIX)
            )
        )
        return _behaviour(notes)

    @classmethod
    def from_notes(cls, notes: dict[str, str]) -> Behaviour:
        return cls(
            run_s=_float(notes.get("run-seconds"), DEFAULT_RUN_S),
            exit_code=int(_float(notes.get("exit-code"), 1 if "exit-rate" in notes else 0)),
            exit_rate=_rate(notes.get("exit-rate")),
            log=notes.get("log", ""),
            on_sigterm=notes.get("on-sigterm", "143"),
            pull_fails=notes.get("pull") == "fail",
            oom=_true(notes.get("oom")),
            evict=_true(notes.get("evict")),
            evict_before_start=notes.get("evict") == "before-start",
            unschedulable=_true(notes.get("unschedulable")),
        )

    @property
    def finishes_on_its_own(self) -> bool:
        return not self.evict

    def outcome(self, draw: Callable[[], float]) -> tuple[int, str]:
        """Exit code and terminated reason when the containers finish; `draw` (a number in
        [0, 1)) is called once for a pod with an `exit-rate`, never for the others."""
        if self.oom:
            return 137, "OOMKilled"
        code = self.exit_code
        if self.exit_rate is not None and draw() >= self.exit_rate:
            code = 0
        return code, "Completed" if code == 0 else "Error"

    def sigterm_exit_code(self) -> int:
        return {"exit0": 0, "ignore": 137}.get(self.on_sigterm, 143)

    def termination_delay(self, pod: dict[str, Any]) -> float:
        """A container that ignores SIGTERM is killed when the grace period runs out."""
        if self.on_sigterm != "ignore":
            return 0.01
        return float(pod["metadata"].get("deletionGracePeriodSeconds") or 0)

    def remaining_s(self, pod: dict[str, Any]) -> float:
        """Time left until the running containers finish."""
        started = _started_at(pod)
        if started is None:
            return self.run_s
        return max(0.0, started + self.run_s - time.time())

    def emit_logs(self, logs: LogStore, pod: dict[str, Any]) -> None:
        """Start each container's log, and print the `log` lines spread over the run time."""
        uid = pod["metadata"]["uid"]
        names = [c["name"] for c in pod["spec"]["containers"]]
        for name in names:
            logs.start(uid, name)
        lines = [line for line in self.log.split("\n") if line]
        if not lines:
            return
        loop = asyncio.get_running_loop()
        step = self.run_s / len(lines)
        for n, line in enumerate(lines):
            loop.call_later(
                n * step, logs.append, uid, "base" if "base" in names else names[0], line.encode()
            )


@functools.lru_cache(maxsize=4096)
def _behaviour(notes: tuple[tuple[str, str], ...]) -> Behaviour:
    return Behaviour.from_notes(dict(notes))


def _started_at(pod: dict[str, Any]) -> float | None:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        running = (status.get("state") or {}).get("running")
        if running and running.get("startedAt"):
            return float(calendar.timegm(time.strptime(running["startedAt"], "%Y-%m-%dT%H:%M:%SZ")))
    return None


def _float(value: str | None, default: float) -> float:
    try:
        return float(value) if value is not None else default
    except ValueError:
        return default


def _rate(value: str | None) -> float | None:
    """A fraction in [0, 1] (clamped); None when absent or not a number."""
    if value is None:
        return None
    try:
        return min(1.0, max(0.0, float(value)))
    except ValueError:
        return None


def _true(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1", "yes")

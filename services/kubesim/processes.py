"""`process` mode: a pod's `base` container runs as a real local subprocess.

Its command and args are executed (no image is pulled: the machine's own programs run), its
combined stdout and stderr become the container log line by line, and its exit code becomes the
container's terminated state. A graceful delete sends SIGTERM; a process still alive when the grace
period ends gets SIGKILL (exit 137), as the kubelet would do. This is what the demo uses to run real
shell and Python tasks without a cluster.

Memory limits are not enforced here, so the `kubesim.podrunner.io/oom` annotation stands in for the
kernel's OOM killer: the process is killed with SIGKILL once it has run `run-seconds`, and the
container ends `OOMKilled` with exit 137, as it would on a node.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from services.kubesim.behaviour import Behaviour
from services.kubesim.logs import LogStore

log = structlog.get_logger()

#: Called when a container's process ends: (pod uid, exit code, terminated reason).
OnExit = Callable[[str, int, str], None]


@dataclass
class ProcessRunner:
    logs: LogStore
    on_exit: OnExit
    _running: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _oom_killed: set[str] = field(default_factory=set)

    def start(self, pod: dict[str, Any]) -> None:
        """Start the `base` container's command; its end is reported through `on_exit`."""
        uid = pod["metadata"]["uid"]
        container = _base(pod)
        self.logs.start(uid, container["name"])
        behaviour = Behaviour.of(pod)
        oom_after = behaviour.run_s if behaviour.oom else None
        task = asyncio.get_running_loop().create_task(self._run(uid, container, oom_after))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def stop(self, uid: str, grace_s: float) -> None:
        """SIGTERM now, SIGKILL after `grace_s` if the process is still running."""
        process = self._running.get(uid)
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        asyncio.get_running_loop().call_later(max(grace_s, 0.0), self._kill, uid)

    async def close(self) -> None:
        for uid in list(self._running):
            self._kill(uid)
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _kill(self, uid: str) -> None:
        process = self._running.get(uid)
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()

    def _kill_for_memory(self, uid: str) -> None:
        if uid in self._running:
            self._oom_killed.add(uid)
            self._kill(uid)

    async def _run(self, uid: str, container: dict[str, Any], oom_after: float | None) -> None:
        argv = [*(container.get("command") or []), *(container.get("args") or [])]
        if not argv:
            self.logs.append(uid, container["name"], b"kubesim: the container has no command")
            self.on_exit(uid, 128, "StartError")
            return
        with tempfile.TemporaryDirectory(prefix="kubesim-pod-") as workdir:
            code = await self._execute(uid, container, argv, workdir, oom_after)
        self.logs.finish(uid, container["name"])
        self._running.pop(uid, None)
        if uid in self._oom_killed:
            self._oom_killed.discard(uid)
            self.on_exit(uid, code, "OOMKilled")
            return
        self.on_exit(uid, code, "Completed" if code == 0 else "Error")

    async def _execute(
        self,
        uid: str,
        container: dict[str, Any],
        argv: list[str],
        workdir: str,
        oom_after: float | None,
    ) -> int:
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                cwd=container.get("workingDir") or workdir,
                env=_environment(container),
                start_new_session=True,
            )
        except OSError as error:
            self.logs.append(
                uid, container["name"], f"kubesim: cannot start {argv[0]}: {error}".encode()
            )
            return 128
        self._running[uid] = process
        if oom_after is not None:
            asyncio.get_running_loop().call_later(oom_after, self._kill_for_memory, uid)
        assert process.stdout is not None
        async for line in process.stdout:
            self.logs.append(uid, container["name"], line)
        code = await process.wait()
        return 128 - code if code < 0 else code


def _base(pod: dict[str, Any]) -> dict[str, Any]:
    containers = pod["spec"]["containers"]
    return next((c for c in containers if c.get("name") == "base"), containers[0])


def _environment(container: dict[str, Any]) -> dict[str, str]:
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tempfile.gettempdir()}
    for variable in container.get("env") or []:
        if isinstance(variable.get("value"), str):
            environment[variable["name"]] = variable["value"]
    return environment

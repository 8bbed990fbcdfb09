"""The processes of the Airflow end-to-end test, each logging to a file the test keeps.

Nine programs cooperate in that test (Airflow's scheduler, DAG processor and API server,
podrunner's three services, kubesim, and the tasks kubesim runs), so a failure is only readable
with their logs side by side: every process writes to its own file, and `explain` prints the last
lines of each, with its exit code when it has died. A process starts in a session of its own, so
stopping it also stops what it started (API server workers, DAG parsing children).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx

T = TypeVar("T")

#: Lines of each process's log printed when the test fails, and of each other log file.
TAIL_LINES = 40
FILE_TAIL_LINES = 15
#: Seconds a process gets after SIGTERM before its whole session is killed.
STOP_GRACE_S = 15.0


class ProcessDied(AssertionError):
    """A process of the test exited while the test still needed it."""


@dataclass
class LoggedProcess:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    #: True for a server the test needs until its end, False for a command run to completion.
    lasting: bool = True

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = TAIL_LINES) -> str:
        return _tail(self.log, lines)

    def status(self) -> str:
        code = self.process.poll()
        return "running" if code is None else f"exited with {code}"

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        if self.alive():
            _signal_session(self.process, signal.SIGTERM)
        self.kill_after(time.monotonic() + grace_s)

    def kill_after(self, deadline: float) -> None:
        """Wait for the end until `deadline`, then kill what is left of the session."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(max(0.0, deadline - time.monotonic()))
        _signal_session(self.process, signal.SIGKILL)  # leftovers of the session, if any
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)


@dataclass
class Processes:
    """Every process the test started, in order."""

    directory: Path
    started: list[LoggedProcess] = field(default_factory=list)
    #: Directories of other logs (the tasks'), whose files `explain` shows too.
    log_directories: list[Path] = field(default_factory=list)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        lasting: bool = True,
    ) -> LoggedProcess:
        log = self.directory / f"{name}.log"
        with log.open("ab") as output:
            process = subprocess.Popen(
                list(argv),
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started = LoggedProcess(name, process, log, lasting)
        self.started.append(started)
        return started

    def run(
        self, name: str, argv: Sequence[str], *, env: Mapping[str, str], timeout_s: float
    ) -> None:
        """Run a command to its end, logged like the others; fail when it fails."""
        self.finish(self.start(name, argv, env=env, lasting=False), timeout_s=timeout_s)

    def finish(self, started: LoggedProcess, *, timeout_s: float) -> None:
        """Wait for a command started with `lasting=False`; fail when it fails."""
        try:
            code = started.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            started.stop()
            raise ProcessDied(f"{started.name} did not finish within {timeout_s}s") from None
        if code != 0:
            raise ProcessDied(f"{started.name} exited with {code}")

    def check_alive(self) -> None:
        """Fail at once, naming it, when a long-running process has died."""
        for each in self.started:
            if each.lasting and not each.alive():
                raise ProcessDied(f"{each.name} {each.status()}")

    def wait_until(
        self, predicate: Callable[[], T], *, timeout_s: float, what: str | Callable[[], str]
    ) -> T:
        """Poll `predicate` until it is truthy; fail early if a process dies meanwhile.

        `what` names the awaited event in the failure; a callable is asked at that moment, so
        the message can show how far things got."""
        deadline = time.monotonic() + timeout_s
        while True:
            self.check_alive()
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                named = what if isinstance(what, str) else what()
                raise AssertionError(f"{named} did not happen within {timeout_s}s")
            time.sleep(0.2)

    def wait_http(self, url: str, *, timeout_s: float, what: str) -> None:
        """Wait until `url` answers 200."""

        def answers() -> bool:
            with contextlib.suppress(httpx.TransportError):
                return httpx.get(url, timeout=2).status_code == 200
            return False

        self.wait_until(answers, timeout_s=timeout_s, what=what)

    def explain(self) -> str:
        """The last lines of every log, each headed by its process's state and file."""
        parts = [f"Logs are kept in {self.directory}; the last {TAIL_LINES} lines of each:"]
        for each in self.started:
            parts.append(f"===== {each.name} ({each.status()}): {each.log}")
            parts.append(each.tail())
        for path in sorted(p for d in self.log_directories for p in d.rglob("*.log")):
            parts.append(f"===== the last {FILE_TAIL_LINES} lines of {path}")
            parts.append(_tail(path, FILE_TAIL_LINES))
        return "\n".join(parts)

    def stop_all(self, grace_s: float = STOP_GRACE_S) -> None:
        """SIGTERM to every process at once (they stop in parallel), SIGKILL after `grace_s`."""
        for each in self.started:
            if each.alive():
                _signal_session(each.process, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for each in self.started:
            each.kill_after(deadline)

    @contextlib.contextmanager
    def explained(self) -> Iterator[None]:
        """Print `explain()` when the block fails, timeouts included, then let the failure go on."""
        try:
            yield
        except BaseException:
            print(self.explain())
            raise


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError as error:
        return f"(unreadable: {error})"
    return "\n".join(text[-lines:]) if text else "(empty)"


def _signal_session(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)

"""The simulated scheduler and kubelet: a rule table applied through the simulator's write path.

Like KWOK, the kubelet is data: each `Rule` (`rules.py`) has a selector (a predicate on the pod), a
delay and an action (`actions.py`). After every write to a pod the kubelet finds the first rule
that matches and schedules it, together with any timer that applies (the active deadline); when
it is due, the pod is read again and the action runs only if the pod (same uid) still matches.
Actions write through the store, so revisions, watch events, no-op suppression and finalizer rules
are the real ones. The sequence is a real kubelet's: bind, kubelet accepts
(ContainerCreating), Running, then Succeeded or Failed (or restarts, under `restartPolicy`); on
deletion the pod first reaches a terminal phase, then the kubelet's grace-0 delete removes it
(unless finalizers hold it). A pod waiting for a Secret or ConfigMap is looked at again whenever
one is created or deleted.

What a pod does is read from its annotations in `simulate` mode (`Behaviour`), or from a real
subprocess running its `base` container's command in `process` mode (`processes.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import random
import time
from collections.abc import Callable

from services.kubesim import restarts, rules
from services.kubesim.actions import Actions
from services.kubesim.logs import LogStore
from services.kubesim.pods import Cluster
from services.kubesim.processes import ProcessRunner
from services.kubesim.rules import Pod
from services.kubesim.statuses import ApiError
from services.kubesim.store import Event, Key, Stored


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
        backoff: restarts.Backoff | None = None,
        seed: int | None = None,
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
        backoff = backoff or restarts.Backoff()
        self.runner = ProcessRunner(logs, self._exited) if process_mode else None
        #: Outcomes drawn for pods with an `exit-rate`: the same sequence for the same seed.
        draw = random.Random(seed).random
        self._actions = Actions(cluster, logs, self._started, self.runner, backoff, draw=draw)
        self._rules = rules.rules(
            step_s,
            self._started,
            configs=cluster.configs,
            backoff=backoff,
            finish_by_time=not process_mode,
        )
        self._timers = rules.timers()
        self._by_name = {rule.name: rule for rule in [*self._rules, *self._timers]}
        cluster.store.subscribe(self)
        cluster.configs.listeners.append(self.recheck_waiting)

    def offer(self, event: Event) -> None:
        """A pod was written: find what happens to it next."""
        if event.new is None:
            uid = rules.uid_of(event.old)
            self._logs.forget(uid)
            self._started.pop(uid, None)
            self._keys.pop(uid, None)
            return
        self.consider(event.new)

    def consider(self, stored: Stored) -> None:
        pod = stored.obj()
        self._keys[pod["metadata"]["uid"]] = stored.key
        first = next((rule for rule in self._rules if rule.applies(pod)), None)
        due = [rule for rule in self._timers if rule.applies(pod)]
        for rule in [first, *due] if first else due:
            at = time.monotonic() + rule.delay(pod)
            entry = (at, next(self._tiebreak), stored.key, pod["metadata"]["uid"], rule.name)
            heapq.heappush(self._due, entry)
            self._wakeup.set()

    def recheck_waiting(self) -> None:
        """A Secret or ConfigMap changed: every pod still being created is looked at again."""
        for stored in self._cluster.store.keys_from(None):
            if rules.creating(stored.obj()):
                self.consider(stored)

    def wake(self) -> None:
        self._wakeup.set()

    def _exited(self, uid: str, code: int, reason: str) -> None:
        """A container process ended (process mode): record its terminated state."""
        key = self._keys.get(uid)
        stored = self._cluster.store.get(key) if key else None
        if stored is None:
            return
        pod = stored.obj()
        if pod["metadata"]["uid"] == uid and not rules.terminal(pod):
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
        pod: Pod = stored.obj()
        rule = self._by_name.get(name)
        if pod["metadata"]["uid"] != uid or rule is None or not rule.applies(pod):
            return
        try:
            getattr(self._actions, name)(stored, pod)
        except ApiError:
            self.consider(stored)

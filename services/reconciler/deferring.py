"""Pods whose release waits for a launcher: let go as soon as no launcher is creating them.

When a task's end is recorded while a live launcher holds its pod's slot as being created, the
pod is kept whole, since that launcher's create may still be sent. Most often it was sent long
ago (the pod ran and ended before the launcher settled its round, a fraction of a second), so
the follow-ups ask again with every batch, and while idle, instead of leaving the pod to the
finalizer sweep's next round. Kept in memory only: after a restart the pod still holds its
finalizer, and the finalizer sweep lets it go.
"""

from __future__ import annotations

import threading

from services.reconciler.applying import Outcome
from services.reconciler.ledger import Decision, FollowUp
from shared.messaging.slots import SlotPool

_RELEASE_STEPS = frozenset({FollowUp.RELEASE_POD, FollowUp.DELETE_POD})


class DeferredReleases:
    """The pod releases put off, by (namespace, pod); safe to share between threads."""

    def __init__(self, slots: SlotPool) -> None:
        self._slots = slots
        self._waiting: dict[tuple[str, str], Outcome] = {}
        self._lock = threading.Lock()

    def defer(self, namespace: str, pod: str, outcome: Outcome) -> None:
        """Put off `outcome`'s release of `pod` (its other steps are done)."""
        steps = outcome.decision.follow_ups & _RELEASE_STEPS
        release = Outcome(outcome.task, namespace, Decision(outcome.decision.row, steps))
        with self._lock:
            self._waiting[(namespace, pod)] = release

    def ready(self) -> list[Outcome]:
        """The releases no launcher holds up any more, their slots freed (one Redis call per
        namespace); the others stay put off."""
        with self._lock:
            waiting, self._waiting = self._waiting, {}
        if not waiting:
            return []
        pods: dict[str, list[str]] = {}
        for namespace, pod in waiting:
            pods.setdefault(namespace, []).append(pod)
        # recording the end again frees the slot once no live launcher holds it (also when
        # the launcher died instead of settling)
        held = {(ns, pod) for ns, names in pods.items() for pod in self._slots.finish(ns, *names)}
        with self._lock:
            self._waiting.update((key, waiting[key]) for key in held)
        return [outcome for key, outcome in waiting.items() if key not in held]

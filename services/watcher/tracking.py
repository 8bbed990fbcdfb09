"""Which observed states are transitions worth publishing.

A running pod's status is rewritten for many reasons (conditions, probes, IPs) that change nothing
a task's ledger cares about. An event is published when the pod's phase, pod-level reason, the
`base` container's waiting or terminated reason, its exit code, or its deletion changes. The last
published event of each pod is kept, so a re-list can also report pods that vanished meanwhile.
"""

from __future__ import annotations

from shared.messages import PodEvent

Signature = tuple[object, ...]


def signature(event: PodEvent) -> Signature:
    return (
        event.phase,
        event.reason,
        event.waiting_reason,
        event.terminated_reason,
        event.exit_code,
        event.deletion_requested,
        event.deleted,
    )


class Tracker:
    def __init__(self) -> None:
        self._last: dict[tuple[str, str], PodEvent] = {}

    def __len__(self) -> int:
        return len(self._last)

    def is_transition(self, event: PodEvent) -> bool:
        """Remember `event`; True when it differs from the pod's last published state."""
        key = (event.namespace, event.pod)
        previous = self._last.get(key)
        if event.deleted:
            self._last.pop(key, None)
        else:
            self._last[key] = event
        return previous is None or signature(previous) != signature(event)

    def missing_from(self, seen: set[tuple[str, str]]) -> list[PodEvent]:
        """Pods tracked but not `seen` in a re-list: they were deleted while unwatched."""
        gone = [event for key, event in self._last.items() if key not in seen]
        for event in gone:
            self._last.pop((event.namespace, event.pod), None)
        return gone

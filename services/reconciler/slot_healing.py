"""Active-pod slots healed from the pods that exist, each sweep round.

Slots are taken by launchers and freed by the follow-ups, but some ends never reach the
follow-ups: a reconciler killed between its commit and its follow-ups, an orphan pod the sweep
deletes, a job delivered again after its task ended, a Redis that forgot the hash. Left alone,
each leaked slot lowers the namespace's cap for good. So each round reads the slots before it
lists the pods (a slot marked created then names a pod the listing must show) and, page by page:

* a slot whose pod's row has ended (or moved to a newer try) is freed at once, the end recorded
  as the follow-ups record it;
* a slot marked created whose pod is not listed unfinished in two rounds running is freed, if it
  is still marked created then (a launcher creating the pod now is never disturbed);
* an unfinished pod of a live row that has no slot gets one, so the cap holds again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import structlog

from services.reconciler.drift import KeyTuple, Known, Observed
from shared.messages import PodPhase
from shared.messaging.slots import CREATED, SlotPool

log = structlog.get_logger()

_FINISHED = (PodPhase.SUCCEEDED, PodPhase.FAILED)


@dataclass
class HealingRound:
    """One namespace's round: the slots read before the listing, and what the pages showed."""

    namespace: str
    held: Mapping[str, str]
    slots: SlotPool
    confirmed: set[str] = field(default_factory=set)
    """Slots whose pod is listed unfinished, for a row still live."""
    ended: set[str] = field(default_factory=set)
    """Slots whose pod's row has ended."""
    adopted: int = 0

    def observe(self, page: Sequence[Observed], rows: Mapping[KeyTuple, Known]) -> None:
        """Judge one page of listed pods against their rows; give slotless live pods a slot
        (one Redis call for the page)."""
        orphans: list[str] = []
        for pod in page:
            event, name = pod.event, pod.event.pod
            row = rows.get(
                (event.key.dag_id, event.key.task_id, event.key.run_id, event.key.map_index)
            )
            unfinished = event.phase not in _FINISHED
            if row is not None and _ended(event.try_number, row):
                if name in self.held:
                    self.ended.add(name)
            elif name in self.held:
                if unfinished:
                    self.confirmed.add(name)
            elif unfinished and row is not None and event.try_number == row.try_number:
                orphans.append(name)
        self.adopted += self.slots.adopt(self.namespace, *orphans)


class SlotHealer:
    """Heals one instance's slots; remembers, per namespace, the slots missed last round."""

    def __init__(self, slots: SlotPool) -> None:
        self._slots = slots
        self._missed: dict[str, frozenset[str]] = {}

    def begin(self, namespace: str) -> HealingRound:
        """Start a round: read the slots (before the pods are listed)."""
        return HealingRound(namespace, self._slots.held(namespace), self._slots)

    def finish(self, healing: HealingRound) -> None:
        """Free what the round found leaked (one Redis call for each kind)."""
        namespace = healing.namespace
        creating = self._slots.finish(namespace, *sorted(healing.ended))
        ended = len(healing.ended) - len(creating)
        missed = frozenset(
            pod
            for pod, holder in healing.held.items()
            if holder == CREATED and pod not in healing.confirmed and pod not in healing.ended
        )
        twice = missed & self._missed.get(namespace, frozenset())
        freed = self._slots.free_created(namespace, *sorted(twice))
        self._missed[namespace] = missed - twice
        if ended or freed or healing.adopted:
            log.info(
                "slots_healed",
                namespace=namespace,
                ended=ended,
                missing=freed,
                adopted=healing.adopted,
            )


def _ended(try_number: int, row: Known) -> bool:
    """The pod's try is over: its row has ended, or moved on to a newer try."""
    return try_number < row.try_number or (try_number == row.try_number and row.state.is_terminal)

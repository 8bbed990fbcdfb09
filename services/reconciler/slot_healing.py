"""Active-pod slots healed from the pods that exist, each sweep round.

Slots are taken by launchers and freed by the follow-ups, but some ends never reach the
follow-ups: a reconciler killed between its commit and its follow-ups, a pod the sweep deleted
or adopted, a job delivered again after its task ended, a Redis that forgot the hash. Left alone,
each leaked slot lowers the namespace's cap for good. So each round takes a census, page by page
as the pods are listed, one Redis call a page:

* a slot whose pod's row has ended (or moved on to a newer try) is freed at once, the end
  recorded as the follow-ups record it (unless a launcher is creating the pod right now);
* an unfinished pod of a live row that has no slot gets one, so the cap holds again;
* at the end of the round, a slot marked created whose pod was not listed unfinished in this
  round nor the one before is freed, if it is still marked created then: two rounds, so that a
  pod created while a round lists is never taken for a missing one, and a slot being created
  is never touched.

The census is kept in Redis (`slot-census`, `slots-missed`), not here: a round's memory stays a
page, however many pods and slots there are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog

from services.reconciler.drift import Known, Observed
from shared.messages import PodPhase, TaskKey
from shared.messaging.slots import SlotPool

log = structlog.get_logger()

_FINISHED = (PodPhase.SUCCEEDED, PodPhase.FAILED)


@dataclass
class HealingRound:
    """One namespace's census round, and what it changed so far."""

    namespace: str
    slots: SlotPool
    adopted: int = 0
    freed: int = 0

    def observe(self, page: Sequence[Observed], rows: Mapping[TaskKey, Known]) -> None:
        """Count one page of listed pods against their rows (one Redis call)."""
        live: list[str] = []
        other: list[str] = []
        ended: list[str] = []
        for pod in page:
            event = pod.event
            row = rows.get(event.key)
            if row is not None and _ended(event.try_number, row):
                ended.append(event.pod)
            elif event.phase in _FINISHED:
                continue
            elif row is not None and event.try_number == row.try_number:
                live.append(event.pod)
            else:
                other.append(event.pod)
        adopted, freed = self.slots.census_page(self.namespace, live=live, other=other, ended=ended)
        self.adopted += adopted
        self.freed += freed


class SlotHealer:
    """Takes the census of one instance's slots, a namespace at a time."""

    def __init__(self, slots: SlotPool) -> None:
        self._slots = slots

    def begin(self, namespace: str) -> HealingRound:
        self._slots.census_begin(namespace)
        return HealingRound(namespace, self._slots)

    def finish(self, healing: HealingRound) -> None:
        """End the round: free the slots missed twice (one Redis call)."""
        missing = self._slots.census_end(healing.namespace)
        if healing.freed or missing or healing.adopted:
            log.info(
                "slots_healed",
                namespace=healing.namespace,
                ended=healing.freed,
                missing=missing,
                adopted=healing.adopted,
            )


def _ended(try_number: int, row: Known) -> bool:
    """The pod's try is over: its row has ended, or moved on to a newer try."""
    return try_number < row.try_number or (try_number == row.try_number and row.state.is_terminal)

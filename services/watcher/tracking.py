"""Which observed states are transitions worth publishing.

A running pod's status is rewritten for many reasons (conditions, probes, IPs) that change nothing
a task's ledger cares about. An event is published when the pod's phase, pod-level reason, the
`base` container's waiting or terminated reason, its exit code, or its deletion changes.

The last published state of each pod is kept, so a re-list can also report pods that vanished
meanwhile, and it is kept small (a watcher tracks every live pod of its namespaces): a `_Last`
holds what the ledger judges a vanished pod by, the strings many pods share (namespace, DAG and
run ids) are interned, pods are filed per namespace, and what is redone for the vanished event
(resourceVersion, time of observation) or only worded (messages) is left out. Kept whole in a
dict by (namespace, pod), a pod's `PodEvent` took about 940 bytes; this takes about 400.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import cast

import msgspec

from shared.messages import SCHEMA_VERSION, PodEvent, PodPhase, TaskKey

Signature = tuple[object, ...]

#: Stands in for the observation time of a rebuilt event: the re-list stamps its own.
_UNOBSERVED = datetime(1970, 1, 1, tzinfo=UTC)


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


class _Last(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """A pod's last published state, as far as a vanished-pod event needs it.

    The signature is a tuple shared by every pod in the same state."""

    signature: Signature
    dag_id: str
    task_id: str
    run_id: str
    map_index: int
    try_number: int
    pod_uid: str
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, event: PodEvent, shared_signature: Signature) -> _Last:
        key = event.key
        return cls(
            shared_signature,
            sys.intern(key.dag_id),
            key.task_id,
            sys.intern(key.run_id),
            key.map_index,
            event.try_number,
            event.pod_uid,
            event.started_at,
            event.finished_at,
        )

    def event(self, namespace: str, pod: str) -> PodEvent:
        phase, reason, waiting, terminated, exit_code, deletion_requested, _ = self.signature
        return PodEvent(
            version=SCHEMA_VERSION,
            key=TaskKey(self.dag_id, self.task_id, self.run_id, self.map_index),
            try_number=self.try_number,
            namespace=namespace,
            pod=pod,
            pod_uid=self.pod_uid,
            phase=cast(PodPhase, phase),
            reason=cast(str, reason),
            waiting_reason=cast(str, waiting),
            terminated_reason=cast(str, terminated),
            exit_code=cast(int | None, exit_code),
            started_at=self.started_at,
            finished_at=self.finished_at,
            deletion_requested=cast(bool, deletion_requested),
            resource_version="",
            observed_at=_UNOBSERVED,
        )


class Tracker:
    """The last published state of every pod, per namespace; a re-list starts the pods afresh
    (`start_relist`), carrying over the states of pods it lists, and what it did not list is
    reported by `finish_relist`: no separate set of listed pods is built."""

    def __init__(self) -> None:
        self._last: dict[str, dict[str, _Last]] = {}
        #: the pods of before the re-list in progress that it has not listed yet
        self._unlisted: dict[str, dict[str, _Last]] = {}
        #: each distinct signature once (pods in the same state share it)
        self._signatures: dict[Signature, Signature] = {}

    def __len__(self) -> int:
        return sum(map(len, self._last.values())) + sum(map(len, self._unlisted.values()))

    def is_transition(self, event: PodEvent) -> bool:
        """Remember `event`; True when it differs from the pod's last published state."""
        known = self._last.get(event.namespace)
        if known is None:
            known = self._last[sys.intern(event.namespace)] = {}
        previous = known.get(event.pod)
        if previous is None and self._unlisted:
            previous = self._unlisted.get(event.namespace, {}).pop(event.pod, None)
        if event.deleted:
            known.pop(event.pod, None)
            return True
        now = signature(event)
        if previous is not None and previous.signature == now:
            known[event.pod] = previous
            return False
        known[event.pod] = _Last.of(event, self._signatures.setdefault(now, now))
        return True

    def start_relist(self) -> None:
        """A re-list begins: every pod it lists is remembered again, as it comes."""
        for namespace, pods in self._last.items():
            self._unlisted.setdefault(namespace, {}).update(pods)
        self._last = {}

    def finish_relist(self) -> list[PodEvent]:
        """The pods the re-list did not find (deleted while unwatched), as last published; the
        caller marks them deleted and stamps the re-list's version."""
        gone = [
            last.event(namespace, pod)
            for namespace, pods in self._unlisted.items()
            for pod, last in pods.items()
        ]
        self._unlisted = {}
        return gone

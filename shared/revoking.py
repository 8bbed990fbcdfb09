"""Revoking a task's try: it fails with the revoker's reason and its pod is deleted, by podrunner.

The caller needs no Kubernetes credentials: a revocation is a launch event (`revoked`) on the
launches stream, and the reconciler, which holds the credentials, applies it like any other:
under the row's lock, only to the row's current try while it is live, then the follow-ups of an
ended task with the pod deleted whatever the policy. A job still waiting in its queue is settled
without a pod when a launcher takes it (its pod is recorded as finished), and a pod a launcher is
creating at that moment is deleted once it exists.

The Airflow executor's `revoke_task` and the reconciler API's `POST …/revoke` both come here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from shared.db import progress
from shared.db.engines import Engine
from shared.k8s import naming
from shared.messages import SCHEMA_VERSION, LaunchEvent, LaunchOutcome, TaskKey

#: Appends launch events to the launches stream (`LaunchOutlet.publish` of
#: `shared.messaging.outlets`, say).
Publish = Callable[[list[LaunchEvent]], None]


@dataclass(frozen=True)
class Revoked:
    """A try that was live and is now being revoked."""

    key: TaskKey
    try_number: int
    namespace: str
    pod: str


def revoke(
    engine: Engine, publish: Publish, tries: Sequence[tuple[TaskKey, int]], *, reason: str
) -> list[Revoked]:
    """Revoke each of `tries` (task key, try number) still live in podrunner: one query, one
    publish. Tries that ended, were never submitted, or were replaced by a later try are left
    alone (and not returned).

    Raises:
        DatabaseUnavailable: Postgres could not be asked (nothing was revoked).
        MessagingError: Redis refused the revocations (nothing was revoked).
    """
    standings = progress.standings(engine, tries, changed_only=False)
    live = [s for s in standings if not s.is_other_try and not s.state.is_terminal]
    revoked = [
        Revoked(s.key, s.try_number, s.namespace, s.pod_name or _pod_name(s.key, s.try_number))
        for s in live
    ]
    if revoked:
        at = datetime.now(UTC)
        publish([_event(each, reason, at) for each in revoked])
    return revoked


def _event(revoked: Revoked, reason: str, at: datetime) -> LaunchEvent:
    return LaunchEvent(
        version=SCHEMA_VERSION,
        key=revoked.key,
        try_number=revoked.try_number,
        namespace=revoked.namespace,
        pod=revoked.pod,
        outcome=LaunchOutcome.REVOKED,
        reason=reason,
        at=at,
    )


def _pod_name(key: TaskKey, try_number: int) -> str:
    return naming.pod_name(key, try_number)

"""Every Redis key, stream, group and queue name podrunner uses, in one place.

Stream names are a contract: other programs subscribe to them with their own
consumer groups. Everything in Redis is prefixed `podrunner:<instance>:`, so several podrunner
instances can share one Redis without seeing each other's data. The kombu exchange and queue names
are also a contract, so any kombu producer can submit jobs directly.
"""

from __future__ import annotations

from dataclasses import dataclass

#: kombu exchange jobs are published to (direct; routing key = namespace).
JOB_EXCHANGE = "podrunner.jobs"

#: The single field of every stream entry, holding the JSON of a versioned record.
EVENT_FIELD = b"event"

#: Consumer group through which the reconcilers share the launch and pod-event streams.
RECONCILER_GROUP = "reconciler"


def job_queue(namespace: str) -> str:
    """The kombu queue holding the jobs of `namespace`."""
    return f"{JOB_EXCHANGE}.{namespace}"


@dataclass(frozen=True)
class RedisKeys:
    """The Redis names of one podrunner instance."""

    instance: str

    @property
    def prefix(self) -> str:
        return f"podrunner:{self.instance}:"

    @property
    def launches(self) -> str:
        """Stream: launcher → reconciler, one entry per job outcome."""
        return f"{self.prefix}launches"

    def pod_events(self, namespace: str) -> str:
        """Stream: watcher → reconciler, one entry per pod transition in `namespace`."""
        return f"{self.prefix}pod-events:{namespace}"

    @property
    def pod_events_pattern(self) -> str:
        """SCAN pattern matching every namespace's pod-event stream."""
        return f"{self.prefix}pod-events:*"

    @property
    def dead_letters(self) -> str:
        """Stream: entries and jobs that failed too often or could not be decoded."""
        return f"{self.prefix}dead-letters"

    def entry_errors(self, stream: str) -> str:
        """Hash: entry id → last error reported for that still-pending entry of `stream`."""
        return f"{self.prefix}entry-errors:{stream.removeprefix(self.prefix)}"

    def lease(self, name: str) -> str:
        """String: `<holder>|<token>` of the single-active role `name`, with a TTL."""
        return f"{self.prefix}lease:{name}"

    def fence(self, name: str) -> str:
        """Counter: the last fencing token handed out for the role `name`."""
        return f"{self.prefix}fence:{name}"

    def watch_checkpoint(self, namespace: str) -> str:
        """String: the last resourceVersion whose events are all published, per namespace."""
        return f"{self.prefix}watch-rv:{namespace}"

    def active_pods(self, namespace: str) -> str:
        """Hash: pod name → holder, one field per unfinished pod counted against the cap."""
        return f"{self.prefix}active-pods:{namespace}"

    def finished_pods(self, namespace: str) -> str:
        """Sorted set: pod name → when its task's end was recorded (epoch seconds): a job
        delivered again for one of these pods is settled without a create."""
        return f"{self.prefix}finished-pods:{namespace}"

    def slot_census(self, namespace: str) -> str:
        """Set: the slots whose pod the sweep's current round listed unfinished."""
        return f"{self.prefix}slot-census:{namespace}"

    def slots_missed(self, namespace: str) -> str:
        """Set: the slots marked created whose pod the sweep's last round did not list."""
        return f"{self.prefix}slots-missed:{namespace}"

    def launcher_alive(self, holder: str) -> str:
        """String with a TTL: the launcher `holder` is alive (its slots are not stale)."""
        return f"{self.prefix}launcher-alive:{holder}"

    @property
    def replicas(self) -> str:
        """Hash: `<service>/<holder>` → JSON of that replica's last report of itself (its health,
        when it reported); read by the dashboard, stale fields pruned by their readers."""
        return f"{self.prefix}replicas"

    def pod_history(self, namespace: str, pod: str) -> str:
        """List with a TTL: the pod's events as the watcher published them, oldest first, capped
        (the JSON of each `PodEvent`), kept for the dashboard's page of one task."""
        return f"{self.prefix}pod-history:{namespace}:{pod}"

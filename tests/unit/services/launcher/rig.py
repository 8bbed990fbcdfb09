"""A launcher consumer built on the in-memory stubs: no Redis, no API server, no subprocess.

`Rig` wires one `NamespaceConsumer` to a `StubJobQueue`, a `StubSlotPool` and a `StubPodApi`,
records the launch events and dead letters it produces, and runs the consumer on a thread for
the length of a `with rig.running():` block, stopping (and so draining) it on the way out.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry

from services.launcher.consuming import NamespaceConsumer
from services.launcher.creating import Creator
from services.launcher.metrics import LauncherMetrics
from services.launcher.preparing import Prepared, Rejection
from services.launcher.throttling import TokenBucket
from shared.health import Heartbeat
from shared.k8s import naming
from shared.k8s.stub import StubPodApi
from shared.messages import DecodeError, Job, LaunchEvent
from shared.messaging.stub import StubJobQueue, StubSlotPool
from shared.outages import Outages
from shared.retrying import Backoff, RetryPolicy

NS = "team-a"
INSTANCE = "unit"
#: No waiting between attempts: a retry test must not sleep.
NO_BACKOFF = Backoff(base_s=0.0, max_s=0.0)


def prepare(body: bytes, namespace: str) -> Prepared | Rejection:
    """A job's pod, reduced to what the consumer reads: its name, labels and key annotations."""
    try:
        job = Job.decode(body)
    except DecodeError as error:
        return Rejection(str(error), namespace)
    metadata = {
        "name": naming.pod_name(job.key, job.try_number),
        "labels": naming.ownership_labels(INSTANCE),
        "annotations": naming.key_annotations(job.key, job.try_number),
    }
    return Prepared(job, namespace, {"metadata": metadata})


def pod_of(job: Job) -> str:
    return naming.pod_name(job.key, job.try_number)


@dataclass
class Rig:
    max_active: int = 10
    prefetch: int = 10
    max_attempts: int = 3
    jobs: StubJobQueue = field(default_factory=StubJobQueue)
    pods: StubPodApi = field(default_factory=StubPodApi)
    slots: StubSlotPool = field(default_factory=StubSlotPool)
    events: list[LaunchEvent] = field(default_factory=list)
    dead_letters: list[tuple[str, bytes, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def consumer(self, pool: ThreadPoolExecutor) -> NamespaceConsumer:
        metrics = LauncherMetrics(CollectorRegistry())
        creator = Creator(
            self.pods,
            bucket=TokenBucket(10_000.0),
            policy=RetryPolicy(max_attempts=self.max_attempts, backoff=NO_BACKOFF),
            metrics=metrics,
            instance=INSTANCE,
            stop=self.stop,
        )
        return NamespaceConsumer(
            namespace=NS,
            jobs=self.jobs,
            prefetch=self.prefetch,
            pool=pool,
            prepare=prepare,
            creator=creator,
            slots=self.slots,
            max_active=self.max_active,
            publish=self.events.extend,
            dead_letter=lambda ns, body, reason: self.dead_letters.append((ns, body, reason)),
            metrics=metrics,
            heartbeat=Heartbeat(f"consume-{NS}", deadline_s=60.0),
            outages=Outages(),
        )

    @contextmanager
    def running(self) -> Iterator[NamespaceConsumer]:
        with ThreadPoolExecutor(2, thread_name_prefix="create") as pool:
            consumer = self.consumer(pool)
            thread = threading.Thread(target=consumer.run, args=(self.stop,), daemon=True)
            thread.start()
            try:
                yield consumer
            finally:
                self.stop.set()
                self.jobs.close()
                thread.join(timeout=5.0)
        assert not thread.is_alive(), "the consumer did not stop"

    def created(self) -> list[str]:
        return [name for verb, _, name in self.pods.calls if verb == "create"]

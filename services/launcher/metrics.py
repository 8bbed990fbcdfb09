"""The launcher's Prometheus metrics, on a registry of its own (never the global default)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

#: Create latency buckets, in seconds: kubesim answers in milliseconds, real clusters in tens.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class LauncherMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.jobs_consumed = Counter(
            "podrunner_launcher_jobs_consumed",
            "Job messages taken from the queues.",
            ["namespace"],
            registry=registry,
        )
        self.pods_created = Counter(
            "podrunner_launcher_pods_created",
            "Pods this launcher created.",
            ["namespace"],
            registry=registry,
        )
        self.outcomes = Counter(
            "podrunner_launcher_outcomes",
            "Jobs by outcome: created, exists, rejected, requeued, finished (already ran).",
            ["namespace", "outcome"],
            registry=registry,
        )
        self.retries = Counter(
            "podrunner_launcher_create_retries",
            "Create attempts retried, by reason.",
            ["reason"],
            registry=registry,
        )
        self.create_latency = Histogram(
            "podrunner_launcher_create_seconds",
            "Duration of one create call.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.queue_depth = Gauge(
            "podrunner_launcher_queue_depth",
            "Jobs waiting in the namespace's queue.",
            ["namespace"],
            registry=registry,
        )
        self.in_flight = Gauge(
            "podrunner_launcher_in_flight",
            "Jobs taken and not yet acknowledged or requeued.",
            ["namespace"],
            registry=registry,
        )
        self.waiting_for_slot = Gauge(
            "podrunner_launcher_waiting_for_slot",
            "Jobs held until an active-pod slot frees.",
            ["namespace"],
            registry=registry,
        )

"""The watcher's Prometheus metrics, on a registry of its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class WatcherMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.events_in = Counter(
            "podrunner_watcher_events_in",
            "Watch events read, by type.",
            ["type"],
            registry=registry,
        )
        self.events_out = Counter(
            "podrunner_watcher_events_out",
            "Pod events published (transitions only), by phase.",
            ["phase"],
            registry=registry,
        )
        self.ignored = Counter(
            "podrunner_watcher_ignored",
            "Pods seen that are not ours, by reason.",
            ["reason"],
            registry=registry,
        )
        self.relists = Counter("podrunner_watcher_relists", "Full re-lists.", registry=registry)
        self.gone = Counter("podrunner_watcher_gone", "410 Gone answers met.", registry=registry)
        self.reconnects = Counter(
            "podrunner_watcher_reconnects", "Watches reopened after an error.", registry=registry
        )
        self.lag = Histogram(
            "podrunner_watcher_lag_seconds",
            "From reading a watch chunk to its events being published.",
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0),
            registry=registry,
        )
        self.leader = Gauge(
            "podrunner_watcher_leader",
            "1 while this replica holds the scope's lease, else 0.",
            ["scope"],
            registry=registry,
        )

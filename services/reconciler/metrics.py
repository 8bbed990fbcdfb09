"""The reconciler's Prometheus metrics, on a registry of its own (never the global default).

Most are counted as work happens. Three are read when Prometheus scrapes, because they describe
state rather than work: each stream's backlog (lag and pending entries of the group), the
dead-letter count, and how many tasks are in each state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from shared.db import errors as db_errors
from shared.messaging.connections import MessagingError
from shared.messaging.streams import Backlog

T = TypeVar("T")

log = structlog.get_logger()

BATCH_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2000)
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ReconcilerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.events_applied = Counter(
            "podrunner_reconciler_events_applied",
            "Stream entries applied to task_instance.",
            registry=registry,
        )
        self.batch_size = Histogram(
            "podrunner_reconciler_batch_size",
            "Entries per applied batch.",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "podrunner_reconciler_batch_seconds",
            "Time to apply one batch (one transaction).",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.apply_latency = Histogram(
            "podrunner_reconciler_apply_latency_seconds",
            "From a pod event's observation by the watcher to its commit.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.findings = Counter(
            "podrunner_reconciler_sweep_findings",
            "Drift found and repaired by the sweeps, by kind.",
            ["kind"],
            registry=registry,
        )
        self.sweep_seconds = Histogram(
            "podrunner_reconciler_sweep_seconds",
            "Duration of one namespace's sweep.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.sweep_leader = Gauge(
            "podrunner_reconciler_sweep_leader",
            "1 while this replica holds the sweep lease.",
            registry=registry,
        )


class StateCollector(Collector):
    """Figures read at scrape time; a source that fails is skipped, never fails the scrape."""

    def __init__(
        self,
        *,
        backlog: Callable[[], Mapping[str, Backlog]],
        dead_letters: Callable[[], int],
        tasks_by_state: Callable[[], Mapping[str, int]],
    ) -> None:
        self._backlog = backlog
        self._dead_letters = dead_letters
        self._tasks_by_state = tasks_by_state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._streams()
        yield from self._dead_letter_family()
        yield from self._tasks()

    def _streams(self) -> Iterator[GaugeMetricFamily]:
        lag = GaugeMetricFamily(
            "podrunner_reconciler_stream_lag",
            "Entries not yet delivered to the reconciler group.",
            labels=["stream"],
        )
        pending = GaugeMetricFamily(
            "podrunner_reconciler_stream_pending",
            "Entries delivered and not yet acknowledged.",
            labels=["stream"],
        )
        backlog: Mapping[str, Backlog] = _read("backlog", self._backlog, {})
        for stream, figures in backlog.items():
            lag.add_metric([stream], figures.lag)
            pending.add_metric([stream], figures.pending)
        yield lag
        yield pending

    def _dead_letter_family(self) -> Iterator[GaugeMetricFamily]:
        count = _read("dead_letters", self._dead_letters, None)
        if count is not None:
            yield GaugeMetricFamily(
                "podrunner_reconciler_dead_letters",
                "Entries in the dead-letter stream.",
                value=count,
            )

    def _tasks(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("podrunner_tasks", "Task rows by state.", labels=["state"])
        counts: Mapping[str, int] = _read("tasks_by_state", self._tasks_by_state, {})
        for state, count in counts.items():
            family.add_metric([state], count)
        yield family


def _read(name: str, source: Callable[[], T], fallback: T) -> T:
    try:
        return source()
    except (MessagingError, db_errors.DatabaseError) as error:
        log.warning("metric_source_failed", source=name, error=str(error))
        return fallback

"""The dashboard's figures from `task_instance`: counts now, flow per minute, failures by reason.

Each figure is one aggregate query whose cost follows the rows in its window (the last hour or
day, found through the timestamp indexes of migration 0004) or, for counts by state and
namespace, one pass over the table, a few milliseconds per 100,000 rows. Times are the database's
(`now()`), so the windows agree with the timestamps the reconciler writes. A pod's start and end
are the kubelet's, to the second, so a latency under a second can come out below zero: it is
counted as zero.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, text

#: The Flow view's window, in minutes.
FLOW_MINUTES = 60

_COUNTS = text(
    "SELECT namespace, state, count(*) AS n FROM task_instance GROUP BY namespace, state"
)
# One row per minute and kind; generate_series fills the minutes with nothing in them.
_FLOW = text(
    """
    WITH minutes AS (
        SELECT generate_series(
            date_trunc('minute', now()) - make_interval(mins => :minutes - 1),
            date_trunc('minute', now()),
            interval '1 minute'
        ) AS minute
    ),
    submitted AS (
        SELECT date_trunc('minute', queued_at) AS minute, count(*) AS n FROM task_instance
        WHERE queued_at >= now() - make_interval(mins => :minutes) GROUP BY 1
    ),
    started AS (
        SELECT date_trunc('minute', started_at) AS minute, count(*) AS n FROM task_instance
        WHERE started_at >= now() - make_interval(mins => :minutes) GROUP BY 1
    ),
    finished AS (
        SELECT date_trunc('minute', ended_at) AS minute, count(*) AS n FROM task_instance
        WHERE ended_at >= now() - make_interval(mins => :minutes) GROUP BY 1
    )
    SELECT m.minute, coalesce(s.n, 0) AS submitted, coalesce(t.n, 0) AS started,
           coalesce(f.n, 0) AS finished
    FROM minutes m
    LEFT JOIN submitted s USING (minute)
    LEFT JOIN started t USING (minute)
    LEFT JOIN finished f USING (minute)
    ORDER BY m.minute
    """
)
_LATENCY = text(
    """
    SELECT
      percentile_cont(0.5) WITHIN GROUP (ORDER BY to_start) AS start_p50,
      percentile_cont(0.99) WITHIN GROUP (ORDER BY to_start) AS start_p99,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY to_end) AS end_p50,
      percentile_cont(0.99) WITHIN GROUP (ORDER BY to_end) AS end_p99
    FROM (
      SELECT
        CASE WHEN started_at >= now() - make_interval(mins => :minutes)
          THEN greatest(0, extract(epoch FROM started_at - queued_at)) END AS to_start,
        CASE WHEN ended_at >= now() - make_interval(mins => :minutes)
          THEN greatest(0, extract(epoch FROM ended_at - queued_at)) END AS to_end
      FROM task_instance
      WHERE started_at >= now() - make_interval(mins => :minutes)
         OR ended_at >= now() - make_interval(mins => :minutes)
    ) AS recent
    """
)
_FAILURES = text(
    """
    SELECT coalesce(failure_reason, '(none given)') AS reason,
           count(*) FILTER (WHERE ended_at >= now() - interval '1 hour') AS last_hour,
           count(*) AS last_day,
           max(ended_at) AS latest
    FROM task_instance
    WHERE state = 'failed' AND ended_at >= now() - interval '1 day'
    GROUP BY 1
    ORDER BY last_hour DESC, last_day DESC, reason
    LIMIT :most
    """
)


def counts(connection: Connection) -> dict[str, dict[str, int]]:
    """Tasks by namespace, then by state."""
    found: dict[str, dict[str, int]] = {}
    for namespace, state, number in connection.execute(_COUNTS):
        found.setdefault(namespace, {})[str(state)] = int(number)
    return found


def flow(engine: Engine, *, minutes: int = FLOW_MINUTES) -> dict[str, Any]:
    """Submitted, started and finished per minute, and latency percentiles, over `minutes`."""
    with engine.connect() as connection:
        rows = connection.execute(_FLOW, {"minutes": minutes}).all()
        latency = connection.execute(_LATENCY, {"minutes": minutes}).mappings().one()
    return {
        "minutes": [row.minute.isoformat() for row in rows],
        "submitted": [int(row.submitted) for row in rows],
        "started": [int(row.started) for row in rows],
        "finished": [int(row.finished) for row in rows],
        "latency_s": {name: _rounded(value) for name, value in latency.items()},
    }


def failures(engine: Engine, *, most: int = 50) -> list[dict[str, Any]]:
    """Failed tasks of the last day by reason, with the last hour's share, most frequent first."""
    with engine.connect() as connection:
        rows = connection.execute(_FAILURES, {"most": most}).mappings().all()
    return [
        {
            "reason": row["reason"],
            "last_hour": int(row["last_hour"]),
            "last_day": int(row["last_day"]),
            "latest": row["latest"].isoformat() if row["latest"] else None,
        }
        for row in rows
    ]


def _rounded(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)

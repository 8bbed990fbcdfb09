"""`podrunner submit --wait`: follow a task's row to its end, one progress line per change."""

from __future__ import annotations

import sys
import time

from shared.db import engines, reads
from shared.messages import Job

POLL_S = 0.5


def wait_for(database_url: str, job: Job) -> int:
    """Print each change of the task's state; 0 when it succeeded, 1 when it failed."""
    engine = engines.make_engine(database_url, pool_size=1)
    columns = ("try_number", "state", "pod_phase", "failure_reason", "exit_code", "log_tail")
    key = job.key
    started, shown = time.monotonic(), None
    try:
        while True:
            row = reads.task_columns(engine, key, columns)
            line = f"{row['state']}" + (f" (pod {row['pod_phase']})" if row["pod_phase"] else "")
            if line != shown:
                print(f"[{time.monotonic() - started:6.1f}s] {job.key}: {line}", flush=True)
                shown = line
            if row["state"] == "success":
                return 0
            if row["state"] == "failed":
                print(f"failed: {row['failure_reason']}", file=sys.stderr)
                if row["log_tail"]:
                    print(f"log tail:\n{row['log_tail']}", file=sys.stderr)
                return 1
            time.sleep(POLL_S)
    finally:
        engine.dispose()

"""`podrunner bench --quick` runs every benchmark stage end to end and reports numeric figures.

The benchmarks are not tests (their figures depend on the machine); this only keeps them
runnable: a change that breaks a benchmark shows up here, not on the day someone measures. The
first run on a machine also creates the Airflow stage's baseline environment with pip (a few
minutes), hence the long timeout.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from tests.benchmarks import suite


@pytest.mark.slow
@pytest.mark.timeout(1000)
def test_bench_quick_runs_every_stage_and_writes_numeric_figures(
    tmp_path: Path, redis_server_url: str, postgres_admin_url: URL
) -> None:
    results = tmp_path / "bench.json"
    database_url = postgres_admin_url.render_as_string(hide_password=False)
    argv = [
        *(sys.executable, "-m", "services.cli", "bench", "--quick"),
        *("--json", str(results), "--database-url", database_url),
        *("--redis-url", redis_server_url),
    ]
    done = run_whole_group(argv, timeout_s=980)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    figures = json.loads(results.read_text())
    assert set(figures["stages"]) == {stage.name for stage in suite.STAGES}
    assert all(stage["error"] is None for stage in figures["stages"].values())
    rows = figures["rows"]
    assert {row["stage"] for row in rows} >= {
        *("kubesim", "watcher", "reconciler", "launcher", "airflow")
    }
    assert {"end to end", "memory"} <= {row["stage"] for row in rows}
    assert all(isinstance(row["value"], int | float) for row in rows), rows
    assert "stage" in done.stdout
    assert "met" in done.stdout


def run_whole_group(argv: list[str], *, timeout_s: float) -> subprocess.CompletedProcess[str]:
    """Run `argv` in its own process group; out of time, the whole group is stopped (the suite,
    its stage and the stage's services), not just the first process."""
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        out, err = process.communicate(timeout=60)
        pytest.fail(f"podrunner bench --quick ran over {timeout_s:.0f}s: {err[-3000:]}")
    return subprocess.CompletedProcess(argv, process.returncode, out, err)

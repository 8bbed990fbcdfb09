"""`podrunner demo` as a user runs it: a subprocess that starts everything, checks and stops it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL

from services.demo.stack import port_open
from tests.support import servers


def run_demo(tasks: int, report: Path, env: dict[str, str], timeout_s: float) -> str:
    command = [sys.executable, "-m", "services.cli", "demo", "--tasks", str(tasks)]
    done = subprocess.run(
        [*command, "--report", str(report)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done.stdout


def final_states(report: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(report.read_text())
    return records


def demo_token(output: str) -> str:
    """The API token the demo made up, read from the file its output points to."""
    found = re.search(r"\$\(cat (\S+)\)", output)
    assert found is not None, "the output says where the API token is"
    return Path(found.group(1)).read_text()


def ports_mentioned(output: str) -> set[int]:
    return {int(port) for port in re.findall(r"http://127\.0\.0\.1:(\d+)", output)}


@pytest.mark.timeout(300)
@pytest.mark.usefixtures("db")  # empties task_instance afterwards: other tests count its rows
def test_two_hundred_demo_tasks_all_end_as_expected_and_nothing_is_left_listening(
    tmp_path: Path, redis_url: str, database_url: URL
) -> None:
    env = {
        **os.environ,
        "PODRUNNER_REDIS_URL": redis_url,
        "PODRUNNER_DATABASE_URL": database_url.render_as_string(hide_password=False),
    }
    output = run_demo(200, tmp_path / "report.json", env, timeout_s=280)
    records = final_states(tmp_path / "report.json")
    assert len(records) == 200
    wrong = [r for r in records if r["state"] != r["expected_state"]]
    assert wrong == []
    assert all(r["expected_reason"] in r["failure_reason"] for r in records if r["expected_reason"])
    assert "all 200 tasks ended as expected" in output
    assert "tasks/s" in output
    ports = ports_mentioned(output)
    assert len(ports) == 4  # kubesim and the three services
    assert [port for port in ports if port_open(port)] == []
    token = demo_token(output)
    assert len(token) >= 16, "the demo's API has a token of its own"
    assert token not in output, "and never shows it"


@pytest.mark.embedded
@pytest.mark.timeout(240)
def test_the_default_demo_runs_on_embedded_servers_when_no_urls_are_given(tmp_path: Path) -> None:
    if servers.docker_answers():
        pytest.skip("a Docker engine answers here; the embedded path is tested without one")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PODRUNNER_REDIS_URL", "PODRUNNER_DATABASE_URL", "PODRUNNER_BROKER_URL")
    }
    output = run_demo(12, tmp_path / "report.json", env, timeout_s=220)
    records = final_states(tmp_path / "report.json")
    assert [r["state"] for r in records] == [r["expected_state"] for r in records]
    assert "starting an embedded redis" in output
    assert "starting an embedded postgres" in output
    assert [port for port in ports_mentioned(output) if port_open(port)] == []

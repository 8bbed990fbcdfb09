"""`podrunner demo --keep` prints the dashboard's address and keeps everything running after its
tasks ended, until Ctrl-C, which then stops it all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from services.demo.stack import port_open

pytestmark = pytest.mark.timeout(240)


def read_until(process: subprocess.Popen[str], marker: str) -> str:
    """Everything the process printed up to the line holding `marker`."""
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError("the demo ended before saying: " + marker + "\n" + "".join(seen))


@pytest.mark.usefixtures("db")  # empties task_instance afterwards: other tests count its rows
def test_the_dashboard_answers_after_the_tasks_ended_until_ctrl_c(
    redis_url: str, database_url: URL
) -> None:
    env = {
        **os.environ,
        "PODRUNNER_REDIS_URL": redis_url,
        "PODRUNNER_DATABASE_URL": database_url.render_as_string(hide_password=False),
    }
    command = [sys.executable, "-m", "services.cli", "demo", "--tasks", "12", "--keep"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    try:
        output = read_until(process, "press Ctrl-C to stop")
        [dashboard] = re.findall(r"the dashboard: (http://\S+/ui/)", output)
        token_file = re.search(r"\$\(cat (\S+)\)", output)
        assert token_file is not None
        token = Path(token_file.group(1)).read_text()
        page = httpx.get(dashboard)
        now = httpx.get(dashboard + "data/now", headers={"Authorization": f"Bearer {token}"}).json()
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)

    assert "all 12 tasks ended as expected" in output
    assert f"dashboard: {dashboard}" in output, "printed with the other addresses at the start"
    assert page.status_code == 200
    assert sum(sum(ns["states"].values()) for ns in now["namespaces"]) == 12
    assert process.returncode == 0, rest
    port = int(dashboard.split(":")[2].split("/")[0])
    assert not port_open(port), "Ctrl-C stopped the services"

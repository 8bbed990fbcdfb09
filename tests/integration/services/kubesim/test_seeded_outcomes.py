"""`podrunner kubesim --seed N`: pods with an `exit-rate` get the same outcomes in the same order.

The Airflow benchmark runs two executors on two kubesims with one pod template saying "10% exit
1"; with the same seed both see the same failures, not merely the same rate.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.kubesim import start_kubesim
from tests.support.waiting import wait_until

PODS = 24
NAMESPACE = "default"


def pod_body(n: int) -> dict[str, object]:
    annotations = {
        "kubesim.podrunner.io/run-seconds": "0",
        "kubesim.podrunner.io/exit-rate": "0.5",
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"drawn-{n}", "annotations": annotations},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "base", "image": "busybox:1.37", "command": ["true"]}],
        },
    }


def phases_in_order(directory: Path, *seed: str) -> list[str]:
    """Create the pods one at a time, each after the one before finished; their final phases."""
    sim = start_kubesim(directory, *seed)
    try:
        with httpx.Client(base_url=f"{sim.url}/api/v1/namespaces/{NAMESPACE}", timeout=10) as http:
            return [one_phase(http, n) for n in range(PODS)]
    finally:
        sim.stop()


def one_phase(http: httpx.Client, n: int) -> str:
    assert http.post("/pods", json=pod_body(n)).status_code == 201

    def final() -> str:
        phase = str(http.get(f"/pods/drawn-{n}").json()["status"].get("phase"))
        return phase if phase in ("Succeeded", "Failed") else ""

    return wait_until(final, timeout_s=10, what=f"pod drawn-{n} finished")


@pytest.mark.timeout(90)
def test_the_same_seed_gives_the_same_outcomes_in_the_same_order(tmp_path: Path) -> None:
    first = phases_in_order(tmp_path, "--seed", "7")
    second = phases_in_order(tmp_path, "--seed", "7")
    assert first == second
    assert {"Succeeded", "Failed"} <= set(first), first

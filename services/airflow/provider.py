"""What Airflow's provider discovery reads of podrunner (the `apache_airflow_provider` entry
point): the executor, so `airflow providers executors` lists it, and the `[podrunner]` options."""

from __future__ import annotations

from typing import Any

from services.airflow import configuring

EXECUTOR = "services.airflow.executor.PodrunnerExecutor"


def get_provider_info() -> dict[str, Any]:
    """The provider record Airflow validates and lists."""
    return {
        "package-name": "podrunner",
        "name": "podrunner",
        "description": "Runs Airflow task instances as Kubernetes pods through podrunner.",
        "executors": [EXECUTOR],
        "cli": [f"{__name__}.cli_commands"],
        "config": {
            configuring.SECTION: {
                "description": "The podrunner executor's settings; any `PODRUNNER_*` setting "
                "may be given here by its lower-case name, over the environment.",
                "options": configuring.documented_options(),
            }
        },
    }


def cli_commands() -> list[Any]:
    """The executor's own `airflow` commands: none (declared, so Airflow does not warn)."""
    return []

"""An Airflow home for the end-to-end test: its `airflow.cfg`, its DAG, and the pod template.

Every Airflow process of the test, and every task kubesim runs, reads the same `airflow.cfg`
(found through `AIRFLOW_HOME`), as a deployment's scheduler and worker pods share one config. The
tasks get `AIRFLOW_HOME` and the `PATH` to this interpreter the way a real pod gets them: from
the `env` of the `base` container in the operator's pod template, which podrunner's launcher
starts every pod from.
"""

from __future__ import annotations

import base64
import configparser
import os
import secrets
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy.engine import URL

#: The executor the test runs Airflow with.
PODRUNNER_EXECUTOR = "services.airflow.executor.PodrunnerExecutor"
#: The test's DAG file (never imported here: importing Airflow reads and writes its config).
DAG_FILE = Path(__file__).with_name("e2e_dag.py")
#: The DAG in that file.
DAG_ID = "podrunner_e2e"


@dataclass(frozen=True)
class AirflowHome:
    path: Path
    api_url: str
    pod_template: Path

    def env(self, base: Mapping[str, str]) -> dict[str, str]:
        """`base` as the environment of an Airflow process of the test: every `AIRFLOW*`
        variable of the caller's dropped, so this home's `airflow.cfg` alone configures it."""
        kept = {name: value for name, value in base.items() if not name.startswith("AIRFLOW")}
        return {**kept, "AIRFLOW_HOME": str(self.path), "PATH": _path()}


def create(directory: Path, *, database_url: URL, api_port: int, executor: str) -> AirflowHome:
    """Write an Airflow home in `directory` whose metadata database is `database_url`."""
    directory.mkdir(parents=True, exist_ok=True)
    dags = directory / "dags"
    dags.mkdir(exist_ok=True)
    shutil.copyfile(DAG_FILE, dags / DAG_FILE.name)
    api_url = f"http://127.0.0.1:{api_port}"
    airflow_url = database_url.set(drivername="postgresql+psycopg")
    config = _config(
        directory,
        database=airflow_url.render_as_string(hide_password=False),
        api_url=api_url,
        executor=executor,
    )
    with (directory / "airflow.cfg").open("w") as file:
        config.write(file)
    template = directory / "pod-template.yaml"
    template.write_text(yaml.safe_dump(_pod_template(directory)))
    return AirflowHome(directory, api_url, template)


def _config(home: Path, *, database: str, api_url: str, executor: str) -> configparser.ConfigParser:
    sections: dict[str, dict[str, str]] = {
        "core": {
            "executor": executor,
            "dags_folder": str(home / "dags"),
            "load_examples": "False",
            "dags_are_paused_at_creation": "False",
            "execution_api_server_url": f"{api_url}/execution/",
            "simple_auth_manager_all_admins": "True",
            "fernet_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        },
        "database": {"sql_alchemy_conn": database, "sql_alchemy_conn_async": database},
        "api": {"base_url": api_url, "secret_key": secrets.token_hex(16)},
        "api_auth": {"jwt_secret": secrets.token_hex(32)},
        "logging": {"base_log_folder": str(home / "logs"), "logging_level": "INFO"},
        "scheduler": {"scheduler_idle_sleep_time": "0.5"},
    }
    # Airflow reads its config with `%` interpolation, and a database URL may hold a `%`
    # (an escaped socket path, a password): each is written as `%%`, which it reads back as `%`.
    config = configparser.ConfigParser(interpolation=None)
    config.read_dict(
        {
            section: {name: value.replace("%", "%%") for name, value in options.items()}
            for section, options in sections.items()
        }
    )
    return config


def _pod_template(home: Path) -> dict[str, object]:
    """A pod that meets the restricted Pod Security Standard, as podrunner requires by default,
    whose `base` container gets Airflow's home and this interpreter from its environment."""
    env = [{"name": "AIRFLOW_HOME", "value": str(home)}, {"name": "PATH", "value": _path()}]
    base = {
        "name": "base",
        "env": env,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "airflow-task"},
        "spec": {
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [base],
        },
    }


def _path() -> str:
    """`PATH` with this interpreter's directory first, so `python` and `airflow` are its own."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])

"""A task's log as Airflow shows it: the pod's own while it runs, the stored tail after.

Airflow asks the executor for the log of a running task (and the executor answers for ended
ones too). The live log comes from the reconciler's API (`[podrunner] api_url`), which reads it
from the pod with podrunner's credentials and falls back to the stored tail once the pod is
gone; without an API URL, or when the API cannot answer, the stored tail is read from
podrunner's database. Either way the answer says where it came from and, for a failed try,
ends with podrunner's reason for the failure.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx

from shared.db import progress
from shared.db.engines import Engine
from shared.db.keys import key_values
from shared.db.models import TaskState
from shared.messages import TaskKey
from shared.settings import Settings

#: Lines of a live log asked for (the stored tail is what the reconciler kept).
LIVE_LINES = 1000
API_TIMEOUT_S = 10.0
#: The header in which the reconciler's API says whether a log is the pod's or stored.
SOURCE_HEADER = "X-Podrunner-Log-Source"

#: Airflow's shape for an executor's log: where it came from, then its lines.
Log = tuple[list[str], list[str]]


def read(
    engine: Engine, key: TaskKey, try_number: int, *, api_url: str | None, settings: Settings
) -> Log:
    """The log of `key`'s try `try_number`."""
    stored = progress.stored_log(engine, key)
    if stored is None:
        return ["podrunner has no record of this task"], []
    if stored.try_number != try_number:
        return [f"podrunner holds try {stored.try_number} of this task, not {try_number}"], []
    failure = _failure(stored)
    sources: list[str] = []
    if api_url is not None:
        live = _from_api(api_url, key, settings)
        if not isinstance(live, str):
            return live[0], live[1] + failure
        sources.append(live)
    sources.append("podrunner: the stored log tail")
    return sources, (stored.log_tail or "").splitlines() + failure


def _from_api(api_url: str, key: TaskKey, settings: Settings) -> Log | str:
    """The log as the reconciler's API serves it, or why it could not be had."""
    parts = "/".join(quote(str(part), safe="") for part in key_values(key))
    headers = {}
    if settings.api_token is not None:
        headers["Authorization"] = f"Bearer {settings.api_token.get_secret_value()}"
    try:
        response = httpx.get(
            f"{api_url}/api/v1/tasks/{parts}/logs",
            params={"lines": LIVE_LINES},
            headers=headers,
            timeout=API_TIMEOUT_S,
        )
    except httpx.HTTPError as error:
        return f"podrunner's API could not be asked: {error}"
    if response.status_code != 200:
        return f"podrunner's API answered {response.status_code}"
    live = response.headers.get(SOURCE_HEADER) == "pod"
    where = "the pod's log, live" if live else "the stored log tail"
    return [f"podrunner: {where}"], response.text.splitlines()


def _failure(stored: progress.StoredLog) -> list[str]:
    if stored.state is TaskState.FAILED and stored.failure_reason:
        return [f"podrunner: the task failed: {stored.failure_reason}"]
    return []

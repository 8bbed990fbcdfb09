"""The executor's settings: podrunner's own, from the environment or Airflow's `[podrunner]`.

The executor reads the same `Settings` as the services (`PODRUNNER_DATABASE_URL`,
`PODRUNNER_REDIS_URL`, `PODRUNNER_NAMESPACE`, ...), so one set of values serves both. Any of them
may also be given in Airflow's configuration, section `[podrunner]`, by its lower-case name
(`database_url`, or `AIRFLOW__PODRUNNER__DATABASE_URL`): a value there wins over the
environment, so an Airflow deployment can keep everything in `airflow.cfg`. A few options only
the executor reads live beside them (`ExecutorOptions`). All are read and validated once, when the
executor starts; a bad value stops it with a one-line reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from shared.settings import Settings

SECTION = "podrunner"
#: The worker's interpreter when `[podrunner] python` is not set.
DEFAULT_PYTHON = "python"


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names it and says why."""


@dataclass(frozen=True)
class ExecutorOptions:
    """What only the executor reads, all from `[podrunner]`."""

    python: str = DEFAULT_PYTHON
    """The interpreter the worker pod runs the task with (`python` on the image's PATH)."""

    queue_priorities: Mapping[str, int] = field(default_factory=dict)
    """Added to a task's `priority_weight` for its Airflow queue (`high:5,low:-5`)."""

    api_url: str | None = None
    """The reconciler's API (`http://podrunner-reconciler:8083`), through which a running
    task's log is read live from its pod; without it, only the stored tail is shown. Its
    bearer token is `PODRUNNER_API_TOKEN`."""


@dataclass(frozen=True)
class ExecutorConfig:
    settings: Settings
    options: ExecutorOptions


def read(section: Mapping[str, Any] | None) -> ExecutorConfig:
    """The executor's configuration: `section` (Airflow's `[podrunner]`) over the environment.

    Raises:
        ConfigError: a required setting is missing, or a value is invalid.
    """
    given = {name: value for name, value in (section or {}).items() if value not in (None, "")}
    known = {name: given[name] for name in given.keys() & Settings.model_fields.keys()}
    try:
        settings = Settings(**known)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "settings"
        raise ConfigError(f"podrunner setting {where}: {first['msg']}") from None
    if settings.database_url is None or settings.broker_url is None:
        raise ConfigError(
            "the podrunner executor needs PODRUNNER_DATABASE_URL and PODRUNNER_REDIS_URL "
            "(or database_url and redis_url in [podrunner])"
        )
    options = ExecutorOptions(
        python=str(given.get("python", DEFAULT_PYTHON)),
        queue_priorities=_priorities(str(given.get("queue_priorities", ""))),
        api_url=str(given["api_url"]).rstrip("/") if "api_url" in given else None,
    )
    return ExecutorConfig(settings, options)


def _priorities(text: str) -> dict[str, int]:
    """`high:5,low:-5` as {"high": 5, "low": -5}."""
    priorities: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        queue, _, number = item.rpartition(":")
        try:
            priorities[queue.strip()] = int(number)
        except ValueError:
            raise ConfigError(
                f"[podrunner] queue_priorities: {item!r} is not queue:number"
            ) from None
        if not queue.strip():
            raise ConfigError(f"[podrunner] queue_priorities: {item!r} names no queue")
    return priorities


def documented_options() -> dict[str, dict[str, Any]]:
    """The `[podrunner]` options Airflow lists (every `PODRUNNER_*` setting is accepted too)."""

    def option(description: str, example: str, kind: str = "string") -> dict[str, Any]:
        return {
            "description": description,
            "version_added": "0.1.0",
            "type": kind,
            "example": example,
            "default": None,
        }

    return {
        "database_url": option(
            "podrunner's Postgres (PODRUNNER_DATABASE_URL).", "postgresql://podrunner@db/podrunner"
        ),
        "redis_url": option("podrunner's Redis (PODRUNNER_REDIS_URL).", "redis://redis:6379/0"),
        "namespace": option("Namespace of the pods (PODRUNNER_NAMESPACE).", "airflow-tasks"),
        "api_url": option(
            "The reconciler's API, for live logs of running tasks.", "http://reconciler:8083"
        ),
        "python": option("Interpreter the worker pod runs the task with.", DEFAULT_PYTHON),
        "queue_priorities": option(
            "Priority added per Airflow queue, as queue:number pairs.", "high:5,low:-5"
        ),
    }

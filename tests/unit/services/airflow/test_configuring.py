"""The executor's settings: `[podrunner]` over the environment, checked once, one line per fault."""

from __future__ import annotations

import pytest

from services.airflow import configuring

URLS = {"database_url": "postgresql://u@db/p", "redis_url": "redis://r:6379/0"}


def test_the_section_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODRUNNER_NAMESPACE", "from-env")
    monkeypatch.setenv("PODRUNNER_INSTANCE", "blue")
    config = configuring.read({**URLS, "namespace": "from-airflow"})
    assert config.settings.namespace == "from-airflow"
    assert config.settings.instance == "blue", "what the section leaves out comes from the env"
    assert config.settings.broker_url == URLS["redis_url"]


def test_empty_values_in_the_section_are_not_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODRUNNER_DATABASE_URL", URLS["database_url"])
    monkeypatch.setenv("PODRUNNER_REDIS_URL", URLS["redis_url"])
    config = configuring.read({"database_url": "", "namespace": None})
    assert config.settings.database_url == URLS["database_url"]


def test_missing_urls_stop_the_executor_naming_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PODRUNNER_DATABASE_URL", raising=False)
    monkeypatch.delenv("PODRUNNER_REDIS_URL", raising=False)
    with pytest.raises(configuring.ConfigError, match="PODRUNNER_DATABASE_URL"):
        configuring.read({})


def test_an_invalid_setting_is_one_line_naming_it() -> None:
    with pytest.raises(configuring.ConfigError) as refused:
        configuring.read({**URLS, "max_relaunches": "-1"})
    assert str(refused.value).startswith("podrunner setting max_relaunches:")
    assert "\n" not in str(refused.value)


def test_queue_priorities_are_queue_number_pairs() -> None:
    config = configuring.read({**URLS, "queue_priorities": "high:5, low:-5"})
    assert config.options.queue_priorities == {"high": 5, "low": -5}
    with pytest.raises(configuring.ConfigError, match="'high' is not queue:number"):
        configuring.read({**URLS, "queue_priorities": "high"})

"""Structured logging: JSON lines with the service named, console text for people."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from shared.logs import configure_logging
from shared.settings import LogFormat, LogLevel


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def test_json_lines_carry_the_event_its_fields_and_the_service(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(service="launcher", log_format=LogFormat.JSON, level=LogLevel.INFO)
    structlog.get_logger().info("pod created", pod="etl-load-abc", namespace="jobs")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["event"] == "pod created"
    assert line["pod"] == "etl-load-abc"
    assert line["service"] == "launcher"
    assert line["level"] == "info"
    assert "timestamp" in line


def test_messages_below_the_level_are_dropped(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(service="watcher", log_format=LogFormat.JSON, level=LogLevel.WARNING)
    structlog.get_logger().info("every event")
    structlog.get_logger().warning("relisting")
    err = capsys.readouterr().err
    assert "every event" not in err
    assert "relisting" in err


def test_third_party_stdlib_logs_go_through_the_same_renderer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(service="reconciler", log_format=LogFormat.JSON, level=LogLevel.INFO)
    logging.getLogger("kombu").warning("connection lost")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["event"] == "connection lost"
    assert line["service"] == "reconciler"


def test_console_format_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(service="launcher", log_format=LogFormat.CONSOLE, level=LogLevel.INFO)
    structlog.get_logger().info("pod created", pod="p1")
    err = capsys.readouterr().err
    assert "pod created" in err
    assert "pod=p1" in err

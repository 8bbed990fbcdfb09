"""Structured logging: one JSON object per line for machines, aligned text for people.

Every service configures logging once in `main()` from the settings; modules take loggers with
`structlog.get_logger()` and log events with fields (`task=`, `pod=`, `namespace=`), never
formatted sentences. Per-event detail is DEBUG, so INFO stays readable at thousands of pods a
minute. Third-party libraries' stdlib logging goes through the same renderer.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from shared.settings import LogFormat, LogLevel


def configure_logging(*, service: str, log_format: LogFormat, level: LogLevel) -> None:
    """Route structlog and stdlib logging to stderr in `log_format`, at `level` and above."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_format is LogFormat.JSON
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.value)),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared_processors,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(logging.getLevelName(level.value), logging.INFO))

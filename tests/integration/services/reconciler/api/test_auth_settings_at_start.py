"""The API's access settings, checked by real `podrunner` processes: a short or empty token stops
the service (and any command reading settings) with exit 2 and one line; an API opened with
`PODRUNNER_API_AUTH=none` says so in the log as the service starts."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

COMMANDS = [
    pytest.param(["reconciler"], id="reconciler"),
    pytest.param(["launcher"], id="launcher"),
    pytest.param(["status"], id="status"),
    pytest.param(
        ["submit", "--dag-id", "d", "--task-id", "t", "--run-id", "r", "--", "true"], id="submit"
    ),
]


def podrunner(args: list[str], env: dict[str, str], **options: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **options,
    )


@pytest.fixture
def env(service_env: dict[str, str], database_url: Any) -> dict[str, str]:
    return {
        **os.environ,
        **service_env,
        "PODRUNNER_DATABASE_URL": database_url.render_as_string(hide_password=False),
    }


@pytest.mark.timeout(60)
@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    "token", [pytest.param("", id="empty"), pytest.param("x", id="one-char"), "fifteen-chars-x"]
)
def test_a_token_shorter_than_16_characters_exits_2_with_one_line(
    env: dict[str, str], command: list[str], token: str
) -> None:
    process = podrunner(command, {**env, "PODRUNNER_API_TOKEN": token})

    _out, err = process.communicate(timeout=30)

    assert process.returncode == 2, err
    assert err.count("\n") == 1, err
    assert err.startswith("podrunner: invalid settings: PODRUNNER_API_TOKEN: ")
    assert "at least 16 characters" in err
    assert "Traceback" not in err
    if token:
        assert token not in err


@pytest.mark.timeout(60)
def test_auth_none_with_a_token_is_a_contradiction_refused_at_start(env: dict[str, str]) -> None:
    process = podrunner(["reconciler"], {**env, "PODRUNNER_API_AUTH": "none"})

    _out, err = process.communicate(timeout=30)

    assert process.returncode == 2, err
    assert err.count("\n") == 1, err
    assert "choose one" in err


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("extra", "event"),
    [
        pytest.param({"PODRUNNER_API_AUTH": "none"}, "api_open_without_authentication", id="open"),
        pytest.param({}, "api_closed_to_writes", id="closed"),
    ],
)
def test_a_reconciler_without_a_token_warns_at_start(
    env: dict[str, str], extra: dict[str, str], event: str
) -> None:
    without_token = {k: v for k, v in env.items() if k != "PODRUNNER_API_TOKEN"}
    process = podrunner(["reconciler"], {**without_token, **extra})
    try:
        line = wait_for_line(process, event, timeout_s=30)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)

    assert "warning" in line.lower()


def wait_for_line(process: subprocess.Popen[str], text: str, *, timeout_s: float) -> str:
    """The first line of the process's stderr or stdout holding `text`."""
    assert process.stderr is not None
    assert process.stdout is not None
    watching = selectors.DefaultSelector()
    watching.register(process.stderr, selectors.EVENT_READ)
    watching.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout_s
    seen: list[str] = []
    while time.monotonic() < deadline:
        for key, _ in watching.select(timeout=0.5):
            line = key.fileobj.readline()  # type: ignore[union-attr]
            seen.append(line)
            if text in line:
                return str(line)
        assert process.poll() is None, f"the process ended: {''.join(seen)}"
    raise AssertionError(f"no line with {text!r} in: {''.join(seen)}")

"""docker-compose.yml read as data, with its variables interpolated as compose would.

No Docker engine (nor the compose plugin) is where the tests run, so the file is parsed here.
`compose()` is the file with every `${NAME:-default}` at its default and every required
`${NAME:?message}` at `required_value(NAME)`, which is what the tests then check the services'
settings and URLs against. Forms of interpolation not listed in `with_defaults` fail loudly.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import yaml

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def with_defaults(text: str) -> str:
    """`text` as compose interpolates it when only the required variables are set:
    `${NAME:-default}` -> default, and `${NAME:?message}` -> `required_value(NAME)`.

    Only `${NAME}`, `${NAME:-default}` (defaults may nest) and `${NAME:?message}` are accepted, so
    a form this helper does not understand fails the tests instead of being checked wrongly.
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            end = _closing_brace(text, i + 2)
            out.append(_interpolated(text[i + 2 : end]))
            i = end + 1
        else:
            assert text[i] != "$", f"write ${{NAME}}, not a bare $ in {text!r}"
            out.append(text[i])
            i += 1
    return "".join(out)


def required_value(name: str) -> str:
    """What the tests set a required variable (`${NAME:?message}`) to."""
    return f"set-{name.lower().replace('_', '-')}"


def _interpolated(expression: str) -> str:
    name, _, message = expression.partition(":?")
    if message:
        assert _NAME.fullmatch(name), f"unsupported interpolation ${{{expression}}}"
        return required_value(name)
    name, _, default = expression.partition(":-")
    assert _NAME.fullmatch(name), f"unsupported interpolation ${{{expression}}}"
    return with_defaults(default)


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return index
    raise AssertionError(f"unbalanced braces in {text!r}")


def _resolve(value: Any) -> Any:
    if isinstance(value, str):
        return with_defaults(value)
    if isinstance(value, list):
        return [_resolve(item) for item in value]
    if isinstance(value, dict):
        return {key: _resolve(item) for key, item in value.items()}
    return value


@functools.cache
def compose_text() -> str:
    return COMPOSE_FILE.read_text()


@functools.cache
def compose() -> dict[str, Any]:
    """docker-compose.yml with every variable at its default."""
    document = yaml.safe_load(compose_text())
    assert isinstance(document, dict)
    resolved: dict[str, Any] = _resolve(document)
    return resolved


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def service(name: str) -> dict[str, Any]:
    return services()[name]


def environment(name: str) -> dict[str, str]:
    env = service(name).get("environment", {})
    assert isinstance(env, dict), f"{name}: write environment as a mapping"
    return {key: str(value) for key, value in env.items()}


def command(name: str) -> list[str]:
    argv = service(name)["command"]
    assert isinstance(argv, list), f"{name}: write command as a list (exec form)"
    return [str(arg) for arg in argv]

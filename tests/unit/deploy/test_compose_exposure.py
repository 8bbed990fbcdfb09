"""docker compose exposes nothing beyond the machine and starts no store without a password.

Compose publishes a port on every interface unless told otherwise, and the Redis and Postgres
images run without a password (Redis) or with whatever the file says (Postgres). So the file is
held to: every published port bound to 127.0.0.1; Redis started with `--requirepass` and Postgres
with `POSTGRES_PASSWORD`, each from a variable the user must set (`${NAME:?message}`: compose
refuses to start without it, there is no default to fall back to); and the services' URLs
carrying exactly those passwords, so they can still connect.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.support import compose
from tests.unit.deploy.test_compose_file import USES

pytestmark = pytest.mark.timeout(10)

_INTERPOLATION = re.compile(r"\$\{(\w+)(:[-?])?")
PASSWORDS = ("POSTGRES_PASSWORD", "REDIS_PASSWORD")
API_TOKEN = "PODRUNNER_API_TOKEN"


def _raw() -> dict[str, Any]:
    """docker-compose.yml as written, before any variable is interpolated."""
    document: dict[str, Any] = yaml.safe_load(compose.compose_text())
    return document


def _host_ip(entry: object) -> str | None:
    if isinstance(entry, dict):
        return entry.get("host_ip")
    parts = str(entry).split(":")
    return parts[0] if len(parts) == 3 else None


def test_every_published_port_is_bound_to_the_loopback_address() -> None:
    published = {
        name: spec["ports"] for name, spec in compose.services().items() if spec.get("ports")
    }
    assert published, "the reconciler's API is published"
    for name, ports in published.items():
        for entry in ports:
            assert _host_ip(entry) == "127.0.0.1", f"{name} publishes {entry} on every interface"


def test_no_password_or_token_has_a_default_value() -> None:
    for name, form in _INTERPOLATION.findall(compose.compose_text()):
        if re.search(r"PASSWORD|TOKEN|SECRET", name):
            assert form == ":?", f"${{{name}}} must be required (${{{name}:?...}}), not defaulted"


def test_redis_requires_a_password_the_user_sets_and_its_healthcheck_uses_it() -> None:
    redis = _raw()["services"]["redis"]
    argv = [str(arg) for arg in redis["command"]]
    password = argv[argv.index("--requirepass") + 1]
    assert password.startswith("${REDIS_PASSWORD:?")
    assert redis["environment"]["REDISCLI_AUTH"] == password
    assert compose.service("redis")["healthcheck"]["test"][1] == "redis-cli"


def test_postgres_takes_its_password_from_a_variable_the_user_sets() -> None:
    postgres = _raw()["services"]["postgres"]
    assert postgres["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


@pytest.mark.parametrize("name", sorted(USES))
def test_each_podrunner_process_connects_with_the_passwords_the_stores_require(name: str) -> None:
    env = compose.environment(name)
    redis_password = compose.required_value("REDIS_PASSWORD")
    if "redis" in USES[name]:
        assert urlsplit(env["PODRUNNER_REDIS_URL"]).password == redis_password
    if "postgres" in USES[name]:
        database = urlsplit(env["PODRUNNER_DATABASE_URL"])
        assert database.password == compose.environment("postgres")["POSTGRES_PASSWORD"]
        assert database.password == compose.required_value("POSTGRES_PASSWORD")


def test_the_required_variables_are_the_passwords_and_the_token_and_the_header_shows_them() -> None:
    required = {
        name for name, form in _INTERPOLATION.findall(compose.compose_text()) if form == ":?"
    }
    assert required == {*PASSWORDS, API_TOKEN}
    header = compose.compose_text().split("\nname:", 1)[0]
    for secret in (*PASSWORDS, API_TOKEN):
        assert f"{secret}=" in header


def test_the_reconciler_takes_the_api_token_the_user_sets() -> None:
    assert compose.environment("reconciler")["PODRUNNER_API_TOKEN"] == compose.required_value(
        API_TOKEN
    )

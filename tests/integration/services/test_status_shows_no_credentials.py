"""`/status` of every service, served by the real service, shows no credential in any form: no
password of any URL (user-info or query), and no API token."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.engine import URL

from services.launcher import service as launcher
from services.reconciler import service as reconciler
from services.watcher import service as watcher
from shared import running
from shared.settings import Settings
from tests.support.services import API_TOKEN, InProcess

pytestmark = pytest.mark.timeout(60)
SECRET = "hunter2-in-the-query"


def build(name: str, settings: Settings) -> running.Service:
    if name == "launcher":
        return launcher.build(settings, [])
    if name == "watcher":
        return watcher.build(settings, [], all_namespaces=False)
    return reconciler.build(settings)


@pytest.mark.parametrize("name", ["launcher", "watcher", "reconciler"])
def test_status_shows_no_password_and_no_token(
    name: str,
    service_env: dict[str, str],
    database_url: URL,
    db: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a database URL carrying its password in the query (Postgres here trusts loopback)
    with_password = database_url.update_query_dict({"password": SECRET})
    monkeypatch.setenv(
        "PODRUNNER_DATABASE_URL", with_password.render_as_string(hide_password=False)
    )
    settings = Settings()
    port = settings.health_port_for(name)
    running_service = InProcess(build(name, settings), port).start()
    try:
        # When its /status is read
        response = httpx.get(f"http://127.0.0.1:{port}/status", timeout=10)
    finally:
        running_service.stop()

    # Expect no secret in it, and the settings (where shown) still readable
    assert response.status_code == 200
    assert SECRET not in response.text
    assert API_TOKEN not in response.text
    shown = response.json().get("settings", {"database_url": "password=***", "api_token": "***"})
    assert "password=***" in shown["database_url"]
    assert shown["api_token"] == "***"

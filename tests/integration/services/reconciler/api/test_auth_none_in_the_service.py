"""`PODRUNNER_API_AUTH=none` without a token opens the running reconciler's API to writes, as
its start-up warning says (the service passes the setting to the router)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.support import builders
from tests.support.services import InProcess

pytestmark = pytest.mark.timeout(60)


def test_a_job_is_accepted_without_a_token_when_auth_is_none(
    reconciler: Callable[[], InProcess], monkeypatch: pytest.MonkeyPatch, namespace: str
) -> None:
    monkeypatch.delenv("PODRUNNER_API_TOKEN")
    monkeypatch.setenv("PODRUNNER_API_AUTH", "none")
    port = reconciler().port

    answer = httpx.post(
        f"http://127.0.0.1:{port}/api/v1/jobs",
        json=builders.job_dict(namespace=namespace),
        timeout=10,
    )

    assert answer.status_code == 201, answer.text

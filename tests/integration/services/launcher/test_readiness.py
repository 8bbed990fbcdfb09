"""/readyz says which dependency does not answer."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml

from services.launcher import service
from shared.settings import Settings
from tests.support.kubesim import free_port


def test_readyz_fails_naming_the_kubernetes_api_when_it_does_not_answer(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    server = f"http://127.0.0.1:{free_port()}"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "gone", "cluster": {"server": server}}],
                "users": [{"name": "gone", "user": {}}],
                "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "gone"}}],
                "current-context": "gone",
            }
        )
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    built = service.build(Settings(), [])
    thread = threading.Thread(target=built.run, name="launcher")
    thread.start()
    try:
        url = f"http://127.0.0.1:{env['PODRUNNER_HEALTH_PORT']}/readyz"
        deadline = time.monotonic() + 15
        response = None
        while time.monotonic() < deadline:
            try:
                response = httpx.get(url, timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert response is not None
        assert response.status_code == 503
        checks = response.json()["checks"]
        assert checks["redis"] == "ok"
        assert checks["broker"] == "ok"
        assert checks["kubernetes"].startswith("error: ")
    finally:
        built.stop.set()
        thread.join(30)

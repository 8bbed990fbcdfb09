"""A kubesim cluster for service tests: namespaces, pods, faults and request logs over HTTP."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.kubesim import KubesimProcess


@dataclass
class Cluster:
    sim: KubesimProcess
    http: httpx.Client

    def new_namespace(self) -> str:
        name = f"t-{uuid.uuid4().hex[:10]}"
        response = self.http.post("/api/v1/namespaces", json={"metadata": {"name": name}})
        assert response.status_code == 201, response.text
        return name

    def pods(self, namespace: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.http.get(f"/api/v1/namespaces/{namespace}/pods").json()[
            "items"
        ]
        return items

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.request(method, f"/kubesim/{path}", json=body)
        response.raise_for_status()
        return response.json()

    def clock(self) -> float:
        """kubesim's clock, the one its request log uses."""
        return float(self.admin("GET", "requests")["now"])

    def requests_since(self, since: float, verb: str) -> list[tuple[float, int]]:
        """(time, status) of the `verb` requests kubesim served after `since` (status 0 = ok)."""
        log = self.admin("GET", "requests")["requests"]
        return [(at, status) for at, seen, status in log if seen == verb and at > since]

    def wait_for_pods(
        self, namespace: str, count: int, *, timeout_s: float = 20
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            pods = self.pods(namespace)
            if len(pods) >= count:
                return pods
            time.sleep(0.05)
        raise AssertionError(f"{count} pods did not appear in {namespace} within {timeout_s}s")

"""The reconciler's HTTP API as the demo uses it: submit jobs, list a run's tasks, read a log.

Plain `urllib`, so the demo needs nothing beyond podrunner's runtime dependencies. The API is the
one a user would call; going through it shows the intake path every client takes.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

#: Rows asked for per page when listing a run's tasks (the API's largest page).
PAGE = 1000


class ApiFailed(Exception):
    """The API refused a request or could not be reached; the message says what it answered."""


class ApiClient:
    def __init__(self, base_url: str, *, token: str | None = None, timeout_s: float = 30) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._timeout_s = timeout_s

    def submit(self, job: dict[str, Any]) -> None:
        """`POST /api/v1/jobs`: the job is recorded and queued (201, or 202 to be published)."""
        self._call("POST", "/api/v1/jobs", json.dumps(job).encode())

    def tasks(self, run_id: str) -> list[dict[str, Any]]:
        """Every task row of `run_id`, following the API's pages."""
        rows: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            query = {"run_id": run_id, "limit": str(PAGE)} | ({"cursor": cursor} if cursor else {})
            page = json.loads(self._call("GET", "/api/v1/tasks?" + urllib.parse.urlencode(query)))
            rows += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return rows

    def log(self, key: tuple[str, str, str, int], *, lines: int) -> str:
        """The last `lines` lines of a task's log (from its pod, or as stored)."""
        path = "/".join(urllib.parse.quote(str(part), safe="") for part in key)
        return self._call("GET", f"/api/v1/tasks/{path}/logs?lines={lines}").decode(
            errors="replace"
        )

    def _call(self, method: str, path: str, body: bytes | None = None) -> bytes:
        request = urllib.request.Request(  # noqa: S310 - the demo's own loopback URL
            self.base_url + path, data=body, method=method, headers=self._headers(body)
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:  # noqa: S310
                return bytes(response.read())
        except urllib.error.HTTPError as error:
            raise ApiFailed(f"{method} {path}: {error.code} {_message(error.read())}") from error
        except (urllib.error.URLError, OSError) as error:
            raise ApiFailed(f"{method} {path}: {error}") from error

    def _headers(self, body: bytes | None) -> dict[str, str]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers


def _message(body: bytes) -> str:
    try:
        return str(json.loads(body)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return body.decode(errors="replace")[:200]

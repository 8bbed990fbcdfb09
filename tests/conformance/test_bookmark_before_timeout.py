"""With `allowWatchBookmarks`, a BOOKMARK comes about 2 s before the watch's timeout ends it.

The watch cache sends it whenever the revision moved past the watch's start, even when the watch's
own last event already carried that revision, so a client can resume from the latest state.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest

from tests.conformance.conftest import Target, pod_body

TIMEOUT_S = 5


@pytest.mark.timeout(30)
def test_a_bookmark_comes_shortly_before_the_watch_times_out(
    target: Target, namespace: str
) -> None:
    path = f"/api/v1/namespaces/{namespace}/pods"
    rv = target.http.get(path).json()["metadata"]["resourceVersion"]
    params = {
        "watch": "1",
        "resourceVersion": rv,
        "allowWatchBookmarks": "true",
        "timeoutSeconds": str(TIMEOUT_S),
    }
    arrivals: list[tuple[float, dict[str, Any]]] = []
    with target.http.stream("GET", path, params=params, timeout=TIMEOUT_S + 10) as response:
        assert response.status_code == 200
        started = time.monotonic()
        assert target.http.post(path, json=pod_body("moved")).status_code == 201
        for line in response.iter_lines():
            arrivals.append((time.monotonic() - started, orjson.loads(line)))
        ended = time.monotonic() - started
    bookmarks = [(at, event) for at, event in arrivals if event["type"] == "BOOKMARK"]
    assert bookmarks, [event["type"] for _, event in arrivals]
    at, last = bookmarks[-1]
    assert TIMEOUT_S - 3.5 <= at <= ended, (at, ended)
    assert int(last["object"]["metadata"]["resourceVersion"]) > int(rv)

"""Idle keep-alive: a connection left idle longer than uvicorn's 5 s default is still served.

kube-apiserver keeps idle connections 90 s; pooled clients (aiohttp, urllib3) reuse a connection
after a pause and fail with a disconnect if the server closed it meanwhile.
"""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conformance.conftest import Target

IDLE_S = 6.0


def _local_port(response: httpx.Response) -> int:
    stream = response.extensions["network_stream"]
    return int(stream.get_extra_info("socket").getsockname()[1])


@pytest.mark.timeout(30)
def test_a_connection_idle_for_longer_than_five_seconds_is_reused(target: Target) -> None:
    # the client's own pool must keep it longer than that (httpx's default expiry is also 5 s)
    limits = httpx.Limits(keepalive_expiry=60)
    with httpx.Client(
        base_url=target.url, headers=target.http.headers, timeout=10, limits=limits
    ) as http:
        first = http.get("/version")
        port = _local_port(first)
        time.sleep(IDLE_S)
        second = http.get("/version")
        assert first.status_code == second.status_code == 200
        assert _local_port(second) == port, "the server closed the idle connection"

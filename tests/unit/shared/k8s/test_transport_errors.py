"""Transport failures are told apart: a refused connection is not a timeout."""

from __future__ import annotations

import pytest
import urllib3
from urllib3.connection import HTTPConnection
from urllib3.connectionpool import HTTPConnectionPool

from shared.k8s import errors

REFUSED = urllib3.exceptions.NewConnectionError(HTTPConnection("127.0.0.1", 9), "refused")


def test_a_refused_connection_says_unreachable() -> None:
    assert "Kubernetes API unreachable" in str(errors.from_transport_error(REFUSED))


def test_a_read_timeout_says_timed_out() -> None:
    pool = HTTPConnectionPool("127.0.0.1", 9)
    slow = urllib3.exceptions.ReadTimeoutError(pool, "/api", "read timed out")
    assert "Kubernetes API timed out" in str(errors.from_transport_error(slow))


def test_both_are_unavailable_errors_for_the_caller_to_retry() -> None:
    with pytest.raises(errors.Unavailable), errors.translating():
        raise REFUSED

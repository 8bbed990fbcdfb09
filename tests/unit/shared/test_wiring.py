"""What the three services' wiring shares: the namespaces a replica serves, its identity, and the
readiness checks every service has."""

from __future__ import annotations

import pytest

from shared import wiring
from shared.outages import Outages
from shared.settings import Settings


def configured(*namespaces: str) -> Settings:
    return Settings(namespaces=namespaces)


def test_a_replica_serves_every_configured_namespace_when_none_is_asked_for() -> None:
    assert wiring.served_namespaces(configured("a", "b"), []) == ("a", "b")


def test_a_replica_serves_the_configured_namespaces_it_is_asked_for() -> None:
    assert wiring.served_namespaces(configured("a", "b"), ["b"]) == ("b",)


def test_a_namespace_not_configured_is_a_configuration_error_naming_it() -> None:
    with pytest.raises(wiring.ConfigurationError, match="not in PODRUNNER_NAMESPACES: c, d"):
        wiring.served_namespaces(configured("a"), ["d", "a", "c"])


def test_two_replica_identities_of_one_process_differ() -> None:
    assert wiring.replica_identity() != wiring.replica_identity()


def test_readiness_checks_redis_the_api_server_and_the_work_loops_besides_its_own() -> None:
    outages = Outages()
    outages.failed("apply-0", "Postgres is down")
    readiness = wiring.readiness(
        redis=lambda: None, kubernetes=lambda: None, outages=outages, db=lambda: None
    )
    try:
        results = readiness.results()
    finally:
        readiness.close()
    assert list(results) == ["redis", "db", "kubernetes", "work"]
    assert results["redis"] == results["db"] == results["kubernetes"] == "ok"
    assert "Postgres is down" in results["work"]

"""An outage as work loops report it: logged once, and named by readiness until it is over."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from shared.outages import NotReady, Outages


def test_an_outage_is_logged_once_however_many_passes_fail_and_once_when_it_ends() -> None:
    outages = Outages()
    with capture_logs() as logs:
        for _ in range(50):
            outages.failed("apply-0", "Connection refused")
        outages.recovered("apply-0")
        outages.recovered("apply-0")
    assert [entry["event"] for entry in logs] == ["dependency_unavailable", "dependency_recovered"]


def test_readiness_names_every_loop_cut_off_or_rebuilding_until_each_recovers() -> None:
    outages = Outages()
    outages.failed("consume-jobs", "Connection refused")
    outages.rebuilding("watch-jobs", "its pod events")
    with pytest.raises(NotReady, match="consume-jobs failing: Connection refused") as raised:
        outages.check()
    assert "watch-jobs rebuilding its pod events" in str(raised.value)
    outages.recovered("consume-jobs")
    outages.recovered("watch-jobs")
    outages.check()

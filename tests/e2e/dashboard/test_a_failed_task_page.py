"""A failed task's page shows why it failed, its log's tail and its pod's events; the Failures
view groups it with the others of its reason, and the Flow view counts it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.dashboard.conftest import Dashboard, screenshot
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(120)


def test_the_page_of_a_failed_task_shows_its_reason_log_tail_and_pod_events(
    dashboard: Dashboard, page: Page
) -> None:
    dashboard.submit("ok-1")
    dashboard.submit("ok-2")
    dashboard.submit("parse", exit_code="3", log="reading rows\nbad row 17: no date")
    dashboard.submit("parse-again", exit_code="3", log="bad row 18")
    dashboard.submit("memory", oom="true")
    wait_until(
        lambda: (
            set(dashboard.states().values()) <= {"success", "failed"}
            and len(dashboard.states()) == 5
        ),
        timeout_s=40,
        what="five ended tasks",
    )
    dashboard.open(page, "tasks?state=failed&sort=task_id&order=asc")
    expect(page.locator("#tasks-range")).to_have_attribute("data-total", "3")

    page.click('#tasks tbody tr[data-task="parse"]')

    expect(page.locator("#task-reason")).to_have_text("Error (exit 3)")
    expect(page.locator("#task-log")).to_contain_text("bad row 17: no date")
    expect(page.locator('#task-row tr[data-field="exit_code"] td')).to_have_text("3")
    expect(page.locator('#task-events tbody tr[data-phase="Failed"]')).not_to_have_count(0)
    expect(page.locator('#task-events tbody tr[data-phase="Pending"]')).not_to_have_count(0)
    screenshot(page, "task")

    page.click('nav a[data-view="failures"]')
    group = page.locator('#failures tr[data-reason="Error (exit 3)"]')
    expect(group.locator("td").nth(2)).to_have_text("2")
    expect(page.locator('#failures tr[data-reason="OOMKilled (exit 137)"]')).to_have_count(1)
    screenshot(page, "failures")
    group.locator("td").nth(1).locator("a").click()
    expect(page.locator("#tasks-range")).to_have_attribute("data-total", "2")

    page.click('nav a[data-view="flow"]')
    expect(page.locator('#chart polyline[data-series="finished"]')).to_have_count(1)
    expect(page.locator("#latency .tile")).to_have_count(4)
    screenshot(page, "flow")

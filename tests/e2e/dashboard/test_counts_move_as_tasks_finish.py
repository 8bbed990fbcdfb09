"""The Now view follows the tasks by itself: as they finish, its counts move, with no reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.dashboard.conftest import Dashboard, screenshot

pytestmark = pytest.mark.timeout(120)


def test_the_success_count_rises_as_tasks_finish_without_a_reload(
    dashboard: Dashboard, page: Page
) -> None:
    dashboard.open(page)
    success = page.locator('[data-total="success"] .value')
    expect(success).to_have_text("0")
    page.evaluate("window.notReloaded = true")

    for n in range(3):
        dashboard.submit(f"sleep-{n}", run_seconds="2", log="working")
    expect(page.locator('[data-total="running"] .value')).not_to_have_text("0", timeout=20_000)
    expect(success).to_have_text("3", timeout=30_000)

    assert page.evaluate("window.notReloaded") is True, "the page was reloaded"
    row = page.locator('#namespaces tr[data-namespace="jobs"]')
    expect(row.locator('[data-state="success"]')).to_have_text("3")
    expect(page.locator('#replicas tr[data-service="launcher"]')).to_have_count(1)
    expect(page.locator('#replicas tr[data-service="watcher"]')).to_have_count(1)
    expect(page.locator('#replicas tr[data-service="reconciler"]')).to_contain_text("ok")
    screenshot(page, "now")

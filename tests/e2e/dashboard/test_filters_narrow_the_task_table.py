"""The Tasks view's filters narrow the table, answered by the server one page at a time."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.dashboard.conftest import Dashboard, screenshot
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(120)


def test_a_dag_filter_and_a_state_filter_narrow_the_table(dashboard: Dashboard, page: Page) -> None:
    for n in range(4):
        dashboard.submit(f"load-{n}", dag_id="etl")
    for n in range(2):
        dashboard.submit(f"train-{n}", dag_id="ml", exit_code="2")
    wait_until(lambda: len(dashboard.states()) == 6, timeout_s=30, what="six rows")
    dashboard.open(page, "tasks")
    expect(page.locator("#tasks-range")).to_have_attribute("data-total", "6")

    page.fill('#filters input[name="dag_id"]', "ml")
    page.click('#filters button[type="submit"]')

    expect(page.locator("#tasks-range")).to_have_attribute("data-total", "2")
    expect(page.locator("#tasks tbody tr")).to_have_count(2)
    for cell in page.locator("#tasks tbody tr td:first-child").all():
        expect(cell).to_have_text("ml")
    assert "dag_id=ml" in page.url, "the filter is in the address, so it can be shared"
    page.fill('#filters input[name="dag_id"]', "")
    page.select_option('#filters select[name="state"]', "failed")
    page.click('#filters button[type="submit"]')
    expect(page.locator("#tasks-range")).to_have_attribute("data-total", "2", timeout=30_000)
    expect(page.locator('#tasks tbody [data-state="failed"]')).to_have_count(2)
    page.click('#filters button[type="reset"]')
    expect(page.locator("#tasks-range")).to_have_attribute("data-total", "6")
    screenshot(page, "tasks")

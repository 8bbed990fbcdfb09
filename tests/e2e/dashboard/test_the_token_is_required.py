"""The dashboard shows nothing without the API's token: its data answers 401, and the page asks
for the token, refuses a wrong one, and shows the views once given the right one."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.dashboard.conftest import Dashboard
from tests.support.services import API_TOKEN

pytestmark = pytest.mark.timeout(120)


DATA = ["now", "flow", "failures", "tasks", "task?dag_id=etl&task_id=hello&run_id=r1&map_index=-1"]


def test_without_the_token_the_data_answers_401_and_the_page_asks_for_it(
    dashboard: Dashboard, page: Page
) -> None:
    dashboard.submit("hello")
    for path in DATA:
        refused = httpx.get(f"{dashboard.url}/ui/data/{path}")
        wrong = httpx.get(f"{dashboard.url}/ui/data/{path}", headers={"Authorization": "Bearer x"})
        assert refused.status_code == 401, path
        assert wrong.status_code == 401, path
        assert refused.headers["www-authenticate"] == "Bearer"

    page.goto(f"{dashboard.url}/")

    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#login-error")).to_have_text("a token is required")
    expect(page.locator("#view-now")).to_be_hidden()
    page.fill("#token", "not-the-token")
    page.click('#login-form button[type="submit"]')
    expect(page.locator("#login-error")).to_have_text("the token was refused")
    expect(page.locator("#namespaces tbody tr")).to_have_count(0)
    page.fill("#token", API_TOKEN)
    page.click('#login-form button[type="submit"]')
    expect(page.locator("#view-now")).to_be_visible()
    expect(page.locator("#login")).to_be_hidden()
    expect(page.locator('#namespaces tr[data-namespace="jobs"]')).to_have_count(1)

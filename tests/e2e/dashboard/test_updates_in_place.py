"""The page updates itself in place: a part whose data did not change is not redrawn (so nothing
flickers), and polling stops while the tab is hidden and resumes the moment it is shown."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.dashboard.conftest import Dashboard
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(120)

#: Notes the time of every request for data, in the page's own clock.
COUNT_POLLS = """
window.polls = [];
const fetched = window.fetch;
window.fetch = (url, options) => {
  if (String(url).startsWith("/ui/data/")) window.polls.push(performance.now());
  return fetched(url, options);
};
"""
#: Hides or shows the tab, as the browser does when another tab is chosen; answers when.
SET_HIDDEN = """hidden => {
  const at = performance.now();
  Object.defineProperty(document, "hidden", { value: hidden, configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
  return at;
}"""


def polls(page: Page) -> list[float]:
    found: list[float] = page.evaluate("window.polls")
    return found


def test_unchanged_parts_stay_and_polling_pauses_while_hidden(
    dashboard: Dashboard, page: Page
) -> None:
    dashboard.submit("hello")
    wait_until(lambda: dashboard.states() == {"hello": "success"}, timeout_s=30, what="success")
    page.add_init_script(COUNT_POLLS)
    dashboard.open(page)
    expect(page.locator('#namespaces [data-state="success"]')).to_have_text("1")
    page.evaluate("document.querySelector('#namespaces tbody tr').dataset.mark = 'kept'")
    wait_until(lambda: len(polls(page)) >= 4, timeout_s=20, what="more polls")
    assert page.locator("#namespaces tbody tr").get_attribute("data-mark") == "kept", "redrawn"

    hidden_at = page.evaluate(SET_HIDDEN, True)
    page.wait_for_timeout(5000)
    shown_at = page.evaluate(SET_HIDDEN, False)
    wait_until(lambda: polls(page)[-1] >= shown_at, timeout_s=5, what="a poll once shown")

    assert [at for at in polls(page) if hidden_at < at < shown_at] == [], "polled while hidden"

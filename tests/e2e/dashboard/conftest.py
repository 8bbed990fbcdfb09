"""The dashboard in a real headless Chromium (Playwright), against a running stack.

The browser is the machine's Chromium (`CHROMIUM`, Debian's `chromium` package, which
`make browser` installs); Playwright never downloads one of its own. Each test gets the three
services as processes over kubesim, the machine's Redis and Postgres, and a page of 1280x800.
Screenshots of the views go to `build/dashboard/`, where a person (or the README) can take them.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, sync_playwright

from tests.e2e.conftest import Stack
from tests.support.services import API_HEADERS, API_TOKEN

#: The machine's Chromium (override with PODRUNNER_TEST_CHROMIUM).
CHROMIUM = os.environ.get("PODRUNNER_TEST_CHROMIUM", "/usr/bin/chromium")
#: Where the screenshots of the views are saved.
SCREENSHOTS = Path("build/dashboard")
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}


# Per test, not per session: Playwright's event loop keeps threads of its own, which the suite's
# guard would count as leaked by whichever test first made it start one.
@pytest.fixture
def playwright() -> Iterator[Playwright]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make browser` (apt-get install chromium)")
    with sync_playwright() as running:
        yield running


@pytest.fixture
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    yield page
    context.close()


@dataclass
class Dashboard:
    """The reconciler's dashboard and API, of a stack that runs for the test."""

    url: str

    def submit(self, task_id: str, *, dag_id: str = "etl", **behaviour: str) -> None:
        """Submit a task whose pod does what the `kubesim.podrunner.io/*` annotations say."""
        notes = {
            f"kubesim.podrunner.io/{name.replace('_', '-')}": v for name, v in behaviour.items()
        }
        job = {
            "version": 1,
            "dag_id": dag_id,
            "task_id": task_id,
            "run_id": "r1",
            "try_number": 1,
            "command": ["true"],
            "pod_override": {"metadata": {"annotations": notes}},
        }
        answer = httpx.post(f"{self.url}/api/v1/jobs", content=json.dumps(job), headers=API_HEADERS)
        assert answer.status_code == 201, answer.text

    def states(self) -> dict[str, str]:
        headers = {"Authorization": API_HEADERS["Authorization"]}
        listed: dict[str, Any] = httpx.get(f"{self.url}/api/v1/tasks", headers=headers).json()
        return {task["task_id"]: task["state"] for task in listed["items"]}

    def open(self, page: Page, view: str = "now") -> None:
        """Open the page on `view`, logged in with the API token."""
        page.goto(f"{self.url}/ui/#token={API_TOKEN}")
        page.wait_for_selector("#view-now:not([hidden])")
        if view != "now":
            page.goto(f"{self.url}/ui/#/{view}")


@pytest.fixture
def dashboard(services: Stack, db: sqlalchemy.Engine) -> Dashboard:
    """The stack's dashboard (`db`: the table is empty when the test starts)."""
    services("launcher", "watcher", "reconciler")
    return Dashboard(f"http://127.0.0.1:{services.ports['reconciler']}")


def screenshot(page: Page, name: str) -> None:
    """Save the page as `build/dashboard/<name>.png`."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

"""The dashboard in a real browser: Debian's Chromium driven by Playwright (``-m browser``).

Skipped with the reason where Chromium or Playwright is missing (a failure under CI, which installs both).
``STATION_SCREENSHOTS=docs`` also writes the screenshots docs/dashboard.md shows.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from station.dashboard.app import build_app
from station.dashboard.server import Background
from station.dashboard.source import Source
from station.records.line.sync import sync
from station.records.store.postgres import PostgresStore
from tests.dashboard.conftest import FAILURES, Line
from tests.requirements import missing

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("STATION_CHROMIUM", "/usr/bin/chromium")
WAIT_MS = 30_000  # Playwright's own waits end with an error after this; a live record takes ~1 s


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright is not installed (pip install playwright; the test extra has it)")
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def served(synced_line: tuple[Line, str]) -> Iterator[tuple[Line, str, str]]:
    """The dashboard over the line database, polling it 5 times a second: (line, address, database URL)."""
    line, url = synced_line
    with Background(build_app(Source(url), poll=0.2, tick=2)) as address:
        yield line, address, url


@pytest.fixture
def page(browser: Any, tmp_path: Path) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(WAIT_MS)
    problems: list[str] = []
    opened.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    opened.on("pageerror", lambda error: problems.append(str(error)))
    opened.problems = problems
    yield opened
    context.close()


def _shot(page: Any, name: str, tmp_path: Path, **options: Any) -> None:
    folder = os.environ.get("STATION_SCREENSHOTS")
    page.screenshot(path=str((Path(folder) if folder else tmp_path) / f"dashboard-{name}.png"), **options)


def test_every_page_loads_without_a_console_error(
    served: tuple[Line, str, str], page: Any, tmp_path: Path
) -> None:
    line, address, _url = served
    paths = {
        "line": "/",
        "failures": "/failures?window=day",
        "unit": f"/unit?q={line.passed[0].devid}",
        "record": f"/record/{line.failed[0].record_id}",
        "profiles": "/profiles",
        "report": "/report",
    }
    for name, path in paths.items():
        answer = page.goto(address + path)
        assert answer is not None and answer.status == 200, path
        page.wait_for_load_state("load")
        if name in ("line", "failures", "profiles"):
            page.wait_for_selector("#live-status.on")  # the event stream is open
        _shot(page, name, tmp_path, full_page=name != "line")
        assert page.problems == [], f"{path}: {page.problems}"
    page.emulate_media(media="print")
    page.goto(address + "/report")
    assert page.locator("header.top").is_hidden()  # the print style leaves the navigation out
    _shot(page, "report-print", tmp_path, full_page=True)
    assert page.problems == []


def test_a_record_synced_during_the_test_appears_live(served: tuple[Line, str, str], page: Any) -> None:
    line, address, url = served
    page.goto(address + "/")
    page.wait_for_selector("#live-status.on")
    record = line.add_pass()
    started = time.monotonic()
    assert sync(line.store, PostgresStore(url), line.key.public_key()).ok
    page.wait_for_selector(f"#table-latest >> text={record.record_id}")
    delay = time.monotonic() - started
    print(f"live delay: {delay:.2f} s")  # the bench reports it; here it only has to arrive
    assert page.problems == []


def test_search_finds_a_unit_and_shows_its_verification(served: tuple[Line, str, str], page: Any) -> None:
    line, address, _url = served
    page.goto(address + "/unit")
    page.keyboard.press("/")  # the search shortcut
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type(line.passed[0].devid or "")
    page.keyboard.press("Enter")
    page.wait_for_url("**/unit?q=*")
    rows = page.locator("#table-history tbody tr")
    assert rows.count() == 2  # production and QA
    assert page.locator("#table-history .mark-pass", has_text="verified").count() == 2
    assert page.locator("#table-history", has_text="valid (key").count() == 1
    assert page.problems == []


def test_the_pareto_totals_equal_the_records(served: tuple[Line, str, str], page: Any) -> None:
    line, address, _url = served
    page.goto(address + "/failures?window=day")
    header = page.locator("#table-pareto thead th").all_inner_texts()
    column = header.index("TOTAL") if "TOTAL" in header else [h.lower() for h in header].index("total")
    totals = page.locator(f"#table-pareto tbody tr td:nth-child({column + 1})").all_inner_texts()
    assert sum(int(total) for total in totals) == len(line.failed) == sum(n for *_, n in FAILURES)
    page.locator("#table-pareto a", has_text="records").first.click()
    page.wait_for_url("**/failures/records?*")
    assert page.locator("#table-records tbody tr").count() == FAILURES[0][-1]
    assert page.problems == []


def test_keyboard_navigation(served: tuple[Line, str, str], page: Any) -> None:
    _, address, _ = served
    page.goto(address + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.goto(address + "/")
    for _ in range(3):  # skip link, Line, Failures
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Failures"
    page.keyboard.press("Enter")
    page.wait_for_url("**/failures")
    assert page.locator("nav[aria-label=Pages] a[aria-current=page]").inner_text() == "Failures"
    assert page.problems == []

"""A buyer's report in real headless Chromium: readable with scripts off, asks for nothing,
and prints to A4 pages with its charts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from laborgraph.app.questions import Questions
from laborgraph.app.report import buyer_report
from laborgraph.graph.embedded import EmbeddedStore
from laborgraph.ingest.load import ingest_path
from laborgraph.visualize.report import render_report_html
from tests.browser.conftest import EXAMPLE
from tests.browser.pages import Site
from tests.test_api import make_settings

A4_POINTS = (595, 842)  # 210 × 297 mm


@pytest.fixture(scope="module")
def report_url(site: Site, tmp_path_factory: pytest.TempPathFactory) -> str:
    data = tmp_path_factory.mktemp("report")
    store = EmbeddedStore(data)
    ingest_path(store, EXAMPLE)
    ingest_path(store, EXAMPLE.parent / "ai-supply-chain-review-2")
    report = buyer_report(Questions(store, make_settings("embedded", data)), "org-nimbus")
    return site.put("report-nimbus.html", render_report_html(report))


def test_the_report_reads_with_scripts_off_and_asks_for_nothing(browser: Browser, report_url: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    requests: list[str] = []
    console: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: console.append(m.text))
    page.goto(report_url)
    assert requests == [report_url] and console == []
    assert page.locator("h1").inner_text() == "Nimbus Intelligence"
    heat = page.locator("table.heat")
    assert heat.is_visible() and heat.locator("td.cell:not(.empty)").count() == 16
    critical = heat.locator("tbody tr").first.locator("td.cell:not(.empty)")
    assert critical.count() == 1 and "650" in critical.inner_text()  # one critical cohort, 650 workers
    assert page.locator("svg.bars rect").count() == 3  # tiers 0, 1 and 2
    for name in ("headline", "risk-paths", "changes", "actions", "gaps", "fragmentation", "scorecards"):
        assert page.locator(f"section#{name}").is_visible(), name
    context.close()


def test_it_prints_to_a4_pages(browser: Browser, report_url: str, tmp_path: Path) -> None:
    page = browser.new_page()
    page.goto(report_url)
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    (tmp_path / "report.pdf").write_bytes(pdf)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert 3 <= len(boxes) <= 20, f"{len(boxes)} pages"
    assert {(round(float(w)), round(float(h))) for w, h in boxes} == {A4_POINTS}
    # Nothing is wider than the page: the widest element fits the printable width.
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    page.close()

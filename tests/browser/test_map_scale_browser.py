"""A chain too large to draw one by one, served by the real app to a real headless Chromium:
the front door lists buyers, a buyer's map opens within its budget, a group opens as a page
of its own, a cohort inside shows its facts, and a risk path highlights through groups.
Offline: the only requests are the pages themselves."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.request import urlopen

import pytest
from playwright.sync_api import Browser

from laborgraph.app.main import create_app
from laborgraph.graph.embedded import EmbeddedStore
from laborgraph.visualize.budget import MAX_NODES
from tests.browser.generate import large_chain
from tests.browser.pages import Visit, open_map
from tests.served import serving
from tests.test_api import make_settings

MAX_PAGE_BYTES = 2 * 2**20


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a loopback port over 6,700 organizations and cohorts."""
    settings = make_settings("embedded", tmp_path_factory.mktemp("served-large"))
    EmbeddedStore(Path(settings.data_dir)).write(large_chain(cohorts=6000))
    with serving(create_app(settings)) as base_url:
        yield base_url


def only_pages(visit: Visit, origin: str) -> None:
    """Nothing was fetched but the pages, from the app itself; nothing went wrong."""
    assert all(url.startswith(origin + "/") for url in visit.requests), visit.requests
    assert visit.errors == [] and visit.console == [] and visit.dialogs == []


def test_front_door_to_a_cohorts_evidence_in_two_clicks(
    browser: Browser, served: str, request: pytest.FixtureRequest
) -> None:
    page = browser.new_page(viewport={"width": 1600, "height": 1000})  # type: ignore[arg-type]
    front = Visit(page, served + "/")
    page.on("request", lambda r: front.requests.append(r.url))
    page.on("pageerror", lambda e: front.errors.append(str(e)))
    page.on("console", lambda m: front.console.append(m.text) if m.type in ("error", "warning") else None)
    try:
        reply = page.goto(served + "/")
        assert reply is not None and reply.ok and len(reply.body()) < MAX_PAGE_BYTES
        assert "Pick a viewpoint" in str(page.text_content("#buyers"))
        assert page.locator("a.open-map").count() == 5
        # Click one: the chain of the buyer whose decisions create the worst risks.
        started = time.perf_counter()
        with page.expect_navigation():
            page.click("a.open-map >> nth=0")
        page.wait_for_selector("body[data-ready=true]", state="attached", timeout=30_000)
        request.node.user_properties.append(
            ("buyer map seconds to interactive", time.perf_counter() - started)
        )
        nodes = page.evaluate("window.laborgraph.data.nodes.length")
        assert 0 < nodes <= MAX_NODES
        assert "Chain of" in str(page.text_content("nav.trail"))
        # Click two: a group of workers opens as a map of its organization's neighbourhood.
        group = page.evaluate(
            """() => window.laborgraph.data.nodes
                .filter(n => n.kind === "cohort_group" && n.severity)
                .sort((a, b) => b.severity - a.severity || b.cohort_count - a.cohort_count)[0].id"""
        )
        page.evaluate("id => window.laborgraph.network.focus(id, {scale: 1.5})", group)
        x, y = Visit(page, page.url).node_center(group)
        with page.expect_navigation():
            page.mouse.click(x, y)
        page.wait_for_selector("body[data-ready=true]", state="attached", timeout=30_000)
        assert "Around " in str(page.text_content("nav.trail [aria-current]"))
        cohort = page.evaluate(
            """() => window.laborgraph.data.nodes
                .filter(n => n.kind === "cohort" && !n.suppressed)
                .sort((a, b) => (b.severity || 0) - (a.severity || 0))[0].id"""
        )
        page.evaluate("id => window.laborgraph.network.focus(id, {scale: 1.5})", cohort)
        page.mouse.click(*Visit(page, page.url).node_center(cohort))
        panel = str(page.text_content("#panel"))
        assert "Conditions" in panel and "evidence:" in panel
        # And back along the breadcrumb.
        with page.expect_navigation():
            page.click("nav.trail a >> text=Chain of")
        page.wait_for_selector("body[data-ready=true]", state="attached", timeout=30_000)
        assert page.evaluate("window.laborgraph.data.nodes.length") == nodes
        only_pages(front, served)
    finally:
        page.close()


def test_the_whole_map_groups_organizations_and_highlights_a_path_through_them(
    browser: Browser, served: str
) -> None:
    visit = open_map(browser, served + "/map")
    page = visit.page
    try:
        kinds = page.evaluate("[...new Set(window.laborgraph.data.nodes.map(n => n.kind))].sort()")
        assert "organization_group" in kinds and "cohort_group" in kinds
        assert page.evaluate("window.laborgraph.data.nodes.length") <= MAX_NODES
        through = page.evaluate(
            """() => window.laborgraph.data.paths.find(p =>
                p.node_ids.some(id => id.startsWith("#orgs:")))"""
        )
        assert through is not None, "no risk path runs through a group of organizations"
        page.select_option("#path-select", str(through["rank"]))
        state = page.evaluate(
            """id => ({current: window.laborgraph.current(),
                       border: window.laborgraph.nodes.get(id).color.border})""",
            next(i for i in through["node_ids"] if i.startswith("#orgs:")),
        )
        assert state == {"current": through["rank"], "border": "#c2185b"}
        only_pages(visit, served)
    finally:
        page.close()


def test_a_top_risk_path_on_the_front_door_opens_on_its_workers_facts(browser: Browser, served: str) -> None:
    page = browser.new_page(viewport={"width": 1600, "height": 1000})  # type: ignore[arg-type]
    visit = Visit(page, served + "/")
    page.on("request", lambda r: visit.requests.append(r.url))
    page.on("pageerror", lambda e: visit.errors.append(str(e)))
    try:
        page.goto(served + "/")
        name = str(page.text_content("#risk-paths tbody tr:first-child td:nth-child(6)"))
        with page.expect_navigation():
            page.click("#risk-paths a.open-cohort >> nth=0")
        page.wait_for_selector("body[data-ready=true]", state="attached", timeout=30_000)
        panel = str(page.text_content("#panel"))
        assert "Conditions" in panel and "evidence:" in panel
        assert name.startswith(str(page.text_content("#panel h2")))
        only_pages(visit, served)
    finally:
        page.close()


def test_the_whole_map_merges_links_between_groups_and_a_group_opens_on_its_organizations(
    browser: Browser, served: str
) -> None:
    """The map of every buyer stays within its size; a link of a group of organizations is
    one edge counting what it merges; clicking a group opens its organizations."""
    with urlopen(served + "/map") as reply:
        assert len(reply.read()) < MAX_PAGE_BYTES
    visit = open_map(browser, served + "/map")
    page = visit.page
    try:
        merged = page.evaluate(
            """() => window.laborgraph.data.edges
                .filter(e => e.source.startsWith("#orgs:") || e.target.startsWith("#orgs:"))
                .map(e => ({id: e.id, count: e.count, label: window.laborgraph.edges.get(e.id).label,
                            pair: e.source + ">" + e.target}))"""
        )
        assert merged and all(e["count"] >= 1 for e in merged)
        assert len({e["pair"] for e in merged}) == len(merged)
        heavy = max(merged, key=lambda e: e["count"])
        assert heavy["count"] > 1 and (f"{heavy['count']:,} links" in heavy["label"] or "×" in heavy["label"])
        group = page.evaluate(
            """() => window.laborgraph.data.nodes.filter(n => n.kind === "organization_group")
                .sort((a, b) => b.organization_count - a.organization_count)[0]"""
        )
        page.evaluate("id => window.laborgraph.network.focus(id, {scale: 1.5})", group["id"])
        x, y = visit.node_center(group["id"])
        with page.expect_navigation():
            page.mouse.click(x, y)
        page.wait_for_selector("body[data-ready=true]", state="attached", timeout=30_000)
        assert "Organizations in" in str(page.text_content("nav.trail [aria-current]"))
        opened = page.evaluate(
            """() => window.laborgraph.data.nodes.reduce((n, node) => n + (node.kind === "organization"
                ? 1 : node.kind === "organization_group" ? node.organization_count : 0), 0)"""
        )
        assert opened == group["organization_count"]
        only_pages(visit, served)
    finally:
        page.close()

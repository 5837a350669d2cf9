"""Map pages in a real headless Chromium: offline, complete, clickable, safe, fast to open."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from laborgraph.graph.analysis.paths import PathQuery, RiskPath, trace_risk_paths
from laborgraph.graph.model import Cohort, Condition, Decision, GraphData, Link, Organization, Unit
from laborgraph.graph.scoring import load_scoring
from laborgraph.graph.view import GraphView
from laborgraph.graph.vocabulary import Dimension, Lever, LinkType, OrgKind, Status
from laborgraph.visualize.map import build_map
from laborgraph.visualize.model import MapModel
from laborgraph.visualize.render import render_home_html, render_map_html
from tests.browser.generate import large_chain
from tests.browser.pages import Site, Visit, open_map

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>alert(1)</script>"


@pytest.fixture(scope="module")
def example_model(example_view: GraphView, example_paths: list[RiskPath]) -> MapModel:
    return build_map(example_view, paths=example_paths)


@pytest.fixture(scope="module")
def example(browser: Browser, site: Site, example_model: MapModel) -> Iterator[Visit]:
    visit = open_map(browser, site.put("example.html", render_map_html(example_model)))
    yield visit
    visit.page.close()


def test_example_map_loads_offline_without_errors(example: Visit) -> None:
    assert example.errors == [] and example.console == []
    assert example.requests == [example.url]  # the page itself, and not one request more
    assert (
        example.page.evaluate("document.querySelectorAll('[src], link[href]').length") == 1
    )  # the data: icon


def test_network_holds_every_node_and_edge_where_python_put_it(
    example: Visit, example_model: MapModel
) -> None:
    counts = example.page.evaluate(
        "[window.laborgraph.nodes.length, window.laborgraph.edges.length,"
        " window.laborgraph.network.body.nodeIndices.length]"
    )
    assert counts == [len(example_model.nodes), len(example_model.edges), len(example_model.nodes)]
    lakeside = next(n for n in example_model.nodes if n.id == "coh-lakeside-ug-moderators")
    position = example.page.evaluate(
        "window.laborgraph.network.getPositions(['coh-lakeside-ug-moderators'])['coh-lakeside-ug-moderators']"
    )
    assert position == {
        "x": pytest.approx(lakeside.x, abs=1),
        "y": pytest.approx(lakeside.y, abs=1),
    }


def test_clicking_a_cohort_shows_its_facts_and_evidence(example: Visit) -> None:
    example.page.mouse.click(*example.node_center("coh-savanna-ke-moderators"))
    text = example.panel_text()
    assert "Savanna Nairobi sentinel moderators" in text
    assert "violates · 1.1 USD/h against a benchmark of 2.4 USD/h" in text
    assert "evidence: reported · src-savanna-worker-survey" in text
    assert "Decisions reaching these workers" in text and "Trust & Safety Policy (Halcyon Labs)" in text


def test_choosing_a_risk_path_highlights_it_and_dims_the_rest(example: Visit) -> None:
    example.page.select_option("#path-select", "2")
    state = example.page.evaluate(
        """() => {
            const lg = window.laborgraph;
            const colour = id => lg.nodes.get(id).color.background;
            return {current: lg.current(), savanna: colour("org-savanna"),
                    nimbus: colour("org-nimbus"), label: lg.nodes.get("org-halcyon").label};
        }"""
    )
    assert state["current"] == 2
    assert state["savanna"] == "#6a4c9c" and state["nimbus"] == "#eceef1"  # kept vs dimmed
    assert state["label"].endswith("decided by Trust &\nSafety Policy\n(content_scope)")
    assert "Risk path #2" in example.panel_text()
    example.page.click("#clear-path")
    assert example.page.evaluate("window.laborgraph.current()") is None


def test_screenshot_shows_a_drawn_map(example: Visit, browser: Browser) -> None:
    example.page.evaluate("window.laborgraph.fit()")
    png = example.page.screenshot()
    blank = browser.new_page()
    try:
        colours = blank.evaluate(
            """async src => {
                const img = new Image();
                img.src = src;
                await img.decode();
                const canvas = document.createElement("canvas");
                canvas.width = img.width; canvas.height = img.height;
                const ctx = canvas.getContext("2d");
                ctx.drawImage(img, 0, 0);
                const data = ctx.getImageData(0, 0, img.width, img.height).data;
                const seen = new Set();
                for (let i = 0; i < data.length; i += 4) {
                    seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
                }
                return seen.size;
            }""",
            "data:image/png;base64," + base64.b64encode(png).decode(),
        )
    finally:
        blank.close()
    assert colours > 200


def test_front_page_rows_highlight_their_path(browser: Browser, site: Site, example_model: MapModel) -> None:
    visit = open_map(browser, site.put("home.html", render_home_html(example_model)) + "?path=3")
    page = visit.page
    try:
        assert page.evaluate("window.laborgraph.current()") == 3  # ?path=<rank> on arrival
        assert page.get_attribute("tr.active", "data-rank") == "3"
        page.click("button.show-path[data-rank='5']")
        assert page.evaluate("window.laborgraph.current()") == 5
        assert "Delivery Management (Tessera Data Services)" in visit.panel_text()
        assert visit.requests == [visit.url] and visit.errors == [] and visit.console == []
    finally:
        page.close()


def hostile_view() -> GraphView:
    return GraphView.of(
        GraphData(
            organizations=[
                Organization(id="org-evil", name=IMG, kinds=(OrgKind.buyer,), country="KE"),
                Organization(id="org-vendor", name="Plain Vendor", kinds=(OrgKind.vendor,), country="KE"),
            ],
            units=[Unit(id="unit-evil", organization_id="org-evil", name=SCRIPT)],
            decisions=[
                Decision(id="dec-evil", unit_id="unit-evil", lever=Lever.pricing, applies_to="org-vendor")
            ],
            cohorts=[Cohort(id="coh-evil", name=SCRIPT, country="KE", headcount=50)],
            conditions=[
                Condition(cohort_id="coh-evil", dimension=Dimension.pay, status=Status.violates, note=IMG)
            ],
            links=[
                Link(from_id="org-evil", to_id="org-vendor", type=LinkType.CONTRACTS, project=IMG),
                Link(from_id="org-vendor", to_id="coh-evil", type=LinkType.ENGAGES),
            ],
        )
    )


def test_hostile_names_show_as_text_and_run_nothing(browser: Browser, site: Site) -> None:
    view = hostile_view()
    paths = trace_risk_paths(view, PathQuery(limit=None), load_scoring())
    model = build_map(view, paths=paths, title=SCRIPT)
    gaps = [{"kind": "unknown_condition", "entity_id": "coh-evil/pay", "detail": IMG}]
    for name, html in (
        ("evil.html", render_map_html(model)),
        ("evil-home.html", render_home_html(model, gaps)),
    ):
        visit = open_map(browser, site.put(name, html))
        page = visit.page
        try:
            page.mouse.click(*visit.node_center("coh-evil"))
            # The cohort's name and its condition's note, literally.
            assert SCRIPT in visit.panel_text() and IMG in visit.panel_text()
            page.mouse.move(*visit.node_center("org-evil"))
            page.wait_for_selector("div.vis-tooltip", state="visible")
            assert IMG in str(page.text_content("div.vis-tooltip"))
            assert page.title().startswith(SCRIPT)
            assert page.evaluate("document.querySelectorAll('img').length") == 0
            page.select_option("#path-select", "1")  # its summary names the hostile unit
            assert f"{SCRIPT} ({IMG})" in visit.panel_text()
            scripts = page.evaluate("document.querySelectorAll('script').length")
            assert scripts == 3  # the data, vis-network, the map: nothing injected
            assert visit.dialogs == [] and visit.errors == [] and visit.console == []
        finally:
            page.close()


def test_five_thousand_node_view_opens_and_responds(
    browser: Browser, site: Site, request: pytest.FixtureRequest
) -> None:
    view = GraphView.of(large_chain())
    assert view.graph.number_of_nodes() == 4995
    paths = trace_risk_paths(view, PathQuery(limit=None), load_scoring())
    for name, model in (
        ("large-grouped.html", build_map(view, paths=paths)),
        ("large-full.html", build_map(view, paths=paths, budget=10_000)),
    ):
        url = site.put(name, render_map_html(model))
        started = time.perf_counter()
        visit = open_map(browser, url)
        seconds = round(time.perf_counter() - started, 2)
        request.node.user_properties.append((f"{name} seconds to interactive", seconds))
        try:
            assert visit.page.evaluate("window.laborgraph.nodes.length") == len(model.nodes)
            target = next(n for n in model.nodes if n.kind != "organization" and n.severity)
            visit.page.evaluate("id => window.laborgraph.network.focus(id, {scale: 1.2})", target.id)
            visit.page.mouse.click(*visit.node_center(target.id))
            assert target.name in visit.panel_text()
            assert visit.errors == [] and visit.console == []
        finally:
            visit.page.close()
    assert len(model.nodes) == 4995

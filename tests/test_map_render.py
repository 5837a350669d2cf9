"""render_map_html / render_home_html: one self-contained page where data never becomes markup."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html import unescape
from pathlib import Path

import pytest

from laborgraph.graph.analysis import regions
from laborgraph.graph.analysis.paths import PathQuery, RiskPath, trace_risk_paths
from laborgraph.graph.analysis.privacy import DEFAULT_PRIVACY
from laborgraph.graph.embedded import EmbeddedStore
from laborgraph.graph.model import Cohort, GraphData, Link, Organization
from laborgraph.graph.scoring import load_scoring
from laborgraph.graph.view import GraphView
from laborgraph.graph.vocabulary import LinkType, OrgKind
from laborgraph.ingest.load import ingest_path
from laborgraph.visualize.map import build_map
from laborgraph.visualize.model import MapModel
from laborgraph.visualize.render import json_for_script, render_home_html, render_map_html

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ai-supply-chain"
HOSTILE = "</script><script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[GraphView, list[RiskPath]]:
    store = EmbeddedStore(tmp_path_factory.mktemp("render-store"))
    ingest_path(store, EXAMPLE)
    view = regions.region_view(store)
    return view, trace_risk_paths(view, PathQuery(limit=None), load_scoring(), DEFAULT_PRIVACY)


@pytest.fixture(scope="module")
def model(example: tuple[GraphView, list[RiskPath]]) -> MapModel:
    view, paths = example
    return build_map(view, paths=paths)


def scripts(html: str) -> list[tuple[str, str]]:
    """(attributes, content) of every <script> element."""
    return re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)


def test_one_file_with_everything_inlined_and_nothing_fetched(model: MapModel) -> None:
    html = render_map_html(model)
    assert not re.search(r"<(script|img|iframe)[^>]*\ssrc=", html)
    assert not re.search(r"<link[^>]*stylesheet", html)
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", html)
    assert "@version 9.1.2" in html  # vis-network, inlined from pyvis's copy
    attributes = [attrs for attrs, _ in scripts(html)]
    assert attributes == [' type="application/json" id="map-data"', "", ""]


def test_content_security_policy_allows_only_the_inline_scripts(model: MapModel) -> None:
    html = render_map_html(model)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert csp is not None
    policy = unescape(csp.group(1))
    assert "default-src 'none'" in policy and "unsafe-eval" not in policy
    assert "connect-src" not in policy  # falls back to default-src 'none'
    for _, code in scripts(html)[1:]:
        digest = base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy


def test_data_travels_as_escaped_json(model: MapModel) -> None:
    html = render_map_html(model)
    data = json.loads(scripts(html)[0][1])
    assert len(data["nodes"]) == len(model.nodes) and len(data["edges"]) == len(model.edges)
    assert "suppressed_ids" not in data  # used to mask other outputs, never shipped
    assert json_for_script({"name": HOSTILE}) == (
        '{"name":"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e'
        '\\u003cimg src=x onerror=alert(2)\\u003e"}'
    )


def test_hostile_names_never_become_markup() -> None:
    view = GraphView.of(
        GraphData(
            organizations=[Organization(id="org-x", name=HOSTILE, kinds=(OrgKind.buyer,), country="KE")],
            cohorts=[Cohort(id="coh-x", name=HOSTILE, country="KE", headcount=50)],
            links=[Link(from_id="org-x", to_id="coh-x", type=LinkType.ENGAGES)],
        )
    )
    model = build_map(view, title=HOSTILE)
    for html in (
        render_map_html(model),
        render_home_html(model, [{"kind": "k", "entity_id": "coh-x", "detail": HOSTILE}]),
    ):
        assert HOSTILE not in html
        assert "<img" not in html
        assert len(scripts(html)) == 3  # the data, vis-network and the map script: nothing else
        assert "&lt;/script&gt;&lt;script&gt;alert(1)" in html  # the title, escaped


def test_home_page_lists_paths_gaps_and_api_links(
    example: tuple[GraphView, list[RiskPath]], model: MapModel
) -> None:
    gaps = [
        {
            "kind": "organization_without_cohorts",
            "entity_id": "org-greyline",
            "detail": "no cohort",
        },
        {
            "kind": "unknown_condition",
            "entity_id": "coh-tessera-ph-qa-leads/pay",
            "detail": "Manila",
        },
    ]
    html = render_home_html(model, gaps, api_prefix="/api/v1/", docs_url="/docs")
    assert html.count('<button type="button" class="show-path" data-rank=') == 25
    assert (
        'href="/api/v1/paths.csv?from=dec-halcyon-content-scope&amp;'
        'to=coh-savanna-ke-moderators%2Fcontent_safety"'
    ) in html
    assert 'href="/api/v1/paths.csv"' in html and 'href="/docs"' in html
    assert "organization without cohorts" in html and "org-greyline" in html
    for secret in ("coh-tessera-ph-qa-leads", "Tessera Manila quality leads"):  # suppressed
        assert secret not in html

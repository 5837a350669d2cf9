"""A buyer's due-diligence report, as an analyst hands it on: what it says about the example
chain, that its figures are the ones the other questions give, on both stores, and that it
stays a page with no script that names no small cohort."""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from laborgraph.app.main import create_app
from laborgraph.app.questions import Questions
from laborgraph.app.report import buyer_report
from laborgraph.graph.analysis.paths import PathQuery
from laborgraph.graph.embedded import EmbeddedStore
from laborgraph.graph.errors import NotFound
from laborgraph.graph.model import GraphData
from laborgraph.graph.revisions import WriteNote
from laborgraph.graph.store import GraphStore
from laborgraph.ingest.load import ingest_path
from laborgraph.visualize.report import render_report_html
from tests.chains import random_chains
from tests.conftest import EXAMPLE_BUNDLE
from tests.test_api import make_settings
from tests.test_cli import run

SECOND_REVIEW = EXAMPLE_BUNDLE.parent / "ai-supply-chain-review-2"
BUYERS = ("org-nimbus", "org-halcyon", "org-quillmind")
SMALL_COHORT = "Kora Arabic-language escalation reviewers"  # 4 workers, reached by Halcyon


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))).strip()


def section(html: str, name: str) -> str:
    found = re.search(rf'<section id="{name}">(.*?)</section>', html, re.S)
    assert found, f"no {name} section"
    return text_of(found.group(1))


@pytest.fixture
def reviewed(store: GraphStore) -> GraphStore:
    ingest_path(store, EXAMPLE_BUNDLE, note=WriteNote(label="2025-Q4 review"))
    ingest_path(store, SECOND_REVIEW, note=WriteNote(label="2026-Q1 review"))
    return store


def test_the_heat_map_and_tiers_are_what_paths_and_tiers_answer(reviewed: GraphStore, tmp_path: Path) -> None:
    ask = Questions(reviewed, make_settings("embedded", tmp_path), show_small=True)
    for buyer in BUYERS:
        report = buyer_report(ask, buyer)
        traced = list(ask.risk_paths(PathQuery(origin=buyer, limit=None)))
        cohorts = {(p.severity, p.dimension, p.cohort_id) for p in traced}
        assert {(c.severity, c.dimension): c.cohorts for c in report.risks.cells} == Counter(
            (severity, dimension) for severity, dimension, _ in cohorts
        ), buyer
        assert report.risks.cohorts == len({p.cohort_id for p in traced})
        assert report.top_paths == traced[: len(report.top_paths)]
        assert report.tiers == ask.tiers(buyer).tiers
        assert report.buyer.worst_severity == max(p.severity for p in traced)
        for line in report.scorecards:  # the points of each supplier's own scorecard
            card = ask.scorecard(line.organization_id)
            assert line.points == card.points and line.cohorts == card.cohorts
            assert line.earned == [(p.principle, p.basic, p.advanced) for p in card.principles]


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=random_chains())
def test_on_any_chain_the_heat_map_and_tiers_count_what_paths_and_tiers_find(data: GraphData) -> None:
    """Cycles, projects, shared vendors, unknown conditions: the rows a report reads count
    the cohorts the tracer reaches and the tiers tier_map gives."""
    with tempfile.TemporaryDirectory() as folder:
        store = EmbeddedStore(Path(folder))
        try:
            store.write(data)
            ask = Questions(store, make_settings("embedded", Path(folder)), show_small=True)
            for buyer in sorted(o.id for o in data.organizations if o.id.startswith("b")):
                report = buyer_report(ask, buyer)
                traced = {
                    (p.severity, p.dimension, p.cohort_id)
                    for p in ask.risk_paths(PathQuery(origin=buyer, limit=None))
                }
                assert {(c.severity, c.dimension): c.cohorts for c in report.risks.cells} == Counter(
                    (severity, dimension) for severity, dimension, _ in traced
                ), buyer
                assert report.tiers == ask.tiers(buyer).tiers, buyer
        finally:
            store.close()


def test_the_report_tells_the_second_review_of_nimbus(reviewed: GraphStore, tmp_path: Path) -> None:
    html = render_report_html(
        buyer_report(Questions(reviewed, make_settings("embedded", tmp_path)), "org-nimbus")
    )
    assert "graph revision 2 (2026-Q1 review)" in text_of(html)
    glance = section(html, "headline")
    assert "5,970 workers its decisions reach in 11 cohorts" in glance
    assert "5 critical worst risk" in glance and "3 direct suppliers" in glance
    heat = section(html, "heat-map")
    assert "critical" in heat and "content safety" in heat
    top = section(html, "risk-paths")
    assert top.startswith("Top risk paths") and "content safety violates for TaskHive US writing" in top
    assert "src-news-redteam-prompts" in top  # each claim with its sources
    changes = section(html, "changes")
    assert "From revision 1 to 2" in changes and "1 link retracted" in changes
    assert "org-brightlabel|SOURCES_VIA|org-taskhive|aurora-eval" in changes
    actions = section(html, "actions")
    assert "act-meridian-paid-rework" in actions and "overdue" in actions
    assert "Supplier scorecards" in section(html, "scorecards") and "org-meridian" in section(
        html, "scorecards"
    )
    assert "unrecorded condition" in section(html, "gaps")
    assert "Units reaching a cohort" in section(html, "fragmentation")
    sources = section(html, "sources")
    assert "src-news-redteam-prompts" in sources


def test_a_single_review_has_no_changes_and_a_non_buyer_no_report(store: GraphStore, tmp_path: Path) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    ask = Questions(store, make_settings("embedded", tmp_path))
    report = buyer_report(ask, "org-halcyon")
    assert report.changes is None and report.revision is not None and report.revision.number == 1
    assert '<section id="changes">' not in render_report_html(report)
    for not_a_buyer in ("org-tessera", "no-such-org"):
        with pytest.raises(NotFound):
            buyer_report(ask, not_a_buyer)


def test_the_page_needs_no_script_and_names_no_small_cohort(store: GraphStore, tmp_path: Path) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    settings = make_settings("embedded", tmp_path)
    html = render_report_html(buyer_report(Questions(store, settings), "org-halcyon"))
    assert "<script" not in html and "script-src 'none'" in unescape(html)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing to fetch
    assert SMALL_COHORT not in html and "coh-kora-ke-arabic-reviewers" not in html
    assert "suppressed cohort" in html  # its paths are still there, unnamed
    shown = render_report_html(buyer_report(Questions(store, settings, show_small=True), "org-halcyon"))
    assert SMALL_COHORT in shown


def test_cli_writes_the_report_and_refuses_an_unknown_buyer(tmp_path: Path) -> None:
    assert run("ingest", str(EXAMPLE_BUNDLE), data_dir=tmp_path).returncode == 0
    target = tmp_path / "out" / "nimbus.html"
    target.parent.mkdir()
    written = run("report", "--buyer", "org-nimbus", "-o", str(target), data_dir=tmp_path)
    assert written.returncode == 0, written.stderr
    assert "Nimbus Intelligence" in written.stdout and target.read_text().startswith("<!doctype html>")
    refused = run("report", "--buyer", "org-tessera", "-o", str(tmp_path / "x.html"), data_dir=tmp_path)
    assert refused.returncode == 1 and "no buyer with id 'org-tessera'" in refused.stderr
    assert not (tmp_path / "x.html").exists()


def test_served_at_report(tmp_path: Path) -> None:
    settings = make_settings("embedded", tmp_path)
    with TestClient(create_app(settings)) as client:
        ingest_path(client.app.state.holder.get(), EXAMPLE_BUNDLE)  # type: ignore[attr-defined]
        front = client.get("/").text
        assert all(f'href="report?buyer={buyer}"' in front for buyer in BUYERS)
        page = client.get("/report", params={"buyer": "org-quillmind"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "Quillmind AI" in page.text and "<script" not in page.text
        assert client.get("/report", params={"buyer": "org-nope"}).status_code == 404
        assert client.get("/report").status_code == 422


def test_a_review_that_changed_too_much_to_compare_says_so_in_the_report(
    reviewed: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("laborgraph.app.questions.CHANGES_AT_MOST", 1)
    report = buyer_report(Questions(reviewed, make_settings("embedded", tmp_path)), "org-nimbus")
    assert report.changes is None
    changes = section(render_report_html(report), "changes")
    assert changes.startswith("Changes since the previous revision")
    assert "Not compared: revision 2 changed" in changes and "compare nearer revisions" in changes

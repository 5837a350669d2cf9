"""build_map: what a supply-chain map shows, where, and what it hides."""

from __future__ import annotations

from pathlib import Path

import pytest

from laborgraph.graph.analysis import regions
from laborgraph.graph.analysis.paths import PathQuery, RiskPath, trace_risk_paths
from laborgraph.graph.analysis.privacy import DEFAULT_PRIVACY, SHOW_ALL
from laborgraph.graph.embedded import EmbeddedStore
from laborgraph.graph.errors import InvalidQuery, NotFound
from laborgraph.graph.scoring import load_scoring
from laborgraph.graph.view import GraphView
from laborgraph.ingest.load import ingest_path
from laborgraph.visualize.map import build_map, chain_map
from laborgraph.visualize.model import MapModel, MapNode
from laborgraph.visualize.style import NO_RISK_COLOR, SEVERITY_COLORS

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ai-supply-chain"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    store = EmbeddedStore(tmp_path_factory.mktemp("map-store"))
    ingest_path(store, EXAMPLE)
    return store


@pytest.fixture(scope="module")
def view(store: EmbeddedStore) -> GraphView:
    return regions.region_view(store)


@pytest.fixture(scope="module")
def paths(view: GraphView) -> list[RiskPath]:
    return trace_risk_paths(view, PathQuery(limit=None), load_scoring(), DEFAULT_PRIVACY)


@pytest.fixture(scope="module")
def chain(view: GraphView, paths: list[RiskPath]) -> MapModel:
    return build_map(view, paths=paths)


def node(model: MapModel, node_id: str) -> MapNode:
    return next(n for n in model.nodes if n.id == node_id)


def band_of(model: MapModel, node_id: str) -> int | None:
    y = node(model, node_id).y
    return next(b.tier for b in model.bands if b.top <= y <= b.bottom)


def test_buyers_on_top_and_each_tier_in_its_own_band_below(chain: MapModel) -> None:
    assert [b.tier for b in chain.bands] == [0, 1, 2, 3]
    assert [b.label.split(" · ")[0] for b in chain.bands] == [
        "Tier 0",
        "Tier 1",
        "Tier 2",
        "Tier 3",
    ]
    assert all(a.bottom < b.top for a, b in zip(chain.bands, chain.bands[1:], strict=False))
    orgs = {
        "org-halcyon": 0, "org-nimbus": 0, "org-tessera": 1, "org-kora": 1,
        "org-savanna": 2, "org-microlane": 2, "org-lakeside": 3, "org-orinoco": 3,
    }  # fmt: skip
    for org_id, tier in orgs.items():
        assert node(chain, org_id).tier == tier
        assert band_of(chain, org_id) == tier
    assert node(chain, "org-halcyon").y < node(chain, "org-tessera").y < node(chain, "org-savanna").y
    assert node(chain, "org-savanna").y < node(chain, "org-lakeside").y


def test_workers_sit_just_below_the_organization_engaging_them(chain: MapModel) -> None:
    cohort, org = node(chain, "coh-lakeside-ug-moderators"), node(chain, "org-lakeside")
    assert band_of(chain, cohort.id) == 3 and cohort.y > org.y
    assert abs(cohort.x - org.x) < 200
    tier3 = next(b for b in chain.bands if b.tier == 3)
    assert "3 cohorts" in tier3.label and "305 workers" in tier3.label


def test_viewpoint_shows_only_its_chain_with_its_tiers(view: GraphView, paths: list[RiskPath]) -> None:
    model = build_map(view, viewpoint="org-halcyon", paths=paths)
    ids = {n.id for n in model.nodes}
    assert {"org-halcyon", "org-tessera", "org-savanna", "org-lakeside", "org-microlane"} <= ids
    assert not {"org-nimbus", "org-vantage", "coh-meridian-in-rlhf"} & ids  # other buyers' projects
    assert model.bands[0].label.startswith("Tier 0 · Halcyon Labs (viewpoint)")
    assert band_of(model, "coh-lakeside-ug-moderators") == 3
    assert model.title == "Supply chain of Halcyon Labs"


def test_cohorts_coloured_by_worst_risk_and_sized_by_headcount(chain: MapModel) -> None:
    nairobi = node(chain, "coh-savanna-ke-moderators")
    assert nairobi.severity == 5 and nairobi.color == SEVERITY_COLORS[5]
    berlin = node(chain, "coh-halcyon-de-escalation")  # no decision reaches it
    assert berlin.severity is None and berlin.color == NO_RISK_COLOR
    assert node(chain, "coh-taskhive-ve-gig").size > nairobi.size > berlin.size
    assert node(chain, "org-halcyon").color != node(chain, "org-tessera").color  # buyer vs vendor


def test_edges_labelled_by_link_type_between_shown_nodes(chain: MapModel) -> None:
    ids = {n.id for n in chain.nodes}
    assert all(e.source in ids and e.target in ids for e in chain.edges)
    by_id = {e.id: e for e in chain.edges}
    assert by_id["org-halcyon>CONTRACTS>org-tessera"].label == "CONTRACTS\nsentinel-moderation"
    assert by_id["org-kora>SOURCES_VIA>org-microlane"].dashes
    assert by_id["org-savanna>ENGAGES>coh-savanna-ke-moderators"].label == "ENGAGES"
    assert len(chain.edges) == 46  # every link of the example


def test_small_cohorts_suppressed_unless_admin(view: GraphView, paths: list[RiskPath]) -> None:
    model = build_map(view, paths=paths)
    hidden = [n for n in model.nodes if n.suppressed]
    assert len(hidden) == 3
    assert all(n.label == "suppressed cohort" and n.headcount is None for n in hidden)
    assert all(n.entity_id is None and n.id.startswith("#") for n in hidden)
    page_data = model.model_dump_json()
    for secret in (
        "coh-tessera-ph-qa-leads",
        "Tessera Manila quality leads",
        "Arabic",
        "coh-vantage-co-quality-leads",
    ):
        assert secret not in page_data
    assert any("3 cohorts with fewer than 5 workers" in note for note in model.notes)
    assert model.suppressed_ids == {
        "coh-tessera-ph-qa-leads", "coh-kora-ke-arabic-reviewers", "coh-vantage-co-quality-leads",
    }  # fmt: skip

    every_path = trace_risk_paths(view, PathQuery(limit=None), load_scoring(), SHOW_ALL)
    admin = build_map(view, paths=every_path, privacy=SHOW_ALL)
    assert not any(n.suppressed for n in admin.nodes)
    assert node(admin, "coh-tessera-ph-qa-leads").headcount == 3


def test_focus_shows_the_neighbourhood_both_ways(view: GraphView) -> None:
    near = build_map(view, focus="org-savanna", depth=1)
    assert {n.id for n in near.nodes} == {
        "org-savanna", "org-tessera", "org-lakeside", "coh-savanna-ke-moderators",
    }  # fmt: skip
    assert node(near, "org-savanna").focus and near.focus == "org-savanna" and near.depth == 1
    wider = {n.id for n in build_map(view, focus="org-savanna", depth=2).nodes}
    assert {"org-halcyon", "org-nimbus", "org-meridian", "coh-lakeside-ug-moderators"} <= wider
    assert "org-microlane" not in wider
    assert build_map(view, focus="unit-tessera-delivery", depth=1).focus == "org-tessera"
    with pytest.raises(NotFound):
        build_map(view, focus="org-nowhere")
    with pytest.raises(InvalidQuery):
        build_map(view, focus="org-savanna", depth=0)
    with pytest.raises(InvalidQuery):
        build_map(view, viewpoint="org-quillmind", focus="org-savanna")


def test_many_cohorts_grouped_under_their_organization(view: GraphView, paths: list[RiskPath]) -> None:
    organizations = sum(1 for _ in view.organizations())
    model = build_map(view, paths=paths, budget=organizations + 13)  # room for 13 cohort nodes
    groups = [n for n in model.nodes if n.kind == "cohort_group"]
    singles = [n for n in model.nodes if n.kind == "cohort"]
    # Organizations engaging one cohort have nothing to group: 8 groups, 5 single cohorts remain.
    assert (len(groups), len(singles)) == (8, 5) and all(g.cohort_count >= 2 for g in groups)
    assert len(model.nodes) == organizations + 13 and not [
        n for n in model.nodes if n.kind == "organization_group"
    ]
    assert sum(g.cohort_count for g in groups) + len(singles) == 26
    microlane = node(model, "#group:org-microlane")
    assert microlane.label.startswith("4 cohorts\n4,600")
    assert microlane.severity == 4 and microlane.color == SEVERITY_COLORS[4]
    assert any(e.source == "org-microlane" and e.target == microlane.id for e in model.edges)
    assert any("grouped under" in note for note in model.notes)
    assert any(entry.shape == "hexagon" for entry in model.legend)


def test_highlighted_path_runs_through_its_nodes_and_edges(view: GraphView, paths: list[RiskPath]) -> None:
    model = build_map(view, paths=paths, highlight=paths[1])
    assert model.highlight == 2
    path = next(p for p in model.paths if p.rank == 2)
    assert path.node_ids == [
        "org-halcyon",
        "org-tessera",
        "org-savanna",
        "coh-savanna-ke-moderators",
    ]
    assert path.edge_ids == [
        "org-halcyon>CONTRACTS>org-tessera",
        "org-tessera>SUBCONTRACTS>org-savanna",
        "org-savanna>ENGAGES>coh-savanna-ke-moderators",
    ]
    assert path.maker_node == "org-halcyon" and path.cohort_node == "coh-savanna-ke-moderators"
    assert path.csv_query == "from=dec-halcyon-content-scope&to=coh-savanna-ke-moderators%2Fcontent_safety"
    assert [s.label for s in path.steps] == ["DECIDES", "SUBCONTRACTS", "ENGAGES", "CONDITION"]
    assert len(model.paths) == 50  # the best 50 of 150 can be highlighted


def test_facts_carry_their_evidence(chain: MapModel) -> None:
    facts = {f.label: f for s in node(chain, "coh-savanna-ke-moderators").facts for f in s.facts}
    assert facts["pay"].value.startswith("violates · 1.1 USD/h against a benchmark of 2.4 USD/h")
    assert facts["pay"].evidence == (
        "reported · src-savanna-worker-survey, src-news-nairobi-moderators, src-living-wage-2025"
    )
    sections = [s.heading for s in node(chain, "coh-savanna-ke-moderators").facts]
    assert sections == ["Workers", "Conditions", "Decisions reaching these workers"]
    # Sources travel once per page; each panel lists those its facts cite.
    assert chain.sources["src-living-wage-2025"].startswith("Living wage")
    tooltip = node(chain, "coh-savanna-ke-moderators").title.split("\n")
    assert tooltip[0] == "Savanna Nairobi sentinel moderators"
    assert "Worst risk: severity 5 (critical)" in tooltip
    assert any(line.startswith("Top decision: #2 Trust & Safety Policy (Halcyon Labs)") for line in tooltip)


def test_empty_graph_gives_an_empty_map() -> None:
    model = build_map(GraphView())
    assert model.nodes == [] and model.edges == [] and model.bands == []


def test_chain_map_traces_the_viewpoints_paths_and_highlights_by_rank(store: EmbeddedStore) -> None:
    model = chain_map(store, load_scoring(), viewpoint="org-halcyon", path_rank=1)
    assert {p.buyer_name for p in model.paths} == {"Halcyon Labs"}
    top = next(p for p in model.paths if p.rank == model.highlight)
    assert model.highlight == 1 and top.decision_id == "dec-halcyon-content-scope"
    with pytest.raises(InvalidQuery):
        chain_map(store, load_scoring(), path_rank=999)


def test_the_store_map_of_the_example_draws_every_element_coloured_as_every_path_does(
    store: EmbeddedStore, chain: MapModel
) -> None:
    model = chain_map(store, load_scoring())
    assert not [n for n in model.nodes if n.kind.endswith("group")]
    assert {n.id for n in model.nodes} == {n.id for n in chain.nodes}
    assert len(model.edges) == 46  # every link of the example
    # The outline's worst risks are those of every path traced, cohort by cohort (and
    # suppressed cohorts keep their colour, as their risk paths keep their severity).
    named = {n.id: n.severity for n in chain.nodes if not n.suppressed}
    assert {n.id: n.severity for n in model.nodes if not n.suppressed} == named
    assert {n.severity for n in model.nodes if n.suppressed} == {2, 4, None}
    halcyon = chain_map(store, load_scoring(), viewpoint="org-halcyon")
    expected = build_map(
        regions.region_view(store),
        viewpoint="org-halcyon",
        paths=trace_risk_paths(
            regions.region_view(store), PathQuery(origin="org-halcyon", limit=None), load_scoring()
        ),
    )
    named = {n.id: n.severity for n in expected.nodes if not n.suppressed}
    assert {n.id: n.severity for n in halcyon.nodes if not n.suppressed} == named
    facts = {f.label: f.value for s in node(halcyon, "coh-savanna-ke-moderators").facts for f in s.facts}
    assert facts["pay"].startswith("violates · 1.1 USD/h")  # drawn nodes carry their full facts
    assert [c.label for c in halcyon.trail] == ["Front page", "Chain of Halcyon Labs"]

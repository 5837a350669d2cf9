"""Tracing on random chains: both stores agree, and both agree with brute-force enumeration."""

from __future__ import annotations

import tempfile
from pathlib import Path
from unittest.mock import patch

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings

from laborgraph.graph import embedded
from laborgraph.graph.analysis import ranking, regions
from laborgraph.graph.analysis.paths import PathQuery, RiskPath, trace_risk_paths
from laborgraph.graph.analysis.tiers import tier_map, tier_of_cohort
from laborgraph.graph.analysis.traverse import decision_scope, visible
from laborgraph.graph.embedded import EmbeddedStore
from laborgraph.graph.model import Condition, GraphData
from laborgraph.graph.scoring import load_scoring
from laborgraph.graph.store import GraphStore
from laborgraph.graph.view import GraphView
from laborgraph.graph.vocabulary import SUPPLY_LINKS, Dimension, EntityKind, LinkType, Status
from tests.chains import Chain, random_chains
from tests.conftest import _neo4j_store

SCORING = load_scoring()
PathId = tuple[str, tuple[str, ...], str, str]


def reference(data: GraphData, depth: int) -> set[PathId]:
    """Every risk path by plain enumeration of simple paths (networkx), no pruning, no ranking."""
    view = GraphView.of(data)
    found: set[PathId] = set()
    for decision in data.decisions:
        scope = decision_scope(view, decision)
        supply = nx.DiGraph()
        supply.add_nodes_from(o.id for o in data.organizations)
        supply.add_edges_from(
            (k.from_id, k.to_id) for k in data.links if k.type in SUPPLY_LINKS and visible(k, scope)
        )
        for link in data.links:
            if link.type is not LinkType.ENGAGES or not visible(link, scope):
                continue
            x, engaging = decision.applies_to, link.from_id
            routes = (
                [[x]] if x == engaging else list(nx.all_simple_paths(supply, x, engaging, cutoff=depth - 1))
            )
            conditions = view.conditions.get(link.to_id, {})
            for route in routes:
                for dim in decision.effective_dimensions:
                    condition = conditions.get(dim)
                    if condition is not None and condition.status is not Status.meets:
                        found.add((decision.id, tuple(route), link.to_id, dim.value))
    return found


def identify(path: RiskPath) -> PathId:
    return path.decision_id, tuple(path.organizations), path.cohort_id, path.dimension.value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=random_chains())
def test_tracing_matches_brute_force_enumeration(data: GraphData) -> None:
    view = GraphView.of(data)
    for depth in (2, 6):
        paths = trace_risk_paths(view, PathQuery(depth=depth, limit=None), SCORING)
        assert {identify(p) for p in paths} == reference(data, depth)
        assert len(paths) == len({identify(p) for p in paths})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=random_chains())
def test_a_cohorts_tier_on_a_path_is_its_tier_on_the_tier_map(data: GraphData) -> None:
    view = GraphView.of(data)
    for org in data.organizations:
        mapped = {e.id: e.tier for e in tier_map(view, org.id).entries if e.entity is EntityKind.cohort}
        for cohort in data.cohorts:
            assert tier_of_cohort(view, org.id, cohort.id) == mapped.get(cohort.id), (org.id, cohort.id)


def pages(origin: str | None) -> list[PathQuery]:
    """Small pages, at the start and further on, with each filter a page can carry."""
    return [
        PathQuery(origin=origin, limit=1),
        PathQuery(origin=origin, offset=2, limit=3),
        PathQuery(origin=origin, limit=4, dimension=Dimension.pay),
        PathQuery(origin=origin, limit=2, min_severity=3, country="ph", depth=3),
    ]


@pytest.mark.parametrize("backend", ["embedded", "embedded-walking-each-risk", "neo4j"])
def test_both_stores_trace_identically(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written to a store and read back through its regions, every answer is unchanged.

    ``embedded-walking-each-risk`` seeks every risk by one walk across all engagers, as the
    embedded store does when a page's seeks cover much of a large graph."""
    neo4j = _neo4j_store(request.getfixturevalue("neo4j_uri")) if backend == "neo4j" else None
    if backend == "embedded-walking-each-risk":
        monkeypatch.setattr(embedded, "_SEEK_EACH_UP_TO", 0)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=random_chains())
    def check(data: GraphData) -> None:
        if neo4j is not None:
            neo4j.wipe()
            store: GraphStore = neo4j
        else:
            store = EmbeddedStore(Path(tempfile.mkdtemp(dir=tmp_path)))
        store.write(data)
        reference_view = GraphView.of(data)
        origins = [
            None,
            *sorted({d.unit_id for d in data.decisions}),
            *sorted(o.id for o in data.organizations),
        ]
        for origin in origins:
            query = PathQuery(origin=origin, limit=None)
            assert trace_risk_paths(regions.region_view(store, origin), query, SCORING) == trace_risk_paths(
                reference_view, query, SCORING
            ), origin
        for cohort in data.cohorts:
            query = PathQuery(target=cohort.id, limit=None)
            assert trace_risk_paths(
                regions.region_view(store, cohort.id), query, SCORING
            ) == trace_risk_paths(reference_view, query, SCORING), cohort.id
        # A page reads only the cohorts that can rank within it, from every origin or none.
        for origin in origins + sorted(d.id for d in data.decisions):
            for query in pages(origin):
                assert trace_risk_paths(
                    regions.path_view(store, query, SCORING), query, SCORING
                ) == trace_risk_paths(reference_view, query, SCORING), query

    try:
        check()
    finally:
        if neo4j is not None:
            neo4j.close()


def ranking_chain() -> GraphData:
    """One buyer reaching cohorts where each part of the ranking decides a page's edge.

    In order: C1 is pay below half its benchmark (severity 4 + 1) with the largest
    headcount; C2 and C3 tie on everything but the id; C4 has no headcount; C5 is at risk
    (likelihood 0.6) and C6 unknown (severity 2 below its base); C7 is in another country
    and C8 is reached only through a link on the buyer's project. A cohort under another
    buyer's project (C9) never shows.
    """
    chain = Chain()
    chain.org("B", "buyer", country="US").org("B2", "buyer", country="US")
    chain.org("V").org("S", "subcontractor").unit("U", "B").unit("U2", "B2")
    chain.link("B", "V", "CONTRACTS", "p").link("B2", "V", "CONTRACTS", "q").link("V", "S", "SUBCONTRACTS")
    chain.decision("D1", "U", "pricing", "V").decision("D2", "U", "content_scope", "V", project="p")
    chain.decision("D3", "U", "vendor_selection", "S")
    chain.cohort("C1", headcount=900).condition("C1", "pay", value=1.0, benchmark=4.0, status="violates")
    chain.cohort("C2", headcount=300, content_safety="violates", workload="violates")
    chain.cohort("C3", headcount=300, content_safety="violates", voice="at_risk")
    chain.cohort("C4", headcount=None, content_safety="violates", pay="violates")
    chain.cohort("C5", headcount=5000, content_safety="at_risk", payment_terms="violates")
    chain.cohort("C6", headcount=5000, contract="unknown", management="meets")
    chain.cohort("C7", headcount=50, country="PH", content_safety="violates")
    chain.cohort("C8", headcount=60, workload="at_risk", task_clarity="violates")
    chain.cohort("C9", headcount=9999, content_safety="violates")
    for cohort, org, project in [
        ("C1", "V", None),
        ("C2", "S", None),
        ("C3", "V", None),
        ("C4", "S", None),
        ("C5", "V", None),
        ("C6", "S", None),
        ("C7", "V", None),
        ("C8", "S", "p"),
        ("C9", "V", "q"),
    ]:
        chain.link(org, cohort, "ENGAGES", project)
    return chain.data()


def test_every_page_edge_falls_where_the_whole_graph_puts_it(store: GraphStore) -> None:
    data = ranking_chain()
    store.write(data)
    whole = GraphView.of(data)
    everything = trace_risk_paths(whole, PathQuery(origin="B", limit=None), SCORING)
    # Severity 5 first: pay below half its benchmark, then content safety by headcount and id.
    assert [p.cohort_id for p in everything][:7] == ["C1", "C2", "C2", "C3", "C7", "C4", "C4"]
    assert "C9" not in {p.cohort_id for p in everything}
    queries = [
        PathQuery(origin=o, offset=k, limit=n)
        for o in ("B", "U", "D1", "D3")
        for k in (0, 3)
        for n in (1, 2, 5)
    ]
    queries += [
        PathQuery(origin="B", limit=2, country="ph"),
        PathQuery(origin="B", limit=2, min_severity=4),
        PathQuery(origin="B", limit=1, dimension=Dimension.workload),
    ]
    for query in queries:
        page = trace_risk_paths(regions.path_view(store, query, SCORING), query, SCORING)
        assert page == trace_risk_paths(whole, query, SCORING), query
        assert page, query
    # Conditions change in a later write that does not carry their cohorts: C1's pay is met,
    # C6's contract is violated. The pages follow.
    update = GraphData(
        conditions=[
            Condition(cohort_id="C1", dimension="pay", value=9.0, benchmark=4.0, status="meets"),
            Condition(cohort_id="C6", dimension="contract", status="violates"),
        ]
    )
    store.write(update)
    whole.upsert(update)
    for query in queries:
        page = trace_risk_paths(regions.path_view(store, query, SCORING), query, SCORING)
        assert page == trace_risk_paths(whole, query, SCORING), query
    top = trace_risk_paths(
        regions.path_view(store, PathQuery(origin="B", limit=1), SCORING),
        PathQuery(origin="B", limit=1),
        SCORING,
    )
    assert [(p.cohort_id, p.dimension) for p in top] == [("C2", Dimension.content_safety)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=random_chains())
def test_walking_the_risk_index_ranks_as_scoring_every_cohort_does(data: GraphData) -> None:
    """Large reaches walk the view's risk index; forced on small chains, nothing may change."""
    assert_walking_ranks_as_scoring(data)
    # One class (severity 5, likelihood 1) from two buckets, the first one indexed smaller.
    two_buckets = Chain().org("B", "buyer").org("V").unit("U", "B").link("B", "V", "CONTRACTS")
    two_buckets.cohort("Z1", headcount=10, content_safety="violates").link("V", "Z1", "ENGAGES")
    two_buckets.cohort("Z2", headcount=500).link("V", "Z2", "ENGAGES")
    two_buckets.condition("Z2", "pay", value=1.0, benchmark=4.0, status="violates")
    two_buckets.decision("D", "U", "vendor_selection", "V")
    assert_walking_ranks_as_scoring(two_buckets.data())


def assert_walking_ranks_as_scoring(data: GraphData) -> None:
    view = GraphView.of(data)
    queries = [
        PathQuery(limit=None),
        *(PathQuery(origin=o.id, limit=3) for o in data.organizations),
        PathQuery(limit=5, min_severity=3, country="PH"),
        PathQuery(limit=5, dimension=Dimension.pay),
    ]
    with patch.object(ranking, "SCORE_TO_WALK", 0):
        scored = [trace_risk_paths(view, q, SCORING) for q in queries]
    with patch.object(ranking, "SCORE_TO_WALK", 10**9):
        view.memo.clear()
        walked = [trace_risk_paths(view, q, SCORING) for q in queries]
    assert walked == scored

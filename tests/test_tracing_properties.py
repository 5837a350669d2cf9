"""Tracing on random chains: both stores agree, and both agree with brute-force enumeration."""

from __future__ import annotations

import tempfile
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings

from graph.analysis.paths import PathQuery, RiskPath, trace_risk_paths
from graph.analysis.tiers import tier_map, tier_of_cohort
from graph.analysis.traverse import decision_scope, visible
from graph.embedded import EmbeddedStore
from graph.model import GraphData
from graph.scoring import load_scoring
from graph.store import GraphStore
from graph.view import GraphView
from graph.vocabulary import SUPPLY_LINKS, EntityKind, LinkType, Status
from tests.chains import random_chains
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


@pytest.mark.parametrize("backend", ["embedded", "neo4j"])
def test_both_stores_trace_identically(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Written to a store and read back through ``view(around=...)``, every answer is unchanged."""
    neo4j = _neo4j_store(request.getfixturevalue("neo4j_uri")) if backend == "neo4j" else None

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
            assert trace_risk_paths(store.view(origin), query, SCORING) == trace_risk_paths(
                reference_view, query, SCORING
            ), origin
        for cohort in data.cohorts:
            query = PathQuery(target=cohort.id, limit=None)
            assert trace_risk_paths(store.view(cohort.id), query, SCORING) == trace_risk_paths(
                reference_view, query, SCORING
            ), cohort.id

    try:
        check()
    finally:
        if neo4j is not None:
            neo4j.close()

"""Maps of chains too large to draw one by one: a budget, groups that hold what they stand
for, groups that open, and a risk path highlighted through them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from laborgraph.graph.analysis import regions
from laborgraph.graph.analysis.paths import PathQuery, trace_risk_paths
from laborgraph.graph.analysis.tiers import tiers_below
from laborgraph.graph.embedded import EmbeddedStore
from laborgraph.graph.errors import InvalidQuery
from laborgraph.graph.scoring import load_scoring
from laborgraph.graph.store import GraphStore
from laborgraph.visualize.budget import MAX_NODES
from laborgraph.visualize.map import build_map, chain_map, map_region
from laborgraph.visualize.model import MapModel
from laborgraph.visualize.render import render_map_html
from tests.browser.generate import large_chain

BUYER = "org-buyer-0"


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    store = EmbeddedStore(tmp_path_factory.mktemp("large-map-store"))
    store.write(large_chain(cohorts=6000))
    return store


@pytest.fixture(scope="module")
def everything(large: EmbeddedStore) -> MapModel:
    return chain_map(large, load_scoring())


def held(model: MapModel) -> tuple[int, int]:
    """Cohorts and workers the map's nodes stand for."""
    cohorts = sum(
        1 if n.kind == "cohort" else n.cohort_count for n in model.nodes if n.kind != "organization"
    )
    workers = sum(n.headcount or 0 for n in model.nodes if n.kind != "organization")
    return cohorts, workers


def test_a_large_chain_is_drawn_within_the_budget_and_its_groups_hold_everything(
    everything: MapModel,
) -> None:
    kinds = Counter(n.kind for n in everything.nodes)
    assert len(everything.nodes) <= MAX_NODES < everything.stats.organizations + everything.stats.cohorts
    assert kinds["cohort_group"] > 0 and kinds["organization"] > 0
    assert held(everything) == (everything.stats.cohorts, everything.stats.workers)
    assert len(render_map_html(everything).encode()) < 2 * 2**20
    assert any("Click a group to open it" in note for note in everything.notes)


def test_a_group_is_coloured_by_its_worst_cohort_and_opens_on_its_organization(
    large: EmbeddedStore, everything: MapModel
) -> None:
    groups = [n for n in everything.nodes if n.kind == "cohort_group"]
    group = max(groups, key=lambda n: (n.severity or 0, n.cohort_count))
    assert group.severity is not None
    org = group.id.removeprefix("#group:")
    assert group.drill == {"focus": org, "depth": "1"}
    opened = chain_map(
        large,
        load_scoring(),
        viewpoint=group.drill.get("viewpoint"),
        focus=org,
        depth=int(group.drill["depth"]),
    )
    inside = [n for n in opened.nodes if n.kind == "cohort" and not n.suppressed]
    assert len(inside) + sum(n.suppressed for n in opened.nodes) >= group.cohort_count
    assert max(n.severity or 0 for n in inside) == group.severity
    assert [c.label for c in opened.trail][-1].startswith("Around ")
    # Read from the organization's partners only, the neighbourhood is the whole graph's.
    whole = build_map(regions.region_view(large), focus=org, depth=1, budget=10_000)
    assert {(n.id, n.cohort_count, n.headcount) for n in opened.nodes} == {
        (n.id, n.cohort_count, n.headcount) for n in whole.nodes
    }
    assert opened.trail[-2].params == {}  # back to the whole map


def test_organizations_group_by_tier_and_country_past_the_budget_and_open_as_a_region(
    large: EmbeddedStore,
) -> None:
    view = regions.region_view(large)
    paths = trace_risk_paths(view, PathQuery(origin=BUYER, limit=50), load_scoring())
    model = build_map(view, viewpoint=BUYER, paths=paths, budget=40)
    groups = [n for n in model.nodes if n.kind == "organization_group"]
    assert groups and len(model.nodes) <= 40
    assert held(model) == (model.stats.cohorts, model.stats.workers)
    tiers = tiers_below(view, BUYER)
    biggest = max(groups, key=lambda n: n.organization_count)
    assert biggest.drill is not None and biggest.drill["viewpoint"] == BUYER
    tier, country = map_region(biggest.drill["tier"], biggest.drill["country"]) or (None, "")
    members = {o.id for o in view.organizations() if tiers.get(o.id) == tier and o.country == country}
    assert biggest.organization_count == len(members)
    opened = build_map(view, viewpoint=BUYER, paths=paths, region=(tier, country))
    assert {n.id for n in opened.nodes if n.kind == "organization"} == members
    assert opened.trail[-1].label == f"Organizations in {country}, tier {tier}"
    # The worst path still highlights, through the groups it runs through.
    top = next(p for p in model.paths if p.rank == 1)
    assert top.node_ids[0] == BUYER and len(top.edge_ids) == len(top.node_ids) - 1
    assert {e.id for e in model.edges} >= set(top.edge_ids)


def test_a_group_of_organizations_needs_a_tier_and_a_country() -> None:
    assert map_region(None, None) is None
    assert map_region("", "ke") == (None, "KE")
    for tier, country in (("2", None), (None, "KE"), ("two", "KE")):
        with pytest.raises(InvalidQuery):
            map_region(tier, country)


def test_both_stores_draw_the_same_map(store: GraphStore, tmp_path: Path) -> None:
    data = large_chain(cohorts=1500)
    store.write(data)
    reference = EmbeddedStore(tmp_path / "reference")
    reference.write(data)
    config = load_scoring()
    drawn = chain_map(store, config, viewpoint=BUYER)
    assert drawn.model_dump() == chain_map(reference, config, viewpoint=BUYER).model_dump()
    group = next(n for n in drawn.nodes if n.drill and "focus" in n.drill)
    opened = chain_map(store, config, viewpoint=BUYER, focus=group.drill["focus"], depth=1)
    assert (
        opened.model_dump()
        == chain_map(reference, config, viewpoint=BUYER, focus=group.drill["focus"], depth=1).model_dump()
    )

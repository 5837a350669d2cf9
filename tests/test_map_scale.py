"""Maps of chains too large to draw one by one: a budget, groups that hold what they stand
for, groups that open, and a risk path highlighted through them."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from laborgraph.graph.analysis import regions
from laborgraph.graph.analysis.actions import with_open_actions
from laborgraph.graph.analysis.outline import chain_outline, details
from laborgraph.graph.analysis.paths import PathQuery, trace_risk_paths
from laborgraph.graph.analysis.privacy import DEFAULT_PRIVACY
from laborgraph.graph.analysis.tiers import tiers_below
from laborgraph.graph.embedded import EmbeddedStore
from laborgraph.graph.errors import InvalidQuery
from laborgraph.graph.model import GraphData, Link
from laborgraph.graph.scoring import load_scoring
from laborgraph.graph.store import GraphStore
from laborgraph.graph.vocabulary import LinkType
from laborgraph.visualize.budget import MAX_NODES
from laborgraph.visualize.map import MAX_PATHS, build_map, chain_map, map_region
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


def shared_chain(cohorts: int = 6000) -> GraphData:
    """The large chain, with every tenth cohort engaged by a second organization too."""
    data = large_chain(cohorts=cohorts)
    employers = sorted({k.from_id for k in data.links if k.type is LinkType.ENGAGES})
    more = [
        Link(
            from_id=employers[(i * 7) % len(employers)],
            to_id=f"coh-{i}",
            type=LinkType.ENGAGES,
            project="extra",
        )
        for i in range(0, cohorts, 10)
    ]
    return data.model_copy(update={"links": [*data.links, *more]})


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    store = EmbeddedStore(tmp_path_factory.mktemp("shared-map-store"))
    store.write(shared_chain())
    return store


def listed_map(store: GraphStore, **asked: object) -> MapModel:
    """The map of every buyer with every cohort read as a row: what counting must not change."""
    config = load_scoring()
    with store.read() as reader:
        outline = chain_outline(reader, None, config)
        query = PathQuery(limit=MAX_PATHS)
        paths = trace_risk_paths(regions.path_region(reader, query, config), query, config, DEFAULT_PRIVACY)
        paths = with_open_actions(reader, paths, date.today())
        return build_map(
            outline.view,
            paths=paths,
            engaged=outline.engaged,
            severity=outline.worst,
            details=lambda cohort_ids, org_ids: details(reader, outline, cohort_ids, org_ids),
            **asked,  # type: ignore[arg-type]
        )


def test_the_map_of_every_buyer_counts_cohorts_it_does_not_draw_and_shows_the_same(
    shared: EmbeddedStore,
) -> None:
    """Cohorts inside groups of organizations are counted by the store, not read one by
    one: the map is the one every cohort read as a row would give, cohorts engaged twice
    counted once."""
    counted = chain_map(shared, load_scoring())
    assert any(n.kind == "organization_group" for n in counted.nodes)
    assert counted.model_dump() == listed_map(shared).model_dump()
    assert held(counted) == (counted.stats.cohorts, counted.stats.workers) == (6000, counted.stats.workers)
    # A group of organizations, opened from it, holds what the group said it holds.
    group = max((n for n in counted.nodes if n.kind == "organization_group"), key=lambda n: n.cohort_count)
    assert group.drill is not None and "viewpoint" not in group.drill
    region = map_region(group.drill["tier"], group.drill["country"])
    opened = chain_map(shared, load_scoring(), region=region)
    assert opened.model_dump() == listed_map(shared, region=region).model_dump()
    assert (opened.stats.organizations, opened.stats.cohorts) == (
        group.organization_count,
        group.cohort_count,
    )
    assert opened.stats.workers == group.headcount


def test_links_between_groups_are_one_edge_per_pair_with_their_count_within_a_budget(
    shared: EmbeddedStore,
) -> None:
    whole = listed_map(shared)
    between = [e for e in whole.edges if e.source.startswith("#orgs:") or e.target.startswith("#orgs:")]
    assert between and all(e.count and e.count >= 1 for e in between)
    pairs = Counter((e.source, e.target) for e in between)
    assert max(pairs.values()) == 1  # every type of link between two nodes in one edge
    merged = next(e for e in between if e.count and e.count > 1)
    assert f"{merged.count:,} links" in merged.title and merged.title.count("\n") <= 2
    # Past the budget only the strongest are drawn, each node keeps one, and a note says so.
    few = listed_map(shared, max_between=10)
    kept = [e for e in few.edges if e.count is not None]
    assert 10 <= len(kept) < len(between)
    ends = {end for e in kept for end in (e.source, e.target)}
    assert {n.id for n in few.nodes if n.kind == "organization_group"} <= ends
    assert min(e.count or 0 for e in kept) >= 1
    assert any("strongest of" in note for note in few.notes)
    top = next(p for p in few.paths if p.rank == 1)
    assert {e.id for e in few.edges} >= set(top.edge_ids)


def test_the_map_of_every_buyer_stays_within_two_megabytes(shared: EmbeddedStore) -> None:
    page = render_map_html(chain_map(shared, load_scoring()))
    assert len(page.encode()) < 2 * 2**20


def test_both_stores_draw_the_same_map_of_every_buyer(store: GraphStore, tmp_path: Path) -> None:
    """Counted by each store's own aggregates, cohorts engaged twice among them."""
    data = shared_chain(cohorts=1500)
    store.write(data)
    reference = EmbeddedStore(tmp_path / "reference")
    reference.write(data)
    config = load_scoring()
    drawn = chain_map(store, config)
    assert any(n.kind == "organization_group" for n in drawn.nodes)
    assert drawn.model_dump() == chain_map(reference, config).model_dump()
    assert drawn.model_dump() == listed_map(store).model_dump()

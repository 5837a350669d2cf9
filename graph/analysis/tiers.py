"""Tiers: how many contracting steps below a viewpoint each organization and cohort sits.

Computed on demand, never stored: the same vendor is tier 1 for one buyer and tier 3 for
another. A cohort has the tier of the organization that engages it (the nearest one, if
several do). The walk follows the links the viewpoint can see (its own projects and
unscoped links; everything, for an organization that owns no project).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable

from pydantic import BaseModel, Field

from laborgraph.graph.analysis.traverse import ENGAGES, SUPPLY, follows, supply_out, viewpoint_scope, visible
from laborgraph.graph.model import Cohort, Organization
from laborgraph.graph.store import MAX_DEPTH, EngagedCohort
from laborgraph.graph.view import GraphView
from laborgraph.graph.vocabulary import EntityKind


class TierEntry(BaseModel):
    id: str
    name: str
    entity: EntityKind
    kinds: list[str] = []  # an organization's kinds
    country: str
    headcount: int | None = None
    tier: int
    via: str | None  # the organization one tier up on a shortest chain (None for the viewpoint)
    link: str | None  # the type of the link from ``via``


class TierCount(BaseModel):
    tier: int
    organizations: int
    cohorts: int
    workers: int = Field(description="headcount of its cohorts (small cohorts left out unless shown)")


class CountryCount(BaseModel):
    country: str
    organizations: int
    cohorts: int
    workers: int


class TierMap(BaseModel):
    viewpoint: str
    viewpoint_name: str
    max_tier: int
    tiers: list[TierCount] = Field(description="what each tier holds")
    countries: list[CountryCount] = Field(
        description="what the chain holds in each country, most workers first"
    )
    total: int = Field(description="organizations and cohorts downstream, the viewpoint included")
    offset: int = 0
    limit: int | None = None
    next_offset: int | None = Field(None, description="offset of the next page; null on the last page")
    entries: list[TierEntry] = Field(description="by tier, organizations first, then by id")


def _walk(view: GraphView, viewpoint: str) -> dict[str, tuple[int, str | None, str | None]]:
    """(tier, via, link type) for each organization and cohort below the viewpoint."""
    scope = viewpoint_scope(view, viewpoint)
    found: dict[str, tuple[int, str | None, str | None]] = {viewpoint: (0, None, None)}
    queue = deque([viewpoint])
    while queue:
        org = queue.popleft()
        tier = found[org][0]
        for link in sorted(view.out_links(org, ENGAGES), key=lambda k: k.to_id):
            if visible(link, scope) and link.to_id not in found:
                found[link.to_id] = (tier, org, link.type.value)
        if tier == MAX_DEPTH:
            continue
        for link in sorted(view.out_links(org), key=lambda k: (k.to_id, k.type.value)):
            if visible(link, scope) and link.to_id not in found:
                found[link.to_id] = (tier + 1, org, link.type.value)
                queue.append(link.to_id)
    return found


def tiers_below(view: GraphView, viewpoint: str) -> dict[str, int]:
    """The tier of each organization and cohort below ``viewpoint`` (itself: 0)."""
    return {node_id: tier for node_id, (tier, _, _) in _walk(view, viewpoint).items()}


def tier_map(
    view: GraphView, viewpoint: str, offset: int = 0, limit: int | None = None, private_below: int = 0
) -> TierMap:
    """Every organization and cohort downstream of ``viewpoint`` with its tier: what each
    tier and country holds, and the page of entries asked for.

    Workers in cohorts smaller than ``private_below`` are left out of the totals, which could
    otherwise give a suppressed cohort's headcount away."""
    root = view.organization(viewpoint)
    walked = _walk(view, viewpoint)
    tiers: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    countries: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    order = []
    for node_id, (tier, _, _) in walked.items():
        entity = view.node(node_id)
        is_cohort = isinstance(entity, Cohort)
        workers = (entity.headcount or 0) if isinstance(entity, Cohort) else 0
        workers = workers if workers >= private_below else 0
        for counts in (tiers[tier], countries[entity.country]):
            counts[is_cohort] += 1
            counts[2] += workers
        order.append((tier, is_cohort, node_id))
    order.sort()
    stop = None if limit is None else offset + limit
    entries = []
    for tier, _, node_id in order[offset:stop]:
        entity = view.node(node_id)
        _, via, link = walked[node_id]
        entries.append(
            TierEntry(
                id=node_id,
                name=entity.name,
                entity=entity.entity,
                kinds=[k.value for k in entity.kinds] if isinstance(entity, Organization) else [],
                country=entity.country,
                headcount=entity.headcount if isinstance(entity, Cohort) else None,
                tier=tier,
                via=via,
                link=link,
            )
        )
    return TierMap(
        viewpoint=viewpoint,
        viewpoint_name=root.name,
        max_tier=max(tiers),
        tiers=[
            TierCount(tier=t, organizations=o, cohorts=c, workers=w) for t, (o, c, w) in sorted(tiers.items())
        ],
        countries=[
            CountryCount(country=country, organizations=o, cohorts=c, workers=w)
            for country, (o, c, w) in sorted(countries.items(), key=lambda item: (-item[1][2], item[0]))
        ],
        total=len(order),
        offset=offset,
        limit=limit,
        next_offset=stop if stop is not None and stop < len(order) else None,
        entries=entries,
    )


def tier_counts(
    skeleton: GraphView, viewpoint: str, engaged: Iterable[EngagedCohort], private_below: int = 0
) -> list[TierCount]:
    """What each tier below ``viewpoint`` holds, as ``tier_map`` counts it, from a view of
    its organizations and supply links and its ENGAGES links as rows: a cohort sits in the
    tier of the first organization the walk finds engaging it, the nearest."""
    org_tiers = tiers_below(skeleton, viewpoint)
    cohorts: dict[str, tuple[int, int]] = {}  # cohort → (tier, workers counted)
    for row in engaged:
        tier = org_tiers.get(row.organization_id)
        if tier is not None and tier < cohorts.get(row.cohort_id, (MAX_DEPTH + 1, 0))[0]:
            cohorts[row.cohort_id] = (tier, 0 if (row.headcount or 0) < private_below else row.headcount or 0)
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for tier in org_tiers.values():
        counts[tier][0] += 1
    for tier, workers in cohorts.values():
        counts[tier][1] += 1
        counts[tier][2] += workers
    return [
        TierCount(tier=t, organizations=o, cohorts=c, workers=w) for t, (o, c, w) in sorted(counts.items())
    ]


def tier_of_cohort(view: GraphView, viewpoint: str, cohort_id: str) -> int | None:
    """The cohort's tier as seen from ``viewpoint``; None if the viewpoint does not reach it.

    Tracing asks this once per path, for cohorts usually a few tiers down. Rather than walk
    the viewpoint's whole chain, the walk is kept between calls (per view) and goes one
    tier further at a time, only until an organization engaging the cohort turns up.
    """
    key = ("tier-walk", viewpoint)
    walk = view.memo.get(key)
    if not isinstance(walk, _TierWalk):
        walk = view.memo[key] = _TierWalk(view, viewpoint)
    return walk.tier_of(cohort_id)


class _TierWalk:
    """A breadth-first walk from a viewpoint that advances one tier at a time, on demand."""

    def __init__(self, view: GraphView, viewpoint: str) -> None:
        self.view = view
        self.scope = viewpoint_scope(view, viewpoint)
        self.tier = {viewpoint: 0}
        self.frontier = [viewpoint]
        self.depth = 0

    def tier_of(self, cohort_id: str) -> int | None:
        pred = self.view.graph._pred[cohort_id]
        engagers = [org for org, keys in pred.items() if follows(keys, ENGAGES, self.scope)]
        while True:
            # Organizations are found in order of tier: once one engager is found, no
            # engager still unfound can be nearer.
            found = [self.tier[org] for org in engagers if org in self.tier]
            if found:
                return min(found)
            if not self.frontier or self.depth == MAX_DEPTH:
                return None
            self._advance()

    def _advance(self) -> None:
        self.depth += 1
        reached = []
        for org in self.frontier:
            for target, keys in supply_out(self.view, org):
                if target not in self.tier and follows(keys, SUPPLY, self.scope):
                    self.tier[target] = self.depth
                    reached.append(target)
        self.frontier = reached

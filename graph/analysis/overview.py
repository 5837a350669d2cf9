"""The front door of a large graph: every buyer, how many workers its decisions reach, and
the worst risk among them, so an analyst can pick the chain to open.

Workers reached come from one reach of the whole graph (graph.analysis.reach: the skeleton
and the ENGAGES links streamed once); the worst risk of each buyer from the store's risk
index, one seek per scoring class until one finds a cohort (graph.analysis.ranking).
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, Field

from laborgraph.graph.analysis.paths import reached_engagers, walk_groups
from laborgraph.graph.analysis.ranking import ALL_DIMENSIONS, worst_risk
from laborgraph.graph.analysis.reach import NOBODY, Reach, Reachers
from laborgraph.graph.analysis.whole import WholeGraph
from laborgraph.graph.scoring import ScoringConfig
from laborgraph.graph.store import DEFAULT_DEPTH, GraphReader
from laborgraph.graph.vocabulary import LinkType, OrgKind


class BuyerOverview(BaseModel):
    buyer_id: str
    buyer_name: str
    country: str
    suppliers: int = Field(description="organizations it contracts directly (tier 1)")
    units: int
    decisions: int
    cohorts_reached: int = Field(description="cohorts its decisions reach")
    workers_reached: int = Field(description="their workers (small cohorts left out unless shown)")
    worst_severity: int | None = Field(description="severity of the worst risk its decisions reach")


class Overview(BaseModel):
    organizations: int
    cohorts: int
    buyers: list[BuyerOverview] = Field(description="worst risk first, then most workers reached")


def buyers_overview(
    whole: WholeGraph,
    reader: GraphReader,
    config: ScoringConfig,
    private_below: int = 0,
    depth: int = DEFAULT_DEPTH,
) -> Overview:
    """Every buyer of the graph with what its decisions reach. Workers in cohorts smaller
    than ``private_below`` are left out of the totals."""
    skeleton = whole.skeleton
    reach = Reach(skeleton, whole.engagements(), depth)
    cohorts_of: Counter[Reachers] = Counter()
    workers_of: Counter[Reachers] = Counter()
    cohorts = 0
    for cohort in whole.cohorts():
        cohorts += 1
        found = reach.of(cohort.id)
        if found is not NOBODY:
            cohorts_of[found] += 1
            if (cohort.headcount or 0) >= private_below:
                workers_of[found] += cohort.headcount or 0
    reached: Counter[str] = Counter()
    workers: Counter[str] = Counter()
    for found, count in cohorts_of.items():
        for org_id in {found.organization_of[unit] for unit in found.unit_ids}:
            reached[org_id] += count
            workers[org_id] += workers_of[found]
    units: Counter[str] = Counter(unit.organization_id for unit in skeleton.units.values())
    buyers = []
    organizations = 0
    for org in skeleton.organizations():
        organizations += 1
        if OrgKind.buyer not in org.kinds:
            continue
        decisions = skeleton.decisions_of(org.id)
        engagers = reached_engagers(skeleton, walk_groups(skeleton, decisions), depth, ALL_DIMENSIONS)
        buyers.append(
            BuyerOverview(
                buyer_id=org.id,
                buyer_name=org.name,
                country=org.country,
                suppliers=len({k.to_id for k in skeleton.out_links(org.id, (LinkType.CONTRACTS,))}),
                units=units[org.id],
                decisions=len(decisions),
                cohorts_reached=reached[org.id],
                workers_reached=workers[org.id],
                worst_severity=worst_risk(reader, engagers, config) if engagers else None,
            )
        )
    buyers.sort(key=lambda b: (-(b.worst_severity or 0), -b.workers_reached, b.buyer_id))
    return Overview(organizations=organizations, cohorts=cohorts, buyers=buyers)

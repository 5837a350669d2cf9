"""Who affects a cohort (influencers), and how fragmented those decisions are.

Influence is reach: a decision influences a cohort when its effect travels down to it within
the depth bound and its dimensions touch the cohort, whatever the recorded status. Risk paths
are the subset where a recorded condition is not met.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict

from pydantic import BaseModel, Field

from laborgraph.graph.analysis.reach import NOBODY, Reach, Reachers
from laborgraph.graph.analysis.traverse import chains_to, check_depth, decision_scope, upstream_orgs
from laborgraph.graph.analysis.whole import WholeGraph
from laborgraph.graph.collector import collector_paused
from laborgraph.graph.model import Unit
from laborgraph.graph.scoring import ScoringConfig
from laborgraph.graph.store import DEFAULT_DEPTH
from laborgraph.graph.view import GraphView
from laborgraph.graph.vocabulary import Dimension, EvidenceGrade, Lever, Status, UnitFunction


class DimensionEffect(BaseModel):
    dimension: Dimension
    status: Status | None  # None: no condition recorded (a visibility gap)
    severity: int | None  # None where the condition is met or unrecorded


class InfluenceRoute(BaseModel):
    decision_id: str
    lever: Lever
    project: str | None
    applies_to: str
    evidence_grade: EvidenceGrade
    chains: list[list[str]]  # organization ids from applies_to to the engaging organization
    effects: list[DimensionEffect]


class Influencer(BaseModel):
    unit_id: str
    unit_name: str
    function: UnitFunction
    organization_id: str
    organization_name: str
    worst_severity: int | None
    routes: list[InfluenceRoute]


class Influencers(BaseModel):
    cohort_id: str
    cohort_name: str
    dimension: Dimension | None
    units: int
    organizations: int
    influencers: list[Influencer]


def influencers(
    view: GraphView,
    cohort_id: str,
    config: ScoringConfig,
    dimension: Dimension | None = None,
    depth: int = DEFAULT_DEPTH,
) -> Influencers:
    """Every unit whose decisions reach the cohort (on ``dimension``, if given), worst first."""
    check_depth(depth)
    cohort = view.cohort(cohort_id)
    recorded = view.conditions.get(cohort_id, {})
    upstream = upstream_orgs(view, cohort_id, depth)
    by_unit: dict[str, list[InfluenceRoute]] = defaultdict(list)
    for decision in sorted(view.decisions.values(), key=lambda d: d.id):
        if decision.applies_to not in upstream:
            continue
        dims = [d for d in decision.effective_dimensions if dimension in (None, d)]
        if not dims:
            continue
        chains = chains_to(view, decision.applies_to, cohort_id, decision_scope(view, decision), depth)
        if not chains:
            continue
        effects = []
        for dim in dims:
            condition = recorded.get(dim)
            severity = None
            if condition is not None and config.likelihood_of(condition.status) is not None:
                severity = config.severity_of(condition)[0]
            effects.append(
                DimensionEffect(dimension=dim, status=condition and condition.status, severity=severity)
            )
        by_unit[decision.unit_id].append(
            InfluenceRoute(
                decision_id=decision.id,
                lever=decision.lever,
                project=decision.project,
                applies_to=decision.applies_to,
                evidence_grade=decision.grade,
                chains=[list(chain.org_ids) for chain in chains],
                effects=effects,
            )
        )
    found = []
    for unit_id, routes in by_unit.items():
        unit = view.units[unit_id]
        org = view.organization(unit.organization_id)
        severities = [e.severity for r in routes for e in r.effects if e.severity is not None]
        found.append(
            Influencer(
                unit_id=unit_id,
                unit_name=unit.name,
                function=unit.function,
                organization_id=org.id,
                organization_name=org.name,
                worst_severity=max(severities, default=None),
                routes=routes,
            )
        )
    found.sort(key=lambda i: (-(i.worst_severity or 0), i.organization_id, i.unit_id))
    return Influencers(
        cohort_id=cohort_id,
        cohort_name=cohort.name,
        dimension=dimension,
        units=len(found),
        organizations=len({i.organization_id for i in found}),
        influencers=found,
    )


# -- fragmentation ---------------------------------------------------------------------


class CohortFragmentation(BaseModel):
    cohort_id: str
    cohort_name: str
    headcount: int | None
    units: int
    organizations: int
    unit_ids: list[str]


class UnitReach(BaseModel):
    unit_id: str
    unit_name: str
    function: UnitFunction
    cohorts: int
    workers: int  # headcount summed over the distinct cohorts its decisions reach


class BuyerFragmentation(BaseModel):
    buyer_id: str
    buyer_name: str
    units: list[UnitReach]


class UnitsPerCohort(BaseModel):
    units: int = Field(description="distinct units whose decisions reach a cohort")
    cohorts: int = Field(description="cohorts reached by that many units")


class Fragmentation(BaseModel):
    total: int = Field(description="cohorts in the graph, listed in ``cohorts`` a page at a time")
    units_per_cohort: list[UnitsPerCohort] = Field(description="how many cohorts that many units reach")
    offset: int = 0
    limit: int | None = None
    next_offset: int | None = Field(None, description="offset of the next page; null on the last page")
    cohorts: list[CohortFragmentation] = Field(description="most fragmented first")
    buyers: list[BuyerFragmentation]


class FragmentationRanking(BaseModel):
    """The first ``held`` cohorts of the ranking, and what fragmentation says of the whole
    graph: any page within them is cut from it. The units reaching a cohort are listed once
    per set of units reaching some (the cohorts a platform engages share one): the 20,000
    most fragmented cohorts of a 1M-link chain name 63 sets."""

    held: int | None = Field(description="the cohorts ranked here; null: every one")
    total: int
    units_per_cohort: list[UnitsPerCohort]
    buyers: list[BuyerFragmentation]
    unit_sets: list[list[str]] = Field(description="each set of units reaching some ranked cohort")
    organizations: list[int] = Field(description="the organizations of each set's units")
    ranked: list[tuple[str, str, int | None, int]] = Field(
        description="cohort id, name, headcount and its set of units, most fragmented first"
    )

    def page(self, offset: int, limit: int | None) -> Fragmentation:
        """The page of ``limit`` cohorts from ``offset``, which the ranking must hold."""
        stop = None if limit is None else offset + limit
        assert self.held is None or (stop is not None and stop <= self.held), (self.held, offset, limit)
        return Fragmentation(
            total=self.total,
            units_per_cohort=self.units_per_cohort,
            offset=offset,
            limit=limit,
            next_offset=stop if stop is not None and stop < self.total else None,
            cohorts=[
                CohortFragmentation(
                    cohort_id=cohort_id,
                    cohort_name=name,
                    headcount=headcount,
                    units=len(self.unit_sets[units]),
                    organizations=self.organizations[units],
                    unit_ids=list(self.unit_sets[units]),
                )
                for cohort_id, name, headcount, units in self.ranked[offset:stop]
            ],
            buyers=self.buyers,
        )


def fragmentation(
    whole: WholeGraph,
    depth: int = DEFAULT_DEPTH,
    private_below: int = 0,
    offset: int = 0,
    limit: int | None = None,
) -> Fragmentation:
    """How many units and organizations reach each cohort (most first, one page of them);
    which buyer units reach most workers.

    Workers in cohorts smaller than ``private_below`` are left out of a unit's total, which
    could otherwise give a suppressed cohort's headcount away.
    """
    held = None if limit is None else offset + limit
    return ranking(whole, depth, private_below, held).page(offset, limit)


def ranking(
    whole: WholeGraph, depth: int = DEFAULT_DEPTH, private_below: int = 0, held: int | None = None
) -> FragmentationRanking:
    """The ``held`` most fragmented cohorts (every one if None), as ``fragmentation`` pages them."""
    reach = Reach(whole.skeleton, whole.engagements(), depth)
    reached = reach.reached
    cohorts_of: Counter[Reachers] = Counter()  # cohorts reached by each set of reachers
    workers_of: Counter[Reachers] = Counter()
    contenders = _contenders(Counter(reached.values()), held)
    rows: list[tuple[int, int, int, str, str, int | None]] = []
    with collector_paused():  # a million cohorts' rows, no cycles
        for cohort_id, name, headcount in whole.cohorts():
            found = reached.get(cohort_id, NOBODY)
            cohorts_of[found] += 1
            workers = headcount or 0
            if workers >= private_below:
                workers_of[found] += workers
            if found in contenders:
                rank = (-len(found.unit_ids), -found.organizations, -workers)
                rows.append((*rank, cohort_id, name, headcount))
    if held is not None and len(rows) < held and NOBODY not in contenders:
        # Fewer cohorts than ``reached`` named (an ENGAGES link into another kind of node,
        # outside a validated ingest): rank every cohort.
        rows = [
            (-len(found.unit_ids), -found.organizations, -(headcount or 0), cohort_id, name, headcount)
            for cohort_id, name, headcount in whole.cohorts()
            for found in (reached.get(cohort_id, NOBODY),)
        ]
    spread: Counter[int] = Counter()
    for found, n in cohorts_of.items():
        spread[len(found.unit_ids)] += n
    first = sorted(rows) if held is None else heapq.nsmallest(held, rows)
    sets: dict[tuple[str, ...], int] = {}  # each set of units → its place in unit_sets
    organizations: list[int] = []
    ranked = []
    for _, _, _, cohort_id, name, headcount in first:
        found = reached.get(cohort_id, NOBODY)
        if found.unit_ids not in sets:
            sets[found.unit_ids] = len(sets)
            organizations.append(found.organizations)
        ranked.append((cohort_id, name, headcount, sets[found.unit_ids]))
    return FragmentationRanking(
        held=held,
        total=sum(spread.values()),
        units_per_cohort=[UnitsPerCohort(units=n, cohorts=spread[n]) for n in sorted(spread)],
        buyers=_buyers(whole.skeleton, cohorts_of, workers_of),
        unit_sets=[list(unit_ids) for unit_ids in sets],
        organizations=organizations,
        ranked=ranked,
    )


def _rank(reachers: Reachers) -> tuple[int, int]:
    return -len(reachers.unit_ids), -reachers.organizations


def _contenders(cohorts_of: Counter[Reachers], stop: int | None) -> set[Reachers]:
    """The sets of reachers whose cohorts can be among the first ``stop`` (every one when
    ``stop`` is None): the best ranked, by (units, organizations), holding ``stop`` cohorts,
    and all ranked as the last of those. NOBODY, whose count is not known here, ranks last."""
    found: set[Reachers] = set()
    held, last = 0, None
    for reachers, n in sorted(cohorts_of.items(), key=lambda item: _rank(item[0])):
        rank = _rank(reachers)
        if stop is not None and held >= stop and rank != last:
            return found
        found.add(reachers)
        held, last = held + n, rank
    found.add(NOBODY)
    return found


def _buyers(
    skeleton: GraphView, cohorts_of: Counter[Reachers], workers_of: Counter[Reachers]
) -> list[BuyerFragmentation]:
    cohorts_of_unit: Counter[str] = Counter()
    workers_of_unit: Counter[str] = Counter()
    for reachers, cohorts in cohorts_of.items():
        for unit_id in reachers.unit_ids:
            cohorts_of_unit[unit_id] += cohorts
            workers_of_unit[unit_id] += workers_of[reachers]
    units_of: dict[str, list[Unit]] = {}
    for unit in skeleton.units.values():
        units_of.setdefault(unit.organization_id, []).append(unit)
    buyers = []
    for org in sorted(skeleton.organizations(), key=lambda o: o.id):
        if "buyer" not in org.kinds:
            continue
        reaches = [
            UnitReach(
                unit_id=u.id,
                unit_name=u.name,
                function=u.function,
                cohorts=cohorts_of_unit[u.id],
                workers=workers_of_unit[u.id],
            )
            for u in units_of.get(org.id, [])
        ]
        reaches.sort(key=lambda r: (-r.workers, -r.cohorts, r.unit_id))
        buyers.append(BuyerFragmentation(buyer_id=org.id, buyer_name=org.name, units=reaches))
    return buyers

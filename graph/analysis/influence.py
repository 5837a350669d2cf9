"""Who affects a cohort (influencers), and how fragmented those decisions are.

Influence is reach: a decision influences a cohort when its effect travels down to it within
the depth bound and its dimensions touch the cohort, whatever the recorded status. Risk paths
are the subset where a recorded condition is not met.
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel

from graph.analysis.traverse import (
    chains_to,
    check_depth,
    cohort_distances,
    decision_scope,
    upstream_orgs,
)
from graph.scoring import ScoringConfig
from graph.store import DEFAULT_DEPTH
from graph.view import GraphView
from graph.vocabulary import Dimension, EvidenceGrade, Lever, Status, UnitFunction


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


class Fragmentation(BaseModel):
    cohorts: list[CohortFragmentation]
    buyers: list[BuyerFragmentation]


def reach_by_decision(view: GraphView, depth: int = DEFAULT_DEPTH) -> dict[str, set[str]]:
    """The cohorts each decision reaches within ``depth`` links (any dimension)."""
    check_depth(depth)
    cache: dict[object, set[str]] = {}
    reached: dict[str, set[str]] = {}
    for decision in view.decisions.values():
        key = (decision.applies_to, decision_scope(view, decision))
        if key not in cache:
            cache[key] = set(cohort_distances(view, decision.applies_to, key[1], depth))
        reached[decision.id] = cache[key]
    return reached


def fragmentation(view: GraphView, depth: int = DEFAULT_DEPTH, private_below: int = 0) -> Fragmentation:
    """How many units and organizations reach each cohort; which buyer units reach most workers.

    Workers in cohorts smaller than ``private_below`` are left out of a unit's total, which
    could otherwise give a suppressed cohort's headcount away.
    """
    reached = reach_by_decision(view, depth)
    units_of_cohort: dict[str, set[str]] = defaultdict(set)
    cohorts_of_unit: dict[str, set[str]] = defaultdict(set)
    for decision_id, cohort_ids in reached.items():
        unit_id = view.decisions[decision_id].unit_id
        cohorts_of_unit[unit_id] |= cohort_ids
        for cohort_id in cohort_ids:
            units_of_cohort[cohort_id].add(unit_id)
    cohorts = []
    for cohort in view.cohorts():
        units = units_of_cohort.get(cohort.id, set())
        cohorts.append(
            CohortFragmentation(
                cohort_id=cohort.id,
                cohort_name=cohort.name,
                headcount=cohort.headcount,
                units=len(units),
                organizations=len({view.organization_of(u) for u in units}),
                unit_ids=sorted(units),
            )
        )
    cohorts.sort(key=lambda c: (-c.units, -c.organizations, -(c.headcount or 0), c.cohort_id))
    buyers = []
    for org in sorted(view.organizations(), key=lambda o: o.id):
        if "buyer" not in org.kinds:
            continue
        buyer_units = [u for u in view.units.values() if u.organization_id == org.id]
        reaches = [
            UnitReach(
                unit_id=u.id,
                unit_name=u.name,
                function=u.function,
                cohorts=len(cohorts_of_unit.get(u.id, ())),
                workers=sum(
                    headcount
                    for c in cohorts_of_unit.get(u.id, ())
                    if (headcount := view.cohort(c).headcount or 0) >= private_below
                ),
            )
            for u in buyer_units
        ]
        reaches.sort(key=lambda r: (-r.workers, -r.cohorts, r.unit_id))
        buyers.append(BuyerFragmentation(buyer_id=org.id, buyer_name=org.name, units=reaches))
    return Fragmentation(cohorts=cohorts, buyers=buyers)

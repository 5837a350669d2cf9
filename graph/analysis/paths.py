"""Risk paths: unit → decision → organization → … → engaging organization → cohort → condition.

Ranking depends only on the decision, the cohort and the condition (severity, likelihood,
headcount, then ids), never on the chain between them. So the tracer walks each group of
decisions' reach once (breadth first), takes the (cohort, condition) pairs reached best
first (graph.analysis.ranking), and enumerates chains only for the pairs that make the
requested page: enumerating every simple path of a large chain is what makes naive
tracing slow.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice

from pydantic import BaseModel, Field

from laborgraph.graph.analysis.privacy import SHOW_ALL, Privacy
from laborgraph.graph.analysis.ranking import ALL_DIMENSIONS, DIMENSION_BIT, dimension_bits, ranked_conditions
from laborgraph.graph.analysis.tiers import tier_of_cohort
from laborgraph.graph.analysis.traverse import (
    Chain,
    Scope,
    chains_to,
    check_depth,
    decision_scope,
    engagers_of,
    engages_of,
    memo_org_distances,
    sees,
    upstream_orgs,
)
from laborgraph.graph.benchmarks import benchmark_words
from laborgraph.graph.errors import InvalidQuery
from laborgraph.graph.model import Cohort, Condition, Decision, Organization, Unit
from laborgraph.graph.scoring import ScoringConfig
from laborgraph.graph.store import DEFAULT_DEPTH
from laborgraph.graph.view import GraphView
from laborgraph.graph.vocabulary import (
    ActionKind,
    ActionStatus,
    Dimension,
    Effect,
    EvidenceGrade,
    Lever,
    Status,
)


class Hop(BaseModel):
    """One claim the path rests on, with its evidence."""

    claim: str  # e.g. "unit-x made dec-y", "org-a CONTRACTS org-b", "coh-c pay violates"
    from_id: str
    to_id: str
    relation: str  # DECIDES, CONTRACTS, SUBCONTRACTS, SOURCES_VIA, ENGAGES, CONDITION
    project: str | None = None
    evidence_grade: EvidenceGrade
    source_ids: list[str] = []


class PathAction(BaseModel):
    """An open action on a risk path: on its condition, on the path itself, or on its decision."""

    id: str
    target: str
    kind: ActionKind
    status: ActionStatus
    owner_unit_id: str
    description: str | None
    due_at: date | None
    overdue: bool = Field(description="due_at has passed")
    effect: Effect = Field(description="measured so far on this path's condition (graph.analysis.actions)")


class RiskPath(BaseModel):
    rank: int
    severity: int = Field(ge=1, le=5)
    likelihood: float = Field(ge=0, le=1)
    confidence: float = Field(ge=0, le=1)
    score: float = Field(description="severity × likelihood, 0–5; ranking itself is lexicographic")
    buyer_id: str = Field(description="organization whose unit made the decision")
    buyer_name: str
    unit_id: str
    unit_name: str
    decision_id: str
    lever: Lever
    project: str | None
    applies_to: str
    tier: int | None = Field(description="tier of the cohort as seen from buyer_id; None if unreached")
    chain: list[str] = Field(description="unit, decision, organizations, cohort, condition ids")
    cohort_id: str
    cohort_name: str
    country: str
    headcount: int | None
    dimension: Dimension
    status: Status
    hops: list[Hop]
    explanation: str
    suppressed: bool = False
    actions: list[PathAction] = Field(
        default=[], description="the open actions on this path's condition, the path or its decision"
    )

    @property
    def organizations(self) -> list[str]:
        """The organizations along the path, from where the decision applies to the engager."""
        return self.chain[2:-2]


class PathQuery(BaseModel):
    origin: str | None = Field(None, description="a unit, decision or organization id")
    target: str | None = Field(None, description="a cohort id, or a condition id cohort/dimension")
    dimension: Dimension | None = None
    min_severity: int = Field(1, ge=1, le=5)
    country: str | None = None
    project: str | None = None
    depth: int = DEFAULT_DEPTH
    offset: int = Field(0, ge=0)
    limit: int | None = Field(100, ge=1)

    @property
    def around(self) -> str | None:
        """The entity whose region of the graph the query reads: its origin, else its cohort."""
        return self.origin or (self.target.partition("/")[0] if self.target else None)


@dataclass(frozen=True)
class _Candidate:
    """A decision reaching a recorded, not-met condition: everything ranking needs."""

    decision: Decision
    cohort: Cohort
    condition: Condition
    severity: int
    likelihood: float


def trace_risk_paths(
    view: GraphView, query: PathQuery, config: ScoringConfig, privacy: Privacy = SHOW_ALL
) -> list[RiskPath]:
    """The ranked page of risk paths the query asks for."""
    paths = iter_risk_paths(view, query, config, privacy)
    stop = None if query.limit is None else query.offset + query.limit
    return list(islice(paths, query.offset, stop))


def iter_risk_paths(
    view: GraphView, query: PathQuery, config: ScoringConfig, privacy: Privacy = SHOW_ALL
) -> Iterator[RiskPath]:
    """Every risk path the query matches, best first, built one at a time (for streaming);
    each names its cohort only as ``privacy`` lets it."""
    check_depth(query.depth)
    target_cohort, target_dim = _target(view, query)
    if query.target and "/" in query.target and target_dim is None:
        return  # the condition asked for contradicts the dimension filter
    decisions = select_decisions(view, query.origin)
    if query.project:
        decisions = [d for d in decisions if d.project in (None, query.project)]
    if target_cohort is not None:
        upstream = upstream_orgs(view, target_cohort, query.depth)
        decisions = [d for d in decisions if d.applies_to in upstream]
    groups = walk_groups(view, decisions)
    wanted = DIMENSION_BIT[target_dim] if target_dim else ALL_DIMENSIONS
    rank = 0
    ranked = ranked_conditions(
        view,
        affected_cohorts(view, reached_engagers(view, groups, query.depth, wanted), target_cohort),
        config,
        min_severity=query.min_severity,
        country=query.country.upper() if query.country else None,
        need=None if query.limit is None else query.offset + query.limit,
    )
    for cohort, condition, severity, likelihood in ranked:
        for decision in _deciders(view, groups, cohort.id, condition.dimension, query.depth):
            candidate = _Candidate(decision, cohort, condition, severity, likelihood)
            for chain in _chains(view, decision, cohort.id, query.depth):
                path = _build(view, candidate, chain, config, rank + 1, privacy)
                if query.project and query.project not in _projects(path):
                    continue
                rank += 1
                yield path


def select_decisions(view: GraphView, origin: str | None) -> list[Decision]:
    """The decisions an origin stands for: a decision, a unit's, or an organization's units'."""
    if origin is None:
        return sorted(view.decisions.values(), key=lambda d: d.id)
    entity = view.get(origin)
    if isinstance(entity, Decision):
        return [entity]
    if isinstance(entity, Unit):
        return [d for d in view.decisions_of(entity.organization_id) if d.unit_id == origin]
    if isinstance(entity, Organization):
        return list(view.decisions_of(origin))
    raise InvalidQuery(
        f"{origin!r} is a {entity.entity.value}; paths start at a unit, decision or organization"
    )


def _target(view: GraphView, query: PathQuery) -> tuple[str | None, Dimension | None]:
    if query.target is None:
        return None, query.dimension
    cohort_id, _, dim = query.target.partition("/")
    view.cohort(cohort_id)  # NotFound unless it is a cohort
    if not dim:
        return cohort_id, query.dimension
    try:
        dimension = Dimension(dim)
    except ValueError:
        raise InvalidQuery(f"{dim!r} in {query.target!r} is not a dimension") from None
    if query.dimension and query.dimension != dimension:
        return cohort_id, None  # contradictory filters: nothing matches
    return cohort_id, dimension


WalkGroups = dict[tuple[str, Scope], list[Decision]]  # (start, project scope) → decisions
Engagers = dict[tuple[str, Scope], int]  # (organization, project scope) → dimension bits


def walk_groups(view: GraphView, decisions: list[Decision]) -> WalkGroups:
    """Decisions that walk the same way, from the same start with the same project scope."""
    groups: WalkGroups = {}
    for decision in decisions:
        groups.setdefault((decision.applies_to, decision_scope(view, decision)), []).append(decision)
    return groups


def reached_engagers(view: GraphView, groups: WalkGroups, depth: int, wanted: int) -> Engagers:
    """Organizations the groups reach within ``depth - 1`` supply links, by the project scope
    their ENGAGES links are read under, with the bits of the (``wanted``) dimensions the
    decisions reaching them affect. A few hundred organizations, where their cohorts may be
    tens of thousands, and many groups reach the same ones."""
    engagers: Engagers = {}
    for (start, scope), decisions in groups.items():
        bits = dimension_bits(dim for d in decisions for dim in d.effective_dimensions) & wanted
        if bits:
            for org in memo_org_distances(view, start, scope, depth - 1):
                engagers[org, scope] = engagers.get((org, scope), 0) | bits
    return engagers


def affected_cohorts(view: GraphView, engagers: Engagers, target_cohort: str | None) -> dict[str, int]:
    """Each cohort the engagers engage (in scope), with the bits of the dimensions affected."""
    affected: dict[str, int] = {}
    for (org, scope), bits in engagers.items():
        for cohort_id, projects in engages_of(view, org):
            if (target_cohort is None or cohort_id == target_cohort) and sees(scope, projects):
                affected[cohort_id] = affected.get(cohort_id, 0) | bits
    return affected


def _deciders(
    view: GraphView, groups: WalkGroups, cohort_id: str, dimension: Dimension, depth: int
) -> list[Decision]:
    """The decisions reaching the cohort that affect the dimension, by id."""
    engaged_by = engagers_of(view, cohort_id)
    found = [
        decision
        for (start, scope), decisions in groups.items()
        if any(
            org in memo_org_distances(view, start, scope, depth - 1) and sees(scope, projects)
            for org, projects in engaged_by
        )
        for decision in decisions
        if dimension in decision.effective_dimensions
    ]
    return sorted(found, key=lambda d: d.id)


def _chains(view: GraphView, decision: Decision, cohort_id: str, depth: int) -> list[Chain]:
    # Several candidates (one per dimension) share a chain list; chains_to is cheap to redo
    # for one cohort thanks to its pruning, so no cache is kept here.
    return chains_to(view, decision.applies_to, cohort_id, decision_scope(view, decision), depth)


def _projects(path: RiskPath) -> set[str]:
    return {hop.project for hop in path.hops if hop.project}


def _build(
    view: GraphView, c: _Candidate, chain: Chain, config: ScoringConfig, rank: int, privacy: Privacy
) -> RiskPath:
    decision, cohort, condition = c.decision, c.cohort, c.condition
    unit = view.units[decision.unit_id]
    buyer = view.organization(unit.organization_id)
    shown = privacy.cohort(cohort.id, cohort.name, cohort.headcount)

    def masked(entity_id: str) -> str:
        return privacy.masked(entity_id, cohort.id, shown)

    hops = [
        Hop(
            claim=f"{unit.id} made {decision.id}, applying to {decision.applies_to}",
            from_id=unit.id,
            to_id=decision.applies_to,
            relation="DECIDES",
            project=decision.project,
            evidence_grade=decision.grade,
            source_ids=list(decision.source_ids),
        ),
        *(
            Hop(
                claim=f"{link.from_id} {link.type.value} {masked(link.to_id)}",
                from_id=link.from_id,
                to_id=masked(link.to_id),
                relation=link.type.value,
                project=link.project,
                evidence_grade=link.grade,
                source_ids=list(link.source_ids),
            )
            for link in chain.links
        ),
        Hop(
            claim=f"{shown.id} {condition.dimension.value} {condition.status.value}",
            from_id=shown.id,
            to_id=masked(condition.id),
            relation="CONDITION",
            evidence_grade=condition.grade,
            source_ids=list(condition.source_ids),
        ),
    ]
    confidence = 1.0
    for hop in hops:
        confidence *= config.confidence[hop.evidence_grade]
    tier = tier_of_cohort(view, buyer.id, cohort.id)
    reasons = config.severity_of(condition, values=not shown.suppressed)[1]
    named = privacy.described(shown)
    explanation = _explain(view, c, chain, hops, confidence, tier, buyer, unit, reasons, named)
    if condition.benchmark_id:  # taken from benchmarks.csv: say which
        taken = view.benchmarks.get(condition.benchmark_id)
        explanation += " " + benchmark_words(condition, taken, values=not shown.suppressed)
    return RiskPath(
        rank=rank,
        severity=c.severity,
        likelihood=c.likelihood,
        confidence=round(confidence, 4),
        score=round(c.severity * c.likelihood, 2),
        buyer_id=buyer.id,
        buyer_name=buyer.name,
        unit_id=unit.id,
        unit_name=unit.name,
        decision_id=decision.id,
        lever=decision.lever,
        project=decision.project or next((h.project for h in hops if h.project), None),
        applies_to=decision.applies_to,
        tier=tier,
        chain=[unit.id, decision.id, *chain.org_ids, shown.id, masked(condition.id)],
        cohort_id=shown.id,
        cohort_name=privacy.described(shown),
        country=cohort.country,
        headcount=shown.headcount,
        dimension=condition.dimension,
        status=condition.status,
        hops=hops,
        explanation=explanation,
        suppressed=shown.suppressed,
    )


def _explain(
    view: GraphView,
    c: _Candidate,
    chain: Chain,
    hops: list[Hop],
    confidence: float,
    tier: int | None,
    buyer: Organization,
    unit: Unit,
    reasons: list[str],
    cohort_named: str,
) -> str:
    names = " > ".join(view.organization(org).name for org in chain.org_ids)
    where = f"tier {tier}" if tier is not None else "outside its own tiers"
    dims = "its own dimensions" if c.decision.dimensions else f"the {c.decision.lever.value} lever"
    grades = " × ".join(f"{h.evidence_grade.value}" for h in hops)
    return (
        f"{unit.name} ({buyer.name}) made the {c.decision.lever.value} decision {c.decision.id}, "
        f"which reaches {cohort_named} at {where} through {names}; {dims} covers "
        f"{c.condition.dimension.value}. Severity {c.severity}: {'; '.join(reasons)}. "
        f"Likelihood {c.likelihood:g}: the condition is {c.condition.status.value}. "
        f"Confidence {confidence:.2f} from the evidence on {len(hops)} hops ({grades})."
    )

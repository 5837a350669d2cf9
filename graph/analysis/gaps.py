"""Visibility gaps: where the graph cannot show what happens to workers (DOMAIN.md section 2)."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from pydantic import BaseModel

from graph.analysis.influence import reach_by_decision
from graph.analysis.traverse import cohort_distances
from graph.model import Condition
from graph.scoring import ScoringConfig
from graph.store import DEFAULT_DEPTH, MAX_DEPTH
from graph.view import GraphView
from graph.vocabulary import Dimension, Status


class GapKind(StrEnum):
    organization_without_cohorts = "organization_without_cohorts"
    unknown_condition = "unknown_condition"
    unrecorded_condition = "unrecorded_condition"
    unsourced_condition = "unsourced_condition"
    stale_evidence = "stale_evidence"
    decision_reaches_no_cohort = "decision_reaches_no_cohort"


class Gap(BaseModel):
    kind: GapKind
    entity_id: str
    entity_name: str
    dimension: Dimension | None = None
    detail: str
    related_ids: list[str] = []


def visibility_gaps(
    view: GraphView, config: ScoringConfig, today: date | None = None, depth: int = DEFAULT_DEPTH
) -> list[Gap]:
    """Every gap, grouped by kind, then by entity id and dimension."""
    today = today or date.today()
    reached = reach_by_decision(view, depth)
    gaps = [
        *_orgs_without_cohorts(view),
        *_condition_gaps(view, reached),
        *_evidence_gaps(view, today - timedelta(days=config.evidence.stale_after_days)),
        *(
            Gap(
                kind=GapKind.decision_reaches_no_cohort,
                entity_id=d.id,
                entity_name=d.description or d.id,
                detail=f"{d.lever.value} decision applying to {d.applies_to} reaches no known cohort "
                f"within {depth} links",
                related_ids=[d.unit_id, d.applies_to],
            )
            for d in view.decisions.values()
            if not reached[d.id]
        ),
    ]
    order = list(GapKind)
    gaps.sort(key=lambda g: (order.index(g.kind), g.entity_id, g.dimension or ""))
    return gaps


def _orgs_without_cohorts(view: GraphView) -> list[Gap]:
    gaps = []
    for org in view.organizations():
        takes_work = any(True for _ in view.in_links(org.id))
        passes_work = any(True for _ in view.out_links(org.id))
        if not (takes_work or passes_work) or cohort_distances(view, org.id, None, MAX_DEPTH):
            continue
        onward = sorted({link.to_id for link in view.out_links(org.id)})
        detail = (
            f"routes work onward to {', '.join(onward)} but no cohort is known beneath it"
            if onward
            else "receives work but engages no known cohort and passes it nowhere known"
        )
        gaps.append(
            Gap(
                kind=GapKind.organization_without_cohorts,
                entity_id=org.id,
                entity_name=org.name,
                detail=detail,
                related_ids=onward,
            )
        )
    return gaps


def _condition_gaps(view: GraphView, reached: dict[str, set[str]]) -> list[Gap]:
    reaching: dict[tuple[str, Dimension], list[str]] = {}
    for decision_id, cohorts in reached.items():
        for cohort_id in cohorts:
            for dim in view.decisions[decision_id].effective_dimensions:
                reaching.setdefault((cohort_id, dim), []).append(decision_id)
    gaps = []
    for cohort in view.cohorts():
        recorded = view.conditions.get(cohort.id, {})
        for dim in Dimension:
            condition = recorded.get(dim)
            decisions = sorted(reaching.get((cohort.id, dim), []))
            if condition is not None and condition.status is Status.unknown:
                gaps.append(
                    Gap(
                        kind=GapKind.unknown_condition,
                        entity_id=cohort.id,
                        entity_name=cohort.name,
                        dimension=dim,
                        detail=f"{dim.value} is recorded as unknown",
                        related_ids=decisions,
                    )
                )
            elif condition is None and decisions:
                gaps.append(
                    Gap(
                        kind=GapKind.unrecorded_condition,
                        entity_id=cohort.id,
                        entity_name=cohort.name,
                        dimension=dim,
                        related_ids=decisions,
                        detail=f"{len(decisions)} decision(s) reach {dim.value} but no condition is recorded",
                    )
                )
    return gaps


def _evidence_gaps(view: GraphView, stale_before: date) -> list[Gap]:
    gaps = []
    for cohort_id, by_dim in view.conditions.items():
        name = view.cohort(cohort_id).name if cohort_id in view.graph else cohort_id
        for dim, condition in by_dim.items():
            if not condition.source_ids:
                gaps.append(
                    Gap(
                        kind=GapKind.unsourced_condition,
                        entity_id=cohort_id,
                        entity_name=name,
                        dimension=dim,
                        detail=f"{dim.value} ({condition.status.value}) cites no source",
                    )
                )
            newest = _newest_evidence(view, condition)
            if newest is None or newest < stale_before:
                when = f"newest evidence is from {newest}" if newest else "its evidence is undated"
                gaps.append(
                    Gap(
                        kind=GapKind.stale_evidence,
                        entity_id=cohort_id,
                        entity_name=name,
                        dimension=dim,
                        detail=f"{dim.value}: {when} (older than {stale_before} counts as stale)",
                        related_ids=list(condition.source_ids),
                    )
                )
    return gaps


def _newest_evidence(view: GraphView, condition: Condition) -> date | None:
    dates = [condition.observed_at] + [
        view.sources[s].published_at for s in condition.source_ids if s in view.sources
    ]
    return max((d for d in dates if d is not None), default=None)

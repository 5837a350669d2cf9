"""Visibility gaps: where the graph cannot show what happens to workers (DOMAIN.md section 2).

A large chain has hundreds of thousands of gaps, so they are counted first (by kind and
dimension) and listed on demand, in order: by kind, then entity id and dimension. Nothing
is built for a gap that is only counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from enum import StrEnum

from pydantic import BaseModel

from graph.analysis.ranking import DIMENSION_BIT
from graph.analysis.reach import Reach
from graph.analysis.traverse import ENGAGES, SUPPLY, follows
from graph.model import Condition, Decision
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


class GapCount(BaseModel):
    kind: GapKind
    dimension: Dimension | None = None
    count: int


DIMENSIONS = sorted(Dimension, key=lambda d: d.value)  # the order gaps of one entity come in


class VisibilityGaps:
    """Every gap of a view: ``counts()`` at once, ``iter()`` one at a time, in order."""

    def __init__(
        self, view: GraphView, config: ScoringConfig, today: date | None = None, depth: int = DEFAULT_DEPTH
    ) -> None:
        self.view = view
        self.depth = depth
        self.reach = Reach(view, depth)
        self.stale_before = (today or date.today()) - timedelta(days=config.evidence.stale_after_days)
        self._cohort_ids = sorted(cohort.id for cohort in view.cohorts())
        self._conditions = sorted(view.conditions)  # cohorts with conditions, some perhaps not in view
        listers: dict[GapKind, Callable[[], Iterator[Gap]]] = {
            GapKind.organization_without_cohorts: self._orgs_without_cohorts,
            GapKind.unknown_condition: self._unknown_conditions,
            GapKind.unrecorded_condition: self._unrecorded_conditions,
            GapKind.unsourced_condition: self._unsourced_conditions,
            GapKind.stale_evidence: self._stale_evidence,
            GapKind.decision_reaches_no_cohort: self._idle_decisions,
        }
        self._listers = listers

    def counts(self) -> list[GapCount]:
        """How many gaps of each kind, and of each kind on each dimension (where it has one)."""
        by_kind: Counter[GapKind] = Counter()
        by_dimension: Counter[tuple[GapKind, Dimension]] = Counter()
        for kind, keys in self._keys().items():
            for dimension in keys():
                by_kind[kind] += 1
                if dimension is not None:
                    by_dimension[kind, dimension] += 1
        found = [GapCount(kind=kind, count=n) for kind, n in by_kind.items()]
        found += [GapCount(kind=kind, dimension=dim, count=n) for (kind, dim), n in by_dimension.items()]
        order = list(GapKind)
        found.sort(key=lambda c: (order.index(c.kind), c.dimension is not None, c.dimension or ""))
        return found

    def iter(self, kind: GapKind | None = None, dimension: Dimension | None = None) -> Iterator[Gap]:
        """The gaps, in order; only those of ``kind`` and on ``dimension`` when given."""
        for each, lister in self._listers.items():
            if kind in (None, each):
                for gap in lister():
                    if dimension is None or gap.dimension is dimension:
                        yield gap

    # -- what each kind is made of ------------------------------------------------------

    def _keys(self) -> dict[GapKind, Callable[[], Iterator[Dimension | None]]]:
        """For each kind, the dimension of each of its gaps, without building them."""

        def of(
            lister: Callable[[], Iterator[tuple[str, Dimension]]],
        ) -> Callable[[], Iterator[Dimension | None]]:
            return lambda: (dimension for _, dimension in lister())

        return {
            GapKind.organization_without_cohorts: lambda: (None for _ in self._dead_ends()),
            GapKind.unknown_condition: of(self._unknown),
            GapKind.unrecorded_condition: of(self._unrecorded),
            GapKind.unsourced_condition: of(self._unsourced),
            GapKind.stale_evidence: lambda: (dim for _, dim, _ in self._stale()),
            GapKind.decision_reaches_no_cohort: lambda: (None for _ in self._idle()),
        }

    def _dead_ends(self) -> Iterator[tuple[str, list[str]]]:
        """Organizations in the chain (taking or passing work on) that reach no cohort within
        MAX_DEPTH links, whatever the project, with where they pass work on to."""
        view, pred = self.view, self.view.graph._pred
        # Reaching a cohort within MAX_DEPTH links: engaging one, or within MAX_DEPTH - 1
        # supply links above an organization that does.
        reaching = {org.id for org in view.organizations() if _engages_any(view, org.id)}
        frontier = list(reaching)
        for _ in range(MAX_DEPTH - 1):
            above = []
            for node in frontier:
                for source, keys in pred[node].items():
                    if source not in reaching and follows(keys, SUPPLY, None):
                        reaching.add(source)
                        above.append(source)
            frontier = above
        for org in sorted(view.organizations(), key=lambda o: o.id):
            if org.id in reaching:
                continue
            onward = sorted({link.to_id for link in view.out_links(org.id)})
            if onward or any(True for _ in view.in_links(org.id)):
                yield org.id, onward

    def _orgs_without_cohorts(self) -> Iterator[Gap]:
        for org_id, onward in self._dead_ends():
            detail = (
                f"routes work onward to {', '.join(onward)} but no cohort is known beneath it"
                if onward
                else "receives work but engages no known cohort and passes it nowhere known"
            )
            yield Gap(
                kind=GapKind.organization_without_cohorts,
                entity_id=org_id,
                entity_name=self.view.organization(org_id).name,
                detail=detail,
                related_ids=onward,
            )

    def _unknown(self) -> Iterator[tuple[str, Dimension]]:
        for cohort_id in self._cohort_ids:
            recorded = self.view.conditions.get(cohort_id, {})
            for dim in DIMENSIONS:
                condition = recorded.get(dim)
                if condition is not None and condition.status is Status.unknown:
                    yield cohort_id, dim

    def _unknown_conditions(self) -> Iterator[Gap]:
        for cohort_id, dim in self._unknown():
            yield self._condition_gap(
                GapKind.unknown_condition, cohort_id, dim, f"{dim.value} is recorded as unknown"
            )

    def _unrecorded(self) -> Iterator[tuple[str, Dimension]]:
        for cohort_id in self._cohort_ids:
            reached = self.reach.of(cohort_id).dimension_bits
            if not reached:
                continue
            recorded = self.view.conditions.get(cohort_id, {})
            for dim in DIMENSIONS:
                if dim not in recorded and reached & DIMENSION_BIT[dim]:
                    yield cohort_id, dim

    def _unrecorded_conditions(self) -> Iterator[Gap]:
        for cohort_id, dim in self._unrecorded():
            decisions = self.reach.of(cohort_id).deciding(dim)
            detail = f"{len(decisions)} decision(s) reach {dim.value} but no condition is recorded"
            yield self._condition_gap(GapKind.unrecorded_condition, cohort_id, dim, detail)

    def _condition_gap(self, kind: GapKind, cohort_id: str, dim: Dimension, detail: str) -> Gap:
        return Gap(
            kind=kind,
            entity_id=cohort_id,
            entity_name=self.view.cohort(cohort_id).name,
            dimension=dim,
            detail=detail,
            related_ids=self.reach.of(cohort_id).deciding(dim),
        )

    def _sourced(self) -> Iterator[tuple[str, Dimension, Condition]]:
        for cohort_id in self._conditions:
            by_dim = self.view.conditions[cohort_id]
            for dim in DIMENSIONS:
                if (condition := by_dim.get(dim)) is not None:
                    yield cohort_id, dim, condition

    def _unsourced(self) -> Iterator[tuple[str, Dimension]]:
        return ((c, dim) for c, dim, condition in self._sourced() if not condition.source_ids)

    def _unsourced_conditions(self) -> Iterator[Gap]:
        for cohort_id, dim in self._unsourced():
            status = self.view.conditions[cohort_id][dim].status.value
            yield Gap(
                kind=GapKind.unsourced_condition,
                entity_id=cohort_id,
                entity_name=self._cohort_name(cohort_id),
                dimension=dim,
                detail=f"{dim.value} ({status}) cites no source",
            )

    def _stale(self) -> Iterator[tuple[str, Dimension, date | None]]:
        for cohort_id, dim, condition in self._sourced():
            newest = self._newest_evidence(condition)
            if newest is None or newest < self.stale_before:
                yield cohort_id, dim, newest

    def _stale_evidence(self) -> Iterator[Gap]:
        for cohort_id, dim, newest in self._stale():
            when = f"newest evidence is from {newest}" if newest else "its evidence is undated"
            yield Gap(
                kind=GapKind.stale_evidence,
                entity_id=cohort_id,
                entity_name=self._cohort_name(cohort_id),
                dimension=dim,
                detail=f"{dim.value}: {when} (older than {self.stale_before} counts as stale)",
                related_ids=list(self.view.conditions[cohort_id][dim].source_ids),
            )

    def _idle(self) -> Iterator[Decision]:
        for decision in sorted(self.view.decisions.values(), key=lambda d: d.id):
            if decision.id not in self.reach.reaching_decisions:
                yield decision

    def _idle_decisions(self) -> Iterator[Gap]:
        for d in self._idle():
            yield Gap(
                kind=GapKind.decision_reaches_no_cohort,
                entity_id=d.id,
                entity_name=d.description or d.id,
                detail=f"{d.lever.value} decision applying to {d.applies_to} reaches no known cohort "
                f"within {self.depth} links",
                related_ids=[d.unit_id, d.applies_to],
            )

    def _cohort_name(self, cohort_id: str) -> str:
        return self.view.cohort(cohort_id).name if cohort_id in self.view.graph else cohort_id

    def _newest_evidence(self, condition: Condition) -> date | None:
        sources = self.view.sources
        dates = [condition.observed_at] + [
            sources[s].published_at for s in condition.source_ids if s in sources
        ]
        return max((d for d in dates if d is not None), default=None)


def visibility_gaps(
    view: GraphView, config: ScoringConfig, today: date | None = None, depth: int = DEFAULT_DEPTH
) -> list[Gap]:
    """Every gap, grouped by kind, then by entity id and dimension."""
    return list(VisibilityGaps(view, config, today, depth).iter())


def _engages_any(view: GraphView, org_id: str) -> bool:
    return any(True for _ in view.out_links(org_id, ENGAGES))

"""Visibility gaps: where the graph cannot show what happens to workers (DOMAIN.md section 2).

A large chain has hundreds of thousands of gaps, so they are counted first (by kind and
dimension) and listed on demand, in order: by kind, then entity id and dimension. Nothing
is built for a gap that is only counted. Actions (graph.analysis.actions) make two kinds:
an action overdue, and one whose condition worsened.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from enum import StrEnum
from functools import partial
from itertools import chain, compress, islice, repeat
from operator import and_, is_, itemgetter, not_
from typing import cast

from pydantic import BaseModel

from laborgraph.graph.analysis.actions import TrackedAction
from laborgraph.graph.analysis.ranking import DIMENSION_BIT
from laborgraph.graph.analysis.reach import NOBODY, Reach, Reachers
from laborgraph.graph.analysis.traverse import orgs_above
from laborgraph.graph.analysis.whole import CohortRecords, WholeGraph, newest_evidence
from laborgraph.graph.collector import collector_paused
from laborgraph.graph.model import Decision
from laborgraph.graph.scoring import ScoringConfig
from laborgraph.graph.store import DEFAULT_DEPTH, MAX_DEPTH
from laborgraph.graph.vocabulary import Dimension, Effect, Status


class GapKind(StrEnum):
    organization_without_cohorts = "organization_without_cohorts"
    unknown_condition = "unknown_condition"
    unrecorded_condition = "unrecorded_condition"
    unsourced_condition = "unsourced_condition"
    stale_evidence = "stale_evidence"
    decision_reaches_no_cohort = "decision_reaches_no_cohort"
    overdue_action = "overdue_action"
    worsened_after_action = "worsened_after_action"


ACTION_GAPS = (GapKind.overdue_action, GapKind.worsened_after_action)
# The gaps of cohorts and their conditions: found walking every cohort's records.
COHORT_GAPS = frozenset(GapKind) - {
    GapKind.organization_without_cohorts,
    GapKind.decision_reaches_no_cohort,
    *ACTION_GAPS,
}


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


class GapCounts(BaseModel):
    """How many gaps of each kind, and of each kind on each dimension, as a whole."""

    counts: list[GapCount]


class GapReport(BaseModel):
    """How many gaps there are, and one page of them."""

    counts: list[GapCount]
    total: int
    offset: int
    limit: int | None
    next_offset: int | None
    items: list[Gap]


_FIRST, _DIMENSION, _STATUS, _OBSERVED, _SOURCES = map(itemgetter, range(5))  # of ConditionFacts

_Row = tuple[str, Dimension | None, object]  # entity id, dimension, what the gap is built from

DIMENSIONS = sorted(Dimension, key=lambda d: d.value)  # the order gaps of one entity come in


class VisibilityGaps:
    """Every gap of the graph: ``counts()`` in one pass, ``iter()`` one at a time, in order."""

    def __init__(
        self,
        whole: WholeGraph,
        config: ScoringConfig,
        today: date | None = None,
        depth: int = DEFAULT_DEPTH,
        actions: Sequence[TrackedAction] = (),
        counted: Callable[[Callable[[], list[GapCount]]], list[GapCount]] | None = None,
    ) -> None:
        """``counted``, when given, is asked for the counts with the means to count them, and
        may give back ones counted before (as Questions keeps them) instead."""
        self.whole = whole
        self.skeleton = whole.skeleton
        self.depth = depth
        self.reach = Reach(whole.skeleton, whole.engagements(), depth)
        self.source_dates = whole.source_dates()
        self.today = today or date.today()
        self.stale_before = self.today - timedelta(days=config.evidence.stale_after_days)
        self.actions = sorted(actions, key=lambda a: a.id)
        self._counted: list[GapCount] | None = None
        self._counter = counted

    def counts(self) -> list[GapCount]:
        """How many gaps of each kind, and of each kind on each dimension (where it has one):
        counted once (a pass over every condition), then reused by every report."""
        if self._counted is None:
            self._counted = self._count() if self._counter is None else self._counter(self._count)
        return self._counted

    def _count(self) -> list[GapCount]:
        found: Counter[tuple[GapKind, Dimension | None]] = Counter()
        found[GapKind.organization_without_cohorts, None] = sum(1 for _ in self._dead_ends())
        with collector_paused():  # millions of short-lived tuples, no cycles
            cohort_counts = self._cohort_counts()
        for (kind, dimension), n in cohort_counts.items():
            found[kind, None] += n
            found[kind, dimension] += n
        found[GapKind.decision_reaches_no_cohort, None] = sum(1 for _ in self._idle())
        for kind in ACTION_GAPS:
            for action in self._of_actions(kind):
                found[kind, None] += 1
                if (dim := _dimension_of(kind, action)) is not None:
                    found[kind, dim] += 1
        order = list(GapKind)
        return [
            GapCount(kind=kind, dimension=dimension, count=n)
            for (kind, dimension), n in sorted(
                found.items(), key=lambda item: (order.index(item[0][0]), item[0][1] or "")
            )
            if n
        ]

    def _cohort_counts(self) -> Counter[tuple[GapKind, Dimension]]:
        """The gaps ``_of_cohort`` finds, counted over every cohort and condition at once.

        A large graph has millions of conditions, so each chunk of them is counted by
        itertools and Counter (C loops) rather than one by one. Unrecorded conditions are
        the dimensions reaching each cohort, less the conditions recorded there."""
        reached = self.reach.reached
        cohorts = map(_FIRST, self.whole.cohorts())  # ids, in the conditions' order
        next_cohort = next(cohorts, None)
        last_cohort: str | None = None
        by_reachers: Counter[Reachers] = Counter()
        unknown: Counter[Dimension] = Counter()
        unsourced: Counter[Dimension] = Counter()
        stale: Counter[Dimension] = Counter()
        recorded: Counter[tuple[Dimension, Reachers]] = Counter()
        stale_before = self.stale_before
        fresh = frozenset(s for s, day in self.source_dates.items() if day and day >= stale_before)
        conditions = self.whole.conditions()
        while chunk := list(islice(conditions, 1 << 16)):
            dims = list(map(_DIMENSION, chunk))
            sources = list(map(_SOURCES, chunk))
            unsourced.update(compress(dims, map(not_, sources)))
            old = {day: day is None or day < stale_before for day in set(map(_OBSERVED, chunk))}
            undated = map(old.__getitem__, map(_OBSERVED, chunk))
            stale.update(compress(dims, map(and_, undated, map(fresh.isdisjoint, sources))))
            window: list[str] = []  # the cohorts up to this chunk's last
            while next_cohort is not None and next_cohort <= chunk[-1][0]:
                window.append(next_cohort)
                next_cohort = next(cohorts, None)
            by_reachers.update(map(reached.get, window, repeat(NOBODY)))
            present = {last_cohort, *window}  # the one before may have conditions here too
            last_cohort = window[-1] if window else last_cohort
            ids = list(map(_FIRST, chunk))
            if not present.issuperset(ids):  # conditions of no cohort make no cohort gaps
                chunk = [c for c in chunk if c[0] in present]
                dims, ids = list(map(_DIMENSION, chunk)), list(map(_FIRST, chunk))
            unknown.update(compress(dims, map(is_, map(_STATUS, chunk), repeat(Status.unknown))))
            recorded.update(zip(dims, map(reached.get, ids, repeat(NOBODY)), strict=True))
        if next_cohort is not None:
            by_reachers.update(map(reached.get, chain((next_cohort,), cohorts), repeat(NOBODY)))
        found: Counter[tuple[GapKind, Dimension]] = Counter()
        for reachers, n in by_reachers.items():
            for dim in DIMENSIONS:
                if reachers.dimension_bits & DIMENSION_BIT[dim]:
                    found[GapKind.unrecorded_condition, dim] += n
        for (dim, reachers), n in recorded.items():
            if reachers.dimension_bits & DIMENSION_BIT[dim]:
                found[GapKind.unrecorded_condition, dim] -= n
        for kind, per_dimension in (
            (GapKind.unknown_condition, unknown),
            (GapKind.unsourced_condition, unsourced),
            (GapKind.stale_evidence, stale),
        ):
            for dim, n in per_dimension.items():
                found[kind, dim] += n
        return found

    def report(
        self,
        kind: GapKind | None = None,
        dimension: Dimension | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> GapReport:
        """The counts, and the page of the gaps (of ``kind``, on ``dimension``) asked for.

        Kinds wholly before the page are skipped by their counts; within a kind, a gap is
        built only once it is on the page."""
        return self._page(kind, dimension, offset, limit, lambda each: self._rows(each, dimension))

    def first_pages(self, limit: int) -> dict[tuple[GapKind | None, Dimension | None], GapReport]:
        """``report(kind, dimension, 0, limit)`` for every kind and every dimension (each
        also None), from one walk over the cohorts where ``report`` walks them once a page."""
        wanted = {(c.kind, c.dimension): min(c.count, limit) for c in self.counts() if c.kind in COHORT_GAPS}
        found: dict[tuple[GapKind, Dimension | None], list[_Row]] = defaultdict(list)
        missing = sum(wanted.values())
        cohorts = self.whole.per_cohort() if missing else iter(())
        for records in cohorts:
            for each, dim in self._of_cohort(records):
                for key in ((each, None), (each, dim)):
                    if len(found[key]) < wanted.get(key, 0):
                        found[key].append((records.cohort_id, dim, records))
                        missing -= 1
            if not missing:
                break

        def rows_of(dimension: Dimension | None, each: GapKind) -> Iterator[_Row]:
            return iter(found[each, dimension]) if each in COHORT_GAPS else self._rows(each, dimension)

        return {
            (kind, dimension): self._page(kind, dimension, 0, limit, partial(rows_of, dimension))
            for kind in (None, *GapKind)
            for dimension in (None, *Dimension)
        }

    def _page(
        self,
        kind: GapKind | None,
        dimension: Dimension | None,
        offset: int,
        limit: int | None,
        rows_of: Callable[[GapKind], Iterator[_Row]],
    ) -> GapReport:
        """A report's page, each kind's gaps on ``dimension`` coming in order from ``rows_of``."""
        counts = self.counts()
        wanted = [c for c in counts if c.kind in (kind or c.kind,) and c.dimension == dimension]
        total = sum(c.count for c in wanted)
        stop = None if limit is None else offset + limit
        items: list[Gap] = []
        skip = offset
        for count in wanted:
            if skip >= count.count:
                skip -= count.count
                continue
            room = None if limit is None else skip + limit - len(items)
            items.extend(self._gap(count.kind, row) for row in islice(rows_of(count.kind), skip, room))
            skip = 0
            if limit is not None and len(items) >= limit:
                break
        return GapReport(
            counts=counts,
            total=total,
            offset=offset,
            limit=limit,
            next_offset=stop if stop is not None and stop < total else None,
            items=items,
        )

    def iter(self, kind: GapKind | None = None, dimension: Dimension | None = None) -> Iterator[Gap]:
        """The gaps, in order; only those of ``kind`` and on ``dimension`` when given."""
        for each in GapKind:
            if kind in (None, each):
                yield from (self._gap(each, row) for row in self._rows(each, dimension))

    def _rows(self, kind: GapKind, dimension: Dimension | None) -> Iterator[_Row]:
        """What each gap of a kind (on ``dimension``, if given) is made of, in order."""
        if kind is GapKind.organization_without_cohorts:
            if dimension is None:
                yield from ((org_id, None, onward) for org_id, onward in self._dead_ends())
        elif kind is GapKind.decision_reaches_no_cohort:
            if dimension is None:
                yield from ((d.id, None, d) for d in self._idle())
        elif kind in ACTION_GAPS:
            for action in self._of_actions(kind):
                dim = _dimension_of(kind, action)
                if dimension in (None, dim):
                    yield action.id, dim, action
        else:
            for records in self.whole.per_cohort():
                for each, dim in self._of_cohort(records):
                    if each is kind and dimension in (None, dim):
                        yield records.cohort_id, dim, records

    def _gap(self, kind: GapKind, row: _Row) -> Gap:
        entity_id, dim, facts = row
        if kind is GapKind.organization_without_cohorts:
            onward = cast(list[str], facts)
            detail = (
                f"routes work onward to {', '.join(onward)} but no cohort is known beneath it"
                if onward
                else "receives work but engages no known cohort and passes it nowhere known"
            )
            name = self.skeleton.organization(entity_id).name
            return Gap(kind=kind, entity_id=entity_id, entity_name=name, detail=detail, related_ids=onward)
        if kind is GapKind.decision_reaches_no_cohort:
            d = cast(Decision, facts)
            return Gap(
                kind=kind,
                entity_id=d.id,
                entity_name=d.description or d.id,
                detail=f"{d.lever.value} decision applying to {d.applies_to} reaches no known cohort "
                f"within {self.depth} links",
                related_ids=[d.unit_id, d.applies_to],
            )
        if kind in ACTION_GAPS:
            return self._action_gap(kind, cast(TrackedAction, facts), dim)
        records = cast(CohortRecords, facts)
        assert dim is not None
        detail, related = self._condition_detail(kind, records, dim)
        return Gap(
            kind=kind,
            entity_id=entity_id,
            entity_name=records.cohort.name if records.cohort else entity_id,
            dimension=dim,
            detail=detail,
            related_ids=related,
        )

    # -- organizations and decisions -----------------------------------------------------

    def _dead_ends(self) -> Iterator[tuple[str, list[str]]]:
        """Organizations in the chain (taking or passing work on) that reach no cohort within
        MAX_DEPTH links, whatever the project, with where they pass work on to."""
        view = self.skeleton
        # Reaching a cohort within MAX_DEPTH links: engaging one, or within MAX_DEPTH - 1
        # supply links above an organization that does.
        reaching = orgs_above(view, self.reach.engagers, MAX_DEPTH - 1)
        for org in sorted(view.organizations(), key=lambda o: o.id):
            if org.id in reaching:
                continue
            onward = sorted({link.to_id for link in view.out_links(org.id)})
            if onward or any(True for _ in view.in_links(org.id)):
                yield org.id, onward

    def _idle(self) -> Iterator[Decision]:
        for decision in sorted(self.skeleton.decisions.values(), key=lambda d: d.id):
            if decision.id not in self.reach.reaching_decisions:
                yield decision

    # -- actions -------------------------------------------------------------------------

    def _of_actions(self, kind: GapKind) -> Iterator[TrackedAction]:
        """The actions overdue, or whose condition worsened, by id."""
        if kind is GapKind.overdue_action:
            return (a for a in self.actions if a.overdue)
        return (a for a in self.actions if a.effect is Effect.worsened)

    def _action_gap(self, kind: GapKind, action: TrackedAction, dim: Dimension | None) -> Gap:
        if kind is GapKind.overdue_action:
            assert action.due_at is not None
            late = (self.today - action.due_at).days
            detail = (
                f"{action.kind.value} action on {action.target} was due {action.due_at} and is still "
                f"{action.status.value} ({late} days overdue); owner {action.owner_unit_id}"
            )
            related = [action.target, action.owner_unit_id]
        else:
            assert action.condition_id is not None
            detail = (
                f"{action.condition_id} worsened after the {action.kind.value} action: {action.explanation}"
            )
            related = [action.condition_id, action.owner_unit_id]
        return Gap(
            kind=kind,
            entity_id=action.id,
            entity_name=action.description or action.id,
            dimension=dim,
            detail=detail,
            related_ids=related,
        )

    # -- cohorts and their conditions ------------------------------------------------------

    def _of_cohort(self, records: CohortRecords) -> Iterator[tuple[GapKind, Dimension]]:
        """(kind, dimension) of each gap a cohort and its conditions make."""
        cohort_id, cohort, conditions = records
        if cohort is not None:
            reached = self.reach.of(cohort_id).dimension_bits
            if reached or conditions:
                for dim in DIMENSIONS:
                    condition = conditions.get(dim)
                    if condition is None:
                        if reached & DIMENSION_BIT[dim]:
                            yield GapKind.unrecorded_condition, dim
                    elif condition.status is Status.unknown:
                        yield GapKind.unknown_condition, dim
        for dim, condition in sorted(conditions.items()):
            if not condition.source_ids:
                yield GapKind.unsourced_condition, dim
            newest = newest_evidence(condition, self.source_dates)
            if newest is None or newest < self.stale_before:
                yield GapKind.stale_evidence, dim

    def _condition_detail(
        self, kind: GapKind, records: CohortRecords, dim: Dimension
    ) -> tuple[str, list[str]]:
        """What a cohort's or condition's gap says, and the ids it names."""
        condition = records.conditions.get(dim)
        if kind is GapKind.unknown_condition:
            return f"{dim.value} is recorded as unknown", self.reach.of(records.cohort_id).deciding(dim)
        if kind is GapKind.unrecorded_condition:
            deciding = self.reach.of(records.cohort_id).deciding(dim)
            return f"{len(deciding)} decision(s) reach {dim.value} but no condition is recorded", deciding
        assert condition is not None
        if kind is GapKind.unsourced_condition:
            return f"{dim.value} ({condition.status.value}) cites no source", []
        newest = newest_evidence(condition, self.source_dates)
        when = f"newest evidence is from {newest}" if newest else "its evidence is undated"
        return f"{dim.value}: {when} (older than {self.stale_before} counts as stale)", list(
            condition.source_ids
        )


def _dimension_of(kind: GapKind, action: TrackedAction) -> Dimension | None:
    """The dimension a gap of an action is on: the condition it targets, or the one that
    worsened (a decision's action is overdue on no one dimension)."""
    if kind is GapKind.overdue_action and action.target_kind == "decision":
        return None
    return Dimension(action.condition_id.rpartition("/")[2]) if action.condition_id else None


def visibility_gaps(
    whole: WholeGraph, config: ScoringConfig, today: date | None = None, depth: int = DEFAULT_DEPTH
) -> list[Gap]:
    """Every gap, grouped by kind, then by entity id and dimension."""
    return list(VisibilityGaps(whole, config, today, depth).iter())

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
from operator import is_, itemgetter, not_
from typing import cast

from pydantic import BaseModel, Field

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


class EvidenceAge(BaseModel):
    """How many conditions on a dimension have their newest evidence from one day."""

    dimension: Dimension
    newest: date | None  # None: no dated evidence at all
    conditions: int


class GapTally(BaseModel):
    """What the gap counts of any day are made of, counted once for a version of the graph:
    every kind but the ones that change with the day, and how old each dimension's evidence
    is, which gives the stale evidence on any day. The actions' gaps are counted anew: they
    are few."""

    counts: list[GapCount] = Field(description="by kind and dimension; no stale evidence, no actions")
    evidence: list[EvidenceAge]
    dead_ends: list[str] = Field(description="the organizations without cohorts, by id")
    idle: list[str] = Field(description="the decisions reaching no cohort, by id")

    def stale(self, stale_before: date) -> Counter[Dimension]:
        """The conditions on each dimension whose evidence is older than ``stale_before``."""
        found: Counter[Dimension] = Counter()
        for age in self.evidence:
            if age.newest is None or age.newest < stale_before:
                found[age.dimension] += age.conditions
        return found


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
_UNDATED = date.min  # the newest evidence of a condition with none dated, while counting


class VisibilityGaps:
    """Every gap of the graph: ``counts()`` in one pass, ``iter()`` one at a time, in order."""

    def __init__(
        self,
        whole: WholeGraph,
        config: ScoringConfig,
        today: date | None = None,
        depth: int = DEFAULT_DEPTH,
        actions: Sequence[TrackedAction] = (),
        counted: Callable[[Callable[[], GapTally]], GapTally] | None = None,
    ) -> None:
        """``counted``, when given, is asked for the tally with the means to count it, and
        may give back one counted before (as Questions keeps them) instead."""
        self.whole = whole
        self.skeleton = whole.skeleton
        self.depth = depth
        self.reach = Reach(whole.skeleton, whole.engagements(), depth)
        self.source_dates = whole.source_dates()
        self.today = today or date.today()
        self.stale_before = self.today - timedelta(days=config.evidence.stale_after_days)
        self.actions = sorted(actions, key=lambda a: a.id)
        self._tally: GapTally | None = None
        self._counted: list[GapCount] | None = None
        self._counter = counted

    def counts(self) -> list[GapCount]:
        """How many gaps of each kind, and of each kind on each dimension (where it has one):
        from the tally (a pass over every condition, once) and the actions, then reused by
        every report."""
        if self._counted is None:
            found: Counter[tuple[GapKind, Dimension | None]] = Counter()
            tally = self.tally()
            for count in tally.counts:
                found[count.kind, count.dimension] = count.count
            for dimension, n in tally.stale(self.stale_before).items():
                found[GapKind.stale_evidence, None] += n
                found[GapKind.stale_evidence, dimension] += n
            for kind in ACTION_GAPS:
                for action in self._of_actions(kind):
                    found[kind, None] += 1
                    if (dim := _dimension_of(kind, action)) is not None:
                        found[kind, dim] += 1
            self._counted = _in_order(found)
        return self._counted

    def tally(self) -> GapTally:
        """The counts that hold whatever the day (``counted`` may keep them)."""
        if self._tally is None:
            self._tally = self._count() if self._counter is None else self._counter(self._count)
        return self._tally

    def _count(self) -> GapTally:
        found: Counter[tuple[GapKind, Dimension | None]] = Counter()
        dead_ends = self._find_dead_ends()
        found[GapKind.organization_without_cohorts, None] = len(dead_ends)
        with collector_paused():  # millions of short-lived tuples, no cycles
            cohort_counts, ages = self._cohort_counts()
        for (kind, dimension), n in cohort_counts.items():
            found[kind, None] += n
            found[kind, dimension] += n
        idle = self._find_idle()
        found[GapKind.decision_reaches_no_cohort, None] = len(idle)
        evidence = [
            EvidenceAge(dimension=dim, newest=None if day == _UNDATED else day, conditions=n)
            for (dim, day), n in sorted(ages.items())
        ]
        return GapTally(counts=_in_order(found), evidence=evidence, dead_ends=dead_ends, idle=idle)

    def _cohort_counts(self) -> tuple[Counter[tuple[GapKind, Dimension]], Counter[tuple[Dimension, date]]]:
        """The gaps ``_of_cohort`` finds, counted over every cohort and condition at once,
        but for stale evidence: how many conditions on each dimension have their newest
        evidence from each day (``_UNDATED`` for none).

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
        ages: Counter[tuple[Dimension, date]] = Counter()
        recorded: Counter[tuple[Dimension, Reachers]] = Counter()
        dated = {s: day for s, day in self.source_dates.items() if day is not None}

        def newest(observed: date | None, sources: tuple[str, ...]) -> date:
            return max((observed or _UNDATED, *map(dated.get, sources, repeat(_UNDATED))))

        conditions = self.whole.conditions()
        while chunk := list(islice(conditions, 1 << 16)):
            dims = list(map(_DIMENSION, chunk))
            sources = list(map(_SOURCES, chunk))
            unsourced.update(compress(dims, map(not_, sources)))
            ages.update(zip(dims, map(newest, map(_OBSERVED, chunk), sources), strict=True))
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
        ):
            for dim, n in per_dimension.items():
                found[kind, dim] += n
        return found, ages

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

    # Both are found from what every cohort's links reach (a read of them all), so they are
    # kept in the tally: a page of them then reads none.

    def _dead_ends(self) -> Iterator[tuple[str, list[str]]]:
        """Organizations in the chain (taking or passing work on) that reach no cohort within
        MAX_DEPTH links, whatever the project, with where they pass work on to."""
        found = self._find_dead_ends() if self._tally is None else self._tally.dead_ends
        for org_id in found:
            yield org_id, sorted({link.to_id for link in self.skeleton.out_links(org_id)})

    def _find_dead_ends(self) -> list[str]:
        view = self.skeleton
        # Reaching a cohort within MAX_DEPTH links: engaging one, or within MAX_DEPTH - 1
        # supply links above an organization that does.
        reaching = orgs_above(view, self.reach.engagers, MAX_DEPTH - 1)
        return [
            org.id
            for org in sorted(view.organizations(), key=lambda o: o.id)
            if org.id not in reaching
            and (any(True for _ in view.out_links(org.id)) or any(True for _ in view.in_links(org.id)))
        ]

    def _idle(self) -> Iterator[Decision]:
        found = self._find_idle() if self._tally is None else self._tally.idle
        return (self.skeleton.decisions[decision_id] for decision_id in found)

    def _find_idle(self) -> list[str]:
        reaching = self.reach.reaching_decisions
        return sorted(decision_id for decision_id in self.skeleton.decisions if decision_id not in reaching)

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


def _in_order(found: Counter[tuple[GapKind, Dimension | None]]) -> list[GapCount]:
    """The counts that are not 0, by kind, then dimension (the kind's total first)."""
    order = list(GapKind)
    return [
        GapCount(kind=kind, dimension=dimension, count=n)
        for (kind, dimension), n in sorted(
            found.items(), key=lambda item: (order.index(item[0][0]), item[0][1] or "")
        )
        if n
    ]


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

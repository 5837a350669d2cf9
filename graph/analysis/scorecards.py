"""Fairwork-style scorecards (DOMAIN.md section 8) for every organization that engages cohorts.

Five principles, each with its dimensions (``PRINCIPLE_DIMENSIONS``) and two points:

- *basic*: every cohort the organization engages has a recorded condition on each of the
  principle's dimensions, and none ``violates``; one recorded as ``unknown`` says nothing
  of the workers' conditions, so it counts as missing (no evidence, no point);
- *advanced*: beyond that, every one of them ``meets``, is graded ``verified`` or
  ``documented``, cites a source, and its evidence (the newest of its ``observed_at`` and
  its sources' ``published_at``, as for stale-evidence gaps) is no older than the scoring
  file's ``stale_after_days`` (two years) before the review day (``review_day``).

No evidence, no point: a dimension with no condition costs the basic point. A small cohort
counts like any other but is never named to a caller who may not see it.

Every rule is applied once per cohort (``marks``) and folded per organization (``Tally``),
whether the facts come streamed from the whole graph (``summarize``: each organization's
tally and the review day, read once, from which ``ScorecardFacts.summary`` scores every
organization for any evidence age) or read for a page of organizations
(``organization_scorecards``: the conditions and sources each point rests on, or what is
missing).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Literal, NamedTuple

from pydantic import BaseModel, Field

from laborgraph.graph.analysis.privacy import Privacy
from laborgraph.graph.analysis.ranking import DIMENSION_BIT, dimension_bits
from laborgraph.graph.analysis.whole import newest_evidence
from laborgraph.graph.model import Organization
from laborgraph.graph.store import ConditionFacts, EngagedCohort, Engagement, GraphReader
from laborgraph.graph.vocabulary import (
    PRINCIPLE_DIMENSIONS,
    PRINCIPLE_TITLES,
    STRONG_GRADES,
    Dimension,
    EvidenceGrade,
    Principle,
    Status,
)

LISTED_AT_MOST = 20  # conditions, and shortfalls, a principle lists (each also counted whole)
_PRINCIPLE_BITS = {p: dimension_bits(dims) for p, dims in PRINCIPLE_DIMENSIONS.items()}
_EVERY_BIT = sum(DIMENSION_BIT.values())
_COHORT = itemgetter(0)  # of ConditionFacts and Engagement
REVIEW_DAY = "the day evidence ages from: two years before it, evidence is too old for an advanced point"


# -- answers -----------------------------------------------------------------------------


class Evidence(BaseModel):
    """A condition a principle rests on."""

    condition_id: str
    cohort_id: str
    dimension: Dimension
    status: Status
    evidence_grade: EvidenceGrade
    evidence_date: date | None = Field(
        description="the newest of its observation and its sources' publication"
    )
    source_ids: list[str]


class Shortfall(BaseModel):
    """What keeps a point from the organization: a condition missing, or one not good enough."""

    point: Literal["basic", "advanced"]
    cohort_id: str
    dimension: Dimension
    reason: str


class PrincipleScore(BaseModel):
    principle: Principle
    title: str
    dimensions: list[Dimension]
    basic: bool
    advanced: bool
    rests_on: list[Evidence] = Field(description=f"the conditions it rests on (at most {LISTED_AT_MOST})")
    rests_on_total: int
    missing: list[Shortfall] = Field(description=f"what keeps its points away (at most {LISTED_AT_MOST})")
    missing_total: int


class Scorecard(BaseModel):
    organization_id: str
    organization_name: str
    cohorts: int = Field(description="cohorts it engages, small ones included")
    points: int = Field(ge=0, le=10)
    review_day: date | None = Field(description=REVIEW_DAY)
    principles: list[PrincipleScore]


class PointsCount(BaseModel):
    points: int
    organizations: int


class PrincipleCount(BaseModel):
    principle: Principle
    basic: int = Field(description="organizations earning its basic point")
    advanced: int = Field(description="organizations earning its advanced point")


class ScorecardFacts(BaseModel):
    """What every organization's points rest on, whatever the evidence's age: each one's
    marks folded over the cohorts it engages (``Tally``), by organization id. Points for any
    ``stale_after_days`` follow from it (``summary``) without reading the graph again."""

    review_day: date | None
    organizations: list[str]
    cohorts: list[int]  # of each organization, the cohorts it engages
    basic: list[int]  # of each organization, ``Tally.basic``
    exemplary: list[int]  # of each organization, ``Tally.exemplary``
    oldest: list[list[int]]  # of each organization, per dimension (in ``Dimension`` order), the
    # ordinal of the oldest exemplary evidence; 0 where some is undated or none is exemplary

    @classmethod
    def of(cls, review: date | None, tallies: Mapping[str, Tally]) -> ScorecardFacts:
        organizations = sorted(tallies)
        folded = [tallies[org_id] for org_id in organizations]
        return cls(
            review_day=review,
            organizations=organizations,
            cohorts=[t.cohorts for t in folded],
            basic=[t.basic for t in folded],
            exemplary=[t.exemplary for t in folded],
            oldest=[[_ordinal(t.oldest.get(d)) for d in Dimension] for t in folded],
        )

    def summary(self, window_days: int) -> ScorecardSummary:
        """Every organization's points, evidence older than ``window_days`` before the
        review day being stale."""
        since = fresh_from(self.review_day, window_days)
        folded = zip(self.cohorts, self.basic, self.exemplary, self.oldest, strict=True)
        scored = [
            Tally(n, basic, exemplary, dict(zip(Dimension, map(_day, oldest), strict=True))).points(since)
            for n, basic, exemplary, oldest in folded
        ]
        principles = [
            PrincipleCount(
                principle=p,
                basic=sum(points[p][0] for points in scored),
                advanced=sum(points[p][1] for points in scored),
            )
            for p in Principle
        ]
        return ScorecardSummary(
            review_day=self.review_day,
            organizations=self.organizations,
            points=[_total(s) for s in scored],
            earned=[earned_bits(s) for s in scored],
            cohorts=self.cohorts,
            principles=principles,
        )


def _ordinal(day: date | None) -> int:
    return 0 if day is None else day.toordinal()


def _day(ordinal: int) -> date | None:
    return None if ordinal == 0 else date.fromordinal(ordinal)


class ScorecardSummary(BaseModel):
    """Every organization that engages cohorts, by id, and its points."""

    review_day: date | None
    organizations: list[str]
    points: list[int]  # of each organization, in the same order
    earned: list[int]  # of each organization, the points earned as bits (``earned_bits``)
    cohorts: list[int]  # of each organization, the cohorts it engages
    principles: list[PrincipleCount]

    def lines(self, names: Mapping[str, str]) -> list[ScoreLine]:
        """The points of these organizations (id → name; those that engage cohorts), by id."""
        at = {org_id: i for i, org_id in enumerate(self.organizations)}
        return [
            ScoreLine(
                organization_id=org_id,
                organization_name=names[org_id],
                cohorts=self.cohorts[i],
                points=self.points[i],
                earned=[
                    (p, bool(self.earned[i] >> 2 * k & 1), bool(self.earned[i] >> 2 * k + 1 & 1))
                    for k, p in enumerate(Principle)
                ],
            )  # fmt: skip
            for org_id in sorted(names)
            if (i := at.get(org_id)) is not None
        ]

    def by_points(self) -> list[PointsCount]:
        counted = Counter(self.points)
        return [PointsCount(points=n, organizations=counted[n]) for n in sorted(counted)]

    def page(self, cards: list[Scorecard], offset: int, limit: int | None) -> ScorecardPage:
        """The summary with one page of scorecards (those of ``organizations[offset:]``)."""
        stop = None if limit is None else offset + limit
        total = len(self.organizations)
        return ScorecardPage(
            review_day=self.review_day,
            total=total,
            by_points=self.by_points(),
            principles=self.principles,
            offset=offset,
            limit=limit,
            next_offset=stop if stop is not None and stop < total else None,
            items=cards,
        )


class ScoreLine(BaseModel):
    """An organization's points at a glance, without what they rest on."""

    organization_id: str
    organization_name: str
    cohorts: int
    points: int
    earned: list[tuple[Principle, bool, bool]] = Field(description="(principle, basic, advanced), in order")


def earned_bits(points: dict[Principle, tuple[bool, bool]]) -> int:
    """Points as bits: principle k's (in ``Principle`` order) basic point is bit 2k, its advanced 2k+1."""
    return sum(
        (basic << 2 * k) | (advanced << 2 * k + 1)
        for k, (basic, advanced) in enumerate(points[p] for p in Principle)
    )


class ScorecardPage(BaseModel):
    """How many organizations score each number of points and earn each point, then one
    page of their scorecards, by organization id."""

    review_day: date | None = Field(description=REVIEW_DAY)
    total: int = Field(description="organizations that engage cohorts")
    by_points: list[PointsCount]
    principles: list[PrincipleCount]
    offset: int
    limit: int | None
    next_offset: int | None = Field(description="offset of the next page; null on the last page")
    items: list[Scorecard]


# -- the rules ---------------------------------------------------------------------------


def review_day(newest_observed: date | None, source_dates: Mapping[str, date | None]) -> date | None:
    """The day "no older than two years" counts back from: DOMAIN.md names the newest
    revision's date. Until the graph keeps revisions, the newest date it holds: the newest
    ``observed_at`` of a condition or ``published_at`` of a source (None if it holds none)."""
    return max((d for d in (newest_observed, *source_dates.values()) if d is not None), default=None)


class Marks(NamedTuple):
    """What one cohort's conditions give each of its dimensions, as dimension bits."""

    basic: int  # a condition is recorded, its status known, and it does not violate
    exemplary: int  # ... it meets, graded verified or documented, and cites a source
    dated: tuple[tuple[Dimension, date | None], ...]  # the evidence date of each exemplary one


NO_MARKS = Marks(0, 0, ())


def marks(facts: Iterable[ConditionFacts], source_dates: Mapping[str, date | None]) -> Marks:
    """The marks of one cohort's conditions."""
    basic = exemplary = 0
    dated = []
    for fact in facts:
        status = fact.status
        if status is Status.meets or status is Status.at_risk:  # known, and not violated
            bit = DIMENSION_BIT[fact.dimension]
            basic |= bit
            if is_exemplary(fact):
                exemplary |= bit
                dated.append((fact.dimension, newest_evidence(fact, source_dates)))
    return Marks(basic, exemplary, tuple(dated))


def is_exemplary(fact: ConditionFacts) -> bool:
    """Meets, on strong evidence that cites a source: what an advanced point needs, but its age."""
    return fact.status is Status.meets and fact.grade in STRONG_GRADES and bool(fact.source_ids)


@dataclass(slots=True)
class Tally:
    """One organization's marks, folded over the cohorts it engages."""

    cohorts: int = 0
    basic: int = _EVERY_BIT
    exemplary: int = _EVERY_BIT
    oldest: dict[Dimension, date | None] = field(default_factory=dict)  # of exemplary evidence

    def add(self, found: Marks) -> None:
        self.cohorts += 1
        self.basic &= found.basic
        self.exemplary &= found.exemplary
        for dimension, day in found.dated:
            kept = self.oldest.get(dimension, date.max)
            self.oldest[dimension] = None if day is None or kept is None else min(kept, day)

    def points(self, fresh_from: date | None) -> dict[Principle, tuple[bool, bool]]:
        """(basic, advanced) of each principle, evidence dated from ``fresh_from`` on being fresh."""
        found = {}
        for principle, bits in _PRINCIPLE_BITS.items():
            basic = self.cohorts > 0 and self.basic & bits == bits
            advanced = (
                basic
                and self.exemplary & bits == bits
                and all(_fresh(self.oldest.get(d), fresh_from) for d in PRINCIPLE_DIMENSIONS[principle])
            )
            found[principle] = (basic, advanced)
        return found


def _fresh(day: date | None, fresh_from: date | None) -> bool:
    return day is not None and fresh_from is not None and day >= fresh_from


def fresh_from(review: date | None, window_days: int) -> date | None:
    """The oldest evidence date still fresh on the review day."""
    return None if review is None else review - timedelta(days=window_days)


def _total(points: dict[Principle, tuple[bool, bool]]) -> int:
    return sum(int(basic) + int(advanced) for basic, advanced in points.values())


# -- the whole graph, streamed once -----------------------------------------------------


def summarize(
    conditions: Iterable[ConditionFacts],
    engagements: Iterable[Engagement],
    source_dates: Mapping[str, date | None],
) -> ScorecardFacts:
    """What every organization that engages cohorts scores on, from the graph's conditions
    and ENGAGES links (both by cohort id), each read once."""
    newest = _NewestObservation()
    by_cohort = _cohort_marks(newest.watch(conditions), source_dates)
    tallies: dict[str, Tally] = {}
    current = next(by_cohort, None)
    for cohort_id, links in groupby(engagements, key=_COHORT):
        while current is not None and current[0] < cohort_id:
            current = next(by_cohort, None)
        found = current[1] if current is not None and current[0] == cohort_id else NO_MARKS
        engagers = [link.organization_id for link in links]
        for org_id in engagers if len(engagers) == 1 else set(engagers):  # once, whatever the projects
            tally = tallies.get(org_id)
            if tally is None:
                tally = tallies[org_id] = Tally()
            tally.add(found)
    for _ in by_cohort:  # the rest still dates the review day
        pass
    return ScorecardFacts.of(review_day(newest.day, source_dates), tallies)


class _NewestObservation:
    def __init__(self) -> None:
        self.day: date | None = None

    def watch(self, conditions: Iterable[ConditionFacts]) -> Iterator[ConditionFacts]:
        """The conditions, noting the newest ``observed_at`` as they pass."""
        newest = date.min
        for fact in conditions:
            if fact.observed_at is not None and fact.observed_at > newest:
                newest = fact.observed_at
            yield fact
        self.day = None if newest is date.min else newest


def _cohort_marks(
    conditions: Iterable[ConditionFacts], source_dates: Mapping[str, date | None]
) -> Iterator[tuple[str, Marks]]:
    for cohort_id, facts in groupby(conditions, key=_COHORT):
        yield cohort_id, marks(facts, source_dates)


# -- a page of organizations, read from their cohorts -----------------------------------


def organization_scorecards(
    reader: GraphReader,
    organization_ids: Sequence[str],
    review: date | None,
    window_days: int,
    privacy: Privacy,
) -> list[Scorecard]:
    """The scorecards of these organizations, in this order, from the cohorts each engages."""
    organizations = {o.id: o for o in reader.entities(organization_ids) if isinstance(o, Organization)}
    engaged = reader.engaged(list(organizations), None)
    by_cohort: dict[str, dict[Dimension, ConditionFacts]] = {}
    for fact in reader.condition_facts({e.cohort_id for e in engaged}):
        by_cohort.setdefault(fact.cohort_id, {})[fact.dimension] = fact
    cohorts_of: dict[str, dict[str, EngagedCohort]] = {}
    for each in engaged:
        cohorts_of.setdefault(each.organization_id, {})[each.cohort_id] = each  # once per cohort
    ctx = _Context(reader.source_dates(), review, fresh_from(review, window_days), privacy)
    return [
        _scorecard(
            organizations[org_id],
            _in_order(cohorts_of.get(org_id, {}).values(), privacy),
            by_cohort,
            ctx,
        )
        for org_id in organization_ids
        if org_id in organizations
    ]


def _in_order(cohorts: Iterable[EngagedCohort], privacy: Privacy) -> list[EngagedCohort]:
    """By id, the ones a caller may not see last: where a hidden one stands among the shown
    must not hint at its id."""
    return sorted(cohorts, key=lambda c: (privacy.hides(c.headcount), c.cohort_id))


@dataclass(frozen=True)
class _Context:
    source_dates: Mapping[str, date | None]
    review: date | None
    fresh_from: date | None
    privacy: Privacy


def _scorecard(
    organization: Organization,
    cohorts: Sequence[EngagedCohort],
    conditions: Mapping[str, dict[Dimension, ConditionFacts]],
    ctx: _Context,
) -> Scorecard:
    """One organization's scorecard, from the cohorts it engages and their conditions."""
    tally = Tally()
    listed = {principle: _Listing() for principle in Principle}
    for cohort in cohorts:
        recorded = conditions.get(cohort.cohort_id, {})
        found = marks(recorded.values(), ctx.source_dates)
        tally.add(found)
        shown = ctx.privacy.cohort(cohort.cohort_id, cohort.name, cohort.headcount).id
        for principle, dimensions in PRINCIPLE_DIMENSIONS.items():
            for dimension in dimensions:
                listed[principle].add(shown, dimension, recorded.get(dimension), found, ctx)
    points = tally.points(ctx.fresh_from)
    return Scorecard(
        organization_id=organization.id,
        organization_name=organization.name,
        cohorts=len(cohorts),
        points=_total(points),
        review_day=ctx.review,
        principles=[listed[p].score(p, *points[p]) for p in Principle],
    )


@dataclass
class _Listing:
    """A principle's conditions and shortfalls as its cohorts are read: all counted, the
    first LISTED_AT_MOST of each put in words."""

    rests_on: list[Evidence] = field(default_factory=list)
    missing: list[Shortfall] = field(default_factory=list)
    rests_on_total: int = 0
    missing_total: int = 0

    def add(
        self, cohort: str, dimension: Dimension, fact: ConditionFacts | None, found: Marks, ctx: _Context
    ) -> None:
        bit = DIMENSION_BIT[dimension]
        if fact is not None:
            self.rests_on_total += 1
            if len(self.rests_on) < LISTED_AT_MOST:
                self.rests_on.append(_evidence(fact, cohort, ctx))
        # The same marks the points come from: what keeps a point away is what they lack.
        if not found.basic & bit:
            point: Literal["basic", "advanced"] = "basic"
        elif found.exemplary & bit and _fresh(dict(found.dated).get(dimension), ctx.fresh_from):
            return
        else:
            point = "advanced"
        self.missing_total += 1
        if len(self.missing) < LISTED_AT_MOST:
            reason = _basic_reason(fact) if point == "basic" else _advanced_reason(fact, ctx)
            self.missing.append(
                Shortfall.model_construct(point=point, cohort_id=cohort, dimension=dimension, reason=reason)
            )

    def score(self, principle: Principle, basic: bool, advanced: bool) -> PrincipleScore:
        return PrincipleScore(
            principle=principle,
            title=PRINCIPLE_TITLES[principle],
            dimensions=list(PRINCIPLE_DIMENSIONS[principle]),
            basic=basic,
            advanced=advanced,
            rests_on=self.rests_on,
            rests_on_total=self.rests_on_total,
            missing=self.missing,
            missing_total=self.missing_total,
        )


def _evidence(fact: ConditionFacts, shown_cohort: str, ctx: _Context) -> Evidence:
    return Evidence.model_construct(  # from a store's facts: nothing to check
        condition_id=f"{shown_cohort}/{fact.dimension.value}",
        cohort_id=shown_cohort,
        dimension=fact.dimension,
        status=fact.status,
        evidence_grade=fact.grade,
        evidence_date=newest_evidence(fact, ctx.source_dates),
        source_ids=list(fact.source_ids),
    )


def _basic_reason(fact: ConditionFacts | None) -> str:
    if fact is None:
        return "no condition is recorded"
    return "violates" if fact.status is Status.violates else "recorded as unknown"


def _advanced_reason(fact: ConditionFacts | None, ctx: _Context) -> str:
    """Why a condition that earns the basic point does not earn the advanced one."""
    assert fact is not None
    reasons = []
    if fact.status is not Status.meets:
        reasons.append(f"{fact.status.value}, not meets")
    if fact.grade not in STRONG_GRADES:
        reasons.append(f"graded {fact.grade.value}, not verified or documented")
    if not fact.source_ids:
        reasons.append("cites no source")
    day = newest_evidence(fact, ctx.source_dates)
    if day is None:
        reasons.append("its evidence is undated")
    elif not _fresh(day, ctx.fresh_from):
        reasons.append(f"its newest evidence, from {day}, is older than {ctx.fresh_from}")
    return "; ".join(reasons)

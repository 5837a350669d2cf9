"""The (cohort, condition) pairs a question's decisions reach and affect, best first.

The order is DOMAIN.md's: severity, likelihood and headcount (descending), then cohort id
and dimension. It is reached one of two ways, which give the same sequence:

- **Scoring what was reached.** Each cohort reached is scored (once per view) and its
  matching conditions go into a heap. The work grows with the reach: right for a small
  view, a narrow decision, or a question that wants every path.
- **Walking the view's risk index.** Every not-met condition of the view, bucketed by the
  facts its score depends on (dimension, status, pay below half its benchmark) and sorted
  by headcount within each bucket. A scoring configuration orders the buckets, and the
  walk goes down them in rank order, keeping the pairs the question reaches, until the
  caller has its page. For a buyer reaching ten thousand cohorts of a million-link graph,
  a page of 100 looks at a few thousand entries instead of scoring every cohort reached.
  The index is built once per view (the embedded store keeps one view for all questions);
  the cheaper way is chosen from how many cohorts were reached and how many the view has.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from itertools import groupby

from laborgraph.graph.model import Cohort, Condition
from laborgraph.graph.scoring import ScoringConfig, pay_below_half, risk_code
from laborgraph.graph.store import GraphReader, RiskSeek
from laborgraph.graph.view import GraphView
from laborgraph.graph.vocabulary import Dimension, Status

DIMENSION_BIT = {dimension: 1 << n for n, dimension in enumerate(Dimension)}
ALL_DIMENSIONS = sum(DIMENSION_BIT.values())

# Scoring a reached cohort costs about as much as walking this many index entries (at a
# million links, CPU time). Walking finds ``need`` pairs after about need × cohorts / reached
# entries, so it wins when reached² × SCORE_TO_WALK > need × cohorts.
SCORE_TO_WALK = 5

Ranked = tuple[Cohort, Condition, int, float]  # cohort, condition, severity, likelihood


def dimension_bits(dimensions: Iterable[Dimension]) -> int:
    return sum({DIMENSION_BIT[d] for d in dimensions})


def ranked_conditions(
    view: GraphView,
    affected: dict[str, int],
    config: ScoringConfig,
    *,
    min_severity: int = 1,
    country: str | None = None,
    need: int | None = None,
) -> Iterator[Ranked]:
    """The conditions of ``affected`` cohorts (cohort id → bits of the dimensions the
    decisions reaching it affect), best first. ``need`` is how many the caller expects to
    take (None: all of them); it only chooses the cheaper way to the same order."""
    reached = len(affected)
    if need is not None and reached * reached * SCORE_TO_WALK > need * len(view.conditions):
        return _walk_index(view, affected, config, min_severity, country)
    return _score_reached(view, affected, config, min_severity, country)


# -- scoring what was reached ------------------------------------------------------------

_RankKey = tuple[int, float, int, str, Dimension]  # -severity, -likelihood, -headcount, cohort, dim
_Scored = tuple[_RankKey, int, Condition, int, float]  # key, dimension bit, condition, sev, lik


def _score_reached(
    view: GraphView, affected: dict[str, int], config: ScoringConfig, min_severity: int, country: str | None
) -> Iterator[Ranked]:
    scored = _scored_cohorts(view, config)
    heap = []
    for cohort_id, bits in affected.items():
        cohort, risks = scored.get(cohort_id) or scored.add(view, cohort_id)
        if country is not None and cohort.country != country:
            continue
        for key, bit, condition, severity, likelihood in risks:
            if bits & bit and severity >= min_severity:
                heap.append((key, cohort, condition, severity, likelihood))
    heapq.heapify(heap)  # keys are unique: they end with the cohort id and dimension
    while heap:
        yield heapq.heappop(heap)[1:]


class _ScoredCohorts(dict[str, tuple[Cohort, list[_Scored]]]):
    """Cohorts' not-met conditions, scored once per view and scoring configuration."""

    def __init__(self, config: ScoringConfig) -> None:
        super().__init__()
        self.config = config

    def add(self, view: GraphView, cohort_id: str) -> tuple[Cohort, list[_Scored]]:
        cohort = view.cohort(cohort_id)
        risk_of, headcount = self.config.risk_of, -(cohort.headcount or 0)
        scored = []
        for dimension, condition in view.conditions.get(cohort_id, {}).items():
            risk = risk_of(condition)
            if risk is not None:
                severity, likelihood = risk
                key = (-severity, -likelihood, headcount, cohort_id, dimension)
                scored.append((key, DIMENSION_BIT[dimension], condition, severity, likelihood))
        self[cohort_id] = (cohort, scored)
        return cohort, scored


def _scored_cohorts(view: GraphView, config: ScoringConfig) -> _ScoredCohorts:
    key = ("scored-cohorts", id(config))
    found = view.memo.get(key)
    if not isinstance(found, _ScoredCohorts) or found.config is not config:
        found = view.memo[key] = _ScoredCohorts(config)
    return found


# -- walking the risk index --------------------------------------------------------------

_Facts = tuple[Dimension, Status, bool]  # what a condition's score depends on
_Entry = tuple[int, str, Dimension]  # -headcount, cohort id, dimension


class RiskIndex:
    """Every not-met condition of a view, by the facts its score depends on, each bucket
    sorted as the ranking sorts conditions of equal severity and likelihood."""

    def __init__(self, view: GraphView) -> None:
        buckets: dict[_Facts, list[_Entry]] = defaultdict(list)
        nodes, meets, pay = view.graph._node, Status.meets, Dimension.pay
        for cohort_id, by_dimension in view.conditions.items():
            node = nodes.get(cohort_id)
            if node is None:
                continue  # a region view may hold conditions of cohorts it does not hold
            headcount = -(node["entity"].headcount or 0)
            for dimension, condition in by_dimension.items():
                status = condition.status
                if status is not meets:
                    low_pay = dimension is pay and pay_below_half(condition)
                    buckets[dimension, status, low_pay].append((headcount, cohort_id, dimension))
        for entries in buckets.values():
            entries.sort()
        self.buckets = dict(buckets)

    def classes(self, config: ScoringConfig) -> list[tuple[int, float, list[list[_Entry]]]]:
        """(severity, likelihood, buckets) in rank order, for one scoring configuration."""
        scored = []
        for facts, entries in self.buckets.items():
            risk = config.risk_of_facts(*facts)
            if risk is not None:
                scored.append((risk, entries))
        scored.sort(key=lambda item: (-item[0][0], -item[0][1]))
        return [
            (severity, likelihood, [entries for _, entries in group])
            for (severity, likelihood), group in groupby(scored, key=lambda item: item[0])
        ]


def risk_index(view: GraphView) -> RiskIndex:
    found = view.memo.get("risk-index")
    if not isinstance(found, RiskIndex):
        found = view.memo["risk-index"] = RiskIndex(view)
    return found


def _walk_index(
    view: GraphView, affected: dict[str, int], config: ScoringConfig, min_severity: int, country: str | None
) -> Iterator[Ranked]:
    for severity, likelihood, buckets in risk_index(view).classes(config):
        if severity < min_severity:
            return  # classes come in falling severity: nothing further qualifies
        for _, cohort_id, dimension in heapq.merge(*buckets):
            bits = affected.get(cohort_id)
            if bits and bits & DIMENSION_BIT[dimension]:
                cohort = view.cohort(cohort_id)
                if country is None or cohort.country == country:
                    yield cohort, view.conditions[cohort_id][dimension], severity, likelihood


# -- seeking a store's risk index ---------------------------------------------------------


def scoring_classes(
    config: ScoringConfig, min_severity: int, wanted: int
) -> list[list[tuple[Dimension, str]]]:
    """Every risk a page may show, as (dimension, risk code), grouped by the (severity,
    likelihood) the configuration gives it, best group first."""
    return [members for _, members in _scored_classes(config, min_severity, wanted)]


def _scored_classes(
    config: ScoringConfig, min_severity: int, wanted: int
) -> list[tuple[tuple[int, float], list[tuple[Dimension, str]]]]:
    classes: dict[tuple[int, float], list[tuple[Dimension, str]]] = defaultdict(list)
    for dimension in Dimension:
        if not DIMENSION_BIT[dimension] & wanted:
            continue
        for status in Status:
            for low_pay in (False, True) if dimension is Dimension.pay else (False,):
                risk = config.risk_of_facts(dimension, status, low_pay)
                if risk is not None and risk[0] >= min_severity:
                    classes[risk].append((dimension, risk_code(status, low_pay)))
    return [(key, classes[key]) for key in sorted(classes, reverse=True)]


def ranked_cohorts(
    reader: GraphReader,
    engagers: Mapping[tuple[str, frozenset[str] | None], int],
    config: ScoringConfig,
    *,
    min_severity: int,
    wanted: int,
    country: str | None,
    need: int,
) -> list[str]:
    """The cohorts of the best ``need`` (cohort, dimension) pairs that the engagers
    ((organization, project scope) → bits of the dimensions reaching it) engage, by id.

    Scoring classes are taken best first, one in the first round, then two, four... until
    the page is full. Each (engager, risk) of a round's classes is one seek of the store's
    risk index for its best ``need - found`` cohorts; pairs are merged by class, headcount,
    cohort and dimension. Every pair of a better class outranks every pair of a worse one,
    so the page is complete once the classes taken fill it. On a large graph the best class
    usually does; on a small one, where no class fills it, a few rounds cover them all.
    """
    seekers = _seekers(engagers)
    classes = scoring_classes(config, min_severity, wanted)
    found: dict[tuple[str, str], None] = {}  # insertion-ordered: the ranked pairs
    start, size = 0, 1
    while seekers and start < len(classes) and len(found) < need:
        limit = need - len(found)
        ranked = _seek(
            reader, seekers, classes, range(start, min(start + size, len(classes))), limit, country
        )
        found.update(dict.fromkeys([(cohort, dimension) for _, _, cohort, dimension in ranked][:limit]))
        start, size = start + size, size * 2
    return sorted({cohort for cohort, _ in found})


def worst_risk(
    reader: GraphReader, engagers: Mapping[tuple[str, frozenset[str] | None], int], config: ScoringConfig
) -> int | None:
    """The severity of the worst risk the engagers' cohorts hold on the dimensions reaching
    them (graph.analysis.paths.reached_engagers): that of the best scoring class a seek finds."""
    seekers = _seekers(engagers)
    scored = _scored_classes(config, 1, ALL_DIMENSIONS)
    classes = [members for _, members in scored]
    for n, ((severity, _), _) in enumerate(scored):
        if _seek(reader, seekers, classes, range(n, n + 1), 1, None):
            return severity
    return None


_Seeker = tuple[str, tuple[str, ...] | None, int]  # organization, projects, dimension bits


def _seekers(engagers: Mapping[tuple[str, frozenset[str] | None], int]) -> list[_Seeker]:
    return [
        (org, None if scope is None else tuple(sorted(scope)), bits)
        for (org, scope), bits in engagers.items()
    ]


def _seek(
    reader: GraphReader,
    seekers: list[_Seeker],
    classes: list[list[tuple[Dimension, str]]],
    taken: range,
    limit: int,
    country: str | None,
) -> list[tuple[int, int, str, str]]:
    """(class, -headcount, cohort, dimension) of the best ``limit`` pairs of the classes taken."""
    seeks: dict[Dimension, list[RiskSeek]] = defaultdict(list)
    for n in taken:
        for dimension, code in classes[n]:
            bit = DIMENSION_BIT[dimension]
            seeks[dimension].extend(
                RiskSeek(org, projects, code, n) for org, projects, bits in seekers if bits & bit
            )
    return sorted(
        {
            (hit.tag, -hit.headcount, hit.cohort_id, dimension.value)
            for dimension, batch in seeks.items()
            for hit in reader.risk_seek(dimension, batch, limit, country)
        }
    )

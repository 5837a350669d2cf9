"""The whole graph as whole-graph questions (gaps, fragmentation) read it: a skeleton in
memory, and the rest as streams of light facts.

The skeleton (organizations, units, decisions, supply links, project owners) is a few
percent of a large graph and every walk needs it. Cohorts, their ENGAGES links and their
conditions are most of the graph; a whole-graph question reads each once, in cohort id
order, as small tuples rather than records, so its memory follows the skeleton. A
``WholeGraph`` comes from a store's snapshot (``from_reader``) or from a GraphView
(``from_view``): the questions read both the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from itertools import groupby
from typing import NamedTuple

from laborgraph.graph.collector import collector_paused
from laborgraph.graph.model import Condition, GraphData
from laborgraph.graph.store import CohortFacts, ConditionFacts, Engagement, GraphReader
from laborgraph.graph.view import GraphView
from laborgraph.graph.vocabulary import Dimension, LinkType


class CohortRecords(NamedTuple):
    """One cohort (None if only its conditions or links name it) with its facts, in id order."""

    cohort_id: str
    cohort: CohortFacts | None
    conditions: dict[Dimension, ConditionFacts]


class WholeGraph:
    def __init__(
        self,
        skeleton: GraphView,
        cohorts: Callable[[], Iterable[CohortFacts]],
        conditions: Callable[[], Iterable[ConditionFacts]],
        engagements: Callable[[], Iterable[Engagement]],
        source_dates: Callable[[], dict[str, date | None]],
    ) -> None:
        self.skeleton = skeleton
        self._cohorts, self._conditions, self._engagements = cohorts, conditions, engagements
        self._source_dates = source_dates

    @classmethod
    def from_reader(cls, reader: GraphReader) -> WholeGraph:
        with collector_paused():
            skeleton = GraphView.of(reader.skeleton())
        skeleton.project_owner = reader.project_owners()
        return cls(
            skeleton, reader.cohort_facts, reader.condition_facts, reader.engagements, reader.source_dates
        )

    @classmethod
    def from_view(cls, view: GraphView) -> WholeGraph:
        skeleton = GraphView.of(
            GraphData.of(
                [
                    *view.organizations(),
                    *view.units.values(),
                    *view.decisions.values(),
                    *(link for link in view.links() if link.type is not LinkType.ENGAGES),
                ]
            )
        )
        skeleton.project_owner = dict(view.project_owner)

        def cohorts() -> Iterator[CohortFacts]:
            for cohort in sorted(view.cohorts(), key=lambda c: c.id):
                yield CohortFacts(cohort.id, cohort.name, cohort.headcount)

        def conditions() -> Iterator[ConditionFacts]:
            for cohort_id in sorted(view.conditions):
                by_dim = view.conditions[cohort_id]
                for dim in sorted(by_dim, key=lambda d: d.value):
                    yield condition_facts(by_dim[dim])

        def engagements() -> Iterator[Engagement]:
            found = [
                Engagement(link.to_id, link.from_id, link.project or "")
                for link in view.links()
                if link.type is LinkType.ENGAGES
            ]
            return iter(sorted(found))

        def source_dates() -> dict[str, date | None]:
            return {s.id: s.published_at for s in view.sources.values()}

        return cls(skeleton, cohorts, conditions, engagements, source_dates)

    def cohorts(self) -> Iterator[CohortFacts]:
        """Every cohort, by id."""
        return iter(self._cohorts())

    def conditions(self) -> Iterator[ConditionFacts]:
        """Every condition, by cohort id, then dimension."""
        return iter(self._conditions())

    def engagements(self) -> Iterator[Engagement]:
        """Every ENGAGES link, by cohort id, then organization id."""
        return iter(self._engagements())

    def source_dates(self) -> dict[str, date | None]:
        return self._source_dates()

    def per_cohort(self) -> Iterator[CohortRecords]:
        """Each cohort with its conditions, by id; conditions whose cohort is not in the
        graph (possible only outside a validated ingest) come with ``cohort`` None."""
        cohorts = iter(self._cohorts())
        conditions = groupby(self._conditions(), key=lambda c: c.cohort_id)
        cohort = next(cohorts, None)
        group = next(conditions, None)
        while cohort is not None or group is not None:
            if group is None or (cohort is not None and cohort.id < group[0]):
                assert cohort is not None
                yield CohortRecords(cohort.id, cohort, {})
                cohort = next(cohorts, None)
                continue
            cohort_id, facts = group
            found = {fact.dimension: fact for fact in facts}
            if cohort is not None and cohort.id == cohort_id:
                yield CohortRecords(cohort_id, cohort, found)
                cohort = next(cohorts, None)
            else:
                yield CohortRecords(cohort_id, None, found)
            group = next(conditions, None)


def condition_facts(condition: Condition) -> ConditionFacts:
    return ConditionFacts(
        condition.cohort_id,
        condition.dimension,
        condition.status,
        condition.observed_at,
        condition.source_ids,
        condition.grade,
    )


def newest_evidence(condition: ConditionFacts, source_dates: Mapping[str, date | None]) -> date | None:
    """The newest of the condition's observation date and its sources' publication dates."""
    dates = [condition.observed_at, *(source_dates.get(s) for s in condition.source_ids)]
    return max((d for d in dates if d is not None), default=None)

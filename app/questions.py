"""The analyst's questions as the CLI and the API ask them: the right view of the store, the
configured scoring, and small-cohort suppression unless the caller may see small cohorts.

Whole-graph answers (gaps, fragmentation, scorecards) and tiers take seconds on a large
graph, so each is kept in the store (GraphStore.remember) under a key naming the question,
its parameters, the settings it depends on (the scoring file and the privacy threshold,
unless it says less) and the graph's version: any process
asking the same of the same graph reads it back, and the next write forgets it. ``warm``
works out the first pages users ask for, right after a write.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import date
from functools import cache, partial
from itertools import islice
from typing import TypeVar

from pydantic import BaseModel, Field, ValidationError

from laborgraph.app.settings import Settings
from laborgraph.graph import snapshots
from laborgraph.graph.analysis import changes, gaps, influence, paths, privacy, regions, tiers
from laborgraph.graph.analysis.actions import TrackedAction, is_overdue, tracked_actions, with_open_actions
from laborgraph.graph.analysis.changes import Change, Found
from laborgraph.graph.analysis.gaps import GapReport, GapTally, VisibilityGaps
from laborgraph.graph.analysis.overview import Overview, buyers_overview
from laborgraph.graph.analysis.scorecards import (
    Scorecard,
    ScorecardFacts,
    ScorecardPage,
    ScorecardSummary,
    organization_scorecards,
    summarize,
)
from laborgraph.graph.analysis.whole import WholeGraph
from laborgraph.graph.errors import GraphError, InvalidQuery, NotFound, TooManyChanges
from laborgraph.graph.model import Action, Cohort
from laborgraph.graph.revisions import FactVersion, Observation, Revision
from laborgraph.graph.scoring import ScoringConfig, load_scoring
from laborgraph.graph.store import DEFAULT_DEPTH, EntityPage, GraphStore
from laborgraph.graph.view import AnyEntity
from laborgraph.graph.vocabulary import ActionStatus, Dimension, Effect, EntityKind
from laborgraph.visualize.budget import MAX_NODES
from laborgraph.visualize.graph_elements import Element, Part, graph_elements, region_elements
from laborgraph.visualize.map import DEFAULT_FOCUS_DEPTH, chain_map
from laborgraph.visualize.model import MapModel

DEFAULT_PAGE = 100  # rows of a whole-graph answer listed unless asked otherwise (CLI and API)
FRONT_PAGE_PATHS = 25  # the top risk paths the front page lists
KEPT_PATHS = 500  # risk paths any page within is cut from, traced once (1.7 MB of JSON at 1M links)
SINCE_LISTED = 12  # changes the front page lists since the last review...
SINCE_AT_MOST = 10_000  # ...when the newest revision changed at most this many facts
# Facts added, changed or retracted between two revisions that ``changes`` compares at most:
# it holds every one, and the risk paths of every cohort they reach (40k facts, about 130k
# paths: 6.5 s and 570 MB; a first ingest of 1M links, 4M facts, outgrew 24 GB).
CHANGES_AT_MOST = 40_000
SNAPSHOTS = "revisions"  # the folder under the data dir that keeps the graph of earlier revisions
KEPT_FRAGMENTATION = 20_000  # most fragmented cohorts a page within is cut from (1.3 MB at 1M links)
SCORECARDS_PER_READ = 200  # organizations whose cohorts one read of a scorecard page takes
KEEP_AT_MOST = 8 * 2**20  # characters of JSON: larger answers (every row of a big graph) are not kept
ACTIONS_PER_READ = 500  # risk paths whose open actions are read at once, as they stream


class PathPage(BaseModel):
    items: list[paths.RiskPath]
    total: int | None = Field(
        description="how many paths match, once the last page is reached; null before it (counting"
        " every path of a large chain would take as long as listing them)"
    )
    offset: int
    limit: int | None = Field(description="the page size asked for; null: every path")
    next_offset: int | None = Field(description="offset of the next page; null on the last page")

    def cut(self, offset: int, limit: int) -> PathPage:
        """The page of ``limit`` paths from ``offset`` of this one, which starts at 0 and holds them."""
        stop = offset + limit
        more = len(self.items) > stop or self.next_offset is not None
        return PathPage(
            items=self.items[offset:stop],
            total=None if more else self.total,
            offset=offset,
            limit=limit,
            next_offset=stop if more else None,
        )


class EntityList(EntityPage):
    next_offset: int | None = Field(description="offset of the next page; null on the last page")


class History(BaseModel):
    id: str
    versions: list[FactVersion] = Field(description="every value the fact held, oldest first")
    observations: list[Observation] = Field(description="a condition's observations, by date")


class ChangeReport(BaseModel):
    from_revision: int = Field(description="0: the empty graph before the first revision")
    to_revision: int
    buyer_id: str | None
    counts: dict[str, int] = Field(description="changes by kind:change, over every page")
    total: int = Field(description="changes listed over every page (unchanged risk paths only if asked)")
    offset: int
    limit: int | None
    next_offset: int | None
    items: list[Change]


class EveryChange(BaseModel):
    """Every change between two revisions as kept (``Questions._every_change``)."""

    items: list[Change]
    chains: list[list[str]] = Field(description="for each change, the buyers whose chain it touches")
    unchanged: dict[str, int] = Field(description="risk paths found unchanged and not listed, by buyer")


class ActionList(BaseModel):
    today: date = Field(description="the day overdue is counted on")
    buyer_id: str | None
    counts: dict[str, int] = Field(
        description="every action (of the buyer's chain, with buyer_id) by status:S and effect:E, and"
        " how many are overdue, whatever the filters"
    )
    total: int = Field(description="the actions the filters keep")
    offset: int
    limit: int | None
    next_offset: int | None
    items: list[TrackedAction]


class KeptMap(BaseModel):
    """A map as the store keeps it: the model, and the small cohorts it masks in other
    outputs (never part of the model's own JSON)."""

    map: MapModel
    suppressed_ids: list[str]


_M = TypeVar("_M", bound=BaseModel)


class Questions:
    def __init__(self, store: GraphStore, settings: Settings, *, show_small: bool = False) -> None:
        self.store = store
        self.settings = settings
        # What every answer may show: admins (show_small) see every cohort.
        self.privacy = privacy.Privacy(0 if show_small else settings.min_headcount)

    @property
    def scoring(self) -> ScoringConfig:
        return load_scoring(self.settings.scoring_file)

    def as_of(self, revision: int | None) -> Questions:
        """The same questions of the graph as revision ``revision`` left it (None: as it is)."""
        if revision is None:
            return self
        store = snapshots.store_as_of(self.store, revision, self.settings.data_dir / SNAPSHOTS)
        asked = Questions(store, self.settings)
        asked.privacy = self.privacy
        return asked

    def revisions(self) -> list[Revision]:
        with self.store.read() as reader:
            return reader.revisions()

    def history(self, fact_id: str) -> History:
        """Every value an entity (or a condition, ``cohort_id/dimension``) has held, retracted
        ones too, and a condition's observations. NotFound if it was never stored."""
        self._refuse_hidden(fact_id)
        with self.store.read() as reader:
            versions = reader.versions([fact_id]).get(fact_id)
            observations = reader.observations([fact_id]) if "/" in fact_id else []
        if not versions:
            raise NotFound(fact_id)
        hidden = {
            v.record.id
            for v in versions
            if isinstance(v.record, Cohort) and self.privacy.hides(v.record.headcount)
        }
        on = {v.record.aim.cohort_id or "" for v in versions if isinstance(v.record, Action)}
        if hidden or self._small_cohorts(on):
            raise NotFound(fact_id)  # small once, or an action on one: outputs never single it out
        return History(id=fact_id, versions=versions, observations=observations)

    def changes(
        self,
        start: int | None = None,
        end: int | None = None,
        buyer: str | None = None,
        offset: int = 0,
        limit: int | None = None,
        unchanged: bool = False,
    ) -> ChangeReport:
        """What changed from revision ``start`` (default: the one before ``end``) to ``end``
        (default: the newest): risk paths and facts, worst news first; risk paths a change
        could have moved but did not are counted, and listed with ``unchanged``."""
        last, _ = snapshots.revision_of(self.store, end)
        end = last.number if last else 0
        if start is None:
            start = max(end - 1, 0)
        elif start != 0:
            snapshots.revision_of(self.store, start)
        if start > end:
            raise InvalidQuery(f"--from {start} comes after --to {end}: changes run from an earlier revision")
        self._refuse_too_many_changes(start, end)
        self._refuse_hidden(buyer)

        def answer() -> ChangeReport:
            found = self._every_change(start, end, unchanged)
            if buyer is not None:
                if buyer not in set().union(*found.chains) and not self._is_buyer(buyer):
                    raise NotFound(buyer, "buyer")
                found = found.of_buyer(buyer)
            listed = found.changes
            counts = changes.counts(listed)
            if found.unchanged.total():
                counts["risk_path:unchanged"] = found.unchanged.total()
            stop = None if limit is None else offset + limit
            return ChangeReport(
                from_revision=start, to_revision=end, buyer_id=buyer, counts=dict(sorted(counts.items())),
                total=len(listed), offset=offset, limit=limit, items=listed[offset:stop],
                next_offset=stop if stop is not None and stop < len(listed) else None,
            )  # fmt: skip

        asked = {
            "from": start,
            "to": end,
            "buyer": buyer,
            "offset": offset,
            "limit": limit,
            "unchanged": unchanged,
        }
        return self.remembered("changes", asked, ChangeReport, answer)

    def _refuse_too_many_changes(self, start: int, end: int) -> None:
        """TooManyChanges when the revisions after ``start`` up to ``end`` changed more facts
        than CHANGES_AT_MOST, read from their records before anything else."""
        changed = sum(
            n
            for revision in self.revisions()
            if start < revision.number <= end
            for what, n in revision.counts.items()
            if what != "observations"
        )
        if changed <= CHANGES_AT_MOST:
            return
        span = f"revision {end}" if end == start + 1 else f"revisions {start + 1} to {end}"
        if start == 0:
            told = (
                f"{span} built the graph from nothing: all {changed:,} of its facts are new, more than"
                f" the {CHANGES_AT_MOST:,} a comparison holds. `paths` and `gaps` show the graph as it"
                f" is; compare the revisions later ingests make, from revision {end} on."
            )
        else:
            told = (
                f"{span} changed {changed:,} facts, more than the {CHANGES_AT_MOST:,} a comparison"
                " holds: compare nearer revisions (CLI --from and --to, API from and to)."
            )
        raise TooManyChanges(told)

    def _every_change(self, start: int, end: int, unchanged: bool) -> Found:
        """Every change from ``start`` to ``end``, with the buyers whose chain each touches:
        kept (when not too large), so that any page of it, for any buyer, is read back rather
        than traced again."""

        def answer() -> EveryChange:
            with self.store.read() as reader:
                found = changes.between(reader, start, end, self.scoring, self.privacy.hides, unchanged)
            return EveryChange(
                items=found.changes, chains=[sorted(c) for c in found.chains], unchanged=dict(found.unchanged)
            )

        asked = {"from": start, "to": end, "unchanged": unchanged}
        every = self.remembered("every-change", asked, EveryChange, answer)
        return Found(every.items, [frozenset(c) for c in every.chains], Counter(every.unchanged))

    def _is_buyer(self, org_id: str) -> bool:
        """Whether ``org_id`` has units: its decisions are the ones risk paths start from."""
        with self.store.read() as reader:
            return bool(reader.units_of([org_id]))

    def since_last_review(self) -> ChangeReport | None:
        """What changed between the two newest revisions (the front page's panel): None with
        fewer than two, or when the newest changed too much to trace on a page's time."""
        revisions = self.revisions()
        if len(revisions) < 2 or sum(revisions[-1].counts.values()) > SINCE_AT_MOST:
            return None
        return self.changes(limit=SINCE_LISTED)

    def risk_paths(self, query: paths.PathQuery, today: date | None = None) -> Iterator[paths.RiskPath]:
        """Ranked risk paths, streamed, with their open actions; the query's offset and limit apply."""
        self._refuse_hidden(query.origin, query.target)
        return self._traced(query, today or date.today())

    def _traced(self, query: paths.PathQuery, today: date) -> Iterator[paths.RiskPath]:
        view = regions.path_view(self.store, query, self.scoring)
        found = paths.iter_risk_paths(view, query, self.scoring, self.privacy)
        stop = None if query.limit is None else query.offset + query.limit
        listed = islice(found, query.offset, stop)
        while batch := list(islice(listed, ACTIONS_PER_READ)):
            with self.store.read() as reader:
                yield from with_open_actions(reader, batch, today)

    def path_page(
        self,
        query: paths.PathQuery,
        offset: int = 0,
        limit: int | None = DEFAULT_PAGE,
        today: date | None = None,
    ) -> PathPage:
        """One page of ranked risk paths (``limit`` None: all of them), and whether another follows.

        A page within the first KEPT_PATHS paths (the CLI's, the API's and the front page's
        first, and the next few an analyst pages to) is cut from those, worked out and kept
        once for all of them: tracing the best 500 costs about what the best 100 do."""
        self._refuse_hidden(query.origin, query.target)
        today = today or date.today()
        if limit is not None and offset + limit <= KEPT_PATHS:
            return self._path_page(query, 0, KEPT_PATHS, today).cut(offset, limit)
        return self._path_page(query, offset, limit, today)

    def _path_page(self, query: paths.PathQuery, offset: int, limit: int | None, today: date) -> PathPage:
        def answer() -> PathPage:
            asked = query.model_copy(update={"offset": offset, "limit": None if limit is None else limit + 1})
            found = list(self._traced(asked, today))
            page = {"offset": offset, "limit": limit}
            if limit is not None and len(found) > limit:
                return PathPage(items=found[:limit], total=None, next_offset=offset + limit, **page)
            return PathPage(items=found, total=offset + len(found), next_offset=None, **page)

        filters = query.model_dump(mode="json", exclude={"offset", "limit"})  # the page is asked below
        asked = {"query": filters, "offset": offset, "limit": limit, "overdue": self.overdue_on(today)}
        return self.remembered("paths", asked, PathPage, answer)

    def tiers(self, org_id: str, offset: int = 0, limit: int | None = None) -> tiers.TierMap:
        """What each tier below an organization holds, and a page of its entries."""
        self._refuse_hidden(org_id)

        def answer() -> tiers.TierMap:
            view = regions.chain_view(self.store, org_id)
            found = tiers.tier_map(view, org_id, offset, limit, private_below=self.privacy.min_headcount)
            for entry in found.entries:
                if entry.entity is EntityKind.cohort:
                    entry.id, entry.name, entry.headcount, _ = self.privacy.cohort(
                        entry.id, entry.name, entry.headcount
                    )
            return found

        return self.remembered(
            "tiers", {"org": org_id, "offset": offset, "limit": limit}, tiers.TierMap, answer
        )

    def influencers(self, target: str, depth: int = DEFAULT_DEPTH) -> influence.Influencers:
        """Influencers of a cohort id, or of one condition given as ``cohort_id/dimension``."""
        self._refuse_hidden(target)
        cohort_id, _, dim = target.partition("/")
        dimension = _dimension(dim) if dim else None
        view = regions.region_view(self.store, cohort_id)
        found = influence.influencers(view, cohort_id, self.scoring, dimension, depth)
        cohort = view.cohort(cohort_id)
        found.cohort_id, found.cohort_name, *_ = self.privacy.cohort(cohort.id, cohort.name, cohort.headcount)
        return found

    def gaps(
        self,
        kind: gaps.GapKind | None = None,
        dimension: Dimension | None = None,
        offset: int = 0,
        limit: int | None = None,
        today: date | None = None,
    ) -> GapReport:
        """How many gaps of each kind, and the page of them asked for, small cohorts suppressed."""
        today = today or date.today()

        def answer() -> GapReport:
            with self._visibility_gaps(today) as found:
                page = found.report(kind, dimension, offset, limit)
            return self.masked_gaps(page)

        return self.remembered("gaps", _gaps_asked(kind, dimension, offset, limit, today), GapReport, answer)

    @contextmanager
    def _visibility_gaps(self, today: date) -> Iterator[VisibilityGaps]:
        """The gaps of the whole graph, for reports while the block reads them. Their tally is
        kept for any day, so that a page past the first, or the first of another day, reads
        only the cohorts up to it."""
        tracked = self.tracked(today)

        def counted(count: Callable[[], GapTally]) -> GapTally:
            return self.remembered("gap-tally", {}, GapTally, count)

        with regions.whole_graph(self.store) as whole:
            yield VisibilityGaps(whole, self.scoring, today, actions=tracked, counted=counted)

    def _warm_gaps(self, today: date) -> None:
        """The first page of gaps of any kind and dimension, as ``gaps`` gives them, all from
        one count of the whole graph's gaps and one walk over its cohorts."""
        with self._visibility_gaps(today) as found:
            pages = found.first_pages(DEFAULT_PAGE)
        for (kind, dimension), page in pages.items():
            asked = _gaps_asked(kind, dimension, 0, DEFAULT_PAGE, today)
            self.remembered("gaps", asked, GapReport, partial(self.masked_gaps, page))

    def actions(
        self,
        status: ActionStatus | None = None,
        overdue: bool | None = None,
        effect: Effect | None = None,
        buyer: str | None = None,
        offset: int = 0,
        limit: int | None = None,
        today: date | None = None,
    ) -> ActionList:
        """Every action with its effect and whether it is overdue, by id; ``buyer`` keeps those
        of its chain (owned by a unit, on a decision or a cohort of the chain)."""
        today = today or date.today()
        self._refuse_hidden(buyer)

        def answer() -> ActionList:
            chain = None
            if buyer is not None:
                with self.store.read() as reader:
                    chain = regions.chain_rows(reader, buyer).ids
            tracked = self.tracked(today, chain)
            counts: dict[str, int] = {"overdue": sum(a.overdue for a in tracked)}
            for a in tracked:
                for key in (f"status:{a.status.value}", f"effect:{a.effect.value}"):
                    counts[key] = counts.get(key, 0) + 1
            kept = [
                a
                for a in tracked
                if status in (None, a.status) and overdue in (None, a.overdue) and effect in (None, a.effect)
            ]
            stop = None if limit is None else offset + limit
            next_offset = stop if stop is not None and stop < len(kept) else None
            return ActionList(
                today=today, buyer_id=buyer, counts=dict(sorted(counts.items())), total=len(kept),
                offset=offset, limit=limit, next_offset=next_offset, items=kept[offset:stop],
            )  # fmt: skip

        asked = {"status": status, "overdue": overdue, "effect": effect, "buyer": buyer, "offset": offset,
                 "limit": limit, "today": today}  # fmt: skip
        return self.remembered("actions", asked, ActionList, answer)

    def action(self, action_id: str, today: date | None = None) -> TrackedAction:
        """One action with its effect (a small cohort's id masked in it); NotFound unless it is
        an action."""
        try:
            found = self.store.get(action_id)
        except NotFound:
            found = None
        if not isinstance(found, Action):
            raise NotFound(action_id, EntityKind.action)
        with self.store.read() as reader:
            return tracked_actions(reader, today or date.today(), self.privacy, [found])[0]

    def overdue_on(self, today: date) -> str:
        """All that risk paths and maps take of ``today``: which open actions are overdue (a
        digest of their ids). Their answers are kept under it, so that one worked out
        yesterday still answers today, unless an action has fallen due since."""
        with self.store.read() as reader:
            due = sorted(a.id for a in reader.actions() if is_overdue(a, today))
        return hashlib.sha256("\n".join(due).encode()).hexdigest()[:16]

    def tracked(self, today: date, chain: Collection[str] | None = None) -> list[TrackedAction]:
        """Every action (of a buyer's ``chain``: the ids of its region) with its effect, as the
        caller may see it."""
        with self.store.read() as reader:
            every = reader.actions()
            if chain is not None:
                every = [
                    a for a in every if {a.owner_unit_id, a.aim.decision_id, a.aim.cohort_id} & set(chain)
                ]
            return tracked_actions(reader, today, self.privacy, every)

    def fragmentation(self, offset: int = 0, limit: int | None = None) -> influence.Fragmentation:
        """Decision-makers per cohort (a page, most first) and buyer units' reach.

        A page within the first KEPT_FRAGMENTATION cohorts is cut from one ranking of those,
        worked out and kept once for all of them: ranking 20,000 costs about what ranking a
        hundred does, since every cohort is read either way."""
        held = None if limit is None else offset + limit
        if held is not None and held <= KEPT_FRAGMENTATION:
            held = KEPT_FRAGMENTATION

        def answer() -> influence.FragmentationRanking:
            with regions.whole_graph(self.store) as whole:
                return influence.ranking(whole, private_below=self.privacy.min_headcount, held=held)

        ranked = self.remembered("fragmentation", {"held": held}, influence.FragmentationRanking, answer)
        return self._masked_fragmentation(ranked.page(offset, limit))

    def masked_gaps(self, found: GapReport) -> GapReport:
        """``found`` with the gaps of cohorts outputs hide masked."""
        small = self._small_cohorts({gap.entity_id for gap in found.items})
        for gap in found.items:
            if gap.entity_id in small:
                gap.entity_id, gap.entity_name = privacy.HIDDEN.id, privacy.HIDDEN.name
        return found

    def fragmentation_of(
        self, whole: WholeGraph, offset: int = 0, limit: int | None = None
    ) -> influence.Fragmentation:
        """Fragmentation of a region read as one, small cohorts masked."""
        found = influence.fragmentation(
            whole, private_below=self.privacy.min_headcount, offset=offset, limit=limit
        )
        return self._masked_fragmentation(found)

    def _masked_fragmentation(self, found: influence.Fragmentation) -> influence.Fragmentation:
        for cohort in found.cohorts:
            cohort.cohort_id, cohort.cohort_name, cohort.headcount, _ = self.privacy.cohort(
                cohort.cohort_id, cohort.cohort_name, cohort.headcount
            )
        return found

    def scorecards(self, offset: int = 0, limit: int | None = DEFAULT_PAGE) -> ScorecardPage:
        """How the organizations that engage cohorts score, and a page of their scorecards
        (``limit`` None: all of them), by organization id."""

        def answer() -> ScorecardPage:
            summary = self.scorecard_summary()
            return summary.page(list(self._scorecards_of(summary, offset, limit)), offset, limit)

        asked = {"offset": offset, "limit": limit}
        return self.remembered("scorecards", asked, ScorecardPage, answer)

    def iter_scorecards(self, offset: int = 0, limit: int | None = None) -> Iterator[Scorecard]:
        """The scorecards of a page (``limit`` None: all of them), one by one, for exports."""
        return self._scorecards_of(self.scorecard_summary(), offset, limit)

    def scorecard(self, org_id: str) -> Scorecard:
        """One organization's scorecard; NotFound unless it engages cohorts."""

        def answer() -> Scorecard:
            summary = self.scorecard_summary()
            if org_id not in summary.organizations:
                raise NotFound(org_id, "organization that engages cohorts")
            (found,) = self._scorecards_of(summary, summary.organizations.index(org_id), 1)
            return found

        return self.remembered("scorecard", {"org": org_id}, Scorecard, answer)

    def _scorecards_of(
        self, summary: ScorecardSummary, offset: int, limit: int | None
    ) -> Iterator[Scorecard]:
        """Scorecards of ``summary.organizations[offset:][:limit]``, read a few hundred
        organizations at a time: a platform's cohorts alone may be thousands."""
        chosen = summary.organizations[offset : None if limit is None else offset + limit]
        for start in range(0, len(chosen), SCORECARDS_PER_READ):
            with self.store.read() as reader:
                yield from organization_scorecards(
                    reader,
                    chosen[start : start + SCORECARDS_PER_READ],
                    summary.review_day,
                    self.scoring.evidence.stale_after_days,
                    self.privacy,
                )

    def scorecard_summary(self) -> ScorecardSummary:
        """Every scored organization and its points, under the scoring file's evidence age."""
        days = self.scoring.evidence.stale_after_days

        def answer() -> ScorecardSummary:
            return self.scorecard_facts().summary(days)

        ages = {"stale_after_days": days}
        return self.remembered("scorecard-summary", {}, ScorecardSummary, answer, settings=ages)

    def scorecard_facts(self) -> ScorecardFacts:
        """What every scored organization's points rest on, from the whole graph read once.
        Points count every cohort, small ones too, and the evidence's age is applied after
        (``ScorecardFacts.summary``): no setting changes these facts."""

        def answer() -> ScorecardFacts:
            with self.store.read() as reader:
                return summarize(reader.condition_facts(), reader.engagements(), reader.source_dates())

        return self.remembered("scorecard-facts", {}, ScorecardFacts, answer, settings={})

    def unfinished_notice(self) -> str | None:
        """What every answer says while a write is unfinished (graph.unfinished), or None."""
        mark = self.store.unfinished_write()
        return None if mark is None else mark.describe()

    def fits_one_map(self) -> bool:
        """Whether every organization and cohort can be drawn on one map, none grouped."""
        kinds = (EntityKind.organization, EntityKind.cohort)
        return sum(self.store.page(kind, limit=0).total for kind in kinds) <= MAX_NODES

    def overview(self) -> Overview:
        """Every buyer with the workers its decisions reach and the worst risk among them."""

        def answer() -> Overview:
            with self.store.read() as reader:
                whole = WholeGraph.from_reader(reader)
                return buyers_overview(whole, reader, self.scoring, private_below=self.privacy.min_headcount)

        return self.remembered("overview", {}, Overview, answer)

    def warm(self) -> None:
        """Work out the answers users ask first of a whole graph (the first page of gaps of
        every kind and dimension, of fragmentation and of scorecards, what the front page
        shows: the changes since the last review among them, when the newest is small enough
        to list; and the map of every buyer, which a small graph's front page draws and
        `laborgraph map` writes), so that no one waits for them after a write. Raises
        GraphError if it cannot (a bad scoring file, say): the graph is written all the same."""
        self._warm_gaps(date.today())
        self.fragmentation(limit=DEFAULT_PAGE)
        self.overview()
        self.path_page(paths.PathQuery(), 0, FRONT_PAGE_PATHS)
        self.scorecards(limit=DEFAULT_PAGE)
        self.since_last_review()
        self.chain_map()

    def entities(
        self, kind: EntityKind | None = None, offset: int = 0, limit: int = 50, text: str | None = None
    ) -> EntityList:
        """One page of the entities of a kind (or of every kind); small cohorts and their
        conditions are not listed."""
        found = self.store.page(
            kind, offset=offset, limit=limit, text=text, private_below=self.privacy.min_headcount
        )
        next_offset = offset + limit if offset + limit < found.total else None
        return EntityList(**found.model_dump(), next_offset=next_offset)

    def entity(self, entity_id: str) -> AnyEntity:
        """One entity by id (a condition by ``cohort_id/dimension``). A small cohort, one of
        its conditions, or an action on them is not found: outputs never single it out."""
        self._refuse_hidden(entity_id)
        found = self.store.get(entity_id)
        if isinstance(found, Action) and found.aim.cohort_id and self._small_cohorts({found.aim.cohort_id}):
            raise NotFound(entity_id)
        return found

    def chain_map(
        self,
        viewpoint: str | None = None,
        focus: str | None = None,
        depth: int = DEFAULT_FOCUS_DEPTH,
        path_rank: int | None = None,
        region: tuple[int | None, str] | None = None,
        served: bool = False,
        today: date | None = None,
    ) -> MapModel:
        """The map of a viewpoint's chain (every buyer's without one), optionally focused on
        an entity's neighbourhood or on the organizations of one tier and country. A small
        cohort is no focus: outputs never single it out."""
        self._refuse_hidden(focus, viewpoint)
        today = today or date.today()

        def answer() -> KeptMap:
            found = chain_map(
                self.store,
                self.scoring,
                viewpoint=viewpoint,
                focus=focus,
                depth=depth,
                region=region,
                path_rank=path_rank,
                privacy=self.privacy,
                today=today,
            )
            return KeptMap(map=found, suppressed_ids=sorted(found.suppressed_ids))

        asked = {"viewpoint": viewpoint, "focus": focus, "depth": depth, "path": path_rank,
                 "region": region, "overdue": self.overdue_on(today)}  # fmt: skip
        kept = self.remembered("map", asked, KeptMap, answer)
        model = kept.map
        model.suppressed_ids = set(kept.suppressed_ids)
        model.served = served  # the one difference between a served page's map and a file's
        return model

    @contextmanager
    def graph_elements(
        self, focus: str | None = None, depth: int = DEFAULT_DEPTH
    ) -> Iterator[Iterator[Element]]:
        """The whole graph, or the organization ``focus`` and what lies within ``depth`` links
        below it (graph.analysis.regions.below_region), as an export's nodes and edges
        streamed from one snapshot while the block reads them. Small cohorts, their
        conditions and every edge naming them are left out: a file has no place to keep
        them masked, and a masked cohort would still be singled out."""
        self._refuse_hidden(focus)
        hidden_below = self.privacy.min_headcount
        with self.store.read() as reader:
            if focus is None:
                yield graph_elements(reader.entity_records(hidden_below), reader.link_records(hidden_below))
            else:
                yield region_elements(regions.below_region(reader, focus, depth, hidden_below))

    @contextmanager
    def graph_part(self, part: Part) -> Iterator[tuple[str, Iterator[Element]]]:
        """The whole graph's nodes, or its edges, as ``graph_elements`` gives them, with the
        version of the graph they were read from (graph_formats.write_graph_in_two)."""
        hidden_below = self.privacy.min_headcount
        with self.store.read() as reader:
            entities = reader.entity_records(hidden_below)
            links = reader.link_records(hidden_below) if part == "edges" else iter(())
            yield reader.version(), graph_elements(entities, links, part=part)

    def remembered(
        self,
        question: str,
        asked: Mapping[str, object],
        model: type[_M],
        answer: Callable[[], _M],
        settings: Mapping[str, object] | None = None,
    ) -> _M:
        """The answer the store keeps for this question of this version of the graph, or a
        new one, then kept (when it is not too large, and the store is free to keep it).
        ``settings`` is what of the configuration the answer depends on; by default the
        privacy threshold and the whole scoring file, so that changing either answers anew."""
        with self.store.read() as reader:
            version = reader.version()
        if settings is None:
            scoring = hashlib.sha256(self.scoring.model_dump_json().encode()).hexdigest()[:16]
            settings = {"min_headcount": self.privacy.min_headcount, "scoring": scoring}
        answered_by = [_release(), _shape(model)]  # a new release, or a new shape, answers anew
        key = json.dumps(
            [question, version, asked, settings, answered_by],
            sort_keys=True,
            default=str,
        )
        kept = self.store.recall(key)
        if kept is not None:
            with suppress(ValidationError):
                return model.model_validate_json(kept)
        found = answer()
        text = found.model_dump_json()
        if len(text) <= KEEP_AT_MOST:
            with suppress(GraphError):  # a store busy with a long write keeps nothing this time
                self.store.remember(key, text)
        return found

    def _refuse_hidden(self, *asked: str | None) -> None:
        """NotFound for an id of a cohort outputs hide (or of one of its conditions): asking
        about it by id must neither answer nor confirm it exists."""
        for entity_id in asked:
            if entity_id is not None and self._small_cohorts({entity_id.partition("/")[0]}):
                raise NotFound(entity_id)

    def _small_cohorts(self, ids: set[str]) -> set[str]:
        """Those of ``ids`` that are cohorts outputs must suppress."""
        with self.store.read() as reader:
            return {
                entity.id
                for entity in reader.entities(ids)
                if isinstance(entity, Cohort) and self.privacy.hides(entity.headcount)
            }


@cache
def _release() -> str:
    """The installed laborgraph's version."""
    return importlib.metadata.version("laborgraph")


@cache
def _shape(model: type[BaseModel]) -> str:
    """A short digest of an answer model's JSON schema."""
    return hashlib.sha256(json.dumps(model.model_json_schema(), sort_keys=True).encode()).hexdigest()[:12]


def _dimension(name: str) -> Dimension:
    try:
        return Dimension(name)
    except ValueError:
        raise InvalidQuery(f"{name!r} is not a dimension; use one of {', '.join(Dimension)}") from None


def _gaps_asked(
    kind: gaps.GapKind | None, dimension: Dimension | None, offset: int, limit: int | None, today: date
) -> dict[str, object]:
    return {"kind": kind, "dimension": dimension, "offset": offset, "limit": limit, "today": today}

"""A buyer's due-diligence report (DOMAIN.md section 8): every answer a due-diligence file
needs about one buyer's chain, gathered once, for ``visualize.report`` to print.

The chain is what the buyer's region holds (``graph.analysis.regions.chain_rows``: its
decisions and everything downstream along the links they can follow), read once as a
skeleton and light rows. The gaps and the fragmentation are the analysis functions the CLI
and the API answer with, asked of that chain; the heat map and the workers by tier count
what the paths and tiers questions find; the top risk paths and the changes are the
questions' own answers, limited to the buyer; the scorecards come from the kept summary.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from laborgraph.app.questions import ChangeReport, Questions
from laborgraph.graph.analysis import regions
from laborgraph.graph.analysis.actions import TrackedAction
from laborgraph.graph.analysis.gaps import GapReport, VisibilityGaps
from laborgraph.graph.analysis.heatmap import RiskGrid, risk_grid
from laborgraph.graph.analysis.influence import Fragmentation
from laborgraph.graph.analysis.overview import BuyerOverview
from laborgraph.graph.analysis.paths import PathQuery, RiskPath
from laborgraph.graph.analysis.scorecards import ScoreLine
from laborgraph.graph.analysis.tiers import TierCount, tier_counts
from laborgraph.graph.errors import NotFound, TooManyChanges
from laborgraph.graph.model import Source
from laborgraph.graph.revisions import Revision
from laborgraph.graph.vocabulary import OPEN_STATUSES

TOP_PATHS = 20  # risk paths the report lists with their evidence
GAPS_LISTED = 25
FRAGMENTED_LISTED = 15  # cohorts listed, most decision-makers first
CHANGES_LISTED = 40


class BuyerReport(BaseModel):
    made_on: date = Field(description="the day the report was made: overdue actions count from it")
    revision: Revision | None = Field(description="the newest revision of the graph it reads")
    buyer: BuyerOverview
    min_headcount: int = Field(description="cohorts smaller than this are counted, never named")
    risks: RiskGrid = Field(description="the buyer's risk paths by severity and dimension")
    tiers: list[TierCount] = Field(description="what each tier of the chain holds")
    top_paths: list[RiskPath] = Field(description=f"the {TOP_PATHS} worst risk paths, with their evidence")
    gaps: GapReport = Field(description="visibility gaps within the buyer's chain")
    fragmentation: Fragmentation = Field(
        description="how many of the buyer's units reach each cohort of its chain"
    )
    review_day: date | None = Field(description="the day scorecard evidence ages from")
    scorecards: list[ScoreLine] = Field(
        description="the points of the chain's organizations that engage cohorts"
    )
    changes: ChangeReport | None = Field(
        description="since the previous revision; null before a second one, or when it changed too much"
    )
    changes_untold: str | None = Field(
        None, description="why no changes are shown: the newest revision changed too much to compare"
    )
    actions: list[TrackedAction] = Field(description="the open actions of the chain, overdue first")
    sources: list[Source] = Field(description="the sources the top paths and the actions cite, by id")


def buyer_report(ask: Questions, buyer_id: str, today: date | None = None) -> BuyerReport:
    """Everything the report of ``buyer_id`` shows, kept as the questions keep their answers;
    NotFound unless it is a buyer."""
    today = today or date.today()
    return ask.remembered(
        "report", {"buyer": buyer_id, "today": today}, BuyerReport, lambda: _gather(ask, buyer_id, today)
    )


def _gather(ask: Questions, buyer_id: str, today: date) -> BuyerReport:
    buyer = next((b for b in ask.overview().buyers if b.buyer_id == buyer_id), None)
    if buyer is None:
        raise NotFound(buyer_id, "buyer")
    revisions = ask.revisions()
    changes, untold = None, None
    if len(revisions) >= 2:
        try:
            changes = ask.changes(buyer=buyer_id, limit=CHANGES_LISTED)
        except TooManyChanges as exc:
            untold = str(exc)
    top = ask.path_page(PathQuery(origin=buyer_id), 0, TOP_PATHS, today).items
    summary = ask.scorecard_summary()
    with ask.store.read() as reader:
        chain = regions.chain_rows(reader, buyer_id)
        whole = chain.whole(reader)
    hides = ask.privacy.min_headcount
    tracked = ask.tracked(today, chain.ids)
    visibility = VisibilityGaps(
        whole, ask.scoring, today, actions=tracked
    )  # its reach serves the heat map too
    actions = sorted((a for a in tracked if a.status in OPEN_STATUSES), key=_overdue_first)
    with ask.store.read() as reader:
        sources = [s for s in reader.entities(_cited(top, actions)) if isinstance(s, Source)]
    return BuyerReport(
        made_on=today,
        revision=revisions[-1] if revisions else None,
        buyer=buyer,
        min_headcount=hides,
        risks=risk_grid(visibility.reach, chain.engaged, ask.scoring, hides),
        tiers=tier_counts(chain.skeleton, buyer_id, chain.engaged, hides),
        top_paths=top,
        gaps=ask.masked_gaps(visibility.report(limit=GAPS_LISTED)),
        fragmentation=ask.fragmentation_of(whole, 0, FRAGMENTED_LISTED),
        review_day=summary.review_day,
        scorecards=summary.lines({o.id: o.name for o in chain.skeleton.organizations()}),
        changes=changes,
        changes_untold=untold,
        actions=actions,
        sources=sorted(sources, key=lambda s: s.id),
    )


def _cited(paths: list[RiskPath], actions: list[TrackedAction]) -> set[str]:
    """The sources the paths' claims and the actions cite, but not a suppressed path's: they
    could point to its cohort."""
    shown = (p for p in paths if not p.suppressed)
    return {s for p in shown for hop in p.hops for s in hop.source_ids} | {
        s for a in actions for s in a.source_ids
    }


def _overdue_first(action: TrackedAction) -> tuple[bool, date, str]:
    return (not action.overdue, action.due_at or date.max, action.id)

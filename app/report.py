"""A buyer's due-diligence report (DOMAIN.md section 8): every answer a due-diligence file
needs about one buyer's chain, gathered once, for ``visualize.report`` to print.

The chain is the buyer's region (``graph.analysis.regions.region``: its decisions and
everything downstream along the links they can follow), read once. The heat map, the
workers by tier, the gaps and the fragmentation are the same analysis functions the CLI and
the API answer with, asked of that region; the top risk paths, the changes and the
scorecards are the questions' own answers, limited to the buyer.
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
from laborgraph.graph.analysis.reach import Reach
from laborgraph.graph.analysis.scorecards import ScoreLine
from laborgraph.graph.analysis.tiers import CountryCount, TierCount, tier_map
from laborgraph.graph.analysis.whole import WholeGraph
from laborgraph.graph.errors import NotFound
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
    countries: list[CountryCount]
    top_paths: list[RiskPath] = Field(description=f"the {TOP_PATHS} worst risk paths, with their evidence")
    gaps: GapReport = Field(description="visibility gaps within the buyer's chain")
    fragmentation: Fragmentation = Field(
        description="how many of the buyer's units reach each cohort of its chain"
    )
    review_day: date | None = Field(description="the day scorecard evidence ages from")
    scorecards: list[ScoreLine] = Field(
        description="the points of the chain's organizations that engage cohorts"
    )
    changes: ChangeReport | None = Field(description="since the previous revision; null before a second one")
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
    # The answers that read regions of their own first: what they hold is gone before the
    # chain's region is read, so a large chain never holds both.
    revisions = ask.revisions()
    changes = ask.changes(buyer=buyer_id, limit=CHANGES_LISTED) if len(revisions) >= 2 else None
    top = ask.path_page(PathQuery(origin=buyer_id), 0, TOP_PATHS, today).items
    summary = ask.scorecard_summary()
    view = regions.region_view(ask.store, buyer_id)
    whole = WholeGraph.from_view(view)
    hides = ask.privacy.min_headcount
    headcounts = {c.id: c.headcount for c in view.cohorts()}
    conditions = [c for by_dimension in view.conditions.values() for c in by_dimension.values()]
    reach = Reach(whole.skeleton, whole.engagements())
    tracked = ask.tracked(today, view)
    found_gaps = VisibilityGaps(whole, ask.scoring, today, actions=tracked).report(limit=GAPS_LISTED)
    chain = tier_map(view, buyer_id, 0, 0, private_below=hides)
    actions = sorted((a for a in tracked if a.status in OPEN_STATUSES), key=_overdue_first)
    return BuyerReport(
        made_on=today,
        revision=revisions[-1] if revisions else None,
        buyer=buyer,
        min_headcount=hides,
        risks=risk_grid(reach, conditions, headcounts, ask.scoring, hides),
        tiers=chain.tiers,
        countries=chain.countries,
        top_paths=top,
        gaps=ask.masked_gaps(found_gaps),
        fragmentation=ask.fragmentation_of(whole, 0, FRAGMENTED_LISTED),
        review_day=summary.review_day,
        scorecards=summary.lines({o.id: o.name for o in view.organizations()}),
        changes=changes,
        actions=actions,
        sources=[view.sources[s] for s in sorted(_cited(top, actions)) if s in view.sources],
    )


def _cited(paths: list[RiskPath], actions: list[TrackedAction]) -> set[str]:
    """The sources the paths' claims and the actions cite; a suppressed path's are its cohort's."""
    shown = (p for p in paths if not p.suppressed)
    return {s for p in shown for hop in p.hops for s in hop.source_ids} | {
        s for a in actions for s in a.source_ids
    }


def _overdue_first(action: TrackedAction) -> tuple[bool, date, str]:
    return (not action.overdue, action.due_at or date.max, action.id)

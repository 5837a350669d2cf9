"""The analyst's pages: the front door at ``/``, interactive maps at ``/map`` and a buyer's
printable due-diligence report at ``/report``.

Each page is one self-contained HTML document (every script and style inlined), so it can be
saved and opened offline. With API keys configured, the browser asks for one (HTTP Basic:
any user name, the key as password).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from laborgraph.app.deps import MAX_OFFSET, PageQuestionsDep
from laborgraph.app.errors import page_error_responses
from laborgraph.app.questions import DEFAULT_PAGE, FRONT_PAGE_PATHS
from laborgraph.app.report import buyer_report
from laborgraph.graph.analysis.paths import PathQuery
from laborgraph.graph.store import MAX_DEPTH
from laborgraph.visualize.map import DEFAULT_FOCUS_DEPTH, MAX_PATHS, map_region
from laborgraph.visualize.render import render_home_html, render_map_html, render_summary_html
from laborgraph.visualize.report import render_report_html

router = APIRouter(tags=["map pages"], default_response_class=HTMLResponse)
ERRORS = page_error_responses(401, 403, 404, 422, 503)

Viewpoint = Annotated[
    str | None, Query(description="Lay the chain out from this organization (default: every buyer).")
]
PathRank = Annotated[
    int | None, Query(ge=1, le=MAX_PATHS, description="Highlight the risk path of this rank.")
]


@router.get("/", responses=ERRORS)
def home(
    ask: PageQuestionsDep,
    viewpoint: Viewpoint = None,
    path: PathRank = None,
    offset: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, description="The first buyer listed, on a large graph.")
    ] = 0,
) -> HTMLResponse:
    """The front door: the chain's map, its top risk paths, its visibility gaps; on a graph
    too large to draw at once, every buyer to pick a viewpoint from, and the top risk paths."""
    gaps = ask.gaps(limit=DEFAULT_PAGE)
    totals = {c.kind.value: c.count for c in gaps.counts if c.dimension is None}
    since = ask.since_last_review()
    if viewpoint is None and not ask.fits_one_map():
        top = ask.path_page(PathQuery(), 0, FRONT_PAGE_PATHS).items
        return HTMLResponse(
            render_summary_html(
                ask.overview(),
                top,
                gap_totals=totals,
                since=since,
                offset=offset,
                notice=ask.unfinished_notice(),
            )
        )
    model = ask.chain_map(viewpoint=viewpoint, path_rank=path, served=True)
    reports = [(b.buyer_id, b.buyer_name) for b in ask.overview().buyers]
    return HTMLResponse(
        render_home_html(
            model, gaps.items, gap_totals=totals, since=since, reports=reports, notice=ask.unfinished_notice()
        )
    )


@router.get("/map", responses=ERRORS)
def chain_map(
    ask: PageQuestionsDep,
    viewpoint: Viewpoint = None,
    focus: Annotated[str | None, Query(description="Show the neighbourhood of this entity.")] = None,
    depth: Annotated[
        int, Query(ge=1, le=MAX_DEPTH, description="Links around the focus.")
    ] = DEFAULT_FOCUS_DEPTH,
    tier: Annotated[
        str | None, Query(description="With country: only the organizations of this tier (empty: no tier).")
    ] = None,
    country: Annotated[
        str | None, Query(description="With tier: only the organizations of this country.")
    ] = None,
    path: PathRank = None,
) -> HTMLResponse:
    """An interactive map: a buyer's chain, one entity's neighbourhood, one group of its
    organizations (a tier and a country), or one risk path."""
    model = ask.chain_map(
        viewpoint=viewpoint,
        focus=focus,
        depth=depth,
        path_rank=path,
        region=map_region(tier, country),
        served=True,
    )
    return HTMLResponse(render_map_html(model, notice=ask.unfinished_notice()))


@router.get("/report", responses=ERRORS)
def report(
    ask: PageQuestionsDep,
    buyer: Annotated[str, Query(description="The buyer whose chain the report is about.")],
) -> HTMLResponse:
    """A buyer's due-diligence report: headline figures, where the risks lie, workers by tier,
    the top risk paths with their evidence, changes since the previous revision, open
    actions, visibility gaps, fragmentation and supplier scorecards, on one printable page
    that needs no script."""
    return HTMLResponse(render_report_html(buyer_report(ask, buyer), notice=ask.unfinished_notice()))

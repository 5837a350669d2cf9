"""The analyst's pages: the front door at ``/`` and interactive maps at ``/map``.

Each page is one self-contained HTML document (every script and style inlined), so it can be
saved and opened offline. With API keys configured, the browser asks for one (HTTP Basic:
any user name, the key as password).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from app.deps import PageQuestionsDep
from app.errors import page_error_responses
from graph.store import MAX_DEPTH
from visualize.map import DEFAULT_FOCUS_DEPTH
from visualize.render import render_home_html, render_map_html

router = APIRouter(tags=["map pages"], default_response_class=HTMLResponse)
FRONT_PAGE_GAPS = 300  # gaps listed on the front page; the API pages through the rest
ERRORS = page_error_responses(401, 403, 404, 422, 503)

Viewpoint = Annotated[
    str | None, Query(description="Lay the chain out from this organization (default: every buyer).")
]
PathRank = Annotated[int | None, Query(ge=1, description="Highlight the risk path of this rank.")]


@router.get("/", responses=ERRORS)
def home(ask: PageQuestionsDep, viewpoint: Viewpoint = None, path: PathRank = None) -> HTMLResponse:
    """The front door: the chain's map, its top risk paths, its visibility gaps."""
    model = ask.chain_map(viewpoint=viewpoint, path_rank=path)
    gaps = ask.gaps(limit=FRONT_PAGE_GAPS)
    totals = {c.kind.value: c.count for c in gaps.counts if c.dimension is None}
    return HTMLResponse(render_home_html(model, gaps.items, gap_totals=totals))


@router.get("/map", responses=ERRORS)
def chain_map(
    ask: PageQuestionsDep,
    viewpoint: Viewpoint = None,
    focus: Annotated[str | None, Query(description="Show the neighbourhood of this entity.")] = None,
    depth: Annotated[
        int, Query(ge=1, le=MAX_DEPTH, description="Links around the focus.")
    ] = DEFAULT_FOCUS_DEPTH,
    path: PathRank = None,
) -> HTMLResponse:
    """An interactive map: a buyer's chain, one entity's neighbourhood, or one risk path."""
    return HTMLResponse(
        render_map_html(ask.chain_map(viewpoint=viewpoint, focus=focus, depth=depth, path_rank=path))
    )

"""Risk paths: whose decisions reach which worker conditions, ranked; as JSON pages or CSV."""

from __future__ import annotations

from itertools import chain, islice
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from laborgraph.app.deps import MAX_OFFSET, AsOfQuestionsDep, Limit, Offset, PathFilters, require_read
from laborgraph.app.errors import error_responses
from laborgraph.app.questions import PathPage
from laborgraph.app.routes import examples
from laborgraph.visualize.export import stream_csv

router = APIRouter(tags=["risk paths"], dependencies=[Depends(require_read)])
ERRORS = error_responses(401, 403, 404, 422, 503)
CSV_NAME = "laborgraph-risk-paths.csv"


@router.get("/paths", responses={**examples.json_example(examples.PATH_PAGE), **ERRORS})
def list_paths(ask: AsOfQuestionsDep, query: PathFilters, offset: Offset = 0, limit: Limit = 100) -> PathPage:
    """Ranked risk paths, worst first; ``from`` takes a unit, decision or organization id."""
    return ask.path_page(query, offset, limit)


CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "One row per path.",
        "content": {"text/csv": {"example": examples.PATHS_CSV}},
    }
}


@router.get("/paths.csv", response_class=StreamingResponse, responses={**CSV_RESPONSE, **ERRORS})
def download_paths(
    ask: AsOfQuestionsDep,
    query: PathFilters,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Paths to skip.")] = 0,
    limit: Annotated[
        int | None, Query(ge=1, le=MAX_OFFSET, description="At most this many paths; all if absent.")
    ] = None,
) -> StreamingResponse:
    """The same risk paths as a CSV download (the columns docs/API.md lists), streamed row by row."""
    found = ask.risk_paths(query.model_copy(update={"offset": offset, "limit": limit}))
    # Run the query now, so that its errors get a status code rather than cut the file short.
    first = list(islice(found, 1))
    return StreamingResponse(
        stream_csv(chain(first, found)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{CSV_NAME}"'},
    )

"""Scorecards: how the organizations that engage cohorts meet Fairwork's five principles."""

from __future__ import annotations

from itertools import chain, islice
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, StreamingResponse

from laborgraph.app.deps import MAX_OFFSET, Limit, Offset, QuestionsDep, require_read
from laborgraph.app.errors import error_responses
from laborgraph.app.questions import DEFAULT_PAGE
from laborgraph.app.routes import examples
from laborgraph.app.routes.downloads import xlsx_download, xlsx_response
from laborgraph.graph.analysis.scorecards import Scorecard, ScorecardPage
from laborgraph.visualize.export import stream_scorecards_csv, write_scorecards_xlsx

DownloadOffset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Organizations to skip.")]
DownloadLimit = Annotated[
    int | None, Query(ge=1, description="At most this many organizations; all if absent.")
]
router = APIRouter(tags=["scorecards"], dependencies=[Depends(require_read)])
CSV_NAME = "laborgraph-scorecards.csv"
XLSX_NAME = "laborgraph-scorecards.xlsx"
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "One row per organization and principle.",
        "content": {"text/csv": {"example": examples.SCORECARDS_CSV}},
    }
}


@router.get(
    "/scorecards",
    responses={**examples.json_example(examples.SCORECARD_PAGE), **error_responses(401, 403, 422, 503)},
)
def list_scorecards(ask: QuestionsDep, offset: Offset = 0, limit: Limit = DEFAULT_PAGE) -> ScorecardPage:
    """How many organizations score each number of points and earn each point, then one
    page of their scorecards, by organization id."""
    return ask.scorecards(offset, limit)


@router.get(
    "/scorecards.csv",
    response_class=StreamingResponse,
    responses={**CSV_RESPONSE, **error_responses(401, 403, 422, 503)},
)
def download_scorecards(
    ask: QuestionsDep,
    offset: DownloadOffset = 0,
    limit: DownloadLimit = None,
) -> StreamingResponse:
    """The same scorecards as a CSV download, one row per organization and principle."""
    found = ask.iter_scorecards(offset, limit)
    first = list(islice(found, 1))  # asked now, so that errors get a status code
    return StreamingResponse(
        stream_scorecards_csv(chain(first, found)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{CSV_NAME}"'},
    )


@router.get(
    "/scorecards.xlsx",
    response_class=FileResponse,
    responses={
        **xlsx_response('The CSV\'s rows and columns in one worksheet, "scorecards".'),
        **error_responses(401, 403, 422, 503),
    },
)
def download_scorecards_xlsx(
    ask: QuestionsDep,
    offset: DownloadOffset = 0,
    limit: DownloadLimit = None,
) -> FileResponse:
    """The same scorecards as a spreadsheet (.xlsx): the CSV's rows and columns."""
    found = ask.iter_scorecards(offset, limit)
    return xlsx_download(lambda target: write_scorecards_xlsx(found, target), XLSX_NAME)


@router.get(
    "/scorecards/{org_id}",
    responses={**examples.json_example(examples.SCORECARD), **error_responses(401, 403, 404, 422, 503)},
)
def get_scorecard(ask: QuestionsDep, org_id: str) -> Scorecard:
    """One organization's scorecard: each principle's points, the conditions and sources
    they rest on, and what is missing; 404 unless the organization engages cohorts."""
    return ask.scorecard(org_id)

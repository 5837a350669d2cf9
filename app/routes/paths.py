"""Risk paths: whose decisions reach which worker conditions, ranked; as JSON pages, CSV or
a spreadsheet."""

from __future__ import annotations

from itertools import chain, islice
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, StreamingResponse

from laborgraph.app.deps import MAX_OFFSET, AsOfQuestionsDep, Limit, Offset, PathFilters, require_read
from laborgraph.app.errors import error_responses
from laborgraph.app.questions import PathPage
from laborgraph.app.routes import examples
from laborgraph.app.routes.downloads import xlsx_download, xlsx_response
from laborgraph.visualize.export import XlsxExporter, export_paths, stream_csv

router = APIRouter(tags=["risk paths"], dependencies=[Depends(require_read)])
ERRORS = error_responses(401, 403, 404, 422, 503)
CSV_NAME = "laborgraph-risk-paths.csv"
XLSX_NAME = "laborgraph-risk-paths.xlsx"
DownloadOffset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Paths to skip.")]
# Bounded so that no value overflows the index seek it becomes.
DownloadLimit = Annotated[
    int | None, Query(ge=1, le=MAX_OFFSET, description="At most this many paths; all if absent.")
]


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
    ask: AsOfQuestionsDep, query: PathFilters, offset: DownloadOffset = 0, limit: DownloadLimit = None
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


XLSX_RESPONSE = xlsx_response("The CSV's rows and columns in one worksheet.")


@router.get("/paths.xlsx", response_class=FileResponse, responses={**XLSX_RESPONSE, **ERRORS})
def download_paths_xlsx(
    ask: AsOfQuestionsDep, query: PathFilters, offset: DownloadOffset = 0, limit: DownloadLimit = None
) -> FileResponse:
    """The same risk paths as a spreadsheet (.xlsx), written in constant memory, then sent."""
    found = ask.risk_paths(query.model_copy(update={"offset": offset, "limit": limit}))
    return xlsx_download(lambda target: export_paths(found, [XlsxExporter(target)]), XLSX_NAME)

"""Reviews over time: revisions, what changed between two, a fact's history, retraction."""

from __future__ import annotations

from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field

from laborgraph.app.deps import Limit, Offset, QuestionsDep, StoreDep, Writer, require_read
from laborgraph.app.errors import error_responses
from laborgraph.app.questions import DEFAULT_PAGE, ChangeReport, History
from laborgraph.app.routes import examples
from laborgraph.app.routes.downloads import xlsx_download, xlsx_response
from laborgraph.graph.revisions import MAX_REASON, Revision, WriteNote, link_key
from laborgraph.graph.vocabulary import LinkType
from laborgraph.ingest.load import retract
from laborgraph.visualize.export import stream_changes_csv, write_changes_xlsx

router = APIRouter(tags=["reviews"], dependencies=[Depends(require_read)])
CSV_NAME = "laborgraph-changes.csv"
XLSX_NAME = "laborgraph-changes.xlsx"
ERRORS = error_responses(401, 403, 404, 422, 503)
RETRACTED = examples.json_example(examples.RETRACTED, "Retracted, with the revision it made.")
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"description": "One row per change.", "content": {"text/csv": {"example": examples.CHANGES_CSV}}}
}
Reason = Annotated[str, Query(min_length=1, max_length=MAX_REASON, description="Why it is wrong; kept.")]


class Retracted(BaseModel):
    revision: Revision
    orphaned_cohorts: list[str] = Field(description="cohorts left with no organization engaging them")


@router.get(
    "/revisions", responses={**examples.json_example([examples.REVISION]), **error_responses(401, 403, 503)}
)
def list_revisions(ask: QuestionsDep) -> list[Revision]:
    """Every revision of the graph, oldest first: when, label, bundle sha256, what changed, who."""
    return ask.revisions()


class ChangesQuery(NamedTuple):
    start: int | None
    end: int | None
    buyer: str | None
    unchanged: bool


def changes_query(
    start: Annotated[
        int | None,
        Query(alias="from", ge=0, description="The earlier revision (default: the one before to)."),
    ] = None,
    end: Annotated[
        int | None, Query(alias="to", ge=1, description="The later revision (default: newest).")
    ] = None,
    buyer: Annotated[str | None, Query(description="Only what touches this buyer's chain.")] = None,
    unchanged: Annotated[
        bool, Query(description="List the risk paths a change could have moved but did not.")
    ] = False,
) -> ChangesQuery:
    return ChangesQuery(start, end, buyer, unchanged)


ChangesFilters = Annotated[ChangesQuery, Depends(changes_query)]


@router.get("/changes", responses={**examples.json_example(examples.CHANGES), **ERRORS})
def list_changes(
    ask: QuestionsDep, asked: ChangesFilters, offset: Offset = 0, limit: Limit = DEFAULT_PAGE
) -> ChangeReport:
    """Risk paths new, worse, better, resolved (unchanged ones counted, listed if asked); conditions
    changed; entities and links added or retracted: worst news first, with counts."""
    return ask.changes(asked.start, asked.end, asked.buyer, offset, limit, asked.unchanged)


@router.get(
    "/changes.csv", response_class=StreamingResponse, responses=error_responses(401, 403, 404, 422, 503)
)
def download_changes(ask: QuestionsDep, asked: ChangesFilters) -> StreamingResponse:
    """Every change as CSV (the columns docs/API.md lists)."""
    found = ask.changes(asked.start, asked.end, asked.buyer, unchanged=asked.unchanged)
    return StreamingResponse(
        stream_changes_csv(found.items),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{CSV_NAME}"'},
    )


@router.get(
    "/changes.xlsx",
    response_class=FileResponse,
    responses={**xlsx_response('The CSV\'s rows and columns in one worksheet, "changes".'), **ERRORS},
)
def download_changes_xlsx(ask: QuestionsDep, asked: ChangesFilters) -> FileResponse:
    """Every change as a spreadsheet (.xlsx): the CSV's rows and columns."""
    found = ask.changes(asked.start, asked.end, asked.buyer, unchanged=asked.unchanged)
    return xlsx_download(lambda target: write_changes_xlsx(found.items, target), XLSX_NAME)


@router.get("/history/{fact_id:path}", responses={**examples.json_example(examples.HISTORY), **ERRORS})
def get_history(ask: QuestionsDep, fact_id: str) -> History:
    """Every value an entity (a condition: ``cohort_id/dimension``) has held, retractions with
    their reasons, and a condition's observations."""
    return ask.history(fact_id)


@router.delete("/entities/{entity_id:path}", responses={**RETRACTED, **ERRORS})
async def retract_entity(writer: Writer, store: StoreDep, entity_id: str, reason: Reason) -> Retracted:
    """Retract an entity (write scope): it leaves every answer and stays in the history. An
    organization takes its units, their decisions, the decisions applying to it and its links."""
    written = await run_in_threadpool(retract, store, entity_id, reason, WriteNote(writer=writer.name))
    assert written.revision is not None
    return Retracted(revision=written.revision, orphaned_cohorts=list(written.orphaned_cohorts))


@router.delete("/links", responses={**RETRACTED, **ERRORS})
async def retract_link(
    writer: Writer,
    store: StoreDep,
    from_id: str,
    type: LinkType,
    to_id: str,
    reason: Reason,
    project: Annotated[str, Query(description="The link's project; empty for none.")] = "",
) -> Retracted:
    """Retract one link (write scope), kept in the history with the reason."""
    key = link_key((from_id, type, to_id, project))
    written = await run_in_threadpool(retract, store, key, reason, WriteNote(writer=writer.name))
    assert written.revision is not None
    return Retracted(revision=written.revision, orphaned_cohorts=list(written.orphaned_cohorts))

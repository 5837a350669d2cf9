"""Actions on risks and their measured effect: list them, record one, change one (write scope)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from laborgraph.app.deps import Limit, Offset, QuestionsDep, StoreDep, Writer, require_read
from laborgraph.app.errors import InvalidBundleBody, InvalidRequestBody, error_responses
from laborgraph.app.questions import DEFAULT_PAGE, ActionList, Questions
from laborgraph.app.routes import examples
from laborgraph.graph.analysis.actions import TrackedAction
from laborgraph.graph.errors import BundleIssue
from laborgraph.graph.revisions import Revision, WriteNote
from laborgraph.graph.vocabulary import ActionKind, ActionStatus, Effect, EvidenceGrade
from laborgraph.ingest.actions import add_action, update_action
from laborgraph.ingest.load import IngestReport
from laborgraph.visualize.export import stream_actions_csv

router = APIRouter(tags=["actions"], dependencies=[Depends(require_read)])
CSV_NAME = "laborgraph-actions.csv"
WHERE = "request body"  # the "file" errors in an action sent name
ERRORS = error_responses(401, 403, 404, 422, 503)
REFUSED: dict[int | str, dict[str, Any]] = {
    422: {
        "model": InvalidBundleBody | InvalidRequestBody,
        "description": "The action breaks a rule of actions.csv (every error listed, nothing written),"
        " or the request is malformed.",
        "content": {"application/json": {"example": examples.ACTION_REFUSED}},
    }
}
WRITTEN = examples.json_example(examples.ACTION_WRITTEN, "Written, with the action as it now stands.")
TARGET = "cohort_id/dimension, decision_id:cohort_id/dimension or a decision id"
NOT_JSON: dict[int | str, dict[str, Any]] = {
    400: {
        **error_responses(400)[400],
        "description": "The body is not a JSON object.",
        "content": {"application/json": {"example": {"error": "bad_request",
                                                     "message": "There was an error parsing the body"}}},
    }
}  # fmt: skip
Today = Annotated[date | None, Query(description="Count overdue as of this date (default: today).")]


def _enum(values: type[Any]) -> dict[str, Any]:
    # Cells are checked as actions.csv checks them, so a bad value is an error naming its column.
    return {"enum": [value.value for value in values]}


class ActionChanges(BaseModel):
    """The columns of actions.csv (docs/BUNDLE.md) to set, as text; those left out stay as stored."""

    model_config = ConfigDict(extra="forbid")

    target: str | None = Field(None, description=TARGET)
    owner_unit_id: str | None = None
    kind: str | None = Field(None, json_schema_extra=_enum(ActionKind))
    description: str | None = None
    opened_at: str | None = Field(None, description="ISO date")
    due_at: str | None = Field(None, description="ISO date")
    status: str | None = Field(None, json_schema_extra=_enum(ActionStatus))
    closed_at: str | None = Field(None, description="ISO date; done or dropped without one: today")
    evidence_grade: str | None = Field(None, json_schema_extra=_enum(EvidenceGrade))
    source_ids: list[str] | None = None


class NewAction(ActionChanges):
    id: str
    target: str = Field(description=TARGET)
    owner_unit_id: str
    kind: str = Field(json_schema_extra=_enum(ActionKind))
    opened_at: str | None = Field(None, description="ISO date (default: today)")


class ActionWritten(BaseModel):
    action: TrackedAction
    revision: Revision | None = Field(description="the revision the write made; null if it changed nothing")
    warnings: list[BundleIssue]


class ActionQuery(NamedTuple):
    status: ActionStatus | None
    overdue: bool | None
    effect: Effect | None
    buyer: str | None
    today: date | None


def action_query(
    status: Annotated[ActionStatus | None, Query(description="Only actions of this status.")] = None,
    overdue: Annotated[bool | None, Query(description="Only overdue actions (true) or the others.")] = None,
    effect: Annotated[Effect | None, Query(description="Only actions with this effect.")] = None,
    buyer: Annotated[str | None, Query(description="Only actions in this buyer's chain.")] = None,
    today: Today = None,
) -> ActionQuery:
    return ActionQuery(status, overdue, effect, buyer, today)


ActionFilters = Annotated[ActionQuery, Depends(action_query)]


@router.get("/actions", responses={**examples.json_example(examples.ACTIONS), **ERRORS})
def list_actions(
    ask: QuestionsDep, asked: ActionFilters, offset: Offset = 0, limit: Limit = DEFAULT_PAGE
) -> ActionList:
    """Every action with its status, whether it is overdue, and its effect: the targeted
    condition's observations before and after it, compared. Counts first, then one page."""
    return ask.actions(asked.status, asked.overdue, asked.effect, asked.buyer, offset, limit, asked.today)


@router.get("/actions.csv", response_class=StreamingResponse, responses=ERRORS)
def download_actions(ask: QuestionsDep, asked: ActionFilters) -> StreamingResponse:
    """Every action the filters keep as CSV (the columns docs/ACTIONS.md lists)."""
    found = ask.actions(asked.status, asked.overdue, asked.effect, asked.buyer, today=asked.today)
    return StreamingResponse(
        stream_actions_csv(found.items),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{CSV_NAME}"'},
    )


@router.get("/actions/{action_id}", responses={**examples.json_example(examples.TRACKED_ACTION), **ERRORS})
def get_action(ask: QuestionsDep, action_id: str, today: Today = None) -> TrackedAction:
    """One action with its effect."""
    return ask.action(action_id, today)


@router.post(
    "/actions",
    responses={**WRITTEN, **NOT_JSON, **error_responses(401, 403, 503), **REFUSED},
)
def record_action(writer: Writer, store: StoreDep, ask: QuestionsDep, body: NewAction) -> ActionWritten:
    """Record a new action (write scope), validated as a row of actions.csv; a revision."""
    fields = body.model_dump(exclude_none=True)
    report = add_action(store, fields, WriteNote(writer=writer.name), WHERE, date.today())
    return _written(ask, body.id, report)


@router.patch(
    "/actions/{action_id}",
    responses={**WRITTEN, **NOT_JSON, **error_responses(401, 403, 404, 503), **REFUSED},
)
def change_action(
    writer: Writer, store: StoreDep, ask: QuestionsDep, action_id: str, body: ActionChanges
) -> ActionWritten:
    """Change an action (write scope): close it (``status`` done or dropped; ``closed_at``
    defaults to today), reschedule it, correct it. Validated as a row of actions.csv."""
    changes = body.model_dump(exclude_none=True)
    report = update_action(store, action_id, changes, WriteNote(writer=writer.name), WHERE, date.today())
    return _written(ask, action_id, report)


def _written(ask: Questions, action_id: str, report: IngestReport) -> ActionWritten:
    return ActionWritten(action=ask.action(action_id), revision=report.revision, warnings=report.warnings)

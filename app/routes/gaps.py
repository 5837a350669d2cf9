"""Visibility gaps: where the graph cannot show what happens to workers."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.deps import QuestionsDep, require_read
from app.errors import error_responses
from app.routes import examples
from graph.analysis.gaps import Gap

router = APIRouter(tags=["gaps"], dependencies=[Depends(require_read)])


@router.get(
    "/gaps",
    responses={**examples.json_example(examples.GAPS), **error_responses(401, 403, 422, 503)},
)
def list_gaps(ask: QuestionsDep) -> list[Gap]:
    """Unknown or unrecorded conditions, missing or stale evidence, dead ends, idle decisions."""
    return ask.gaps()

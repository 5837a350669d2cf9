"""Visibility gaps: where the graph cannot show what happens to workers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from laborgraph.app.deps import AsOfQuestionsDep, Limit, Offset, require_read
from laborgraph.app.errors import error_responses
from laborgraph.app.questions import DEFAULT_PAGE
from laborgraph.app.routes import examples
from laborgraph.graph.analysis.gaps import GapKind, GapReport
from laborgraph.graph.vocabulary import Dimension

router = APIRouter(tags=["gaps"], dependencies=[Depends(require_read)])


@router.get(
    "/gaps",
    responses={**examples.json_example(examples.GAPS), **error_responses(401, 403, 422, 503)},
)
def list_gaps(
    ask: AsOfQuestionsDep,
    kind: Annotated[GapKind | None, Query(description="Only gaps of this kind.")] = None,
    dimension: Annotated[Dimension | None, Query(description="Only gaps on this dimension.")] = None,
    offset: Offset = 0,
    limit: Limit = DEFAULT_PAGE,
) -> GapReport:
    """Unknown or unrecorded conditions, missing or stale evidence, dead ends, idle decisions:
    how many of each kind, then one page of them."""
    return ask.gaps(kind, dimension, offset, limit)

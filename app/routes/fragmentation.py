"""Decision fragmentation: how many decision-makers affect each cohort."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from laborgraph.app.deps import Limit, Offset, QuestionsDep, require_read
from laborgraph.app.errors import error_responses
from laborgraph.app.questions import DEFAULT_PAGE
from laborgraph.app.routes import examples
from laborgraph.graph.analysis.influence import Fragmentation

router = APIRouter(tags=["fragmentation"], dependencies=[Depends(require_read)])


@router.get(
    "/fragmentation",
    responses={
        **examples.json_example(examples.FRAGMENTATION),
        **error_responses(401, 403, 422, 503),
    },
)
def get_fragmentation(ask: QuestionsDep, offset: Offset = 0, limit: Limit = DEFAULT_PAGE) -> Fragmentation:
    """Units and organizations affecting each cohort (a page, most first); which buyer units
    reach the most workers."""
    return ask.fragmentation(offset, limit)

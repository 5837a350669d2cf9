"""Cohorts: who, in which organizations, through which decisions and chains, affects one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from laborgraph.app.deps import AsOfQuestionsDep, Depth, require_read
from laborgraph.app.errors import error_responses
from laborgraph.app.routes import examples
from laborgraph.graph.analysis.influence import Influencers
from laborgraph.graph.store import DEFAULT_DEPTH
from laborgraph.graph.vocabulary import Dimension

router = APIRouter(prefix="/cohorts", tags=["cohorts"], dependencies=[Depends(require_read)])


@router.get(
    "/{cohort_id}/influencers",
    responses={
        **examples.json_example(examples.INFLUENCERS),
        **error_responses(401, 403, 404, 422, 503),
    },
)
def get_influencers(
    ask: AsOfQuestionsDep,
    cohort_id: str,
    dimension: Annotated[Dimension | None, Query(description="Only this condition dimension.")] = None,
    depth: Depth = DEFAULT_DEPTH,
) -> Influencers:
    """Units whose decisions reach the cohort (on one dimension, if given), worst first."""
    target = f"{cohort_id}/{dimension.value}" if dimension else cohort_id
    return ask.influencers(target, depth)

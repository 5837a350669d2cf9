"""Organizations: the tier map of the chain below one."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from laborgraph.app.deps import AsOfQuestionsDep, Limit, Offset, require_read
from laborgraph.app.errors import error_responses
from laborgraph.app.questions import DEFAULT_PAGE
from laborgraph.app.routes import examples
from laborgraph.graph.analysis.tiers import TierMap

router = APIRouter(prefix="/organizations", tags=["organizations"], dependencies=[Depends(require_read)])


@router.get(
    "/{org_id}/tiers",
    responses={**examples.json_example(examples.TIERS), **error_responses(401, 403, 404, 422, 503)},
)
def get_tiers(ask: AsOfQuestionsDep, org_id: str, offset: Offset = 0, limit: Limit = DEFAULT_PAGE) -> TierMap:
    """What each tier and country below this organization holds, and a page of its
    organizations and cohorts with their tiers."""
    return ask.tiers(org_id, offset, limit)

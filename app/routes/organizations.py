"""Organizations: the tier map of the chain below one."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.deps import QuestionsDep, require_read
from app.errors import error_responses
from app.routes import examples
from graph.analysis.tiers import TierMap

router = APIRouter(prefix="/organizations", tags=["organizations"], dependencies=[Depends(require_read)])


@router.get(
    "/{org_id}/tiers",
    responses={**examples.json_example(examples.TIERS), **error_responses(401, 403, 404, 422, 503)},
)
def get_tiers(ask: QuestionsDep, org_id: str) -> TierMap:
    """The tier of every organization and cohort downstream of this organization."""
    return ask.tiers(org_id)

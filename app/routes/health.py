"""Liveness and readiness, outside ``/api/v1`` and open to every caller (for probes)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from laborgraph.app.deps import HolderDep
from laborgraph.app.holder import StoreHolder
from laborgraph.app.routes import examples
from laborgraph.graph.errors import StoreUnavailable
from laborgraph.graph.unfinished import UnfinishedWrite

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    store: str
    reachable: bool
    detail: str
    unfinished_write: UnfinishedWrite | None = Field(
        default=None,
        description="a write started and not finished (in progress, or interrupted: `laborgraph settle`"
        " undoes it); answers meanwhile may hold part of it",
    )


UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {
        "model": Health,
        "description": "The store does not answer (the API recovers by itself once it does).",
        "content": {
            "application/json": {
                "example": {
                    "status": "unavailable",
                    "store": "neo4j",
                    "reachable": False,
                    "detail": "cannot connect to Neo4j at bolt://db:7687 (database 'neo4j'): ...",
                }
            }
        },
    }
}


@router.get(
    "/health",
    response_model=Health,
    responses={**examples.json_example(examples.HEALTH), **UNAVAILABLE},
)
def health(holder: HolderDep) -> JSONResponse:
    """Liveness and readiness: which store, and whether it answers now (503 if not)."""
    reachable, message = holder.health()
    body = Health(
        status="ok" if reachable else "unavailable",
        store=holder.backend,
        reachable=reachable,
        detail=message,
        unfinished_write=_unfinished_write(holder) if reachable else None,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if reachable else 503)


def _unfinished_write(holder: StoreHolder) -> UnfinishedWrite | None:
    try:
        return holder.get().unfinished_write()
    except StoreUnavailable:
        return None

"""How much the graph holds."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from laborgraph.app.deps import StoreDep, require_read
from laborgraph.app.errors import error_responses
from laborgraph.app.routes import examples
from laborgraph.graph.vocabulary import EntityKind

router = APIRouter(tags=["entities"], dependencies=[Depends(require_read)])


class Stats(BaseModel):
    store: str
    entities: dict[EntityKind, int]
    links: int


@router.get("/stats", responses={**examples.json_example(examples.STATS), **error_responses(401, 403, 503)})
def get_stats(store: StoreDep) -> Stats:
    """Entities of each kind, and links, in the graph."""
    counts = store.counts()
    entities = {kind: counts.get(kind, 0) for kind in EntityKind}
    return Stats(store=store.backend, entities=entities, links=counts.get("links", 0))

"""Entities by id, and by kind with paging and a name search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from app.deps import Limit, Offset, QuestionsDep, require_read
from app.errors import error_responses
from app.routes import examples
from graph.model import Entity
from graph.store import EntityPage
from graph.view import AnyEntity
from graph.vocabulary import EntityKind

router = APIRouter(prefix="/entities", tags=["entities"], dependencies=[Depends(require_read)])


class EntityList(EntityPage):
    next_offset: int | None = Field(description="offset of the next page; null on the last page")


@router.get(
    "",
    responses={
        **examples.json_example(examples.ENTITY_PAGE),
        **error_responses(401, 403, 422, 503),
    },
)
def list_entities(
    ask: QuestionsDep,
    kind: Annotated[EntityKind, Query(description="Which kind of entity to list.")],
    q: Annotated[
        str | None, Query(max_length=200, description="Only names containing this, any case.")
    ] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> EntityList:
    """One page of the entities of a kind, ordered by id."""
    found = ask.entities(kind, offset=offset, limit=limit, text=q or None)
    next_offset = offset + limit if offset + limit < found.total else None
    return EntityList(**found.model_dump(), next_offset=next_offset)


@router.get(
    "/{entity_id:path}",
    response_model=Entity,
    responses={
        **examples.json_example(examples.ORGANIZATION),
        **error_responses(401, 403, 404, 422, 503),
    },
)
def get_entity(ask: QuestionsDep, entity_id: str) -> AnyEntity:
    """One entity by id; a condition by ``cohort_id/dimension``."""
    return ask.entity(entity_id)

"""Entities by id, and by kind with paging and a name search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from laborgraph.app.deps import Limit, Offset, QuestionsDep, require_read
from laborgraph.app.errors import error_responses
from laborgraph.app.questions import EntityList
from laborgraph.app.routes import examples
from laborgraph.graph.model import Entity
from laborgraph.graph.view import AnyEntity
from laborgraph.graph.vocabulary import EntityKind

router = APIRouter(prefix="/entities", tags=["entities"], dependencies=[Depends(require_read)])


@router.get(
    "",
    responses={
        **examples.json_example(examples.ENTITY_PAGE),
        **error_responses(401, 403, 422, 503),
    },
)
def list_entities(
    ask: QuestionsDep,
    kind: Annotated[EntityKind | None, Query(description="Only entities of this kind.")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Only names containing this, any case.")
    ] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> EntityList:
    """One page of entities, ordered by id. Cohorts below the minimum headcount, and their
    conditions, are listed only for the admin scope (``show_small=true``)."""
    return ask.entities(kind, offset=offset, limit=limit, text=q or None)


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

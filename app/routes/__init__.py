"""The API's routers, one per resource, all under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from laborgraph.app.routes import (
    actions,
    bundles,
    cohorts,
    entities,
    fragmentation,
    gaps,
    organizations,
    paths,
    reviews,
    scorecards,
    stats,
)

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for module in (
        paths, cohorts, organizations, gaps, fragmentation, scorecards, reviews, actions, entities, stats,
        bundles,
    ):  # fmt: skip
        router.include_router(module.router)
    return router

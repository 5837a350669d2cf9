"""The FastAPI application factory. Nothing connects until the app starts (lifespan)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from app.holder import StoreHolder
from app.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        holder = StoreHolder(settings)
        app.state.holder = holder
        app.state.settings = settings
        try:
            holder.get()  # open now if possible; a down Neo4j is retried per request
        except Exception:  # noqa: BLE001 - health reports it; requests get 503 until it answers
            pass
        yield
        holder.close()

    app = FastAPI(
        title="laborgraph",
        version="0.1.0",
        summary="Which decisions affect which worker conditions in AI data-work supply chains.",
        lifespan=lifespan,
    )

    @app.get("/health", tags=["health"])
    def health() -> JSONResponse:
        """Liveness and readiness: which store, and whether it answers."""
        holder: StoreHolder = app.state.holder
        reachable, message = holder.health()
        body = {"status": "ok" if reachable else "unavailable", "store": holder.backend,
                "reachable": reachable, "detail": message}
        return JSONResponse(body, status_code=200 if reachable else 503)

    return app

"""The FastAPI application factory. Nothing connects until the app starts (lifespan)."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from app.auth import KeyRing
from app.errors import install_error_handlers
from app.holder import StoreHolder
from app.routes import api_router, health, pages
from app.settings import Settings
from graph.errors import StoreUnavailable

DESCRIPTION = """\
Which decisions, made by which teams of which AI buyers, vendors and platforms, reach which
worker conditions down AI data-work supply chains — the questions of the `laborgraph` CLI.

**Access.** Send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
Scopes: `read` (every question), `write` (also `POST /api/v1/bundles`), `admin` (also
`show_small=true`: cohorts below the minimum headcount unsuppressed). A server without
configured keys listens on loopback only and treats every caller as admin.

**Errors** have a stable `error` code and a `message`; 422 responses list every problem.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    keys = KeyRing.from_setting(settings.api_keys)  # ConfigError now, not on the first request

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        holder = StoreHolder(settings)
        app.state.holder = holder
        # Open now if possible; if the store is down, /health says so, requests get 503
        # and every request tries again, so the API recovers by itself once it answers.
        with suppress(StoreUnavailable):
            holder.get()
        yield
        holder.close()

    app = FastAPI(
        title="laborgraph",
        version="0.1.0",
        summary="Which decisions affect which worker conditions in AI data-work supply chains.",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.keys = keys
    install_error_handlers(app)
    if keys.open:
        app.middleware("http")(loopback_only)
    app.include_router(health.router)
    app.include_router(api_router())
    app.include_router(pages.router)
    return app


async def loopback_only(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Without keys every caller is an admin, so only this machine may call (whatever the bind)."""
    host = request.client.host if request.client else None
    try:
        remote = host is not None and not ipaddress.ip_address(host).is_loopback
    except ValueError:
        remote = False  # not a network peer (a unix socket, an in-process test client)
    if remote:
        message = "this server has no API keys configured and answers only on loopback"
        return JSONResponse({"error": "forbidden", "message": message}, status_code=403)
    return await call_next(request)

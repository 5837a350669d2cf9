"""The FastAPI application factory. Nothing connects until the app starts (lifespan)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI

from laborgraph.app.auth import KeyRing
from laborgraph.app.errors import install_error_handlers
from laborgraph.app.guard import RequestGuard, allowed_host_names
from laborgraph.app.holder import StoreHolder
from laborgraph.app.routes import api_router, docs, health, pages
from laborgraph.app.settings import Settings
from laborgraph.app.unfinished_header import UnfinishedWriteHeader
from laborgraph.graph.collector import collect_less_often
from laborgraph.graph.errors import StoreUnavailable
from laborgraph.visualize import render

DESCRIPTION = """\
Which decisions, made by which teams of which AI buyers, vendors and platforms, reach which
worker conditions down AI data-work supply chains — the questions of the `laborgraph` CLI.

**Access.** Send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
Scopes: `read` (every question, and these docs unless `LABORGRAPH_PUBLIC_DOCS` is set),
`write` (also `POST /api/v1/bundles`), `admin` (also `show_small=true`: cohorts below the
minimum headcount unsuppressed).

A server without configured keys answers only this machine: callers on loopback, under the
names `localhost`, `127.0.0.1` or `[::1]` (and those in `LABORGRAPH_ALLOWED_HOSTS`). Every
such caller reads as an admin; an upload needs the server's write token, which `laborgraph
serve` prints at start, sent like a key (use **Authorize** above).

On every server, a browser request that changes something (a `POST`) from another site's
page is refused with 403.

**Errors** have a stable `error` code and a `message`; 422 responses list every problem.
The HTML pages (`/`, `/map`) answer errors as a small HTML page with the same message.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # ConfigError now, not on the first request
    keys = KeyRing.from_setting(settings.api_keys, settings.write_token.get_secret_value())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        collect_less_often()
        holder = StoreHolder(settings)
        app.state.holder = holder
        # Open now if possible; if the store is down, /health says so, requests get 503
        # and every request tries again, so the API recovers by itself once it answers.
        with suppress(StoreUnavailable):
            holder.get()
        render.preload()
        yield
        holder.close()

    app = FastAPI(
        title="laborgraph",
        version="0.1.0",
        summary="Which decisions affect which worker conditions in AI data-work supply chains.",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url=None,  # app/routes/docs.py serves the docs, from packaged assets
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.keys = keys
    install_error_handlers(app)
    allowed_hosts = allowed_host_names(settings.allowed_hosts)
    app.add_middleware(RequestGuard, keyless=keys.open, allowed_hosts=allowed_hosts)
    app.add_middleware(UnfinishedWriteHeader)
    app.include_router(health.router)
    app.include_router(docs.router)
    app.mount(docs.ASSETS_URL, docs.assets(), name="docs-assets")
    app.include_router(api_router())
    app.include_router(pages.router)
    return app

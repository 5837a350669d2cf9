"""The API's documentation: the OpenAPI document and Swagger UI at ``/docs``.

Swagger UI's script and style are the copies the ``fastapi-offline`` package ships, served
from ``/docs/assets``: the docs work without a network, and no request leaves the machine.
There is no ``/redoc``: ReDoc always loads its logo from its makers' CDN.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from laborgraph.app.deps import require_docs_reader

ASSETS_URL = "/docs/assets"
OPENAPI_URL = "/openapi.json"

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_docs_reader)])


def assets() -> StaticFiles:
    """The packaged Swagger UI files (open to every caller: nothing in them is ours)."""
    return StaticFiles(directory=Path(str(resources.files("fastapi_offline") / "static")))


@router.get(OPENAPI_URL)
def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=root + OPENAPI_URL,
        title=f"{request.app.title} API",
        swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
    )

"""HTTP errors, mapped in this one place.

    NotFound                       404 not_found
    InvalidQuery, bad parameters   422 invalid_query / invalid_request, every problem listed
    InvalidBundle                  422 invalid_bundle, every error and warning listed
    UploadTooLarge                 413 upload_too_large
    StoreUnavailable               503 store_unavailable (with Retry-After)
    ConfigError                    500 config_error, with the message
    other GraphError               500 store_error, with the message
    HTTPException (401, 403, ...)  its status, same body shape
    anything else                  500 internal_error, logged; never a traceback to the caller

Every error body has ``error`` (a stable code) and ``message`` (for people). A route that
answers HTML (a map page, the docs) answers its errors as a small HTML page with the message
instead, with the same status and headers: the route decides, not the Accept header.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.datastructures import DefaultPlaceholder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from laborgraph.app.error_page import render_error_page
from laborgraph.graph.errors import (
    BundleIssue,
    ConfigError,
    GraphError,
    InvalidBundle,
    InvalidQuery,
    NotFound,
    StoreUnavailable,
)

log = logging.getLogger("laborgraph.api")
RETRY_AFTER_SECONDS = 5


class UploadTooLarge(Exception):
    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        super().__init__(
            f"the upload exceeds the limit of {limit_bytes / 1024 / 1024:g} MB (LABORGRAPH_MAX_UPLOAD_MB)"
        )


class ErrorBody(BaseModel):
    error: str
    message: str


class RequestProblem(BaseModel):
    location: str  # e.g. "query.limit"
    message: str


class InvalidRequestBody(ErrorBody):
    errors: list[RequestProblem]


class InvalidBundleBody(ErrorBody):
    errors: list[BundleIssue]
    warnings: list[BundleIssue]


def answers_html(request: Request) -> bool:
    """Whether the request's route answers HTML (its declared response class)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return False
    declared = route.response_class
    if isinstance(declared, DefaultPlaceholder):
        declared = declared.value
    return isinstance(declared, type) and issubclass(declared, HTMLResponse)


def _answer(
    request: Request, status: int, body: ErrorBody, headers: dict[str, str] | None = None
) -> Response:
    """The error as JSON, or as a small HTML page on an HTML route."""
    if answers_html(request):
        home = request.scope.get("root_path", "") + "/"
        return HTMLResponse(render_error_page(status, body.message, home), status, headers)
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def _code(status: int) -> str:
    return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")


async def _not_found(request: Request, exc: Exception) -> Response:
    return _answer(request, 404, ErrorBody(error="not_found", message=str(exc)))


async def _invalid_query(request: Request, exc: Exception) -> Response:
    problem = RequestProblem(location="query", message=str(exc))
    return _answer(
        request, 422, InvalidRequestBody(error="invalid_query", message=str(exc), errors=[problem])
    )


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [
        RequestProblem(location=".".join(str(part) for part in e.get("loc", ())), message=e.get("msg", ""))
        for e in exc.errors()
    ]
    noun = "problem" if len(problems) == 1 else "problems"
    message = f"{len(problems)} {noun} with the request: " + "; ".join(
        f"{p.location}: {p.message}" for p in problems
    )
    return _answer(
        request, 422, InvalidRequestBody(error="invalid_request", message=message, errors=problems)
    )


async def _invalid_bundle(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidBundle)
    body = InvalidBundleBody(
        error="invalid_bundle", message=str(exc), errors=exc.errors, warnings=exc.warnings
    )
    return _answer(request, 422, body)


async def _too_large(request: Request, exc: Exception) -> Response:
    return _answer(
        request, 413, ErrorBody(error="upload_too_large", message=str(exc)), {"Connection": "close"}
    )


async def _unavailable(request: Request, exc: Exception) -> Response:
    request.app.state.holder.mark_unavailable()
    body = ErrorBody(error="store_unavailable", message=f"the graph store is unavailable: {exc}")
    return _answer(request, 503, body, {"Retry-After": str(RETRY_AFTER_SECONDS)})


async def _config_error(request: Request, exc: Exception) -> Response:
    return _answer(
        request, 500, ErrorBody(error="config_error", message=f"laborgraph is misconfigured: {exc}")
    )


async def _graph_error(request: Request, exc: Exception) -> Response:
    log.error("store error on %s %s: %s", request.method, request.url.path, exc)
    return _answer(request, 500, ErrorBody(error="store_error", message=str(exc)))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    body = ErrorBody(error=_code(exc.status_code), message=str(exc.detail))
    return _answer(request, exc.status_code, body, dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    body = ErrorBody(error="internal_error", message="an unexpected error occurred; see the server log")
    return _answer(request, 500, body)


def install_error_handlers(app: FastAPI) -> None:
    # Starlette picks the handler of the nearest class in the exception's MRO.
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(InvalidQuery, _invalid_query)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(InvalidBundle, _invalid_bundle)
    app.add_exception_handler(UploadTooLarge, _too_large)
    app.add_exception_handler(StoreUnavailable, _unavailable)
    app.add_exception_handler(ConfigError, _config_error)
    app.add_exception_handler(GraphError, _graph_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


# -- OpenAPI documentation of the error responses ----------------------------------------

_DOCUMENTED: dict[int, tuple[type[BaseModel], str, dict[str, Any]]] = {
    400: (
        ErrorBody,
        "The multipart body cannot be parsed.",
        {"error": "bad_request", "message": "Invalid multipart data."},
    ),
    401: (
        ErrorBody,
        "No API key, or an unknown one (on a server without keys: an upload without its write token).",
        {
            "error": "unauthorized",
            "message": "a valid API key is required: send 'Authorization: Bearer <key>'"
            " or 'X-API-Key: <key>'",
        },
    ),
    403: (
        ErrorBody,
        "The key's scope does not allow this, or a browser sent a change from another site's page.",
        {"error": "forbidden", "message": "this needs the 'write' scope; key 'analyst' has 'read'"},
    ),
    404: (
        ErrorBody,
        "An id that is not in the graph.",
        {"error": "not_found", "message": "no entity with id 'org-nowhere'"},
    ),
    413: (
        ErrorBody,
        "The upload is larger than LABORGRAPH_MAX_UPLOAD_MB.",
        {
            "error": "upload_too_large",
            "message": "the upload exceeds the limit of 50 MB (LABORGRAPH_MAX_UPLOAD_MB)",
        },
    ),
    415: (
        ErrorBody,
        "The body is not a zip, a JSON document or a multipart upload.",
        {
            "error": "unsupported_media_type",
            "message": "send a zip or JSON bundle: multipart/form-data field 'file',"
            " application/zip or application/json",
        },
    ),
    422: (
        InvalidRequestBody,
        "Bad parameters; every problem is listed.",
        {
            "error": "invalid_request",
            "message": "1 problem with the request: query.limit: Input should be less than or equal to 1000",
            "errors": [{"location": "query.limit", "message": "Input should be less than or equal to 1000"}],
        },
    ),
    503: (
        ErrorBody,
        "The graph store cannot be reached; retry later.",
        {
            "error": "store_unavailable",
            "message": "the graph store is unavailable:"
            " cannot connect to Neo4j at bolt://db:7687 (database 'neo4j'): ...",
        },
    ),
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entries documenting these error statuses, with examples."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        model, description, example = _DOCUMENTED[status]
        documented[status] = {
            "model": model,
            "description": description,
            "content": {"application/json": {"example": example}},
        }
    return documented


def page_error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """As ``error_responses``, for a route answering HTML: the message as a small page."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        _, description, example = _DOCUMENTED[status]
        page = render_error_page(status, example["message"])
        documented[status] = {
            "description": description,
            "content": {"text/html": {"schema": {"type": "string"}, "example": page}},
        }
    return documented


BUNDLE_REJECTED: dict[int | str, dict[str, Any]] = {
    422: {
        "model": InvalidBundleBody,
        "description": "The bundle failed validation; nothing was written. Every error is listed.",
        "content": {
            "application/json": {
                "example": {
                    "error": "invalid_bundle",
                    "message": "bundle rejected with 2 errors; nothing was written",
                    "errors": [
                        {
                            "file": "cohorts.csv",
                            "row": 3,
                            "column": "country",
                            "message": "'XX' is not an ISO 3166-1 alpha-2 country code",
                        },
                        {
                            "file": "links.csv",
                            "row": 5,
                            "column": "to_id",
                            "message": "'org-nowhere' is neither in the bundle nor in the graph",
                        },
                    ],
                    "warnings": [],
                }
            }
        },
    }
}

"""What endpoints depend on, as ``Annotated`` aliases: settings, store, caller, questions."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import Message, Receive

from laborgraph.app.auth import Caller, KeyRing, Scope
from laborgraph.app.errors import UploadTooLarge
from laborgraph.app.guard import network_peer
from laborgraph.app.holder import StoreHolder
from laborgraph.app.questions import Questions
from laborgraph.app.settings import Settings
from laborgraph.graph.analysis.paths import PathQuery
from laborgraph.graph.errors import BundleIssue, InvalidBundle
from laborgraph.graph.store import DEFAULT_DEPTH, MAX_DEPTH, GraphStore
from laborgraph.graph.vocabulary import Dimension

MAX_PAGE = 1000
MAX_OFFSET = 1_000_000_000  # beyond any real graph; keeps offsets inside 64-bit database integers


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_holder(request: Request) -> StoreHolder:
    return request.app.state.holder  # type: ignore[no-any-return]


def get_store(holder: Annotated[StoreHolder, Depends(get_holder)]) -> GraphStore:
    """The process's store; StoreUnavailable (503) until it answers."""
    return holder.get()


SettingsDep = Annotated[Settings, Depends(get_settings)]
HolderDep = Annotated[StoreHolder, Depends(get_holder)]
StoreDep = Annotated[GraphStore, Depends(get_store)]

# -- access ------------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="An API key as `Authorization: Bearer <key>`.")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")


def _basic_password(request: Request) -> str | None:
    """The password of HTTP Basic credentials, if well-formed.

    Browsers cannot send a Bearer header to a page; they prompt for Basic credentials instead
    and re-send them to the page's own links (the CSV downloads). The key is the password.
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return password if colon else None


def presented_key(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_api_key)],
) -> str | None:
    if bearer:
        return bearer.credentials
    return header_key or _basic_password(request)


def get_caller(request: Request, key: Annotated[str | None, Depends(presented_key)]) -> Caller:
    """The caller the presented key belongs to; 401 for a missing or unknown key."""
    caller = _identify(request, key)
    if caller is None:
        raise HTTPException(
            401,
            "a valid API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return caller


def get_page_caller(request: Request, key: Annotated[str | None, Depends(presented_key)]) -> Caller:
    """As ``get_caller``, but a browser is asked for the key (HTTP Basic, key as password)."""
    caller = _identify(request, key)
    if caller is None:
        raise HTTPException(
            401,
            "a valid API key is required: sign in with any user name and the key as password",
            headers={"WWW-Authenticate": 'Basic realm="laborgraph", charset="UTF-8"'},
        )
    return caller


def _identify(request: Request, key: str | None) -> Caller | None:
    keys: KeyRing = request.app.state.keys
    return keys.identify(key)


CallerDep = Annotated[Caller, Depends(get_caller)]
PageCallerDep = Annotated[Caller, Depends(get_page_caller)]


def _insist(caller: Caller, scope: Scope, what: str) -> Caller:
    if not caller.scope.allows(scope):
        raise HTTPException(
            403,
            f"{what} needs the {scope.value!r} scope; key {caller.name!r} has {caller.scope.value!r}",
        )
    return caller


def require_read(caller: CallerDep) -> Caller:
    return _insist(caller, Scope.read, "reading")


WRITE_TOKEN_NEEDED = (
    "this server has no API keys configured: an upload needs its write token, which"
    " `laborgraph serve` prints at start (or LABORGRAPH_WRITE_TOKEN), sent as"
    " 'Authorization: Bearer <token>' or 'X-API-Key: <token>'"
)


def require_write(
    request: Request, caller: CallerDep, key: Annotated[str | None, Depends(presented_key)]
) -> Caller:
    """A key of the write scope; without keys, the server's write token (unless in-process)."""
    keys: KeyRing = request.app.state.keys
    if keys.open and network_peer(request) is not None and not keys.is_write_token(key):
        raise HTTPException(401, WRITE_TOKEN_NEEDED, headers={"WWW-Authenticate": "Bearer"})
    return _insist(caller, Scope.write, "writing (an upload, a retraction)")


def require_docs_reader(
    request: Request, settings: SettingsDep, key: Annotated[str | None, Depends(presented_key)]
) -> None:
    """With keys, the API docs need a read key unless LABORGRAPH_PUBLIC_DOCS is set."""
    if not settings.public_docs:
        _insist(get_page_caller(request, key), Scope.read, "reading the API docs")


Reader = Annotated[Caller, Depends(require_read)]
Writer = Annotated[Caller, Depends(require_write)]

# -- questions ---------------------------------------------------------------------------

ShowSmall = Annotated[
    bool,
    Query(description="Show cohorts below the minimum headcount unsuppressed (needs the admin scope)."),
]


def get_questions(
    caller: Reader, store: StoreDep, settings: SettingsDep, show_small: ShowSmall = False
) -> Questions:
    """The service layer the CLI uses too; ``show_small`` only for admins."""
    if show_small:
        _insist(caller, Scope.admin, "show_small=true")
    return Questions(store, settings, show_small=show_small)


QuestionsDep = Annotated[Questions, Depends(get_questions)]


def get_questions_as_of(
    ask: QuestionsDep,
    as_of: Annotated[
        int | None, Query(ge=1, description="Answer as the graph stood at this revision (GET /revisions).")
    ] = None,
) -> Questions:
    """``get_questions``, answering as of an earlier revision when asked."""
    return ask.as_of(as_of)


AsOfQuestionsDep = Annotated[Questions, Depends(get_questions_as_of)]


def get_page_questions(
    caller: PageCallerDep, store: StoreDep, settings: SettingsDep, show_small: ShowSmall = False
) -> Questions:
    """``get_questions`` for the HTML pages."""
    _insist(caller, Scope.read, "reading")
    return get_questions(caller, store, settings, show_small)


PageQuestionsDep = Annotated[Questions, Depends(get_page_questions)]
Depth = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_DEPTH,
        description=f"Links to follow below where a decision applies (max {MAX_DEPTH}).",
    ),
]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Items per page (1–{MAX_PAGE}).")]


def path_filters(
    origin: Annotated[
        str | None, Query(alias="from", description="A unit, decision or organization id.")
    ] = None,
    target: Annotated[
        str | None, Query(alias="to", description="A cohort id, or cohort_id/dimension.")
    ] = None,
    dimension: Annotated[Dimension | None, Query(description="Only this condition dimension.")] = None,
    min_severity: Annotated[int, Query(ge=1, le=5, description="Only paths at least this severe.")] = 1,
    country: Annotated[str | None, Query(description="Only cohorts in this country (ISO alpha-2).")] = None,
    project: Annotated[str | None, Query(description="Only paths on this project.")] = None,
    depth: Depth = DEFAULT_DEPTH,
) -> PathQuery:
    """The risk-path filters shared by the JSON and CSV routes (no paging)."""
    return PathQuery(
        origin=origin or None,
        target=target or None,
        dimension=dimension,
        min_severity=min_severity,
        country=country or None,
        project=project or None,
        depth=depth,
        limit=None,
    )


PathFilters = Annotated[PathQuery, Depends(path_filters)]

# -- uploads -----------------------------------------------------------------------------

UNSUPPORTED = (
    "send a zip or JSON bundle: multipart/form-data field 'file', application/zip or application/json"
)
RAW_TYPES = (
    "application/zip",
    "application/x-zip-compressed",
    "application/json",
    "application/octet-stream",
)


@dataclass(frozen=True)
class Upload:
    content: bytes
    filename: str


def _limited(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises UploadTooLarge once the body passes ``limit`` bytes."""
    seen = 0

    async def limited() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise UploadTooLarge(limit)
        return message

    return limited


async def read_upload(request: Request, settings: SettingsDep) -> Upload:
    """The uploaded bundle's bytes; 413 as soon as the body passes the size limit."""
    limit = int(settings.max_upload_mb * 1024 * 1024)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise UploadTooLarge(limit)
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    body = Request(request.scope, _limited(request.receive, limit))
    if media_type == "multipart/form-data":
        async with body.form(max_files=1, max_fields=10) as form:  # closes the spooled files
            file = form.get("file")
            if file is None or isinstance(file, str):
                message = "send the bundle as the multipart file field 'file'"
                raise InvalidBundle([BundleIssue(file="upload", message=message)])
            return Upload(await file.read(), file.filename or "bundle")
    if media_type in RAW_TYPES:
        suffix = "json" if media_type.endswith("json") else "zip"
        return Upload(await body.body(), f"bundle.{suffix}")
    raise HTTPException(415, UNSUPPORTED)


UploadDep = Annotated[Upload, Depends(read_upload)]

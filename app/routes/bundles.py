"""Bundles: upload one (zip or JSON) to validate it whole and write it, or nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from contextlib import suppress
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from starlette.types import Message

from laborgraph.app.deps import SettingsDep, StoreDep, UploadDep, Writer
from laborgraph.app.errors import BUNDLE_REJECTED, error_responses
from laborgraph.app.questions import Questions
from laborgraph.app.routes import examples
from laborgraph.graph.errors import GraphError
from laborgraph.graph.revisions import MAX_LABEL, WriteNote
from laborgraph.ingest.limits import ReadLimits
from laborgraph.ingest.load import IngestReport, ingest_raw
from laborgraph.ingest.readers import BundleParts, read_json, read_zip


class ClosesUnreadUploads(APIRoute):
    """A route that asks to close the connection when it refuses before reading the whole body.

    A refused upload (no key, wrong scope, wrong type) is answered at once; without
    ``Connection: close`` the server would go on reading, and discarding, the rest of a body
    that may be gigabytes. (Over-size uploads close already: UploadTooLarge.)
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_closing(request: Request) -> Response:
            body_read = False

            async def receive() -> Message:
                nonlocal body_read
                message = await request.receive()
                body_read = body_read or message["type"] != "http.request" or not message.get("more_body")
                return message

            try:
                return await handle(Request(request.scope, receive))
            except HTTPException as exc:
                if not body_read:
                    exc.headers = {**(exc.headers or {}), "Connection": "close"}
                raise

        return handle_closing


router = APIRouter(prefix="/bundles", tags=["bundles"], route_class=ClosesUnreadUploads)

ZIP_MAGIC = b"PK\x03\x04"
BODY = {
    "description": (
        "A bundle: its folder of CSV files zipped, or one JSON document (the format is in docs/BUNDLE.md)."
    ),
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            },
        },
        "application/zip": {"schema": {"type": "string", "format": "binary"}},
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["organizations"],
                "additionalProperties": {"type": "array", "items": {"type": "object"}},
            }
        },
    },
}


@router.post(
    "",
    openapi_extra={"requestBody": BODY},
    responses={
        **examples.json_example(examples.INGEST_REPORT, "Written: counts and warnings."),
        **BUNDLE_REJECTED,
        **error_responses(400, 401, 403, 413, 415, 503),
    },
)
async def upload_bundle(
    writer: Writer,
    store: StoreDep,
    upload: UploadDep,
    settings: SettingsDep,
    after: BackgroundTasks,
    label: Annotated[str | None, Query(description='The revision\'s name, e.g. "2026-Q3 review".')] = None,
) -> IngestReport:
    """Validate a whole bundle, then write it; any error rejects all of it, listing every error.
    A bundle that changes something makes a revision, recorded with its sha256 and the key's name."""
    if label is not None and not 0 < len(label.strip()) <= MAX_LABEL:
        raise HTTPException(400, f"label takes 1 to {MAX_LABEL} characters")
    raw = parse_bundle(upload.content, upload.filename, settings.bundle_limits("api"))
    note = WriteNote(
        label=label and label.strip(), digest=hashlib.sha256(upload.content).hexdigest(), writer=writer.name
    )
    report = await run_in_threadpool(ingest_raw, store, raw, None, note)  # reads the bundle as it validates
    # Once the answer is sent: the whole-graph answers users ask first, for the new graph.
    after.add_task(_warm, Questions(store, settings))
    return report


def _warm(ask: Questions) -> None:
    with suppress(GraphError):  # the bundle is written: the first question works it out instead
        ask.warm()


def parse_bundle(content: bytes, filename: str, limits: ReadLimits) -> BundleParts:
    """A zip (recognised by its signature, whatever the declared type) or a JSON document."""
    if content.startswith(ZIP_MAGIC):
        return read_zip(content, filename, limits)
    return read_json(content, filename, limits)

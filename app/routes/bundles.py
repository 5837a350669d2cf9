"""Bundles: upload one (zip or JSON) to validate it whole and write it, or nothing."""

from __future__ import annotations

from contextlib import suppress

from fastapi import APIRouter, BackgroundTasks
from fastapi.concurrency import run_in_threadpool

from app.deps import SettingsDep, StoreDep, UploadDep, Writer
from app.errors import BUNDLE_REJECTED, error_responses
from app.questions import Questions
from app.routes import examples
from graph.errors import GraphError
from ingest.load import IngestReport, ingest_raw
from ingest.readers import RawBundle, read_json, read_zip

router = APIRouter(prefix="/bundles", tags=["bundles"])

ZIP_MAGIC = b"PK\x03\x04"
# A zip may unpack to this many times the upload limit: CSV compresses about 5-10 times; a
# zip bomb compresses thousands of times.
UNPACK_RATIO = 20
BODY = {
    "description": "A bundle: its folder of CSV files zipped, or one JSON document (DOMAIN.md 3).",
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
    writer: Writer, store: StoreDep, upload: UploadDep, settings: SettingsDep, after: BackgroundTasks
) -> IngestReport:
    """Validate a whole bundle, then write it; any error rejects all of it, listing every error."""
    max_unpacked = int(settings.max_upload_mb * UNPACK_RATIO * 2**20)
    raw = await run_in_threadpool(parse_bundle, upload.content, upload.filename, max_unpacked)
    report = await run_in_threadpool(ingest_raw, store, raw)
    # Once the answer is sent: the whole-graph answers users ask first, for the new graph.
    after.add_task(_warm, Questions(store, settings))
    return report


def _warm(ask: Questions) -> None:
    with suppress(GraphError):  # the bundle is written: the first question works it out instead
        ask.warm()


def parse_bundle(content: bytes, filename: str, max_unpacked: int | None = None) -> RawBundle:
    """A zip (recognised by its signature, whatever the declared type) or a JSON document."""
    if content.startswith(ZIP_MAGIC):
        return read_zip(content, filename, max_unpacked)
    return read_json(content, filename)

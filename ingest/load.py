"""Ingest a bundle into a store: read, validate everything, then write once or not at all."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from graph.errors import BundleIssue, InvalidBundle
from graph.store import GraphStore
from ingest.readers import RawBundle, read_bundle
from ingest.validate import validate_bundle


class IngestReport(BaseModel):
    store: str
    counts: dict[str, int]
    warnings: list[BundleIssue]


class Progress:
    """Callbacks a caller may pass to follow a long ingest; all optional."""

    def __init__(
        self,
        start: Callable[[str, int | None], None] | None = None,
        advance: Callable[[int], None] | None = None,
    ) -> None:
        self.start = start or (lambda stage, total: None)
        self.advance = advance or (lambda n: None)


def ingest_path(store: GraphStore, path: Path, progress: Progress | None = None) -> IngestReport:
    """Load the bundle at ``path`` (CSV folder, .zip or .json) into ``store``."""
    return ingest_raw(store, read_bundle(path), progress)


def ingest_raw(store: GraphStore, raw: RawBundle, progress: Progress | None = None) -> IngestReport:
    """Validate a bundle already read, then write it; raises InvalidBundle and writes nothing."""
    progress = progress or Progress()
    progress.start("validating", raw.row_count())
    checked = validate_bundle(raw, store, progress.advance)
    if checked.errors:
        raise InvalidBundle(checked.errors, checked.warnings)
    progress.start("writing", None)
    store.write(checked.data)
    return IngestReport(store=store.backend, counts=checked.data.counts(), warnings=checked.warnings)

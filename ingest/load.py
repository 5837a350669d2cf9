"""Ingest a bundle into a store: read, validate everything, then write once or not at all."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field

from laborgraph.graph.errors import BundleIssue, GraphChanged, IngestIncomplete, InvalidBundle, InvalidQuery
from laborgraph.graph.model import GraphData
from laborgraph.graph.revisions import Retraction, Revision, WriteNote, Written, is_link_key, parse_link_key
from laborgraph.graph.store import GraphStore
from laborgraph.graph.vocabulary import LinkType
from laborgraph.ingest.limits import ReadLimits
from laborgraph.ingest.readers import BundleParts, bundle_digest, read_bundle
from laborgraph.ingest.validate import validate_bundle

VALIDATION_ROUNDS = 3  # validations a bundle gets when other writes keep committing meanwhile


class IngestReport(BaseModel):
    store: str
    counts: dict[str, int] = Field(description="the records the bundle carries, by section")
    warnings: list[BundleIssue]
    revision: Revision | None = Field(
        description="the revision the ingest made; null when the bundle changed nothing"
    )
    rows: int = Field(0, description="the data rows of the bundle's files (records of a JSON bundle)")
    seconds: float = Field(0.0, description="from the start of validation to the end of the write")

    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


class Progress:
    """Callbacks a caller may pass to follow a long ingest; all optional."""

    def __init__(
        self,
        start: Callable[[str, int | None], None] | None = None,
        advance: Callable[[int], None] | None = None,
    ) -> None:
        self.start = start or (lambda stage, total: None)
        self.advance = advance or (lambda n: None)


def ingest_path(
    store: GraphStore,
    path: Path,
    progress: Progress | None = None,
    limits: ReadLimits | None = None,
    note: WriteNote | None = None,
) -> IngestReport:
    """Load the bundle at ``path`` (CSV folder, .zip or .json) into ``store``, read within ``limits``."""
    note = (note or WriteNote()).model_copy(update={"digest": bundle_digest(path)})
    return ingest_raw(store, read_bundle(path, limits), progress, note)


def ingest_raw(
    store: GraphStore, raw: BundleParts, progress: Progress | None = None, note: WriteNote | None = None
) -> IngestReport:
    """Validate a bundle already read, then write it; raises InvalidBundle and writes nothing.

    Validation and write are one step against what is committed: when another ingest
    commits in between, the bundle is validated again against the graph it made."""
    progress = progress or Progress()
    if store.unfinished_write() is not None:  # validating against part of a write would mislead
        progress.start("waiting for the write under way", None)
        if (interrupted := store.interrupted_write()) is not None:
            raise IngestIncomplete(f"the graph holds an unfinished write: {interrupted.describe()}")
    began = time.monotonic()
    for _ in range(VALIDATION_ROUNDS):
        with store.read() as snapshot:
            version = snapshot.version()
        progress.start("validating", raw.row_count())
        rows = 0

        def advance(n: int) -> None:
            nonlocal rows
            rows += n
            progress.advance(n)

        checked = validate_bundle(raw, store, advance)
        if checked.errors:
            raise InvalidBundle(checked.errors, checked.warnings)
        progress.start("writing", None)
        try:
            written = store.write(
                checked.data, expect_version=version, retractions=checked.retractions, note=note
            )
        except GraphChanged:
            continue
        counts = checked.data.counts()
        if checked.retractions:
            counts["retractions"] = len(checked.retractions)
        warnings = checked.warnings + [orphan_warning(c) for c in written.orphaned_cohorts]
        return IngestReport(
            store=store.backend,
            counts=counts,
            warnings=warnings,
            revision=written.revision,
            rows=rows,
            seconds=round(time.monotonic() - began, 3),
        )
    raise GraphChanged(
        f"other writes committed while this bundle was validated, {VALIDATION_ROUNDS} times;"
        " nothing was written: try again when they are done"
    )


def orphan_warning(cohort_id: str) -> BundleIssue:
    """A cohort a retraction left with no organization engaging it: no decision reaches it now."""
    return BundleIssue(
        file="retractions.csv",
        message=f"cohort {cohort_id!r} is left with no organization engaging it; no decision reaches it",
    )


def retract(store: GraphStore, fact_id: str, reason: str, note: WriteNote) -> Written:
    """Retract one fact: an entity id, a condition ``cohort_id/dimension``, or a link's key
    ``from_id|TYPE|to_id|project``. NotFound if the graph does not hold it."""
    if is_link_key(fact_id):
        try:
            key = parse_link_key(fact_id)
        except ValueError:
            raise InvalidQuery(f"{fact_id!r} is not a link: from_id|TYPE|to_id|project, TYPE one of "
                               f"{', '.join(LinkType)}") from None  # fmt: skip
        retraction = Retraction(link=key, reason=reason)
    else:
        retraction = Retraction(id=fact_id, reason=reason)
    return store.write(GraphData(), retractions=[retraction], note=note)

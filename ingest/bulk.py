"""``ingest --bulk``: validate a bundle as for an empty graph, then load it with neo4j-admin."""

from __future__ import annotations

import tempfile
from pathlib import Path

from laborgraph.graph.embedded import EmbeddedStore
from laborgraph.graph.errors import InvalidBundle
from laborgraph.graph.neo4j_bulk import Neo4jInstall, check_target, run_import, write_import_files
from laborgraph.graph.revisions import WriteNote, plan_write
from laborgraph.ingest.limits import ReadLimits
from laborgraph.ingest.load import IngestReport, Progress
from laborgraph.ingest.readers import bundle_digest, read_bundle
from laborgraph.ingest.validate import validate_bundle


def bulk_ingest(
    path: Path,
    install: Neo4jInstall,
    database: str,
    *,
    server_answers: bool,
    uri: str,
    progress: Progress | None = None,
    limits: ReadLimits | None = None,
    note: WriteNote | None = None,
) -> IngestReport:
    """Load the bundle at ``path`` into the new database ``database`` of ``install``.

    Validated exactly as a normal ingest into an empty graph (an empty store stands for
    it); any error raises InvalidBundle and nothing is written or run."""
    progress = progress or Progress()
    check_target(install, database, server_answers, uri)
    note = (note or WriteNote()).model_copy(update={"digest": bundle_digest(path)})
    raw = read_bundle(path, limits)
    with tempfile.TemporaryDirectory(prefix="laborgraph-bulk-") as scratch:
        empty = EmbeddedStore(Path(scratch) / "empty")  # reads as an empty graph, writes no file
        progress.start("validating", raw.row_count())
        checked = validate_bundle(raw, empty, progress.advance)
        if checked.errors:
            raise InvalidBundle(checked.errors, checked.warnings)
        with empty.read() as reader:
            plan = plan_write(reader, checked.data, checked.retractions, {})
        progress.start("writing import files", None)
        files = write_import_files(checked.data, plan, note, Path(scratch) / "import")
        progress.start("neo4j-admin database import", None)
        run_import(install, database, files, Path(scratch) / "import.report")
    counts = checked.data.counts()
    return IngestReport(store="neo4j", counts=counts, warnings=checked.warnings, revision=files.revision)

"""The graph as it stood at an earlier revision, as a store of its own.

A revision never changes once written, so the graph it left is read once from the store's
history (``GraphReader.facts_at``) into an embedded store under a cache folder, and every
question then answers on it with the same analysis as on the current graph: an as-of
answer is the answer that was given then.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from laborgraph.graph.embedded import EmbeddedStore
from laborgraph.graph.errors import InvalidQuery, StoreUnavailable
from laborgraph.graph.revisions import Revision, WriteNote
from laborgraph.graph.store import GraphStore


def revision_of(store: GraphStore, number: int | None) -> tuple[Revision | None, list[Revision]]:
    """The revision ``number`` names (None: the newest), and every revision; InvalidQuery
    for a number the store never made."""
    with store.read() as reader:
        revisions = reader.revisions()
    if number is None:
        return (revisions[-1] if revisions else None), revisions
    for revision in revisions:
        if revision.number == number:
            return revision, revisions
    held = f"revisions are 1 to {revisions[-1].number}" if revisions else "the graph has no revision yet"
    raise InvalidQuery(f"no revision {number}: {held}")


def store_as_of(store: GraphStore, number: int, cache_dir: Path) -> GraphStore:
    """The graph as revision ``number`` left it: ``store`` itself for the newest revision,
    else a read-only copy built once under ``cache_dir``."""
    revision, revisions = revision_of(store, number)
    assert revision is not None
    if revision.number == revisions[-1].number:
        return store
    # Named by the store and the revision's own record: a wiped and rewritten store never
    # finds another graph's copy.
    identity = f"{store.backend}|{store.describe()}|{revision.number}|{revision.at}|{revision.digest}"
    folder = Path(cache_dir) / f"r{revision.number}-{hashlib.sha256(identity.encode()).hexdigest()[:16]}"
    if not folder.exists():
        _build(store, revision, folder)
    return EmbeddedStore(folder)


def _build(store: GraphStore, revision: Revision, folder: Path) -> None:
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    except OSError as exc:
        raise StoreUnavailable(
            f"cannot keep the graph of revision {revision.number} in {folder}: {exc}"
        ) from exc
    try:
        with store.read() as reader:
            data = reader.facts_at(revision.number)
        copy = EmbeddedStore(building)
        copy.write(data, note=WriteNote(label=f"as of revision {revision.number}", writer="as-of"))
        copy.close()
        try:
            building.rename(folder)
        except OSError:
            if not folder.exists():  # another process built it first otherwise: use theirs
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)

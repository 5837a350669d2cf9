"""Record and change one action from the CLI or the API, validated as a row of actions.csv is.

Each write is a one-row bundle through ``ingest.load.ingest_raw``: the same rules (a known
target and owner unit, a valid status and dates), the same errors naming the column, and a
revision recorded with its writer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from laborgraph.graph.errors import BundleIssue, InvalidBundle, NotFound
from laborgraph.graph.model import Action
from laborgraph.graph.revisions import WriteNote
from laborgraph.graph.store import GraphStore
from laborgraph.graph.vocabulary import EntityKind
from laborgraph.ingest.load import IngestReport, ingest_raw
from laborgraph.ingest.raw import Cell, RawBundle, RawRow

Fields = Mapping[str, Cell]  # an actions.csv row: column -> cell (text, or a list for source_ids)
CLOSING = ("done", "dropped")


def add_action(store: GraphStore, fields: Fields, note: WriteNote, where: str, today: date) -> IngestReport:
    """Record a new action (``opened_at`` today unless given); InvalidBundle if its id is
    already in the graph, or if the row breaks a rule of actions.csv."""
    row = {column: cell for column, cell in fields.items() if not _blank(cell)}
    action_id = row.get("id")
    if isinstance(action_id, str) and store.kinds_of([action_id]):
        raise InvalidBundle(
            [BundleIssue(file=where, row=1, column="id", message=f"{action_id!r} is already in the graph")]
        )
    row.setdefault("opened_at", today.isoformat())
    return _write(store, row, note, where)


def update_action(
    store: GraphStore, action_id: str, changes: Fields, note: WriteNote, where: str, today: date
) -> IngestReport:
    """Change a stored action's fields (an action closed as ``done`` or ``dropped`` with no
    ``closed_at`` closes today); NotFound unless ``action_id`` is an action."""
    try:
        stored = store.get(action_id)
    except NotFound:
        stored = None
    if not isinstance(stored, Action):
        raise NotFound(action_id, EntityKind.action)
    row: dict[str, Cell] = stored.model_dump(mode="json", exclude={"entity", "extra"}, exclude_none=True)
    row.update({column: cell for column, cell in changes.items() if not _blank(cell)})
    row["id"] = action_id
    if row.get("status") in CLOSING and "closed_at" not in row:
        row["closed_at"] = today.isoformat()
    return _write(store, row, note, where)


def _write(store: GraphStore, row: dict[str, Cell], note: WriteNote, where: str) -> IngestReport:
    bundle = RawBundle()
    bundle.rows["actions"] = [RawRow(file=where, row=1, cells=row)]
    return ingest_raw(store, bundle, note=note)


def _blank(cell: Cell) -> bool:
    return cell is None or cell == "" or cell == []

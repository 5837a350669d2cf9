"""The embedded store: SQLite on local disk for durability, a GraphView in memory for queries.

Every write is one SQLite transaction (WAL, synchronous=FULL), so a process killed in the
middle of an ingest leaves the previous graph intact. The in-memory view is rebuilt when
another process has committed since it was loaded (SQLite's ``data_version``), from the rows
alone: there is no second file to fall out of step with them.
"""

from __future__ import annotations

import gc
import sqlite3
import threading
from collections.abc import Collection
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import TypeAdapter

from graph.collector import collector_paused
from graph.errors import NotFound, StoreUnavailable
from graph.model import (
    Cohort,
    Entity,
    GraphData,
    Link,
    Organization,
    Source,
    Unit,
)
from graph.store import EntityPage
from graph.view import AnyEntity, GraphView
from graph.vocabulary import EntityKind

if TYPE_CHECKING:
    from graph.analysis.paths import PathQuery
    from graph.scoring import ScoringConfig

DB_FILE = "laborgraph.sqlite"
_ENTITY = TypeAdapter(Entity)

SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
    id   TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entities_kind ON entities (kind, id);
CREATE TABLE IF NOT EXISTS links (
    from_id TEXT NOT NULL,
    type    TEXT NOT NULL,
    to_id   TEXT NOT NULL,
    project TEXT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (from_id, type, to_id, project)
);
"""


def _name(entity: AnyEntity) -> str | None:
    # Not getattr(entity, "name", None): a pydantic model's missing attribute raises, slowly.
    if isinstance(entity, Organization | Unit | Cohort):
        return entity.name
    return entity.title if isinstance(entity, Source) else None


class EmbeddedStore:
    backend = "embedded"

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / DB_FILE
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"cannot open the embedded store at {self.path}: {exc}") from exc
        self._lock = threading.RLock()
        self._view: GraphView | None = None
        self._loaded_version: int | None = None

    # -- contract -------------------------------------------------------------------

    def describe(self) -> str:
        return str(self.path)

    def ping(self) -> None:
        try:
            with self._lock:
                self._db.execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"embedded store at {self.path} is unusable: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def kinds_of(self, ids: Collection[str]) -> dict[str, EntityKind]:
        view = self.view()
        found: dict[str, EntityKind] = {}
        for entity_id in ids:
            with suppress(NotFound):
                found[entity_id] = view.get(entity_id).entity
        return found

    def write(self, data: GraphData) -> None:
        with self._lock:
            view = self.view()
            merged = view.merged(data)
            entity_rows = [
                (e.id, e.entity.value, _name(e), e.model_dump_json(exclude_none=True))
                for e in merged.entities()
            ]
            link_rows = [(*link.key, link.model_dump_json(exclude_none=True)) for link in merged.links]
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "INSERT OR REPLACE INTO entities (id, kind, name, body) VALUES (?, ?, ?, ?)",
                    entity_rows,
                )
                self._db.executemany(
                    "INSERT OR REPLACE INTO links (from_id, type, to_id, project, body)"
                    " VALUES (?, ?, ?, ?, ?)",
                    link_rows,
                )
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise StoreUnavailable(f"write to {self.path} failed: {exc}") from exc
            # Copy on write: requests still reading the old view keep a consistent graph.
            with collector_paused():
                updated = view.copy()
                updated.upsert(merged)
            self._view = updated

    def get(self, entity_id: str) -> AnyEntity:
        return self.view().get(entity_id)

    def page(
        self,
        kind: EntityKind,
        *,
        offset: int = 0,
        limit: int = 50,
        text: str | None = None,
        private_below: int = 0,
    ) -> EntityPage:
        where = "kind = ?"
        args: list[object] = [kind.value]
        if text:
            where += " AND name LIKE ? ESCAPE '\\'"
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            args.append(f"%{escaped}%")
            where += " AND coalesce(json_extract(body, '$.headcount') >= ?, 1)"
            args.append(private_below)
        with self._lock:
            total = self._db.execute(f"SELECT count(*) FROM entities WHERE {where}", args).fetchone()[0]
            rows = self._db.execute(
                f"SELECT body FROM entities WHERE {where} ORDER BY id LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        items = [_ENTITY.validate_json(body) for (body,) in rows]
        return EntityPage(total=total, offset=offset, limit=limit, items=items)

    def project_owners(self) -> dict[str, str]:
        return dict(self.view().project_owner)

    def counts(self) -> dict[EntityKind | str, int]:
        with self._lock:
            rows = self._db.execute("SELECT kind, count(*) FROM entities GROUP BY kind").fetchall()
            links = self._db.execute("SELECT count(*) FROM links").fetchone()[0]
        counts: dict[EntityKind | str, int] = {kind: 0 for kind in EntityKind}
        counts.update({EntityKind(kind): n for kind, n in rows})
        counts["links"] = links
        return counts

    def view(self, around: str | None = None) -> GraphView:
        """The whole graph: it is in memory already, so every question gets all of it."""
        with self._lock:
            version = self._db.execute("PRAGMA data_version").fetchone()[0]
            if self._view is None or version != self._loaded_version:
                self._view = self._load()
                self._loaded_version = version
            if around is not None:
                self._view.get(around)  # NotFound for an unknown id, as the contract says
            return self._view

    def path_view(self, query: PathQuery, config: ScoringConfig) -> GraphView:
        """The whole graph, as for every question."""
        return self.view(query.around)

    # -- loading --------------------------------------------------------------------

    def _load(self) -> GraphView:
        with collector_paused():
            entities = [_ENTITY.validate_json(body) for (body,) in self._db.execute(_ROWS_OF["entities"])]
            links = [Link.model_validate_json(body) for (body,) in self._db.execute(_ROWS_OF["links"])]
            view = GraphView.of(GraphData.of([*entities, *links]))
        # The collector's first pass over the new view is paid here, as part of opening,
        # rather than by whichever question happens to come first.
        gc.collect()
        return view


# In the order they were written, so a reopened view iterates as the view before it did.
_ROWS_OF = {table: f"SELECT body FROM {table} ORDER BY rowid" for table in ("entities", "links")}

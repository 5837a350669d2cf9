"""Bulk load into a new Neo4j database: a validated bundle as neo4j-admin import CSV files.

``write_import_files`` writes what ``Neo4jStore.write`` of the same data into an empty
database stores (the same rows, from the same functions: ``_write_statements``,
``new_link_risks``, the plan of ``plan_write``), as node and relationship files with typed
headers; ``run_import`` runs ``neo4j-admin database import full`` on them. The import
needs the server stopped and the database not to exist yet; ``check_target`` refuses
otherwise. Indexes and constraints are made by the store when it next connects (SCHEMA,
``IF NOT EXISTS``).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from laborgraph.graph.errors import ConfigError, GraphError
from laborgraph.graph.model import GraphData
from laborgraph.graph.neo4j_risk import new_link_risks
from laborgraph.graph.neo4j_store import (
    CREATE_ENTITIES,
    CREATE_LINKS,
    FIRST,
    HISTORY_LAYOUT,
    LAST,
    OBSERVATION,
    REVISION,
    RISK_KEYS_LAYOUT,
    STATE,
    _observation_row,
    _write_statements,
)
from laborgraph.graph.revisions import Revision, WriteNote, WritePlan
from laborgraph.graph.vocabulary import EntityKind

ARRAY_DELIMITER = "\x1f"  # the unit separator: never in a bundle's text (checked)
FIRST_REVISION = 1


class BulkRefused(GraphError):
    """The target cannot take a bulk import (server running, database present, admin tool missing)."""


@dataclass(frozen=True)
class ImportFiles:
    nodes: list[Path]
    relationships: list[Path]
    revision: Revision
    rows: int


# Import header types of the values _write_statements sends (enums come as their values).
IMPORT_TYPES: dict[type, str] = {
    bool: "boolean", int: "long", float: "double", datetime: "datetime", date: "date", str: "string",
}  # fmt: skip


def _type_of(value: object) -> str:
    try:
        return IMPORT_TYPES[type(value)]
    except KeyError:
        raise BulkRefused(
            f"a property value of type {type(value).__name__} cannot go into an import file"
        ) from None


def _column_type(name: str, value: object) -> str:
    if isinstance(value, list | tuple):
        kinds = {_type_of(item) for item in value} or {"string"}
        if len(kinds) > 1:
            raise BulkRefused(f"property {name!r} holds a list of mixed types {sorted(kinds)}")
        return f"{kinds.pop()}[]"
    return _type_of(value)


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _cell(value: object) -> str:
    """One cell: a missing value is an empty unquoted cell (no property); text is always
    quoted, so "" stays an empty string."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        items = [_plain(item) for item in value]
        if any(ARRAY_DELIMITER in item for item in items):
            raise BulkRefused("a list value holds the character U+001F, which import files cannot carry")
        return _quoted(ARRAY_DELIMITER.join(items))
    if isinstance(value, str):
        return _quoted(value)
    return _plain(value)


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


class _TypedFile:
    """Rows of one label or relationship type, whose columns are known once all are seen."""

    def __init__(self, path: Path, key_columns: list[str]) -> None:
        self.path = path
        self.key_columns = key_columns
        self.types: dict[str, str] = {}
        self.rows: list[tuple[list[str], dict[str, Any]]] = []

    def add(self, keys: list[str], props: dict[str, Any]) -> None:
        for name, value in props.items():
            if value is None:
                continue
            kind = _column_type(name, value)
            seen = self.types.setdefault(name, kind)
            if seen != kind and not (isinstance(value, list | tuple) and not value):
                raise BulkRefused(
                    f"property {name!r} holds both {seen} and {kind} values; only a normal ingest stores that"
                )
        self.rows.append((keys, props))

    def write(self) -> int:
        names = sorted(self.types)
        header = ",".join([*self.key_columns, *(f"{name}:{self.types[name]}" for name in names)])
        with open(self.path, "w", encoding="utf-8", newline="") as out:
            out.write(header + "\n")
            for keys, props in self.rows:
                out.write(",".join([*keys, *(_cell(props.get(name)) for name in names)]) + "\n")
        return len(self.rows)


def write_import_files(data: GraphData, plan: WritePlan, note: WriteNote, folder: Path) -> ImportFiles:
    """Write ``plan`` (of ``data`` into an empty graph) as import files in ``folder``."""
    if plan.changed_entities or plan.changed_links or plan.retracted_entities or plan.retracted_links:
        raise BulkRefused("a bulk import only creates: the plan changes or retracts stored facts")
    folder.mkdir(parents=True, exist_ok=True)
    times_named: dict[str, int] = {}
    for entity in data.entities():
        times_named[entity.id] = times_named.get(entity.id, 0) + 1
    created = {e.id for e in plan.new_entities if e.entity is EntityKind.cohort and times_named[e.id] == 1}
    risks, keyed = new_link_risks(data, created)
    history = {FIRST: FIRST_REVISION, LAST: FIRST_REVISION}
    nodes: dict[str, _TypedFile] = {}
    links: dict[str, _TypedFile] = {}
    entity_statements, link_statements = _write_statements(plan, risks)
    for query, statement_rows in [*entity_statements, *link_statements]:
        for row in statement_rows:
            if query is CREATE_ENTITIES:
                label = row["label"]
                file = nodes.get(label) or nodes.setdefault(
                    label, _TypedFile(folder / f"nodes-{label}.csv", ["id:ID", ":LABEL"])
                )
                labels = f"Entity{ARRAY_DELIMITER}{label}"  # :LABEL splits at the array delimiter
                file.add([_quoted(row["id"]), labels], {**row["props"], **history})
            elif query is CREATE_LINKS:
                link_type = row["type"]
                file = links.get(link_type) or links.setdefault(
                    link_type,
                    _TypedFile(folder / f"links-{link_type}.csv", [":START_ID", ":END_ID", ":TYPE"]),
                )
                file.add(
                    [_quoted(row["from_id"]), _quoted(row["to_id"]), link_type], {**row["props"], **history}
                )
            else:
                raise BulkRefused("a bulk import only creates: the plan changes stored facts")
    meta = [":LABEL"]  # no ID: nothing links to these nodes
    observations = _TypedFile(folder / f"nodes-{OBSERVATION}.csv", meta)
    for condition in plan.observations:
        observations.add([OBSERVATION], {**_observation_row(condition), "revision": FIRST_REVISION})
    revision = plan.revision(FIRST_REVISION, note)
    revisions = _TypedFile(folder / f"nodes-{REVISION}.csv", meta)
    revisions.add(
        [REVISION], {**revision.model_dump(exclude={"counts"}), "counts": json.dumps(revision.counts)}
    )
    # Cohorts new_link_risks could not key (named twice) are keyed by the store when it
    # first opens the database: a state without the risk keys' layout asks it to.
    untouched = sorted(plan.touched_cohorts - keyed)
    state = {"key": "graph", "version": str(uuid.uuid4()), "history": HISTORY_LAYOUT}
    if not untouched:
        state["risk_keys"] = RISK_KEYS_LAYOUT
    states = _TypedFile(folder / f"nodes-{STATE}.csv", meta)
    states.add([STATE], state)
    node_files = [*nodes.values(), observations, revisions, states]
    written = sum(file.write() for file in [*node_files, *links.values()])
    return ImportFiles(
        nodes=[f.path for f in node_files],
        relationships=[f.path for f in links.values()],
        revision=revision,
        rows=written,
    )


# -- the target -----------------------------------------------------------------------


@dataclass(frozen=True)
class Neo4jInstall:
    """A Neo4j installation: its home, its config folder, and how to run neo4j-admin."""

    home: Path
    admin: list[str]

    @property
    def conf_dir(self) -> Path:
        return Path(os.environ.get("NEO4J_CONF") or self.home / "conf")

    def setting(self, name: str) -> str | None:
        conf = self.conf_dir / "neo4j.conf"
        if not conf.is_file():
            return None
        value = None
        for line in conf.read_text(errors="replace").splitlines():
            key, _, rest = line.partition("=")
            if key.strip() == name:
                value = rest.strip()
        return value

    def database_dirs(self, database: str) -> list[Path]:
        data = Path(self.setting("server.directories.data") or self.home / "data")
        if not data.is_absolute():
            data = self.home / data
        return [data / "databases" / database, data / "transactions" / database]


def find_install(home: str | None, admin: str | None) -> Neo4jInstall:
    """The installation at ``home`` (NEO4J_HOME); ``admin`` (LABORGRAPH_NEO4J_ADMIN), a command
    line that runs neo4j-admin, else ``$NEO4J_HOME/bin/neo4j-admin``."""
    if not home:
        raise ConfigError("--bulk needs the Neo4j installation: set NEO4J_HOME or pass --neo4j-home")
    root = Path(home).expanduser()
    if not root.is_dir():
        raise ConfigError(f"NEO4J_HOME {root} is not a folder")
    command = shlex.split(admin) if admin else [str(root / "bin" / "neo4j-admin")]
    if not admin and not Path(command[0]).is_file():
        raise ConfigError(
            f"no neo4j-admin at {command[0]}: NEO4J_HOME must be a Neo4j installation,"
            " or LABORGRAPH_NEO4J_ADMIN the command that runs neo4j-admin"
        )
    return Neo4jInstall(root, command)


def check_target(install: Neo4jInstall, database: str, server_answers: bool, uri: str) -> None:
    """Refuse, saying what to do, unless the server is stopped and the database is not there."""
    if server_answers:
        raise BulkRefused(
            f"the Neo4j server at {uri} is running: stop it (neo4j stop), run --bulk, then start it"
        )
    present = [d for d in install.database_dirs(database) if d.exists() and any(d.iterdir())]
    if present:
        raise BulkRefused(
            f"database {database!r} already exists ({present[0]}): --bulk only loads a database that"
            " does not exist yet, and never changes one; ingest without --bulk, or, if it holds nothing"
            f" you need, remove {' and '.join(str(d) for d in present)} first"
        )


def run_import(install: Neo4jInstall, database: str, files: ImportFiles, report: Path) -> str:
    """Run neo4j-admin database import full; its output; BulkRefused with its tail on failure."""
    command = [
        *install.admin,
        "database",
        "import",
        "full",
        database,
        *(f"--nodes={path}" for path in files.nodes),
        *(f"--relationships={path}" for path in files.relationships),
        "--multiline-fields=true",
        "--array-delimiter=U+001F",
        f"--report-file={report}",
    ]
    env = {**os.environ, "NEO4J_HOME": str(install.home), "NEO4J_CONF": str(install.conf_dir)}
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env)
    except OSError as exc:
        raise BulkRefused(f"could not run neo4j-admin ({command[0]}): {exc}") from None
    output = done.stdout + done.stderr
    if done.returncode != 0:
        tail = "\n".join(output.splitlines()[-20:])
        raise BulkRefused(f"neo4j-admin database import failed (exit {done.returncode}):\n{tail}")
    return output


def server_answers(uri: str) -> bool:
    """Whether a Neo4j server answers at ``uri`` (refused credentials still mean it runs)."""
    from neo4j import GraphDatabase
    from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable

    try:
        with GraphDatabase.driver(uri, connection_timeout=3) as driver:
            driver.verify_connectivity()
        return True
    except (AuthError, Neo4jError):
        return True
    except (ServiceUnavailable, OSError, ValueError):
        return False

"""The embedded store: SQLite on local disk, answering every read from its own indexes.

How the graph lies in the file (``laborgraph.sqlite``):

    entities (id, kind, name, ref, applies_to, risk, headcount, status, dated, cites, grade, body)
        body: the record as JSON; ref: a unit's organization, a decision's unit, a
        condition's cohort or an action's Target.ref; applies_to: a decision's
        organization; risk: a not-met condition's risk code (graph.scoring.risk_code_of);
        headcount: a cohort's; status, dated (observed_at), cites (source ids joined by "|")
        and grade (its evidence grade, ``reported`` when it has none): a condition's;
        dated: a source's published_at. Whole-graph questions read these columns, not
        bodies. A benchmark is a body only.
    links (from_id, type, to_id, project, body)       keyed as the model keys links
    risks (engager, dimension, code, rank, cohort_id, project, country)
        one row per ENGAGES link and not-met condition of its cohort, rank = -headcount:
        the index a page of risk paths seeks (GraphStore.read().risk_seek)
    state ('version', n)     n goes up with every write
    derived (key, value)     what GraphStore.remember keeps, forgotten by every write

Nothing is loaded when the store opens: each question reads its region through indexes
(graph.analysis.regions), so opening costs the same at any size and memory follows the
region, not the graph. Every write is one SQLite transaction (WAL, synchronous=FULL) that
also refreshes the risk rows of every cohort it touches, so a process killed in the
middle of an ingest leaves the previous graph intact, and every reader sees a committed
write at its next question. A write as large as a table it writes into (a first ingest)
builds that table's indexes after its rows, inside the same transaction.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import partial
from itertools import islice
from pathlib import Path
from typing import TypeVar

from pydantic import TypeAdapter
from pydantic_core import from_json

from laborgraph.graph.collector import collector_paused
from laborgraph.graph.errors import (
    BundleIssue,
    GraphChanged,
    InvalidBundle,
    InvalidQuery,
    NotFound,
    StoreUnavailable,
)
from laborgraph.graph.model import (
    Action,
    Benchmark,
    Cohort,
    Condition,
    Decision,
    Entity,
    GraphData,
    Link,
    LinkKey,
    Organization,
    Source,
    Unit,
)
from laborgraph.graph.revisions import (
    EARLIER_RELEASE,
    FactVersion,
    Observation,
    Retraction,
    Revision,
    WriteNote,
    WritePlan,
    Written,
    is_link_key,
    link_key,
    observation_key,
    parse_link_key,
    plan_write,
)
from laborgraph.graph.scoring import risk_code_of
from laborgraph.graph.store import (
    CohortFacts,
    ConditionFacts,
    EngagedCohort,
    EngagedTotal,
    Engagement,
    EntityPage,
    PayAtPlace,
    RiskHit,
    RiskSeek,
    StoredEntity,
    StoredLink,
    best_hits,
)
from laborgraph.graph.unfinished import UnfinishedWrite
from laborgraph.graph.view import AnyEntity
from laborgraph.graph.vocabulary import (
    DEFAULT_GRADE,
    DIMENSION_OF,
    GRADE_OF,
    STATUS_OF,
    Dimension,
    EntityKind,
    LinkType,
)

DB_FILE = "laborgraph.sqlite"
# PRAGMA user_version of the tables below: 0 is the first release's layout; 2 had no history
# and no column for conditions' grades; 3 no covering indexes of cohorts' and conditions' facts,
# and whole indexes by ref and applies_to.
LAYOUT = 4
_ENTITY = TypeAdapter(Entity)
_E = TypeVar("_E", Unit, Decision, Condition, Action)
_CHUNK = 20_000
BULK_ROWS = 10_000  # a write of at least this many rows into a table no larger builds its indexes after
BUSY_WAIT_MS = 10_000  # how long a statement waits for another process's write to finish
REMEMBER_WAIT_MS = 200
_KINDS = {k.value: k for k in EntityKind}  # members by value, as vocabulary.DIMENSION_OF
_LINK_TYPES = {t.value: t for t in LinkType}

SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    name       TEXT,
    ref        TEXT,
    applies_to TEXT,
    risk       TEXT,
    headcount  INTEGER,
    status     TEXT,
    dated      TEXT,
    cites      TEXT,
    grade      TEXT,
    body       TEXT NOT NULL,
    first_rev  INTEGER NOT NULL DEFAULT 0,
    last_rev   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS entities_kind ON entities (kind, id);
-- Partial: most entities (cohorts, organizations, sources, and conditions for applies_to) have none.
CREATE INDEX IF NOT EXISTS entities_by_ref ON entities (ref, kind, id) WHERE ref IS NOT NULL;
CREATE INDEX IF NOT EXISTS entities_by_applies_to ON entities (applies_to, id) WHERE applies_to IS NOT NULL;
-- What whole-graph questions and chains read of cohorts and conditions, without the rows'
-- bodies: a chain's facts are read from a few hundred megabytes rather than every page of
-- the table, and the whole stream in order without a sort.
CREATE INDEX IF NOT EXISTS cohort_facts ON entities (id, name, headcount) WHERE kind = 'cohort';
CREATE INDEX IF NOT EXISTS condition_facts ON entities (ref, id, status, dated, cites, grade)
    WHERE kind = 'condition';
CREATE TABLE IF NOT EXISTS links (
    from_id TEXT NOT NULL,
    type    TEXT NOT NULL,
    to_id   TEXT NOT NULL,
    project TEXT NOT NULL,
    body    TEXT NOT NULL,
    first_rev INTEGER NOT NULL DEFAULT 0,
    last_rev  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (from_id, type, to_id, project)
);
CREATE INDEX IF NOT EXISTS links_into ON links (to_id, type, from_id, project);
CREATE INDEX IF NOT EXISTS links_supply ON links (from_id) WHERE type <> 'ENGAGES';
CREATE INDEX IF NOT EXISTS links_projects ON links (project, from_id)
    WHERE type = 'CONTRACTS' AND project <> '';
CREATE TABLE IF NOT EXISTS risks (
    engager   TEXT NOT NULL,
    dimension TEXT NOT NULL,
    code      TEXT NOT NULL,
    rank      INTEGER NOT NULL,
    cohort_id TEXT NOT NULL,
    project   TEXT NOT NULL,
    country   TEXT NOT NULL,
    PRIMARY KEY (engager, dimension, code, rank, cohort_id, project)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS risks_of_cohort ON risks (cohort_id);
CREATE INDEX IF NOT EXISTS risks_in_rank
    ON risks (dimension, code, rank, cohort_id, engager, project, country);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO state (key, value) VALUES ('version', 0);
CREATE TABLE IF NOT EXISTS derived (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS entities_by_last_rev ON entities (last_rev);
CREATE INDEX IF NOT EXISTS links_by_last_rev ON links (last_rev);
CREATE TABLE IF NOT EXISTS revisions (
    number INTEGER PRIMARY KEY,
    at     TEXT NOT NULL,
    label  TEXT,
    digest TEXT NOT NULL,
    writer TEXT NOT NULL,
    counts TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS earlier (
    key       TEXT NOT NULL,
    kind      TEXT NOT NULL,
    since     INTEGER NOT NULL,
    until     INTEGER NOT NULL,
    body      TEXT NOT NULL,
    retracted TEXT,
    PRIMARY KEY (key, since)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS earlier_by_until ON earlier (until);
CREATE TABLE IF NOT EXISTS observations (
    condition_id TEXT NOT NULL,
    observed_at  TEXT NOT NULL,
    revision     INTEGER NOT NULL,
    body         TEXT NOT NULL,
    PRIMARY KEY (condition_id, observed_at)
) WITHOUT ROWID;
"""
# Every write takes the graph to a new version and forgets what was derived from the old one.
NEW_VERSION = "UPDATE state SET value = value + 1 WHERE key = 'version'"
FORGET_DERIVED = "DELETE FROM derived"
VERSION = "SELECT value FROM state WHERE key = 'version'"
RECALL = "SELECT value FROM derived WHERE key = ?"
REMEMBER = "INSERT OR REPLACE INTO derived (key, value) VALUES (?, ?)"

# Lists travel as one JSON parameter each (json_each), never as query text.
_IN = "IN (SELECT value FROM json_each(?))"

# A write stores only what it changes: a new fact with first_rev = last_rev = the write's
# revision, a changed one with last_rev moved on, its earlier value first moved to `earlier`.
UPSERT_ENTITY = """
INSERT INTO entities (id, kind, name, ref, applies_to, risk, headcount, status, dated, cites, grade, body,
                      first_rev, last_rev)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    kind = excluded.kind, name = excluded.name, ref = excluded.ref,
    applies_to = excluded.applies_to, risk = excluded.risk, headcount = excluded.headcount,
    status = excluded.status, dated = excluded.dated, cites = excluded.cites, grade = excluded.grade,
    body = excluded.body, last_rev = excluded.last_rev
"""
# A changed entity of a kind whose ref and applies_to never change (a condition's ref follows
# from its id; organizations, cohorts, sources and benchmarks have neither) is updated in place,
# leaving its rows in the indexes on kind, ref and applies_to as they are. Same row as UPSERT_ENTITY.
UPDATE_IN_PLACE = """
UPDATE entities SET name = ?3, risk = ?6, headcount = ?7, status = ?8, dated = ?9, cites = ?10, grade = ?11,
    body = ?12, last_rev = ?14
WHERE id = ?1
"""
_REFS_FIXED = (Organization, Cohort, Condition, Source, Benchmark)
# Layout 2 to 3: conditions' evidence grades, read by scorecards, become a column.
ADD_GRADES = "ALTER TABLE entities ADD COLUMN grade TEXT"
FILL_GRADES = f"""
UPDATE entities SET grade = coalesce(json_extract(body, '$.evidence_grade'), '{DEFAULT_GRADE.value}')
WHERE kind = '{EntityKind.condition.value}'
"""
UPSERT_LINK = """
INSERT INTO links (from_id, type, to_id, project, body, first_rev, last_rev) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (from_id, type, to_id, project) DO UPDATE SET body = excluded.body, last_rev = excluded.last_rev
"""
# temp.ending holds the keys whose current value a write replaces (retracted: with the reason).
KEEP_ENTITY_VALUES = """
INSERT INTO earlier (key, kind, since, until, body, retracted)
SELECT e.id, 'entity', e.last_rev, ?, e.body, t.reason FROM temp.ending t JOIN entities e ON e.id = t.key
"""
KEEP_LINK_VALUES = """
INSERT INTO earlier (key, kind, since, until, body, retracted)
SELECT t.key, 'link', l.last_rev, ?, l.body, t.reason FROM temp.ending t
JOIN links l ON l.from_id = t.from_id AND l.type = t.type AND l.to_id = t.to_id AND l.project = t.project
"""
DROP_RETRACTED_ENTITIES = (
    "DELETE FROM entities WHERE id IN (SELECT key FROM temp.ending WHERE reason IS NOT NULL)"
)
DROP_RETRACTED_LINKS = """
DELETE FROM links WHERE (from_id, type, to_id, project) IN
    (SELECT from_id, type, to_id, project FROM temp.ending WHERE reason IS NOT NULL)
"""
ENDING_TABLE = """
CREATE TEMP TABLE IF NOT EXISTS ending (
    key TEXT PRIMARY KEY, from_id TEXT, type TEXT, to_id TEXT, project TEXT, reason TEXT
)
"""
ENDING_LINKS = """
INSERT INTO temp.ending (key, from_id, type, to_id, project, reason) VALUES (?, ?, ?, ?, ?, ?)
"""
KEEP_OBSERVATION = """
INSERT OR REPLACE INTO observations (condition_id, observed_at, revision, body) VALUES (?, ?, ?, ?)
"""
KEEP_STORED_OBSERVATIONS = f"""
INSERT OR REPLACE INTO observations (condition_id, observed_at, revision, body)
SELECT id, coalesce(dated, ''), last_rev, body FROM entities INDEXED BY entities_by_last_rev
WHERE last_rev = ? AND kind = '{EntityKind.condition.value}'
"""
FIRST_OBSERVATIONS = f"""
INSERT INTO observations (condition_id, observed_at, revision, body)
SELECT id, coalesce(dated, ''), 1, body FROM entities WHERE kind = '{EntityKind.condition.value}'
"""
ADD_REVISION = "INSERT INTO revisions (number, at, label, digest, writer, counts) VALUES (?, ?, ?, ?, ?, ?)"
NEXT_REVISION = "SELECT coalesce(max(number), 0) + 1 FROM revisions"
REVISIONS = "SELECT number, at, label, digest, writer, counts FROM revisions ORDER BY number"
OBSERVATION_BODIES = f"SELECT condition_id, observed_at, body FROM observations WHERE condition_id {_IN}"
OBSERVATIONS_OF = f"""
SELECT condition_id, observed_at, revision, body FROM observations WHERE condition_id {_IN}
ORDER BY condition_id, observed_at
"""
CURRENT_VERSIONS = f"SELECT id, last_rev, body FROM entities WHERE id {_IN}"
CURRENT_LINK_VERSION = (
    "SELECT last_rev, body FROM links WHERE from_id = ? AND type = ? AND to_id = ? AND project = ?"
)
EARLIER_VERSIONS = f"SELECT key, kind, since, until, body, retracted FROM earlier WHERE key {_IN}"
# Every fact set or ended after a revision: what changed since it.
CHANGED_AFTER = """
SELECT id FROM entities WHERE last_rev > ?
UNION SELECT from_id || '|' || type || '|' || to_id || '|' || project FROM links WHERE last_rev > ?
UNION SELECT key FROM earlier WHERE until > ?
"""
# The graph as it stood at a revision: what has held since, and the earlier values that held then.
ENTITIES_AT = """
SELECT body FROM entities WHERE last_rev <= ?1
UNION ALL SELECT body FROM earlier WHERE kind = 'entity' AND since <= ?1 AND until > ?1
"""
LINKS_AT = """
SELECT body FROM links WHERE last_rev <= ?1
UNION ALL SELECT body FROM earlier WHERE kind = 'link' AND since <= ?1 AND until > ?1
"""
# The risk rows of the cohorts in temp.touched, from what the graph holds once written.
# CROSS JOIN keeps SQLite to this order, from the few cohorts touched outwards.
DROP_RISKS = "DELETE FROM risks WHERE cohort_id IN (SELECT id FROM temp.touched)"
ADD_RISKS = f"""
INSERT INTO risks (engager, dimension, code, rank, cohort_id, project, country)
SELECT l.from_id, json_extract(k.body, '$.dimension'), k.risk,
       -coalesce(c.headcount, 0), c.id, l.project,
       json_extract(c.body, '$.country')
FROM temp.touched t
CROSS JOIN entities c ON c.id = t.id AND c.kind = '{EntityKind.cohort.value}'
CROSS JOIN links l ON l.to_id = c.id AND l.type = '{LinkType.ENGAGES.value}'
CROSS JOIN entities k ON k.ref = c.id AND k.kind = '{EntityKind.condition.value}' AND k.risk IS NOT NULL
"""
# The risk rows of the conditions in temp.touched_conditions alone, when their cohorts and
# engagements are as they were.
DROP_CONDITION_RISKS = """
DELETE FROM risks WHERE cohort_id IN (SELECT cohort_id FROM temp.touched_conditions)
    AND (cohort_id, dimension) IN (SELECT cohort_id, dimension FROM temp.touched_conditions)
"""
ADD_CONDITION_RISKS = f"""
INSERT INTO risks (engager, dimension, code, rank, cohort_id, project, country)
SELECT l.from_id, t.dimension, k.risk, -coalesce(c.headcount, 0), c.id, l.project,
       json_extract(c.body, '$.country')
FROM temp.touched_conditions t
CROSS JOIN entities k ON k.id = t.id AND k.risk IS NOT NULL
CROSS JOIN entities c ON c.id = t.cohort_id AND c.kind = '{EntityKind.cohort.value}'
CROSS JOIN links l ON l.to_id = c.id AND l.type = '{LinkType.ENGAGES.value}'
"""
# A table's indexes as created (not the primary key's, which has no statement).
INDEXES_OF = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL"
ADD_RISK = """
INSERT INTO risks (engager, dimension, code, rank, cohort_id, project, country) VALUES (?, ?, ?, ?, ?, ?, ?)
"""
TOUCHED_TABLES = {
    "touched": "(id TEXT PRIMARY KEY)",
    "touched_conditions": "(id TEXT PRIMARY KEY, cohort_id TEXT, dimension TEXT)",
}

_PROJECT = f"(? IS NULL OR project = '' OR project {_IN})"
ENTITIES_BY_ID = f"SELECT body FROM entities WHERE id {_IN}"
KINDS_BY_ID = f"SELECT id, kind FROM entities WHERE id {_IN}"
LINKS_FROM = f"SELECT body FROM links WHERE from_id {_IN} AND type {_IN} AND {_PROJECT}"
LINKS_INTO = f"SELECT body FROM links WHERE to_id {_IN} AND type {_IN} AND {_PROJECT}"
LINKS_BY_KEY = "SELECT body FROM links WHERE from_id = ? AND type = ? AND to_id = ? AND project = ?"
# Ordered as their indexes are, which SQLite then walks instead of scanning a whole kind.
BY_REF = f"SELECT body FROM entities WHERE ref {_IN} AND kind = ? ORDER BY ref, kind, id"
BY_APPLIES_TO = f"SELECT body FROM entities WHERE applies_to {_IN} ORDER BY applies_to, id"
PROJECT_OWNERS = f"""
SELECT project, min(from_id) FROM links
WHERE type = '{LinkType.CONTRACTS.value}' AND project <> '' GROUP BY project
"""
RISK_SEEK = f"""
SELECT DISTINCT rank, cohort_id FROM risks
WHERE engager = ? AND dimension = ? AND code = ? AND {_PROJECT} AND (? IS NULL OR country = ?)
ORDER BY rank, cohort_id LIMIT ?
"""
# One risk across every engager, best first: for seeks that cover much of the graph.
RISK_IN_RANK = """
SELECT engager, project, rank, cohort_id FROM risks
WHERE dimension = ? AND code = ? AND (? IS NULL OR country = ?)
ORDER BY rank, cohort_id
"""
_SEEK_EACH_UP_TO = 200  # seeks of one risk taken one by one; more walk RISK_IN_RANK once...
_WALK_AT_MOST = 100_000  # ...unless the walk reads this many rows without filling the page
# In the order they were written, so the whole graph reads back as it was stored.
ALL_ENTITIES = "SELECT body FROM entities ORDER BY rowid"
ALL_LINKS = "SELECT body FROM links ORDER BY rowid"
SKELETON_ENTITIES = f"""
SELECT body FROM entities WHERE kind IN ('{EntityKind.organization.value}', '{EntityKind.unit.value}',
    '{EntityKind.decision.value}')
"""
ALL_SUPPLY_LINKS = f"SELECT body FROM links WHERE type <> '{LinkType.ENGAGES.value}'"
COHORT_FACTS = f"""
SELECT id, name, headcount FROM entities INDEXED BY cohort_facts
WHERE kind = '{EntityKind.cohort.value}' ORDER BY id
"""
CONDITION_FACTS = f"""
SELECT ref, id, status, dated, cites, grade FROM entities INDEXED BY condition_facts
WHERE kind = '{EntityKind.condition.value}' ORDER BY ref, id
"""
CONDITION_FACTS_OF = f"""
SELECT ref, id, status, dated, cites, grade FROM entities INDEXED BY condition_facts
WHERE ref {_IN} AND kind = '{EntityKind.condition.value}' ORDER BY ref, id
"""
ENGAGEMENTS = f"""
SELECT to_id, from_id, project FROM links WHERE type = '{LinkType.ENGAGES.value}'
ORDER BY to_id, type, from_id, project
"""
# Neither a cohort below the privacy threshold nor one of its conditions or the actions on
# them (a page's filter).
NOT_PRIVATE = f"""
NOT (kind = '{EntityKind.cohort.value}' AND coalesce(headcount < ?, 0))
AND NOT (kind IN ('{EntityKind.condition.value}', '{EntityKind.action.value}') AND ref IN
         (SELECT id FROM entities WHERE kind = '{EntityKind.cohort.value}' AND headcount < ?))
"""
ALL_ACTIONS = f"SELECT body FROM entities WHERE kind = '{EntityKind.action.value}' ORDER BY id"
SOURCE_DATES = f"SELECT id, dated FROM entities WHERE kind = '{EntityKind.source.value}'"
# What an export reads: bodies as stored, in the order they were written, small cohorts left out.
ENTITY_RECORDS = f"SELECT kind, id, body FROM entities WHERE {NOT_PRIVATE} ORDER BY rowid"
LINK_RECORDS = f"""
SELECT from_id, type, to_id, body FROM links
WHERE NOT (type = '{LinkType.ENGAGES.value}' AND to_id IN
           (SELECT id FROM entities WHERE kind = '{EntityKind.cohort.value}' AND headcount < ?))
ORDER BY rowid
"""
BENCHMARKS = f"SELECT body FROM entities WHERE kind = '{EntityKind.benchmark.value}' ORDER BY id"
# A cohort's pay condition is found by its id, cohort_id/pay, from the cohort.
BENCHMARK_TAKERS = f"""
SELECT k.body, json_extract(c.body, '$.country'), json_extract(c.body, '$.region')
FROM entities c CROSS JOIN entities k ON k.id = c.id || '/{Dimension.pay.value}'
WHERE c.kind = '{EntityKind.cohort.value}' AND (? IS NULL OR json_extract(c.body, '$.country') {_IN})
  AND json_extract(k.body, '$.value') IS NOT NULL
  AND (json_extract(k.body, '$.benchmark') IS NULL OR json_extract(k.body, '$.benchmark_id') IS NOT NULL)
ORDER BY c.id
"""
ENGAGED = f"""
SELECT l.from_id, l.to_id, l.project, c.name, c.headcount
FROM links l CROSS JOIN entities c INDEXED BY cohort_facts ON c.id = l.to_id AND c.kind = 'cohort'
WHERE l.from_id {_IN} AND l.type = '{LinkType.ENGAGES.value}' AND {_PROJECT}
"""
# Not DISTINCT: the rows go into a set, and SQLite's sort for DISTINCT costs more than the repeats.
RISKS_OF_ENGAGED = f"SELECT cohort_id, dimension, code FROM risks WHERE engager {_IN}"
# The cohorts more than one ENGAGES link engages: one walk of the index of links by target.
_SHARED = f"""
SELECT to_id FROM links INDEXED BY links_into WHERE type = '{LinkType.ENGAGES.value}'
GROUP BY to_id HAVING count(*) > 1
"""
ENGAGED_TOTALS = f"""
SELECT l.from_id, l.project, count(*), total(c.headcount < ?),
       total(CASE WHEN c.headcount >= ? THEN c.headcount END)
FROM entities c INDEXED BY cohort_facts CROSS JOIN links l
     ON l.to_id = c.id AND l.type = '{LinkType.ENGAGES.value}'
WHERE c.kind = '{EntityKind.cohort.value}' AND c.id NOT IN ({_SHARED})
GROUP BY l.from_id, l.project
"""
RISK_TOTALS = f"""
SELECT engager, project, group_concat(DISTINCT dimension || ' ' || code) FROM risks
WHERE cohort_id NOT IN ({_SHARED}) GROUP BY engager, project
"""
SHARED_ENGAGED = f"""
SELECT l.from_id, l.to_id, l.project, c.name, c.headcount
FROM links l CROSS JOIN entities c INDEXED BY cohort_facts ON c.id = l.to_id AND c.kind = 'cohort'
WHERE l.type = '{LinkType.ENGAGES.value}' AND l.to_id IN ({_SHARED})
"""
RISKS_OF_SHARED = f"SELECT cohort_id, dimension, code FROM risks WHERE cohort_id IN ({_SHARED})"


def _name(entity: AnyEntity) -> str | None:
    # Not getattr(entity, "name", None): a pydantic model's missing attribute raises, slowly.
    if isinstance(entity, Organization | Unit | Cohort):
        return entity.name
    return entity.title if isinstance(entity, Source) else None


def _entity_row(entity: AnyEntity, revision: int) -> tuple[object, ...]:
    ref = applies_to = risk = headcount = status = dated = cites = grade = None
    if isinstance(entity, Unit):
        ref = entity.organization_id
    elif isinstance(entity, Decision):
        ref, applies_to = entity.unit_id, entity.applies_to
    elif isinstance(entity, Condition):
        ref, risk, status = entity.cohort_id, risk_code_of(entity), entity.status.value
        dated, cites, grade = _iso(entity.observed_at), "|".join(entity.source_ids), entity.grade.value
    elif isinstance(entity, Cohort):
        headcount = entity.headcount
    elif isinstance(entity, Action):
        ref = entity.aim.ref
    elif isinstance(entity, Source):
        dated = _iso(entity.published_at)
    body = entity.model_dump_json(exclude_none=True)
    return (
        entity.id,
        entity.entity.value,
        _name(entity),
        ref,
        applies_to,
        risk,
        headcount,
        status,
        dated,
        cites,
        grade,
        body,
        revision,
        revision,
    )


RiskRow = tuple[str, str, str, int, str, str, str]  # as the risks table's columns


def _risk_rows(cohorts: Mapping[str, Cohort], plan: WritePlan) -> list[RiskRow]:
    """The risk rows of ``cohorts`` from the plan's new conditions and links, as ADD_RISKS
    would read them once stored; in key order, which the table's primary key takes fastest."""
    risks: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for entity in plan.new_entities:
        if isinstance(entity, Condition) and entity.cohort_id in cohorts:
            code = risk_code_of(entity)
            if code is not None:
                risks[entity.cohort_id].append((entity.dimension.value, code))
    rows = [
        (link.from_id, dimension, code, -(cohort.headcount or 0), cohort.id, link.key[3], cohort.country)
        for link in plan.new_links
        if link.type is LinkType.ENGAGES and link.to_id in risks
        for cohort in (cohorts[link.to_id],)
        for dimension, code in risks[link.to_id]
    ]
    rows.sort()
    return rows


_engaged_cohort = partial(tuple.__new__, EngagedCohort)  # in C: tens of thousands of rows


def _engaged_rows(
    rows: list[tuple[str, str, str, str, int | None]], risks: Mapping[str, set[tuple[Dimension, str]]]
) -> list[EngagedCohort]:
    """EngagedCohort rows, by organization, cohort and project, each with its cohort's risk codes."""
    rows.sort()
    of_cohort = {cohort_id: tuple(sorted(found)) for cohort_id, found in risks.items()}
    return [_engaged_cohort((*row, of_cohort.get(row[1], ()))) for row in rows]


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


_NO_DAY = date.min  # "not parsed yet": fromisoformat never returns this very object


def _json(values: Iterable[str]) -> str:
    return json.dumps(sorted(values))


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    remaining = iter(sorted(values))
    while chunk := list(islice(remaining, _CHUNK)):
        yield chunk


@contextmanager
def _indexes_built_after(db: sqlite3.Connection, table: str, rows: int) -> Iterator[None]:
    """Drop ``table``'s own indexes while ``rows`` rows go in, and build them again after,
    when that is at least as many rows as it holds: building an index sorts once, where
    keeping it up to date seeks a page per row. Its primary key stays, for the upserts.
    All inside the caller's transaction, so a reader never sees the table without them."""
    if rows < BULK_ROWS or rows < db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]:
        yield
        return
    indexes = db.execute(INDEXES_OF, (table,)).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    yield
    for _, statement in indexes:
        db.execute(statement)


def _use_wal(db: sqlite3.Connection) -> None:
    """Switch to write-ahead logging, waiting for a new file's first writer: SQLite does not
    call the busy handler for this switch."""
    deadline = time.monotonic() + BUSY_WAIT_MS / 1000
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _lower(text: str | None) -> str | None:
    """Lower case in every script, as Neo4j's toLower: a name search finds 'Medellín' by 'MEDELLÍN'."""
    return None if text is None else text.lower()


def _empty_graph() -> sqlite3.Connection:
    """An empty graph in memory, for reads before a store's file exists."""
    db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    db.create_function("lower_text", 1, _lower, deterministic=True)
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    return db


class EmbeddedStore:
    backend = "embedded"

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / DB_FILE
        self._connections: dict[threading.Thread, sqlite3.Connection] = {}
        self._local = threading.local()
        self._guard = threading.Lock()
        self._opening = threading.Lock()
        # Until the first write, a store with no file reads as an empty graph and leaves no
        # file behind: a rejected first ingest, or a question asked first, creates nothing.
        self._on_disk = False
        if self.path.parent.exists() and not self.path.parent.is_dir():
            raise StoreUnavailable(f"cannot open the embedded store in {self.path.parent}: not a folder")
        if self.path.exists():
            self._open_file()

    def _open_file(self) -> None:
        """Create the file if need be; bring its tables to this release's layout. Threads
        open it one at a time, and none uses the file before its tables are laid out."""
        with self._opening:
            if self._on_disk:
                return  # another thread opened it meanwhile
            db: sqlite3.Connection | None = None
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = self._connect()
                layout = db.execute("PRAGMA user_version").fetchone()[0]
                if layout > LAYOUT:
                    raise StoreUnavailable(
                        f"the embedded store at {self.path} was written by a newer laborgraph (layout"
                        f" {layout}; this release reads {LAYOUT}): upgrade laborgraph to use it"
                    )
                if layout != LAYOUT:
                    self._lay_out(db)
            except BaseException as exc:
                if db is not None:
                    db.close()
                if isinstance(exc, OSError | sqlite3.Error):
                    raise StoreUnavailable(f"cannot open the embedded store at {self.path}: {exc}") from exc
                raise
            empty = getattr(self._local, "db", None)
            if empty is not None:
                empty.close()  # this thread's empty graph: it reads the file from here on
            self._local.db, self._local.empty = db, False
            self._on_disk = True

    # -- contract -------------------------------------------------------------------

    def describe(self) -> str:
        return str(self.path)

    def ping(self) -> None:
        try:
            self._db().execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"embedded store at {self.path} is unusable: {exc}") from exc

    def close(self) -> None:
        with self._guard:
            for db in self._connections.values():
                db.close()
            self._connections.clear()
            self._local = threading.local()

    def kinds_of(self, ids: Collection[str]) -> dict[str, EntityKind]:
        with self._reading() as db:
            return {
                entity_id: EntityKind(kind)
                for chunk in _chunks(ids)
                for entity_id, kind in db.execute(KINDS_BY_ID, (json.dumps(chunk),))
            }

    def write(
        self,
        data: GraphData,
        *,
        expect_version: str | None = None,
        retractions: Sequence[Retraction] = (),
        note: WriteNote | None = None,
    ) -> Written:
        if not self._on_disk:
            self._open_file()
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")  # merged against what is committed, one writer at a time
            try:
                if expect_version is not None and _SQLiteReader(db).version() != expect_version:
                    raise GraphChanged("another write committed since this bundle was validated")
                written = self._write(db, data, retractions, note or WriteNote())
                db.execute("COMMIT" if written.revision else "ROLLBACK")
                return written
            except BaseException:
                if db.in_transaction:  # after some I/O errors SQLite has rolled back already
                    db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"write to {self.path} failed: {exc}") from exc

    def get(self, entity_id: str) -> AnyEntity:
        with self._reading() as db:
            found = _SQLiteReader(db).entities([entity_id])
        if not found:
            raise NotFound(entity_id)
        return found[0]

    def page(
        self,
        kind: EntityKind | None,
        *,
        offset: int = 0,
        limit: int = 50,
        text: str | None = None,
        private_below: int = 0,
    ) -> EntityPage:
        if offset < 0 or limit < 0:
            raise InvalidQuery(f"offset and limit cannot be negative (got {offset}, {limit})")
        where = "1"
        args: list[object] = []
        if kind is not None:
            where += " AND kind = ?"
            args.append(kind.value)
        if text:
            where += " AND lower_text(name) LIKE lower_text(?) ESCAPE '\\'"  # SQLite's LIKE folds ASCII only
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            args.append(f"%{escaped}%")
        if private_below > 0 and kind in (None, EntityKind.cohort, EntityKind.condition, EntityKind.action):
            where += f" AND {NOT_PRIVATE}"
            args += [private_below, private_below]
        with self._reading() as db:
            total = db.execute(f"SELECT count(*) FROM entities WHERE {where}", args).fetchone()[0]
            rows = db.execute(
                f"SELECT body FROM entities WHERE {where} ORDER BY id LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        items = [_ENTITY.validate_json(body) for (body,) in rows]
        return EntityPage(total=total, offset=offset, limit=limit, items=items)

    def project_owners(self) -> dict[str, str]:
        with self.read() as reader:
            return reader.project_owners()

    def counts(self) -> dict[EntityKind | str, int]:
        with self._reading() as db:
            rows = db.execute("SELECT kind, count(*) FROM entities GROUP BY kind").fetchall()
            links = db.execute("SELECT count(*) FROM links").fetchone()[0]
        counts: dict[EntityKind | str, int] = {kind: 0 for kind in EntityKind}
        counts.update({EntityKind(kind): n for kind, n in rows})
        counts["links"] = links
        return counts

    @contextmanager
    def read(self) -> Iterator[_SQLiteReader]:
        with self._reading() as db:
            yield _SQLiteReader(db)

    def unfinished_write(self) -> UnfinishedWrite | None:
        return None  # every write is one SQLite transaction: it is there whole, or not at all

    def interrupted_write(self) -> UnfinishedWrite | None:
        return None

    def settle(self) -> UnfinishedWrite | None:
        return None

    def recall(self, key: str) -> str | None:
        with self._reading() as db:
            found = db.execute(RECALL, (key,)).fetchone()
        return None if found is None else str(found[0])

    def remember(self, key: str, value: str) -> None:
        db = self._db()
        try:
            # Keeping is a favour: it never waits behind a long write (an ingest) for long.
            db.execute(f"PRAGMA busy_timeout={REMEMBER_WAIT_MS}")
            db.execute(REMEMBER, (key, value))
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"write to {self.path} failed: {exc}") from exc
        finally:
            db.execute(f"PRAGMA busy_timeout={BUSY_WAIT_MS}")

    # -- plumbing -------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        """This thread's connection: SQLite connections must not be shared by threads at once."""
        if not self._on_disk and self.path.exists():
            self._open_file()  # another process wrote the first bundle meanwhile
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is not None and self._on_disk and self._local.empty:
            db.close()  # the file exists now: this thread reads it from here on
            db = None
        if db is None:
            db = self._connect() if self._on_disk else _empty_graph()
            self._local.db, self._local.empty = db, not self._on_disk
        return db

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.create_function("lower_text", 1, _lower, deterministic=True)
        db.execute(f"PRAGMA busy_timeout={BUSY_WAIT_MS}")
        _use_wal(db)
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA cache_size=-65536")  # 64 MiB of pages per connection
        with self._guard:
            # A server's worker threads come and go: their connections go with them.
            for thread in [t for t in self._connections if not t.is_alive()]:
                self._connections.pop(thread).close()
            self._connections[threading.current_thread()] = db
        return db

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every read in it sees the same committed graph."""
        try:
            db = self._db()
            nested = db.in_transaction
            if not nested:
                db.execute("BEGIN")
            try:
                yield db
            finally:
                if not nested and db.in_transaction:
                    db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot read the embedded store at {self.path}: {exc}") from exc

    def _lay_out(self, db: sqlite3.Connection) -> None:
        """Create the tables, or bring a database of an earlier layout (the first release's,
        or layout 2, before history and conditions' grades had columns) to this one."""
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("PRAGMA user_version").fetchone()[0] == LAYOUT:
                db.execute("COMMIT")  # another process laid it out meanwhile
                return
            columns = {row[1] for row in db.execute("PRAGMA table_info(entities)")}
            old = bool(columns) and "ref" not in columns
            unrevised = bool(columns) and not old and "last_rev" not in columns
            if unrevised:  # layout 2: the same tables, without history
                for table in ("entities", "links"):
                    for column in ("first_rev", "last_rev"):
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0")
            if old:
                db.execute("ALTER TABLE entities RENAME TO entities_v0")
                db.execute("ALTER TABLE links RENAME TO links_v0")
                db.execute("DROP INDEX IF EXISTS entities_kind")
            elif columns and "grade" not in columns:  # layout 2
                db.execute(ADD_GRADES)
                db.execute(FILL_GRADES)
            if columns and not old:  # layouts 2 and 3 indexed every entity by ref and applies_to
                db.execute("DROP INDEX IF EXISTS entities_by_ref")
                db.execute("DROP INDEX IF EXISTS entities_by_applies_to")
            for statement in SCHEMA.split(";"):  # not executescript, which commits first
                if statement.strip():
                    db.execute(statement)
            if old:
                entities = [_ENTITY.validate_json(b) for (b,) in db.execute("SELECT body FROM entities_v0")]
                links = [Link.model_validate_json(b) for (b,) in db.execute("SELECT body FROM links_v0")]
                # As stored: the first release's writes did not check that links' ends exist.
                note = WriteNote(label=EARLIER_RELEASE, writer="upgrade")
                self._write(db, GraphData.of([*entities, *links]), (), note, check_ends=False)
                db.execute("DROP TABLE entities_v0")
                db.execute("DROP TABLE links_v0")
            if unrevised and db.execute("SELECT 1 FROM entities LIMIT 1").fetchone():
                self._record_as_first_revision(db)
            db.execute(f"PRAGMA user_version = {LAYOUT}")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    @staticmethod
    def _record_as_first_revision(db: sqlite3.Connection) -> None:
        """What an earlier release stored becomes revision 1, its conditions their first observations."""
        db.execute("UPDATE entities SET first_rev = 1, last_rev = 1")
        db.execute("UPDATE links SET first_rev = 1, last_rev = 1")
        db.execute(FIRST_OBSERVATIONS)
        counts = {"added": db.execute("SELECT count(*) FROM entities").fetchone()[0]}
        at = datetime.now(UTC).replace(microsecond=0).isoformat()
        db.execute(ADD_REVISION, (1, at, EARLIER_RELEASE, "", "upgrade", json.dumps(counts)))

    def _write(
        self,
        db: sqlite3.Connection,
        data: GraphData,
        retractions: Sequence[Retraction],
        note: WriteNote,
        *,
        check_ends: bool = True,
    ) -> Written:
        """Merge ``data`` into what is stored, and retract ``retractions``, inside the caller's
        write transaction; a write that changes nothing makes no revision."""
        with collector_paused():
            reader = _SQLiteReader(db)
            if check_ends:
                self._refuse_links_to_nothing(db, data)
            stored_observations = reader.stored_observations({c.id for c in data.conditions})
            plan = plan_write(reader, data, retractions, stored_observations)
            if plan.is_empty():
                return Written(revision=None)
            revision = db.execute(NEXT_REVISION).fetchone()[0]
            db.execute(ENDING_TABLE)
            db.execute("DELETE FROM temp.ending")
            db.executemany(
                "INSERT INTO temp.ending (key, reason) VALUES (?, ?)",
                [
                    *((e.id, None) for e in plan.changed_entities),
                    *plan.retracted_entities.items(),
                ],
            )
            db.execute(KEEP_ENTITY_VALUES, (revision,))
            db.execute(DROP_RETRACTED_ENTITIES)
            db.execute("DELETE FROM temp.ending")
            db.executemany(
                ENDING_LINKS,
                [
                    *((link_key(k.key), *k.key, None) for k in plan.changed_links),
                    *((link_key(key), *key, reason) for key, reason in plan.retracted_links.items()),
                ],
            )
            db.execute(KEEP_LINK_VALUES, (revision,))
            db.execute(DROP_RETRACTED_LINKS)
            db.execute("DELETE FROM temp.ending")
            in_place = [e for e in plan.changed_entities if isinstance(e, _REFS_FIXED)]
            others = [e for e in plan.changed_entities if not isinstance(e, _REFS_FIXED)]
            added = [*plan.new_entities, *others]
            with _indexes_built_after(db, "entities", len(added)):
                db.executemany(UPSERT_ENTITY, (_entity_row(e, revision) for e in added))
            db.executemany(UPDATE_IN_PLACE, (_entity_row(e, revision) for e in in_place))
            with _indexes_built_after(db, "links", len(plan.new_links)):
                db.executemany(
                    UPSERT_LINK,
                    (
                        (*link.key, link.model_dump_json(exclude_none=True), revision, revision)
                        for link in plan.links_to_store()
                    ),
                )
            # The conditions this write stores are observations too, body and all: copied rather
            # than serialised again, when every one of them is (WritePlan.observations_current).
            stored = sum(isinstance(e, Condition) for e in [*added, *in_place])
            copied = sum(plan.observations_current) == stored
            db.executemany(
                KEEP_OBSERVATION,
                (
                    (*observation_key(c), revision, c.model_dump_json(exclude_none=True))
                    for c, current in zip(plan.observations, plan.observations_current, strict=True)
                    if not (copied and current)
                ),
            )
            if copied:
                db.execute(KEEP_STORED_OBSERVATIONS, (revision,))
            self._refresh_risks(db, plan)
            made = plan.revision(revision, note)
            db.execute(
                ADD_REVISION,
                (
                    made.number,
                    made.at.isoformat(),
                    made.label,
                    made.digest,
                    made.writer,
                    json.dumps(made.counts),
                ),
            )
            db.execute(NEW_VERSION)
            db.execute(FORGET_DERIVED)
            return Written(revision=made, orphaned_cohorts=tuple(plan.orphaned_cohorts))

    @staticmethod
    def _refresh_risks(db: sqlite3.Connection, plan: WritePlan) -> None:
        """Work out again the risk rows a write changes: every row of a cohort whose record or
        engagements it changed, and only a written condition's own rows otherwise. A cohort
        this write creates has all its conditions and engagements in the plan: its rows are
        made from them, not read back from what was just stored."""
        # In a consistent store nothing stored refers to a cohort not stored yet; a changed
        # condition or link into one (a store that is not) leaves it to the SQL below.
        stale = {c.cohort_id for c in plan.changed_entities if isinstance(c, Condition)}
        stale |= {link.to_id for link in plan.changed_links if link.type is LinkType.ENGAGES}
        created = {e.id: e for e in plan.new_entities if isinstance(e, Cohort) and e.id not in stale}
        added = _risk_rows(created, plan)
        alone = [c for c in plan.conditions_to_store() if c.cohort_id not in plan.whole_cohorts]
        for table, columns in TOUCHED_TABLES.items():
            db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} {columns}")
            db.execute(f"DELETE FROM temp.{table}")
        db.executemany(
            "INSERT INTO temp.touched (id) VALUES (?)", ((c,) for c in plan.whole_cohorts if c not in created)
        )
        db.executemany(
            "INSERT INTO temp.touched_conditions (id, cohort_id, dimension) VALUES (?, ?, ?)",
            ((c.id, c.cohort_id, c.dimension.value) for c in alone),
        )
        for statement in (DROP_RISKS, ADD_RISKS, DROP_CONDITION_RISKS, ADD_CONDITION_RISKS):
            db.execute(statement)
        with _indexes_built_after(db, "risks", len(added)):
            db.executemany(ADD_RISK, added)
        for table in TOUCHED_TABLES:
            db.execute(f"DELETE FROM temp.{table}")

    @classmethod
    def _refuse_links_to_nothing(cls, db: sqlite3.Connection, data: GraphData) -> None:
        """InvalidBundle if a link ends at an id neither written nor stored. (Its own
        function: the sets of ids it makes are gone before the write's plan is made.)"""
        ends = {end for link in data.links for end in (link.from_id, link.to_id)}
        # Links join organizations and cohorts: no condition's id (made anew per call) is needed.
        ends -= {e.id for e in data.entities() if not isinstance(e, Condition)}
        missing = ends - set(cls._known(db, ends))
        if missing:
            said = "{!r} is neither in the bundle nor in the graph"
            raise InvalidBundle(
                [BundleIssue(file="links.csv", message=said.format(end)) for end in sorted(missing)]
            )

    @staticmethod
    def _known(db: sqlite3.Connection, ids: Collection[str]) -> list[str]:
        return [row[0] for chunk in _chunks(ids) for row in db.execute(KINDS_BY_ID, (json.dumps(chunk),))]


class StoredObservations(Mapping[tuple[str, str], Condition]):
    """Stored observations by observation_key, each read from its body only when looked up:
    a write of new observations looks each one up to find none there."""

    def __init__(self, bodies: dict[tuple[str, str], str]) -> None:
        self._bodies = bodies
        self._read: dict[tuple[str, str], Condition] = {}

    def __getitem__(self, key: tuple[str, str]) -> Condition:
        found = self._read.get(key)
        if found is None:
            found = self._read[key] = Condition.model_validate_json(self._bodies[key])
        return found

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._bodies)

    def __len__(self) -> int:
        return len(self._bodies)


class _SQLiteReader:
    """The GraphReader of one read transaction on one connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def version(self) -> str:
        return str(self._db.execute(VERSION).fetchone()[0])

    def entities(self, ids: Collection[str]) -> list[AnyEntity]:
        return [
            _ENTITY.validate_json(body)
            for chunk in _chunks(ids)
            for (body,) in self._db.execute(ENTITIES_BY_ID, (json.dumps(chunk),))
        ]

    def links_by_key(self, keys: Collection[LinkKey]) -> list[Link]:
        found = (self._db.execute(LINKS_BY_KEY, key).fetchone() for key in sorted(keys))
        return [Link.model_validate_json(row[0]) for row in found if row]

    # -- history ---------------------------------------------------------------------

    def revisions(self) -> list[Revision]:
        return [
            Revision(number=n, at=at, label=label, digest=digest, writer=writer, counts=json.loads(counts))
            for n, at, label, digest, writer, counts in self._db.execute(REVISIONS)
        ]

    def observations(self, condition_ids: Collection[str]) -> list[Observation]:
        current = {c.id: c for c in self.entities(condition_ids) if isinstance(c, Condition)}
        found = []
        for chunk in _chunks(condition_ids):
            for condition_id, _, revision, body in self._db.execute(OBSERVATIONS_OF, (json.dumps(chunk),)):
                condition = Condition.model_validate_json(body)
                found.append(
                    Observation(
                        revision=revision, current=current.get(condition_id) == condition, condition=condition
                    )
                )
        return found

    def stored_observations(self, condition_ids: Collection[str]) -> StoredObservations:
        """Every stored observation of these conditions, by observation_key, for planning a write."""
        bodies = {}
        for chunk in _chunks(condition_ids):
            for condition_id, observed_at, body in self._db.execute(OBSERVATION_BODIES, (json.dumps(chunk),)):
                bodies[condition_id, observed_at] = body
        return StoredObservations(bodies)

    def versions(self, keys: Collection[str]) -> dict[str, list[FactVersion]]:
        """Every value each fact (an entity id, or a link's ``link_key``) has held, oldest first."""
        found: dict[str, list[FactVersion]] = defaultdict(list)
        entity_ids = [k for k in keys if not is_link_key(k)]
        for chunk in _chunks(entity_ids):
            for key, since, body in self._db.execute(CURRENT_VERSIONS, (json.dumps(chunk),)):
                found[key].append(
                    FactVersion(
                        key=key, kind="entity", since=since, until=None, record=_ENTITY.validate_json(body)
                    )
                )
        for key in keys:
            if is_link_key(key):
                row = self._db.execute(CURRENT_LINK_VERSION, parse_link_key(key)).fetchone()
                if row:
                    found[key].append(
                        FactVersion(
                            key=key,
                            kind="link",
                            since=row[0],
                            until=None,
                            record=Link.model_validate_json(row[1]),
                        )
                    )
        for chunk in _chunks(keys):
            for key, kind, since, until, body, retracted in self._db.execute(
                EARLIER_VERSIONS, (json.dumps(chunk),)
            ):
                record = Link.model_validate_json(body) if kind == "link" else _ENTITY.validate_json(body)
                found[key].append(
                    FactVersion(
                        key=key, kind=kind, since=since, until=until, record=record, retracted=retracted
                    )
                )
        return {key: sorted(versions, key=lambda v: v.since) for key, versions in found.items()}

    def changed_after(self, revision: int) -> set[str]:
        """The facts (entity ids, link keys) set or ended by any revision after ``revision``."""
        return {key for (key,) in self._db.execute(CHANGED_AFTER, (revision, revision, revision))}

    def facts_at(self, revision: int) -> GraphData:
        """The graph as it stood once ``revision`` was written."""
        with collector_paused():
            entities = [_ENTITY.validate_json(body) for (body,) in self._db.execute(ENTITIES_AT, (revision,))]
            links = [Link.model_validate_json(body) for (body,) in self._db.execute(LINKS_AT, (revision,))]
            return GraphData.of([*entities, *links])

    def links_from(
        self, ids: Collection[str], types: Collection[LinkType], projects: Collection[str] | None
    ) -> list[Link]:
        return self._links(LINKS_FROM, ids, types, projects)

    def links_into(
        self, ids: Collection[str], types: Collection[LinkType], projects: Collection[str] | None
    ) -> list[Link]:
        return self._links(LINKS_INTO, ids, types, projects)

    def _links(
        self, query: str, ids: Collection[str], types: Collection[LinkType], projects: Collection[str] | None
    ) -> list[Link]:
        kinds = _json(t.value for t in types)
        scope = None if projects is None else _json(projects)
        return [
            Link.model_validate_json(body)
            for chunk in _chunks(ids)
            for (body,) in self._db.execute(query, (json.dumps(chunk), kinds, scope, scope))
        ]

    def units_of(self, organization_ids: Collection[str]) -> list[Unit]:
        return self._by(BY_REF, organization_ids, EntityKind.unit, Unit)

    def decisions_by(self, unit_ids: Collection[str]) -> list[Decision]:
        return self._by(BY_REF, unit_ids, EntityKind.decision, Decision)

    def decisions_applying_to(self, organization_ids: Collection[str]) -> list[Decision]:
        return self._by(BY_APPLIES_TO, organization_ids, None, Decision)

    def conditions_of(self, cohort_ids: Collection[str]) -> list[Condition]:
        return self._by(BY_REF, cohort_ids, EntityKind.condition, Condition)

    def actions(self, refs: Collection[str] | None = None) -> list[Action]:
        if refs is None:
            return [Action.model_validate_json(body) for (body,) in self._db.execute(ALL_ACTIONS)]
        return sorted(self._by(BY_REF, refs, EntityKind.action, Action), key=lambda a: a.id)

    def _by(self, query: str, ids: Collection[str], kind: EntityKind | None, model: type[_E]) -> list[_E]:
        args: tuple[str, ...] = () if kind is None else (kind.value,)
        found = (
            model.model_validate_json(body)
            for chunk in _chunks(ids)
            for (body,) in self._db.execute(query, (json.dumps(chunk), *args))
        )
        return list(found)

    def project_owners(self) -> dict[str, str]:
        return dict(self._db.execute(PROJECT_OWNERS).fetchall())

    def risk_seek(
        self, dimension: Dimension, seeks: Sequence[RiskSeek], limit: int, country: str | None
    ) -> list[RiskHit]:
        alike: dict[tuple[str, int], list[RiskSeek]] = defaultdict(list)
        for seek in seeks:
            alike[seek.code, seek.tag].append(seek)
        hits: list[RiskHit] = []
        for (code, tag), group in alike.items():
            walked = (
                self._walk_risk(dimension, code, tag, group, limit, country)
                if len(group) > _SEEK_EACH_UP_TO
                else None
            )
            if walked is not None:
                hits.extend(walked)
                continue
            for seek in group:
                scope = None if seek.projects is None else _json(seek.projects)
                rows = self._db.execute(
                    RISK_SEEK, (seek.engager, dimension.value, code, scope, scope, country, country, limit)
                )
                hits.extend(RiskHit(tag, cohort_id, -rank) for rank, cohort_id in rows)
        return best_hits(hits, limit)

    def _walk_risk(
        self,
        dimension: Dimension,
        code: str,
        tag: int,
        seeks: list[RiskSeek],
        limit: int,
        country: str | None,
    ) -> list[RiskHit] | None:
        """The best ``limit`` cohorts any of the seeks would find, from one walk of the risk
        in rank order across every engager; None if that walk reads more than
        _WALK_AT_MOST rows (the seeks' engagers hold few of them), for seeking each instead."""
        scopes: dict[str, list[tuple[str, ...] | None]] = defaultdict(list)
        for seek in seeks:
            scopes[seek.engager].append(seek.projects)
        found: dict[str, RiskHit] = {}
        rows = self._db.execute(RISK_IN_RANK, (dimension.value, code, country, country))
        for read, (engager, project, rank, cohort_id) in enumerate(rows):
            if read == _WALK_AT_MOST:
                return None
            if cohort_id in found or engager not in scopes:
                continue
            if any(p is None or not project or project in p for p in scopes[engager]):
                found[cohort_id] = RiskHit(tag, cohort_id, -rank)
                if len(found) == limit:
                    break
        return list(found.values())

    def engaged(
        self, organization_ids: Collection[str], projects: Collection[str] | None
    ) -> list[EngagedCohort]:
        scope = None if projects is None else _json(projects)
        risks: dict[str, set[tuple[Dimension, str]]] = defaultdict(set)
        rows = []
        for chunk in _chunks(organization_ids):
            ids = json.dumps(chunk)
            for cohort_id, dimension, code in self._db.execute(RISKS_OF_ENGAGED, (ids,)):
                risks[cohort_id].add((DIMENSION_OF[dimension], code))
            rows += self._db.execute(ENGAGED, (ids, scope, scope)).fetchall()
        return _engaged_rows(rows, risks)

    def engaged_totals(self, private_below: int) -> list[EngagedTotal]:
        codes: dict[tuple[str, str], tuple[tuple[Dimension, str], ...]] = {}
        parsed: dict[str, tuple[tuple[Dimension, str], ...]] = {}  # the same text, parsed once
        for org, project, joined in self._db.execute(RISK_TOTALS):
            found = parsed.get(joined)
            if found is None:
                pairs = (code.split(" ", 1) for code in joined.split(","))
                found = parsed[joined] = tuple(sorted((DIMENSION_OF[d], c) for d, c in pairs))
            codes[org, project] = found
        rows = self._db.execute(ENGAGED_TOTALS, (private_below, private_below)).fetchall()
        return [
            EngagedTotal(org, project, count, int(small), int(workers), codes.get((org, project), ()))
            for org, project, count, small, workers in sorted(rows)
        ]

    def shared_engaged(self) -> list[EngagedCohort]:
        risks: dict[str, set[tuple[Dimension, str]]] = defaultdict(set)
        for cohort_id, dimension, code in self._db.execute(RISKS_OF_SHARED):
            risks[cohort_id].add((DIMENSION_OF[dimension], code))
        return _engaged_rows(self._db.execute(SHARED_ENGAGED).fetchall(), risks)

    def everything(self) -> GraphData:
        with collector_paused():
            entities = [_ENTITY.validate_json(body) for (body,) in self._db.execute(ALL_ENTITIES)]
            links = [Link.model_validate_json(body) for (body,) in self._db.execute(ALL_LINKS)]
            return GraphData.of([*entities, *links])

    def skeleton(self) -> GraphData:
        with collector_paused():
            entities = [_ENTITY.validate_json(body) for (body,) in self._db.execute(SKELETON_ENTITIES)]
            links = [Link.model_validate_json(body) for (body,) in self._db.execute(ALL_SUPPLY_LINKS)]
            return GraphData.of([*entities, *links])

    # The streams below are a million rows on a large graph: each row becomes its tuple
    # type in C (tuple.__new__), not through a NamedTuple's Python constructor.
    def cohort_facts(self) -> Iterator[CohortFacts]:
        return map(partial(tuple.__new__, CohortFacts), self._db.execute(COHORT_FACTS))

    def condition_facts(self, cohort_ids: Collection[str] | None = None) -> Iterator[ConditionFacts]:
        if cohort_ids is None:
            rows: Iterable[tuple[str, str, str, str | None, str, str]] = self._db.execute(CONDITION_FACTS)
        else:
            rows = (
                row
                for chunk in _chunks(cohort_ids)
                for row in self._db.execute(CONDITION_FACTS_OF, (json.dumps(chunk),))
            )
        facts = partial(tuple.__new__, ConditionFacts)
        days: dict[str | None, date | None] = {None: None}  # a few thousand distinct dates
        for cohort_id, condition_id, status, dated, cites, grade in rows:
            day = days.get(dated, _NO_DAY)
            if day is _NO_DAY:
                day = days[dated] = _day(dated)
            yield facts(
                (
                    cohort_id,
                    DIMENSION_OF[condition_id.rpartition("/")[2]],
                    STATUS_OF[status],
                    day,
                    tuple(cites.split("|")) if cites else (),
                    GRADE_OF[grade],
                )
            )

    def engagements(self) -> Iterator[Engagement]:
        return map(partial(tuple.__new__, Engagement), self._db.execute(ENGAGEMENTS))

    def source_dates(self) -> dict[str, date | None]:
        return {source_id: _day(dated) for source_id, dated in self._db.execute(SOURCE_DATES)}

    # pydantic's JSON parser reads a body in half the time the standard library's takes.
    def entity_records(self, private_below: int = 0) -> Iterator[StoredEntity]:
        stored = partial(tuple.__new__, StoredEntity)
        for kind, entity_id, body in self._db.execute(ENTITY_RECORDS, (private_below, private_below)):
            yield stored((_KINDS[kind], entity_id, from_json(body, cache_strings="keys")))

    def link_records(self, private_below: int = 0) -> Iterator[StoredLink]:
        stored = partial(tuple.__new__, StoredLink)
        for from_id, link_type, to_id, body in self._db.execute(LINK_RECORDS, (private_below,)):
            yield stored((from_id, _LINK_TYPES[link_type], to_id, from_json(body, cache_strings="keys")))

    def benchmarks(self) -> list[Benchmark]:
        return [Benchmark.model_validate_json(body) for (body,) in self._db.execute(BENCHMARKS)]

    def benchmark_takers(self, countries: Collection[str] | None) -> list[PayAtPlace]:
        scope = None if countries is None else _json(countries)
        rows = self._db.execute(BENCHMARK_TAKERS, (scope, scope))
        return [
            PayAtPlace(Condition.model_validate_json(body), country, region) for body, country, region in rows
        ]

"""The Neo4j store: the store contract answered by a Neo4j 5 server, cluster or Aura.

How the graph lies in the database:

    (:Entity:Organization {id, name, kinds, country, ..., extra_<column>: value})
    (:Entity:Unit {id, organization_id, ...})     and likewise Cohort, Condition, Decision, Source
    (a:Entity)-[:CONTRACTS|SUBCONTRACTS|SOURCES_VIA|ENGAGES {project, since, ...}]->(b:Entity)

Every node carries ``:Entity`` (ids are unique across kinds) and the label of its kind;
``project`` on a link is its key part, ``""`` when the link has none. References that are
not links (unit → organization, decision → unit and organization, condition → cohort) stay
indexed properties, exactly as the model holds them.

Beside the model, the store keeps for itself, and never reads back as a record:

    derived_* on each ENGAGES link   risk keys for ranking (graph.neo4j_risk)
    (:LaborgraphState {key: "graph", version, risk_keys})
                                     a new version token on every write, and the layout
                                     of the risk keys every link carries

Every query below is written once, with values passed only as parameters; labels and
relationship types come from the vocabulary, never from data.
"""

from __future__ import annotations

import gc
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from enum import Enum
from functools import cache
from itertools import compress, islice
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from neo4j import (
    READ_ACCESS,
    Driver,
    GraphDatabase,
    ManagedTransaction,
    NotificationDisabledCategory,
    Result,
    RoutingControl,
    Session,
)
from neo4j import Record as Neo4jRecord
from neo4j.exceptions import (
    AuthError,
    ConfigurationError,
    CypherSyntaxError,
    Forbidden,
    IncompleteCommit,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)
from neo4j.time import Date as Neo4jDate
from pydantic import TypeAdapter

from graph.analysis.paths import PathQuery, reached_engagers, select_decisions, walk_groups
from graph.analysis.ranking import ALL_DIMENSIONS, DIMENSION_BIT
from graph.analysis.traverse import check_depth
from graph.collector import collector_paused
from graph.errors import (
    BundleIssue,
    ConfigError,
    GraphError,
    InvalidBundle,
    InvalidQuery,
    NotFound,
    StoreUnavailable,
)
from graph.model import (
    Cohort,
    Condition,
    Decision,
    Entity,
    GraphData,
    Link,
    LinkKey,
    Organization,
    Record,
    Unit,
)
from graph.neo4j_risk import (
    COHORTS_WITH_CONDITIONS,
    DERIVED_PREFIX,
    ENGAGES_RISK_INDEXES,
    REFRESH_RISKS,
    new_link_risks,
    ranked_cohorts,
)
from graph.scoring import ScoringConfig
from graph.store import MAX_DEPTH, EntityPage
from graph.view import AnyEntity, GraphView
from graph.vocabulary import SUPPLY_LINKS, EntityKind, LinkType, OrgKind

BATCH_SIZE = 5_000  # rows per UNWIND; every batch of one write runs in the same transaction
EXTRA_PREFIX = "extra_"  # kept bundle columns never collide with core properties
_ENTITY = TypeAdapter(Entity)

LABELS: dict[EntityKind, str] = {kind: kind.value.capitalize() for kind in EntityKind}
_KIND_OF_LABEL = {label: kind for kind, label in LABELS.items()}
_SUPPLY = "|".join(SUPPLY_LINKS)
_ALL_LINKS = "|".join(LinkType)
STATE = "LaborgraphState"  # the label of the one node beside the model (see NEW_VERSION)

# -- schema ---------------------------------------------------------------------------

SCHEMA: tuple[str, ...] = (
    "CREATE CONSTRAINT laborgraph_entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.id IS UNIQUE",
    *(
        f"CREATE CONSTRAINT laborgraph_{kind.value}_id IF NOT EXISTS FOR (n:{label}) REQUIRE n.id IS UNIQUE"
        for kind, label in LABELS.items()
    ),
    "CREATE INDEX laborgraph_unit_organization IF NOT EXISTS FOR (n:Unit) ON (n.organization_id)",
    "CREATE INDEX laborgraph_decision_unit IF NOT EXISTS FOR (n:Decision) ON (n.unit_id)",
    "CREATE INDEX laborgraph_decision_applies_to IF NOT EXISTS FOR (n:Decision) ON (n.applies_to)",
    "CREATE INDEX laborgraph_condition_cohort IF NOT EXISTS FOR (n:Condition) ON (n.cohort_id)",
    *ENGAGES_RISK_INDEXES,
    f"CREATE CONSTRAINT laborgraph_state_key IF NOT EXISTS FOR (s:{STATE}) REQUIRE s.key IS UNIQUE",
)

# -- writes ---------------------------------------------------------------------------
#
# A write first asks which of its ids the graph holds. An entity under a new id is
# CREATEd: no index seek and no lock on a missing key, a quarter to a third less server
# work than MERGE. The uniqueness constraints still fail the whole write if another writer
# took the id meanwhile. A link with a new end cannot exist yet, so it is created as well.
# Stored ids, and ids or link keys a write names twice, go through MERGE. Every statement
# returns how many rows it wrote, so a link whose end has gone is never dropped silently.
#
# New entities of every kind go through one statement, and new links of every type
# through another: each distinct statement costs the server a plan, which on a small
# bundle is most of the work. Their label or type is a parameter, always one of LABELS
# or LinkType, never data; creating needs no index on it. MERGE finds nodes by the
# index of their label, so it keeps one statement per label.

CREATE_ENTITIES = """
UNWIND $rows AS row
CREATE (n:Entity:$(row.label) {id: row.id})
SET n += row.props
RETURN count(n) AS written
"""

CREATE_LINKS = """
UNWIND $rows AS row
MATCH (a:Entity {id: row.from_id})
MATCH (b:Entity {id: row.to_id})
CREATE (a)-[r:$(row.type)]->(b)
SET r += row.props
RETURN count(r) AS written
"""


def _merge_entity_query(label: str) -> str:
    # A record of another kind under an existing id breaks the :Entity constraint, so the
    # whole write fails instead of an entity silently changing kind. On a match, the node
    # takes only the fields the new record carries (graph.view.merge).
    return f"""
UNWIND $rows AS row
MERGE (n:{label} {{id: row.id}})
ON CREATE SET n:Entity, n += row.carried, n += row.defaults
ON MATCH SET n += row.carried
RETURN count(n) AS written
"""


def _merge_link_query(link_type: LinkType) -> str:
    return f"""
UNWIND $rows AS row
MATCH (a:Entity {{id: row.from_id}})
MATCH (b:Entity {{id: row.to_id}})
MERGE (a)-[r:{link_type} {{project: row.project}}]->(b)
ON CREATE SET r += row.carried, r += row.defaults
ON MATCH SET r += row.carried
RETURN count(r) AS written
"""


MERGE_ENTITY: dict[EntityKind, str] = {kind: _merge_entity_query(LABELS[kind]) for kind in EntityKind}
MERGE_LINK: dict[LinkType, str] = {link_type: _merge_link_query(link_type) for link_type in LinkType}

# One chunk per transaction, so wiping a large graph never needs one huge transaction.
WIPE_CHUNK = """
MATCH (n:Entity)
WITH n LIMIT 10000
DETACH DELETE n
RETURN count(*) AS deleted
"""

# One node beside the model holds the graph's version, a new token on every write: a client
# may keep what it read (see _Skeleton) while the token stays the same. It also records the
# layout of the risk keys every stored ENGAGES link carries (graph.neo4j_risk): a database
# written before they existed, or in an older layout, is keyed again when a store opens it.
RISK_KEYS_LAYOUT = 1
NEW_VERSION = f"MERGE (s:{STATE} {{key: 'graph'}}) SET s.version = randomUUID()"
STATE_OF_GRAPH = (
    f"OPTIONAL MATCH (s:{STATE} {{key: 'graph'}}) RETURN s.version AS version, s.risk_keys AS layout"
)
ALL_COHORT_IDS = "MATCH (c:Cohort) RETURN c.id AS id"
LAYOUT_DONE = f"MERGE (s:{STATE} {{key: 'graph'}}) SET s.risk_keys = $layout, s.version = randomUUID()"

# -- reads ----------------------------------------------------------------------------

PING = "RETURN 1 AS ok"

ENTITY_BY_ID = "MATCH (n:Entity {id: $id}) RETURN labels(n) AS labels, properties(n) AS props"

KINDS_BY_ID = """
UNWIND $ids AS id
MATCH (n:Entity {id: id})
RETURN n.id AS id, labels(n) AS labels
"""

ENTITIES_BY_ID = """
UNWIND $ids AS id
MATCH (n:Entity {id: id})
RETURN labels(n) AS labels, properties(n) AS props
"""

_NAME_MATCHES = (
    "($text IS NULL OR (toLower(coalesce(n.name, n.title)) CONTAINS toLower($text)"
    " AND coalesce(n.headcount >= $private_below, true)))"
)
PAGE_TOTAL: dict[EntityKind, str] = {
    kind: f"MATCH (n:{label}) WHERE {_NAME_MATCHES} RETURN count(n) AS total"
    for kind, label in LABELS.items()
}
PAGE_ITEMS: dict[EntityKind, str] = {
    kind: f"""
MATCH (n:{label})
WHERE n.id IS NOT NULL AND {_NAME_MATCHES}
RETURN labels(n) AS labels, properties(n) AS props
ORDER BY n.id SKIP $offset LIMIT $limit
"""
    for kind, label in LABELS.items()
}

# Label and type counts come from Neo4j's count store: constant time on any graph size.
COUNTS = "RETURN " + ", ".join(
    [f"COUNT {{ (:{label}) }} AS {kind.value}" for kind, label in LABELS.items()]
    + [" + ".join(f"COUNT {{ ()-[:{link_type}]->() }}" for link_type in LinkType) + " AS links"]
)

ALL_ENTITIES = "MATCH (n:Entity) RETURN labels(n) AS labels, properties(n) AS props"

_LINK_COLUMNS = "a.id AS from_id, type(r) AS type, b.id AS to_id, properties(r) AS props"
ALL_LINKS = f"MATCH (a:Entity)-[r:{_ALL_LINKS}]->(b:Entity) RETURN {_LINK_COLUMNS}"


def _props(variable: str, model: type[Record]) -> str:
    """The properties of a node or link holding a ``model``, with its date fields as ISO
    text: pydantic reads that back as dates, and the driver's own date objects, decoded in
    pure Python, cost a question more than the rest of its records."""
    dates = [name for name, field in model.model_fields.items() if field.annotation == date | None]
    if not dates:
        return f"properties({variable})"
    return f"{variable} {{.*, " + ", ".join(f"{name}: toString({variable}.{name})" for name in dates) + "}"


# Every organization, unit and decision, and every supply link (see _Skeleton), in one row:
# a hundred thousand rows would cost the driver three times as long.
SKELETON = f"""
CALL () {{
    MATCH (n:{LABELS[EntityKind.organization]}|{LABELS[EntityKind.unit]}|{LABELS[EntityKind.decision]})
    RETURN collect([labels(n), properties(n)]) AS entities
}}
CALL () {{
    MATCH (a:Entity)-[r:{_SUPPLY}]->(b:Entity)
    RETURN collect([a.id, type(r), b.id, {_props("r", Link)}]) AS links
}}
RETURN entities, links
"""

# Cohorts with the links into them and their conditions: a page's cohorts in one round trip,
# and in one row (see graph.neo4j_risk.RANKED_BY_DIMENSION).
COHORTS_WITH_CONTEXT = f"""
UNWIND $ids AS id
MATCH (c:Cohort {{id: id}})
RETURN collect([
    {_props("c", Cohort)},
    COLLECT {{ MATCH (a:Entity)-[r:{LinkType.ENGAGES}]->(c) RETURN [a.id, {_props("r", Link)}] }},
    COLLECT {{ MATCH (k:Condition {{cohort_id: id}}) RETURN {_props("k", Condition)} }}
]) AS cohorts
"""

# One breadth-first level: every link out of (or into) the frontier. ENGAGES comes along
# downstream so the cohorts of every organization reached arrive in the same round trip.
# $projects: the projects a walk may follow besides unscoped links; null follows every link.
LINKS_OUT_OF = f"""
UNWIND $ids AS id
MATCH (a:Entity {{id: id}})-[r:{_ALL_LINKS}]->(b:Entity)
USING INDEX SEEK a:Entity(id)
WHERE $projects IS NULL OR r.project = "" OR r.project IN $projects
RETURN {_LINK_COLUMNS}
"""
SUPPLY_LINKS_INTO = f"""
UNWIND $ids AS id
MATCH (a:Entity)-[r:{_SUPPLY}]->(b:Entity {{id: id}})
USING INDEX SEEK b:Entity(id)
WHERE $projects IS NULL OR r.project = "" OR r.project IN $projects
RETURN {_LINK_COLUMNS}
"""
ENGAGES_INTO = f"""
UNWIND $ids AS id
MATCH (a:Entity)-[r:{LinkType.ENGAGES}]->(b:Entity {{id: id}})
USING INDEX SEEK b:Entity(id)
RETURN {_LINK_COLUMNS}
"""


UNITS_OF_ORGANIZATIONS = """
UNWIND $ids AS id
MATCH (n:Unit {organization_id: id})
RETURN labels(n) AS labels, properties(n) AS props
"""
DECISIONS_BY_UNITS = """
UNWIND $ids AS id
MATCH (n:Decision {unit_id: id})
RETURN labels(n) AS labels, properties(n) AS props
"""
DECISIONS_APPLYING_TO = """
UNWIND $ids AS id
MATCH (n:Decision {applies_to: id})
RETURN labels(n) AS labels, properties(n) AS props
"""
CONDITIONS_OF_COHORTS = """
UNWIND $ids AS id
MATCH (n:Condition {cohort_id: id})
RETURN labels(n) AS labels, properties(n) AS props
"""
SOURCES_BY_ID = """
UNWIND $ids AS id
MATCH (n:Source {id: id})
RETURN labels(n) AS labels, properties(n) AS props
"""

# A project belongs to the buyer whose CONTRACTS link carries it; if the data names two
# owners, the smallest id wins so every view agrees.
PROJECT_OWNERS = f"""
MATCH (a:Entity)-[r:{LinkType.CONTRACTS}]->(:Entity)
WHERE r.project <> ""
RETURN r.project AS project, min(a.id) AS owner
"""

# -- record <-> properties -------------------------------------------------------------

Props = dict[str, Any]
_E = TypeVar("_E", bound=Record)
_T = TypeVar("_T")
_LINK_KEY_FIELDS = frozenset({"from_id", "to_id", "type", "project"})
_ENTITY_KEY_FIELDS = frozenset({"entity", "id"})  # CREATE and MERGE set the id


_TRAVELS_AS_IT_IS = frozenset({str, int, float, bool, date, type(None)})


def _to_neo4j(value: object) -> object:
    if type(value) in _TRAVELS_AS_IT_IS:  # most values: one set look-up on the hot path
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_to_neo4j(item) for item in value]
    return value


def _from_neo4j(value: object) -> object:
    if isinstance(value, Neo4jDate):
        return value.to_native()
    return value


def _record_props(record: Record, skip: frozenset[str]) -> tuple[Props, Props]:
    """(carried, defaults) of a record, as Neo4j properties.

    ``carried`` holds the fields the record carries (a None removes the property) and its
    extras; ``defaults`` the values of the fields it leaves out. A new node gets both; an
    existing one only ``carried``, which is exactly ``graph.view.merge``.
    """
    values, given = vars(record), record.model_fields_set
    carried: Props = {}
    defaults: Props = {}
    for name in _stored_fields(type(record), skip):
        value = values[name]
        if name in given:
            carried[name] = _to_neo4j(value)
        elif value is not None:
            defaults[name] = _to_neo4j(value)
    for key, value in record.extra.items():
        carried[EXTRA_PREFIX + key] = value
    return carried, defaults


def _new_props(record: Record, skip: frozenset[str]) -> Props:
    """A new node's or link's properties: every field that has a value, and the extras."""
    values = vars(record)
    fields = _stored_fields(type(record), skip)
    props = {name: _to_neo4j(values[name]) for name in fields if values[name] is not None}
    for key, value in record.extra.items():
        props[EXTRA_PREFIX + key] = value
    return props


@cache
def _stored_fields(model: type[Record], skip: frozenset[str]) -> tuple[str, ...]:
    return tuple(name for name in model.model_fields if name not in skip and name != "extra")


def _entity_row(entity: AnyEntity) -> Props:
    carried, defaults = _record_props(entity, _ENTITY_KEY_FIELDS)
    return {"id": entity.id, "carried": carried, "defaults": defaults}


def _new_entity_row(entity: AnyEntity) -> Props:
    props = _new_props(entity, _ENTITY_KEY_FIELDS)
    return {"id": entity.id, "label": LABELS[entity.entity], "props": props}


def _link_row(link: Link) -> Props:
    carried, defaults = _record_props(link, _LINK_KEY_FIELDS)
    return {
        "from_id": link.from_id,
        "to_id": link.to_id,
        "project": link.project or "",
        "carried": carried,
        "defaults": defaults,
    }


def _new_link_row(link: Link, risks: dict[LinkKey, Props]) -> Props:
    props = _new_props(link, _LINK_KEY_FIELDS)
    props["project"] = link.project or ""
    props.update(risks.get(link.key, ()))
    return {"from_id": link.from_id, "type": link.type.value, "to_id": link.to_id, "props": props}


def _write_statements(
    data: GraphData, times_named: Counter[str], stored: Collection[str], risks: dict[LinkKey, Props]
) -> Iterator[tuple[str, Iterator[Props]]]:
    """Each statement of a write with its rows, which are built only as they are sent."""
    entities, links = data.entities(), data.links
    new = [times_named[entity.id] == 1 and entity.id not in stored for entity in entities]
    yield CREATE_ENTITIES, map(_new_entity_row, compress(entities, new))
    known = list(compress(entities, [not is_new for is_new in new]))
    for kind in EntityKind:
        yield MERGE_ENTITY[kind], map(_entity_row, [entity for entity in known if entity.entity is kind])
    times_linked = Counter(link.key for link in links)
    # A link with an end this write creates cannot be stored yet.
    new = [
        times_linked[link.key] == 1 and not (link.from_id in stored and link.to_id in stored)
        for link in links
    ]
    yield CREATE_LINKS, (_new_link_row(link, risks) for link in compress(links, new))
    known_links = list(compress(links, [not is_new for is_new in new]))
    for link_type in LinkType:
        yield MERGE_LINK[link_type], map(_link_row, [link for link in known_links if link.type is link_type])


def _split_props(props: Props) -> tuple[Props, Props]:
    fields: Props = {}
    extra: Props = {}
    for key, value in props.items():
        if value is None:  # never stored: a date field _props asked for that the record lacks
            continue
        if key.startswith(EXTRA_PREFIX):
            extra[key.removeprefix(EXTRA_PREFIX)] = value
        elif not key.startswith(DERIVED_PREFIX):
            fields[key] = _from_neo4j(value)
    return fields, extra


def _kind(labels: Iterable[str]) -> EntityKind:
    for label in labels:
        if label in _KIND_OF_LABEL:
            return _KIND_OF_LABEL[label]
    raise GraphError(f"a Neo4j node has no laborgraph kind among its labels {sorted(labels)}")


def _entity(labels: Iterable[str], props: Props) -> AnyEntity:
    kind = _kind(labels)
    fields, extra = _split_props(props)
    if kind is EntityKind.condition:
        fields.pop("id", None)
    return _ENTITY.validate_python({**fields, "entity": kind, "extra": extra})


def _link(from_id: str, link_type: str, to_id: str, props: Props) -> Link:
    fields, extra = _split_props(props)
    fields["project"] = fields.get("project") or None
    return Link.model_validate(
        {**fields, "from_id": from_id, "to_id": to_id, "type": link_type, "extra": extra}
    )


def _entities(records: Iterable[Neo4jRecord]) -> list[AnyEntity]:
    return [_entity(record["labels"], record["props"]) for record in records]


def _of_type(cls: type[_E], records: Iterable[Neo4jRecord]) -> list[_E]:
    return [entity for entity in _entities(records) if isinstance(entity, cls)]


def _links(records: Iterable[Neo4jRecord]) -> list[Link]:
    return [_link(record["from_id"], record["type"], record["to_id"], record["props"]) for record in records]


def _batches(rows: Iterable[_T]) -> Iterator[list[_T]]:
    remaining = iter(rows)
    while batch := list(islice(remaining, BATCH_SIZE)):
        yield batch


def _graph_data(entities: Iterable[AnyEntity], links: list[Link]) -> GraphData:
    sections: dict[EntityKind, list[Any]] = {kind: [] for kind in EntityKind}
    for entity in entities:
        sections[entity.entity].append(entity)
    return GraphData(
        organizations=sections[EntityKind.organization],
        units=sections[EntityKind.unit],
        cohorts=sections[EntityKind.cohort],
        conditions=sections[EntityKind.condition],
        decisions=sections[EntityKind.decision],
        sources=sections[EntityKind.source],
        links=links,
    )


def _without_credentials(uri: str) -> str:
    parts = urlsplit(uri)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


_OUT_OF_TRANSACTION_MEMORY = "Neo.TransientError.General.MemoryPoolOutOfMemoryError"
_DATABASE_NOT_FOUND = "Neo.ClientError.Database.DatabaseNotFound"


# -- the store -------------------------------------------------------------------------


class Neo4jStore:
    backend = "neo4j"

    def __init__(
        self,
        uri: str,
        *,
        user: str,
        password: str,
        database: str = "neo4j",
        connection_timeout: float = 5.0,
        max_retry_time: float = 5.0,
    ) -> None:
        """Connect, check the server answers, and create the schema if it is missing.

        ``max_retry_time`` bounds the driver's own retries of a transaction that failed
        transiently (a cluster electing a leader, a dropped connection): long enough to
        ride out a failover, short enough that a request to a dead server fails in seconds.
        """
        self.uri = uri
        self.database = database
        self._skeleton: _Skeleton | None = None
        self._skeleton_lock = threading.Lock()
        try:
            self._driver: Driver = GraphDatabase.driver(
                uri,
                auth=(user, password),
                connection_timeout=connection_timeout,
                max_transaction_retry_time=max_retry_time,
                # An empty graph lacks the link types and property keys the queries name;
                # that is expected, not worth a logged warning on every read (Neo4j >= 5.7).
                notifications_disabled_categories=[NotificationDisabledCategory.UNRECOGNIZED],
            )
        except (ConfigurationError, ValueError) as exc:
            raise ConfigError(f"cannot use the Neo4j URI {self.describe()}: {exc}") from exc
        try:
            with self._translated("connect to"):
                self._driver.verify_connectivity()
                for statement in SCHEMA:  # idempotent: IF NOT EXISTS
                    self._run_write(statement)
                if self._run_read(STATE_OF_GRAPH)[0]["layout"] != RISK_KEYS_LAYOUT:
                    self._key_every_cohort()
        except GraphError:
            self._driver.close()
            raise

    # -- contract -------------------------------------------------------------------

    def describe(self) -> str:
        return f"{_without_credentials(self.uri)} (database {self.database!r})"

    def ping(self) -> None:
        # One attempt, no retries: a health check must answer now.
        with (
            self._translated("reach"),
            self._driver.session(database=self.database, default_access_mode=READ_ACCESS) as session,
        ):
            session.run(PING).consume()

    def close(self) -> None:
        self._driver.close()

    def wipe(self) -> None:
        """Delete every laborgraph node and link (the schema stays)."""
        self._run_write(NEW_VERSION)  # and again at the end: a wipe cut short has changed the graph
        deleted = 1
        while deleted:
            records = self._run_write(WIPE_CHUNK)
            deleted = records[0]["deleted"]
        self._run_write(NEW_VERSION)

    def _key_every_cohort(self) -> None:
        """Give every stored ENGAGES link its risk keys, a transaction per batch of cohorts
        (about a minute per million links), then record the layout."""
        cohort_ids = [record["id"] for record in self._run_read(ALL_COHORT_IDS)]
        for batch in _batches(cohort_ids):
            self._run_write(REFRESH_RISKS, ids=batch)
        self._run_write(LAYOUT_DONE, layout=RISK_KEYS_LAYOUT)

    def project_owners(self) -> dict[str, str]:
        return {record["project"]: record["owner"] for record in self._run_read(PROJECT_OWNERS)}

    def kinds_of(self, ids: Collection[str]) -> dict[str, EntityKind]:
        records = self._run_read(KINDS_BY_ID, ids=list(ids))
        return {record["id"]: _kind(record["labels"]) for record in records}

    def write(self, data: GraphData) -> None:
        times_named = Counter(entity.id for entity in data.entities())
        named = set(times_named)
        ends = {entity_id for link in data.links for entity_id in (link.from_id, link.to_id)}
        ids = sorted(named | ends)
        # Cohorts whose links' risk keys this write may change (see graph.neo4j_risk).
        touched = sorted(
            {c.id for c in data.cohorts}
            | {c.cohort_id for c in data.conditions}
            | {link.to_id for link in data.links if link.type is LinkType.ENGAGES}
        )

        def work(tx: ManagedTransaction) -> None:
            stored = {record["id"] for batch in _batches(ids) for record in tx.run(KINDS_BY_ID, ids=batch)}
            missing = sorted(ends - named - stored)
            if missing:  # raising here rolls the whole transaction back
                raise InvalidBundle(
                    [
                        BundleIssue(
                            file="links.csv",
                            message=f"{entity_id!r} is neither in the bundle nor in the graph",
                        )
                        for entity_id in missing
                    ]
                )
            created = [c.id for c in data.cohorts if times_named[c.id] == 1 and c.id not in stored]
            orphans = {
                r["id"] for batch in _batches(created) for r in tx.run(COHORTS_WITH_CONDITIONS, ids=batch)
            }
            risks, keyed = new_link_risks(data, set(created) - orphans)
            # Each result is read only once the next batch is sent, so the next rows are
            # built while the server still writes the last ones.
            sent: list[tuple[Result, int]] = []
            for query, rows in _write_statements(data, times_named, stored, risks):
                for batch in _batches(rows):
                    sent.append((tx.run(query, rows=batch), len(batch)))
                    if len(sent) > 1:
                        self._check_written(*sent.pop(0))
            for result, rows_sent in sent:
                self._check_written(result, rows_sent)
            for cohorts in _batches(cohort for cohort in touched if cohort not in keyed):
                tx.run(REFRESH_RISKS, ids=cohorts).consume()
            tx.run(NEW_VERSION).consume()

        with self._translated("write to"), self._session() as session:
            session.execute_write(work)

    def _check_written(self, result: Result, rows_sent: int) -> None:
        written = result.single(strict=True)["written"]
        if written != rows_sent:  # only a link can miss: an end deleted during the write
            raise GraphError(
                f"Neo4j at {self.describe()} found the ends of only {written} of {rows_sent} links:"
                " an entity was deleted during the write, so nothing was written"
            )

    def get(self, entity_id: str) -> AnyEntity:
        records = self._run_read(ENTITY_BY_ID, id=entity_id)
        if not records:
            raise NotFound(entity_id)
        return _entity(records[0]["labels"], records[0]["props"])

    def page(
        self,
        kind: EntityKind,
        *,
        offset: int = 0,
        limit: int = 50,
        text: str | None = None,
        private_below: int = 0,
    ) -> EntityPage:
        if offset < 0 or limit < 0:
            raise InvalidQuery(f"offset and limit cannot be negative (got {offset}, {limit})")

        def work(tx: ManagedTransaction) -> EntityPage:
            search = {"text": text or None, "private_below": private_below}
            total = tx.run(PAGE_TOTAL[kind], search).single(strict=True)["total"]
            records = tx.run(PAGE_ITEMS[kind], search, offset=offset, limit=limit)
            return EntityPage(total=total, offset=offset, limit=limit, items=_entities(records))

        with self._translated("read from"), self._session() as session:
            return session.execute_read(work)

    def counts(self) -> dict[EntityKind | str, int]:
        record = self._run_read(COUNTS)[0]
        counts: dict[EntityKind | str, int] = {kind: record[kind.value] for kind in EntityKind}
        counts["links"] = record["links"]
        return counts

    def view(self, around: str | None = None) -> GraphView:
        with self._translated("read from"), self._session() as session:
            return session.execute_read(_load_view, around)

    def path_view(self, query: PathQuery, config: ScoringConfig) -> GraphView:
        if not (query.origin and query.target is None and query.project is None and query.limit):
            # A cohort's upstream is small already; a project filter applies to whole paths
            # and an unbounded query wants every path: these get the question's whole region.
            return self.view(query.around)
        check_depth(query.depth)
        with self._translated("read from"), self._session() as session:
            return session.execute_read(self._load_path_view, query, config)

    def _load_path_view(self, tx: ManagedTransaction, query: PathQuery, config: ScoringConfig) -> GraphView:
        """The region a page of risk paths from an organization, unit or decision needs."""
        version = tx.run(STATE_OF_GRAPH).single(strict=True)["version"]
        with self._skeleton_lock:  # after a write, one request reads the new skeleton
            skeleton = self._skeleton
            if skeleton is None or skeleton.version != version:
                skeleton = self._skeleton = _Skeleton.load(tx, version)
        view = skeleton.for_question()
        origin = str(query.origin)
        focus = (
            view.decisions.get(origin)
            or view.units.get(origin)
            or view.graph.nodes.get(origin, {}).get("entity")
        )
        if not isinstance(focus, Organization | Unit | Decision):
            return _load_view(tx, origin)  # the tracer refuses it, in the same words on both stores
        return _ranked_region(tx, view, focus, query, config)

    # -- driver plumbing ------------------------------------------------------------

    def _session(self) -> Session:
        # Sharing execute_query's bookmark manager gives read-your-writes on a cluster.
        return self._driver.session(
            database=self.database,
            bookmark_manager=self._driver.execute_query_bookmark_manager,
        )

    def _run_read(self, query: str, **parameters: Any) -> list[Neo4jRecord]:
        with self._translated("read from"):
            result = self._driver.execute_query(
                query,
                parameters_=parameters,
                database_=self.database,
                routing_=RoutingControl.READ,
            )
        return list(result.records)

    def _run_write(self, query: str, **parameters: Any) -> list[Neo4jRecord]:
        with self._translated("write to"):
            result = self._driver.execute_query(query, parameters_=parameters, database_=self.database)
        return list(result.records)

    @contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        """Translate driver errors into the error tree; our own Cypher bugs stay loud."""
        where = self.describe()
        try:
            yield
        except CypherSyntaxError:
            raise  # a bug in our own Cypher: never disguised as an outage
        except ConfigurationError as exc:
            raise ConfigError(f"cannot use Neo4j at {where}: {exc}") from exc
        except IncompleteCommit as exc:
            raise StoreUnavailable(
                f"lost the connection to Neo4j at {where} while committing; the write may or"
                f" may not have been applied: {exc}"
            ) from exc
        except (ServiceUnavailable, SessionExpired, TransientError) as exc:
            if getattr(exc, "code", None) == _OUT_OF_TRANSACTION_MEMORY:
                raise GraphError(
                    f"Neo4j at {where} has too little transaction memory for this write, which"
                    " runs as one transaction: raise dbms.memory.transaction.total.max or write"
                    f" the bundle in parts ({exc.message})"
                ) from exc
            raise StoreUnavailable(f"cannot {action} Neo4j at {where}: {exc}") from exc
        except (AuthError, Forbidden) as exc:
            raise StoreUnavailable(f"Neo4j at {where} refused access: {exc.message}") from exc
        except Neo4jError as exc:
            if exc.code == _DATABASE_NOT_FOUND:
                raise StoreUnavailable(f"Neo4j at {where}: {exc.message}") from exc
            raise GraphError(f"Neo4j at {where} refused to {action} it: {exc.code}: {exc.message}") from exc


# -- views ----------------------------------------------------------------------------


def _load_view(tx: ManagedTransaction, around: str | None) -> GraphView:
    """The whole graph, or the region a question about ``around`` needs (see GraphStore.view)."""
    owners = {r["project"]: r["owner"] for r in tx.run(PROJECT_OWNERS)}
    if around is None:
        entities = _entities(tx.run(ALL_ENTITIES))
        links = _links(tx.run(ALL_LINKS))
    else:
        found = tx.run(ENTITY_BY_ID, id=around).single()
        if found is None:
            raise NotFound(around)
        focus = _entity(found["labels"], found["props"])
        if focus.entity in (EntityKind.cohort, EntityKind.condition):
            entities, links = _upstream_region(tx, focus)
        elif focus.entity in (EntityKind.organization, EntityKind.unit, EntityKind.decision):
            entities, links = _downstream_region(tx, focus, owners)
        else:  # a source: no question is about one, so it gets the whole graph
            entities = _entities(tx.run(ALL_ENTITIES))
            links = _links(tx.run(ALL_LINKS))
    view = GraphView.of(_graph_data(entities, links))
    view.project_owner = owners
    return view


@dataclass(frozen=True)
class _Origin:
    """What a question from an organization, unit or decision starts with."""

    units: list[Unit]
    decisions: list[Decision]
    makers: list[Organization]  # the organizations whose units made the decisions
    projects: list[str] | None  # the links below them a walk may follow (None: every link)


def _origin(tx: ManagedTransaction, focus: AnyEntity, owners: dict[str, str]) -> _Origin:
    units: list[Unit]
    decisions: list[Decision]
    if isinstance(focus, Unit):
        units = [focus]
        decisions = _of_type(Decision, tx.run(DECISIONS_BY_UNITS, ids=[focus.id]))
    elif isinstance(focus, Decision):
        units = _of_type(Unit, tx.run(ENTITIES_BY_ID, ids=[focus.unit_id]))
        decisions = [focus]
    else:
        units = _of_type(Unit, tx.run(UNITS_OF_ORGANIZATIONS, ids=[focus.id]))
        decisions = _of_type(Decision, tx.run(DECISIONS_BY_UNITS, ids=[u.id for u in units]))
    makers = {u.organization_id for u in units} | ({focus.id} if isinstance(focus, Organization) else set())
    maker_orgs = _of_type(Organization, tx.run(ENTITIES_BY_ID, ids=sorted(makers)))
    return _Origin(units, decisions, maker_orgs, _walkable_projects(maker_orgs, owners))


def _walkable_projects(makers: list[Organization], owners: dict[str, str]) -> list[str] | None:
    """The projects a walk below these decision makers may follow besides unscoped links:
    buyers' own; None (every link) when a vendor is among them."""
    if not all(OrgKind.buyer in org.kinds for org in makers):
        return None
    ids = {org.id for org in makers}
    return sorted({project for project, owner in owners.items() if owner in ids})


def _downstream_region(
    tx: ManagedTransaction, focus: AnyEntity, owners: dict[str, str]
) -> tuple[list[AnyEntity], list[Link]]:
    """Decisions of an organization, unit or decision, and everything downstream of them.

    Only links these decisions (and the organization's tiers) can follow are walked: for
    buyers, unscoped links and their own projects. A shared vendor's work for other buyers'
    projects, often most of what lies below it, stays out of the region.
    """
    origin = _origin(tx, focus, owners)
    units, decisions, projects = origin.units, origin.decisions, origin.projects
    starts = {org.id for org in origin.makers} | {d.applies_to for d in decisions}
    organizations, cohorts, links = _walk_down(tx, starts, projects)
    nodes = _entities(tx.run(ENTITIES_BY_ID, ids=sorted(organizations | cohorts)))
    conditions = _entities(tx.run(CONDITIONS_OF_COHORTS, ids=sorted(cohorts)))
    entities = [*units, *decisions, *nodes, *conditions]
    return [*entities, *_sources_of(tx, entities, links)], links


def _walk_down(
    tx: ManagedTransaction, starts: set[str], projects: list[str] | None
) -> tuple[set[str], set[str], list[Link]]:
    """Organizations within MAX_DEPTH supply links below the starts, the cohorts they engage
    and the links among them."""

    def level(frontier: set[str]) -> list[Link]:
        return _links(tx.run(LINKS_OUT_OF, ids=sorted(frontier), projects=projects))

    organizations, links = _breadth_first(starts, level, downwards=True)
    cohorts = {link.to_id for link in links if link.type is LinkType.ENGAGES}
    # Links out of the last level may leave the region; every link within it stays.
    region = organizations | cohorts
    return organizations, cohorts, [link for link in links if link.to_id in region]


def _upstream_region(tx: ManagedTransaction, focus: AnyEntity) -> tuple[list[AnyEntity], list[Link]]:
    """Everything upstream of a cohort, the decisions that apply there, and who made them."""
    cohort_id = focus.cohort_id if isinstance(focus, Condition) else focus.id
    organizations, links = _walk_up(tx, [cohort_id], None)
    decisions = _of_type(Decision, tx.run(DECISIONS_APPLYING_TO, ids=sorted(organizations)))
    units = _of_type(Unit, tx.run(ENTITIES_BY_ID, ids=sorted({d.unit_id for d in decisions})))
    deciders = {u.organization_id for u in units}
    nodes = _entities(tx.run(ENTITIES_BY_ID, ids=sorted(organizations | deciders | {cohort_id})))
    conditions = _entities(tx.run(CONDITIONS_OF_COHORTS, ids=[cohort_id]))
    entities = [*decisions, *units, *nodes, *conditions]
    return [*entities, *_sources_of(tx, entities, links)], links


def _walk_up(
    tx: ManagedTransaction, cohort_ids: list[str], projects: list[str] | None
) -> tuple[set[str], list[Link]]:
    """Organizations within MAX_DEPTH supply links above the cohorts, and the links among them."""

    def level(frontier: set[str]) -> list[Link]:
        return _links(tx.run(SUPPLY_LINKS_INTO, ids=sorted(frontier), projects=projects))

    engages = _links(tx.run(ENGAGES_INTO, ids=cohort_ids))
    organizations, supply = _breadth_first({link.from_id for link in engages}, level, downwards=False)
    return organizations, [link for link in (*engages, *supply) if link.from_id in organizations]


def _breadth_first(
    starts: set[str], level: Callable[[set[str]], Iterable[Link]], *, downwards: bool
) -> tuple[set[str], list[Link]]:
    """Organizations within MAX_DEPTH supply links of the starts, below them or above, and
    every link ``level`` gives for each level's frontier. An ENGAGES link ends the walk."""
    organizations, links = set(starts), []
    frontier = starts
    for depth in range(MAX_DEPTH + 1):
        if not frontier:
            break
        reached = set()
        for link in level(frontier):
            far_end = link.to_id if downwards else link.from_id
            if link.type is not LinkType.ENGAGES and depth < MAX_DEPTH and far_end not in organizations:
                reached.add(far_end)
                organizations.add(far_end)
            links.append(link)
        frontier = reached
    return organizations, links


@dataclass(frozen=True)
class _Skeleton:
    """Every organization, unit and decision and every supply link: what a question walks
    before it reaches cohorts, a few percent of a large graph. The store keeps the last one
    read while the graph's version (a new token on every write) stays the same."""

    version: str | None
    view: GraphView

    @classmethod
    def load(cls, tx: ManagedTransaction, version: str | None) -> _Skeleton:
        found = tx.run(SKELETON).single(strict=True)
        with collector_paused():
            entities = [_entity(labels, props) for labels, props in found["entities"]]
            links = [_link(*link) for link in found["links"]]
            view = GraphView.of(_graph_data(entities, links))
        # The collector's first pass over it is paid here, not by a question (as EmbeddedStore).
        gc.collect()
        # The per-view indexes every question shares: links below each organization (filled
        # as walks reach them), projects by owner and decisions by organization.
        view.memo["below"] = {}
        view.projects_of("")
        view.decisions_of("")
        return cls(version, view)

    def for_question(self) -> GraphView:
        """The skeleton with a memo of its own, holding only the shared indexes: what one
        question derives stays with it."""
        return replace(self.view, memo=dict(self.view.memo))


def _ranked_region(
    tx: ManagedTransaction, skeleton: GraphView, focus: AnyEntity, query: PathQuery, config: ScoringConfig
) -> GraphView:
    """What the query's page of risk paths needs, and little more.

    The tracer's own walk over the skeleton finds which organizations each group of
    decisions reaches, and on which dimensions; the server then seeks the best ``offset +
    limit`` (cohort, dimension) pairs those organizations engage (graph.neo4j_risk). Each
    pair yields at least one path, so no other cohort can make the page. The view holds the
    organizations below the origin and those cohorts, and the tracer ranks and walks them
    again: both stores give the same answer from the same code.
    """
    decisions = select_decisions(skeleton, focus.id)
    unit_ids = {d.unit_id for d in decisions} | ({focus.id} if isinstance(focus, Unit) else set())
    units = [skeleton.units[unit_id] for unit_id in sorted(unit_ids)]
    makers = {u.organization_id for u in units} | ({focus.id} if isinstance(focus, Organization) else set())
    projects = _walkable_projects(_organizations(skeleton, makers), skeleton.project_owner)
    wanted = DIMENSION_BIT[query.dimension] if query.dimension else ALL_DIMENSIONS
    groups = walk_groups(skeleton, decisions)
    engagers = reached_engagers(skeleton, groups, query.depth, wanted)
    cohort_ids = ranked_cohorts(
        tx,
        [(org, None if scope is None else sorted(scope), bits) for (org, scope), bits in engagers.items()],
        config,
        min_severity=query.min_severity,
        wanted=wanted,
        country=query.country.upper() if query.country else None,
        need=query.offset + (query.limit or 0),
    )
    organizations, supply = _walk_skeleton(skeleton, makers | {d.applies_to for d in decisions}, projects)
    entities: list[AnyEntity] = [
        *units,
        *decisions,
        *_organizations(skeleton, organizations),
    ]
    links = list(supply)
    cohort_label, condition_label = [LABELS[EntityKind.cohort]], [LABELS[EntityKind.condition]]
    found = tx.run(COHORTS_WITH_CONTEXT, ids=cohort_ids).single(strict=True)["cohorts"]
    for props, engages, conditions in found:
        cohort = _entity(cohort_label, props)
        entities.append(cohort)
        entities.extend(_entity(condition_label, condition) for condition in conditions)
        links.extend(
            _link(engager, LinkType.ENGAGES, cohort.id, link_props)
            for engager, link_props in engages
            if engager in organizations
        )
    # No sources: a path cites its evidence by id, and only gaps and maps read sources.
    view = GraphView.of(_graph_data(entities, links))
    view.project_owner = dict(skeleton.project_owner)
    return view


def _organizations(skeleton: GraphView, ids: set[str]) -> list[Organization]:
    """Those of the organizations the skeleton holds (data written outside a validated
    ingest may name others), by id, as the server's look-up by id would find them."""
    nodes = skeleton.graph.nodes
    found = (nodes[org_id].get("entity") for org_id in sorted(ids) if org_id in nodes)
    return [entity for entity in found if isinstance(entity, Organization)]


def _walk_skeleton(
    skeleton: GraphView, starts: set[str], projects: list[str] | None
) -> tuple[set[str], list[Link]]:
    """What _walk_down finds on the server, found in the skeleton: organizations within
    MAX_DEPTH supply links below the starts, and the links among them."""
    allowed = None if projects is None else set(projects)

    def level(frontier: set[str]) -> list[Link]:
        return [
            link
            for org in sorted(frontier)
            if org in skeleton.graph
            for link in skeleton.out_links(org)
            if allowed is None or not link.project or link.project in allowed
        ]

    organizations, links = _breadth_first(starts, level, downwards=True)
    return organizations, [link for link in links if link.to_id in organizations]


def _sources_of(tx: ManagedTransaction, entities: list[AnyEntity], links: list[Link]) -> list[AnyEntity]:
    cited = {source_id for record in (*entities, *links) for source_id in record.source_ids}
    return _entities(tx.run(SOURCES_BY_ID, ids=sorted(cited)))

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
    (:LaborgraphDerived {key, value}) what GraphStore.remember keeps; every write deletes them

Every query below is written once, with values passed only as parameters; labels and
relationship types come from the vocabulary, never from data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from enum import Enum
from functools import cache
from itertools import compress, islice
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from neo4j import (
    READ_ACCESS,
    WRITE_ACCESS,
    Driver,
    GraphDatabase,
    ManagedTransaction,
    NotificationDisabledCategory,
    Result,
    RoutingControl,
    Session,
    Transaction,
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

from laborgraph.graph.errors import (
    BundleIssue,
    ConfigError,
    GraphChanged,
    GraphError,
    InvalidBundle,
    InvalidQuery,
    NotFound,
    StoreUnavailable,
)
from laborgraph.graph.model import (
    ENTITY_MODELS,
    Benchmark,
    Condition,
    Decision,
    Entity,
    GraphData,
    Link,
    LinkKey,
    Record,
    Unit,
)
from laborgraph.graph.neo4j_risk import (
    COHORTS_WITH_CONDITIONS,
    DERIVED_PREFIX,
    ENGAGES_RISK_INDEXES,
    RANKED_BY_DIMENSION,
    REFRESH_RISKS,
    new_link_risks,
)
from laborgraph.graph.store import (
    CohortFacts,
    ConditionFacts,
    EngagedCohort,
    Engagement,
    EntityPage,
    PayAtPlace,
    RiskHit,
    RiskSeek,
    best_hits,
)
from laborgraph.graph.view import AnyEntity
from laborgraph.graph.vocabulary import (
    DEFAULT_GRADE,
    SUPPLY_LINKS,
    Dimension,
    EntityKind,
    EvidenceGrade,
    LinkType,
    Status,
)

BATCH_SIZE = 5_000  # rows per UNWIND; every batch of one write runs in the same transaction
EXTRA_PREFIX = "extra_"  # kept bundle columns never collide with core properties
_ENTITY = TypeAdapter(Entity)

LABELS: dict[EntityKind, str] = {kind: kind.value.capitalize() for kind in EntityKind}
_KIND_OF_LABEL = {label: kind for kind, label in LABELS.items()}
_ALL_LINKS = "|".join(LinkType)
STATE = "LaborgraphState"  # the label of the one node beside the model (see NEW_VERSION)
DERIVED = "LaborgraphDerived"  # values derived from one version of the graph (GraphStore.remember)

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
    f"CREATE CONSTRAINT laborgraph_derived_key IF NOT EXISTS FOR (d:{DERIVED}) REQUIRE d.key IS UNIQUE",
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

# One node beside the model holds the graph's version, a new token on every write, and the
# layout of the risk keys every stored ENGAGES link carries (graph.neo4j_risk): a database
# written before they existed, or in an older layout, is keyed again when a store opens it.
# A write also deletes every value derived from the version before it.
RISK_KEYS_LAYOUT = 1
NEW_VERSION = f"""
MERGE (s:{STATE} {{key: 'graph'}}) SET s.version = randomUUID()
WITH s
OPTIONAL MATCH (d:{DERIVED})
DELETE d
"""
TAKE_WRITE_TURN = f"""
MERGE (s:{STATE} {{key: 'graph'}}) SET s.writing = timestamp() RETURN coalesce(s.version, '') AS version
"""
VERSION = f"OPTIONAL MATCH (s:{STATE} {{key: 'graph'}}) RETURN coalesce(s.version, '') AS version"
RECALL = f"MATCH (d:{DERIVED} {{key: $key}}) RETURN d.value AS value"
REMEMBER = f"MERGE (d:{DERIVED} {{key: $key}}) SET d.value = $value"
STATE_OF_GRAPH = f"OPTIONAL MATCH (s:{STATE} {{key: 'graph'}}) RETURN s.risk_keys AS layout"
ALL_COHORT_IDS = "MATCH (c:Cohort) RETURN c.id AS id"
LAYOUT_DONE = f"MERGE (s:{STATE} {{key: 'graph'}}) SET s.risk_keys = $layout"

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

# A page's filter: the name search, and neither a cohort below the privacy threshold nor
# one of its conditions.
_LISTED = """
($text IS NULL OR toLower(coalesce(n.name, n.title)) CONTAINS toLower($text))
AND NOT (n:Cohort AND coalesce(n.headcount < $private_below, false))
AND NOT (n:Condition AND EXISTS { MATCH (c:Cohort {id: n.cohort_id}) WHERE c.headcount < $private_below })
"""
_PAGE_LABELS: dict[EntityKind | None, str] = {None: "Entity"} | dict(LABELS.items())
PAGE_TOTAL: dict[EntityKind | None, str] = {
    kind: f"MATCH (n:{label}) WHERE {_LISTED} RETURN count(n) AS total"
    for kind, label in _PAGE_LABELS.items()
}
PAGE_ITEMS: dict[EntityKind | None, str] = {
    kind: f"""
MATCH (n:{label})
WHERE n.id IS NOT NULL AND {_LISTED}
RETURN labels(n) AS labels, properties(n) AS props
ORDER BY n.id SKIP $offset LIMIT $limit
"""
    for kind, label in _PAGE_LABELS.items()
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


@cache
def links_query(into: bool, types: frozenset[LinkType]) -> str:
    """Links of some types out of the nodes of $ids (or into them), with no project or one
    of $projects (null: every link). The types come from the vocabulary, never from data."""
    kinds = "|".join(sorted(types))
    if into:
        match = f"(a:Entity)-[r:{kinds}]->(b:Entity {{id: id}}) USING INDEX SEEK b:Entity(id)"
    else:
        match = f"(a:Entity {{id: id}})-[r:{kinds}]->(b:Entity) USING INDEX SEEK a:Entity(id)"
    return f"""
UNWIND $ids AS id
MATCH {match}
WHERE $projects IS NULL OR r.project = "" OR r.project IN $projects
RETURN a.id AS from_id, type(r) AS type, b.id AS to_id, {_props("r", Link)} AS props
"""


SKELETON_ENTITIES = f"""
MATCH (n:{LABELS[EntityKind.organization]}|{LABELS[EntityKind.unit]}|{LABELS[EntityKind.decision]})
RETURN labels(n) AS labels, properties(n) AS props
"""
ALL_SUPPLY_LINKS = f"""
MATCH (a:Entity)-[r:{"|".join(SUPPLY_LINKS)}]->(b:Entity)
RETURN a.id AS from_id, type(r) AS type, b.id AS to_id, {_props("r", Link)} AS props
"""
COHORT_FACTS = "MATCH (c:Cohort) RETURN c.id AS id, c.name AS name, c.headcount AS headcount ORDER BY c.id"
_CONDITION_FACTS = f"""
RETURN k.cohort_id AS cohort_id, k.dimension AS dimension, k.status AS status,
       toString(k.observed_at) AS observed_at, coalesce(k.source_ids, []) AS source_ids,
       coalesce(k.evidence_grade, "{DEFAULT_GRADE.value}") AS grade
ORDER BY k.cohort_id, k.dimension
"""
CONDITION_FACTS = "MATCH (k:Condition)" + _CONDITION_FACTS
CONDITION_FACTS_OF = "UNWIND $ids AS id MATCH (k:Condition {cohort_id: id})" + _CONDITION_FACTS
ENGAGEMENTS = f"""
MATCH (a:Entity)-[r:{LinkType.ENGAGES}]->(c:Entity)
RETURN c.id AS cohort_id, a.id AS organization_id, r.project AS project
ORDER BY cohort_id, organization_id, project
"""
ENGAGED = f"""
UNWIND $ids AS id
MATCH (a:Entity {{id: id}})-[r:{LinkType.ENGAGES}]->(c:Entity) USING INDEX SEEK a:Entity(id)
WHERE $projects IS NULL OR r.project = "" OR r.project IN $projects
RETURN a.id AS organization_id, c.id AS cohort_id, coalesce(r.project, "") AS project, c.name AS name,
       c.headcount AS headcount,
       [{", ".join(f'["{d.value}", r.derived_{d.value}]' for d in Dimension)}] AS risks
"""
SOURCE_DATES = "MATCH (s:Source) RETURN s.id AS id, toString(s.published_at) AS published_at"
BENCHMARKS = "MATCH (n:Benchmark) RETURN labels(n) AS labels, properties(n) AS props ORDER BY n.id"
BENCHMARK_TAKERS = f"""
MATCH (c:Cohort) WHERE $countries IS NULL OR c.country IN $countries
MATCH (n:Condition {{cohort_id: c.id, dimension: "{Dimension.pay.value}"}})
WHERE n.value IS NOT NULL AND (n.benchmark IS NULL OR n.benchmark_id IS NOT NULL)
RETURN labels(n) AS labels, properties(n) AS props, c.country AS country, c.region AS region
ORDER BY c.id
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
    if "id" not in ENTITY_MODELS[kind].model_fields:  # derived (a condition's, a benchmark's)
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
        benchmarks=sections[EntityKind.benchmark],
        links=links,
    )


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


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

    def write(self, data: GraphData, *, expect_version: str | None = None) -> None:
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
            # Writers take turns: this holds the state node's lock until the commit.
            version = tx.run(TAKE_WRITE_TURN).single(strict=True)["version"]
            if expect_version is not None and version != expect_version:
                raise GraphChanged("another write committed since this bundle was validated")
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
        kind: EntityKind | None,
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

    def recall(self, key: str) -> str | None:
        records = self._run_read(RECALL, key=key)
        return str(records[0]["value"]) if records else None

    def remember(self, key: str, value: str) -> None:
        self._run_write(REMEMBER, key=key, value=value)

    @contextmanager
    def read(self) -> Iterator[_Neo4jReader]:
        with (
            self._translated("read from"),
            self._session(READ_ACCESS) as session,
            session.begin_transaction() as tx,
        ):
            yield _Neo4jReader(tx)

    # -- driver plumbing ------------------------------------------------------------

    def _session(self, access: str = WRITE_ACCESS) -> Session:
        # Sharing execute_query's bookmark manager gives read-your-writes on a cluster.
        return self._driver.session(
            database=self.database,
            default_access_mode=access,
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


# -- reads of one question ----------------------------------------------------------


class _Neo4jReader:
    """The GraphReader of one read transaction."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    def version(self) -> str:
        return str(self._tx.run(VERSION).single(strict=True)["version"])

    def entities(self, ids: Collection[str]) -> list[AnyEntity]:
        return _entities(self._tx.run(ENTITIES_BY_ID, ids=sorted(ids)))

    def links_from(
        self, ids: Collection[str], types: Collection[LinkType], projects: Collection[str] | None
    ) -> list[Link]:
        return self._links(False, ids, types, projects)

    def links_into(
        self, ids: Collection[str], types: Collection[LinkType], projects: Collection[str] | None
    ) -> list[Link]:
        return self._links(True, ids, types, projects)

    def _links(
        self, into: bool, ids: Collection[str], types: Collection[LinkType], projects: Collection[str] | None
    ) -> list[Link]:
        query = links_query(into, frozenset(types))
        scope = None if projects is None else sorted(projects)
        return _links(self._tx.run(query, ids=sorted(ids), projects=scope))

    def units_of(self, organization_ids: Collection[str]) -> list[Unit]:
        return _of_type(Unit, self._tx.run(UNITS_OF_ORGANIZATIONS, ids=sorted(organization_ids)))

    def decisions_by(self, unit_ids: Collection[str]) -> list[Decision]:
        return _of_type(Decision, self._tx.run(DECISIONS_BY_UNITS, ids=sorted(unit_ids)))

    def decisions_applying_to(self, organization_ids: Collection[str]) -> list[Decision]:
        return _of_type(Decision, self._tx.run(DECISIONS_APPLYING_TO, ids=sorted(organization_ids)))

    def conditions_of(self, cohort_ids: Collection[str]) -> list[Condition]:
        return _of_type(Condition, self._tx.run(CONDITIONS_OF_COHORTS, ids=sorted(cohort_ids)))

    def project_owners(self) -> dict[str, str]:
        return {record["project"]: record["owner"] for record in self._tx.run(PROJECT_OWNERS)}

    def risk_seek(
        self, dimension: Dimension, seeks: Sequence[RiskSeek], limit: int, country: str | None
    ) -> list[RiskHit]:
        rows = [
            {
                "org": s.engager,
                "projects": None if s.projects is None else list(s.projects),
                "code": s.code,
                "tag": s.tag,
            }
            for s in seeks
        ]
        found = self._tx.run(RANKED_BY_DIMENSION[dimension], seeks=rows, country=country, limit=limit)
        hits = [RiskHit(*hit) for hit in found.single(strict=True)["found"]]
        return best_hits(hits, limit)

    def engaged(
        self, organization_ids: Collection[str], projects: Collection[str] | None
    ) -> list[EngagedCohort]:
        scope = None if projects is None else sorted(projects)
        found = [
            EngagedCohort(
                record["organization_id"],
                record["cohort_id"],
                record["project"],
                record["name"],
                record["headcount"],
                tuple(sorted((Dimension(dim), code) for dim, code in record["risks"] if code is not None)),
            )
            for record in self._tx.run(ENGAGED, ids=sorted(organization_ids), projects=scope)
        ]
        return sorted(found)

    def everything(self) -> GraphData:
        entities = _entities(self._tx.run(ALL_ENTITIES))
        return GraphData.of([*entities, *_links(self._tx.run(ALL_LINKS))])

    def skeleton(self) -> GraphData:
        entities = _entities(self._tx.run(SKELETON_ENTITIES))
        return GraphData.of([*entities, *_links(self._tx.run(ALL_SUPPLY_LINKS))])

    def cohort_facts(self) -> Iterator[CohortFacts]:
        for record in self._tx.run(COHORT_FACTS):
            yield CohortFacts(record["id"], record["name"], record["headcount"])

    def condition_facts(self, cohort_ids: Collection[str] | None = None) -> Iterator[ConditionFacts]:
        if cohort_ids is None:
            found = self._tx.run(CONDITION_FACTS)
        else:
            found = self._tx.run(CONDITION_FACTS_OF, ids=sorted(cohort_ids))
        for cohort_id, dimension, status, observed_at, source_ids, grade in found:
            yield ConditionFacts(
                cohort_id,
                Dimension(dimension),
                Status(status),
                _day(observed_at),
                tuple(source_ids),
                EvidenceGrade(grade),
            )

    def engagements(self) -> Iterator[Engagement]:
        for cohort_id, organization_id, project in self._tx.run(ENGAGEMENTS):
            yield Engagement(cohort_id, organization_id, project or "")

    def source_dates(self) -> dict[str, date | None]:
        return {record["id"]: _day(record["published_at"]) for record in self._tx.run(SOURCE_DATES)}

    def benchmarks(self) -> list[Benchmark]:
        return _of_type(Benchmark, self._tx.run(BENCHMARKS))

    def benchmark_takers(self, countries: Collection[str] | None) -> list[PayAtPlace]:
        scope = None if countries is None else sorted(countries)
        takers = []
        for record in self._tx.run(BENCHMARK_TAKERS, countries=scope):
            condition = _entity(record["labels"], record["props"])
            if isinstance(condition, Condition):  # always: the query matches conditions only
                takers.append(PayAtPlace(condition, record["country"], record["region"]))
        return takers

"""The Neo4j store: the store contract answered by a Neo4j 5 server, cluster or Aura.

How the graph lies in the database:

    (:Entity:Organization {id, name, kinds, country, ..., extra_<column>: value})
    (:Entity:Unit {id, organization_id, ...})     and likewise Cohort, Condition, Decision, Source
    (a:Entity)-[:CONTRACTS|SUBCONTRACTS|SOURCES_VIA|ENGAGES {project, since, ...}]->(b:Entity)

Every node carries ``:Entity`` (ids are unique across kinds) and the label of its kind;
``project`` on a link is its key part, ``""`` when the link has none. References that are
not links (unit → organization, decision → unit and organization, condition → cohort) stay
indexed properties, exactly as the model holds them.

Every query below is written once, with values passed only as parameters; labels and
relationship types come from the vocabulary, never from data.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
from graph.analysis.ranking import ALL_DIMENSIONS, DIMENSION_BIT, dimensions_in
from graph.analysis.traverse import check_depth
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
    Condition,
    Decision,
    Entity,
    GraphData,
    Link,
    Organization,
    Record,
    Unit,
    condition_id,
)
from graph.scoring import ScoringConfig, pay_below_half
from graph.store import MAX_DEPTH, EntityPage
from graph.view import AnyEntity, GraphView
from graph.vocabulary import SUPPLY_LINKS, Dimension, EntityKind, LinkType, OrgKind, Status

BATCH_SIZE = 5_000  # rows per UNWIND; every batch of one write runs in the same transaction
EXTRA_PREFIX = "extra_"  # kept bundle columns never collide with core properties
_ENTITY = TypeAdapter(Entity)

LABELS: dict[EntityKind, str] = {kind: kind.value.capitalize() for kind in EntityKind}
_KIND_OF_LABEL = {label: kind for kind, label in LABELS.items()}
_SUPPLY = "|".join(SUPPLY_LINKS)
_ALL_LINKS = "|".join(LinkType)

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
SUPPLY_LINKS_OUT_OF = f"""
UNWIND $ids AS id
MATCH (a:Entity {{id: id}})-[r:{_SUPPLY}]->(b:Entity)
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


# Each :Cohort keeps its not-met conditions as risk codes (see risk_code) in one property,
# refreshed in the transaction that writes them: ranking thousands of cohorts then reads one
# property each instead of looking their conditions up. Never part of a record read back.
RISKS = "derived_risks"
_RISK_CODES = f"""COLLECT {{
    MATCH (k:Condition {{cohort_id: c.id}})
    WHERE k.status <> "{Status.meets.value}"
    RETURN k.dimension + "/" + k.status + CASE
        WHEN k.dimension = "{Dimension.pay.value}" AND k.benchmark <> 0 AND k.value < k.benchmark / 2.0
        THEN "/low" ELSE "" END
}}"""
REFRESH_RISKS = f"""
UNWIND $ids AS id
MATCH (c:Cohort {{id: id}})
SET c.{RISKS} = {_RISK_CODES}
"""

# The best $limit (cohort, dimension) pairs below $engagers (organization, projects its
# ENGAGES links may carry besides none, dimensions the decisions reaching it affect), in
# the tracer's order. $severity, $likelihood and $dimension_of map each risk code to what
# ScoringConfig.risk_of gives it. A cohort written before risk codes existed is coded here.
RANKED_CONDITIONS = f"""
UNWIND $engagers AS engager
MATCH (o:Entity {{id: engager.org}})-[e:{LinkType.ENGAGES}]->(c)
USING INDEX SEEK o:Entity(id)
WHERE engager.projects IS NULL OR e.project = "" OR e.project IN engager.projects
WITH c, collect(engager.dimensions) AS affected
WHERE $country IS NULL OR c.country = $country
UNWIND CASE WHEN c.{RISKS} IS NULL THEN {_RISK_CODES} ELSE c.{RISKS} END AS risk
WITH c, affected, risk, $severity[risk] AS severity
WHERE severity >= $min_severity AND any(dimensions IN affected WHERE $dimension_of[risk] IN dimensions)
RETURN c.id AS cohort, $dimension_of[risk] AS dimension, severity, $likelihood[risk] AS likelihood,
       coalesce(c.headcount, 0) AS headcount
ORDER BY severity DESC, likelihood DESC, headcount DESC, cohort, dimension
LIMIT $limit
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


def _new_entity_row(entity: AnyEntity, risks: dict[str, list[str]]) -> Props:
    props = _new_props(entity, _ENTITY_KEY_FIELDS)
    if entity.id in risks:
        props[RISKS] = risks[entity.id]
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


def _new_link_row(link: Link) -> Props:
    props = _new_props(link, _LINK_KEY_FIELDS)
    props["project"] = link.project or ""
    return {"from_id": link.from_id, "type": link.type.value, "to_id": link.to_id, "props": props}


def _write_statements(
    data: GraphData, times_named: Counter[str], stored: Collection[str], risks: dict[str, list[str]]
) -> Iterator[tuple[str, Iterator[Props]]]:
    """Each statement of a write with its rows, which are built only as they are sent."""
    entities, links = data.entities(), data.links
    new = [times_named[entity.id] == 1 and entity.id not in stored for entity in entities]
    yield CREATE_ENTITIES, (_new_entity_row(entity, risks) for entity in compress(entities, new))
    known = list(compress(entities, [not is_new for is_new in new]))
    for kind in EntityKind:
        yield MERGE_ENTITY[kind], map(_entity_row, [entity for entity in known if entity.entity is kind])
    times_linked = Counter(link.key for link in links)
    # A link with an end this write creates cannot be stored yet.
    new = [
        times_linked[link.key] == 1 and not (link.from_id in stored and link.to_id in stored)
        for link in links
    ]
    yield CREATE_LINKS, map(_new_link_row, compress(links, new))
    known_links = list(compress(links, [not is_new for is_new in new]))
    for link_type in LinkType:
        yield MERGE_LINK[link_type], map(_link_row, [link for link in known_links if link.type is link_type])


def _new_cohort_risks(
    data: GraphData, times_named: Counter[str], stored: Collection[str]
) -> dict[str, list[str]]:
    """The risk codes REFRESH_RISKS would give each cohort this write creates, from the
    conditions it brings: they are all the cohort has, unless one is named twice or some
    are stored already (possible only outside a validated ingest; REFRESH_RISKS codes those).
    Coded here, the cohort is created with them, saving the server a query per cohort."""
    brought: dict[str, list[Condition]] = defaultdict(list)
    for condition in data.conditions:
        brought[condition.cohort_id].append(condition)
    risks = {}
    for cohort in data.cohorts:
        conditions = brought[cohort.id]
        if (
            cohort.id in stored
            or times_named[cohort.id] > 1
            or any(times_named[condition.id] > 1 for condition in conditions)
            or any(condition_id(cohort.id, dimension) in stored for dimension in Dimension)
        ):
            continue
        risks[cohort.id] = [
            risk_code(condition.dimension, condition.status, pay_below_half(condition))
            for condition in conditions
            if condition.status is not Status.meets
        ]
    return risks


def _split_props(props: Props) -> tuple[Props, Props]:
    fields: Props = {}
    extra: Props = {}
    for key, value in props.items():
        if key.startswith(EXTRA_PREFIX):
            extra[key.removeprefix(EXTRA_PREFIX)] = value
        else:
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
    fields.pop(RISKS, None)
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
        deleted = 1
        while deleted:
            records = self._run_write(WIPE_CHUNK)
            deleted = records[0]["deleted"]

    def project_owners(self) -> dict[str, str]:
        return {record["project"]: record["owner"] for record in self._run_read(PROJECT_OWNERS)}

    def kinds_of(self, ids: Collection[str]) -> dict[str, EntityKind]:
        records = self._run_read(KINDS_BY_ID, ids=list(ids))
        return {record["id"]: _kind(record["labels"]) for record in records}

    def write(self, data: GraphData) -> None:
        times_named = Counter(entity.id for entity in data.entities())
        named = set(times_named)
        ends = {entity_id for link in data.links for entity_id in (link.from_id, link.to_id)}
        # Every condition a cohort could have: is one stored already? (see _new_cohort_risks)
        conditions = {condition_id(c.id, dimension) for c in data.cohorts for dimension in Dimension}
        ids = sorted(named | ends | conditions)
        touched = sorted({c.id for c in data.cohorts} | {c.cohort_id for c in data.conditions})

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
            risks = _new_cohort_risks(data, times_named, stored)
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
            for cohorts in _batches(cohort for cohort in touched if cohort not in risks):
                tx.run(REFRESH_RISKS, ids=cohorts).consume()

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
            return session.execute_read(_load_path_view, query, config)

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
    projects: list[str] | None = None  # a vendor's decisions and tiers may follow any link
    if all(OrgKind.buyer in org.kinds for org in maker_orgs):
        projects = sorted({p for p, owner in owners.items() if owner in makers})
    return _Origin(units, decisions, maker_orgs, projects)


def _load_path_view(tx: ManagedTransaction, query: PathQuery, config: ScoringConfig) -> GraphView:
    """The region a page of risk paths from an organization, unit or decision needs."""
    found = tx.run(ENTITY_BY_ID, id=query.origin).single()
    if found is None:
        raise NotFound(str(query.origin))
    focus = _entity(found["labels"], found["props"])
    if focus.entity not in (EntityKind.organization, EntityKind.unit, EntityKind.decision):
        return _load_view(tx, query.origin)  # the tracer refuses it, in the same words on both stores
    owners = {r["project"]: r["owner"] for r in tx.run(PROJECT_OWNERS)}
    view = GraphView.of(_graph_data(*_ranked_region(tx, focus, query, config, owners)))
    view.project_owner = owners
    return view


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
    organizations, cohorts, links = _walk_down(tx, starts, projects, LINKS_OUT_OF)
    nodes = _entities(tx.run(ENTITIES_BY_ID, ids=sorted(organizations | cohorts)))
    conditions = _entities(tx.run(CONDITIONS_OF_COHORTS, ids=sorted(cohorts)))
    entities = [*units, *decisions, *nodes, *conditions]
    return [*entities, *_sources_of(tx, entities, links)], links


def _walk_down(
    tx: ManagedTransaction, starts: set[str], projects: list[str] | None, links_out_of: str
) -> tuple[set[str], set[str], list[Link]]:
    """Organizations within MAX_DEPTH supply links below the starts, the cohorts they engage
    (when ``links_out_of`` brings ENGAGES links), and the links among them."""
    organizations, cohorts, links = set(starts), set(), []
    frontier = starts
    for depth in range(MAX_DEPTH + 1):
        if not frontier:
            break
        reached = set()
        for link in _links(tx.run(links_out_of, ids=sorted(frontier), projects=projects)):
            if link.type is LinkType.ENGAGES:
                cohorts.add(link.to_id)
            elif depth < MAX_DEPTH and link.to_id not in organizations:
                reached.add(link.to_id)
                organizations.add(link.to_id)
            links.append(link)
        frontier = reached
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
    links = _links(tx.run(ENGAGES_INTO, ids=cohort_ids))
    organizations = {link.from_id for link in links}
    frontier = set(organizations)
    for depth in range(MAX_DEPTH + 1):
        if not frontier:
            break
        reached = set()
        for link in _links(tx.run(SUPPLY_LINKS_INTO, ids=sorted(frontier), projects=projects)):
            if depth < MAX_DEPTH and link.from_id not in organizations:
                reached.add(link.from_id)
                organizations.add(link.from_id)
            links.append(link)
        frontier = reached
    return organizations, [link for link in links if link.from_id in organizations]


def _ranked_region(
    tx: ManagedTransaction, focus: AnyEntity, query: PathQuery, config: ScoringConfig, owners: dict[str, str]
) -> tuple[list[AnyEntity], list[Link]]:
    """What the query's page of risk paths needs, and little more.

    The organizations below the origin come first, without their cohorts: a few hundred
    even where they engage tens of thousands. The tracer's own walk over them finds which
    organizations each group of decisions reaches; the server then ranks the conditions of
    the cohorts those organizations engage, as ScoringConfig.risk_of scores them, and
    returns the best ``offset + limit`` (cohort, dimension) pairs. Each pair yields at least
    one path, so no other cohort can make the page. The view holds the organizations and
    those cohorts, and the tracer ranks and walks them again: both stores give the same
    answer from the same code.
    """
    origin = _origin(tx, focus, owners)
    starts = {org.id for org in origin.makers} | {d.applies_to for d in origin.decisions}
    organizations, _, supply = _walk_down(tx, starts, origin.projects, SUPPLY_LINKS_OUT_OF)
    chain = GraphView.of(GraphData.of([*origin.makers, *origin.units, *origin.decisions, *supply]))
    chain.project_owner = owners
    wanted = DIMENSION_BIT[query.dimension] if query.dimension else ALL_DIMENSIONS
    groups = walk_groups(chain, select_decisions(chain, focus.id))
    rows = tx.run(
        RANKED_CONDITIONS,
        engagers=[
            {
                "org": org,
                "projects": None if scope is None else sorted(scope),
                "dimensions": dimensions_in(bits),
            }
            for (org, scope), bits in reached_engagers(chain, groups, query.depth, wanted).items()
        ],
        country=query.country.upper() if query.country else None,
        min_severity=query.min_severity,
        limit=query.offset + (query.limit or 0),
        **_scoring_parameters(config),
    )
    cohorts = sorted({row["cohort"] for row in rows})
    engages = [k for k in _links(tx.run(ENGAGES_INTO, ids=cohorts)) if k.from_id in organizations]
    nodes = _entities(tx.run(ENTITIES_BY_ID, ids=sorted(organizations | set(cohorts))))
    conditions = _entities(tx.run(CONDITIONS_OF_COHORTS, ids=cohorts))
    # No sources: a path cites its evidence by id, and only gaps and maps read sources.
    return [*origin.units, *origin.decisions, *nodes, *conditions], [*supply, *engages]


def risk_code(dimension: Dimension, status: Status, low_pay: bool) -> str:
    """The code REFRESH_RISKS writes for a not-met condition (``low_pay``: pay_below_half)."""
    return f"{dimension.value}/{status.value}" + ("/low" if low_pay else "")


def _scoring_parameters(config: ScoringConfig) -> dict[str, Any]:
    """Every risk code a cohort can carry, with what ScoringConfig.risk_of_facts gives it."""
    severity: dict[str, int] = {}
    likelihood: dict[str, float] = {}
    dimension_of: dict[str, str] = {}
    for dimension in Dimension:
        for status in Status:
            for low_pay in (False, True) if dimension is Dimension.pay else (False,):
                risk = config.risk_of_facts(dimension, status, low_pay)
                if risk is not None:
                    code = risk_code(dimension, status, low_pay)
                    severity[code], likelihood[code] = risk
                    dimension_of[code] = dimension.value
    return {"severity": severity, "likelihood": likelihood, "dimension_of": dimension_of}


def _sources_of(tx: ManagedTransaction, entities: list[AnyEntity], links: list[Link]) -> list[AnyEntity]:
    cited = {source_id for record in (*entities, *links) for source_id in record.source_ids}
    return _entities(tx.run(SOURCES_BY_ID, ids=sorted(cited)))

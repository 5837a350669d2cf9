"""The Neo4j store: the store contract answered by a Neo4j 5 server, cluster or Aura.

How the graph lies in the database:

    (:Entity:Organization {id, name, kinds, country, ..., extra_<column>: value})
    (:Entity:Unit {id, organization_id, ...})     and likewise Cohort, Condition, Decision, Source, Action
    (a:Entity)-[:CONTRACTS|SUBCONTRACTS|SOURCES_VIA|ENGAGES {project, since, ...}]->(b:Entity)

Every node carries ``:Entity`` (ids are unique across kinds) and the label of its kind;
``project`` on a link is its key part, ``""`` when the link has none. References that are
not links (unit → organization, decision → unit and organization, condition → cohort) stay
indexed properties, exactly as the model holds them.

Beside the model, the store keeps for itself, and never reads back as a record:

    derived_* on each ENGAGES link   risk keys for ranking (graph.neo4j_risk)
    derived_ref on each Action       the entity its target hangs on (model.Target.ref)
    history_first, history_last on every entity and link
                                     the revisions that first and last set it (graph.revisions)
    (:LaborgraphState {key: "graph", version, risk_keys, history})
                                     a new version token on every write, and the layouts
                                     of the risk keys and of the history
    (:LaborgraphWriting {key: "graph", mark})
                                     while a write is under way, or was cut short: its
                                     mark (graph.unfinished.UnfinishedWrite), as JSON
    (:LaborgraphDerived {key, value}) what GraphStore.remember keeps; every write deletes them
    (:LaborgraphRevision {number, at, label, digest, writer, counts})
                                     one per write that changed something; counts as JSON
    (:LaborgraphEarlier {key, kind, since, until, body, retracted})
                                     a value a fact (an entity id, or a link's link_key) held
                                     from revision since until revision until, as JSON; the
                                     reason when a retraction ended it
    (:LaborgraphObservation {condition_id, observed_at, revision, body, undo_revision, undo_body})
                                     each observation of a condition ("" when undated), as JSON;
                                     undo_*: what a correction replaced, for ``settle``

Every query below is written once, with values passed only as parameters; labels and
relationship types come from the vocabulary, never from data.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from enum import Enum
from functools import cache
from itertools import islice
from typing import Any, NamedTuple, TypeVar
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

from laborgraph.graph.collector import collector_paused
from laborgraph.graph.errors import (
    BundleIssue,
    ConfigError,
    GraphChanged,
    GraphError,
    IngestIncomplete,
    InvalidBundle,
    InvalidQuery,
    NotFound,
    StoreUnavailable,
)
from laborgraph.graph.model import (
    ENTITY_MODELS,
    Action,
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
from laborgraph.graph.neo4j_pipeline import BatchPipeline
from laborgraph.graph.neo4j_risk import (
    COHORTS_WITH_CONDITIONS,
    DERIVED_PREFIX,
    ENGAGES_RISK_INDEXES,
    RANKED_BY_DIMENSION,
    REFRESH_RISKS,
    new_link_risks,
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
from laborgraph.graph.store import (
    CohortFacts,
    ConditionFacts,
    EngagedCohort,
    EngagedTotal,
    Engagement,
    EntityPage,
    JsonRecord,
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
    SUPPLY_LINKS,
    Dimension,
    EntityKind,
    LinkType,
)

# Rows per UNWIND of a write; each batch runs in its own transaction. Larger batches cost
# the server more per row (a 1 GB heap at 5,000 rows: a third more CPU than at 2,000, at
# 10,000 half more): each transaction's state is collected and copied as it grows.
BATCH_SIZE = 2_000
READ_BATCH = 5_000  # ids per UNWIND of a read: a round trip each, nothing to commit
PIPELINE = 2  # batches of a write at the server at once (graph.neo4j_pipeline)
EXTRA_PREFIX = "extra_"  # kept bundle columns never collide with core properties
_ENTITY = TypeAdapter(Entity)

LABELS: dict[EntityKind, str] = {kind: kind.value.capitalize() for kind in EntityKind}
_KIND_OF_LABEL = {label: kind for kind, label in LABELS.items()}
_ALL_LINKS = "|".join(LinkType)
STATE = "LaborgraphState"  # the label of the one node beside the model (see NEW_VERSION)
DERIVED = "LaborgraphDerived"  # values derived from one version of the graph (GraphStore.remember)
REVISION = "LaborgraphRevision"
EARLIER = "LaborgraphEarlier"
OBSERVATION = "LaborgraphObservation"
WRITING = "LaborgraphWriting"  # the mark of a write under way (graph.unfinished)
ACTION_REF = f"{DERIVED_PREFIX}ref"  # an action's Target.ref, for the actions on some entities
# A fact's first and last revision: no model field starts with this, and extras are "extra_".
HISTORY_PREFIX = "history_"
FIRST, LAST = f"{HISTORY_PREFIX}first", f"{HISTORY_PREFIX}last"

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
    f"CREATE INDEX laborgraph_action_ref IF NOT EXISTS FOR (n:Action) ON (n.{ACTION_REF})",
    *ENGAGES_RISK_INDEXES,
    f"CREATE CONSTRAINT laborgraph_state_key IF NOT EXISTS FOR (s:{STATE}) REQUIRE s.key IS UNIQUE",
    f"CREATE CONSTRAINT laborgraph_writing_key IF NOT EXISTS FOR (w:{WRITING}) REQUIRE w.key IS UNIQUE",
    f"CREATE CONSTRAINT laborgraph_derived_key IF NOT EXISTS FOR (d:{DERIVED}) REQUIRE d.key IS UNIQUE",
    f"CREATE CONSTRAINT laborgraph_revision_number IF NOT EXISTS FOR (r:{REVISION})"
    " REQUIRE r.number IS UNIQUE",
    f"CREATE INDEX laborgraph_earlier_key IF NOT EXISTS FOR (e:{EARLIER}) ON (e.key)",
    f"CREATE INDEX laborgraph_earlier_until IF NOT EXISTS FOR (e:{EARLIER}) ON (e.until)",
    f"CREATE CONSTRAINT laborgraph_observation_key IF NOT EXISTS FOR (o:{OBSERVATION})"
    " REQUIRE (o.condition_id, o.observed_at) IS UNIQUE",
    f"CREATE INDEX laborgraph_observation_revision IF NOT EXISTS FOR (o:{OBSERVATION}) ON (o.revision)",
    f"CREATE INDEX laborgraph_entity_last IF NOT EXISTS FOR (n:Entity) ON (n.{LAST})",
    *(
        f"CREATE INDEX laborgraph_{link_type.lower()}_last IF NOT EXISTS"
        f" FOR ()-[r:{link_type}]-() ON (r.{LAST})"
        for link_type in LinkType
    ),
)

# -- writes ---------------------------------------------------------------------------
#
# A write takes the write turn and marks the write (TAKE_WRITE_TURN, MARK_WRITE), is
# planned once for both stores (graph.revisions.plan_write) from one read transaction, and
# stores only what the plan says is new or changed, each as its merged value, with the
# write's revision, one transaction per batch; _finish_write then adds the revision, a new
# version, and removes the mark. A write cut short leaves the mark, and everything it
# stored carries its revision, so ``Neo4jStore.settle`` can undo it (see UNDO_* below).
# An entity or link that is new is CREATEd: no index seek and no lock on a missing key,
# a quarter to a third less server work than MERGE. The uniqueness constraints still fail
# a batch if another writer took the id meanwhile (the write is then left unfinished).
# A changed one goes through MERGE. Every statement returns how many rows it wrote, so a
# link whose end has gone is never dropped silently.
#
# New entities of every kind go through one statement, and new links of every type
# through another: each distinct statement costs the server a plan, which on a small
# bundle is most of the work. Their label or type is a parameter, always one of LABELS
# or LinkType, never data; creating needs no index on it. MERGE finds nodes by the
# index of their label, so it keeps one statement per label.

CREATE_ENTITIES = f"""
UNWIND $rows AS row
CREATE (n:Entity:$(row.label) {{id: row.id}})
SET n += row.props, n.{FIRST} = $revision, n.{LAST} = $revision
RETURN count(n) AS written
"""

CREATE_LINKS = f"""
UNWIND $rows AS row
MATCH (a:Entity {{id: row.from_id}})
MATCH (b:Entity {{id: row.to_id}})
CREATE (a)-[r:$(row.type)]->(b)
SET r += row.props, r.{FIRST} = $revision, r.{LAST} = $revision
RETURN count(r) AS written
"""


def _merge_entity_query(label: str) -> str:
    # A record of another kind under an existing id breaks the :Entity constraint, so the
    # whole write fails instead of an entity silently changing kind. A property the merged
    # value lacks comes as null, which removes it.
    return f"""
UNWIND $rows AS row
MERGE (n:{label} {{id: row.id}})
ON CREATE SET n:Entity, n.{FIRST} = $revision
SET n += row.props, n.{LAST} = $revision
RETURN count(n) AS written
"""


def _link_of_row(link_type: LinkType) -> str:
    """The stored link (made if missing) of each $rows row, as ``r``, between ``a`` and ``b``."""
    return f"""
UNWIND $rows AS row
MATCH (a:Entity {{id: row.from_id}})
MATCH (b:Entity {{id: row.to_id}})
MERGE (a)-[r:{link_type} {{project: row.project}}]->(b)"""


def _merge_link_query(link_type: LinkType) -> str:
    return f"""{_link_of_row(link_type)}
ON CREATE SET r.{FIRST} = $revision
SET r += row.props, r.{LAST} = $revision
RETURN count(r) AS written
"""


MERGE_ENTITY: dict[EntityKind, str] = {kind: _merge_entity_query(LABELS[kind]) for kind in EntityKind}
MERGE_LINK: dict[LinkType, str] = {link_type: _merge_link_query(link_type) for link_type in LinkType}

# The link of each $keys row: both ends seeked, then the links between them (a scan, which
# the planner picks on a small graph, would cost a large one a pass per key).
_LINK_OF_KEY = f"""
MATCH (a:Entity {{id: key.from_id}})-[r:{_ALL_LINKS}]->(b:Entity {{id: key.to_id}})
USING INDEX SEEK a:Entity(id) USING INDEX SEEK b:Entity(id)
WHERE type(r) = key.type AND r.project = key.project
"""

# Before a write replaces or retracts a fact, its value is kept with the revisions it held
# between; a retracted one is then deleted, links first.
KEEP_EARLIER = f"""
UNWIND $rows AS row
CREATE (:{EARLIER} {{
    key: row.key, kind: row.kind, since: row.since, until: $revision, body: row.body, retracted: row.retracted
}})
"""
DROP_LINKS = f"""
UNWIND $keys AS key
{_LINK_OF_KEY}
DELETE r
"""
DROP_ENTITIES = """
UNWIND $ids AS id
MATCH (n:Entity {id: id})
DETACH DELETE n
"""
# An observation not stored yet is created, as a new entity is; a stored one is merged.
ADD_OBSERVATIONS = f"""
UNWIND $rows AS row
CREATE (:{OBSERVATION} {{
    condition_id: row.condition_id, observed_at: row.observed_at, revision: $revision, body: row.body
}})
"""
KEEP_OBSERVATIONS = f"""
UNWIND $rows AS row
MERGE (o:{OBSERVATION} {{condition_id: row.condition_id, observed_at: row.observed_at}})
SET o.undo_revision = o.revision, o.undo_body = o.body
SET o.revision = $revision, o.body = row.body
"""
# Read once the write turn is taken, so two writers never take the same number.
NEXT_REVISION = f"MATCH (r:{REVISION}) RETURN coalesce(max(r.number), 0) + 1 AS number"
ADD_REVISION = f"""
CREATE (:{REVISION} {{
    number: $number, at: $at, label: $label, digest: $digest, writer: $writer, counts: $counts
}})
"""

# One chunk per transaction, so wiping a large graph never needs one huge transaction.
WIPE_CHUNK = f"""
MATCH (n:Entity|{REVISION}|{EARLIER}|{OBSERVATION})
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
OPTIONAL MATCH (w:{WRITING})
DELETE w
WITH DISTINCT s
OPTIONAL MATCH (d:{DERIVED})
DELETE d
"""
# A writer (or settle) holds the state node's lock in one transaction, open from its start
# to its end (the "turn"): another writer waits for it there, as before. The mark of the
# write is a node of its own, committed at once by another transaction, so that readers
# see it and it outlives a writer killed mid-way; the turn's transaction deletes it when it
# commits the revision (NEW_VERSION). A writer that gets the turn and finds a mark knows
# its writer died.
TAKE_WRITE_TURN = f"""
MERGE (s:{STATE} {{key: 'graph'}}) SET s.writing = timestamp()
WITH s
OPTIONAL MATCH (w:{WRITING})
RETURN coalesce(s.version, '') AS version, w.mark AS unfinished
"""
MARK_WRITE = f"MERGE (w:{WRITING} {{key: 'graph'}}) SET w.mark = $mark"
UNMARK_WRITE = f"MATCH (w:{WRITING}) DELETE w"
# Found by label, not by key: a seek of a unique key would lock it, and the turn's
# transaction, open for the whole write, would keep MARK_WRITE waiting.
UNFINISHED = f"OPTIONAL MATCH (w:{WRITING}) RETURN w.mark AS unfinished"
VERSION = f"OPTIONAL MATCH (s:{STATE} {{key: 'graph'}}) RETURN coalesce(s.version, '') AS version"
RECALL = f"MATCH (d:{DERIVED} {{key: $key}}) RETURN d.value AS value"
# Nothing is kept while a write is marked: it would be derived from part of a revision.
REMEMBER = f"""
OPTIONAL MATCH (w:{WRITING})
WITH w WHERE w IS NULL
MERGE (d:{DERIVED} {{key: $key}}) SET d.value = $value
"""
STATE_OF_GRAPH = f"""
OPTIONAL MATCH (s:{STATE} {{key: 'graph'}}) RETURN s.risk_keys AS layout, s.history AS history
"""
ALL_COHORT_IDS = "MATCH (c:Cohort) RETURN c.id AS id"
LAYOUT_DONE = f"MERGE (s:{STATE} {{key: 'graph'}}) SET s.risk_keys = $layout"

# A database written before revisions were kept: what it holds becomes revision 1, as in
# the embedded store, a chunk per transaction.
HISTORY_LAYOUT = 1
MARK_ENTITIES_AS_FIRST = f"""
MATCH (n:Entity) WHERE n.{LAST} IS NULL
WITH n LIMIT 10000
SET n.{FIRST} = 1, n.{LAST} = 1
RETURN count(n) AS marked
"""
MARK_LINKS_AS_FIRST = f"""
MATCH (:Entity)-[r:{_ALL_LINKS}]->(:Entity) WHERE r.{LAST} IS NULL
WITH r LIMIT 10000
SET r.{FIRST} = 1, r.{LAST} = 1
RETURN count(r) AS marked
"""
UNOBSERVED_CONDITIONS = f"""
MATCH (n:Condition)
WHERE NOT EXISTS {{ MATCH (o:{OBSERVATION}) WHERE o.condition_id = n.id AND o.observed_at IS NOT NULL }}
RETURN labels(n) AS labels, properties(n) AS props
"""
FIRST_REVISION = f"""
MERGE (r:{REVISION} {{number: 1}})
ON CREATE SET r.at = $at, r.label = $label, r.digest = '', r.writer = 'upgrade', r.counts = $counts
"""
HISTORY_DONE = f"MERGE (s:{STATE} {{key: 'graph'}}) SET s.history = $layout"

# -- undoing an unfinished write (Neo4jStore.settle) ----------------------------------
#
# Write N left: facts it created (first and last revision N), facts it changed or
# retracted (each with a LaborgraphEarlier until N holding the value before), and
# observations it kept (revision N; undo_* when it replaced one). Each query below does a
# chunk per transaction and is safe to repeat, so a settle cut short is run again.

UNDO_CHUNK = 10_000
UNDO_TOUCHED_COHORTS = f"""
CALL () {{
    MATCH (k:Condition) WHERE k.{LAST} = $revision RETURN k.cohort_id AS id
    UNION
    MATCH (c:Cohort) WHERE c.{LAST} = $revision RETURN c.id AS id
    UNION
    MATCH ()-[r:{LinkType.ENGAGES}]->(c:Cohort) WHERE r.{LAST} = $revision RETURN c.id AS id
}}
RETURN collect(DISTINCT id) AS ids
"""


def _undo_new_links_query(link_type: LinkType) -> str:
    return f"""
MATCH ()-[r:{link_type}]->() WHERE r.{LAST} = $revision AND r.{FIRST} = $revision
WITH r LIMIT {UNDO_CHUNK}
DELETE r
RETURN count(*) AS done
"""


UNDO_NEW_LINKS = tuple(_undo_new_links_query(link_type) for link_type in LinkType)
UNDO_NEW_ENTITIES = f"""
MATCH (n:Entity) WHERE n.{LAST} = $revision AND n.{FIRST} = $revision
WITH n LIMIT {UNDO_CHUNK}
DETACH DELETE n
RETURN count(*) AS done
"""
EARLIER_ENDED_AT = f"""
MATCH (e:{EARLIER}) WHERE e.until = $revision
RETURN e.kind AS kind, e.since AS since, e.body AS body
"""


def _restore_entity_query(label: str) -> str:
    # The value before, whole: a property the write added goes too; the first revision stays.
    return f"""
UNWIND $rows AS row
MERGE (n:{label} {{id: row.id}})
ON CREATE SET n:Entity, n.{FIRST} = row.since
WITH n, row, n.{FIRST} AS first
SET n = row.props
SET n.id = row.id, n.{FIRST} = first, n.{LAST} = row.since
"""


def _restore_link_query(link_type: LinkType) -> str:
    return f"""{_link_of_row(link_type)}
ON CREATE SET r.{FIRST} = row.since
WITH r, row, r.{FIRST} AS first
SET r = row.props
SET r.{FIRST} = first, r.{LAST} = row.since
"""


RESTORE_ENTITY: dict[EntityKind, str] = {kind: _restore_entity_query(LABELS[kind]) for kind in EntityKind}
RESTORE_LINK: dict[LinkType, str] = {link_type: _restore_link_query(link_type) for link_type in LinkType}
UNDO_EARLIER = f"""
MATCH (e:{EARLIER}) WHERE e.until = $revision
WITH e LIMIT {UNDO_CHUNK}
DELETE e
RETURN count(*) AS done
"""
UNDO_CORRECTED_OBSERVATIONS = f"""
MATCH (o:{OBSERVATION}) WHERE o.revision = $revision AND o.undo_body IS NOT NULL
WITH o LIMIT {UNDO_CHUNK}
SET o.revision = o.undo_revision, o.body = o.undo_body
REMOVE o.undo_revision, o.undo_body
RETURN count(*) AS done
"""
UNDO_NEW_OBSERVATIONS = f"""
MATCH (o:{OBSERVATION}) WHERE o.revision = $revision
WITH o LIMIT {UNDO_CHUNK}
DELETE o
RETURN count(*) AS done
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

# A page's filter: the name search, and neither a cohort below the privacy threshold nor
# one of its conditions or the actions on them.
_LISTED = f"""
($text IS NULL OR toLower(coalesce(n.name, n.title)) CONTAINS toLower($text))
AND NOT (n:Cohort AND coalesce(n.headcount < $private_below, false))
AND NOT (n:Condition AND EXISTS {{ MATCH (c:Cohort {{id: n.cohort_id}}) WHERE c.headcount < $private_below }})
AND NOT (n:Action AND EXISTS {{ MATCH (c:Cohort {{id: n.{ACTION_REF}}}) WHERE c.headcount < $private_below }})
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


# Reads of tens of thousands of rows (the skeleton: at 1M links 46k organizations, units and
# decisions and 54k supply links; a chain's ENGAGES rows and conditions; the sources' dates)
# return them as one list, `collect`ed in the order the rows come (``_collected``): the driver
# then decodes one record, not one per row. Only the whole graph's streams, millions of rows,
# come row by row. The skeleton's dates come as ISO text (see _props).
_SKELETON_KINDS = (EntityKind.organization, EntityKind.unit, EntityKind.decision)


def _skeleton_props() -> str:
    dates = sorted(
        name
        for kind in _SKELETON_KINDS
        for name, field in ENTITY_MODELS[kind].model_fields.items()
        if field.annotation == date | None
    )
    return "n {.*" + "".join(f", {name}: toString(n.{name})" for name in dates) + "}"


SKELETON_ENTITIES = f"""
MATCH (n:{"|".join(LABELS[kind] for kind in _SKELETON_KINDS)})
RETURN collect([labels(n), {_skeleton_props()}]) AS rows
"""
ALL_SUPPLY_LINKS = f"""
MATCH (a:Entity)-[r:{"|".join(SUPPLY_LINKS)}]->(b:Entity)
RETURN collect([a.id, type(r), b.id, {_props("r", Link)}]) AS rows
"""
COHORT_FACTS = "MATCH (c:Cohort) RETURN c.id AS id, c.name AS name, c.headcount AS headcount ORDER BY c.id"
_CONDITION_COLUMNS = f"""[k.cohort_id, k.dimension, k.status, toString(k.observed_at),
    coalesce(k.source_ids, []), coalesce(k.evidence_grade, "{DEFAULT_GRADE.value}")]"""
CONDITION_FACTS = f"MATCH (k:Condition) RETURN {_CONDITION_COLUMNS} AS row ORDER BY k.cohort_id, k.dimension"
CONDITION_FACTS_OF = f"""
UNWIND $ids AS id MATCH (k:Condition {{cohort_id: id}})
WITH k ORDER BY k.cohort_id, k.dimension
RETURN collect({_CONDITION_COLUMNS}) AS rows
"""
ENGAGEMENTS = f"""
MATCH (a:Entity)-[r:{LinkType.ENGAGES}]->(c:Entity)
RETURN c.id AS cohort_id, a.id AS organization_id, r.project AS project
ORDER BY cohort_id, organization_id, project
"""
_ENGAGED_ROWS = f"""collect([a.id, c.id, coalesce(r.project, ""), c.name, c.headcount,
    [{", ".join(f'["{d.value}", r.derived_{d.value}]' for d in Dimension)}]]) AS rows"""
ENGAGED = f"""
UNWIND $ids AS id
MATCH (a:Entity {{id: id}})-[r:{LinkType.ENGAGES}]->(c:Entity) USING INDEX SEEK a:Entity(id)
WHERE $projects IS NULL OR r.project = "" OR r.project IN $projects
RETURN {_ENGAGED_ROWS}
"""
_ONE_LINK = f"COUNT {{ ()-[:{LinkType.ENGAGES}]->(c) }} = 1"
ENGAGED_TOTALS = f"""
MATCH (c:Cohort) WHERE {_ONE_LINK}
MATCH (a:Entity)-[r:{LinkType.ENGAGES}]->(c)
WITH a.id AS organization_id, coalesce(r.project, "") AS project, c, r
RETURN organization_id, project, count(*) AS cohorts,
       sum(CASE WHEN c.headcount < $below THEN 1 ELSE 0 END) AS small,
       sum(CASE WHEN c.headcount >= $below THEN c.headcount ELSE 0 END) AS workers,
       {", ".join(f"collect(DISTINCT r.derived_{d.value}) AS risk_{d.value}" for d in Dimension)}
"""
SHARED_ENGAGED = f"""
MATCH (c:Cohort) WHERE COUNT {{ ()-[:{LinkType.ENGAGES}]->(c) }} > 1
MATCH (a:Entity)-[r:{LinkType.ENGAGES}]->(c)
RETURN {_ENGAGED_ROWS}
"""
SOURCE_DATES = "MATCH (s:Source) RETURN collect([s.id, toString(s.published_at)]) AS rows"
# What an export reads: every entity and link but small cohorts (a page's filter, with no
# name search), their conditions and the links into them.
ENTITY_RECORDS = f"""
MATCH (n:Entity) WHERE {_LISTED}
RETURN labels(n) AS labels, n.id AS id, properties(n) AS props
"""
LINK_RECORDS = f"""
MATCH (a:Entity)-[r:{_ALL_LINKS}]->(b:Entity)
WHERE NOT (b:Cohort AND coalesce(b.headcount < $private_below, false))
RETURN {_LINK_COLUMNS}
"""
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
ACTIONS_ON = f"""
UNWIND $ids AS id
MATCH (n:Action {{{ACTION_REF}: id}})
RETURN labels(n) AS labels, properties(n) AS props
ORDER BY n.id
"""
ALL_ACTIONS = "MATCH (n:Action) RETURN labels(n) AS labels, properties(n) AS props ORDER BY n.id"
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

LINKS_BY_KEY = f"""
UNWIND $keys AS key
{_LINK_OF_KEY}
RETURN a.id AS from_id, type(r) AS type, b.id AS to_id, properties(r) AS props
"""

# -- history reads (graph.revisions) ---------------------------------------------------

REVISIONS = f"""
MATCH (r:{REVISION})
RETURN r.number AS number, toString(r.at) AS at, r.label AS label, r.digest AS digest,
       r.writer AS writer, r.counts AS counts
ORDER BY number
"""
# observed_at IS NOT NULL lets the planner seek the (condition_id, observed_at) index.
OBSERVATIONS_OF = f"""
UNWIND $ids AS id
MATCH (o:{OBSERVATION}) WHERE o.condition_id = id AND o.observed_at IS NOT NULL
RETURN o.condition_id AS condition_id, o.observed_at AS observed_at, o.revision AS revision, o.body AS body
"""
EARLIER_OF = f"""
UNWIND $keys AS key
MATCH (e:{EARLIER} {{key: key}})
RETURN e.key AS key, e.kind AS kind, e.since AS since, e.until AS until, e.body AS body,
       e.retracted AS retracted
"""
# What any revision after $revision set or ended.
ENTITIES_SET_AFTER = f"MATCH (n:Entity) WHERE n.{LAST} > $revision RETURN n.id AS id"
LINKS_SET_AFTER = f"""
MATCH (a:Entity)-[r:{_ALL_LINKS}]->(b:Entity) WHERE r.{LAST} > $revision
RETURN a.id AS from_id, type(r) AS type, b.id AS to_id, r.project AS project
"""
ENDED_AFTER = f"MATCH (e:{EARLIER}) WHERE e.until > $revision RETURN e.key AS key"
# The graph as it stood at $revision: what has held since, and the earlier values that held then.
ENTITIES_AT = f"""
MATCH (n:Entity) WHERE n.{LAST} <= $revision
RETURN labels(n) AS labels, properties(n) AS props
"""
LINKS_AT = f"""
MATCH (a:Entity)-[r:{_ALL_LINKS}]->(b:Entity) WHERE r.{LAST} <= $revision
RETURN {_LINK_COLUMNS}
"""
EARLIER_AT = f"""
MATCH (e:{EARLIER}) WHERE e.until > $revision AND e.since <= $revision
RETURN e.kind AS kind, e.body AS body
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


def _stored_props(record: Record, skip: frozenset[str], *, removing: bool) -> Props:
    """A record's fields and extras as Neo4j properties. ``removing``: a field without a value
    comes as null, which removes it from a stored node or link; else it is left out."""
    values = vars(record)
    fields = _stored_fields(type(record), skip)
    props = {name: _to_neo4j(values[name]) for name in fields if removing or values[name] is not None}
    for key, value in record.extra.items():
        props[EXTRA_PREFIX + key] = value
    return props


@cache
def _stored_fields(model: type[Record], skip: frozenset[str]) -> tuple[str, ...]:
    return tuple(name for name in model.model_fields if name not in skip and name != "extra")


def _entity_row(entity: AnyEntity, *, stored: bool) -> Props:
    props = _stored_props(entity, _ENTITY_KEY_FIELDS, removing=stored)
    if isinstance(entity, Action):
        props[ACTION_REF] = entity.aim.ref
    return {"id": entity.id, "label": LABELS[entity.entity], "props": props}


def _engaged_rows(result: Result) -> list[EngagedCohort]:
    found = [
        EngagedCohort(
            org, cohort_id, project, name, headcount,
            tuple(sorted((DIMENSION_OF[dim], code) for dim, code in risks if code is not None)),
        )
        for org, cohort_id, project, name, headcount, risks in _collected(result)
    ]  # fmt: skip
    return sorted(found)


def _collected(result: Result) -> list[list[Any]]:
    """The rows a query `collect`ed into one list ``rows``."""
    return result.single(strict=True)["rows"]  # type: ignore[no-any-return]


def _link_row(link: Link, risks: dict[LinkKey, Props], *, stored: bool) -> Props:
    props = _stored_props(link, _LINK_KEY_FIELDS, removing=stored)
    props["project"] = link.project or ""
    props.update(risks.get(link.key, ()))
    return {
        "from_id": link.from_id,
        "type": link.type.value,
        "to_id": link.to_id,
        "project": link.project or "",
        "props": props,
    }


def _key_row(key: LinkKey) -> Props:
    from_id, link_type, to_id, project = key
    return {"from_id": from_id, "type": LinkType(link_type).value, "to_id": to_id, "project": project}


Statements = list[tuple[str, Iterator[Props]]]


def _write_statements(plan: WritePlan, risks: dict[LinkKey, Props]) -> tuple[Statements, Statements]:
    """Each statement that stores a plan's new and changed entities, then links, with its
    rows, which are built only as they are sent."""
    entities: Statements = [
        (CREATE_ENTITIES, (_entity_row(entity, stored=False) for entity in plan.new_entities))
    ]
    for kind in EntityKind:
        changed = [entity for entity in plan.changed_entities if entity.entity is kind]
        entities.append((MERGE_ENTITY[kind], (_entity_row(entity, stored=True) for entity in changed)))
    links: Statements = [(CREATE_LINKS, (_link_row(link, risks, stored=False) for link in plan.new_links))]
    for link_type in LinkType:
        changed_links = [link for link in plan.changed_links if link.type is link_type]
        links.append((MERGE_LINK[link_type], (_link_row(link, {}, stored=True) for link in changed_links)))
    return entities, links


_NOT_FIELDS = (EXTRA_PREFIX, DERIVED_PREFIX, HISTORY_PREFIX)
_EXTRA_CUT = len(EXTRA_PREFIX)


def _split_props(props: Props) -> tuple[Props, Props]:
    # Run for every node and link read (a hundred thousand for a skeleton at 1M links): the
    # common case, a plain field, takes one prefix test and no function call.
    fields: Props = {}
    extra: Props = {}
    for key, value in props.items():
        if value is None:  # never stored: a date field _props asked for that the record lacks
            continue
        if not key.startswith(_NOT_FIELDS):
            fields[key] = value.to_native() if isinstance(value, Neo4jDate) else value
        elif key.startswith(EXTRA_PREFIX):
            extra[key[_EXTRA_CUT:]] = value
    return fields, extra


def _last_revision(props: Props) -> int:
    """The revision that last set a stored node or link (0: before revisions were kept)."""
    return int(props.get(LAST) or 0)


def _earlier_record(kind: str, body: str) -> AnyEntity | Link:
    """The record an earlier value holds, from its JSON."""
    return Link.model_validate_json(body) if kind == "link" else _ENTITY.validate_json(body)


def _observation_row(condition: Condition) -> Props:
    condition_id, observed_at = observation_key(condition)
    return {
        "condition_id": condition_id,
        "observed_at": observed_at,
        "body": condition.model_dump_json(exclude_none=True),
    }


def _json_fields(props: Props) -> JsonRecord:
    """Properties in a record's JSON form: extras gathered, dates as ISO text."""
    fields, extra = _split_props(props)
    for key, value in fields.items():
        if isinstance(value, date):
            fields[key] = value.isoformat()
    fields["extra"] = extra
    return fields


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


def _batches(rows: Iterable[_T], size: int | None = None) -> Iterator[list[_T]]:
    """Lists of ``size`` rows (BATCH_SIZE: a write's)."""
    remaining = iter(rows)
    while batch := list(islice(remaining, size or BATCH_SIZE)):
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
        actions=sections[EntityKind.action],
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


class _PlannedWrite(NamedTuple):
    plan: WritePlan
    observed: dict[tuple[str, str], Condition]  # the stored observations of the bundle's conditions
    earlier: list[Props]  # the value each changed or retracted fact holds now (KEEP_EARLIER rows)
    created: list[str]  # the cohorts it creates, each named once in the bundle
    orphans: set[str]  # those of them whose conditions were stored before them


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
                state = self._run_read(STATE_OF_GRAPH)[0]
                if state["history"] != HISTORY_LAYOUT:
                    self._record_as_first_revision()
                if state["layout"] != RISK_KEYS_LAYOUT:
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

    def _record_as_first_revision(self) -> None:
        """What an earlier release stored becomes revision 1, its conditions their first
        observations; then the layout is recorded. Safe to repeat after a crash, or to race
        another opener: each step leaves alone what is done."""
        for query in (MARK_ENTITIES_AS_FIRST, MARK_LINKS_AS_FIRST):
            while self._run_write(query)[0]["marked"]:
                pass
        conditions = _of_type(Condition, self._run_read(UNOBSERVED_CONDITIONS))
        for batch in _batches(conditions):
            self._run_write(KEEP_OBSERVATIONS, rows=[_observation_row(c) for c in batch], revision=1)
        held = sum(count for kind, count in self.counts().items() if kind != "links")
        if held:
            at = datetime.now(UTC).replace(microsecond=0)
            self._run_write(FIRST_REVISION, at=at, label=EARLIER_RELEASE, counts=json.dumps({"added": held}))
        self._run_write(HISTORY_DONE, layout=HISTORY_LAYOUT)

    def write(
        self,
        data: GraphData,
        *,
        expect_version: str | None = None,
        retractions: Sequence[Retraction] = (),
        note: WriteNote | None = None,
    ) -> Written:
        """Write a bundle in batches, a transaction each: take the turn and mark the write,
        plan it, store it, then finish it (the revision, a new version, no mark) in the
        turn's transaction.

        A write that fails part-way is undone at once if the server answers; one cut short
        otherwise (the process killed, the server gone) leaves its mark
        (``unfinished_write``) until ``settle`` undoes it, and every later write is refused
        meanwhile (IngestIncomplete)."""
        note = note or WriteNote()
        times_named = Counter(entity.id for entity in data.entities())
        mark: UnfinishedWrite | None = None
        storing = False  # once true, the graph may hold part of the write
        with self._translated("write to"), self._session() as session, session.begin_transaction() as turn:
            try:
                mark = self._take_write_turn(turn, expect_version, note)
                self._run_write(MARK_WRITE, mark=mark.model_dump_json())
                with self._session(READ_ACCESS) as planning:
                    planned = planning.execute_read(self._plan, data, retractions, times_named)
                if planned.plan.is_empty():  # no revision, the same version, nothing derived forgotten
                    turn.run(UNMARK_WRITE).consume()
                    turn.commit()
                    return Written(revision=None)
                storing = True
                self._write_batches(data, planned, mark.revision)
                made = planned.plan.revision(mark.revision, note)
                turn.run(
                    ADD_REVISION, made.model_dump(exclude={"counts"}), counts=json.dumps(made.counts)
                ).consume()
                turn.run(NEW_VERSION).consume()  # and the mark goes
                turn.commit()
            except BaseException as exc:
                if storing and mark is not None:
                    self._undo_failed_write(exc, turn, mark)
                elif mark is not None:  # refused before it stored anything: the same version
                    self._run_write(UNMARK_WRITE)
                raise
        return Written(revision=made, orphaned_cohorts=tuple(planned.plan.orphaned_cohorts))

    @staticmethod
    def _take_write_turn(tx: Transaction, expect_version: str | None, note: WriteNote) -> UnfinishedWrite:
        # Writers take turns: this holds the state node's lock until ``tx`` ends.
        state = tx.run(TAKE_WRITE_TURN).single(strict=True)
        if state["unfinished"] is not None:
            died = UnfinishedWrite.model_validate_json(state["unfinished"])
            raise IngestIncomplete(f"an earlier write was cut short: {died.describe()}")
        if expect_version is not None and state["version"] != expect_version:
            raise GraphChanged("another write committed since this bundle was validated")
        return UnfinishedWrite(
            revision=tx.run(NEXT_REVISION).single(strict=True)["number"],
            started=datetime.now(UTC).replace(microsecond=0),
            digest=note.digest,
            writer=note.writer,
            label=note.label,
        )

    def _undo_failed_write(self, exc: BaseException, turn: Transaction, mark: UnfinishedWrite) -> None:
        """A write that failed part-way is undone at once, still in its turn, if the server
        answers; if not, IngestIncomplete says so, and how to settle it later."""
        try:
            with self._translated("undo a write to"):
                self._undo(mark.revision)
                turn.run(NEW_VERSION).consume()
                turn.commit()
        except GraphError as undo_failed:
            raise IngestIncomplete(
                f"{exc}. The write stopped part-way and could not be undone"
                f" ({undo_failed}): {mark.describe()}"
            ) from exc

    @staticmethod
    def _plan(
        tx: ManagedTransaction, data: GraphData, retractions: Sequence[Retraction], times_named: Counter[str]
    ) -> _PlannedWrite:
        """What the write stores, read in one transaction once the write turn is taken."""
        named = set(times_named)
        ends = {entity_id for link in data.links for entity_id in (link.from_id, link.to_id)}
        ids = sorted(named | ends)
        stored = {r["id"] for batch in _batches(ids, READ_BATCH) for r in tx.run(KINDS_BY_ID, ids=batch)}
        missing = sorted(ends - named - stored)
        if missing:
            raise InvalidBundle(
                [
                    BundleIssue(
                        file="links.csv", message=f"{entity_id!r} is neither in the bundle nor in the graph"
                    )
                    for entity_id in missing
                ]
            )
        reader = _PlanningReader(tx, absent=set(ids) - stored)
        observed = reader.observed({c.id for c in data.conditions})
        plan = plan_write(reader, data, retractions, observed)
        if plan.is_empty():
            return _PlannedWrite(plan=plan, observed=observed, earlier=[], created=[], orphans=set())
        ending: dict[str, str | None] = {e.id: None for e in plan.changed_entities} | plan.retracted_entities
        ending_links = {link.key: None for link in plan.changed_links} | plan.retracted_links
        reasons = ending | {link_key(key): reason for key, reason in ending_links.items()}
        earlier = [
            {
                "key": version.key,
                "kind": version.kind,
                "since": version.since,
                "body": version.record.model_dump_json(exclude_none=True),
                "retracted": reasons[version.key],
            }
            for version in reader.current_versions(ending, ending_links)
        ]
        created = [
            e.id for e in plan.new_entities if e.entity is EntityKind.cohort and times_named[e.id] == 1
        ]
        orphans = {
            r["id"]
            for batch in _batches(created, READ_BATCH)
            for r in tx.run(COHORTS_WITH_CONDITIONS, ids=batch)
        }
        return _PlannedWrite(plan=plan, observed=observed, earlier=earlier, created=created, orphans=orphans)

    def _write_batches(self, data: GraphData, planned: _PlannedWrite, revision: int) -> None:
        """Every batch of the plan, each in its own transaction (retried alone if it fails
        transiently), sent through a pipeline (graph.neo4j_pipeline) so the next batch is
        built while the server writes the last: earlier values kept, retracted facts
        dropped, new and changed entities and the observations stored, then the links (once
        their ends are), then the risk keys of the cohorts touched refreshed.

        Batches of entities and observations, which lock nothing another batch of the same
        write locks, go PIPELINE at a time; the rest one at a time, in order."""
        plan = planned.plan

        def run(query: str, **parameters: Any) -> Callable[[ManagedTransaction], None]:
            def work(tx: ManagedTransaction) -> None:
                tx.run(query, parameters, revision=revision).consume()

            return work

        def run_counted(query: str, rows: list[Props]) -> Callable[[ManagedTransaction], None]:
            return lambda tx: self._check_written(tx.run(query, rows=rows, revision=revision), len(rows))

        with BatchPipeline(self._session, PIPELINE) as pipeline:
            for batch in _batches(planned.earlier):
                pipeline.send(run(KEEP_EARLIER, rows=batch), concurrent=False)
            for keys in _batches(map(_key_row, plan.retracted_links)):
                pipeline.send(run(DROP_LINKS, keys=keys), concurrent=False)
            for ids in _batches(plan.retracted_entities):
                pipeline.send(run(DROP_ENTITIES, ids=ids), concurrent=False)
            pipeline.barrier()
            risks, keyed = new_link_risks(data, set(planned.created) - planned.orphans)
            entities, links = _write_statements(plan, risks)
            for query, rows in entities:
                for batch in _batches(rows):
                    pipeline.send(run_counted(query, batch))
            for stored in (False, True):
                observations = (
                    _observation_row(o)
                    for o in plan.observations
                    if (observation_key(o) in planned.observed) is stored
                )
                for batch in _batches(observations):
                    pipeline.send(run(KEEP_OBSERVATIONS if stored else ADD_OBSERVATIONS, rows=batch))
            pipeline.barrier()
            for query, rows in links:
                for batch in _batches(rows):
                    pipeline.send(run_counted(query, batch), concurrent=False)
            pipeline.barrier()
            touched = (cohort for cohort in sorted(plan.touched_cohorts) if cohort not in keyed)
            for cohorts in _batches(touched):
                pipeline.send(run(REFRESH_RISKS, ids=cohorts), concurrent=False)
            pipeline.barrier()

    def unfinished_write(self) -> UnfinishedWrite | None:
        mark = self._run_read(UNFINISHED)[0]["unfinished"]
        return None if mark is None else UnfinishedWrite.model_validate_json(mark)

    def interrupted_write(self) -> UnfinishedWrite | None:
        # Taking the write turn waits for the writer holding it; the turn is then given back.
        with self._translated("read from"), self._session() as session, session.begin_transaction() as turn:
            mark = turn.run(TAKE_WRITE_TURN).single(strict=True)["unfinished"]
            turn.rollback()
        return None if mark is None else UnfinishedWrite.model_validate_json(mark)

    def settle(self) -> UnfinishedWrite | None:
        """Undo the write the mark names, in a turn of its own (so it waits for a write
        under way to end, and then finds nothing to settle): what that write created is
        deleted, what it changed or retracted gets its value before back, the observations
        it kept go (a corrected one gets the one it replaced), the risk keys of the cohorts
        touched are refreshed, and a new version ends the mark. Safe to repeat if cut
        short. Returns the mark undone, or None."""
        with (
            self._translated("settle a write to"),
            self._session() as session,
            session.begin_transaction() as turn,
        ):
            found = turn.run(TAKE_WRITE_TURN).single(strict=True)["unfinished"]
            if found is None:
                return None
            mark = UnfinishedWrite.model_validate_json(found)
            self._undo(mark.revision)
            turn.run(NEW_VERSION).consume()  # answers kept before are forgotten, and the mark goes
            turn.commit()
        return mark

    def _undo(self, revision: int) -> None:
        """Everything write ``revision`` stored, taken back (see UNDO_*), a chunk per transaction."""

        def repeat(query: str) -> None:
            while self._run_write(query, revision=revision)[0]["done"]:
                pass

        touched = set(self._run_read(UNDO_TOUCHED_COHORTS, revision=revision)[0]["ids"])
        for query in UNDO_NEW_LINKS:
            repeat(query)
        repeat(UNDO_NEW_ENTITIES)
        entities: dict[tuple[EntityKind, int], list[Props]] = defaultdict(list)
        links: dict[tuple[LinkType, int], list[Props]] = defaultdict(list)
        for record in self._run_read(EARLIER_ENDED_AT, revision=revision):
            before = _earlier_record(record["kind"], record["body"])
            since = record["since"]
            if isinstance(before, Link):
                links[before.type, since].append(_link_row(before, {}, stored=False))
                if before.type is LinkType.ENGAGES:
                    touched.add(before.to_id)
            else:
                entities[before.entity, since].append(_entity_row(before, stored=False))
                if isinstance(before, Condition):
                    touched.add(before.cohort_id)
                elif before.entity is EntityKind.cohort:
                    touched.add(before.id)
        for (kind, since), rows in entities.items():
            for batch in _batches(rows):
                self._run_write(RESTORE_ENTITY[kind], rows=[row | {"since": since} for row in batch])
        for (link_type, since), rows in links.items():
            for batch in _batches(rows):
                self._run_write(RESTORE_LINK[link_type], rows=[row | {"since": since} for row in batch])
        repeat(UNDO_EARLIER)
        repeat(UNDO_CORRECTED_OBSERVATIONS)
        repeat(UNDO_NEW_OBSERVATIONS)
        for cohorts in _batches(sorted(touched)):
            self._run_write(REFRESH_RISKS, ids=cohorts)

    def _check_written(self, result: Result, rows_sent: int) -> None:
        written = result.single(strict=True)["written"]
        if written != rows_sent:  # only a link can miss: an end deleted during the write
            raise GraphError(
                f"Neo4j at {self.describe()} found the ends of only {written} of {rows_sent} links:"
                " an entity was deleted during the write"
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
                what = f"one batch of {BATCH_SIZE:,} rows of this write" if "write" in action else "this read"
                raise GraphError(
                    f"Neo4j at {where} has too little transaction memory for {what}: raise"
                    " dbms.memory.transaction.total.max (or the heap, server.memory.heap.max_size)"
                    f" and restart it ({exc.message})"
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
    """The GraphReader of one read transaction (or of a write's own, to plan it)."""

    def __init__(self, tx: Transaction | ManagedTransaction) -> None:
        self._tx = tx

    def version(self) -> str:
        return str(self._tx.run(VERSION).single(strict=True)["version"])

    def entities(self, ids: Collection[str]) -> list[AnyEntity]:
        return [
            found
            for batch in _batches(sorted(ids), READ_BATCH)
            for found in _entities(self._tx.run(ENTITIES_BY_ID, ids=batch))
        ]

    def links_by_key(self, keys: Collection[LinkKey]) -> list[Link]:
        return [
            found
            for batch in _batches(map(_key_row, sorted(keys)), READ_BATCH)
            for found in _links(self._tx.run(LINKS_BY_KEY, keys=batch))
        ]

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

    def actions(self, refs: Collection[str] | None = None) -> list[Action]:
        if refs is None:
            return _of_type(Action, self._tx.run(ALL_ACTIONS))
        found = _of_type(Action, self._tx.run(ACTIONS_ON, ids=sorted(refs)))
        return sorted(found, key=lambda action: action.id)

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
        return _engaged_rows(self._tx.run(ENGAGED, ids=sorted(organization_ids), projects=scope))

    def engaged_totals(self, private_below: int) -> list[EngagedTotal]:
        found = [
            EngagedTotal(
                record["organization_id"],
                record["project"],
                record["cohorts"],
                record["small"],
                record["workers"],
                tuple(sorted((d, code) for d in Dimension for code in record[f"risk_{d.value}"])),
            )
            for record in self._tx.run(ENGAGED_TOTALS, below=private_below)
        ]
        return sorted(found)

    def shared_engaged(self) -> list[EngagedCohort]:
        return _engaged_rows(self._tx.run(SHARED_ENGAGED))

    def everything(self) -> GraphData:
        entities = _entities(self._tx.run(ALL_ENTITIES))
        return GraphData.of([*entities, *_links(self._tx.run(ALL_LINKS))])

    def skeleton(self) -> GraphData:
        with collector_paused():  # as the embedded store: a hundred thousand records kept
            entities = [_entity(*row) for row in _collected(self._tx.run(SKELETON_ENTITIES))]
            links = [_link(*row) for row in _collected(self._tx.run(ALL_SUPPLY_LINKS))]
            return GraphData.of([*entities, *links])

    def cohort_facts(self) -> Iterator[CohortFacts]:
        for record in self._tx.run(COHORT_FACTS):
            yield CohortFacts(record["id"], record["name"], record["headcount"])

    def condition_facts(self, cohort_ids: Collection[str] | None = None) -> Iterator[ConditionFacts]:
        if cohort_ids is None:
            rows: Iterable[list[Any]] = (record["row"] for record in self._tx.run(CONDITION_FACTS))
        else:
            rows = _collected(self._tx.run(CONDITION_FACTS_OF, ids=sorted(cohort_ids)))
        for cohort_id, dimension, status, observed_at, source_ids, grade in rows:
            yield ConditionFacts(
                cohort_id,
                DIMENSION_OF[dimension],
                STATUS_OF[status],
                _day(observed_at),
                tuple(source_ids),
                GRADE_OF[grade],
            )

    def engagements(self) -> Iterator[Engagement]:
        for cohort_id, organization_id, project in self._tx.run(ENGAGEMENTS):
            yield Engagement(cohort_id, organization_id, project or "")

    def source_dates(self) -> dict[str, date | None]:
        rows = _collected(self._tx.run(SOURCE_DATES))
        return {source_id: _day(published_at) for source_id, published_at in rows}

    # -- history (graph.revisions) ---------------------------------------------------

    def revisions(self) -> list[Revision]:
        return [
            Revision(
                number=record["number"],
                at=record["at"],
                label=record["label"],
                digest=record["digest"],
                writer=record["writer"],
                counts=json.loads(record["counts"]),
            )
            for record in self._tx.run(REVISIONS)
        ]

    def observations(self, condition_ids: Collection[str]) -> list[Observation]:
        current = {c.id: c for c in self.entities(condition_ids) if isinstance(c, Condition)}
        found = []
        for record in self._tx.run(OBSERVATIONS_OF, ids=sorted(condition_ids)):
            condition = Condition.model_validate_json(record["body"])
            is_current = current.get(condition.id) == condition
            found.append(Observation(revision=record["revision"], current=is_current, condition=condition))
        return sorted(found, key=lambda observation: observation_key(observation.condition))

    def observed(self, condition_ids: Collection[str]) -> dict[tuple[str, str], Condition]:
        """Every stored observation of these conditions, by (condition id, date) key
        (graph.revisions.observation_key): what planning a write of them needs."""
        found = {}
        for batch in _batches(sorted(condition_ids), READ_BATCH):
            for record in self._tx.run(OBSERVATIONS_OF, ids=batch):
                condition = Condition.model_validate_json(record["body"])
                found[observation_key(condition)] = condition
        return found

    def current_versions(
        self, entity_ids: Collection[str], link_keys: Collection[LinkKey]
    ) -> list[FactVersion]:
        """The value each of these facts holds now, since the revision that last set it."""
        versions = []
        for batch in _batches(sorted(entity_ids), READ_BATCH):
            for labels, props in self._tx.run(ENTITIES_BY_ID, ids=batch):
                entity = _entity(labels, props)
                versions.append(
                    FactVersion(
                        key=entity.id, kind="entity", since=_last_revision(props), until=None, record=entity
                    )
                )
        for keys in _batches(map(_key_row, sorted(link_keys)), READ_BATCH):
            for from_id, link_type, to_id, props in self._tx.run(LINKS_BY_KEY, keys=keys):
                found = _link(from_id, link_type, to_id, props)
                versions.append(
                    FactVersion(
                        key=link_key(found.key),
                        kind="link",
                        since=_last_revision(props),
                        until=None,
                        record=found,
                    )
                )
        return versions

    def versions(self, keys: Collection[str]) -> dict[str, list[FactVersion]]:
        entity_ids = [key for key in keys if not is_link_key(key)]
        link_keys = [parse_link_key(key) for key in keys if is_link_key(key)]
        found: dict[str, list[FactVersion]] = defaultdict(list)
        for version in self.current_versions(entity_ids, link_keys):
            found[version.key].append(version)
        for batch in _batches(sorted(keys), READ_BATCH):
            for record in self._tx.run(EARLIER_OF, keys=batch):
                found[record["key"]].append(
                    FactVersion(
                        key=record["key"],
                        kind=record["kind"],
                        since=record["since"],
                        until=record["until"],
                        record=_earlier_record(record["kind"], record["body"]),
                        retracted=record["retracted"],
                    )
                )
        return {key: sorted(versions, key=lambda v: v.since) for key, versions in found.items()}

    def changed_after(self, revision: int) -> set[str]:
        changed = {record["id"] for record in self._tx.run(ENTITIES_SET_AFTER, revision=revision)}
        for from_id, link_type, to_id, project in self._tx.run(LINKS_SET_AFTER, revision=revision):
            changed.add(link_key((from_id, link_type, to_id, project)))
        return changed | {record["key"] for record in self._tx.run(ENDED_AFTER, revision=revision)}

    def facts_at(self, revision: int) -> GraphData:
        entities = _entities(self._tx.run(ENTITIES_AT, revision=revision))
        links = _links(self._tx.run(LINKS_AT, revision=revision))
        earlier = [_earlier_record(r["kind"], r["body"]) for r in self._tx.run(EARLIER_AT, revision=revision)]
        return GraphData.of([*entities, *links, *earlier])

    def entity_records(self, private_below: int = 0) -> Iterator[StoredEntity]:
        for labels, entity_id, props in self._tx.run(ENTITY_RECORDS, text=None, private_below=private_below):
            kind = _kind(labels)
            fields = _json_fields(props)
            if kind is EntityKind.condition:
                fields.pop("id", None)  # a condition's id is made of its cohort and dimension
            yield StoredEntity(kind, entity_id, {"entity": kind.value, **fields})

    def link_records(self, private_below: int = 0) -> Iterator[StoredLink]:
        for from_id, link_type, to_id, props in self._tx.run(LINK_RECORDS, private_below=private_below):
            fields = _json_fields(props)
            if not fields.get("project"):
                fields.pop("project", None)  # stored as "" for none, absent from the JSON form
            fields.update(from_id=from_id, type=link_type, to_id=to_id)
            yield StoredLink(from_id, LinkType(link_type), to_id, fields)

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


class _PlanningReader(_Neo4jReader):
    """The reader a write is planned with: the ids it already looked up and did not find
    are not read again (most of a first load's)."""

    def __init__(self, tx: Transaction | ManagedTransaction, absent: set[str]) -> None:
        super().__init__(tx)
        self._absent = absent

    def entities(self, ids: Collection[str]) -> list[AnyEntity]:
        return super().entities([entity_id for entity_id in ids if entity_id not in self._absent])

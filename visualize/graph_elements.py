"""The graph as an export holds it: nodes and edges with flat attributes, made from records.

Every entity is a node with its fields as attributes: text, numbers and booleans as they
are, lists (``kinds``, ``task_types``, ``dimensions``, ``source_ids``) joined by ``|``,
kept extra columns as ``extra_<column>``, and a ``label`` (its name or title, else its id).
Its kind is the attribute ``entity``. Edges are the links (``CONTRACTS``, ``SUBCONTRACTS``,
``SOURCES_VIA``, ``ENGAGES``, with their fields as attributes) and the references the model
holds as fields, each of which becomes an edge of its own type:

    unit ──PART_OF──> organization          decision ──MADE_BY──> unit
    decision ──APPLIES_TO──> organization   condition ──CONDITION_OF──> cohort
    any entity ──CITES──> source            (a link cites its sources in ``source_ids``)

Records come in their JSON form (graph.store.StoredEntity, StoredLink), so that the whole
graph streams through here without a model per record.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from functools import partial
from typing import Literal, NamedTuple, get_origin

from laborgraph.graph.model import ENTITY_MODELS, Link, Record
from laborgraph.graph.store import JsonRecord, StoredEntity, StoredLink
from laborgraph.graph.view import AnyEntity
from laborgraph.graph.vocabulary import EntityKind

Value = str | int | float | bool
EXTRA_PREFIX = "extra_"  # as the Neo4j store keeps extra columns: never mistaken for a field
PART_OF, MADE_BY, APPLIES_TO, CONDITION_OF, CITES, OWNED_BY = (
    "PART_OF",
    "MADE_BY",
    "APPLIES_TO",
    "CONDITION_OF",
    "CITES",
    "OWNED_BY",
)
_ENDS = ("from_id", "to_id", "type")  # a link's edge has them; an entity's node has its id
# The fields of each kind that hold another entity's id, and the edge each becomes.
_REFERENCES: dict[EntityKind, tuple[tuple[str, str], ...]] = {
    EntityKind.organization: (),
    EntityKind.unit: (("organization_id", PART_OF),),
    EntityKind.cohort: (),
    EntityKind.condition: (("cohort_id", CONDITION_OF),),
    EntityKind.decision: (("unit_id", MADE_BY), ("applies_to", APPLIES_TO)),
    EntityKind.source: (),
    EntityKind.benchmark: (),  # a condition names the benchmark it takes in its benchmark_id
    EntityKind.action: (("owner_unit_id", OWNED_BY),),  # its target is a text attribute
}
_NO_ATTRIBUTES: dict[str, Value] = {}  # shared by every reference's edge: never changed


def _lists(model: type[Record]) -> tuple[str, ...]:
    return tuple(name for name, field in model.model_fields.items() if get_origin(field.annotation) is tuple)


# The fields of each kind that hold lists (kinds, task_types, dimensions, source_ids).
_LISTS = {kind: _lists(model) for kind, model in ENTITY_MODELS.items()}
_LINK_LISTS = _lists(Link)


class GraphNode(NamedTuple):
    id: str
    label: str  # its name or title, else its id
    attributes: dict[str, Value]


class GraphEdge(NamedTuple):
    source: str
    target: str
    type: str  # a LinkType, or one of PART_OF, MADE_BY, APPLIES_TO, CONDITION_OF, CITES
    attributes: dict[str, Value]


Element = GraphNode | GraphEdge
Part = Literal["nodes", "edges"]  # half of the elements: the nodes, or the edges
# Made in C, not through a NamedTuple's Python constructor: there are millions of them.
_node = partial(tuple.__new__, GraphNode)
_edge = partial(tuple.__new__, GraphEdge)


def graph_elements(
    entities: Iterable[StoredEntity],
    links: Iterable[StoredLink],
    nodes: Collection[str] | None = None,
    part: Part | None = None,
) -> Iterator[Element]:
    """Each entity's node and the edges of its references, then each link's edge. With
    ``nodes`` (the ids of every entity given), a reference to anything else is left out, so
    that no edge leads out of a region. The records' fields become the attributes: they are
    changed in place, not copied. ``part`` keeps only the nodes, or only the edges, in the
    same order (two processes can write one each)."""
    if part == "nodes":
        yield from _nodes(entities)
        return
    if part == "edges":
        yield from _edges(entities, links, nodes)
        return
    for kind, entity_id, fields in entities:
        cited = fields.get("source_ids")  # before its node joins the list
        yield _node_of(kind, entity_id, fields)
        yield from _references(kind, entity_id, fields, cited, nodes)
    yield from _link_edges(links)


def _nodes(entities: Iterable[StoredEntity]) -> Iterator[GraphNode]:
    """The nodes graph_elements gives, alone."""
    for kind, entity_id, fields in entities:
        yield _node_of(kind, entity_id, fields)


def _edges(
    entities: Iterable[StoredEntity], links: Iterable[StoredLink], nodes: Collection[str] | None
) -> Iterator[GraphEdge]:
    """The edges graph_elements gives, alone: no node's attributes are made."""
    for kind, entity_id, fields in entities:
        yield from _references(kind, entity_id, fields, fields.get("source_ids"), nodes)
    yield from _link_edges(links)


def _node_of(kind: EntityKind, entity_id: str, fields: JsonRecord) -> GraphNode:
    fields.pop("id", None)  # the node has it (a condition has none: its id is made)
    attributes = flat(fields, _LISTS[kind])
    return _node((entity_id, attributes.get("name") or attributes.get("title") or entity_id, attributes))


def _references(
    kind: EntityKind, entity_id: str, fields: JsonRecord, cited: object, nodes: Collection[str] | None
) -> Iterator[GraphEdge]:
    """The edges of an entity's references and of the sources it cites (``cited``, the list)."""
    for field, edge_type in _REFERENCES[kind]:
        target = fields[field]
        if nodes is None or target in nodes:
            yield _edge((entity_id, target, edge_type, _NO_ATTRIBUTES))
    if cited:
        for source_id in cited:  # type: ignore[attr-defined]
            if nodes is None or source_id in nodes:
                yield _edge((entity_id, source_id, CITES, _NO_ATTRIBUTES))


def _link_edges(links: Iterable[StoredLink]) -> Iterator[GraphEdge]:
    for from_id, link_type, to_id, fields in links:
        for name in _ENDS:
            del fields[name]
        yield _edge((from_id, to_id, link_type.value, flat(fields, _LINK_LISTS)))


def region_elements(records: Iterable[AnyEntity | Link]) -> Iterator[Element]:
    """The elements of a region read as records (graph.analysis.regions.below_region)."""
    entities: list[StoredEntity] = []
    links: list[StoredLink] = []
    for record in records:
        fields = record.model_dump(mode="json", exclude_none=True)
        if isinstance(record, Link):
            links.append(StoredLink(record.from_id, record.type, record.to_id, fields))
        else:
            entities.append(StoredEntity(record.entity, record.id, fields))
    yield from graph_elements(entities, links, nodes={entity.id for entity in entities})


def flat(fields: JsonRecord, lists: tuple[str, ...]) -> dict[str, Value]:
    """A record's fields, changed in place into attributes: the ``lists`` joined (an empty
    one left out, as a store need not keep it) and extra columns prefixed."""
    for name in lists:
        listed = fields.get(name)
        if listed:
            fields[name] = "|".join(listed)  # type: ignore[arg-type]
        elif listed is not None:
            del fields[name]
    extra = fields.pop("extra", None)
    if extra:
        for column, value in extra.items():  # type: ignore[attr-defined]
            fields[EXTRA_PREFIX + column] = value
    return fields  # type: ignore[return-value]

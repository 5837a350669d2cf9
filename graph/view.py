"""GraphView: the in-memory graph that every analysis function reads.

Organizations and cohorts are the nodes of a networkx ``MultiDiGraph``; supply links and
``ENGAGES`` links are its edges, keyed by (type, project) so parallel links on different
projects stay distinct. Units, decisions, conditions and sources sit beside it in dicts;
actions are no part of a view (questions about them read the store: graph.analysis.actions).
graph.analysis.regions builds a view of the region each question needs from a store's
reads, with ``GraphView.upsert``, so every store's data is read the same way. A view
belongs to one question: what analysis derives in ``memo`` is dropped with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import networkx as nx

from laborgraph.graph.errors import NotFound
from laborgraph.graph.model import (
    Action,
    Benchmark,
    Cohort,
    Condition,
    Decision,
    GraphData,
    Link,
    Organization,
    Record,
    Source,
    Unit,
)
from laborgraph.graph.vocabulary import SUPPLY_LINKS, Dimension, EntityKind, LinkType

AnyEntity = Organization | Unit | Cohort | Condition | Decision | Source | Benchmark | Action


R = TypeVar("R", bound=Record)


def merge(old: R | None, new: R) -> R:
    """Upsert rule: fields the new record carries replace the old ones; others are kept."""
    if old is None or type(old) is not type(new):
        return new
    update = {name: getattr(new, name) for name in new.model_fields_set if name != "extra"}
    if new.extra:
        update["extra"] = {**old.extra, **new.extra}
    return old.model_copy(update=update)


@dataclass
class GraphView:
    graph: nx.MultiDiGraph = field(default_factory=nx.MultiDiGraph)
    units: dict[str, Unit] = field(default_factory=dict)
    decisions: dict[str, Decision] = field(default_factory=dict)
    conditions: dict[str, dict[Dimension, Condition]] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    benchmarks: dict[str, Benchmark] = field(default_factory=dict)
    # Each project belongs to the buyer whose CONTRACTS link carries it.
    project_owner: dict[str, str] = field(default_factory=dict)
    # What analysis derives for the question and may reuse (e.g. tier walks); emptied on every change.
    memo: dict[object, object] = field(default_factory=dict)

    # -- building -------------------------------------------------------------------

    @classmethod
    def of(cls, data: GraphData) -> GraphView:
        view = cls()
        view.upsert(data)
        return view

    def upsert(self, data: GraphData) -> None:
        """Merge entities and links into the view (the same rule the stores apply)."""
        self.memo.clear()
        # Filled through networkx's own dicts, as add_node and add_edge fill them, in half the
        # time those two took per record: a reopen builds the whole view through here.
        nodes, succ, pred = self.graph._node, self.graph._succ, self.graph._pred
        organizations_and_cohorts: list[Organization | Cohort] = [*data.organizations, *data.cohorts]
        for node in organizations_and_cohorts:
            attributes = nodes.get(node.id)
            if attributes is None:
                nodes[node.id], succ[node.id], pred[node.id] = {"entity": node}, {}, {}
            else:
                attributes["entity"] = merge(attributes.get("entity"), node)
        for unit in data.units:
            self.units[unit.id] = merge(self.units.get(unit.id), unit)
        for decision in data.decisions:
            self.decisions[decision.id] = merge(self.decisions.get(decision.id), decision)
        for source in data.sources:
            self.sources[source.id] = merge(self.sources.get(source.id), source)
        for benchmark in data.benchmarks:
            self.benchmarks[benchmark.id] = merge(self.benchmarks.get(benchmark.id), benchmark)
        for condition in data.conditions:
            by_dim = self.conditions.setdefault(condition.cohort_id, {})
            by_dim[condition.dimension] = merge(by_dim.get(condition.dimension), condition)
        for link in data.links:
            head, tail = link.from_id, link.to_id
            if head not in succ:  # a link from or to an id not (yet) in the view: a bare node
                nodes[head], succ[head], pred[head] = {}, {}, {}
            if tail not in succ:
                nodes[tail], succ[tail], pred[tail] = {}, {}, {}
            key = (link.type, link.project or "")
            keyed = succ[head].get(tail)
            if keyed is None:
                succ[head][tail] = pred[tail][head] = {key: {"link": link}}
            elif (attributes := keyed.get(key)) is None:
                keyed[key] = {"link": link}
            else:
                attributes["link"] = merge(attributes.get("link"), link)
            if link.type is LinkType.CONTRACTS and link.project:
                # Ingest refuses a second owner; should data name two, the smallest id wins
                # (the Neo4j store decides the same way).
                owner = self.project_owner.get(link.project)
                if owner is None or link.from_id < owner:
                    self.project_owner[link.project] = link.from_id
        nx._clear_cache(self.graph)  # what add_node and add_edge do after every change

    # -- reading --------------------------------------------------------------------

    def organization(self, org_id: str) -> Organization:
        entity = self.graph.nodes[org_id]["entity"] if org_id in self.graph else None
        if not isinstance(entity, Organization):
            raise NotFound(org_id, EntityKind.organization)
        return entity

    def cohort(self, cohort_id: str) -> Cohort:
        entity = self.graph.nodes[cohort_id]["entity"] if cohort_id in self.graph else None
        if not isinstance(entity, Cohort):
            raise NotFound(cohort_id, EntityKind.cohort)
        return entity

    def node(self, node_id: str) -> Organization | Cohort:
        try:
            return self.graph.nodes[node_id]["entity"]  # type: ignore[no-any-return]
        except KeyError:
            raise NotFound(node_id) from None

    def get(self, entity_id: str) -> AnyEntity:
        """Any entity by id; a condition by ``cohort_id/dimension``."""
        found = self._find(entity_id)
        if found is None:
            raise NotFound(entity_id)
        return found

    def _find(self, entity_id: str) -> AnyEntity | None:
        # Without raising: a write looks up every record it merges, and most are new.
        attributes = self.graph._node.get(entity_id)
        if attributes is not None:
            return attributes.get("entity")  # type: ignore[no-any-return]
        for table in (self.units, self.decisions, self.sources, self.benchmarks):
            if entity_id in table:
                return table[entity_id]
        cohort_id, _, dim = entity_id.rpartition("/")
        return self.conditions.get(cohort_id, {}).get(dim)  # type: ignore[call-overload,no-any-return]

    def organizations(self) -> Iterator[Organization]:
        for _, entity in self.graph.nodes(data="entity"):
            if isinstance(entity, Organization):
                yield entity

    def cohorts(self) -> Iterator[Cohort]:
        for _, entity in self.graph.nodes(data="entity"):
            if isinstance(entity, Cohort):
                yield entity

    def links(self) -> Iterator[Link]:
        for *_, link in self.graph.edges(data="link"):
            yield link

    def out_links(self, node_id: str, types: Iterable[LinkType] = SUPPLY_LINKS) -> Iterator[Link]:
        return _links_of(self.graph.succ[node_id], types)

    def in_links(self, node_id: str, types: Iterable[LinkType] = SUPPLY_LINKS) -> Iterator[Link]:
        return _links_of(self.graph.pred[node_id], types)

    def organization_of(self, unit_id: str) -> str:
        return self.units[unit_id].organization_id

    def decisions_of(self, org_id: str) -> list[Decision]:
        """The decisions the organization's units made, by id."""
        by_org = self.memo.get("decisions-by-organization")
        if not isinstance(by_org, dict):
            grouped: dict[str, list[Decision]] = {}
            for decision in sorted(self.decisions.values(), key=lambda d: d.id):
                unit = self.units.get(decision.unit_id)  # missing only outside a validated ingest
                if unit is not None:
                    grouped.setdefault(unit.organization_id, []).append(decision)
            by_org = self.memo["decisions-by-organization"] = grouped
        return by_org.get(org_id, [])  # type: ignore[no-any-return]

    def projects_of(self, org_id: str) -> frozenset[str]:
        key = ("projects-by-owner", id(self.project_owner))  # a store may set project_owner whole
        by_owner = self.memo.get(key)
        if not isinstance(by_owner, dict):
            grouped: dict[str, set[str]] = {}
            for project, owner in self.project_owner.items():
                grouped.setdefault(owner, set()).add(project)
            by_owner = self.memo[key] = {owner: frozenset(ps) for owner, ps in grouped.items()}
        return by_owner.get(org_id, frozenset())  # type: ignore[no-any-return]


def _links_of(
    adjacent: Mapping[str, Mapping[object, Mapping[str, Link]]], types: Iterable[LinkType]
) -> Iterator[Link]:
    """The links to (or from) each neighbour whose type is wanted; the edge key holds the type."""
    wanted = types if isinstance(types, tuple | frozenset | set) else tuple(types)
    for parallel in adjacent.values():
        for key, attributes in parallel.items():
            if key[0] in wanted:  # type: ignore[index]
                yield attributes["link"]

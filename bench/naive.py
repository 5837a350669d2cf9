"""The naive baselines the benchmark compares against: what one would write first.

Tracing: enumerate every simple path (networkx's ``all_simple_paths`` DFS) from each
decision's ``applies_to`` organization to every cohort over the whole graph, drop the paths
the decision's project scope cannot follow, score all of them, keep the top ``limit``.

Ingest: one managed transaction (``session.execute_write``) per bundle row, each a MERGE.
"""

from __future__ import annotations

import heapq
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import networkx as nx
from neo4j import Driver, ManagedTransaction

from laborgraph.graph.analysis.traverse import decision_scope, visible
from laborgraph.graph.model import Cohort, Decision
from laborgraph.graph.scoring import ScoringConfig
from laborgraph.graph.view import GraphView
from laborgraph.graph.vocabulary import SUPPLY_LINKS, EntityKind, LinkType

# (-severity, -likelihood, -headcount, cohort, dimension, decision, organizations): the
# ranking of graph.analysis.paths, chains in id order last.
PathKey = tuple[int, float, int, str, str, str, tuple[str, ...]]


class TooSlow(Exception):
    """The naive enumeration ran past its time budget."""


def simple_paths(graph: nx.MultiDiGraph, source: str, cutoff: int) -> Iterator[list[str]]:
    """Every simple path from ``source`` to a cohort within ``cutoff`` links.

    The DFS of ``nx.all_simple_paths`` without its target-set check, which costs
    O(number of cohorts) per step (``targets - path``) and would make the baseline a strawman;
    one node path per node sequence, so parallel links are judged together.
    """
    path, stack = [source], [iter(graph.succ[source])]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            path.pop()
            continue
        if child in path:
            continue
        if isinstance(graph.nodes[child]["entity"], Cohort):
            yield [*path, child]
        elif len(path) < cutoff:
            path.append(child)
            stack.append(iter(graph.succ[child]))


def _follows(view: GraphView, path: list[str], scope: frozenset[str] | None) -> bool:
    last = len(path) - 2
    for hop, (a, b) in enumerate(zip(path, path[1:], strict=False)):
        wanted = (LinkType.ENGAGES,) if hop == last else SUPPLY_LINKS
        if not any(
            data["link"].type in wanted and visible(data["link"], scope) for data in view.graph[a][b].values()
        ):
            return False
    return True


def naive_trace(
    view: GraphView,
    buyer: str,
    config: ScoringConfig,
    depth: int = 6,
    limit: int = 100,
    budget_s: float = 300.0,
    use_networkx: bool = False,
) -> list[PathKey]:
    """The buyer's top ``limit`` risk paths, ranked like trace_risk_paths ranks them."""
    deadline = time.perf_counter() + budget_s
    by_start: dict[str, list[Decision]] = defaultdict(list)  # enumerate each start once
    for decision in view.decisions.values():
        if view.organization_of(decision.unit_id) == buyer:
            by_start[decision.applies_to].append(decision)
    cohorts = {c.id for c in view.cohorts()} if use_networkx else set()

    def scored() -> Iterator[PathKey]:
        for n, (start, decisions) in enumerate(by_start.items()):
            paths = (
                nx.all_simple_paths(view.graph, start, cohorts, cutoff=depth)
                if use_networkx
                else simple_paths(view.graph, start, depth)
            )
            scopes = [decision_scope(view, d) for d in decisions]
            for i, path in enumerate(paths):
                if i % 1000 == 0 and time.perf_counter() > deadline:
                    raise TooSlow(f"{n} of {len(by_start)} start organizations done")
                cohort = view.cohort(path[-1])
                recorded = view.conditions.get(cohort.id, {})
                for decision, scope in zip(decisions, scopes, strict=True):
                    if not _follows(view, path, scope):
                        continue
                    for dimension in decision.effective_dimensions:
                        condition = recorded.get(dimension)
                        if condition is None:
                            continue
                        likelihood = config.likelihood_of(condition.status)
                        if likelihood is None:
                            continue
                        severity, _ = config.severity_of(condition)
                        yield (
                            -severity,
                            -likelihood,
                            -(cohort.headcount or 0),
                            cohort.id,
                            dimension.value,
                            decision.id,
                            tuple(path[:-1]),
                        )

    return heapq.nsmallest(limit, scored())


# -- ingest: one transaction per row ------------------------------------------------------

LABELS = {kind: kind.value.capitalize() for kind in EntityKind}
MERGE_NODE = {
    kind: f"MERGE (n:Entity {{id: $id}}) SET n:{label} SET n += $props" for kind, label in LABELS.items()
}
MERGE_LINK = {
    t: "MATCH (a:Entity {id: $from_id}) MATCH (b:Entity {id: $to_id})"
    f" MERGE (a)-[r:{t} {{project: $project}}]->(b) SET r += $props"
    for t in LinkType
}
ENTITY_SECTIONS = {
    "sources": EntityKind.source,
    "organizations": EntityKind.organization,
    "units": EntityKind.unit,
    "cohorts": EntityKind.cohort,
    "conditions": EntityKind.condition,
    "decisions": EntityKind.decision,
}


def _run(tx: ManagedTransaction, query: str, **params: Any) -> None:
    tx.run(query, **params).consume()


def write_row_by_row(driver: Driver, database: str, sections: dict[str, list[dict[str, str]]]) -> int:
    """Write bundle rows (CSV cells) one transaction each; return how many were written."""
    written = 0
    with driver.session(database=database) as session:
        for section, kind in ENTITY_SECTIONS.items():
            for row in sections.get(section, []):
                props = {k: v for k, v in row.items() if v}
                node_id = row.get("id") or f"{row['cohort_id']}/{row['dimension']}"
                session.execute_write(_run, MERGE_NODE[kind], id=node_id, props=props)
                written += 1
        for row in sections.get("links", []):
            props = {k: v for k, v in row.items() if v and k not in ("from_id", "to_id", "type", "project")}
            session.execute_write(
                _run,
                MERGE_LINK[LinkType(row["type"])],
                from_id=row["from_id"],
                to_id=row["to_id"],
                project=row["project"],
                props=props,
            )
            written += 1
    return written

"""Walking the supply chain: project scope, reachability and simple chains.

A ``Scope`` is the set of projects whose links a walk may follow; links with no project are
always followed, and ``None`` means every link. Walks go down CONTRACTS, SUBCONTRACTS and
SOURCES_VIA links, then along ENGAGES to cohorts. Depth counts links from the start
organization to the cohort, the ENGAGES link included.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from laborgraph.graph.errors import InvalidQuery
from laborgraph.graph.model import Decision, Link
from laborgraph.graph.store import MAX_DEPTH
from laborgraph.graph.view import GraphView
from laborgraph.graph.vocabulary import DEFAULT_GRADE, SUPPLY_LINKS, LinkType, OrgKind

Scope = frozenset[str] | None
ENGAGES = (LinkType.ENGAGES,)


def check_depth(depth: int) -> int:
    if not 1 <= depth <= MAX_DEPTH:
        raise InvalidQuery(f"depth must be between 1 and {MAX_DEPTH}, got {depth}")
    return depth


def visible(link: Link, scope: Scope) -> bool:
    return scope is None or link.project is None or link.project in scope


def decision_scope(view: GraphView, decision: Decision) -> Scope:
    """Projects a decision's effect may travel along: the one it names, else its maker's.

    A buyer's decision never reaches another buyer's project, even one it names (ingest
    refuses such a decision); a vendor's may name any project it works on.
    """
    maker = view.organization(view.organization_of(decision.unit_id))
    own = view.projects_of(maker.id)
    if not decision.project:
        return own
    if OrgKind.buyer in maker.kinds:
        return own & {decision.project}
    return frozenset({decision.project})


def viewpoint_scope(view: GraphView, org_id: str) -> Scope:
    """What an organization sees below it: a buyer its own projects and unscoped links, as
    its decisions do; any other organization all the work it handles."""
    if OrgKind.buyer in view.organization(org_id).kinds:
        return view.projects_of(org_id)
    return None


# The walks below read networkx's own adjacency dicts (``_succ``/``_pred``: neighbour → edge
# key → attributes) rather than the read-only views around them: a question walks tens of
# thousands of links, and the views cost more than the walk. Edge keys are (type, project).
EdgeKeys = Mapping[tuple[LinkType, str], Mapping[str, Link]]
SUPPLY = frozenset(SUPPLY_LINKS)


def follows(keys: EdgeKeys, types: frozenset[LinkType] | tuple[LinkType, ...], scope: Scope) -> bool:
    """Whether one of the parallel links between two nodes is of a wanted type and in scope."""
    for link_type, project in keys:
        if link_type in types and (scope is None or not project or project in scope):
            return True
    return False


def _links_in(keys: EdgeKeys, types: frozenset[LinkType] | tuple[LinkType, ...], scope: Scope) -> list[Link]:
    """The parallel links between two nodes that are of a wanted type and in scope."""
    return [
        attributes["link"]
        for (link_type, project), attributes in keys.items()
        if link_type in types and (scope is None or not project or project in scope)
    ]


class _Below:
    """An organization's links out, split once per view: supply links to walk on, and the
    cohorts it engages with the projects of those links ("" for none)."""

    __slots__ = ("engages", "supply")

    def __init__(self, adjacent: Mapping[str, EdgeKeys]) -> None:
        self.supply: list[tuple[str, EdgeKeys]] = []
        self.engages: list[tuple[str, frozenset[str]]] = []
        for target, keys in adjacent.items():
            engages = frozenset(project for link_type, project in keys if link_type is LinkType.ENGAGES)
            if engages:
                self.engages.append((target, engages))
            if len(engages) < len(keys):
                self.supply.append((target, keys))


def supply_out(view: GraphView, org: str) -> list[tuple[str, EdgeKeys]]:
    """The organizations ``org`` has supply links to, with the keys of those links."""
    return _below(view, org).supply


def _below(view: GraphView, org: str) -> _Below:
    split = view.memo.get("below")
    if not isinstance(split, dict):
        split = view.memo["below"] = {}
    found = split.get(org)
    if found is None:
        found = split[org] = _Below(view.graph._succ.get(org, {}))
    return found  # type: ignore[no-any-return]


def org_distances(view: GraphView, start: str, scope: Scope, max_hops: int) -> dict[str, int]:
    """Fewest supply links from ``start`` to each organization it reaches (breadth first)."""
    distance = {start: 0}
    frontier = [start]
    for hops in range(1, max_hops + 1):
        reached = []
        for node in frontier:
            for target, keys in supply_out(view, node):
                if target not in distance and follows(keys, SUPPLY, scope):
                    distance[target] = hops
                    reached.append(target)
        if not reached:
            break
        frontier = reached
    return distance


def upstream_of(view: GraphView, org: str, max_hops: int) -> set[str]:
    """The organizations within ``max_hops`` supply links above ``org``, itself among them:
    those whose unscoped ``org_distances`` reach it."""
    found = {org}
    frontier = [org]
    for _ in range(max_hops):
        reached = []
        for node in frontier:
            for source, keys in view.graph._pred.get(node, {}).items():
                if source not in found and follows(keys, SUPPLY, None):
                    found.add(source)
                    reached.append(source)
        if not reached:
            break
        frontier = reached
    return found


def memo_org_distances(view: GraphView, start: str, scope: Scope, max_hops: int) -> dict[str, int]:
    """``org_distances``, walked once per view: a question asks it for many cohorts."""
    key = ("org_distances", start, scope, max_hops)
    if key not in view.memo:
        view.memo[key] = org_distances(view, start, scope, max_hops)
    return view.memo[key]  # type: ignore[return-value]


def sees(scope: Scope, projects: frozenset[str]) -> bool:
    """Whether a walk in ``scope`` may follow one of parallel links with these projects."""
    return scope is None or "" in projects or not scope.isdisjoint(projects)


def engages_of(view: GraphView, org: str) -> list[tuple[str, frozenset[str]]]:
    """The cohorts ``org`` engages, with the projects of those links ("" for none)."""
    return _below(view, org).engages


def engagers_of(view: GraphView, cohort_id: str) -> list[tuple[str, frozenset[str]]]:
    """The organizations engaging the cohort, with the projects of those links ("" for none)."""
    return [
        (org, frozenset(project for link_type, project in keys if link_type is LinkType.ENGAGES))
        for org, keys in view.graph._pred[cohort_id].items()
        if follows(keys, ENGAGES, None)
    ]


def cohort_distances(view: GraphView, start: str, scope: Scope, depth: int) -> dict[str, int]:
    """Links from ``start`` to each cohort it reaches within ``depth`` links."""
    reached: dict[str, int] = {}
    # Organizations come nearest first (breadth-first order): a cohort's first visit is its nearest.
    for org, hops in memo_org_distances(view, start, scope, depth - 1).items():
        for cohort, projects in engages_of(view, org):
            if cohort not in reached and sees(scope, projects):
                reached[cohort] = hops + 1
    return reached


def upstream_orgs(view: GraphView, cohort_id: str, depth: int) -> set[str]:
    """Organizations with some path (any project) to the cohort within ``depth`` links."""
    engaging = {org for org, keys in view.graph._pred[cohort_id].items() if follows(keys, ENGAGES, None)}
    return orgs_above(view, engaging, depth - 1)


def orgs_above(view: GraphView, starts: set[str], max_hops: int) -> set[str]:
    """The starts and every organization within ``max_hops`` supply links (any project) above them."""
    pred = view.graph._pred
    found = set(starts)
    frontier = list(starts)
    for _ in range(max_hops):
        reached = []
        for node in frontier:
            for source, keys in pred.get(node, {}).items():
                if source not in found and follows(keys, SUPPLY, None):
                    found.add(source)
                    reached.append(source)
        frontier = reached
    return found


@dataclass(frozen=True)
class Chain:
    """One simple path from a start organization down to a cohort: the links, in order."""

    links: tuple[Link, ...]

    @property
    def org_ids(self) -> tuple[str, ...]:
        return (self.links[0].from_id, *(link.to_id for link in self.links[:-1]))

    @property
    def engaging_org(self) -> str:
        return self.links[-1].from_id


def _best(links: list[Link]) -> Link:
    """Of parallel links between the same two nodes, the best evidenced (deterministic)."""
    order = list(type(DEFAULT_GRADE))
    return min(links, key=lambda k: (order.index(k.grade), k.type.value, k.project or ""))


MAX_CHAINS = 100  # chains traced from one organization to one cohort: a mesh of vendors has millions


def chains_to(view: GraphView, start: str, cohort_id: str, scope: Scope, depth: int) -> list[Chain]:
    """The simple chains from ``start`` to the cohort within ``depth`` links, sorted by ids:
    every one, or the MAX_CHAINS shortest (fewest links, then ids)."""
    pred = view.graph._pred
    engaged_by = {}
    for org, keys in pred[cohort_id].items():
        if engages := _links_in(keys, ENGAGES, scope):
            engaged_by[org] = _best(engages)
    # Fewest links from each organization to the cohort, to prune walks that cannot arrive;
    # only organizations the start reaches can be on a chain, so the walk up stays among them.
    ahead = memo_org_distances(view, start, scope, depth - 1)
    to_cohort = {org: 1 for org in engaged_by if org in ahead}
    # The links among them, by the organization they leave: the walk down follows only these,
    # never the thousands of ENGAGES links a large vendor or platform has.
    below: dict[str, dict[str, list[Link]]] = {}
    queue = deque(to_cohort)
    while queue:
        node = queue.popleft()
        into = pred[node]  # a popular vendor has hundreds of buyers: look from the smaller side
        for source in ahead if len(ahead) < len(into) else list(into):
            keys = into.get(source)
            if keys and source in ahead and (links := _links_in(keys, SUPPLY, scope)):
                below.setdefault(source, {})[node] = links
                if source not in to_cohort:
                    to_cohort[source] = to_cohort[node] + 1
                    queue.append(source)
    if to_cohort.get(start, depth + 1) > depth:
        return []
    found: list[Chain] = []

    def walk(node: str, path: list[Link], seen: set[str], longest: int, exactly: bool) -> None:
        if node in engaged_by and (not exactly or len(path) + 1 == longest):
            found.append(Chain((*path, engaged_by[node])))
        for target, links in sorted(below.get(node, {}).items()):
            if len(found) > MAX_CHAINS:
                return
            if target not in seen and len(path) + 1 + to_cohort[target] <= longest:
                seen.add(target)
                walk(target, [*path, _best(links)], seen, longest, exactly)
                seen.discard(target)

    walk(start, [], {start}, depth, exactly=False)
    if len(found) > MAX_CHAINS:
        # A mesh: keep the shortest chains, fewest links first, then in id order (partners are
        # walked in id order), so every store keeps the same ones.
        found.clear()
        for length in range(to_cohort[start], depth + 1):
            walk(start, [], {start}, length, exactly=True)
        del found[MAX_CHAINS:]
    found.sort(key=lambda chain: chain.org_ids)
    return found

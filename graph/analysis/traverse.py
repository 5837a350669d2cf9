"""Walking the supply chain: project scope, reachability and simple chains.

A ``Scope`` is the set of projects whose links a walk may follow; links with no project are
always followed, and ``None`` means every link. Walks go down CONTRACTS, SUBCONTRACTS and
SOURCES_VIA links, then along ENGAGES to cohorts. Depth counts links from the start
organization to the cohort, the ENGAGES link included.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from graph.errors import InvalidQuery
from graph.model import Decision, Link
from graph.store import MAX_DEPTH
from graph.view import GraphView
from graph.vocabulary import DEFAULT_GRADE, LinkType, OrgKind

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


def org_distances(view: GraphView, start: str, scope: Scope, max_hops: int) -> dict[str, int]:
    """Fewest supply links from ``start`` to each organization it reaches (breadth first)."""
    distance = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if distance[node] == max_hops:
            continue
        for link in view.out_links(node):
            if link.to_id not in distance and visible(link, scope):
                distance[link.to_id] = distance[node] + 1
                queue.append(link.to_id)
    return distance


def _memo_org_distances(view: GraphView, start: str, scope: Scope, max_hops: int) -> dict[str, int]:
    # Tracing asks for the chains of many cohorts below the same start: walk once per view.
    key = ("org_distances", start, scope, max_hops)
    if key not in view.memo:
        view.memo[key] = org_distances(view, start, scope, max_hops)
    return view.memo[key]  # type: ignore[return-value]


def cohort_distances(view: GraphView, start: str, scope: Scope, depth: int) -> dict[str, int]:
    """Links from ``start`` to each cohort it reaches within ``depth`` links."""
    reached: dict[str, int] = {}
    for org, hops in org_distances(view, start, scope, depth - 1).items():
        for link in view.out_links(org, ENGAGES):
            if visible(link, scope) and reached.get(link.to_id, depth + 1) > hops + 1:
                reached[link.to_id] = hops + 1
    return reached


def upstream_orgs(view: GraphView, cohort_id: str, depth: int) -> set[str]:
    """Organizations with some path (any project) to the cohort within ``depth`` links."""
    engaging = {link.from_id for link in view.in_links(cohort_id, ENGAGES)}
    distance = dict.fromkeys(engaging, 1)
    queue = deque(engaging)
    while queue:
        node = queue.popleft()
        if distance[node] == depth:
            continue
        for link in view.in_links(node):
            if link.from_id not in distance:
                distance[link.from_id] = distance[node] + 1
                queue.append(link.from_id)
    return set(distance)


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


def chains_to(view: GraphView, start: str, cohort_id: str, scope: Scope, depth: int) -> list[Chain]:
    """Every simple chain from ``start`` to the cohort within ``depth`` links, sorted by ids."""
    parallel_engages: dict[str, list[Link]] = {}
    for link in view.in_links(cohort_id, ENGAGES):
        if visible(link, scope):
            parallel_engages.setdefault(link.from_id, []).append(link)
    engaged_by = {org: _best(links) for org, links in parallel_engages.items()}
    # Fewest links from each organization to the cohort, to prune walks that cannot arrive;
    # only organizations the start reaches can be on a chain, so the walk up stays among them.
    ahead = _memo_org_distances(view, start, scope, depth - 1)
    to_cohort = {org: 1 for org in engaged_by if org in ahead}
    # The links among them, by the organization they leave: the walk down follows only these,
    # never the thousands of ENGAGES links a large vendor or platform has.
    below: dict[str, dict[str, list[Link]]] = {}
    queue = deque(to_cohort)
    while queue:
        node = queue.popleft()
        for link in view.in_links(node):
            if link.from_id in ahead and visible(link, scope):
                below.setdefault(link.from_id, {}).setdefault(node, []).append(link)
                if link.from_id not in to_cohort:
                    to_cohort[link.from_id] = to_cohort[node] + 1
                    queue.append(link.from_id)
    if to_cohort.get(start, depth + 1) > depth:
        return []
    found: list[Chain] = []

    def walk(node: str, path: list[Link], seen: set[str]) -> None:
        if node in engaged_by:
            found.append(Chain((*path, engaged_by[node])))
        for target, links in below.get(node, {}).items():
            if target not in seen and len(path) + 1 + to_cohort[target] <= depth:
                seen.add(target)
                walk(target, [*path, _best(links)], seen)
                seen.discard(target)

    walk(start, [], {start})
    found.sort(key=lambda chain: chain.org_ids)
    return found

"""The chain a map chooses from: organizations and supply links (a view), and the cohorts
they engage as light rows, with the tier of each node and the neighbourhood of a focus.

A map of a large chain holds tens of thousands of cohorts, of which it draws a few hundred:
the others are counted, never built as records (graph.analysis.outline reads them as rows).
A map of a view that holds every record (a small graph, or a test) reads the same rows
from the view's ENGAGES links.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

from laborgraph.graph.analysis.tiers import tiers_below
from laborgraph.graph.analysis.traverse import Scope, viewpoint_scope
from laborgraph.graph.errors import InvalidQuery, NotFound
from laborgraph.graph.model import Cohort, Condition, Decision, Organization, Unit
from laborgraph.graph.store import EngagedCohort
from laborgraph.graph.view import GraphView
from laborgraph.graph.vocabulary import LinkType, OrgKind

Tiers = dict[str, dict[str, int]]  # node → {viewpoint or buyer id: tier from it}


class Held(NamedTuple):
    """A cohort as a map counts it: enough to size, name and group it."""

    id: str
    name: str
    headcount: int | None


_held = partial(tuple.__new__, Held)  # in C: a chain holds tens of thousands


@dataclass
class Chain:
    view: GraphView
    cohorts: dict[str, Held] = field(default_factory=dict)
    engagers: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # cohort → (org, project)
    engaged: dict[str, list[str]] = field(default_factory=dict)  # organization → cohort ids

    @classmethod
    def of(cls, view: GraphView, rows: Iterable[EngagedCohort] | None = None) -> Chain:
        """The chain of ``view``'s organizations; ``rows`` (None: the view's own ENGAGES
        links) say which cohorts they engage."""
        chain = cls(view)
        cohorts, engagers, engaged = chain.cohorts, chain.engagers, chain.engaged
        for org, cohort_id, project, name, headcount, *_ in rows_of(view) if rows is None else rows:
            if cohort_id not in cohorts:
                cohorts[cohort_id] = _held((cohort_id, name, headcount))
                engagers[cohort_id] = [(org, project)]
            else:
                engagers[cohort_id].append((org, project))
            found = engaged.get(org)
            if found is None:
                engaged[org] = [cohort_id]
            else:
                found.append(cohort_id)
        return chain

    def tiers(self, viewpoint: str | None) -> tuple[Tiers, str]:
        """Per node, its tier from the viewpoint, or from each buyer above it; and whom
        tiers are counted from. A cohort has the tier of the nearest organization engaging
        it along a link the viewpoint sees. From every buyer, cohorts' tiers are left empty
        (``cohort_tiers`` works out those a map needs): at a million links each cohort sits
        below dozens of buyers."""
        if viewpoint is not None:
            name = self.view.organization(viewpoint).name  # NotFound unless it is an organization
            return self._below(viewpoint), name
        org_tiers, _ = _buyer_tiers(self.view)
        found: Tiers = dict(org_tiers)  # each organization's own dict is shared, never changed
        found.update({cohort_id: {} for cohort_id in self.cohorts})
        return found, "the nearest buyer"

    def cohort_tiers(self, cohort_ids: Iterable[str], found: Tiers) -> None:
        """Fill in ``found`` (Chain.tiers from every buyer) the tiers of these cohorts."""
        org_tiers, scopes = _buyer_tiers(self.view)
        for cohort_id in cohort_ids:
            if cohort_id not in self.cohorts:
                continue
            tiers = found[cohort_id] = {}
            for org, project in self.engagers[cohort_id]:
                for buyer, tier in org_tiers.get(org, {}).items():
                    scope = scopes[buyer]
                    seen = scope is None or not project or project in scope
                    if seen and tier < tiers.get(buyer, tier + 1):
                        tiers[buyer] = tier

    def _below(self, viewpoint: str) -> Tiers:
        orgs = {n: t for n, t in tiers_below(self.view, viewpoint).items() if n not in self.cohorts}
        scope: Scope = viewpoint_scope(self.view, viewpoint)
        found = {org: {viewpoint: tier} for org, tier in orgs.items()}
        # Only the cohorts its organizations engage: a map of every buyer asks this of each.
        below = dict.fromkeys(c for org in orgs for c in self.engaged.get(org, ()))
        for cohort_id in below:
            engaging = self.engagers[cohort_id]
            tiers = [
                orgs[org]
                for org, project in engaging
                if org in orgs and (scope is None or not project or project in scope)
            ]
            if tiers:
                found[cohort_id] = {viewpoint: min(tiers)}
        return found

    def focus_node(self, focus: str) -> str:
        """The map node an id stands for (a unit: its organization; a decision: its target;
        a condition: its cohort)."""
        cohort_id = focus.rpartition("/")[0] or focus
        if cohort_id in self.cohorts:
            return cohort_id
        entity = self.view.get(focus)
        if isinstance(entity, Organization | Cohort):
            return entity.id
        if isinstance(entity, Unit):
            return entity.organization_id
        if isinstance(entity, Decision):
            return entity.applies_to
        if isinstance(entity, Condition):
            return entity.cohort_id
        raise InvalidQuery(f"{focus!r} is a source; focus on an organization, cohort, unit or decision")

    def neighbourhood(self, start: str, depth: int, allowed: set[str]) -> set[str]:
        """Nodes within ``depth`` links of ``start``, following links both ways."""
        distance = {start: 0}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if distance[node] == depth:
                continue
            if node in self.cohorts:
                near = [org for org, _ in self.engagers.get(node, ())]
            else:
                adjacent = (*self.view.graph._succ.get(node, {}), *self.view.graph._pred.get(node, {}))
                near = [*(n for n in adjacent if n not in self.cohorts), *self.engaged.get(node, ())]
            for other in near:
                if other in allowed and other not in distance:
                    distance[other] = distance[node] + 1
                    queue.append(other)
        return set(distance)


BuyerTiers = tuple[Tiers, dict[str, Scope]]  # organization → {buyer: tier}; buyer → its projects


def _buyer_tiers(view: GraphView) -> BuyerTiers:
    """The tier of every organization from each buyer above it, and the projects each buyer
    sees: worked out once per view (the map of every buyer makes more than one chain of one
    view)."""
    kept = view.memo.get(_buyer_tiers)
    if kept is not None:
        return kept  # type: ignore[return-value]
    found: Tiers = {o.id: {} for o in view.organizations()}
    scopes: dict[str, Scope] = {}
    for buyer in view.organizations():
        if OrgKind.buyer in buyer.kinds:
            scopes[buyer.id] = viewpoint_scope(view, buyer.id)
            for node, tier in tiers_below(view, buyer.id).items():
                if node in found:
                    found[node][buyer.id] = tier
    view.memo[_buyer_tiers] = (found, scopes)
    return found, scopes


def rows_of(view: GraphView) -> Iterable[tuple[str, str, str, str, int | None]]:
    """(organization, cohort, project, name, headcount) of every ENGAGES link of a view."""
    for link in view.links():
        if link.type is LinkType.ENGAGES:
            try:
                cohort = view.cohort(link.to_id)
            except NotFound:
                continue  # a link to a cohort the view does not hold
            yield link.from_id, cohort.id, link.project or "", cohort.name, cohort.headcount

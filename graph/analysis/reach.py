"""What every decision of the graph reaches: the cohorts, and through them the units and
dimensions that reach each cohort. Gaps and fragmentation both start here.

A decision reaches a cohort when the cohort is engaged, along a link its project scope sees,
by an organization within ``depth - 1`` supply links of where the decision applies
(graph.analysis.traverse). Walking that per decision and per cohort is what made
whole-graph questions slow, so the reach is worked out per organization instead:

1. decisions that walk alike (same start, same project scope) walk once;
2. each organization's cohorts are split by the projects of their ENGAGES links, and each
   walk that reaches the organization takes every part its scope sees, whole;
3. a cohort gets the set of walks reaching it; cohorts sharing a set (most of those engaged
   by the same organization) share one ``Reachers``, its units and dimensions worked out
   once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from graph.analysis.paths import walk_groups
from graph.analysis.ranking import dimension_bits
from graph.analysis.traverse import check_depth, engages_of, memo_org_distances, sees
from graph.model import Decision
from graph.store import DEFAULT_DEPTH
from graph.view import GraphView
from graph.vocabulary import Dimension


@dataclass(frozen=True, eq=False)  # one per set of walks: compared and hashed by identity
class Reachers:
    """The decisions reaching a cohort (sorted by id), and what follows from them."""

    decisions: tuple[Decision, ...]
    organization_of: dict[str, str]  # unit → organization, for the units of these decisions

    @cached_property
    def unit_ids(self) -> tuple[str, ...]:
        return tuple(sorted({d.unit_id for d in self.decisions}))

    @cached_property
    def organizations(self) -> int:
        return len({self.organization_of[u] for u in self.unit_ids})

    @cached_property
    def dimension_bits(self) -> int:
        return dimension_bits(dim for d in self.decisions for dim in d.effective_dimensions)

    def deciding(self, dimension: Dimension) -> list[str]:
        """The ids of the decisions that affect ``dimension``."""
        return [d.id for d in self.decisions if dimension in d.effective_dimensions]


NOBODY = Reachers((), {})


class Reach:
    """Who reaches each cohort of a view within ``depth`` links, for every decision in it."""

    def __init__(self, view: GraphView, depth: int = DEFAULT_DEPTH) -> None:
        check_depth(depth)
        groups = walk_groups(view, sorted(view.decisions.values(), key=lambda d: d.id))
        walks = list(groups.values())
        # (organization, projects of its ENGAGES links) → the walks that see those cohorts
        seen_by: dict[tuple[str, frozenset[str]], set[int]] = defaultdict(set)
        parts: dict[str, dict[frozenset[str], list[str]]] = {}
        for walk, (start, scope) in enumerate(groups):
            for org in memo_org_distances(view, start, scope, depth - 1):
                by_projects = parts.get(org)
                if by_projects is None:
                    by_projects = parts[org] = _split_by_projects(view, org)
                for projects in by_projects:
                    if sees(scope, projects):
                        seen_by[org, projects].add(walk)
        walks_of: dict[str, frozenset[int]] = {}
        for (org, projects), reaching in seen_by.items():
            shared = frozenset(reaching)
            for cohort_id in parts[org][projects]:
                before = walks_of.get(cohort_id)
                walks_of[cohort_id] = shared if before is None or before == shared else before | shared
        organization_of = {unit.id: unit.organization_id for unit in view.units.values()}
        reachers: dict[frozenset[int], Reachers] = {}
        self._of: dict[str, Reachers] = {}
        for cohort_id, its_walks in walks_of.items():
            found = reachers.get(its_walks)
            if found is None:
                decisions = sorted((d for walk in its_walks for d in walks[walk]), key=lambda d: d.id)
                found = reachers[its_walks] = Reachers(tuple(decisions), organization_of)
            self._of[cohort_id] = found
        self.reaching_decisions = {d.id for found in reachers.values() for d in found.decisions}

    def of(self, cohort_id: str) -> Reachers:
        """Who reaches the cohort (NOBODY if no decision does)."""
        return self._of.get(cohort_id, NOBODY)

    def groups(self) -> dict[Reachers, list[str]]:
        """The cohorts reached, by who reaches them."""
        found: dict[Reachers, list[str]] = defaultdict(list)
        for cohort_id, reachers in self._of.items():
            found[reachers].append(cohort_id)
        return found


def _split_by_projects(view: GraphView, org: str) -> dict[frozenset[str], list[str]]:
    """The cohorts the organization engages, by the projects of its links to them."""
    parts: dict[frozenset[str], list[str]] = defaultdict(list)
    for cohort_id, projects in engages_of(view, org):
        parts[projects].append(cohort_id)
    return parts

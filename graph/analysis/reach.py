"""What every decision of the graph reaches: the cohorts, and through them the units and
dimensions that reach each cohort. Gaps and fragmentation both start here.

A decision reaches a cohort when the cohort is engaged, along a link its project scope sees,
by an organization within ``depth - 1`` supply links of where the decision applies
(graph.analysis.traverse). Walking that per decision and per cohort is what made
whole-graph questions slow, so the reach is worked out per organization instead:

1. decisions that walk alike (same start, same project scope) walk once, over the
   skeleton of organizations and supply links;
2. each (organization, projects of its links to a cohort) is seen by the walks that reach
   the organization with a scope that sees those projects, worked out once for all the
   cohorts engaged that way;
3. a cohort gets the set of walks reaching it; cohorts sharing a set (most of those engaged
   by the same organization) share one ``Reachers``, its units and dimensions worked out
   once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from itertools import groupby

from graph.analysis.paths import walk_groups
from graph.analysis.ranking import dimension_bits
from graph.analysis.traverse import Scope, check_depth, memo_org_distances, sees
from graph.model import Decision
from graph.store import DEFAULT_DEPTH, Engagement
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
        return list(self._deciding[dimension])

    @cached_property
    def _deciding(self) -> dict[Dimension, tuple[str, ...]]:
        found: dict[Dimension, list[str]] = defaultdict(list)
        for decision in self.decisions:
            for dimension in decision.effective_dimensions:
                found[dimension].append(decision.id)
        return defaultdict(tuple, {dimension: tuple(ids) for dimension, ids in found.items()})


NOBODY = Reachers((), {})


class Reach:
    """Who reaches each cohort within ``depth`` links, for every decision of the skeleton.

    ``engagements`` are every ENGAGES link, by cohort id then organization id (as
    graph.analysis.whole.WholeGraph gives them); they are read once, as they come.
    """

    def __init__(
        self, skeleton: GraphView, engagements: Iterable[Engagement], depth: int = DEFAULT_DEPTH
    ) -> None:
        check_depth(depth)
        groups = walk_groups(skeleton, sorted(skeleton.decisions.values(), key=lambda d: d.id))
        walks = list(groups.values())
        walks_at: dict[str, list[tuple[int, Scope]]] = defaultdict(list)  # organization → walks reaching it
        for walk, (start, scope) in enumerate(groups):
            for org in memo_org_distances(skeleton, start, scope, depth - 1):
                walks_at[org].append((walk, scope))
        organization_of = {unit.id: unit.organization_id for unit in skeleton.units.values()}
        # (organization, projects of its links to a cohort) → the walks that see the cohort
        seeing: dict[tuple[str, frozenset[str]], frozenset[int]] = {}
        reachers: dict[frozenset[int], Reachers] = {}  # one per set of walks
        self._of: dict[str, Reachers] = {}
        self.engagers: set[str] = set()  # organizations engaging some cohort
        for cohort_id, links in groupby(engagements, key=lambda e: e.cohort_id):
            its_walks: frozenset[int] = frozenset()
            for org, parallel in groupby(links, key=lambda e: e.organization_id):
                self.engagers.add(org)
                key = (org, frozenset(link.project for link in parallel))
                reaching = seeing.get(key)
                if reaching is None:
                    reaching = seeing[key] = frozenset(
                        w for w, scope in walks_at.get(org, ()) if sees(scope, key[1])
                    )
                its_walks = reaching if not its_walks or its_walks == reaching else its_walks | reaching
            if not its_walks:
                continue
            found = reachers.get(its_walks)
            if found is None:
                decisions = sorted((d for walk in its_walks for d in walks[walk]), key=lambda d: d.id)
                found = reachers[its_walks] = Reachers(tuple(decisions), organization_of)
            self._of[cohort_id] = found
        self.reaching_decisions = {d.id for found in reachers.values() for d in found.decisions}

    def of(self, cohort_id: str) -> Reachers:
        """Who reaches the cohort (NOBODY if no decision does)."""
        return self._of.get(cohort_id, NOBODY)

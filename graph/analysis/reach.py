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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from itertools import groupby
from operator import itemgetter

from laborgraph.graph.analysis.paths import walk_groups
from laborgraph.graph.analysis.ranking import dimension_bits
from laborgraph.graph.analysis.traverse import Scope, check_depth, memo_org_distances, sees
from laborgraph.graph.collector import collector_paused
from laborgraph.graph.model import Decision
from laborgraph.graph.store import DEFAULT_DEPTH, Engagement
from laborgraph.graph.view import GraphView
from laborgraph.graph.vocabulary import Dimension


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
    graph.analysis.whole.WholeGraph gives them); they are read once, as they come, and only
    as far as asked: ``of`` a cohort reads the links up to it, so a walk over the first
    cohorts (a page of gaps) does not read the rest. ``reached``, ``engagers`` and
    ``reaching_decisions`` read them all.
    """

    def __init__(
        self, skeleton: GraphView, engagements: Iterable[Engagement], depth: int = DEFAULT_DEPTH
    ) -> None:
        check_depth(depth)
        groups = walk_groups(skeleton, sorted(skeleton.decisions.values(), key=lambda d: d.id))
        walks_at: dict[str, list[tuple[int, Scope]]] = defaultdict(list)  # organization → walks reaching it
        for walk, (start, scope) in enumerate(groups):
            for org in memo_org_distances(skeleton, start, scope, depth - 1):
                walks_at[org].append((walk, scope))
        self._organization_of = {unit.id: unit.organization_id for unit in skeleton.units.values()}
        self._walks, self._walks_at = list(groups.values()), walks_at
        # (organization, projects of its links to a cohort) → the walks that see the cohort
        self._seeing: dict[tuple[str, frozenset[str]], frozenset[int]] = {}
        self._reachers: dict[frozenset[int], Reachers] = {}  # one per set of walks
        # A cohort's ENGAGES links as (organization, project) pairs → who reaches it: most
        # cohorts are engaged as many others are, so each such set is worked out once.
        self._by_links: dict[tuple[tuple[str, str], ...], Reachers] = {}
        self._of: dict[str, Reachers] = {}
        self._unread = groupby(engagements, itemgetter(0))
        self._read_up_to = ""  # the last cohort whose links were read
        self._read_all = False
        # The first cohort's links now: the stream opens before any other its caller opens
        # beside it, so a store serving one stream at a time (a Neo4j transaction) holds the
        # rest of this one while the others are read, not the rest of those.
        self._read(until="")

    def _read(self, until: str | None = None) -> None:
        """Read the links of the cohorts up to ``until`` (None: of every cohort)."""
        pair = itemgetter(1, 2)
        with collector_paused():  # a million cohorts' entries, next to no cycles
            for cohort_id, links in self._unread:
                key = tuple(map(pair, links))
                found = self._by_links.get(key)
                if found is None:
                    found = self._by_links[key] = self._reachers_of(key)
                if found is not NOBODY:
                    self._of[cohort_id] = found
                self._read_up_to = cohort_id
                if until is not None and cohort_id >= until:
                    return
        self._read_all = True

    def _reachers_of(self, links: tuple[tuple[str, str], ...]) -> Reachers:
        """Who reaches a cohort engaged along these (organization, project) links, by
        organization id."""
        its_walks: frozenset[int] = frozenset()
        for org, parallel in groupby(links, itemgetter(0)):
            key = (org, frozenset(project for _, project in parallel))
            reaching = self._seeing.get(key)
            if reaching is None:
                reaching = self._seeing[key] = frozenset(
                    w for w, scope in self._walks_at.get(org, ()) if sees(scope, key[1])
                )
            its_walks = reaching if not its_walks or its_walks == reaching else its_walks | reaching
        if not its_walks:
            return NOBODY
        found = self._reachers.get(its_walks)
        if found is None:
            decisions = sorted((d for walk in its_walks for d in self._walks[walk]), key=lambda d: d.id)
            found = self._reachers[its_walks] = Reachers(tuple(decisions), self._organization_of)
        return found

    @property
    def reached(self) -> Mapping[str, Reachers]:
        """Who reaches each cohort some decision reaches, by cohort id."""
        if not self._read_all:
            self._read()
        return self._of

    @cached_property
    def engagers(self) -> set[str]:
        """The organizations engaging some cohort."""
        self.reached  # noqa: B018 -- reads every link
        return {org for key in self._by_links for org, _ in key}

    @cached_property
    def reaching_decisions(self) -> set[str]:
        """The ids of the decisions reaching some cohort."""
        self.reached  # noqa: B018 -- reads every link
        return {d.id for found in self._reachers.values() for d in found.decisions}

    def of(self, cohort_id: str) -> Reachers:
        """Who reaches the cohort (NOBODY if no decision does)."""
        if not self._read_all and cohort_id > self._read_up_to:
            self._read(cohort_id)
        return self._of.get(cohort_id, NOBODY)

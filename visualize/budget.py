"""How much a map draws one by one: a budget of nodes, and the groups that keep it.

A page stays quick to send and to draw in a browser only up to a few thousand elements
(docs/PERFORMANCE.md, "Maps and the front page", has the measurements behind MAX_NODES).
Past the budget, cohorts are grouped under the organization engaging them, the largest
first; if the organizations alone are still too many, organizations are grouped by tier
and country, the largest groups first. What the map keeps (its viewpoint, its focus)
stays whole.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from laborgraph.graph.model import Organization
from laborgraph.visualize.chain import Held

MAX_NODES = 500  # nodes a map draws; edges follow (a chain is close to a tree)
# Edges between a group of organizations and another node (each merging every link between
# them) a map draws: past these, the strongest. The map of every buyer at a million links
# has about 7,000 such pairs, four times the bytes of everything else on its page.
MAX_EDGES_BETWEEN_GROUPS = 400
ORG_GROUP = "#orgs:"


@dataclass
class Grouping:
    cohorts: dict[str, list[Held]] = field(default_factory=dict)  # organization → its grouped cohorts
    orgs: dict[str, list[Organization]] = field(default_factory=dict)  # group id → its organizations

    def __bool__(self) -> bool:
        return bool(self.cohorts or self.orgs)


def org_group_id(tier: int | None, country: str) -> str:
    return f"{ORG_GROUP}{'' if tier is None else tier}:{country}"


def group_to_budget(
    orgs: list[Organization],
    cohorts: list[Held],
    home: Mapping[str, str | None],
    tiers: Mapping[str, int | None],
    keep: Collection[str | None],
    budget: int,
    counted: Mapping[str, int] | None = None,
) -> Grouping:
    """The groups that bring ``orgs`` and ``cohorts`` (each under its ``home``
    organization) within ``budget`` nodes, grouping as little as it can. ``counted`` gives,
    per organization, the cohorts under it that ``cohorts`` does not list (the map of every
    buyer counts them): they are grouped as listed ones would be, and an organization left
    out of every group of organizations must have them listed before it is drawn."""
    counted = {o.id: n for o in orgs if (n := (counted or {}).get(o.id, 0))}
    count = len(orgs) + len(cohorts) + sum(counted.values())
    grouping = Grouping()
    if count <= budget:
        return grouping
    under: dict[str, list[Held]] = {org: [] for org in counted}
    for cohort in cohorts:
        engager = home.get(cohort.id)
        if engager is not None and cohort.id not in keep:
            under.setdefault(engager, []).append(cohort)
    size = {org: len(listed) + counted.get(org, 0) for org, listed in under.items()}
    for org_id in sorted(under, key=lambda o: (o in keep, -size[o], o)):
        if count <= budget or size[org_id] < 2:
            break
        grouping.cohorts[org_id] = under[org_id]
        count -= size[org_id] - 1
    if count <= budget:
        return grouping
    # Still too many: organizations by tier and country, each with what it holds.
    drawn_under: dict[str, int] = defaultdict(int)
    for cohort in cohorts:
        engager = home.get(cohort.id)
        if engager is not None and engager not in grouping.cohorts:
            drawn_under[engager] += 1
    for org_id, n in counted.items():
        if org_id not in grouping.cohorts:
            drawn_under[org_id] += n
    buckets: dict[str, list[Organization]] = defaultdict(list)
    for org in orgs:
        if org.id not in keep:
            buckets[org_group_id(tiers.get(org.id), org.country)].append(org)

    def saving(group: str) -> int:
        members = buckets[group]
        return sum(1 + (1 if m.id in grouping.cohorts else drawn_under[m.id]) for m in members) - 1

    for group in sorted(buckets, key=lambda g: (-saving(g), g)):
        if count <= budget or saving(group) < 1:
            break
        count -= saving(group)
        grouping.orgs[group] = buckets[group]
    for members in grouping.orgs.values():
        for member in members:
            grouping.cohorts.pop(member.id, None)  # its cohorts are in its organizations' group
    return grouping

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
) -> Grouping:
    """The groups that bring ``orgs`` and ``cohorts`` (each under its ``home``
    organization) within ``budget`` nodes, grouping as little as it can."""
    count = len(orgs) + len(cohorts)
    grouping = Grouping()
    if count <= budget:
        return grouping
    under: dict[str, list[Held]] = defaultdict(list)
    for cohort in cohorts:
        engager = home.get(cohort.id)
        if engager is not None and cohort.id not in keep:
            under[engager].append(cohort)
    for org_id in sorted(under, key=lambda o: (o in keep, -len(under[o]), o)):
        if count <= budget or len(under[org_id]) < 2:
            break
        grouping.cohorts[org_id] = under[org_id]
        count -= len(under[org_id]) - 1
    if count <= budget:
        return grouping
    # Still too many: organizations by tier and country, each with what it holds.
    drawn_under: dict[str, int] = defaultdict(int)
    for cohort in cohorts:
        engager = home.get(cohort.id)
        if engager is not None and engager not in grouping.cohorts:
            drawn_under[engager] += 1
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

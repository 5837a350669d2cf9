"""Tiers: how many contracting steps below a viewpoint each organization and cohort sits.

Computed on demand, never stored: the same vendor is tier 1 for one buyer and tier 3 for
another. A cohort has the tier of the organization that engages it (the nearest one, if
several do). The walk follows the links the viewpoint can see (its own projects and
unscoped links; everything, for an organization that owns no project).
"""

from __future__ import annotations

from collections import deque

from pydantic import BaseModel

from graph.analysis.traverse import ENGAGES, viewpoint_scope, visible
from graph.model import Cohort, Organization
from graph.store import MAX_DEPTH
from graph.view import GraphView
from graph.vocabulary import EntityKind


class TierEntry(BaseModel):
    id: str
    name: str
    entity: EntityKind
    kinds: list[str] = []  # an organization's kinds
    country: str
    headcount: int | None = None
    tier: int
    via: str | None  # the organization one tier up on a shortest chain (None for the viewpoint)
    link: str | None  # the type of the link from ``via``


class TierMap(BaseModel):
    viewpoint: str
    viewpoint_name: str
    max_tier: int
    entries: list[TierEntry]


def _walk(view: GraphView, viewpoint: str) -> dict[str, tuple[int, str | None, str | None]]:
    """(tier, via, link type) for each organization and cohort below the viewpoint."""
    scope = viewpoint_scope(view, viewpoint)
    found: dict[str, tuple[int, str | None, str | None]] = {viewpoint: (0, None, None)}
    queue = deque([viewpoint])
    while queue:
        org = queue.popleft()
        tier = found[org][0]
        for link in sorted(view.out_links(org, ENGAGES), key=lambda k: k.to_id):
            if visible(link, scope) and link.to_id not in found:
                found[link.to_id] = (tier, org, link.type.value)
        if tier == MAX_DEPTH:
            continue
        for link in sorted(view.out_links(org), key=lambda k: (k.to_id, k.type.value)):
            if visible(link, scope) and link.to_id not in found:
                found[link.to_id] = (tier + 1, org, link.type.value)
                queue.append(link.to_id)
    return found


def tier_map(view: GraphView, viewpoint: str) -> TierMap:
    """Every organization and cohort downstream of ``viewpoint``, with its tier."""
    root = view.organization(viewpoint)
    entries = []
    for node_id, (tier, via, link) in _walk(view, viewpoint).items():
        entity = view.node(node_id)
        entries.append(
            TierEntry(
                id=node_id,
                name=entity.name,
                entity=entity.entity,
                kinds=[k.value for k in entity.kinds] if isinstance(entity, Organization) else [],
                country=entity.country,
                headcount=entity.headcount if isinstance(entity, Cohort) else None,
                tier=tier,
                via=via,
                link=link,
            )
        )
    entries.sort(key=lambda e: (e.tier, e.entity != EntityKind.organization, e.id))
    return TierMap(
        viewpoint=viewpoint,
        viewpoint_name=root.name,
        max_tier=max(e.tier for e in entries),
        entries=entries,
    )


def tier_of_cohort(view: GraphView, viewpoint: str, cohort_id: str) -> int | None:
    """The cohort's tier as seen from ``viewpoint``; None if the viewpoint does not reach it."""
    found = _cached_walk(view, viewpoint).get(cohort_id)
    return None if found is None else found[0]


def _cached_walk(view: GraphView, viewpoint: str) -> dict[str, tuple[int, str | None, str | None]]:
    # Tracing asks for the same viewpoint's tiers once per path: walk once per view.
    key = ("tiers", viewpoint)
    if key not in view.memo:
        view.memo[key] = _walk(view, viewpoint)
    return view.memo[key]  # type: ignore[return-value]

"""The nodes and edges of a map: organizations, cohorts (alone, suppressed or grouped), links.

Map ids are entity ids, except for suppressed cohorts and cohort groups, whose ids start
with "#" and so can never be an entity's (those start with a letter or a digit).
"""

from __future__ import annotations

import textwrap

from graph.analysis.privacy import SUPPRESSED_NAME
from graph.model import Cohort, Link, Organization
from graph.vocabulary import LinkType
from visualize import facts as F
from visualize import tooltips as T
from visualize.layout import Layout, tier_layout
from visualize.model import MapEdge, MapNode
from visualize.style import (
    COHORT_BORDER,
    FOCUS_BORDER,
    LINK_STYLES,
    ORG_COLORS,
    cohort_size,
    org_kind,
    risk_color,
)

GROUP = "#group:"
SUPPRESSED = "#suppressed-"
PairEdges = dict[tuple[str, str], list[str]]


def node_ids(cohorts: list[Cohort], small: set[str], groups: dict[str, list[Cohort]]) -> dict[str, str]:
    """The map id each cohort is drawn as: its group's, a suppressed stand-in, or its own."""
    node_of = {c.id: f"{GROUP}{org}" for org, members in groups.items() for c in members}
    hidden = (c.id for c in cohorts if c.id in small and c.id not in node_of)
    node_of.update({cohort_id: f"{SUPPRESSED}{n}" for n, cohort_id in enumerate(hidden, 1)})
    node_of.update({c.id: c.id for c in cohorts if c.id not in node_of})
    return node_of


def org_nodes(ctx: F.MapContext, orgs: list[Organization], focus: str | None) -> list[MapNode]:
    """Boxes coloured by kind (positions come later)."""
    nodes = []
    for org in orgs:
        kind = org_kind(org.kinds)
        engaged = [k.to_id for k in ctx.view.out_links(org.id, (LinkType.ENGAGES,))]
        nodes.append(
            MapNode(
                id=org.id,
                entity_id=org.id,
                kind="organization",
                name=org.name,
                label=wrap(org.name, 22) + "\n" + wrap(" · ".join([*org.kinds, org.country]), 24),
                title=T.org_tooltip(ctx, org),
                tier=ctx.tiers.get(org.id),
                x=0,
                y=0,
                color=ORG_COLORS[kind],
                border=FOCUS_BORDER if org.id == focus else ORG_COLORS[kind],
                size=20,
                org_kind=kind,
                cohort_count=len(engaged),
                focus=org.id == focus,
                facts=F.org_facts(ctx, org),
            )
        )
    return nodes


def cohort_nodes(
    ctx: F.MapContext,
    cohorts: list[Cohort],
    groups: dict[str, list[Cohort]],
    node_of: dict[str, str],
    focus: str | None,
) -> list[MapNode]:
    """Dots sized by headcount and coloured by worst risk; a hexagon per group."""
    nodes = []
    for cohort in cohorts:
        if node_of[cohort.id].startswith(GROUP):
            continue  # drawn as part of its group
        hidden = cohort.id in ctx.suppressed
        worst = ctx.worst(cohort.id)
        label = (
            SUPPRESSED_NAME
            if hidden
            else f"{wrap(cohort.name, 18)}\n{F.workers(cohort.headcount)} · {cohort.country}"
        )
        nodes.append(
            MapNode(
                id=node_of[cohort.id],
                entity_id=None if hidden else cohort.id,
                kind="cohort",
                name=SUPPRESSED_NAME if hidden else cohort.name,
                label=label,
                title=T.cohort_tooltip(ctx, cohort),
                tier=ctx.tiers.get(cohort.id),
                x=0,
                y=0,
                color=risk_color(worst),
                border=FOCUS_BORDER if cohort.id == focus else COHORT_BORDER,
                size=cohort_size(None if hidden else cohort.headcount),
                severity=worst,
                headcount=None if hidden else cohort.headcount,
                suppressed=hidden,
                focus=cohort.id == focus,
                facts=F.cohort_facts(ctx, cohort),
            )
        )
    for org, members in groups.items():
        worst = max((s for c in members if (s := ctx.worst(c.id)) is not None), default=None)
        total = sum(c.headcount or 0 for c in members if c.id not in ctx.suppressed)
        nodes.append(
            MapNode(
                id=f"{GROUP}{org}",
                entity_id=None,
                kind="cohort_group",
                name=f"{F.thousands(len(members))} cohorts engaged by {ctx.name(org)}",
                label=f"{F.thousands(len(members))} cohorts\n{F.workers(total)}",
                title=T.group_tooltip(ctx, org, members),
                tier=ctx.tiers.get(org),
                x=0,
                y=0,
                color=risk_color(worst),
                border=COHORT_BORDER,
                size=cohort_size(total),
                severity=worst,
                headcount=total,
                cohort_count=len(members),
                facts=F.group_facts(ctx, org, members),
            )
        )
    return nodes


def wrap(text: str, width: int) -> str:
    """Lines for a canvas label, wrapped here: measuring text to wrap it is slow in the browser."""
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


def map_edges(
    ctx: F.MapContext, org_ids: set[str], node_of: dict[str, str]
) -> tuple[list[MapEdge], PairEdges]:
    """Map edges (parallel links merged) and, per (source, target), the edge ids."""
    merged: dict[tuple[str, str, LinkType], list[Link]] = {}
    for link in ctx.view.links():
        if link.from_id not in org_ids:
            continue
        target = node_of.get(link.to_id) if link.type is LinkType.ENGAGES else link.to_id
        if target is None or (link.type is not LinkType.ENGAGES and target not in org_ids):
            continue
        merged.setdefault((link.from_id, target, link.type), []).append(link)
    edges: list[MapEdge] = []
    pairs: PairEdges = {}
    for (source, target, kind), links in sorted(merged.items()):
        style = LINK_STYLES[kind]
        projects = sorted({k.project for k in links if k.project})
        count = f" ×{len(links)}" if len(links) > 1 else ""
        label = kind.value + count + "".join(f"\n{p}" for p in projects[:2] if kind is not LinkType.ENGAGES)
        edge_id = f"{source}>{kind.value}>{target}"
        edges.append(
            MapEdge(
                id=edge_id,
                source=source,
                target=target,
                type=kind,
                label=label,
                title=F.edge_title(ctx, links[:20]),
                projects=projects,
                color=style.color,
                dashes=style.dashes,
                width=style.width,
            )
        )
        pairs.setdefault((source, target), []).append(edge_id)
    return edges, pairs


def place(
    ctx: F.MapContext,
    nodes: list[MapNode],
    orgs: list[Organization],
    home: dict[str, str | None],
    node_of: dict[str, str],
    edges: list[MapEdge],
) -> Layout:
    """Tiered positions: each organization's cohorts under it, worst and largest first."""
    by_id = {n.id: n for n in nodes}
    order = {n.id: (-(n.severity or 0), -(n.headcount or 0), n.label) for n in nodes}
    under: dict[str, list[str]] = {}
    loose: dict[int | None, list[str]] = {}
    for cohort_id, node_id in node_of.items():
        org = home[cohort_id]
        bucket = under.setdefault(org, []) if org else loose.setdefault(ctx.tiers.get(cohort_id), [])
        if node_id not in bucket:
            bucket.append(node_id)
    for bucket in (*under.values(), *loose.values()):
        bucket.sort(key=lambda i: order[i])
    parents: dict[str, list[str]] = {}
    for edge in edges:
        if edge.type is not LinkType.ENGAGES:
            parents.setdefault(edge.target, []).append(edge.source)
    return tier_layout(
        {o.id: ctx.tiers.get(o.id) for o in orgs},
        under,
        loose,
        parents,
        {i: n.label.lower() for i, n in by_id.items()},
    )

"""The nodes and edges of a map: organizations (alone or grouped), cohorts (alone, suppressed
or grouped), links.

Map ids are entity ids, except for suppressed cohorts and groups, whose ids start with "#"
and so can never be an entity's (those start with a letter or a digit).
"""

from __future__ import annotations

import math
import textwrap
from collections import Counter

from laborgraph.graph.analysis.privacy import SUPPRESSED_NAME
from laborgraph.graph.model import Cohort, Link, Organization
from laborgraph.graph.vocabulary import LinkType
from laborgraph.visualize import facts as F
from laborgraph.visualize import tooltips as T
from laborgraph.visualize.budget import MAX_EDGES_BETWEEN_GROUPS, ORG_GROUP, Grouping
from laborgraph.visualize.chain import Held
from laborgraph.visualize.layout import Layout, tier_layout
from laborgraph.visualize.model import MapEdge, MapNode
from laborgraph.visualize.style import (
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
EDGE_LINKS_LISTED = 5  # links an edge tooltip lists; the rest are counted


def node_ids(
    cohorts: list[Held],
    orgs: list[Organization],
    home: dict[str, str | None],
    small: set[str],
    grouping: Grouping,
) -> dict[str, str]:
    """The map id each organization and cohort is drawn as: its group's (a cohort of a
    grouped organization: that group's), a suppressed stand-in, or its own."""
    node_of = {o.id: group for group, members in grouping.orgs.items() for o in members}
    node_of.update({o.id: o.id for o in orgs if o.id not in node_of})
    for cohort in cohorts:
        org = home.get(cohort.id)
        if org is not None and node_of.get(org, org) != org:
            node_of[cohort.id] = node_of[org]
    node_of.update({c.id: f"{GROUP}{org}" for org, members in grouping.cohorts.items() for c in members})
    hidden = (c.id for c in cohorts if c.id in small and c.id not in node_of)
    node_of.update({cohort_id: f"{SUPPRESSED}{n}" for n, cohort_id in enumerate(hidden, 1)})
    node_of.update({c.id: c.id for c in cohorts if c.id not in node_of})
    return node_of


def org_nodes(
    ctx: F.MapContext, orgs: list[Organization], node_of: dict[str, str], focus: str | None
) -> list[MapNode]:
    """Boxes coloured by kind (positions come later)."""
    nodes = []
    for org in orgs:
        if node_of[org.id] != org.id:
            continue  # drawn as part of its group
        kind = org_kind(org.kinds)
        engaged = ctx.engaged(org.id)
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
    ctx: F.MapContext, cohorts: list[Cohort], node_of: dict[str, str], focus: str | None
) -> list[MapNode]:
    """Dots sized by headcount and coloured by worst risk, for the cohorts drawn one by one."""
    nodes = []
    for cohort in cohorts:
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
    return nodes


def cohort_group_nodes(ctx: F.MapContext, grouping: Grouping) -> list[MapNode]:
    """A hexagon per organization whose cohorts are grouped."""
    nodes = []
    for org, members in grouping.cohorts.items():
        worst, total = ctx.worst_of(members), ctx.workers_of(members)
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


def org_group_nodes(
    ctx: F.MapContext, grouping: Grouping, cohorts_in: dict[str, list[Held]]
) -> list[MapNode]:
    """A diamond per group of organizations (one tier, one country), sized by the workers
    they engage and coloured by the worst risk among them."""
    nodes = []
    for group, members in grouping.orgs.items():
        held = cohorts_in.get(group, [])
        tally = ctx.tally_of(m.id for m in members)  # the cohorts only counted
        worst = max(ctx.worst_of(held) or 0, tally.worst or 0) or None
        total, held_count = ctx.workers_of(held) + tally.workers, len(held) + tally.cohorts
        country, tier = members[0].country, ctx.tiers.get(members[0].id)
        where = f"tier {tier}" if tier is not None else "no tier"
        nodes.append(
            MapNode(
                id=group,
                entity_id=None,
                kind="organization_group",
                name=f"{F.count(len(members), 'organization')} in {country}, {where}",
                label=f"{F.count(len(members), 'organization')} · {country}\n"
                f"{F.count(held_count, 'cohort')}\n{F.workers(total)}",
                title=T.org_group_tooltip(ctx, members, held, where),
                tier=tier,
                x=0,
                y=0,
                color=risk_color(worst),
                border=ORG_COLORS[org_kind(members[0].kinds)],
                size=cohort_size(total),
                severity=worst,
                headcount=total,
                cohort_count=held_count,
                organization_count=len(members),
                facts=F.org_group_facts(ctx, members, held, where),
            )
        )
    return nodes


def wrap(text: str, width: int) -> str:
    """Lines for a canvas label, wrapped here: measuring text to wrap it is slow in the browser."""
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


def map_edges(
    ctx: F.MapContext,
    org_ids: set[str],
    node_of: dict[str, str],
    keep_pairs: set[tuple[str, str]] | None = None,
    max_between: int = MAX_EDGES_BETWEEN_GROUPS,
) -> tuple[list[MapEdge], PairEdges]:
    """Map edges between the nodes drawn (parallel links, and links between members of
    groups, merged) and, per (source, target), the edge ids. The links of a group of
    organizations with any one node are one edge, counting them by type; past
    ``max_between`` such edges only the strongest are drawn, with those ``keep_pairs``
    (the steps of highlighted paths) needs and each node's strongest."""
    keep_pairs = keep_pairs or set()
    merged: dict[tuple[str, str, LinkType], list[Link]] = {}
    counted: Counter[tuple[str, str, LinkType]] = Counter()
    succ = ctx.view.graph._succ
    for org_id in sorted(org_ids):
        source = node_of[org_id]
        for link in ctx.supply_out(org_id):
            target = node_of[link.to_id] if link.to_id in org_ids else None
            if target is not None and target != source:
                merged.setdefault((source, target, link.type), []).append(link)
                counted[source, target, link.type] += 1
        # Links to cohorts: counted from the chain, listed from the view where it holds them.
        for cohort_id in ctx.chain.engaged.get(org_id, ()):
            target = node_of.get(cohort_id)
            if target is None or target == source:
                continue
            key = (source, target, LinkType.ENGAGES)
            counted[key] += 1
            listed = merged.setdefault(key, [])
            if len(listed) < EDGE_LINKS_LISTED:
                keys = succ.get(org_id, {}).get(cohort_id, {})
                listed += [a["link"] for k, a in keys.items() if k[0] is LinkType.ENGAGES][:1]
    edges: list[MapEdge] = []
    pairs: PairEdges = {}
    between: dict[tuple[str, str], dict[LinkType, list[Link]]] = {}
    for (source, target, kind), links in sorted(merged.items()):
        if source.startswith(ORG_GROUP) or target.startswith(ORG_GROUP):
            between.setdefault((source, target), {})[kind] = links
            continue
        style = LINK_STYLES[kind]
        projects = sorted({k.project for k in links if k.project})
        count = f" ×{counted[source, target, kind]}" if counted[source, target, kind] > 1 else ""
        label = kind.value + count + "".join(f"\n{p}" for p in projects[:2] if kind is not LinkType.ENGAGES)
        edge_id = f"{source}>{kind.value}>{target}"
        edges.append(
            MapEdge(
                id=edge_id,
                source=source,
                target=target,
                type=kind,
                label=label,
                title=F.edge_title(ctx, links[:EDGE_LINKS_LISTED], counted[source, target, kind]),
                projects=projects[:20],
                color=style.color,
                dashes=style.dashes,
                width=style.width,
            )
        )
        pairs.setdefault((source, target), []).append(edge_id)
    kept = _kept_between(between, counted, keep_pairs, max_between)
    ctx.links_between = (
        len(kept),
        len(between),
        sum(_total(between[p], counted, p) for p in between if p not in kept),
    )
    for source, target in sorted(kept):
        edge = _edge_between(ctx, source, target, between[source, target], counted)
        edges.append(edge)
        pairs.setdefault((source, target), []).append(edge.id)
    return edges, pairs


def _total(
    kinds: dict[LinkType, list[Link]], counted: Counter[tuple[str, str, LinkType]], pair: tuple[str, str]
) -> int:
    return sum(counted[(*pair, kind)] for kind in kinds)


def _kept_between(
    between: dict[tuple[str, str], dict[LinkType, list[Link]]],
    counted: Counter[tuple[str, str, LinkType]],
    keep_pairs: set[tuple[str, str]],
    most: int,
) -> set[tuple[str, str]]:
    """The links between groups a map draws, at most ``most`` of them unless more are kept:
    those a highlighted path takes, each node's strongest, then those merging most links,
    supply links (who buys from whom) before links to workers."""
    supply = {
        pair: sum(counted[(*pair, k)] for k in kinds if k is not LinkType.ENGAGES)
        for pair, kinds in between.items()
    }
    weight = {pair: _total(kinds, counted, pair) for pair, kinds in between.items()}
    ranked = sorted(weight, key=lambda pair: (-supply[pair], -weight[pair], pair))
    kept = {pair for pair in ranked if pair in keep_pairs}
    strongest: dict[str, tuple[str, str]] = {}
    for pair in ranked:
        for end in pair:
            strongest.setdefault(end, pair)
    kept |= set(strongest.values())
    for pair in ranked:
        if len(kept) >= most:
            break
        kept.add(pair)
    return kept


def _edge_between(
    ctx: F.MapContext,
    source: str,
    target: str,
    kinds: dict[LinkType, list[Link]],
    counted: Counter[tuple[str, str, LinkType]],
) -> MapEdge:
    """One edge for every link between a group of organizations and another node: how many
    of each type, one of them named; its style is that of the type most of them have."""
    by_count = sorted(kinds, key=lambda kind: (-counted[source, target, kind], kind.value))
    total = sum(counted[source, target, kind] for kind in by_count)
    main = by_count[0]
    style = LINK_STYLES[main]
    label = f"{main.value} ×{total}" if len(by_count) == 1 else f"{F.thousands(total)} links"
    if total == 1:
        label = main.value
    each = ", ".join(f"{F.thousands(counted[source, target, kind])} {kind.value}" for kind in by_count)
    example = next((kinds[kind][0] for kind in by_count if kinds[kind]), None)
    title = "\n".join(
        [
            f"{F.count(total, 'link')} between these nodes: {each}",
            *([f"e.g. {F.link_text(ctx, example)}"] if example else []),
            "Open a group to see each link and its evidence",
        ]
    )
    return MapEdge(
        id=f"{source}>{target}",
        source=source,
        target=target,
        type=main,
        label=label,
        title=title,
        color=style.color,
        dashes=style.dashes,
        width=round(min(style.width + math.log2(total), 8.0), 1),
        count=total,
    )


def place(
    ctx: F.MapContext,
    nodes: list[MapNode],
    home: dict[str, str | None],
    node_of: dict[str, str],
    edges: list[MapEdge],
) -> Layout:
    """Tiered positions: each organization's cohorts under it, worst and largest first;
    groups of organizations sit in their tier's row as organizations do."""
    by_id = {n.id: n for n in nodes}
    order = {n.id: (-(n.severity or 0), -(n.headcount or 0), n.label) for n in nodes}
    rows = {n.id: n.tier for n in nodes if n.kind in ("organization", "organization_group")}
    under: dict[str, list[str]] = {}
    loose: dict[int | None, list[str]] = {}
    for cohort_id, node_id in node_of.items():
        if node_id in rows or cohort_id not in home:
            continue  # an organization, or a cohort inside a group of organizations
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
    return tier_layout(rows, under, loose, parents, {i: n.label.lower() for i, n in by_id.items()})

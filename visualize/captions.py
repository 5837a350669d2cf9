"""The words on a map: its title, tier band labels, legend and notes."""

from __future__ import annotations

from laborgraph.graph.analysis.privacy import SUPPRESSED_NAME
from laborgraph.graph.view import GraphView
from laborgraph.visualize import facts as F
from laborgraph.visualize.budget import Grouping
from laborgraph.visualize.model import Band, Crumb, LegendEntry, MapNode
from laborgraph.visualize.style import NO_RISK_COLOR, legend

TIER_WORDS = {0: "buyers", 1: "direct suppliers"}


def band(
    ctx: F.MapContext,
    tier: int | None,
    top: float,
    bottom: float,
    nodes: list[MapNode],
    viewpoint: str | None,
) -> Band:
    """A tier's band, labelled with its name and what it holds."""
    inside = [n for n in nodes if top <= n.y <= bottom]
    orgs = sum(1 if n.kind == "organization" else n.organization_count for n in inside)
    cohorts = sum(1 if n.kind == "cohort" else n.cohort_count for n in inside if n.kind != "organization")
    workers = sum(n.headcount or 0 for n in inside if n.kind != "organization")
    if tier is None:
        name = "Not below any buyer" if viewpoint is None else "Outside the viewpoint's chain"
    elif tier == 0 and viewpoint:
        name = f"Tier 0 · {ctx.name(viewpoint)} (viewpoint)"
    else:
        name = f"Tier {tier} · {TIER_WORDS.get(tier, 'subcontracted work')}"
    counts = " · ".join(
        (F.count(orgs, "organization"), F.count(cohorts, "cohort"), F.count(workers, "worker"))
    )
    return Band(tier=tier, label=f"{name}\n{counts}", top=top, bottom=bottom)


def title(view: GraphView, viewpoint: str | None) -> str:
    """The default title of a map."""
    if viewpoint:
        return f"Supply chain of {view.organization(viewpoint).name}"
    return "AI data-work supply chains: every buyer"


def legend_for(grouping: Grouping) -> list[LegendEntry]:
    entries = legend()
    if grouping.cohorts:
        entries.append(
            LegendEntry(
                group="size",
                label="cohort group",
                color=NO_RISK_COLOR,
                shape="hexagon",
                detail="several cohorts of one organization, shown as one node: click to open it",
            )
        )
    if grouping.orgs:
        entries.append(
            LegendEntry(
                group="size",
                label="organization group",
                color=NO_RISK_COLOR,
                shape="diamond",
                detail="the organizations of one tier and country and their workers, shown as one "
                "node: click to open it",
            )
        )
    return entries


def trail(
    ctx: F.MapContext,
    viewpoint: str | None,
    region: tuple[int | None, str] | None,
    focus: str | None,
    depth: int,
) -> list[Crumb]:
    """Where the map sits, from the front page down, each step leading back."""
    crumbs = [Crumb(label="Front page", params=None)]
    chain = {"viewpoint": viewpoint} if viewpoint else {}
    crumbs.append(
        Crumb(label=f"Chain of {ctx.name(viewpoint)}" if viewpoint else "Every buyer", params=chain)
    )
    if region is not None:
        tier, country = region
        where = "no tier" if tier is None else f"tier {tier}"
        params = {**chain, "tier": "" if tier is None else str(tier), "country": country}
        crumbs.append(Crumb(label=f"Organizations in {country}, {where}", params=params))
    if focus is not None:
        crumbs.append(
            Crumb(label=f"Around {ctx.name(focus)}", params={**chain, "focus": focus, "depth": str(depth)})
        )
    return crumbs


def notes(
    ctx: F.MapContext,
    grouping: Grouping,
    focus: str | None,
    depth: int,
    path_count: int,
    max_paths: int,
    budget: int,
) -> list[str]:
    notes = [
        f"Tiers are counted from {ctx.tier_from}; workers sit in the tier of the organization "
        "that engages them."
    ]
    if focus:
        notes.append(f"Showing {ctx.name(focus)} and everything within {depth} links of it, both ways.")
    if grouping.cohorts:
        grouped = sum(len(m) for m in grouping.cohorts.values())
        notes.append(
            f"{F.thousands(grouped)} cohorts are grouped under the {len(grouping.cohorts)} organizations "
            'engaging them (one hexagon each, e.g. "123 cohorts, 45,000 workers") because this map '
            f"draws at most {F.thousands(budget)} nodes. Click a group to open it."
        )
    if grouping.orgs:
        grouped = sum(len(m) for m in grouping.orgs.values())
        notes.append(
            f"{F.thousands(grouped)} organizations are grouped by tier and country (one diamond "
            "each, with the workers they engage). Click a group to open it."
        )
    drawn, pairs, hidden_links = ctx.links_between
    if drawn < pairs:
        notes.append(
            f"Links between groups of organizations and other nodes are drawn as one per pair, with "
            f"their count: the {F.thousands(drawn)} strongest of {F.thousands(pairs)} such pairs "
            f"({F.count(hidden_links, 'link')} in the others are not drawn). Open a group to see them all."
        )
    if hidden := ctx.hidden_count():
        notes.append(
            f"{F.count(hidden, 'cohort')} with fewer than {ctx.min_headcount} "
            f'workers shown as "{SUPPRESSED_NAME}", without name or headcount.'
        )
    if not path_count:
        notes.append("No risk paths were traced for this map, so every cohort is grey.")
    elif path_count > max_paths:
        notes.append(
            f"The {max_paths} highest-ranked of {F.thousands(path_count)} risk paths can be highlighted."
        )
    return notes

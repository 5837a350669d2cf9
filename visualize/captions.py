"""The words on a map: its title, tier band labels, legend and notes."""

from __future__ import annotations

from graph.analysis.privacy import SUPPRESSED_NAME
from graph.model import Cohort
from graph.view import GraphView
from visualize import facts as F
from visualize.model import Band, LegendEntry, MapNode
from visualize.style import NO_RISK_COLOR, legend

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
    orgs = sum(n.kind == "organization" for n in inside)
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


def legend_for(groups: dict[str, list[Cohort]]) -> list[LegendEntry]:
    entries = legend()
    if groups:
        entries.append(
            LegendEntry(
                group="size",
                label="cohort group",
                color=NO_RISK_COLOR,
                shape="hexagon",
                detail="several cohorts of one organization, shown as one node",
            )
        )
    return entries


def notes(
    ctx: F.MapContext,
    groups: dict[str, list[Cohort]],
    focus: str | None,
    depth: int,
    path_count: int,
    max_paths: int,
    max_cohorts: int,
) -> list[str]:
    notes = [
        f"Tiers are counted from {ctx.tier_from}; workers sit in the tier of the organization "
        "that engages them."
    ]
    if focus:
        notes.append(f"Showing {ctx.name(focus)} and everything within {depth} links of it, both ways.")
    if groups:
        grouped = sum(len(m) for m in groups.values())
        notes.append(
            f"{F.thousands(grouped)} cohorts are grouped under the {len(groups)} organizations "
            'engaging them (one node each, e.g. "123 cohorts, 45,000 workers") because this map '
            f"shows at most {max_cohorts} cohorts one by one. Focus on an organization to see "
            "its cohorts."
        )
    if ctx.suppressed:
        notes.append(
            f"{F.count(len(ctx.suppressed), 'cohort')} with fewer than {ctx.min_headcount} "
            f'workers shown as "{SUPPRESSED_NAME}", without name or headcount.'
        )
    if not path_count:
        notes.append("No risk paths were traced for this map, so every cohort is grey.")
    elif path_count > max_paths:
        notes.append(
            f"The {max_paths} highest-ranked of {F.thousands(path_count)} risk paths can be highlighted."
        )
    return notes

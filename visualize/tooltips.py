"""Hover tooltips: a few plain-text lines that tell the story of a node at a glance."""

from __future__ import annotations

from laborgraph.graph.analysis.privacy import SUPPRESSED_NAME
from laborgraph.graph.model import Cohort, Organization
from laborgraph.graph.vocabulary import Dimension, Status
from laborgraph.visualize.chain import Held
from laborgraph.visualize.facts import MapContext, count, severity_text, thousands, workers

CLICK = "Click for all facts and their evidence"
OPEN = "Click to open the group and see what it holds"
WIDTH = 110


def _lines(*lines: str, click: str = CLICK) -> str:
    return "\n".join(line if len(line) <= WIDTH else line[: WIDTH - 1] + "…" for line in (*lines, click))


def _names(ctx: MapContext, ids: list[str], most: int = 4) -> str:
    names = sorted({ctx.name(i) for i in ids})
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def org_tooltip(ctx: MapContext, org: Organization) -> str:
    view = ctx.view
    supply = ctx.supply_out(org.id)
    engaged = ctx.engaged(org.id)
    known = ctx.workers_of(engaged)
    onward = [k.to_id for k in supply]
    made = len(view.decisions_of(org.id))
    return _lines(
        org.name,
        f"{' · '.join(k.value for k in org.kinds)} · {org.country} · {ctx.tier_text(org.id)}",
        f"Engages {count(len(engaged), 'worker cohort')} ({thousands(known)} workers known)",
        f"Passes work to: {_names(ctx, onward)}" if onward else "Passes no work on (as far as known)",
        f"Decisions recorded here: {made}" if made else "No decisions recorded here",
    )


def cohort_tooltip(ctx: MapContext, cohort: Cohort) -> str:
    engaged_by = ctx.engagers(cohort.id)
    paths = ctx.paths_to.get(cohort.id, [])
    top = paths[0] if paths else None
    deciders = (
        f"Top decision: #{top.rank} {top.unit_name} ({top.buyer_name}), {top.lever.value}; "
        f"{count(len(paths), 'risk path')} reach them"
        if top
        else "No traced decision reaches them"
    )
    if cohort.id in ctx.suppressed:
        return _lines(
            SUPPRESSED_NAME,
            f"Fewer than {ctx.min_headcount} workers: name and headcount hidden",
            f"Engaged by {_names(ctx, engaged_by)} · {ctx.tier_text(cohort.id)}",
            f"Worst risk: {severity_text(ctx.worst(cohort.id))}",
            deciders,
        )
    recorded = ctx.view.conditions.get(cohort.id, {})
    not_met = [
        f"{dim.value} {recorded[dim].status.value}"
        for status in (Status.violates, Status.at_risk, Status.unknown)
        for dim in Dimension
        if dim in recorded and recorded[dim].status is status
    ]
    return _lines(
        cohort.name,
        f"{workers(cohort.headcount)} · {cohort.country} · {cohort.employment_type.value}, "
        f"{cohort.work_setting.value}",
        f"Engaged by {_names(ctx, engaged_by)} · {ctx.tier_text(cohort.id)}",
        f"Worst risk: {severity_text(ctx.worst(cohort.id))}",
        f"Not met: {', '.join(not_met)}" if not_met else "No condition recorded as not met",
        deciders,
    )


def group_tooltip(ctx: MapContext, org_id: str, cohorts: list[Held]) -> str:
    return _lines(
        f"{thousands(len(cohorts))} cohorts, {workers(ctx.workers_of(cohorts))}",
        f"Engaged by {ctx.name(org_id)} · {ctx.tier_text(org_id)}",
        f"Worst risk: {severity_text(ctx.worst_of(cohorts))}",
        "Grouped because the map has too many cohorts to show one by one",
        click=OPEN,
    )


def org_group_tooltip(ctx: MapContext, members: list[Organization], cohorts: list[Held], where: str) -> str:
    tally = ctx.tally_of(m.id for m in members)  # the cohorts only counted
    worst = max(ctx.worst_of(cohorts) or 0, tally.worst or 0) or None
    total = ctx.workers_of(cohorts) + tally.workers
    return _lines(
        f"{count(len(members), 'organization')} in {members[0].country}, {where}",
        f"{count(len(cohorts) + tally.cohorts, 'cohort')}, {workers(total)}",
        f"Worst risk: {severity_text(worst)}",
        f"Among them: {_names(ctx, [m.id for m in members], 3)}",
        click=OPEN,
    )

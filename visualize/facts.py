"""The facts a map shows about a node or a link, each with its evidence (grade, source ids).

Tooltips are short plain-text summaries; the side panel holds the full facts. Names of
suppressed cohorts never appear: ``MapContext.name`` masks them everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from graph.analysis.paths import RiskPath
from graph.analysis.privacy import SUPPRESSED_NAME
from graph.model import Cohort, Condition, Link, Organization, Record
from graph.view import GraphView
from graph.vocabulary import SUPPLY_LINKS, Dimension, LinkType
from visualize.model import Fact, FactSection
from visualize.style import SEVERITY_WORDS

MAX_LISTED = 12  # decisions or cohorts listed per panel section before "… and N more"


@dataclass
class MapContext:
    view: GraphView
    tiers: dict[str, int | None]  # the tier band each organization is drawn in
    tiers_from: dict[str, dict[str, int]]  # node -> {viewpoint or buyer id: tier from it}
    tier_from: str  # "Halcyon Labs" or "the nearest buyer"
    min_headcount: int
    suppressed: set[str] = field(default_factory=set)
    paths_to: dict[str, list[RiskPath]] = field(default_factory=dict)  # cohort id -> ranked paths
    engagers: dict[str, list[str]] = field(default_factory=dict)  # cohort id -> organization ids
    _names: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for link in self.view.links():
            if link.type is LinkType.ENGAGES:
                self.engagers.setdefault(link.to_id, []).append(link.from_id)

    def name(self, node_id: str) -> str:
        if node_id in self.suppressed:
            return SUPPRESSED_NAME
        if node_id not in self._names:
            self._names[node_id] = self.view.node(node_id).name
        return self._names[node_id]

    def worst(self, cohort_id: str) -> int | None:
        found = self.paths_to.get(cohort_id)
        return max(p.severity for p in found) if found else None

    def tier_text(self, node_id: str) -> str:
        found = sorted(self.tiers_from.get(node_id, {}).items(), key=lambda item: (item[1], item[0]))
        if not found:
            return "not below any buyer"
        return "; ".join(f"tier {tier} from {self.name(origin)}" for origin, tier in found)


def evidence(record: Record) -> str:
    sources = ", ".join(record.source_ids) if record.source_ids else "no source"
    return f"{record.grade.value} · {sources}"


def thousands(n: int) -> str:
    return f"{n:,}"


def count(n: int, noun: str) -> str:
    """``1 cohort``, ``2 cohorts``, ``1,200 workers``."""
    return f"{thousands(n)} {noun}{'' if n == 1 else 's'}"


def workers(headcount: int | None) -> str:
    return "headcount unknown" if headcount is None else count(headcount, "worker")


def severity_text(severity: int | None) -> str:
    if severity is None:
        return "no traced risk"
    return f"severity {severity} ({SEVERITY_WORDS[severity]})"


def _period(link: Link) -> str:
    if link.since and link.until:
        return f"{link.since} to {link.until}"
    if link.since:
        return f"since {link.since}"
    return f"until {link.until}" if link.until else ""


def link_text(ctx: MapContext, link: Link) -> str:
    """One line for a link: who, what, to whom, project and period."""
    parts = [f"{ctx.name(link.from_id)} {link.type.value} {ctx.name(link.to_id)}"]
    if link.project:
        parts.append(f"project {link.project}")
    if period := _period(link):
        parts.append(period)
    return " · ".join(parts)


def edge_title(ctx: MapContext, links: Iterable[Link]) -> str:
    lines = []
    for link in links:
        lines += [link_text(ctx, link), f"evidence: {evidence(link)}"]
    return "\n".join(lines)


def _sources(ctx: MapContext, sections: list[FactSection]) -> FactSection | None:
    ids: list[str] = []
    for section in sections:
        for fact in section.facts:
            if fact.evidence:
                ids += [s for s in fact.evidence.partition(" · ")[2].split(", ") if s in ctx.view.sources]
    facts = []
    for source_id in dict.fromkeys(ids):
        source = ctx.view.sources[source_id]
        when = f", {source.published_at}" if source.published_at else ""
        where = f" — {source.url}" if source.url else ""
        facts.append(Fact(label=source_id, value=f"{source.title} ({source.kind.value}{when}){where}"))
    return FactSection(heading="Sources", facts=facts) if facts else None


def _with_sources(ctx: MapContext, sections: list[FactSection]) -> list[FactSection]:
    sources = _sources(ctx, sections)
    return [s for s in sections if s.facts] + ([sources] if sources else [])


def _path_facts(ctx: MapContext, paths: list[RiskPath]) -> list[Fact]:
    facts = []
    for path in paths[:MAX_LISTED]:
        via = " > ".join(ctx.name(i) for i in path.organizations)
        facts.append(
            Fact(
                label=f"#{path.rank} · severity {path.severity}",
                value=f"{path.unit_name} ({path.buyer_name}): {path.lever.value} decision "
                f"{path.decision_id} → {path.dimension.value} {path.status.value}, via {via}",
                evidence=f"confidence {path.confidence:.2f}",
            )
        )
    if len(paths) > MAX_LISTED:
        facts.append(Fact(label="…", value=f"and {len(paths) - MAX_LISTED} more risk paths"))
    return facts


def org_facts(ctx: MapContext, org: Organization) -> list[FactSection]:
    view = ctx.view
    about = FactSection(
        heading="Organization",
        facts=[
            Fact(label="Name", value=org.name, evidence=evidence(org)),
            Fact(label="Id", value=org.id),
            Fact(label="Kinds", value=", ".join(k.value for k in org.kinds)),
            Fact(label="Country", value=org.country),
            Fact(label="Tier", value=ctx.tier_text(org.id)),
        ],
    )
    upstream = FactSection(
        heading="Work comes from",
        facts=[
            Fact(label=link.type.value, value=link_text(ctx, link), evidence=evidence(link))
            for link in sorted(view.in_links(org.id), key=lambda k: k.key)
        ],
    )
    downstream = FactSection(
        heading="Work goes to",
        facts=[
            Fact(label=link.type.value, value=link_text(ctx, link), evidence=evidence(link))
            for link in sorted(view.out_links(org.id, (*SUPPLY_LINKS, LinkType.ENGAGES)), key=lambda k: k.key)
        ],
    )
    units = {u.id: u for u in view.units.values() if u.organization_id == org.id}
    made = FactSection(
        heading="Decisions made here",
        facts=[
            Fact(
                label=f"{units[d.unit_id].name} ({units[d.unit_id].function.value})",
                value=f"{d.lever.value} → {ctx.name(d.applies_to)}: {d.description or d.id}",
                evidence=evidence(d),
            )
            for d in sorted(view.decisions.values(), key=lambda d: d.id)
            if d.unit_id in units
        ],
    )
    applied = FactSection(
        heading="Decisions applying here",
        facts=[
            Fact(
                label=f"{view.units[d.unit_id].name} ({ctx.name(view.organization_of(d.unit_id))})",
                value=f"{d.lever.value}: {d.description or d.id}",
                evidence=evidence(d),
            )
            for d in sorted(view.decisions.values(), key=lambda d: d.id)
            if d.applies_to == org.id
        ],
    )
    return _with_sources(ctx, [about, upstream, downstream, made, applied])


def _engaged_by(ctx: MapContext, cohort_id: str) -> str:
    return ", ".join(sorted(ctx.name(org_id) for org_id in ctx.engagers.get(cohort_id, ())))


def cohort_facts(ctx: MapContext, cohort: Cohort) -> list[FactSection]:
    paths = ctx.paths_to.get(cohort.id, [])
    reaching = FactSection(heading="Decisions reaching these workers", facts=_path_facts(ctx, paths))
    if cohort.id in ctx.suppressed:
        about = FactSection(
            heading="Workers",
            facts=[
                Fact(
                    label="Cohort",
                    value=f"{SUPPRESSED_NAME}: fewer than {ctx.min_headcount} workers, "
                    "so its name, headcount and conditions are hidden",
                ),
                Fact(label="Engaged by", value=_engaged_by(ctx, cohort.id)),
                Fact(label="Tier", value=ctx.tier_text(cohort.id)),
                Fact(label="Worst risk", value=severity_text(ctx.worst(cohort.id))),
            ],
        )
        return [about, reaching] if reaching.facts else [about]
    about = FactSection(
        heading="Workers",
        facts=[
            Fact(label="Name", value=cohort.name, evidence=evidence(cohort)),
            Fact(label="Id", value=cohort.id),
            Fact(label="Headcount", value=workers(cohort.headcount)),
            Fact(label="Country", value=cohort.country),
            Fact(
                label="Employment",
                value=f"{cohort.employment_type.value}, {cohort.work_setting.value}",
            ),
            Fact(label="Tasks", value=", ".join(cohort.task_types) or "not recorded"),
            Fact(label="Engaged by", value=_engaged_by(ctx, cohort.id)),
            Fact(label="Tier", value=ctx.tier_text(cohort.id)),
            Fact(label="Worst risk", value=severity_text(ctx.worst(cohort.id))),
        ],
    )
    recorded = ctx.view.conditions.get(cohort.id, {})
    conditions = FactSection(
        heading="Conditions",
        facts=[
            Fact(
                label=dim.value,
                value=condition_text(recorded[dim]),
                evidence=evidence(recorded[dim]),
            )
            for dim in Dimension
            if dim in recorded
        ],
    )
    missing = [dim.value for dim in Dimension if dim not in recorded]
    if missing:
        conditions.facts.append(Fact(label="not recorded", value=", ".join(missing)))
    return _with_sources(ctx, [about, conditions, reaching])


def condition_text(condition: Condition) -> str:
    parts = [condition.status.value]
    unit = f" {condition.value_unit}" if condition.value_unit else ""
    if condition.value is not None:
        against = f" against a benchmark of {condition.benchmark:g}{unit}" if condition.benchmark else ""
        parts.append(f"{condition.value:g}{unit}{against}")
    if condition.observed_at:
        parts.append(f"observed {condition.observed_at}")
    if condition.note:
        parts.append(condition.note)
    return " · ".join(parts)


def group_facts(ctx: MapContext, org_id: str, cohorts: list[Cohort]) -> list[FactSection]:
    shown = [c for c in cohorts if c.id not in ctx.suppressed]
    total = sum(c.headcount or 0 for c in shown)
    worst = max((s for c in cohorts if (s := ctx.worst(c.id)) is not None), default=None)
    about = FactSection(
        heading="Cohort group",
        facts=[
            Fact(label="Cohorts", value=f"{thousands(len(cohorts))} cohorts, {workers(total)}"),
            Fact(label="Engaged by", value=ctx.name(org_id)),
            Fact(label="Tier", value=ctx.tier_text(org_id)),
            Fact(label="Worst risk", value=severity_text(worst)),
            Fact(
                label="Why grouped",
                value="the map has too many cohorts to show one by one; "
                "focus on this organization to see them",
            ),
        ],
    )
    ranked = sorted(cohorts, key=lambda c: (-(ctx.worst(c.id) or 0), -(c.headcount or 0), c.id))
    members = FactSection(
        heading="Largest and most at-risk cohorts",
        facts=[
            Fact(
                label=ctx.name(c.id),
                value=severity_text(ctx.worst(c.id))
                + ("" if c.id in ctx.suppressed else f" · {workers(c.headcount)}"),
            )
            for c in ranked[:MAX_LISTED]
        ],
    )
    if len(ranked) > MAX_LISTED:
        members.facts.append(Fact(label="…", value=f"and {len(ranked) - MAX_LISTED} more cohorts"))
    return [about, members]

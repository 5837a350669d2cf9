"""The facts a map shows about a node or a link, each with its evidence (grade, source ids).

Tooltips are short plain-text summaries; the side panel holds the full facts. Names of
suppressed cohorts never appear: ``MapContext.name`` masks them everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from laborgraph.graph.analysis.outline import Tally
from laborgraph.graph.analysis.paths import PathAction, RiskPath
from laborgraph.graph.analysis.privacy import SUPPRESSED_NAME, Privacy
from laborgraph.graph.model import Cohort, Condition, Decision, Link, Organization, Record
from laborgraph.graph.view import GraphView
from laborgraph.graph.vocabulary import SUPPLY_LINKS, Dimension
from laborgraph.visualize.chain import Chain, Held
from laborgraph.visualize.model import Fact, FactSection
from laborgraph.visualize.style import SEVERITY_WORDS

_T = TypeVar("_T")
MAX_LISTED = 8  # decisions, links or cohorts listed per panel section before "… and N more"


@dataclass
class MapContext:
    view: GraphView
    chain: Chain
    tiers: dict[str, int | None]  # the tier band each organization is drawn in
    tiers_from: dict[str, dict[str, int]]  # node -> {viewpoint or buyer id: tier from it}
    tier_from: str  # "Halcyon Labs" or "the nearest buyer"
    privacy: Privacy
    suppressed: set[str] = field(default_factory=set)  # the map's cohorts ``privacy`` hides
    paths_to: dict[str, list[RiskPath]] = field(default_factory=dict)  # cohort id -> ranked paths
    # cohort id -> worst severity reaching it, when worked out beside the paths (a large map)
    severity: Mapping[str, int] | None = None
    # organization -> its cohorts counted, not listed (a group of organizations holds them)
    counted: Mapping[str, Tally] = field(default_factory=dict)
    # edges between groups drawn, such pairs in all, and the links of those not drawn
    links_between: tuple[int, int, int] = (0, 0, 0)
    _names: dict[str, str] = field(default_factory=dict)
    _applying: dict[str, list[Decision]] = field(default_factory=dict)
    _out: dict[str, list[Link]] = field(default_factory=dict)

    def refresh(self) -> None:
        """Read the view again, after more of it was read in full."""
        self._names.clear()
        self._applying.clear()
        self._out.clear()
        for decision in sorted(self.view.decisions.values(), key=lambda d: d.id):
            self._applying.setdefault(decision.applies_to, []).append(decision)

    def supply_out(self, org_id: str) -> list[Link]:
        """The organization's supply links, by key: read once for the tooltip, the panel and
        the edges alike."""
        found = self._out.get(org_id)
        if found is None:
            found = self._out[org_id] = sorted(self.view.out_links(org_id, SUPPLY_LINKS), key=_key)
        return found

    def engagers(self, cohort_id: str) -> list[str]:
        """The organizations engaging the cohort (the only links into a cohort: ENGAGES)."""
        return list(self.view.graph._pred.get(cohort_id, ()))

    def applying_to(self, org_id: str) -> list[Decision]:
        return self._applying.get(org_id, [])

    def name(self, node_id: str) -> str:
        """The name the page may show: never a hidden cohort's, drawn, counted or beyond the map."""
        if node_id not in self._names:
            entity = self.chain.cohorts.get(node_id) or self.view.node(node_id)
            hidden = isinstance(entity, Held | Cohort) and self.privacy.hides(entity.headcount)
            self._names[node_id] = SUPPRESSED_NAME if hidden or node_id in self.suppressed else entity.name
        return self._names[node_id]

    @property
    def min_headcount(self) -> int:
        return self.privacy.min_headcount

    def engaged(self, org_id: str) -> list[Held]:
        """The cohorts the organization engages in the chain, drawn or not."""
        return [self.chain.cohorts[c] for c in dict.fromkeys(self.chain.engaged.get(org_id, ()))]

    def worst(self, cohort_id: str) -> int | None:
        if self.severity is not None:
            return self.severity.get(cohort_id)
        found = self.paths_to.get(cohort_id)
        return max(p.severity for p in found) if found else None

    def worst_of(self, cohorts: Iterable[Cohort | Held]) -> int | None:
        return max((s for c in cohorts if (s := self.worst(c.id)) is not None), default=None)

    def workers_of(self, cohorts: Iterable[Cohort | Held]) -> int:
        """Workers of the cohorts that may be counted (small ones are left out)."""
        return sum(c.headcount or 0 for c in cohorts if c.id not in self.suppressed)

    def tally_of(self, org_ids: Iterable[str]) -> Tally:
        """The cohorts these organizations hold counted, not listed, added up."""
        total = Tally()
        for org_id in org_ids:
            found = self.counted.get(org_id)
            if found is not None:
                total.cohorts += found.cohorts
                total.small += found.small
                total.workers += found.workers
                total.worst = max(total.worst or 0, found.worst or 0) or None
        return total

    def hidden_count(self) -> int:
        """How many of the map's cohorts are too small to name, listed or counted."""
        return len(self.suppressed) + self.tally_of(self.counted).small

    def tier_text(self, node_id: str) -> str:
        found = sorted(self.tiers_from.get(node_id, {}).items(), key=lambda item: (item[1], item[0]))
        if not found:
            return "not below any buyer"
        return "; ".join(f"tier {tier} from {self.name(origin)}" for origin, tier in found)


def _key(link: Link) -> tuple[str, str, str, str]:
    return link.key


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


def edge_title(ctx: MapContext, links: list[Link], total: int) -> str:
    lines = []
    for link in links:
        lines += [link_text(ctx, link), f"evidence: {evidence(link)}"]
    if total > len(links):
        lines.append(f"… and {thousands(total - len(links))} more links")
    return "\n".join(lines)


def capped(items: Sequence[_T], fact: Callable[[_T], Fact], noun: str) -> list[Fact]:
    """Facts of the first MAX_LISTED items, and how many more there are."""
    facts = [fact(item) for item in items[:MAX_LISTED]]
    if len(items) > MAX_LISTED:
        facts.append(Fact(label="…", value=f"and {thousands(len(items) - MAX_LISTED)} more {noun}"))
    return facts


def cited(facts: Iterable[Fact]) -> list[str]:
    """The source ids the facts' evidence names ("reported · src-a, src-b")."""
    ids: list[str] = []
    for fact in facts:
        if fact.evidence and " · " in fact.evidence:
            ids += fact.evidence.partition(" · ")[2].split(", ")
    return ids


def source_texts(ctx: MapContext, ids: Iterable[str]) -> dict[str, str]:
    """What the page says of each source cited: shared by every panel, sent once."""
    found = {}
    for source_id in sorted(set(ids)):
        source = ctx.view.sources.get(source_id)
        if source is not None:
            when = f", {source.published_at}" if source.published_at else ""
            where = f" — {source.url}" if source.url else ""
            found[source_id] = f"{source.title} ({source.kind.value}{when}){where}"
    return found


def _with_sources(ctx: MapContext, sections: list[FactSection]) -> list[FactSection]:
    # The panel lists the sources a node's facts cite from the page's one table of sources.
    return [s for s in sections if s.facts]


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


def action_fact(action: PathAction) -> Fact:
    """One open action on a risk path: what, who, when due, and its effect so far."""
    due = f", due {action.due_at}" + (" (overdue)" if action.overdue else "") if action.due_at else ""
    return Fact(
        label=f"{action.kind.value} · {action.status.value}",
        value=f"{action.id} on {action.target}, owner {action.owner_unit_id}{due}"
        + (f": {action.description}" if action.description else ""),
        evidence=f"effect so far: {action.effect.value.replace('_', ' ')}",
    )


def _open_actions(paths: list[RiskPath]) -> list[PathAction]:
    """The open actions on any of the paths, each once, by id."""
    return sorted({a.id: a for p in paths for a in p.actions}.values(), key=lambda a: a.id)


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

    def link_fact(link: Link) -> Fact:
        return Fact(label=link.type.value, value=link_text(ctx, link), evidence=evidence(link))

    def made_fact(d: Decision) -> Fact:
        unit = view.units[d.unit_id]
        return Fact(
            label=f"{unit.name} ({unit.function.value})",
            value=f"{d.lever.value} → {ctx.name(d.applies_to)}: {d.description or d.id}",
            evidence=evidence(d),
        )

    def applied_fact(d: Decision) -> Fact:
        return Fact(
            label=f"{view.units[d.unit_id].name} ({ctx.name(view.organization_of(d.unit_id))})",
            value=f"{d.lever.value}: {d.description or d.id}",
            evidence=evidence(d),
        )

    supply = ctx.supply_out(org.id)
    engaged = sorted(ctx.engaged(org.id), key=lambda c: (-(ctx.worst(c.id) or 0), -(c.headcount or 0), c.id))

    def cohort_fact(c: Held) -> Fact:
        shown = "" if c.id in ctx.suppressed else f" · {workers(c.headcount)}"
        return Fact(label=ctx.name(c.id), value=severity_text(ctx.worst(c.id)) + shown)

    upstream = FactSection(
        heading="Work comes from",
        facts=capped(sorted(view.in_links(org.id), key=lambda k: k.key), link_fact, "links"),
    )
    downstream = FactSection(heading="Work goes to", facts=capped(supply, link_fact, "links"))
    engages = FactSection(
        heading=f"Workers engaged: {count(len(engaged), 'cohort')}, {workers(ctx.workers_of(engaged))}",
        facts=capped(engaged, cohort_fact, "cohorts"),
    )
    made = FactSection(
        heading="Decisions made here", facts=capped(view.decisions_of(org.id), made_fact, "decisions")
    )
    applied = FactSection(
        heading="Decisions applying here", facts=capped(ctx.applying_to(org.id), applied_fact, "decisions")
    )
    return _with_sources(ctx, [about, upstream, downstream, engages, made, applied])


def _engaged_by(ctx: MapContext, cohort_id: str) -> str:
    return ", ".join(sorted(ctx.name(org_id) for org_id in ctx.engagers(cohort_id)))


def cohort_facts(ctx: MapContext, cohort: Cohort) -> list[FactSection]:
    paths = ctx.paths_to.get(cohort.id, [])
    reaching = FactSection(heading="Decisions reaching these workers", facts=_path_facts(ctx, paths))
    acting = FactSection(
        heading="Open actions on these risks", facts=capped(_open_actions(paths), action_fact, "actions")
    )
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
        return [section for section in (about, reaching, acting) if section is about or section.facts]
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
    return _with_sources(ctx, [about, conditions, reaching, acting])


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


def group_facts(ctx: MapContext, org_id: str, cohorts: list[Held]) -> list[FactSection]:
    total, worst = ctx.workers_of(cohorts), ctx.worst_of(cohorts)
    about = FactSection(
        heading="Cohort group",
        facts=[
            Fact(label="Cohorts", value=f"{thousands(len(cohorts))} cohorts, {workers(total)}"),
            Fact(label="Engaged by", value=ctx.name(org_id)),
            Fact(label="Tier", value=ctx.tier_text(org_id)),
            Fact(label="Worst risk", value=severity_text(worst)),
            Fact(
                label="Why grouped",
                value="the map has too many cohorts to show one by one; open the group to see them",
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


def org_group_facts(
    ctx: MapContext, members: list[Organization], cohorts: list[Held], where: str
) -> list[FactSection]:
    worst_in: dict[str, int] = {}
    workers_in: dict[str, int] = {}
    for member in members:
        if (found := ctx.counted.get(member.id)) is not None:
            worst_in[member.id], workers_in[member.id] = found.worst or 0, found.workers
    for cohort in cohorts:
        for org in dict.fromkeys(org for org, _ in ctx.chain.engagers.get(cohort.id, ())):
            severity = ctx.worst(cohort.id) or 0
            worst_in[org] = max(worst_in.get(org, 0), severity)
            workers_in[org] = workers_in.get(org, 0) + (
                0 if cohort.id in ctx.suppressed else cohort.headcount or 0
            )
    tally = ctx.tally_of(m.id for m in members)
    total = ctx.workers_of(cohorts) + tally.workers
    worst = max(ctx.worst_of(cohorts) or 0, tally.worst or 0) or None
    about = FactSection(
        heading="Group of organizations",
        facts=[
            Fact(label="Organizations", value=f"{thousands(len(members))} in {members[0].country}, {where}"),
            Fact(label="Workers", value=f"{count(len(cohorts) + tally.cohorts, 'cohort')}, {workers(total)}"),
            Fact(label="Worst risk", value=severity_text(worst)),
            Fact(
                label="Why grouped",
                value="the map has too many organizations to show one by one; open the group to see them",
            ),
        ],
    )
    ranked = sorted(members, key=lambda o: (-worst_in.get(o.id, 0), -workers_in.get(o.id, 0), o.id))

    def org_fact(o: Organization) -> Fact:
        severity = severity_text(worst_in.get(o.id) or None)
        return Fact(label=o.name, value=f"{severity} · {workers(workers_in.get(o.id, 0))}")

    listed = FactSection(
        heading="Most at-risk and largest organizations", facts=capped(ranked, org_fact, "organizations")
    )
    return [about, listed]

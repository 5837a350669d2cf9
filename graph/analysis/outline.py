"""A chain's outline: what a map needs to choose what it draws, read without record bodies.

Every organization below a viewpoint (or every organization, without one) with its full
record and its supply links, in a view; every ENGAGES link out of them as a light row
(graph.store.EngagedCohort: the cohort's name, headcount and risk codes); and the worst
severity that the viewpoint's decisions (every decision's, without one) reach in each
cohort, from those risk codes and the tracer's own reach (graph.analysis.paths). A map
groups what its budget cannot draw one by one, then reads in full only what it draws
(``details``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from laborgraph.graph.analysis import regions
from laborgraph.graph.analysis.paths import reached_engagers, select_decisions, walk_groups
from laborgraph.graph.analysis.ranking import ALL_DIMENSIONS, DIMENSION_BIT
from laborgraph.graph.analysis.traverse import Scope
from laborgraph.graph.errors import NotFound
from laborgraph.graph.model import GraphData, Link, Organization, Unit
from laborgraph.graph.scoring import ScoringConfig
from laborgraph.graph.store import DEFAULT_DEPTH, EngagedCohort, EngagedTotal, GraphReader
from laborgraph.graph.view import AnyEntity, GraphView
from laborgraph.graph.vocabulary import SUPPLY_LINKS, Dimension, EntityKind, LinkType

ENGAGES = (LinkType.ENGAGES,)


@dataclass
class Tally:
    """The cohorts of one organization that a map counts without listing them: those no
    other link engages (graph.store.EngagedTotal), over every project."""

    cohorts: int = 0
    small: int = 0  # below the privacy threshold
    workers: int = 0  # of the others
    worst: int | None = None  # worst severity the decisions reach among them


@dataclass
class Outline:
    view: GraphView  # organizations, the viewpoint's units and decisions, supply links
    engaged: list[EngagedCohort]  # every ENGAGES link out of the organizations, in scope
    worst: dict[str, int]  # cohort id → worst severity of the risks the decisions reach there
    projects: list[str] | None  # the projects the chain's links may carry (None: every one)
    # The map of every buyer: organization → the cohorts only it engages, counted, not in
    # ``engaged`` (``list_cohorts`` reads them as rows).
    counted: dict[str, Tally] = field(default_factory=dict)
    reaching: dict[str, list[tuple[Scope, int]]] = field(default_factory=dict)
    severity: dict[tuple[Dimension, str], int] = field(default_factory=dict)
    _bits: dict[tuple[str, str], int] = field(default_factory=dict)  # what reaches along each link

    def risk_of(self, organization_id: str, project: str, risks: Collection[tuple[Dimension, str]]) -> int:
        """The worst severity among ``risks`` that the decisions reach along one link (0: none)."""
        if not risks:
            return 0
        bits = self._bits.get((organization_id, project))
        if bits is None:
            bits = 0
            for scope, reached in self.reaching.get(organization_id, ()):
                if scope is None or not project or project in scope:
                    bits |= reached
            self._bits[organization_id, project] = bits
        worst = 0
        for risk in risks if bits else ():
            found = self.severity.get(risk)
            if found and bits & DIMENSION_BIT[risk[0]] and found > worst:
                worst = found
        return worst

    def add(self, rows: Collection[EngagedCohort]) -> None:
        self.engaged += rows
        worst = self.worst
        for org, cohort_id, project, _, _, risks in rows:
            if risks and (found := self.risk_of(org, project, risks)) > worst.get(cohort_id, 0):
                worst[cohort_id] = found

    def list_cohorts(self, reader: GraphReader, organization_ids: Collection[str]) -> None:
        """Read as rows the cohorts ``counted`` holds of these organizations."""
        wanted = sorted(o for o in organization_ids if o in self.counted)
        if not wanted:
            return
        listed = {(r.organization_id, r.cohort_id, r.project) for r in self.engaged}
        self.add(
            [
                r
                for r in reader.engaged(wanted, None)
                if (r.organization_id, r.cohort_id, r.project) not in listed
            ]
        )
        for org in wanted:
            del self.counted[org]


def chain_outline(
    reader: GraphReader,
    viewpoint: str | None,
    config: ScoringConfig,
    depth: int = DEFAULT_DEPTH,
    *,
    near: str | None = None,
    counted_below: int | None = None,
) -> Outline:
    """The outline of ``viewpoint``'s chain, or of the whole graph. With ``near``, an
    organization of the chain, only the cohorts it and its supply partners engage: all
    that a map of its neighbourhood one link deep shows (a group of cohorts, opened).
    With ``counted_below`` (the privacy threshold; the whole graph only), the cohorts only
    one link engages are counted per organization (``Outline.counted``), not listed.
    NotFound unless the viewpoint is an organization."""
    owners = reader.project_owners()
    projects: list[str] | None = None
    if viewpoint is None:
        records: list[AnyEntity | Link] = reader.skeleton().records()
        organizations = {r.id for r in records if isinstance(r, Organization)}
    else:
        found = reader.entities([viewpoint])
        if not found or not isinstance(found[0], Organization):
            raise NotFound(viewpoint, EntityKind.organization)
        projects = regions.walkable_projects([found[0]], owners)
        organizations, supply = regions.walk_down(reader, {viewpoint}, projects, SUPPLY_LINKS)
        units = reader.units_of([viewpoint])
        records = [
            *reader.entities(organizations),
            *units,
            *reader.decisions_by([u.id for u in units]),
            *supply,
        ]
    view = GraphView.of(GraphData.of(records))
    view.project_owner = owners
    if near in organizations:
        partners = {k.to_id for k in view.out_links(near)} | {k.from_id for k in view.in_links(near)}
        organizations = {near} | (partners & organizations)
    groups = walk_groups(view, select_decisions(view, viewpoint))
    reaching: dict[str, list[tuple[Scope, int]]] = defaultdict(list)
    for (org, scope), bits in reached_engagers(view, groups, depth, ALL_DIMENSIONS).items():
        reaching[org].append((scope, bits))
    outline = Outline(view, [], {}, projects, reaching=reaching, severity=config.severity_by_code)
    if counted_below is None or viewpoint is not None:
        outline.add(reader.engaged(organizations, projects))
        return outline
    outline.add(reader.shared_engaged())
    for total in reader.engaged_totals(counted_below):
        _count(outline, total)
    return outline


def _count(outline: Outline, total: EngagedTotal) -> None:
    tally = outline.counted.setdefault(total.organization_id, Tally())
    tally.cohorts += total.cohorts
    tally.small += total.small
    tally.workers += total.workers
    worst = outline.risk_of(total.organization_id, total.project, total.risks)
    if worst and worst > (tally.worst or 0):
        tally.worst = worst


def details(
    reader: GraphReader, outline: Outline, cohort_ids: Collection[str], org_ids: Collection[str]
) -> GraphData:
    """Full records of the cohorts and organizations a map draws: cohorts with their
    conditions and ENGAGES links, the decisions made or applying at the organizations (with
    their units and deciding organizations), and every source these cite."""
    cohorts = [*reader.entities(cohort_ids), *reader.conditions_of(cohort_ids)]
    engages = reader.links_into(cohort_ids, ENGAGES, outline.projects)
    units = reader.units_of(org_ids)
    decisions = [*reader.decisions_by([u.id for u in units]), *reader.decisions_applying_to(org_ids)]
    known = {u.id for u in units}
    deciders: list[AnyEntity] = [u for u in reader.entities({d.unit_id for d in decisions} - known)]
    named = {u.organization_id for u in deciders if isinstance(u, Unit)} | {d.applies_to for d in decisions}
    named |= {link.from_id for link in engages}
    deciders += reader.entities(named - set(outline.view.graph))  # named in the facts of those drawn
    records = [*cohorts, *units, *decisions, *deciders]
    supply = [k for k in outline.view.links() if k.type is not LinkType.ENGAGES and k.from_id in org_ids]
    drawn = [*records, *engages, *supply, *(outline.view.node(o) for o in org_ids)]
    cited = {s for record in drawn for s in record.source_ids}
    return GraphData.of([*records, *engages, *reader.entities(cited)])

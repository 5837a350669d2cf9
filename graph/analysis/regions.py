"""Which region of the graph a question needs, read from a store's snapshot into a GraphView.

Analysis plans, stores serve: each function here asks a ``GraphReader`` for links, entities
and index seeks level by level, and builds the smallest view on which the pure question
functions give the answer the whole graph gives. A question about

- an organization, unit or decision reads everything downstream of it (``region``);
- a cohort or condition reads everything upstream of it;
- a page of risk paths from an origin reads the organizations below it, and then only the
  cohorts that can rank on the page (``path_region``);
- the whole graph reads everything, or for whole-graph questions (gaps, fragmentation) a
  skeleton and streams of light facts (``whole_graph``).
- a report of an organization's chain reads what ``region`` reads below it, as a skeleton
  and light rows (``chain_rows``);
- an export of the region below an organization reads what lies within N links below it,
  with its units and decisions (``below_region``); a whole-graph export streams records
  (GraphReader.entity_records), never building a view.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from laborgraph.graph.analysis.paths import PathQuery, reached_engagers, select_decisions, walk_groups
from laborgraph.graph.analysis.privacy import is_small
from laborgraph.graph.analysis.ranking import ALL_DIMENSIONS, DIMENSION_BIT, ranked_cohorts
from laborgraph.graph.analysis.traverse import check_depth
from laborgraph.graph.analysis.whole import WholeGraph
from laborgraph.graph.errors import NotFound
from laborgraph.graph.model import Cohort, Condition, Decision, GraphData, Link, Organization, Unit
from laborgraph.graph.scoring import ScoringConfig
from laborgraph.graph.store import MAX_DEPTH, CohortFacts, EngagedCohort, Engagement, GraphReader, GraphStore
from laborgraph.graph.view import AnyEntity, GraphView
from laborgraph.graph.vocabulary import SUPPLY_LINKS, EntityKind, LinkType, OrgKind

ALL_LINKS = tuple(LinkType)
ENGAGES = (LinkType.ENGAGES,)


def region_view(store: GraphStore, around: str | None = None) -> GraphView:
    """``region`` read from a fresh snapshot of the store."""
    with store.read() as reader:
        return region(reader, around)


def path_view(store: GraphStore, query: PathQuery, config: ScoringConfig) -> GraphView:
    """``path_region`` read from a fresh snapshot of the store."""
    with store.read() as reader:
        return path_region(reader, query, config)


@contextmanager
def whole_graph(store: GraphStore) -> Iterator[WholeGraph]:
    """The whole graph as whole-graph questions read it (graph.analysis.whole), from one
    snapshot of the store, open while the block reads it."""
    with store.read() as reader:
        yield WholeGraph.from_reader(reader)


def region(reader: GraphReader, around: str | None = None) -> GraphView:
    """The whole graph, or everything a question about ``around`` needs.

    For an organization, unit or decision: its decisions, their units and organizations,
    and everything downstream of those organizations and of what the decisions apply to,
    within MAX_DEPTH links, along the links they can follow (for buyers: unscoped links and
    their own projects). For a cohort or a condition: everything upstream of the cohort
    within MAX_DEPTH links, the decisions applying there, their units and organizations.
    NotFound if ``around`` is unknown.
    """
    owners = reader.project_owners()
    if around is None:
        return _view(reader.everything().records(), owners)
    focus = _focus(reader, around)
    if isinstance(focus, Cohort | Condition):
        records = _upstream(reader, focus)
    elif isinstance(focus, Organization | Unit | Decision):
        records = _downstream(reader, focus, owners)
    else:  # a source: no question is about one, so it gets the whole graph
        records = reader.everything().records()
    return _view(records, owners)


def chain_view(store: GraphStore, viewpoint: str) -> GraphView:
    """``chain_region`` read from a fresh snapshot of the store."""
    with store.read() as reader:
        return chain_region(reader, viewpoint)


def chain_region(reader: GraphReader, viewpoint: str) -> GraphView:
    """The organizations and cohorts below an organization, along the links it can see (a
    buyer: unscoped links and its own projects), and those links: what its tiers need.
    No decisions, conditions or sources. NotFound unless ``viewpoint`` is an organization."""
    owners = reader.project_owners()
    focus = _focus(reader, viewpoint)
    if not isinstance(focus, Organization):
        raise NotFound(viewpoint, EntityKind.organization)
    organizations, links = walk_down(reader, {viewpoint}, walkable_projects([focus], owners), ALL_LINKS)
    region = organizations | {link.to_id for link in links if link.type is LinkType.ENGAGES}
    return _view([*reader.entities(region), *(link for link in links if link.to_id in region)], owners)


@dataclass(frozen=True)
class ChainRows:
    """A chain as a report reads it: a skeleton (its organizations, the origin's units and
    decisions, the supply links) and its ENGAGES links as rows."""

    skeleton: GraphView
    engaged: list[EngagedCohort]  # every ENGAGES link out of the chain's organizations, in scope

    @property
    def ids(self) -> set[str]:
        """The ids of the chain's organizations, units, decisions and cohorts."""
        return {
            *self.skeleton.graph.nodes,
            *self.skeleton.units,
            *self.skeleton.decisions,
            *(e.cohort_id for e in self.engaged),
        }

    def whole(self, reader: GraphReader) -> WholeGraph:
        """The chain as whole-graph questions read it, its cohorts' conditions read now as
        ``ConditionFacts``: gaps, fragmentation and reach answer on it as on the region's."""
        cohorts = sorted({(e.cohort_id, e.name, e.headcount) for e in self.engaged})
        conditions = list(reader.condition_facts([c[0] for c in cohorts]))
        engagements = sorted({Engagement(e.cohort_id, e.organization_id, e.project) for e in self.engaged})
        dates = reader.source_dates()
        return WholeGraph(
            self.skeleton,
            lambda: (CohortFacts(*c) for c in cohorts),
            lambda: iter(conditions),
            lambda: iter(engagements),
            lambda: dates,
        )


def chain_rows(reader: GraphReader, origin: str) -> ChainRows:
    """What ``region`` reads below an organization, unit or decision, as a skeleton and the
    rows of its cohorts' ENGAGES links (name, headcount, risk codes), no record bodies.
    NotFound unless ``origin`` is one of those."""
    owners = reader.project_owners()
    focus = _focus(reader, origin)
    if not isinstance(focus, Organization | Unit | Decision):
        raise NotFound(origin, EntityKind.organization)
    start = _origin(reader, focus, owners)
    organizations, supply = walk_down(reader, start.starts, start.projects, SUPPLY_LINKS)
    known = {record.id for record in start.records}
    skeleton = _view([*start.records, *reader.entities(organizations - known), *supply], owners)
    return ChainRows(skeleton, reader.engaged(organizations, start.projects))


def below_region(reader: GraphReader, org_id: str, depth: int, private_below: int = 0) -> Records:
    """An organization, its units and their decisions, and what lies within ``depth`` links
    below it along the links it can see (a buyer: unscoped links and its own projects):
    organizations within ``depth`` supply links, the cohorts engaged within ``depth`` links
    (one below the organization engaging them), every link among all these, the cohorts'
    conditions and the sources all of them cite. Cohorts with a headcount below
    ``private_below``, their conditions and the links into them are left out (as
    GraphReader.entity_records leaves them). NotFound unless ``org_id`` is an organization."""
    focus = _focus(reader, org_id)
    if not isinstance(focus, Organization):
        raise NotFound(org_id, EntityKind.organization)
    projects = walkable_projects([focus], reader.project_owners())
    # The organizations within depth - 1 links engage the cohorts within depth; the ring of
    # those one link farther engages none of them alone, but its links may join the region.
    inner, walked = walk_down(reader, {org_id}, projects, ALL_LINKS, check_depth(depth) - 1)
    ring = {link.to_id for link in walked if link.type is not LinkType.ENGAGES} - inner
    organizations = inner | ring
    engaged = {link.to_id for link in walked if link.type is LinkType.ENGAGES}
    found = reader.entities(engaged)
    cohorts = [c for c in found if isinstance(c, Cohort) and not is_small(c.headcount, private_below)]
    cohort_ids = {c.id for c in cohorts}
    supply = [
        link
        for link in (*walked, *reader.links_from(sorted(ring), SUPPLY_LINKS, projects))
        if link.type is not LinkType.ENGAGES and link.to_id in organizations
    ]
    engages = [
        link for link in reader.links_into(cohort_ids, ENGAGES, projects) if link.from_id in organizations
    ]
    units = reader.units_of([org_id])
    entities = [
        *reader.entities(organizations),
        *cohorts,
        *reader.conditions_of(cohort_ids),
        *units,
        *reader.decisions_by([u.id for u in units]),
    ]
    links = [*supply, *engages]
    return [*entities, *_sources_of(reader, entities, links), *links]


def path_region(reader: GraphReader, query: PathQuery, config: ScoringConfig) -> GraphView:
    """A view from which tracing ``query`` gives the page the whole graph gives.

    For a page from an organization, unit or decision (or from every decision), the
    tracer's own walk over the organizations below the origin (over the skeleton) finds
    which of them each group of decisions reaches, and on which dimensions; index seeks
    then give the best ``offset + limit`` (cohort, dimension) pairs those organizations
    engage (graph.analysis.ranking.ranked_cohorts). Each pair yields at least one path, so
    no other cohort can make the page. Other queries (towards a cohort, filtered by
    project, or unbounded) read ``region``.
    """
    if not (query.target is None and query.project is None and query.limit):
        return region(reader, query.around)
    check_depth(query.depth)
    owners = reader.project_owners()
    if query.origin is None:
        view = _view(reader.skeleton().records(), owners)
        organizations = {org.id for org in view.organizations()}
    else:
        focus = _focus(reader, query.origin)
        if not isinstance(focus, Organization | Unit | Decision):
            return region(reader, query.origin)  # the tracer refuses it, in its own words
        origin = _origin(reader, focus, owners)
        organizations, supply = walk_down(reader, origin.starts, origin.projects, SUPPLY_LINKS)
        view = _view([*origin.records, *reader.entities(organizations), *supply], owners)
    decisions = select_decisions(view, query.origin)
    wanted = DIMENSION_BIT[query.dimension] if query.dimension else ALL_DIMENSIONS
    engagers = reached_engagers(view, walk_groups(view, decisions), query.depth, wanted)
    cohort_ids = ranked_cohorts(
        reader,
        engagers,
        config,
        min_severity=query.min_severity,
        wanted=wanted,
        country=query.country.upper() if query.country else None,
        need=query.offset + query.limit,
    )
    engages = [link for link in reader.links_into(cohort_ids, ENGAGES, None) if link.from_id in organizations]
    # No sources: a path cites its evidence by id, and only gaps and maps read sources.
    conditions = _with_benchmarks(reader, reader.conditions_of(cohort_ids))
    view.upsert(GraphData.of([*reader.entities(cohort_ids), *conditions, *engages]))
    return view


# -- planning -------------------------------------------------------------------------

Records = list[AnyEntity | Link]


def _view(records: Iterable[AnyEntity | Link], owners: dict[str, str]) -> GraphView:
    view = GraphView.of(GraphData.of(records))
    view.project_owner = owners
    return view


def _focus(reader: GraphReader, entity_id: str) -> AnyEntity:
    found = reader.entities([entity_id])
    if not found:
        raise NotFound(entity_id)
    return found[0]


@dataclass(frozen=True)
class _Origin:
    """What a question from an organization, unit or decision starts with."""

    records: list[AnyEntity]  # the units, their decisions, and the organizations of both
    starts: set[str]  # the decision makers and the organizations the decisions apply to
    projects: list[str] | None  # the links below them a walk may follow (None: every link)


def _origin(reader: GraphReader, focus: Organization | Unit | Decision, owners: dict[str, str]) -> _Origin:
    units: list[Unit]
    decisions: list[Decision]
    if isinstance(focus, Unit):
        units, decisions = [focus], reader.decisions_by([focus.id])
    elif isinstance(focus, Decision):
        units, decisions = [u for u in reader.entities([focus.unit_id]) if isinstance(u, Unit)], [focus]
    else:
        units = reader.units_of([focus.id])
        decisions = reader.decisions_by([u.id for u in units])
    makers_ids = {u.organization_id for u in units} | (
        {focus.id} if isinstance(focus, Organization) else set()
    )
    makers = [org for org in reader.entities(makers_ids) if isinstance(org, Organization)]
    return _Origin(
        records=[*units, *decisions, *makers],
        starts={org.id for org in makers} | {d.applies_to for d in decisions},
        projects=walkable_projects(makers, owners),
    )


def walkable_projects(makers: list[Organization], owners: dict[str, str]) -> list[str] | None:
    """The projects a walk below these decision makers may follow besides unscoped links:
    buyers' own; None (every link) when a vendor is among them."""
    if not all(OrgKind.buyer in org.kinds for org in makers):
        return None
    ids = {org.id for org in makers}
    return sorted({project for project, owner in owners.items() if owner in ids})


def _downstream(
    reader: GraphReader, focus: Organization | Unit | Decision, owners: dict[str, str]
) -> Records:
    """Decisions of an organization, unit or decision, and everything downstream of them.

    Only links these decisions (and the organization's tiers) can follow are walked: for
    buyers, unscoped links and their own projects. A shared vendor's work for other buyers'
    projects, often most of what lies below it, stays out of the region.
    """
    origin = _origin(reader, focus, owners)
    organizations, links = walk_down(reader, origin.starts, origin.projects, ALL_LINKS)
    cohorts = {link.to_id for link in links if link.type is LinkType.ENGAGES}
    region = organizations | cohorts
    entities = [
        *origin.records,
        *reader.entities(region),
        *_with_benchmarks(reader, reader.conditions_of(cohorts)),
    ]
    # Links out of the last level may leave the region; every link within it stays.
    inside = [link for link in links if link.to_id in region]
    return [*entities, *_sources_of(reader, entities, inside), *inside]


def _upstream(reader: GraphReader, focus: Cohort | Condition) -> Records:
    """Everything upstream of a cohort, the decisions that apply there, and who made them."""
    cohort_id = focus.cohort_id if isinstance(focus, Condition) else focus.id
    engages = reader.links_into([cohort_id], ENGAGES, None)

    def level(frontier: set[str]) -> list[Link]:
        return reader.links_into(sorted(frontier), SUPPLY_LINKS, None)

    organizations, supply = _breadth_first({link.from_id for link in engages}, level, downwards=False)
    links = [link for link in (*engages, *supply) if link.from_id in organizations]
    decisions = reader.decisions_applying_to(organizations)
    units = [u for u in reader.entities({d.unit_id for d in decisions}) if isinstance(u, Unit)]
    nodes = reader.entities(organizations | {u.organization_id for u in units} | {cohort_id})
    entities = [*decisions, *units, *nodes, *_with_benchmarks(reader, reader.conditions_of([cohort_id]))]
    return [*entities, *_sources_of(reader, entities, links), *links]


def walk_down(
    reader: GraphReader,
    starts: set[str],
    projects: list[str] | None,
    types: Collection[LinkType],
    depth: int = MAX_DEPTH,
) -> tuple[set[str], list[Link]]:
    """Organizations within ``depth`` supply links below the starts, and every link of
    ``types`` out of them (ENGAGES links reach cohorts, which end the walk)."""

    def level(frontier: set[str]) -> list[Link]:
        return reader.links_from(sorted(frontier), types, projects)

    organizations, links = _breadth_first(starts, level, downwards=True, depth=depth)
    if LinkType.ENGAGES not in types:
        links = [link for link in links if link.to_id in organizations]
    return organizations, links


def _breadth_first(
    starts: set[str],
    level: Callable[[set[str]], Iterable[Link]],
    *,
    downwards: bool,
    depth: int = MAX_DEPTH,
) -> tuple[set[str], list[Link]]:
    """Organizations within ``depth`` supply links of the starts, below them or above, and
    every link ``level`` gives for each level's frontier. An ENGAGES link ends the walk."""
    organizations, links = set(starts), []
    frontier = starts
    for distance in range(depth + 1):
        if not frontier:
            break
        reached = set()
        for link in level(frontier):
            far_end = link.to_id if downwards else link.from_id
            if link.type is not LinkType.ENGAGES and distance < depth and far_end not in organizations:
                reached.add(far_end)
                organizations.add(far_end)
            links.append(link)
        frontier = reached
    return organizations, links


def _with_benchmarks(reader: GraphReader, conditions: list[Condition]) -> list[AnyEntity]:
    """The conditions, and the benchmarks they took from benchmarks.csv (explanations name them)."""
    taken = {c.benchmark_id for c in conditions if c.benchmark_id}
    return [*conditions, *(reader.entities(taken) if taken else ())]


def _sources_of(reader: GraphReader, entities: list[AnyEntity], links: list[Link]) -> list[AnyEntity]:
    cited = {source_id for record in (*entities, *links) for source_id in record.source_ids}
    return reader.entities(cited)

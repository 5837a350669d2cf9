"""Build a supply-chain map: which nodes and links to show, where, and what they say.

``chain_map`` is what the CLI and the API call: it reads the chain's outline and its best
risk paths from the store and hands them to ``build_map``, which picks the region (a
viewpoint's chain, or every buyer's; optionally the neighbourhood of one entity, or the
organizations of one tier and country), masks small cohorts, groups what its budget cannot
draw one by one (visualize.budget), colours cohorts by the worst risk reaching them and
lays everything out by tier.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from laborgraph.graph.analysis.actions import with_open_actions
from laborgraph.graph.analysis.outline import Tally, chain_outline, details
from laborgraph.graph.analysis.paths import PathQuery, RiskPath, trace_risk_paths
from laborgraph.graph.analysis.privacy import DEFAULT_PRIVACY, Privacy
from laborgraph.graph.analysis.regions import path_region
from laborgraph.graph.analysis.traverse import check_depth
from laborgraph.graph.errors import InvalidQuery, NotFound
from laborgraph.graph.model import Condition, Decision, GraphData, Organization, Unit
from laborgraph.graph.scoring import ScoringConfig
from laborgraph.graph.store import EngagedCohort, GraphReader, GraphStore
from laborgraph.graph.view import GraphView
from laborgraph.graph.vocabulary import LinkType
from laborgraph.visualize import captions, nodes
from laborgraph.visualize.budget import MAX_EDGES_BETWEEN_GROUPS, MAX_NODES, Grouping, group_to_budget
from laborgraph.visualize.chain import Chain, Held
from laborgraph.visualize.facts import MapContext, cited, source_texts
from laborgraph.visualize.highlight import map_paths, path_pairs
from laborgraph.visualize.model import MapModel, MapNode, MapStats

Details = Callable[[Collection[str], Collection[str]], GraphData]  # (cohort ids, organization ids)
MAX_PATHS = 50  # risk paths the page can highlight
DEFAULT_FOCUS_DEPTH = 2


def chain_map(
    store: GraphStore,
    config: ScoringConfig,
    *,
    viewpoint: str | None = None,
    focus: str | None = None,
    depth: int = DEFAULT_FOCUS_DEPTH,
    region: tuple[int | None, str] | None = None,
    path_rank: int | None = None,
    privacy: Privacy = DEFAULT_PRIVACY,
    served: bool = False,
    today: date | None = None,
) -> MapModel:
    """What ``laborgraph map`` and the server's pages show, read from one snapshot of the
    store: the chain's outline (graph.analysis.outline), the best risk paths of the
    viewpoint's decisions (every decision's without one) with their open actions (overdue
    as of ``today``), and in full only what is drawn. ``path_rank`` (1 = the worst) is
    highlighted when the page opens."""
    with store.read() as reader:
        focus = None if focus is None else _node_of(reader, focus)
        # The map of every buyer counts the cohorts only one link engages (most of them)
        # and lists just those of the organizations it draws one by one.
        counting = viewpoint is None and focus is None and path_rank is None
        # Paths first: the view they are traced on is let go before the outline is read.
        query = PathQuery(origin=viewpoint, limit=max(MAX_PATHS, path_rank or 0))
        paths = trace_risk_paths(path_region(reader, query, config), query, config, privacy)
        paths = with_open_actions(reader, paths, today or date.today())
        # One link around an organization (an opened group) needs only its partners' cohorts.
        outline = chain_outline(
            reader,
            viewpoint,
            config,
            near=focus if depth == 1 else None,
            counted_below=privacy.min_headcount if counting else None,
        )
        if counting:
            # The cohorts of the paths the map can highlight, and those of the organizations
            # of an opened group or drawn one by one, are listed.
            engagers = {h.from_id for p in paths for h in p.hops if h.relation == LinkType.ENGAGES.value}
            outline.list_cohorts(reader, engagers)
            if region is not None:
                tiers = Chain.of(outline.view, outline.engaged).tiers(None)[0]
                outline.list_cohorts(reader, _in_region(outline.view, tiers, region))
            alone = _drawn_alone(outline.view, region, outline.engaged, outline.counted, MAX_NODES)
            outline.list_cohorts(reader, alone)
        highlight = None
        if path_rank is not None:
            if not 1 <= path_rank <= len(paths):
                raise InvalidQuery(f"there is no risk path ranked {path_rank}; there are {len(paths)}")
            highlight = paths[path_rank - 1]
        return build_map(
            outline.view,
            viewpoint=viewpoint,
            focus=focus,
            depth=depth,
            region=region,
            highlight=highlight,
            paths=paths,
            engaged=outline.engaged,
            severity=outline.worst,
            details=lambda cohort_ids, org_ids: details(reader, outline, cohort_ids, org_ids),
            privacy=privacy,
            served=served,
            counted=outline.counted,
        )


def _in_region(
    view: GraphView, tiers: Mapping[str, Mapping[str, int]], region: tuple[int | None, str]
) -> list[str]:
    """The organizations of one tier and country, tiers counted from the nearest buyer."""
    return [
        o.id for o in view.organizations() if (min(tiers[o.id].values(), default=None), o.country) == region
    ]


def _drawn_alone(
    view: GraphView,
    region: tuple[int | None, str] | None,
    engaged: Sequence[EngagedCohort],
    counted: Mapping[str, Tally],
    budget: int,
) -> list[str]:
    """The organizations the map of every buyer draws one by one (in no group of
    organizations), as build_map chooses them from the cohorts listed and counted."""
    chosen = _choose(Chain.of(view, engaged), None, None, DEFAULT_FOCUS_DEPTH, region, None, budget, counted)
    grouped = {o.id for members in chosen.grouping.orgs.values() for o in members}
    return [o.id for o in chosen.orgs if o.id not in grouped and o.id in counted]


@dataclass
class _Chosen:
    """What a map shows, before it is drawn: the region, its tiers and its groups."""

    ctx_tiers: dict[str, int | None]
    tiers_from: dict[str, dict[str, int]]
    tier_from: str
    focus_id: str | None
    orgs: list[Organization]
    cohorts: list[Held]
    home: dict[str, str | None]
    grouping: Grouping


def _choose(
    chain: Chain,
    viewpoint: str | None,
    focus: str | None,
    depth: int,
    region: tuple[int | None, str] | None,
    highlighted: RiskPath | None,
    budget: int,
    counted: Mapping[str, Tally],
) -> _Chosen:
    view = chain.view
    tiers_from, tier_from = chain.tiers(viewpoint)
    tiers = {n: min(found.values(), default=None) for n, found in tiers_from.items()}
    shown = set(tiers)
    focus_id = None
    if focus is not None:
        focus_id = chain.focus_node(focus)
        if focus_id not in shown:
            raise InvalidQuery(f"{focus!r} is not in the chain of {viewpoint!r}")
        shown = chain.neighbourhood(focus_id, check_depth(depth), shown)
    cohorts = sorted((c for c in chain.cohorts.values() if c.id in shown), key=lambda c: c.id)
    orgs = sorted((o for o in view.organizations() if o.id in shown), key=lambda o: o.id)
    org_ids = {o.id for o in orgs}
    home = {c.id: _home([org for org, _ in chain.engagers[c.id]], org_ids, tiers) for c in cohorts}
    if region is not None:
        orgs = [o for o in orgs if (tiers[o.id], o.country) == region]
        org_ids = {o.id for o in orgs}
        cohorts = [c for c in cohorts if home[c.id] in org_ids]
        if not orgs:
            raise InvalidQuery(f"no organization of the chain is in tier {region[0]} and country {region[1]}")
    if viewpoint is None:  # cohorts' own tiers from every buyer: for those with no home shown
        chain.cohort_tiers([c for c, org in home.items() if org is None], tiers_from)
        tiers.update({c: min(tiers_from[c].values(), default=None) for c, org in home.items() if org is None})
    for cohort_id, org in home.items():
        if org is not None:
            tiers[cohort_id] = tiers[org]  # drawn, and counted, in its organization's band
    keep = {viewpoint, focus_id, highlighted.cohort_id if highlighted else None}
    sizes = {org: tally.cohorts for org, tally in counted.items()}
    grouping = group_to_budget(orgs, cohorts, home, tiers, keep, budget, sizes)
    return _Chosen(tiers, tiers_from, tier_from, focus_id, orgs, cohorts, home, grouping)


def build_map(
    view: GraphView,
    *,
    viewpoint: str | None = None,
    focus: str | None = None,
    depth: int = DEFAULT_FOCUS_DEPTH,
    region: tuple[int | None, str] | None = None,
    highlight: RiskPath | None = None,
    paths: Sequence[RiskPath] = (),
    engaged: Sequence[EngagedCohort] | None = None,
    severity: Mapping[str, int] | None = None,
    details: Details | None = None,
    privacy: Privacy = DEFAULT_PRIVACY,
    title: str | None = None,
    budget: int = MAX_NODES,
    max_paths: int = MAX_PATHS,
    served: bool = False,
    counted: Mapping[str, Tally] | None = None,
    max_between: int = MAX_EDGES_BETWEEN_GROUPS,
) -> MapModel:
    """The map of ``viewpoint``'s chain (every buyer's if None), of ``focus`` within
    ``depth``, or of one ``region`` of it (the organizations of a tier and a country).

    ``paths`` can be highlighted on the page (``highlight``, one of them, when it opens)
    and colour the cohorts (worst severity reaching each) unless ``severity`` gives each
    cohort's worst. Past ``budget`` nodes, cohorts and then organizations are grouped
    (visualize.budget). ``engaged`` lists the cohorts the view's organizations engage
    when the view holds none (graph.analysis.outline), and ``details`` then reads in full
    what the map draws one by one. Cohorts ``privacy`` hides are drawn without name, id
    or headcount, and named nowhere on the page; ``paths`` must have been traced with the
    same ``privacy``. ``counted`` (the map of every buyer) gives per organization the
    cohorts it alone engages that ``engaged`` does not list: only organizations the map
    groups may have any.
    """
    chain = Chain.of(view, engaged)
    highlighted = highlight
    chosen = _choose(chain, viewpoint, focus, depth, region, highlighted, budget, counted or {})
    tiers, focus_id, orgs, cohorts, home, grouping = (
        chosen.ctx_tiers, chosen.focus_id, chosen.orgs, chosen.cohorts, chosen.home, chosen.grouping
    )  # fmt: skip
    org_ids = {o.id for o in orgs}
    tallies = {o: t for o, t in (counted or {}).items() if o in org_ids}
    grouped = {o.id for members in grouping.orgs.values() for o in members}
    if set(tallies) - grouped:
        raise ValueError("the cohorts of an organization drawn one by one must be listed, not counted")
    masked = sorted(paths, key=lambda p: p.rank)
    ctx = MapContext(
        view, chain, tiers, chosen.tiers_from, chosen.tier_from, privacy, severity=severity, counted=tallies
    )
    ctx.suppressed = {c.id for c in cohorts if privacy.hides(c.headcount)}
    node_of = nodes.node_ids(cohorts, orgs, home, ctx.suppressed, grouping)
    drawn = [c.id for c in cohorts if node_of[c.id] == c.id or node_of[c.id].startswith(nodes.SUPPRESSED)]
    if viewpoint is None:
        chain.cohort_tiers(drawn, chosen.tiers_from)  # what their tooltips and panels say
    if details is not None:
        view.upsert(details(drawn, [o.id for o in orgs if node_of[o.id] == o.id]))
    ctx.refresh()
    for path in masked:
        if path.cohort_id in node_of:
            ctx.paths_to.setdefault(path.cohort_id, []).append(path)
    steps = path_pairs(masked, highlighted, node_of, max_paths)
    edges, pair_edges = nodes.map_edges(ctx, org_ids, node_of, steps, max_between)
    held: dict[str, list[Held]] = {}
    for cohort in cohorts:
        held.setdefault(node_of[cohort.id], []).append(cohort)
    shown_nodes = nodes.org_nodes(ctx, orgs, node_of, focus_id)
    shown_nodes += nodes.org_group_nodes(ctx, grouping, held)
    shown_nodes += nodes.cohort_nodes(ctx, [view.cohort(c) for c in drawn], node_of, focus_id)
    shown_nodes += nodes.cohort_group_nodes(ctx, grouping)
    layout = nodes.place(ctx, shown_nodes, home, node_of, edges)
    for node in shown_nodes:
        node.x, node.y = (round(v, 1) for v in layout.positions[node.id])
        node.drill = _drill(node, viewpoint, grouping)
    displayed = {n.id for n in shown_nodes}
    found, rank = map_paths(ctx, masked, highlighted, displayed, node_of, pair_edges, max_paths)
    facts = [f for n in shown_nodes for section in n.facts for f in section.facts]
    facts += [f for p in found for f in p.steps]
    return MapModel(
        title=title or captions.title(view, viewpoint),
        viewpoint=viewpoint,
        viewpoint_name=view.organization(viewpoint).name if viewpoint else None,
        focus=focus_id,
        depth=depth if focus_id else None,
        nodes=shown_nodes,
        edges=edges,
        bands=[captions.band(ctx, *extent, shown_nodes, viewpoint) for extent in layout.bands],
        legend=captions.legend_for(grouping),
        notes=captions.notes(ctx, grouping, focus_id, depth, len(masked), max_paths, budget),
        paths=found,
        highlight=rank,
        stats=MapStats(
            organizations=len(orgs),
            cohorts=len(cohorts) + sum(t.cohorts for t in tallies.values()),
            workers=ctx.workers_of(cohorts) + sum(t.workers for t in tallies.values()),
            nodes=len(shown_nodes),
            edges=len(edges),
        ),
        sources=source_texts(ctx, cited(facts)),
        trail=captions.trail(ctx, viewpoint, region, focus_id, depth),
        served=served,
        suppressed_ids=ctx.suppressed,
    )


def map_region(tier: str | None, country: str | None) -> tuple[int | None, str] | None:
    """The (tier, country) a map of one group of organizations shows, from the text of its
    parameters (an empty tier: organizations with none); InvalidQuery if one lacks the other."""
    if tier is None and country is None:
        return None
    if tier is None or not country:
        raise InvalidQuery("a group of organizations is opened with both a tier and a country")
    if tier and not (tier.isascii() and tier.isdigit()):  # "²" is a digit to str.isdigit, not to int
        raise InvalidQuery(f"tier must be a whole number, not {tier!r}")
    return (int(tier) if tier else None, country.upper())


def _drill(node: MapNode, viewpoint: str | None, grouping: Grouping) -> dict[str, str] | None:
    """The map parameters that open a group: an organization's cohorts, or the
    organizations of one tier and country."""
    chain = {"viewpoint": viewpoint} if viewpoint else {}
    if node.kind == "cohort_group":
        return {**chain, "focus": node.id.removeprefix(nodes.GROUP), "depth": "1"}
    if node.kind == "organization_group":
        members = grouping.orgs[node.id]
        return {**chain, "tier": "" if node.tier is None else str(node.tier), "country": members[0].country}
    return None


# -- region ---------------------------------------------------------------------------


def _node_of(reader: GraphReader, entity_id: str) -> str:
    """The organization or cohort an id stands for on a map (a unit: its organization; a
    decision: where it applies; a condition: its cohort). NotFound if it is unknown."""
    found = reader.entities([entity_id])
    if not found:
        raise NotFound(entity_id)
    entity = found[0]
    if isinstance(entity, Unit):
        return entity.organization_id
    if isinstance(entity, Decision):
        return entity.applies_to
    if isinstance(entity, Condition):
        return entity.cohort_id
    return entity_id


def _home(engaging: list[str], org_ids: set[str], tiers: dict[str, int | None]) -> str | None:
    """The organization a cohort is drawn under: the shown engaging one nearest the top."""
    shown = [org for org in engaging if org in org_ids]
    if len(shown) < 2:  # most cohorts: one engaging organization
        return shown[0] if shown else None
    return min(shown, key=lambda o: (tiers[o] is None, tiers[o] or 0, o))

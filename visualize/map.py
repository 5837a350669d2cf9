"""Build a supply-chain map: which nodes and links to show, where, and what they say.

``chain_map`` is what the CLI and the API call: it traces the risk paths and hands them to
``build_map``, which picks the region (a viewpoint's chain, or every buyer's; optionally the
neighbourhood of one entity), masks small cohorts, groups cohorts when there are too many to
show one by one, colours cohorts by the worst risk path reaching them and lays everything
out by tier.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from graph.analysis.paths import PathQuery, RiskPath, trace_risk_paths
from graph.analysis.privacy import is_small, suppress_path
from graph.analysis.tiers import tier_map
from graph.analysis.traverse import check_depth
from graph.errors import InvalidQuery
from graph.model import Cohort, Condition, Decision, Organization, Unit
from graph.scoring import ScoringConfig
from graph.view import GraphView
from graph.vocabulary import OrgKind
from visualize import captions, nodes
from visualize.facts import MapContext
from visualize.highlight import map_paths
from visualize.model import MapModel, MapStats

MAX_COHORTS = 400  # beyond this many, cohorts are grouped under the organization engaging them
MAX_PATHS = 50  # risk paths the page can highlight
DEFAULT_FOCUS_DEPTH = 2


def chain_map(
    view: GraphView,
    config: ScoringConfig,
    *,
    viewpoint: str | None = None,
    focus: str | None = None,
    depth: int = DEFAULT_FOCUS_DEPTH,
    path_rank: int | None = None,
    min_headcount: int = 5,
    show_small: bool = False,
    title: str | None = None,
) -> MapModel:
    """What ``laborgraph map`` and the server's pages show: the map with its risk paths traced.

    Paths are those of the viewpoint's decisions (every decision's without one); ``path_rank``
    (1 = the worst) is highlighted when the page opens.
    """
    if viewpoint is not None:
        view.organization(viewpoint)  # NotFound unless the viewpoint is an organization
    query = PathQuery.model_validate({"origin": viewpoint, "limit": None})
    paths = trace_risk_paths(view, query, config)
    highlight = None
    if path_rank is not None:
        if not 1 <= path_rank <= len(paths):
            raise InvalidQuery(f"there is no risk path ranked {path_rank}; there are {len(paths)}")
        highlight = paths[path_rank - 1]
    return build_map(
        view,
        viewpoint=viewpoint,
        focus=focus,
        depth=depth,
        highlight=highlight,
        paths=paths,
        min_headcount=min_headcount,
        show_small=show_small,
        title=title,
    )


def build_map(
    view: GraphView,
    *,
    viewpoint: str | None = None,
    focus: str | None = None,
    depth: int = DEFAULT_FOCUS_DEPTH,
    highlight: RiskPath | None = None,
    paths: Sequence[RiskPath] = (),
    min_headcount: int = 5,
    show_small: bool = False,
    title: str | None = None,
    max_cohorts: int = MAX_COHORTS,
    max_paths: int = MAX_PATHS,
) -> MapModel:
    """The map of ``viewpoint``'s chain (every buyer's if None), or of ``focus`` within ``depth``.

    ``paths`` colour the cohorts (worst severity reaching each) and can be highlighted on
    the page; ``highlight``, one of them, is highlighted when the page opens. Cohorts below
    ``min_headcount`` are suppressed unless ``show_small`` (the admin scope).
    """
    tiers_from, tier_from = _tiers(view, viewpoint)
    tiers = {n: min(found.values(), default=None) for n, found in tiers_from.items()}
    shown = set(tiers)
    focus_id = None
    if focus is not None:
        focus_id = _focus_node(view, focus)
        if focus_id not in shown:
            raise InvalidQuery(f"{focus!r} is not in the chain of {viewpoint!r}")
        shown = _neighbourhood(view, focus_id, check_depth(depth), shown)
    limit = 0 if show_small else min_headcount
    cohorts = sorted((c for c in view.cohorts() if c.id in shown), key=lambda c: c.id)
    orgs = sorted((o for o in view.organizations() if o.id in shown), key=lambda o: o.id)
    masked = [suppress_path(p, limit) for p in sorted(paths, key=lambda p: p.rank)]
    highlighted = suppress_path(highlight, limit) if highlight else None
    ctx = MapContext(view, tiers, tiers_from, tier_from, min_headcount)
    ctx.suppressed = {c.id for c in cohorts if is_small(c.headcount, limit)}
    for path in masked:
        if path.cohort_id in shown:
            ctx.paths_to.setdefault(path.cohort_id, []).append(path)

    org_ids = {o.id for o in orgs}
    home = {c.id: _home(ctx.engagers.get(c.id, []), org_ids, tiers) for c in cohorts}
    for cohort_id, org in home.items():
        if org is not None:
            tiers[cohort_id] = tiers[org]  # drawn, and counted, in its organization's band
    keep = {focus_id, highlighted.cohort_id if highlighted else None}
    groups = _groups(cohorts, home, keep, max_cohorts)
    node_of = nodes.node_ids(cohorts, ctx.suppressed, groups)
    edges, pair_edges = nodes.map_edges(ctx, org_ids, node_of)
    shown_nodes = nodes.org_nodes(ctx, orgs, focus_id)
    shown_nodes += nodes.cohort_nodes(ctx, cohorts, groups, node_of, focus_id)
    layout = nodes.place(ctx, shown_nodes, orgs, home, node_of, edges)
    for node in shown_nodes:
        node.x, node.y = (round(v, 1) for v in layout.positions[node.id])
    displayed = {n.id for n in shown_nodes}
    found, rank = map_paths(ctx, masked, highlighted, displayed, node_of, pair_edges, max_paths)
    return MapModel(
        title=title or captions.title(view, viewpoint),
        viewpoint=viewpoint,
        viewpoint_name=view.organization(viewpoint).name if viewpoint else None,
        focus=focus_id,
        depth=depth if focus_id else None,
        nodes=shown_nodes,
        edges=edges,
        bands=[captions.band(ctx, *extent, shown_nodes, viewpoint) for extent in layout.bands],
        legend=captions.legend_for(groups),
        notes=captions.notes(ctx, groups, focus_id, depth, len(masked), max_paths, max_cohorts),
        paths=found,
        highlight=rank,
        stats=MapStats(
            organizations=len(orgs),
            cohorts=len(cohorts),
            workers=sum(c.headcount or 0 for c in cohorts if c.id not in ctx.suppressed),
            nodes=len(shown_nodes),
            edges=len(edges),
        ),
        suppressed_ids=ctx.suppressed,
    )


# -- region ---------------------------------------------------------------------------


def _tiers(view: GraphView, viewpoint: str | None) -> tuple[dict[str, dict[str, int]], str]:
    """Per node shown, its tier from the viewpoint, or from each buyer above it."""
    if viewpoint is not None:
        found = tier_map(view, viewpoint)
        return {e.id: {viewpoint: e.tier} for e in found.entries}, found.viewpoint_name
    tiers: dict[str, dict[str, int]] = {node: {} for node in view.graph.nodes}
    for buyer in view.organizations():
        if OrgKind.buyer in buyer.kinds:
            for entry in tier_map(view, buyer.id).entries:
                tiers[entry.id][buyer.id] = entry.tier
    return tiers, "the nearest buyer"


def _focus_node(view: GraphView, focus: str) -> str:
    """The map node an id stands for (a unit: its organization; a decision: its target)."""
    entity = view.get(focus)
    if isinstance(entity, Organization | Cohort):
        return entity.id
    if isinstance(entity, Unit):
        return entity.organization_id
    if isinstance(entity, Decision):
        return entity.applies_to
    if isinstance(entity, Condition):
        return entity.cohort_id
    raise InvalidQuery(f"{focus!r} is a source; focus on an organization, cohort, unit or decision")


def _neighbourhood(view: GraphView, start: str, depth: int, allowed: set[str]) -> set[str]:
    """Nodes within ``depth`` links of ``start``, following links both ways."""
    distance = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if distance[node] == depth:
            continue
        for other in (*view.graph.successors(node), *view.graph.predecessors(node)):
            if other in allowed and other not in distance:
                distance[other] = distance[node] + 1
                queue.append(other)
    return set(distance)


def _home(engaging: list[str], org_ids: set[str], tiers: dict[str, int | None]) -> str | None:
    """The organization a cohort is drawn under: the shown engaging one nearest the top."""
    shown = [org for org in engaging if org in org_ids]
    return min(shown, key=lambda o: (tiers[o] is None, tiers[o] or 0, o), default=None)


def _groups(
    cohorts: list[Cohort], home: dict[str, str | None], keep: set[str | None], max_cohorts: int
) -> dict[str, list[Cohort]]:
    """Organizations whose cohorts become one node, largest first, until few enough remain."""
    count = len(cohorts)
    if count <= max_cohorts:
        return {}
    under: dict[str, list[Cohort]] = {}
    for cohort in cohorts:
        org = home[cohort.id]
        if org is not None and cohort.id not in keep:
            under.setdefault(org, []).append(cohort)
    groups: dict[str, list[Cohort]] = {}
    for org in sorted(under, key=lambda o: (-len(under[o]), o)):
        if count <= max_cohorts or len(under[org]) < 2:
            break
        groups[org] = under[org]
        count -= len(under[org]) - 1
    return groups

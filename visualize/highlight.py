"""Risk paths as the map highlights them: the map nodes and edges each one runs through."""

from __future__ import annotations

from urllib.parse import urlencode

from laborgraph.graph.analysis.paths import Hop, RiskPath
from laborgraph.visualize import facts as F
from laborgraph.visualize.model import Fact, MapPath
from laborgraph.visualize.nodes import PairEdges, wrap


def map_paths(
    ctx: F.MapContext,
    paths: list[RiskPath],
    highlighted: RiskPath | None,
    displayed: set[str],
    node_of: dict[str, str],
    pair_edges: PairEdges,
    max_paths: int,
) -> tuple[list[MapPath], int | None]:
    """The best ``max_paths`` paths on the map, plus ``highlighted``; and the rank to highlight."""
    chosen = [p for p in paths if p.cohort_id in node_of][:max_paths]
    rank = None
    if highlighted and highlighted.cohort_id in node_of:
        same = next((p for p in chosen if _same(p, highlighted)), None)
        if same is None:
            chosen.append(highlighted)
        rank = (same or highlighted).rank
    return [_map_path(ctx, p, displayed, node_of, pair_edges) for p in chosen], rank


def path_pairs(
    paths: list[RiskPath], highlighted: RiskPath | None, node_of: dict[str, str], most: int
) -> set[tuple[str, str]]:
    """The (from, to) map nodes of each step of the paths ``map_paths`` chooses."""
    chosen = [p for p in paths if p.cohort_id in node_of][:most]
    if highlighted and highlighted.cohort_id in node_of:
        chosen.append(highlighted)
    steps = [_drawn(p, node_of)[1] for p in chosen]
    return {pair for found in steps for pair in zip(found, found[1:], strict=False)}


def _drawn(path: RiskPath, node_of: dict[str, str]) -> tuple[list[str], list[str]]:
    """The map nodes a path runs through, and its steps (the same node twice in a row, once):
    a group of organizations stands for each member on the way."""
    drawn = [node_of.get(n, n) for n in (path.buyer_id, *path.organizations)] + [node_of[path.cohort_id]]
    return drawn, [n for i, n in enumerate(drawn) if i == 0 or n != drawn[i - 1]]


def _same(a: RiskPath, b: RiskPath) -> bool:
    return (a.chain, a.decision_id) == (b.chain, b.decision_id)


def _map_path(
    ctx: F.MapContext,
    path: RiskPath,
    displayed: set[str],
    node_of: dict[str, str],
    pair_edges: PairEdges,
) -> MapPath:
    orgs = path.organizations
    drawn, steps = _drawn(path, node_of)
    node_ids = list(dict.fromkeys(n for n in steps if n in displayed))
    edge_ids = [e for a, b in zip(steps, steps[1:], strict=False) for e in pair_edges.get((a, b), [])]
    chain_label = " > ".join(ctx.name(o) for o in orgs)
    cohort_label = path.cohort_name
    hidden = path.cohort_id in ctx.suppressed
    target = (
        {"dimension": path.dimension.value} if hidden else {"to": f"{path.cohort_id}/{path.dimension.value}"}
    )
    return MapPath(
        rank=path.rank,
        severity=path.severity,
        likelihood=path.likelihood,
        confidence=path.confidence,
        buyer_name=path.buyer_name,
        unit_name=path.unit_name,
        decision_id=path.decision_id,
        lever=path.lever,
        dimension=path.dimension,
        status=path.status,
        tier=path.tier,
        cohort_label=cohort_label,
        chain_label=chain_label,
        summary=f"#{path.rank} · severity {path.severity} · {path.unit_name} ({path.buyer_name})"
        f" → {path.lever.value} → {chain_label} → {cohort_label}: {path.dimension.value} "
        f"{path.status.value}",
        explanation=path.explanation,
        csv_query=urlencode({"from": path.decision_id, **target}),
        steps=[*(_step(ctx, path, hop) for hop in path.hops), *map(F.action_fact, path.actions)],
        maker_node=drawn[0] if drawn[0] in displayed else None,
        maker_note=wrap(f"decided by {path.unit_name} ({path.lever.value})", 24),
        cohort_node=node_of[path.cohort_id],
        cohort_note=wrap(f"{path.dimension.value}: {path.status.value}", 24),
        node_ids=node_ids,
        edge_ids=edge_ids,
    )


def _step(ctx: F.MapContext, path: RiskPath, hop: Hop) -> Fact:
    sources = ", ".join(hop.source_ids) or "no source"
    if hop.relation == "DECIDES":
        maker = f"{path.unit_name} ({path.buyer_name})"
        claim = f"{maker} made {path.decision_id}, applying to {ctx.name(hop.to_id)}"
    elif hop.relation == "CONDITION":
        claim = f"{path.cohort_name}: {path.dimension.value} {path.status.value}"
    else:
        claim = f"{ctx.name(hop.from_id)} {hop.relation} {ctx.name(hop.to_id)}"
        claim += f" (project {hop.project})" if hop.project else ""
    return Fact(label=hop.relation, value=claim, evidence=f"{hop.evidence_grade.value} · {sources}")

"""Graph exports as a user opens them: GraphML, GEXF and node-link JSON read back with
networkx hold exactly the graph's nodes and edges, small cohorts left out, on both stores."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest

from laborgraph.app.questions import Questions
from laborgraph.app.settings import Settings
from laborgraph.graph.analysis import regions
from laborgraph.graph.model import Action, Cohort, Condition, GraphData, Link, Organization, Source
from laborgraph.graph.store import GraphStore
from laborgraph.graph.view import AnyEntity
from laborgraph.ingest.load import ingest_path
from laborgraph.visualize.graph_elements import region_elements
from laborgraph.visualize.graph_formats import GraphFormat, write_graph
from tests.chains import Chain
from tests.conftest import EXAMPLE_BUNDLE

# The example's cohorts of fewer than 5 workers (4, 3 and 3).
SMALL = {"coh-kora-ke-arabic-reviewers", "coh-tessera-ph-qa-leads", "coh-vantage-co-quality-leads"}
Edges = Counter[tuple[str, str, str]]


def read_back(fmt: GraphFormat, data: bytes) -> nx.MultiDiGraph:
    """The file as networkx reads it, as a multigraph so parallel edges count."""
    if fmt is GraphFormat.graphml:
        graph = nx.read_graphml(io.BytesIO(data))
    elif fmt is GraphFormat.gexf:
        graph = nx.read_gexf(io.BytesIO(data))
    else:
        graph = nx.node_link_graph(json.loads(data))
    return nx.MultiDiGraph(graph)


def exported(ask: Questions, fmt: GraphFormat, focus: str | None = None, depth: int = 6) -> nx.MultiDiGraph:
    sink = io.BytesIO()
    with ask.graph_elements(focus, depth) as elements:
        write_graph(elements, fmt, sink)
    return read_back(fmt, sink.getvalue())


def edges_of(graph: nx.MultiDiGraph) -> Edges:
    return Counter((u, v, d["type"]) for u, v, d in graph.edges(data=True))


def expected(entities: list[AnyEntity], links: list[Link], hidden: set[str]) -> tuple[set[str], Edges]:
    """The nodes and edges docs/EXPORTS.md promises, worked out from the records themselves."""

    def is_hidden(entity: AnyEntity) -> bool:
        if isinstance(entity, Action):
            return entity.aim.cohort_id in hidden
        cohort_id = entity.cohort_id if isinstance(entity, Condition) else entity.id
        return isinstance(entity, Cohort | Condition) and cohort_id in hidden

    shown = [e for e in entities if not is_hidden(e)]
    edges: Edges = Counter()
    for entity in shown:
        for attribute, edge_type in (
            ("organization_id", "PART_OF"),
            ("unit_id", "MADE_BY"),
            ("applies_to", "APPLIES_TO"),
            ("cohort_id", "CONDITION_OF"),
            ("owner_unit_id", "OWNED_BY"),
        ):
            if attribute in type(entity).model_fields:
                edges[entity.id, getattr(entity, attribute), edge_type] += 1
        for source_id in entity.source_ids:
            edges[entity.id, source_id, "CITES"] += 1
    for link in links:
        if link.to_id not in hidden:
            edges[link.from_id, link.to_id, link.type.value] += 1
    return {e.id for e in shown}, edges


@pytest.fixture
def example(store: GraphStore, tmp_path: Path) -> Iterator[GraphStore]:
    ingest_path(store, EXAMPLE_BUNDLE)
    yield store


def questions(store: GraphStore, tmp_path: Path, show_small: bool = False) -> Questions:
    return Questions(store, Settings(data_dir=tmp_path, scoring_file=None), show_small=show_small)


@pytest.mark.parametrize("fmt", list(GraphFormat))
def test_a_whole_export_holds_every_node_and_edge_but_small_cohorts(
    example: GraphStore, tmp_path: Path, fmt: GraphFormat
) -> None:
    whole = regions.region_view(example)
    everything = GraphData.of([*whole.units.values(), *whole.decisions.values(), *whole.sources.values()])
    with example.read() as reader:
        benchmarks, actions = reader.benchmarks(), reader.actions()
    entities = [
        *everything.entities(),
        *benchmarks,
        *actions,
        *whole.organizations(),
        *whole.cohorts(),
        *(c for by_dim in whole.conditions.values() for c in by_dim.values()),
    ]
    assert {c.id for c in whole.cohorts() if c.headcount is not None and c.headcount < 5} == SMALL

    graph = exported(questions(example, tmp_path), fmt)
    nodes, edges = expected(entities, list(whole.links()), hidden=SMALL)
    assert set(graph.nodes) == nodes and edges_of(graph) == edges
    assert not any(hidden in str(end) for edge in graph.edges for end in edge[:2] for hidden in SMALL)

    admin = exported(questions(example, tmp_path, show_small=True), fmt)
    nodes, edges = expected(entities, list(whole.links()), hidden=set())
    assert set(admin.nodes) == nodes and edges_of(admin) == edges


def test_every_field_is_an_attribute_of_the_type_it_holds(store: GraphStore, tmp_path: Path) -> None:
    """The same attributes from both stores and in every format, hostile text included."""
    hostile = 'Tabs\tand "quotes" & <tags>\nover two lines \x07 bell'
    data = (
        Chain()
        .org("b", "buyer")
        .org("v", "vendor", "subcontractor")
        .cohort("c", headcount=40)
        .condition("c", "pay", status="violates", value=1.5, benchmark=2.0, value_unit="USD/h")
        .link("b", "v", "CONTRACTS", project="p1", since="2024-01-01", source_ids=("s",))
        .link("b", "v", "CONTRACTS", project="p2")
        .link("v", "c", "ENGAGES")
        .data()
    )
    vendor = Organization(
        id="v",
        name=hostile,
        kinds=("vendor", "subcontractor"),
        country="PH",
        extra={"audited": True, "rank": 3, "share": 0.25, "note": "=1+1"},
    )
    source = Source(id="s", title="Master services agreement")
    organizations = [data.organizations[0], vendor]
    store.write(data.model_copy(update={"organizations": organizations, "sources": [source]}))

    for fmt in GraphFormat:
        graph = exported(questions(store, tmp_path), fmt)
        node = graph.nodes["v"]
        assert node["entity"] == "organization" and node["kinds"] == "vendor|subcontractor"
        assert node["name"] == node["label"] == hostile.replace("\x07", "\ufffd" if fmt != "json" else "\x07")
        assert (node["extra_audited"], node["extra_rank"], node["extra_share"]) == (True, 3, 0.25), fmt
        assert node["extra_note"] == "=1+1" and "id" not in node
        assert graph.nodes["c"]["headcount"] == 40 and graph.nodes["c/pay"]["value"] == 1.5
        contracts = sorted(
            (d.get("project"), d.get("since"), d.get("source_ids"))
            for *_, d in graph.edges(data=True)
            if d["type"] == "CONTRACTS"
        )
        assert contracts == [("p1", "2024-01-01", "s"), ("p2", None, None)], fmt  # two links, one pair


def test_a_focus_exports_an_organization_and_what_lies_below_it_within_depth(
    example: GraphStore, tmp_path: Path
) -> None:
    ask = questions(example, tmp_path)
    whole = exported(ask, GraphFormat.json)
    near = exported(ask, GraphFormat.json, focus="org-halcyon", depth=1)
    far = exported(ask, GraphFormat.graphml, focus="org-halcyon", depth=2)

    def orgs(graph: nx.MultiDiGraph) -> set[str]:
        return {n for n, d in graph.nodes(data=True) if d["entity"] == "organization"}

    assert orgs(near) == {"org-halcyon", "org-tessera", "org-kora"}
    # Two links down along Halcyon's own project and unscoped links; not Nimbus's aurora-rlhf
    # work at Tessera (Meridian), nor Savanna's subcontractor three links down.
    assert orgs(far) == {"org-halcyon", "org-tessera", "org-kora", "org-savanna", "org-microlane"}
    assert {n for n, d in near.nodes(data=True) if d["entity"] == "cohort"} == {"coh-halcyon-de-escalation"}
    cohorts = {n for n, d in far.nodes(data=True) if d["entity"] == "cohort"}
    assert cohorts == {"coh-halcyon-de-escalation", "coh-kora-ke-moderators"}  # Kora's small one hidden
    halcyon_units = {n for n, d in far.nodes(data=True) if d.get("organization_id") == "org-halcyon"}
    assert halcyon_units and all(far.has_edge(u, "org-halcyon") for u in halcyon_units)
    assert {d for d in far.nodes if far.nodes[d]["entity"] == "decision"} == {
        n for n, d in whole.nodes(data=True) if d["entity"] == "decision" and d["unit_id"] in halcyon_units
    }
    for region in (near, far):  # a region is part of the whole graph, and no edge leaves it
        assert set(region.nodes) <= set(whole.nodes)
        assert not edges_of(region) - edges_of(whole)
        assert all(u in region.nodes and v in region.nodes for u, v in region.edges())


def test_an_unknown_or_hidden_focus_is_not_found(example: GraphStore, tmp_path: Path) -> None:
    from laborgraph.graph.errors import NotFound

    ask = questions(example, tmp_path)
    for focus in ("org-nowhere", "coh-tessera-ph-qa-leads", "unit-halcyon-commercial"):
        with pytest.raises(NotFound), ask.graph_elements(focus, 2) as elements:
            list(elements)


def test_region_elements_keep_no_edge_to_a_node_outside() -> None:
    data = Chain().org("b", "buyer").org("v").unit("u", "b").decision("d", "u", "pricing", "v").data()
    elements = list(region_elements([*data.organizations[:1], *data.units, *data.decisions]))
    ends = {(e.source, e.target) for e in elements if hasattr(e, "target")}
    assert ends == {("u", "b"), ("d", "u")}  # d APPLIES_TO v is left out with v


@pytest.mark.parametrize("fmt", list(GraphFormat))
def test_two_processes_write_the_same_file_as_one(tmp_path: Path, fmt: GraphFormat) -> None:
    """The whole graph written on two cores (nodes here, edges from a forked process with
    its own store) is the file one process writes, byte for byte, hostile text included."""
    from contextlib import contextmanager

    from laborgraph.graph.embedded import EmbeddedStore
    from laborgraph.visualize.graph_formats import write_graph_in_two

    data_dir = tmp_path / "data"
    store = EmbeddedStore(data_dir)
    ingest_path(store, EXAMPLE_BUNDLE)
    hostile = Organization(
        id="org-h", name='"Tabs"\tand <tags> & co', kinds=("vendor",), country="PH", extra={"ok": True}
    )
    store.write(GraphData(organizations=[hostile]))
    ask = questions(store, tmp_path)
    one = io.BytesIO()
    with ask.graph_elements() as elements:
        write_graph(elements, fmt, one)

    @contextmanager
    def edges() -> Iterator[tuple[str, Iterator[object]]]:
        own = EmbeddedStore(data_dir)  # in the forked process: its own connection
        with questions(own, tmp_path).graph_part("edges") as found:
            yield found

    target = tmp_path / f"two.{fmt}"
    with open(target, "wb") as sink:
        counts = write_graph_in_two(lambda: ask.graph_part("nodes"), edges, fmt, sink, tmp_path)  # type: ignore[arg-type]
    assert target.read_bytes() == one.getvalue()
    graph = read_back(fmt, target.read_bytes())
    assert counts == (graph.number_of_nodes(), graph.number_of_edges())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".laborgraph-export-")]  # spools gone
    store.close()


def test_two_processes_that_read_two_versions_write_nothing(example: GraphStore, tmp_path: Path) -> None:
    """A write between the two processes' snapshots: GraphChanged, and the file stays empty."""
    from contextlib import contextmanager

    from laborgraph.visualize.graph_formats import GraphChanged, write_graph_in_two

    ask = questions(example, tmp_path)

    @contextmanager
    def edges() -> Iterator[tuple[str, Iterator[object]]]:
        yield "another version", iter([])

    sink = io.BytesIO()
    with pytest.raises(GraphChanged):
        write_graph_in_two(lambda: ask.graph_part("nodes"), edges, GraphFormat.graphml, sink, tmp_path)  # type: ignore[arg-type]
    assert sink.getvalue() == b""

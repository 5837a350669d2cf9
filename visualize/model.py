"""What a map shows, as data: nodes with positions, edges, tier bands, legend, notes, paths.

``build_map`` makes a MapModel; ``render_map_html`` turns it into one self-contained page.
Everything here is plain text and numbers: the page shows every string as text.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from laborgraph.graph.vocabulary import Dimension, Lever, LinkType, OrgKind, Status

NodeKind = Literal["organization", "organization_group", "cohort", "cohort_group"]
Color = str  # "#rrggbb", from laborgraph.visualize.style only


class Fact(BaseModel):
    """One line of the side panel: a label, a value and, where known, its evidence."""

    label: str
    value: str
    evidence: str | None = None  # e.g. "reported · src-a, src-b"


class FactSection(BaseModel):
    heading: str
    facts: list[Fact] = []


class MapNode(BaseModel):
    id: str  # a map id: the entity id, or a synthetic id for suppressed cohorts and groups
    entity_id: str | None  # None where the entity must not be named (suppressed, group)
    kind: NodeKind
    name: str  # what the panel calls it: the entity's name, or what stands in for it
    label: str  # the text drawn on the canvas (wrapped)
    title: str  # hover tooltip, plain text
    tier: int | None
    x: float
    y: float
    color: Color
    border: Color
    size: float
    org_kind: OrgKind | None = None
    severity: int | None = None  # worst severity of the risk paths reaching it
    headcount: int | None = None
    cohort_count: int = 0  # cohorts engaged (organization) or held (groups)
    organization_count: int = 0  # organizations held (organization_group)
    drill: dict[str, str] | None = None  # the map parameters that open a group
    suppressed: bool = False
    focus: bool = False
    facts: list[FactSection] = []


class MapEdge(BaseModel):
    id: str
    source: str
    target: str
    type: LinkType
    label: str
    title: str
    projects: list[str] = []
    color: Color
    dashes: bool = False
    width: float = 1.0
    count: int | None = None  # links merged into one edge between a group and another node


class Band(BaseModel):
    """A horizontal band holding one tier (``tier`` None: not below any viewpoint)."""

    tier: int | None
    label: str
    top: float
    bottom: float


class LegendEntry(BaseModel):
    group: Literal["organization", "risk", "size", "link"]
    label: str
    color: Color
    shape: Literal["box", "dot", "hexagon", "diamond", "line", "dashed"]
    detail: str = ""  # a longer explanation, shown on hover


class MapPath(BaseModel):
    """A risk path as the map highlights it: the map nodes and edges it runs through."""

    rank: int
    severity: int
    likelihood: float
    confidence: float
    buyer_name: str
    unit_name: str
    decision_id: str
    lever: Lever
    dimension: Dimension
    status: Status
    tier: int | None
    cohort_label: str
    chain_label: str  # organization names joined by " > "
    summary: str
    explanation: str
    csv_query: str  # query string for the paths CSV route, e.g. "from=dec-a&to=coh-b%2Fpay"
    steps: list[Fact]  # each claim the path rests on, with its evidence
    maker_node: str | None  # the organization whose unit decided, if on the map
    maker_note: str  # added to its label while highlighted: who decided, with which lever
    cohort_node: str
    cohort_note: str  # added to the cohort's label while highlighted: the condition
    node_ids: list[str]
    edge_ids: list[str]


class Crumb(BaseModel):
    """One step of the breadcrumb: what the analyst is looking at, and the map parameters
    leading back to it (None: the front page)."""

    label: str
    params: dict[str, str] | None


class MapStats(BaseModel):
    organizations: int
    cohorts: int
    workers: int
    nodes: int
    edges: int


class MapModel(BaseModel):
    title: str
    viewpoint: str | None
    viewpoint_name: str | None
    focus: str | None
    depth: int | None
    nodes: list[MapNode]
    edges: list[MapEdge]
    bands: list[Band]
    legend: list[LegendEntry]
    notes: list[str]
    paths: list[MapPath]
    highlight: int | None = None  # rank of the path highlighted when the page opens
    stats: MapStats
    sources: dict[str, str] = {}  # id → title, kind, date and address of each source cited
    trail: list[Crumb] = []  # where the map sits: the front page, the chain, a group, a focus
    served: bool = False  # served by `laborgraph serve`: groups open as pages of their own
    # Ids never to show (small cohorts): used to mask other outputs, never put in the page.
    suppressed_ids: set[str] = Field(default_factory=set, exclude=True)

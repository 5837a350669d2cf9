"""The store contract: what every backend (embedded, Neo4j) must do, and nothing more.

Writes are whole-bundle upserts that either fully happen or not at all. Reads are entity
look-ups and ``view()``, which returns a GraphView holding at least what the analysis of
one question needs. The questions themselves are pure functions in ``graph.analysis``,
so both backends answer them with the same code and are held to one conformance suite.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel

from graph.model import GraphData
from graph.view import AnyEntity, GraphView
from graph.vocabulary import EntityKind

if TYPE_CHECKING:  # the analysis imports this module
    from graph.analysis.paths import PathQuery
    from graph.scoring import ScoringConfig

# Hard bound on how far any traversal goes, in links (DOMAIN.md section 2).
MAX_DEPTH = 10
DEFAULT_DEPTH = 6


class EntityPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[AnyEntity]


class GraphStore(Protocol):
    backend: str  # "embedded" or "neo4j"

    def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers now."""

    def describe(self) -> str:
        """Where the store lives, for humans (a path or a URI without credentials)."""

    def close(self) -> None: ...

    def kinds_of(self, ids: Collection[str]) -> dict[str, EntityKind]:
        """The kind of each id already in the graph; unknown ids are left out."""

    def write(self, data: GraphData) -> None:
        """Upsert entities and links in one all-or-nothing transaction."""

    def get(self, entity_id: str) -> AnyEntity:
        """One entity by id (a condition by ``cohort_id/dimension``); NotFound if absent."""

    def page(
        self,
        kind: EntityKind,
        *,
        offset: int = 0,
        limit: int = 50,
        text: str | None = None,
        private_below: int = 0,
    ) -> EntityPage:
        """Entities of one kind ordered by id; ``text`` filters names case-insensitively.

        Cohorts with a headcount below ``private_below`` never match ``text``: a search must
        not confirm the name of a cohort that outputs suppress.
        """

    def project_owners(self) -> dict[str, str]:
        """Each project and the buyer whose CONTRACTS link carries it."""

    def counts(self) -> dict[EntityKind | str, int]:
        """How many entities of each kind, and ``links``."""

    def view(self, around: str | None = None) -> GraphView:
        """The whole graph, or a view holding everything a question about ``around`` needs.

        For an organization, unit or decision: its decisions, their units and organizations,
        and everything downstream of those organizations and of what the decisions apply
        to, within MAX_DEPTH links, along the links they can follow (for buyers: unscoped
        links and their own projects; see graph.analysis.traverse). For a cohort or a
        condition: everything upstream of the cohort within MAX_DEPTH links, the decisions
        applying there, their units and their organizations. NotFound if ``around`` is unknown.
        """

    def path_view(self, query: PathQuery, config: ScoringConfig) -> GraphView:
        """A view from which tracing the query gives the page the whole graph gives.

        ``view(query.around)`` is one. A store may keep less: only the cohorts whose
        conditions can rank within ``offset + limit``, and no sources, which paths cite by id
        (see the Neo4j store).
        """

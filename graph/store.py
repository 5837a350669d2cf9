"""The store contract: what every backend (embedded, Neo4j) must do, and nothing more.

Writes are whole-bundle upserts that either fully happen or not at all. Reads are entity
look-ups, pages and counts, and ``read()``: a consistent snapshot whose methods fetch one
kind of region each (links out of or into some nodes, the units of some organizations, the
best-ranked cohorts an index seek gives...). A store knows nothing of questions or of the
scoring configuration: ``graph.analysis.regions`` plans which region a question needs from
these reads, builds a GraphView of it, and the pure functions of ``graph.analysis`` answer
on that view. Both backends are held to one conformance suite.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import date
from typing import NamedTuple, Protocol

from pydantic import BaseModel

from laborgraph.graph.model import Action, Benchmark, Condition, Decision, GraphData, Link, LinkKey, Unit
from laborgraph.graph.revisions import FactVersion, Observation, Retraction, Revision, WriteNote, Written
from laborgraph.graph.unfinished import UnfinishedWrite
from laborgraph.graph.view import AnyEntity
from laborgraph.graph.vocabulary import Dimension, EntityKind, EvidenceGrade, LinkType, Status

# Hard bound on how far any traversal goes, in links (DOMAIN.md section 2).
MAX_DEPTH = 10
DEFAULT_DEPTH = 6


class EntityPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[AnyEntity]


class RiskSeek(NamedTuple):
    """One index seek: the cohorts ``engager`` engages whose condition on a dimension has
    risk code ``code`` (graph.scoring.risk_code), along links with no project or one of
    ``projects`` (None: any link). ``tag`` comes back with each cohort found."""

    engager: str
    projects: tuple[str, ...] | None
    code: str
    tag: int


class RiskHit(NamedTuple):
    tag: int
    cohort_id: str
    headcount: int


class CohortFacts(NamedTuple):
    id: str
    name: str
    headcount: int | None


class ConditionFacts(NamedTuple):
    cohort_id: str
    dimension: Dimension
    status: Status
    observed_at: date | None
    source_ids: tuple[str, ...]
    grade: EvidenceGrade  # the condition's evidence grade, ``reported`` when it has none


class PayAtPlace(NamedTuple):
    """A stored pay condition, with the country and region of its cohort."""

    condition: Condition
    country: str
    region: str | None


class Engagement(NamedTuple):
    """One ENGAGES link, from the cohort's side; ``project`` is "" for none."""

    cohort_id: str
    organization_id: str
    project: str


class EngagedCohort(NamedTuple):
    """One ENGAGES link from the organization's side, with what a map needs of its cohort;
    ``project`` is "" for none, ``risks`` the (dimension, graph.scoring.risk_code) of each
    of the cohort's not-met conditions, by dimension."""

    organization_id: str
    cohort_id: str
    project: str
    name: str
    headcount: int | None
    risks: tuple[tuple[Dimension, str], ...]


class EngagedTotal(NamedTuple):
    """The cohorts that one organization engages along links of one project ("" for none)
    and that nothing else engages (one ENGAGES link into each), counted: how many, how many
    have a headcount below the threshold asked (``small``), the headcount of the others
    (``workers``), and every risk code among them (as EngagedCohort.risks gives a cohort's)."""

    organization_id: str
    project: str
    cohorts: int
    small: int
    workers: int
    risks: tuple[tuple[Dimension, str], ...]


# A record's JSON form, as ``model_dump(mode="json", exclude_none=True)`` gives it: what a
# whole-graph export reads, since at a million records a model for each costs it half its time.
JsonRecord = dict[str, object]


class StoredEntity(NamedTuple):
    """An entity in its JSON form; ``ENTITY_MODELS[kind].model_validate(fields)`` is the entity."""

    kind: EntityKind
    id: str
    fields: JsonRecord


class StoredLink(NamedTuple):
    """A link in its JSON form; ``Link.model_validate(fields)`` is the link."""

    from_id: str
    type: LinkType
    to_id: str
    fields: JsonRecord


def best_hits(hits: Iterable[RiskHit], limit: int) -> list[RiskHit]:
    """The best ``limit`` distinct (tag, cohort) hits, in GraphReader.risk_seek's order."""
    return sorted(set(hits), key=lambda hit: (hit.tag, -hit.headcount, hit.cohort_id))[:limit]


class GraphReader(Protocol):
    """One consistent snapshot of the graph, for the reads of one question."""

    def version(self) -> str:
        """The snapshot's version of the graph: it changes with every write."""

    def entities(self, ids: Collection[str]) -> list[AnyEntity]:
        """The entities with these ids (conditions by ``cohort_id/dimension``); unknown ids
        are left out."""

    def links_by_key(self, keys: Collection[LinkKey]) -> list[Link]:
        """The links with these keys; unknown keys are left out."""

    def links_from(
        self, ids: Collection[str], types: Collection[LinkType], projects: Collection[str] | None
    ) -> list[Link]:
        """Links of these types out of these nodes, with no project or one of ``projects``
        (None: every link)."""

    def links_into(
        self, ids: Collection[str], types: Collection[LinkType], projects: Collection[str] | None
    ) -> list[Link]:
        """Links of these types into these nodes, chosen by project as ``links_from``."""

    def units_of(self, organization_ids: Collection[str]) -> list[Unit]: ...

    def decisions_by(self, unit_ids: Collection[str]) -> list[Decision]: ...

    def decisions_applying_to(self, organization_ids: Collection[str]) -> list[Decision]: ...

    def conditions_of(self, cohort_ids: Collection[str]) -> list[Condition]: ...

    def actions(self, refs: Collection[str] | None = None) -> list[Action]:
        """The actions whose target hangs on one of ``refs`` (``Target.ref``: the cohort of a
        condition or risk path, else the decision), or every action (None): by id."""

    def project_owners(self) -> dict[str, str]:
        """Each project and the buyer whose CONTRACTS link carries it (the smallest id if
        data names two)."""

    def risk_seek(
        self, dimension: Dimension, seeks: Sequence[RiskSeek], limit: int, country: str | None
    ) -> list[RiskHit]:
        """The best ``limit`` (tag, cohort) pairs the seeks on ``dimension`` find, each once:
        by tag, then headcount (descending), then cohort id (``best_hits``). ``country``
        keeps only cohorts of that country."""

    def engaged(
        self, organization_ids: Collection[str], projects: Collection[str] | None
    ) -> list[EngagedCohort]:
        """The ENGAGES links out of these organizations, chosen by project as ``links_from``,
        with their cohorts' names, headcounts and risk codes: by organization id, cohort
        id, project."""

    def engaged_totals(self, private_below: int) -> list[EngagedTotal]:
        """Every organization's ENGAGES links into cohorts that no other link engages,
        counted per organization and project (``small``: headcount below ``private_below``):
        by organization id, then project."""

    def shared_engaged(self) -> list[EngagedCohort]:
        """The ENGAGES links into every cohort that more than one link engages, as
        ``engaged`` gives them (what ``engaged_totals`` leaves out)."""

    def everything(self) -> GraphData:
        """The whole graph."""

    def skeleton(self) -> GraphData:
        """Every organization, unit and decision, and every supply link."""

    def cohort_facts(self) -> Iterator[CohortFacts]:
        """Every cohort, by id."""

    def condition_facts(self, cohort_ids: Collection[str] | None = None) -> Iterator[ConditionFacts]:
        """Every condition (of these cohorts; None: of every one), by cohort id, then dimension."""

    def engagements(self) -> Iterator[Engagement]:
        """Every ENGAGES link, by cohort id, then organization id, then project."""

    def source_dates(self) -> dict[str, date | None]:
        """Each source's publication date."""

    # -- history (graph.revisions) ---------------------------------------------------

    def revisions(self) -> list[Revision]:
        """Every revision, oldest first."""

    def observations(self, condition_ids: Collection[str]) -> list[Observation]:
        """Every observation of these conditions, by condition id, then date (undated first)."""

    def versions(self, keys: Collection[str]) -> dict[str, list[FactVersion]]:
        """Every value each fact (an entity id, or a link's ``link_key``) has held, oldest
        first; facts never stored are left out."""

    def changed_after(self, revision: int) -> set[str]:
        """The facts (entity ids, link keys) set or ended by any revision after ``revision``."""

    def facts_at(self, revision: int) -> GraphData:
        """The graph as it stood once ``revision`` was written."""

    def entity_records(self, private_below: int = 0) -> Iterator[StoredEntity]:
        """Every entity in its JSON form, in no set order, but cohorts with a headcount below
        ``private_below`` and their conditions (as ``GraphStore.page`` leaves them out)."""

    def link_records(self, private_below: int = 0) -> Iterator[StoredLink]:
        """Every link in its JSON form, in no set order, but the ENGAGES links into the cohorts
        ``entity_records`` leaves out."""

    def benchmarks(self) -> list[Benchmark]:
        """Every living-wage benchmark."""

    def benchmark_takers(self, countries: Collection[str] | None) -> list[PayAtPlace]:
        """The pay conditions with a value and no benchmark of their own (none, or one taken
        from a benchmark: ``benchmark_id`` set) of the cohorts in these countries (None:
        in any), by cohort id."""


class GraphStore(Protocol):
    backend: str  # "embedded" or "neo4j"

    def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers now."""

    def describe(self) -> str:
        """Where the store lives, for humans (a path or a URI without credentials)."""

    def close(self) -> None: ...

    def kinds_of(self, ids: Collection[str]) -> dict[str, EntityKind]:
        """The kind of each id already in the graph; unknown ids are left out."""

    def write(
        self,
        data: GraphData,
        *,
        expect_version: str | None = None,
        retractions: Sequence[Retraction] = (),
        note: WriteNote | None = None,
    ) -> Written:
        """Upsert entities and links, and retract facts, in one all-or-nothing transaction;
        writers take turns. A write that changes something is a new revision, recorded with
        ``note``; what it replaces or retracts is kept as earlier values (graph.revisions).

        InvalidBundle, and nothing written, when a link names an id that is neither in
        ``data`` nor in the graph, or when ``data`` holds a fact the retractions take away
        (named, or with what it belongs to) or one that refers to a retracted entity;
        NotFound when a retraction names an unknown fact. With
        ``expect_version`` (GraphReader.version, read before ``data`` was validated),
        GraphChanged and nothing written when another write has committed since: validation
        and write then count as one step against what is committed."""

    def get(self, entity_id: str) -> AnyEntity:
        """One entity by id (a condition by ``cohort_id/dimension``); NotFound if absent."""

    def page(
        self,
        kind: EntityKind | None,
        *,
        offset: int = 0,
        limit: int = 50,
        text: str | None = None,
        private_below: int = 0,
    ) -> EntityPage:
        """Entities of one kind (None: every kind) ordered by id; ``text`` filters names
        case-insensitively.

        Cohorts with a headcount below ``private_below``, and their conditions, are left
        out: a listing must not single out a cohort that outputs suppress. InvalidQuery for
        a negative offset or limit.
        """

    def project_owners(self) -> dict[str, str]:
        """Each project and the buyer whose CONTRACTS link carries it."""

    def counts(self) -> dict[EntityKind | str, int]:
        """How many entities of each kind, and ``links``."""

    def read(self) -> AbstractContextManager[GraphReader]:
        """A snapshot to read one question's regions from (see GraphReader)."""

    def recall(self, key: str) -> str | None:
        """What ``remember`` kept under ``key`` since the last write, if anything."""

    def remember(self, key: str, value: str) -> None:
        """Keep a value derived from the graph (an answer, say) until the next write.

        The store knows nothing of what it holds; keys should name the graph version the
        value was derived from (GraphReader.version), so a value derived from a snapshot
        older than a write that raced it is never recalled as current. Nothing is kept while a write is
        unfinished (``unfinished_write``)."""

    def unfinished_write(self) -> UnfinishedWrite | None:
        """The mark of a write started and not finished (in progress, or interrupted), if
        any. A store whose every write is one transaction (embedded) never has one."""

    def interrupted_write(self) -> UnfinishedWrite | None:
        """The mark of a write that was cut short, if any: waits first for a write under
        way to end (it then leaves no mark)."""

    def settle(self) -> UnfinishedWrite | None:
        """Undo an unfinished write, leaving the graph as it was before it; the mark it
        undid, or None when there was none. Run it only when no ingest is running."""

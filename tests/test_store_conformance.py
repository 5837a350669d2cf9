"""The store contract, held against the embedded store and a real Neo4j server alike.

The chain used throughout (two buyers share a vendor on different projects; the vendor and
its subcontractor subcontract to each other; an unrelated buyer has a chain of its own):

    B1 --CONTRACTS[p1]--> V1 <--CONTRACTS[p2]-- B2          X1 --CONTRACTS--> V9
                          |  ^                                                  |
                SUBCONTRACTS  SUBCONTRACTS                                   ENGAGES
                          v  |                                                  v
                           S1 --SOURCES_VIA--> P1                               C9
    ENGAGES: V1 -> C3 [p2], S1 -> C1 [p1], P1 -> C2
    Units: U1, U2 of B1; U3 of B2; U9 of X1.
    Decisions: D1 (U1, at V1, p1), D2 (U2, at B1), D3 (U3, at V1), D9 (U9, at V9).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable
from datetime import date

import pytest
from pydantic import BaseModel

from laborgraph.graph import neo4j_risk, neo4j_store
from laborgraph.graph.analysis import regions
from laborgraph.graph.analysis.paths import PathQuery, trace_risk_paths
from laborgraph.graph.analysis.whole import WholeGraph
from laborgraph.graph.errors import (
    ConfigError,
    GraphError,
    InvalidBundle,
    InvalidQuery,
    NotFound,
    StoreUnavailable,
)
from laborgraph.graph.model import (
    ENTITY_MODELS,
    Action,
    Benchmark,
    Cohort,
    Condition,
    Decision,
    Extra,
    GraphData,
    Link,
    LinkKey,
    Organization,
    Source,
    Unit,
)
from laborgraph.graph.scoring import load_scoring
from laborgraph.graph.store import MAX_DEPTH, EngagedCohort, EngagedTotal, GraphStore
from laborgraph.graph.view import GraphView
from laborgraph.graph.vocabulary import (
    SUPPLY_LINKS,
    ActionKind,
    ActionStatus,
    Dimension,
    EmploymentType,
    EntityKind,
    EvidenceGrade,
    Lever,
    LinkType,
    OrgKind,
    SourceKind,
    Status,
    UnitFunction,
    WorkSetting,
)
from tests.chains import Chain

CONTRACTS, SUBCONTRACTS, SOURCES_VIA, ENGAGES = (
    LinkType.CONTRACTS,
    LinkType.SUBCONTRACTS,
    LinkType.SOURCES_VIA,
    LinkType.ENGAGES,
)


def org(org_id: str, *kinds: OrgKind, country: str = "KE") -> Organization:
    return Organization(id=org_id, name=f"{org_id} Ltd", kinds=kinds, country=country)


def link(from_id: str, link_type: LinkType, to_id: str, project: str | None = None) -> Link:
    return Link(from_id=from_id, type=link_type, to_id=to_id, project=project)


def cohort(cohort_id: str) -> Cohort:
    return Cohort(id=cohort_id, name=f"{cohort_id} annotators", country="KE", headcount=40)


def condition(cohort_id: str, dimension: Dimension, status: Status) -> Condition:
    return Condition(cohort_id=cohort_id, dimension=dimension, status=status)


def decision(decision_id: str, unit_id: str, applies_to: str, project: str | None = None) -> Decision:
    return Decision(
        id=decision_id, unit_id=unit_id, lever=Lever.pricing, applies_to=applies_to, project=project
    )


def chain() -> GraphData:
    buyer, vendor, sub, platform = (
        OrgKind.buyer,
        OrgKind.vendor,
        OrgKind.subcontractor,
        OrgKind.platform,
    )
    return GraphData(
        organizations=[
            org("B1", buyer, country="US"),
            org("B2", buyer, country="DE"),
            org("V1", vendor),
            org("S1", sub, vendor),
            org("P1", platform, country="US"),
            org("X1", buyer, country="FR"),
            org("V9", vendor, country="PH"),
        ],
        units=[
            Unit(id="U1", organization_id="B1", name="Procurement", function=UnitFunction.procurement),
            Unit(id="U2", organization_id="B1", name="Research", function=UnitFunction.research),
            Unit(id="U3", organization_id="B2", name="Data ops", function=UnitFunction.operations),
            Unit(id="U9", organization_id="X1", name="Elsewhere"),
        ],
        cohorts=[cohort("C1"), cohort("C2"), cohort("C3"), cohort("C9")],
        conditions=[
            Condition(
                cohort_id="C1",
                dimension=Dimension.pay,
                status=Status.violates,
                value=1.5,
                benchmark=2.0,
                value_unit="USD/h",
                source_ids=("SRC1",),
            ),
            condition("C1", Dimension.voice, Status.unknown),
            condition("C2", Dimension.content_safety, Status.at_risk),
            condition("C3", Dimension.workload, Status.violates),
            condition("C9", Dimension.pay, Status.violates),
        ],
        decisions=[
            decision("D1", "U1", "V1", project="p1"),
            decision("D2", "U2", "B1"),
            decision("D3", "U3", "V1"),
            decision("D9", "U9", "V9"),
        ],
        sources=[
            Source(id="SRC1", title="Pay survey", kind=SourceKind.survey),
            Source(id="SRC2", title="Master services agreement", kind=SourceKind.contract),
            Source(id="SRC9", title="Unrelated news", kind=SourceKind.news),
        ],
        links=[
            Link(from_id="B1", type=CONTRACTS, to_id="V1", project="p1", source_ids=("SRC2",)),
            link("B2", CONTRACTS, "V1", project="p2"),
            link("V1", SUBCONTRACTS, "S1"),
            link("S1", SUBCONTRACTS, "V1"),
            link("S1", SOURCES_VIA, "P1"),
            link("V1", ENGAGES, "C3", project="p2"),
            link("S1", ENGAGES, "C1", project="p1"),
            link("P1", ENGAGES, "C2"),
            link("X1", CONTRACTS, "V9"),
            link("V9", ENGAGES, "C9"),
        ],
    )


NAIROBI = Benchmark(
    country="KE",
    region="Nairobi",
    value=2.0,
    value_unit="USD/h",
    valid_from=date(2024, 1, 1),
    evidence_grade=EvidenceGrade.documented,
    source_ids=("src-1",),
    extra={"basket": "family of four"},
)


def every_field() -> GraphData:
    """One record of each kind with every field filled, extras of every scalar type included."""
    extra: Extra = {
        "name": "not the core name",
        "tier_note": "audited",
        "rank": 3,
        "share": 0.25,
        "ok": True,
    }
    return GraphData(
        organizations=[
            Organization(
                id="acme",
                name="Acme Data",
                kinds=(OrgKind.vendor, OrgKind.subcontractor),
                country="ke",
                evidence_grade=EvidenceGrade.verified,
                source_ids=("src-1", "src-2"),
                extra=extra,
            ),
            org("buyer", OrgKind.buyer, country="US"),
        ],
        units=[
            Unit(
                id="buyer.rai",
                organization_id="buyer",
                name="Responsible AI",
                function=UnitFunction.responsible_ai,
                evidence_grade=EvidenceGrade.documented,
                source_ids=("src-1",),
                extra={"budget_owner": "yes"},
            )
        ],
        cohorts=[
            Cohort(
                id="acme-nbo",
                name="Nairobi moderators",
                country="KE",
                employment_type=EmploymentType.contractor,
                work_setting=WorkSetting.office,
                headcount=120,
                task_types=("moderation", "rlhf"),
                region="Nairobi",
                evidence_grade=EvidenceGrade.reported,
                extra={"shift": "night"},
            )
        ],
        conditions=[
            Condition(
                cohort_id="acme-nbo",
                dimension=Dimension.pay,
                status=Status.at_risk,
                value=2.1,
                value_unit="USD/h",
                benchmark=2.0,
                observed_at=date(2024, 3, 1),
                note="from payslips",
                benchmark_id=NAIROBI.id,
                evidence_grade=EvidenceGrade.verified,
                source_ids=("src-2",),
                extra={"sample": 31},
            ),
            Condition(cohort_id="acme-nbo", dimension=Dimension.voice, status=Status.unknown),
        ],
        decisions=[
            Decision(
                id="dec-1",
                unit_id="buyer.rai",
                lever=Lever.content_scope,
                applies_to="acme",
                project="moderation-v2",
                dimensions=(Dimension.content_safety, Dimension.voice),
                made_at=date(2023, 11, 20),
                description="Graphic content is in scope",
                evidence_grade=EvidenceGrade.inferred,
                extra={"ticket": "PRJ-12"},
            ),
            Decision(id="dec-2", unit_id="buyer.rai", lever=Lever.deadline, applies_to="acme"),
        ],
        sources=[
            Source(
                id="src-1",
                title="Audit report 2024",
                kind=SourceKind.audit,
                url="https://example.org/audit.pdf",
                published_at=date(2024, 5, 2),
                extra={"pages": 40},
            ),
            Source(id="src-2", title="Payslip sample"),
        ],
        benchmarks=[NAIROBI],
        actions=[
            Action(
                id="act-1",
                target="dec-1:acme-nbo/voice",
                owner_unit_id="buyer.rai",
                kind=ActionKind.engage_workers,
                description="Set up a worker committee",
                opened_at=date(2024, 4, 1),
                due_at=date(2024, 9, 30),
                status=ActionStatus.done,
                closed_at=date(2024, 8, 15),
                evidence_grade=EvidenceGrade.self_declared,
                source_ids=("src-1",),
                extra={"budget": 5000},
            )
        ],
        links=[
            Link(
                from_id="buyer",
                type=CONTRACTS,
                to_id="acme",
                project="moderation-v2",
                since=date(2023, 1, 1),
                until=date(2025, 12, 31),
                evidence_grade=EvidenceGrade.documented,
                source_ids=("src-1",),
                extra={"value_usd": 1_200_000, "renewal": False},
            ),
            link("acme", ENGAGES, "acme-nbo"),
        ],
    )


def links_by_key(view: GraphView) -> dict[LinkKey, Link]:
    return {found.key: found for found in view.links()}


def dump(view: GraphView) -> dict[str, list[str] | dict[str, str]]:
    """Everything a view holds, as sorted JSON, so two views compare field by field."""

    def dumped(records: Iterable[BaseModel]) -> list[str]:
        return sorted(json.dumps(r.model_dump(mode="json"), sort_keys=True) for r in records)

    conditions = [c for by_dim in view.conditions.values() for c in by_dim.values()]
    return {
        "nodes": dumped(e for _, e in view.graph.nodes(data="entity")),
        "links": dumped(view.links()),
        "units": dumped(view.units.values()),
        "decisions": dumped(view.decisions.values()),
        "conditions": dumped(conditions),
        "sources": dumped(view.sources.values()),
        "benchmarks": dumped(view.benchmarks.values()),
        "project_owner": dict(view.project_owner),
    }


def region(view: GraphView) -> dict[str, set[str]]:
    return {
        "organizations": {o.id for o in view.organizations()},
        "cohorts": {c.id for c in view.cohorts()},
        "units": set(view.units),
        "decisions": set(view.decisions),
        "conditions": {c.id for by_dim in view.conditions.values() for c in by_dim.values()},
        "sources": set(view.sources),
        "links": {f"{f}-{t}->{to}[{p}]" for f, t, to, p in links_by_key(view)},
    }


def assert_contains(view: GraphView, **expected: set[str]) -> None:
    found = region(view)
    for section, ids in expected.items():
        assert ids <= found[section], f"{section} lacks {sorted(ids - found[section])}"


def assert_unchanged(store: GraphStore, before: GraphData) -> None:
    for entity in before.entities():
        assert store.get(entity.id) == entity
    assert links_by_key(regions.region_view(store)) == {found.key: found for found in before.links}


# -- writing and reading back -------------------------------------------------------------


def test_every_kind_reads_back_with_every_field(store: GraphStore) -> None:
    data = every_field()
    store.write(data)

    for entity in data.entities():
        assert store.get(entity.id) == entity, entity.id
    assert store.get("acme").extra["name"] == "not the core name"
    assert store.get("acme").name == "Acme Data"  # type: ignore[union-attr]
    assert store.get("acme-nbo/pay").observed_at == date(2024, 3, 1)  # type: ignore[union-attr]
    assert links_by_key(regions.region_view(store)) == {found.key: found for found in data.links}
    assert store.counts() == {
        EntityKind.organization: 2,
        EntityKind.unit: 1,
        EntityKind.cohort: 1,
        EntityKind.condition: 2,
        EntityKind.decision: 2,
        EntityKind.source: 2,
        EntityKind.benchmark: 1,
        EntityKind.action: 1,
        "links": 2,
    }


def test_rewriting_the_same_data_changes_nothing(store: GraphStore) -> None:
    data = every_field()
    store.write(data)
    counts, whole = store.counts(), dump(regions.region_view(store))

    store.write(data)

    assert store.counts() == counts
    assert dump(regions.region_view(store)) == whole
    for entity in data.entities():
        assert store.get(entity.id) == entity


def test_a_newer_record_updates_the_fields_it_carries_and_keeps_the_rest(store: GraphStore) -> None:
    store.write(every_field())

    store.write(
        GraphData(
            cohorts=[
                Cohort(
                    id="acme-nbo",
                    name="Nairobi content moderators",
                    country="KE",
                    work_setting=WorkSetting.mixed,
                    extra={"site": "Westlands"},
                )
            ],
            decisions=[
                Decision(
                    id="dec-1",
                    unit_id="buyer.rai",
                    lever=Lever.content_scope,
                    applies_to="acme",
                    project=None,  # carried, so it is cleared
                )
            ],
            links=[
                Link(
                    from_id="buyer",
                    type=CONTRACTS,
                    to_id="acme",
                    project="moderation-v2",
                    until=date(2026, 6, 30),
                    extra={"renewal": True},
                )
            ],
        )
    )

    updated = store.get("acme-nbo")
    assert isinstance(updated, Cohort)
    assert updated.name == "Nairobi content moderators"
    assert updated.work_setting is WorkSetting.mixed
    assert updated.headcount == 120
    assert updated.employment_type is EmploymentType.contractor
    assert updated.task_types == ("moderation", "rlhf")
    assert updated.extra == {"shift": "night", "site": "Westlands"}

    cleared = store.get("dec-1")
    assert isinstance(cleared, Decision)
    assert cleared.project is None
    assert cleared.made_at == date(2023, 11, 20)
    assert cleared.dimensions == (Dimension.content_safety, Dimension.voice)

    (contract,) = [found for found in regions.region_view(store).links() if found.type is CONTRACTS]
    assert contract.since == date(2023, 1, 1)
    assert contract.until == date(2026, 6, 30)
    assert contract.source_ids == ("src-1",)
    assert contract.extra == {"value_usd": 1_200_000, "renewal": True}
    assert store.counts()["links"] == 2


def test_the_project_is_part_of_a_links_key(store: GraphStore) -> None:
    store.write(
        GraphData(
            organizations=[org("B1", OrgKind.buyer), org("V1", OrgKind.vendor)],
            links=[
                link("B1", CONTRACTS, "V1", project="p1"),
                link("B1", CONTRACTS, "V1", project="p2"),
                link("B1", CONTRACTS, "V1"),
                link("B1", CONTRACTS, "V1", project="p1"),
            ],
        )
    )

    assert store.counts()["links"] == 3
    assert set(links_by_key(regions.region_view(store))) == {
        ("B1", CONTRACTS, "V1", "p1"),
        ("B1", CONTRACTS, "V1", "p2"),
        ("B1", CONTRACTS, "V1", ""),
    }
    assert regions.region_view(store).project_owner == {"p1": "B1", "p2": "B1"}


def test_one_write_may_name_an_id_twice_and_link_new_entities_to_stored_ones(store: GraphStore) -> None:
    store.write(chain())
    links_before = links_by_key(regions.region_view(store))

    store.write(
        GraphData(
            # Named twice in one write: the later record wins, as in two writes.
            organizations=[org("V2", OrgKind.vendor), org("V2", OrgKind.vendor, country="UG")],
            cohorts=[cohort("C4")],
            links=[
                link("B1", CONTRACTS, "V2", project="p1"),  # stored end to new end
                link("V2", ENGAGES, "C4"),  # both new
                link("V1", ENGAGES, "C4"),  # new end from a stored one
                link("V2", ENGAGES, "C1"),
                link("B1", CONTRACTS, "V1", project="p1"),  # stored already
                link("V2", ENGAGES, "C4"),  # named twice
            ],
        )
    )

    assert store.get("V2") == org("V2", OrgKind.vendor, country="UG")
    added = {
        ("B1", CONTRACTS, "V2", "p1"),
        ("V2", ENGAGES, "C4", ""),
        ("V1", ENGAGES, "C4", ""),
        ("V2", ENGAGES, "C1", ""),
    }
    assert set(links_by_key(regions.region_view(store))) == set(links_before) | added
    assert store.counts()["links"] == len(links_before) + len(added)


def test_a_failing_write_leaves_the_store_as_it_was(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = every_field()
    store.write(before)
    counts = store.counts()
    monkeypatch.setattr(neo4j_store, "BATCH_SIZE", 2)  # Neo4j: fail after batches went through
    # A value no store can keep, smuggled past validation, last in a multi-batch bundle.
    broken = Source.model_construct(id="src-bad", title="Broken", extra={"blob": object()})  # type: ignore[dict-item]
    newer = GraphData.model_construct(
        organizations=[org(f"new-{i}", OrgKind.vendor) for i in range(5)],
        units=[Unit(id="buyer.rai", organization_id="buyer", name="Renamed")],
        cohorts=[],
        conditions=[],
        decisions=[],
        links=[],
        sources=[Source(id="src-1", title="Renamed audit"), broken],
    )

    with pytest.raises(ValueError, match="object"):  # a bug upstream, so not a GraphError
        store.write(newer)

    assert store.counts() == counts
    assert store.kinds_of(["new-0", "new-4", "src-bad"]) == {}
    assert_unchanged(store, before)


# -- looking up ------------------------------------------------------------------------


def test_get_and_kinds_of_know_only_what_was_written(store: GraphStore) -> None:
    store.write(chain())

    assert store.get("C1/pay") == chain().conditions[0]
    for unknown in ("nobody", "C1/management", "C1/", "/pay"):
        with pytest.raises(NotFound):
            store.get(unknown)
    assert store.kinds_of(["B1", "U1", "C1", "C1/voice", "D1", "SRC1", "nobody", "C1/contract"]) == {
        "B1": EntityKind.organization,
        "U1": EntityKind.unit,
        "C1": EntityKind.cohort,
        "C1/voice": EntityKind.condition,
        "D1": EntityKind.decision,
        "SRC1": EntityKind.source,
    }
    assert store.kinds_of([]) == {}


def test_a_link_to_an_unknown_id_is_refused_and_nothing_written(store: GraphStore) -> None:
    store.write(chain())
    before = chain()

    with pytest.raises(InvalidBundle) as raised:
        store.write(
            GraphData(organizations=[org("B7", OrgKind.buyer)], links=[link("B7", CONTRACTS, "ghost")])
        )

    assert ["ghost" in str(issue) for issue in raised.value.errors] == [True]
    assert store.kinds_of(["B7", "ghost"]) == {}
    assert_unchanged(store, before)


@pytest.mark.parametrize("offset, limit", [(-3, 10), (0, -1), (-3, -1)])
def test_a_negative_offset_or_limit_is_refused(store: GraphStore, offset: int, limit: int) -> None:
    store.write(chain())

    with pytest.raises(InvalidQuery, match="cannot be negative"):
        store.page(EntityKind.organization, offset=offset, limit=limit)


def test_paging_orders_by_id_and_counts_the_filtered_total(store: GraphStore) -> None:
    store.write(chain())
    organizations = EntityKind.organization

    first = store.page(organizations, limit=1)
    assert [e.id for e in first.items] == ["B1"]
    assert (first.total, first.offset, first.limit) == (7, 0, 1)

    everything = store.page(organizations, limit=100)
    assert [e.id for e in everything.items] == ["B1", "B2", "P1", "S1", "V1", "V9", "X1"]
    assert everything.items[0] == store.get("B1")

    middle = store.page(organizations, offset=2, limit=3)
    assert [e.id for e in middle.items] == ["P1", "S1", "V1"]

    past_the_end = store.page(organizations, offset=50, limit=10)
    assert past_the_end.items == [] and past_the_end.total == 7

    filtered = store.page(organizations, text="v1 LTD")
    assert [e.id for e in filtered.items] == ["V1"] and filtered.total == 1

    by_title = store.page(EntityKind.source, text="SURVEY")
    assert [e.id for e in by_title.items] == ["SRC1"]

    assert store.page(EntityKind.cohort, text="annotators", offset=1, limit=2).total == 4
    assert store.page(EntityKind.cohort, text="nobody").total == 0
    assert [e.id for e in store.page(EntityKind.condition).items] == [
        "C1/pay",
        "C1/voice",
        "C2/content_safety",
        "C3/workload",
        "C9/pay",
    ]


def test_a_name_search_ignores_case_in_every_script(store: GraphStore) -> None:
    store.write(
        GraphData(
            organizations=[Organization(id="o", name="Anotación Medellín", kinds=["vendor"], country="CO")]
        )
    )
    for text in ("MEDELLÍN", "medellín", "anotaCIÓN"):
        assert [e.id for e in store.page(EntityKind.organization, text=text).items] == ["o"], text


def test_listings_leave_out_small_cohorts_and_their_conditions(store: GraphStore) -> None:
    store.write(
        Chain()
        .org("B", "buyer")
        .cohort("big", headcount=40, pay="meets")
        .cohort("small", headcount=3, pay="violates", voice="at_risk")
        .cohort("unknown-size", headcount=None, pay="unknown")
        .link("B", "big", "ENGAGES")
        .link("B", "small", "ENGAGES")
        .link("B", "unknown-size", "ENGAGES")
        .data()
    )

    def listed(kind: EntityKind | None, private_below: int, text: str | None = None) -> tuple[int, list[str]]:
        found = store.page(kind, limit=100, text=text, private_below=private_below)
        return found.total, [e.id for e in found.items]

    assert listed(EntityKind.cohort, 5) == (2, ["big", "unknown-size"])
    assert listed(EntityKind.condition, 5) == (2, ["big/pay", "unknown-size/pay"])
    assert listed(None, 5) == (5, ["B", "big", "big/pay", "unknown-size", "unknown-size/pay"])
    assert listed(EntityKind.cohort, 5, text="small") == (0, [])
    assert listed(EntityKind.cohort, 0) == (3, ["big", "small", "unknown-size"])
    assert listed(None, 0)[0] == 8


@pytest.mark.parametrize("name", ["chain", "every_field"])
def test_record_streams_give_every_record_in_its_json_form(store: GraphStore, name: str) -> None:
    """What a whole-graph export reads: each record once, as its model's JSON form, which
    validates back to the very record written."""
    data = globals()[name]()
    store.write(data)

    with store.read() as reader:
        entities = list(reader.entity_records())
        links = list(reader.link_records())

    assert sorted(e.id for e in entities) == sorted(e.id for e in data.entities())
    for kind, entity_id, fields in entities:
        entity = ENTITY_MODELS[kind].model_validate(fields)
        assert entity == store.get(entity_id) and entity.entity is kind  # type: ignore[attr-defined]
    streamed = {found.key: found for found in (Link.model_validate(fields) for *_, fields in links)}
    assert streamed == {written.key: written for written in data.links} and len(links) == len(data.links)
    assert {(f, t, to) for f, t, to, _ in links} == {(k.from_id, k.type, k.to_id) for k in data.links}


def test_record_streams_leave_out_small_cohorts_their_conditions_and_links_into_them(
    store: GraphStore,
) -> None:
    store.write(
        Chain()
        .org("B", "buyer")
        .org("V", "vendor")
        .cohort("big", headcount=40, pay="meets")
        .cohort("small", headcount=3, pay="violates", voice="at_risk")
        .cohort("unknown-size", headcount=None, pay="unknown")
        .cohort("at-the-threshold", headcount=5)
        .link("B", "V", "CONTRACTS")
        .link("B", "big", "ENGAGES")
        .link("B", "small", "ENGAGES")
        .link("V", "small", "ENGAGES", project="p")
        .link("B", "unknown-size", "ENGAGES")
        .data()
    )

    def streamed(private_below: int) -> tuple[list[str], list[str]]:
        with store.read() as reader:
            entities = sorted(entity.id for entity in reader.entity_records(private_below))
            links = sorted(f"{f}-{t}->{to}" for f, t, to, _ in reader.link_records(private_below))
        return entities, links

    entities, links = streamed(5)
    assert entities == [e.id for e in store.page(None, limit=100, private_below=5).items]
    assert "small" not in entities and "small/pay" not in entities and "at-the-threshold" in entities
    assert links == ["B-CONTRACTS->V", "B-ENGAGES->big", "B-ENGAGES->unknown-size"]
    entities, links = streamed(0)
    assert {"small", "small/pay", "small/voice"} <= set(entities)
    assert {"B-ENGAGES->small", "V-ENGAGES->small"} <= set(links) and len(links) == 5


def test_counts_of_an_empty_and_a_full_store(store: GraphStore) -> None:
    empty: dict[EntityKind | str, int] = {kind: 0 for kind in EntityKind}
    assert store.counts() == {**empty, "links": 0}

    store.write(chain())

    assert store.counts() == {
        EntityKind.organization: 7,
        EntityKind.unit: 4,
        EntityKind.cohort: 4,
        EntityKind.condition: 5,
        EntityKind.decision: 4,
        EntityKind.source: 3,
        EntityKind.benchmark: 0,
        EntityKind.action: 0,
        "links": 10,
    }


# -- views -----------------------------------------------------------------------------


def test_the_whole_view_holds_everything_written(store: GraphStore) -> None:
    data = chain()
    store.write(data)

    assert dump(regions.region_view(store)) == dump(GraphView.of(data))


def whole_facts(whole: WholeGraph) -> list[object]:
    return [
        dump(whole.skeleton),
        list(whole.cohorts()),
        list(whole.per_cohort()),
        list(whole.engagements()),
        whole.source_dates(),
    ]


@pytest.mark.parametrize("name", ["chain", "every_field", "random_chain"])
def test_whole_graph_facts_are_the_graphs(store: GraphStore, name: str) -> None:
    """What gaps and fragmentation read of the whole graph, streamed from the store's indexes,
    is what the written graph holds, in the same order."""
    data = random_chain(3) if name == "random_chain" else globals()[name]()
    store.write(data)

    with regions.whole_graph(store) as whole:
        assert whole_facts(whole) == whole_facts(WholeGraph.from_view(GraphView.of(data)))


def test_the_condition_facts_of_some_cohorts_are_theirs_of_the_whole_stream(store: GraphStore) -> None:
    store.write(chain())
    store.write(every_field())
    some = {"C1", "C3", "acme-nbo", "no-such-cohort"}

    with store.read() as reader:
        every = list(reader.condition_facts())
        theirs = list(reader.condition_facts(some))

    assert theirs == [fact for fact in every if fact.cohort_id in some]
    assert [(f.cohort_id, f.dimension, f.grade) for f in theirs if f.cohort_id == "acme-nbo"] == [
        ("acme-nbo", Dimension.pay, EvidenceGrade.verified),
        ("acme-nbo", Dimension.voice, EvidenceGrade.reported),  # no grade reads as reported
    ]


def test_a_buyers_view_holds_its_decisions_and_everything_downstream_it_can_see(store: GraphStore) -> None:
    store.write(chain())

    view = regions.region_view(store, "B1")

    assert_contains(
        view,
        organizations={"B1", "V1", "S1", "P1"},
        units={"U1", "U2"},
        decisions={"D1", "D2"},
        cohorts={"C1", "C2"},
        conditions={"C1/pay", "C1/voice", "C2/content_safety"},
        sources={"SRC1", "SRC2"},
        links={
            "B1-CONTRACTS->V1[p1]",
            "V1-SUBCONTRACTS->S1[]",
            "S1-SUBCONTRACTS->V1[]",
            "S1-SOURCES_VIA->P1[]",
            "S1-ENGAGES->C1[p1]",
            "P1-ENGAGES->C2[]",
        },
    )
    if store.backend == "neo4j":  # a region: B2's project below the shared vendor stays out
        assert "C3" not in view.graph
    assert view.project_owner == {"p1": "B1", "p2": "B2"}
    assert view.get("V1") == store.get("V1")
    assert view.get("C1/pay") == store.get("C1/pay")


def test_a_units_view_starts_at_its_organization_and_its_decisions(store: GraphStore) -> None:
    store.write(chain())

    view = regions.region_view(store, "U3")

    assert_contains(
        view,
        organizations={"B2", "V1", "S1", "P1"},
        units={"U3"},
        decisions={"D3"},
        cohorts={"C2", "C3"},
        links={"B2-CONTRACTS->V1[p2]", "S1-SUBCONTRACTS->V1[]", "V1-ENGAGES->C3[p2]"},
    )
    if store.backend == "neo4j":  # B1's project cohort is no question of B2's
        assert "C1" not in view.graph
    assert view.project_owner == {"p1": "B1", "p2": "B2"}
    assert view.organization_of("U3") == "B2"


def test_a_decisions_view_holds_its_unit_and_both_ends(store: GraphStore) -> None:
    store.write(chain())

    view = regions.region_view(store, "D1")

    assert_contains(
        view,
        organizations={"B1", "V1", "S1", "P1"},
        units={"U1"},
        decisions={"D1"},
        cohorts={"C1", "C2"},
        links={"B1-CONTRACTS->V1[p1]", "V1-SUBCONTRACTS->S1[]", "S1-SOURCES_VIA->P1[]"},
    )
    assert view.decisions["D1"] == store.get("D1")


def test_a_cohorts_view_holds_everything_upstream_and_who_decides_there(store: GraphStore) -> None:
    store.write(chain())

    view = regions.region_view(store, "C2")

    assert_contains(
        view,
        organizations={"P1", "S1", "V1", "B1", "B2"},
        units={"U1", "U2", "U3"},
        decisions={"D1", "D2", "D3"},
        cohorts={"C2"},
        conditions={"C2/content_safety"},
        links={
            "P1-ENGAGES->C2[]",
            "S1-SOURCES_VIA->P1[]",
            "V1-SUBCONTRACTS->S1[]",
            "S1-SUBCONTRACTS->V1[]",
            "B1-CONTRACTS->V1[p1]",
            "B2-CONTRACTS->V1[p2]",
        },
        sources={"SRC2"},
    )
    assert view.project_owner == {"p1": "B1", "p2": "B2"}


def test_a_conditions_view_is_its_cohorts_view(store: GraphStore) -> None:
    store.write(chain())

    view = regions.region_view(store, "C1/pay")

    assert_contains(
        view,
        organizations={"S1", "V1", "B1", "B2"},
        decisions={"D1", "D2", "D3"},
        units={"U1", "U2", "U3"},
        cohorts={"C1"},
        conditions={"C1/pay", "C1/voice"},
        sources={"SRC1", "SRC2"},
        links={"S1-ENGAGES->C1[p1]", "V1-SUBCONTRACTS->S1[]", "B2-CONTRACTS->V1[p2]"},
    )
    assert view.conditions["C1"][Dimension.pay] == store.get("C1/pay")


def test_a_view_around_an_unknown_id_is_not_found(store: GraphStore) -> None:
    store.write(chain())

    for unknown in ("nobody", "C1/management"):
        with pytest.raises(NotFound):
            regions.region_view(store, unknown)


def test_a_view_reaches_ten_links_down_a_long_chain(store: GraphStore) -> None:
    ids = [f"T{i:02d}" for i in range(11)]
    store.write(
        GraphData(
            organizations=[org(i, OrgKind.vendor) for i in ids],
            cohorts=[cohort("end")],
            links=[
                *(link(a, SUBCONTRACTS, b) for a, b in zip(ids, ids[1:], strict=False)),
                link(ids[-1], ENGAGES, "end"),
            ],
        )
    )

    down = regions.region_view(store, "T00")
    up = regions.region_view(store, "end")

    assert_contains(down, organizations=set(ids), cohorts={"end"})
    assert_contains(up, organizations=set(ids), cohorts={"end"})
    assert len(list(down.links())) >= 11 and len(list(up.links())) >= 11


def random_chain(seed: int) -> GraphData:
    """Thirty organizations linked at random (cycles included), and a tail past the bound."""
    rnd = random.Random(seed)
    ids = [f"O{i:02d}" for i in range(30)]
    tail = [f"T{i:02d}" for i in range(MAX_DEPTH + 3)]
    links: dict[LinkKey, Link] = {}
    for _ in range(70):
        a, b = rnd.sample(ids, 2)
        found = link(a, rnd.choice(SUPPLY_LINKS), b, project=rnd.choice([None, "p1", "p2"]))
        links[found.key] = found
    for a, b in zip(["O00", *tail], tail, strict=False):
        links[(a, SUBCONTRACTS, b, "")] = link(a, SUBCONTRACTS, b)
    cohorts = [cohort(f"C{i:02d}") for i in range(15)]
    engagers = [*rnd.sample(ids, len(cohorts) - 1), tail[-1]]
    units = [Unit(id=f"U-{o}", organization_id=o, name="Team") for o in rnd.sample(ids, 6)]
    decisions = [
        decision(f"D-{u.id}-{k}", u.id, rnd.choice([*ids, tail[-2]])) for u in units for k in range(2)
    ]
    return GraphData(
        organizations=[org(i, OrgKind.vendor) for i in [*ids, *tail]],
        units=units,
        cohorts=cohorts,
        conditions=[condition(c.id, Dimension.pay, Status.violates) for c in cohorts],
        decisions=decisions,
        links=[
            *links.values(),
            *(link(o, ENGAGES, c.id) for o, c in zip(engagers, cohorts, strict=True)),
        ],
    )


def within_depth(edges: Iterable[tuple[str, str]], starts: set[str]) -> set[str]:
    """Every node at most MAX_DEPTH edges from ``starts``."""
    next_of: dict[str, set[str]] = {}
    for a, b in edges:
        next_of.setdefault(a, set()).add(b)
    seen, frontier = set(starts), set(starts)
    for _ in range(MAX_DEPTH):
        frontier = {b for a in frontier for b in next_of.get(a, ())} - seen
        seen |= frontier
    return seen


def needed_downstream(whole: GraphView, focus: str) -> dict[str, set[str]]:
    if focus in whole.decisions:
        decisions = [whole.decisions[focus]]
        units = {whole.units[focus].id} if focus in whole.units else {decisions[0].unit_id}
    else:
        units = {focus} if focus in whole.units else {
            u.id for u in whole.units.values() if u.organization_id == focus}  # fmt: skip
        decisions = [d for d in whole.decisions.values() if d.unit_id in units]
    starts = {whole.units[u].organization_id for u in units} | {d.applies_to for d in decisions}
    if focus in whole.graph:
        starts.add(focus)
    supply = [(x.from_id, x.to_id) for x in whole.links() if x.type is not ENGAGES]
    organizations = within_depth(supply, starts)
    engages = [x for x in whole.links() if x.type is ENGAGES and x.from_id in organizations]
    cohorts = {x.to_id for x in engages}
    return {
        "organizations": organizations,
        "cohorts": cohorts,
        "units": units,
        "decisions": {d.id for d in decisions},
        "conditions": {f"{c}/pay" for c in cohorts},
        "links": {
            f"{f}-{t}->{to}[{p}]"
            for f, t, to, p in links_by_key(whole)
            if f in organizations and (to in organizations or t is ENGAGES)
        },
    }


def needed_upstream(whole: GraphView, cohort_id: str) -> dict[str, set[str]]:
    engagers = {x.from_id for x in whole.in_links(cohort_id, [ENGAGES])}
    supply = [(x.to_id, x.from_id) for x in whole.links() if x.type is not ENGAGES]
    organizations = within_depth(supply, engagers)
    decisions = [d for d in whole.decisions.values() if d.applies_to in organizations]
    units = {d.unit_id for d in decisions}
    return {
        "organizations": organizations | {whole.units[u].organization_id for u in units},
        "cohorts": {cohort_id},
        "units": units,
        "decisions": {d.id for d in decisions},
        "conditions": {f"{cohort_id}/pay"},
        "links": {
            f"{f}-{t}->{to}[{p}]"
            for f, t, to, p in links_by_key(whole)
            if to in organizations and f in organizations or (t is ENGAGES and to == cohort_id)
        },
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_every_view_holds_every_path_its_question_can_take(store: GraphStore, seed: int) -> None:
    data = random_chain(seed)
    store.write(data)
    whole = GraphView.of(data)

    for focus in [*(o.id for o in data.organizations), *whole.units, *whole.decisions]:
        view = regions.region_view(store, focus)
        assert_contains(view, **needed_downstream(whole, focus))
        assert all(view.get(o.id) == whole.get(o.id) for o in view.organizations())
    for focus in (c.id for c in data.cohorts):
        assert_contains(regions.region_view(store, focus), **needed_upstream(whole, focus))


# -- both stores side by side, and Neo4j on its own ------------------------------------------


@pytest.mark.neo4j
def test_both_stores_give_the_same_whole_view(both: tuple[GraphStore, GraphStore]) -> None:
    for store in both:
        store.write(chain())
        store.write(every_field())
        store.write(GraphData(cohorts=[Cohort(id="C1", name="C1 raters", country="KE")]))

    embedded, neo4j = (dump(regions.region_view(store)) for store in both)
    assert embedded == neo4j
    assert both[0].counts() == both[1].counts()


@pytest.mark.neo4j
def test_neo4j_views_are_regions_not_the_whole_graph(neo4j: neo4j_store.Neo4jStore) -> None:
    neo4j.write(chain())

    buyer, cohort_view = region(regions.region_view(neo4j, "B1")), region(regions.region_view(neo4j, "C2"))

    assert not {"X1", "V9"} & buyer["organizations"] and "C9" not in buyer["cohorts"]
    assert not {"X1", "V9"} & cohort_view["organizations"]
    assert cohort_view["cohorts"] == {"C2"} and "D9" not in cohort_view["decisions"]


def risk_keys(neo4j: neo4j_store.Neo4jStore) -> dict[tuple[str, str], dict[str, object]]:
    """The risk keys each ENGAGES link keeps for ranking (graph.neo4j_risk), by (engager, cohort)."""
    records = neo4j._driver.execute_query(
        "MATCH (a)-[r:ENGAGES]->(c) RETURN a.id AS engager, c.id AS cohort, properties(r) AS props",
        database_=neo4j.database,
    ).records
    prefix = neo4j_risk.DERIVED_PREFIX
    return {
        (r["engager"], r["cohort"]): {
            k.removeprefix(prefix): v for k, v in r["props"].items() if k.startswith(prefix)
        }
        for r in records
    }


def keyed(engager: str, cohort_id: str, headcount: int, **risks: str) -> dict[str, object]:
    return {"from": engager, "cohort": cohort_id, "rank": -headcount, **risks}


@pytest.mark.neo4j
def test_neo4j_keeps_each_links_risk_keys_as_the_graph_changes(neo4j: neo4j_store.Neo4jStore) -> None:
    """Ranking seeks them instead of reading conditions: a stale one would rank a cohort wrongly."""

    neo4j.write(chain())
    assert risk_keys(neo4j)[("S1", "C1")] == keyed("S1", "C1", 40, pay="violates", voice="unknown")
    half = Condition(cohort_id="C1", dimension=Dimension.pay, status=Status.violates, value=0.9)
    neo4j.write(GraphData(conditions=[half]))  # 0.9 against the 2.0 kept from before
    assert risk_keys(neo4j)[("S1", "C1")] == keyed("S1", "C1", 40, pay="violates/low", voice="unknown")
    met = Condition(cohort_id="C1", dimension=Dimension.pay, status=Status.meets, value=2.5)
    neo4j.write(GraphData(conditions=[met]))
    assert risk_keys(neo4j)[("S1", "C1")] == keyed("S1", "C1", 40, voice="unknown")

    neo4j.write(GraphData(cohorts=[Cohort(id="C1", name="C1 raters", country="KE", headcount=75)]))
    neo4j.write(GraphData(links=[link("V1", ENGAGES, "C1", project="p1")]))  # a second engager
    keys = risk_keys(neo4j)
    assert keys[("S1", "C1")] == keyed("S1", "C1", 75, voice="unknown")
    assert keys[("V1", "C1")] == keyed("V1", "C1", 75, voice="unknown")
    assert keys[("V9", "C9")] == keyed("V9", "C9", 40, pay="violates")  # untouched by writes not naming it
    assert "C1" in {c.id for c in regions.region_view(neo4j).cohorts()}  # never part of a record read back
    assert not any(
        key.startswith("derived") for link in regions.region_view(neo4j).links() for key in link.extra
    )


@pytest.mark.neo4j
def test_neo4j_keys_a_new_cohorts_links_as_the_server_would(neo4j: neo4j_store.Neo4jStore) -> None:
    """A cohort a write creates gets its links' keys from the write's own conditions."""

    pay = Dimension.pay
    neo4j.write(GraphData(organizations=[org("V1", OrgKind.vendor), org("V2", OrgKind.vendor)]))
    # Written on its own, outside validation: a condition whose cohort comes later.
    neo4j.write(GraphData(conditions=[condition("C4", Dimension.voice, Status.at_risk)]))
    neo4j.write(
        GraphData(
            cohorts=[cohort("C1"), cohort("C2"), cohort("C3"), cohort("C4"), cohort("C5")],
            conditions=[
                Condition(cohort_id="C1", dimension=pay, status=Status.violates, value=0.9, benchmark=2.0),
                Condition(cohort_id="C1", dimension=Dimension.workload, status=Status.unknown),
                Condition(cohort_id="C2", dimension=pay, status=Status.at_risk, benchmark=2.0),
                Condition(cohort_id="C2", dimension=Dimension.voice, status=Status.meets),
                Condition(cohort_id="C3", dimension=pay, status=Status.at_risk, value=0.5),
                condition("C4", pay, Status.violates),
            ],
            links=[
                link("V1", ENGAGES, "C1"),
                link("V1", ENGAGES, "C2", project="p1"),
                link("V2", ENGAGES, "C2"),
                link("V2", ENGAGES, "C3"),
                link("V1", ENGAGES, "C4"),
                link("V1", ENGAGES, "C5"),
            ],
        )
    )
    keyed_at_creation = risk_keys(neo4j)
    assert keyed_at_creation == {
        ("V1", "C1"): keyed("V1", "C1", 40, pay="violates/low", workload="unknown"),
        ("V1", "C2"): keyed("V1", "C2", 40, pay="at_risk"),
        ("V2", "C2"): keyed("V2", "C2", 40, pay="at_risk"),
        ("V2", "C3"): keyed("V2", "C3", 40, pay="at_risk"),
        ("V1", "C4"): keyed("V1", "C4", 40, pay="violates", voice="at_risk"),  # the stored one counts
        ("V1", "C5"): keyed("V1", "C5", 40),
    }

    neo4j._run_write(neo4j_risk.REFRESH_RISKS, ids=["C1", "C2", "C3", "C4", "C5"])
    assert risk_keys(neo4j) == keyed_at_creation


@pytest.mark.neo4j
def test_neo4j_keys_a_database_written_before_risk_keys(
    neo4j_uri: str, neo4j: neo4j_store.Neo4jStore
) -> None:
    from tests.conftest import _neo4j_store

    neo4j.write(chain())
    keys = risk_keys(neo4j)
    neo4j._run_write("MATCH ()-[r:ENGAGES]->() SET r = {project: r.project}")  # as an older release left it
    neo4j._run_write(f"MATCH (s:{neo4j_store.STATE}) REMOVE s.risk_keys")
    assert all(not key for key in risk_keys(neo4j).values())

    reopened = _neo4j_store(neo4j_uri, wipe=False)
    try:
        assert risk_keys(reopened) == keys
        assert paths(reopened, "B1") == paths(neo4j, "B1") != []
    finally:
        reopened.close()


def paths(store: GraphStore, origin: str, limit: int = 10) -> list[tuple[str, str, str]]:
    query = PathQuery(origin=origin, limit=limit)
    return [
        (p.decision_id, p.cohort_id, p.dimension.value)
        for p in trace_risk_paths(regions.path_view(store, query, load_scoring()), query, load_scoring())
    ]


@pytest.mark.neo4j
def test_neo4j_path_views_follow_writes_by_other_clients(
    neo4j_uri: str, neo4j: neo4j_store.Neo4jStore
) -> None:
    """The store keeps the organizations and decisions it read while the graph's version holds."""
    from tests.conftest import _neo4j_store

    neo4j.write(chain())
    before = paths(neo4j, "B1")
    other = _neo4j_store(neo4j_uri, wipe=False)
    try:
        other.write(GraphData(links=[link("B1", CONTRACTS, "V9", project="p1")]))  # V9 engages C9
        after = paths(neo4j, "B1")
        assert "C9" not in {cohort for _, cohort, _ in before}
        assert "C9" in {cohort for _, cohort, _ in after}
        other.wipe()
        with pytest.raises(NotFound):
            paths(neo4j, "B1")
    finally:
        other.close()


def test_a_page_of_paths_never_crosses_into_another_buyers_project(store: GraphStore) -> None:
    """V serves B1 on p1 and B2 on p2. The worst-off cohort it engages works on p2 only, so
    B1's first path is to the other, and B2's to it."""
    store.write(
        GraphData(
            organizations=[org("B1", OrgKind.buyer), org("B2", OrgKind.buyer), org("V", OrgKind.vendor)],
            units=[
                Unit(id="U1", organization_id="B1", name="Ops"),
                Unit(id="U2", organization_id="B2", name="Ops"),
            ],
            decisions=[decision("D1", "U1", "V"), decision("D2", "U2", "V")],
            cohorts=[cohort("C1"), cohort("C2")],
            conditions=[
                condition("C1", Dimension.pay, Status.at_risk),
                condition("C2", Dimension.pay, Status.violates),
            ],
            links=[
                link("B1", CONTRACTS, "V", project="p1"),
                link("B2", CONTRACTS, "V", project="p2"),
                link("V", ENGAGES, "C1", project="p1"),
                link("V", ENGAGES, "C2", project="p2"),
            ],
        )
    )

    assert [cohort for _, cohort, _ in paths(store, "B1", limit=1)] == ["C1"]
    assert [cohort for _, cohort, _ in paths(store, "B2", limit=1)] == ["C2"]


def test_a_cohort_engaged_under_two_projects_counts_once_on_a_page(store: GraphStore) -> None:
    """V engages A for both of B's projects: two links, one cohort. The page of two is A
    and Bc, both pay violated, not A and the workload cohort Z further down."""
    pay = Dimension.pay
    store.write(
        GraphData(
            organizations=[org("B", OrgKind.buyer), org("V", OrgKind.vendor)],
            units=[Unit(id="U", organization_id="B", name="Procurement")],
            decisions=[decision("D", "U", "V")],
            cohorts=[
                Cohort(id="A", name="A raters", country="KE", headcount=100),
                Cohort(id="Bc", name="Bc raters", country="KE", headcount=50),
                Cohort(id="Z", name="Z raters", country="KE", headcount=10),
            ],
            conditions=[
                condition("A", pay, Status.violates),
                condition("Bc", pay, Status.violates),
                condition("Z", Dimension.workload, Status.violates),
            ],
            links=[
                link("B", CONTRACTS, "V", project="p1"),
                link("B", CONTRACTS, "V", project="p2"),
                link("V", ENGAGES, "A", project="p1"),
                link("V", ENGAGES, "A", project="p2"),
                link("V", ENGAGES, "Bc", project="p1"),
                link("V", ENGAGES, "Z"),
            ],
        )
    )

    assert [(cohort, dim) for _, cohort, dim in paths(store, "B", limit=2)] == [("A", "pay"), ("Bc", "pay")]


def test_engaged_cohorts_come_with_what_a_map_needs_of_them(store: GraphStore) -> None:
    """A map's outline: the ENGAGES links out of some organizations, by project as links
    are chosen, each with its cohort's name, headcount and risk codes."""
    data = chain()
    store.write(data)
    store.write(GraphData(cohorts=[Cohort(id="C2", name="Platform pool", country="VE", headcount=None)]))

    with store.read() as reader:
        scoped = reader.engaged(["V1", "S1", "P1", "B1"], ["p1"])
        every = reader.engaged(["V1"], None)
        nobody = reader.engaged([], None)

    assert scoped == [
        EngagedCohort("P1", "C2", "", "Platform pool", None, ((Dimension.content_safety, "at_risk"),)),
        EngagedCohort(
            "S1",
            "C1",
            "p1",
            "C1 annotators",
            40,
            ((Dimension.pay, "violates"), (Dimension.voice, "unknown")),
        ),
    ]  # V1 engages C3 under B2's project only
    assert every == [
        EngagedCohort("V1", "C3", "p2", "C3 annotators", 40, ((Dimension.workload, "violates"),))
    ]
    assert nobody == []


def test_engaged_totals_count_the_cohorts_one_link_engages_and_shared_ones_come_as_rows(
    store: GraphStore,
) -> None:
    """The map of every buyer counts, per organization and project, the cohorts nothing
    else engages (how many, how many are small, the workers of the others, their risk
    codes) and reads the cohorts two links engage as rows."""
    more = GraphData(
        cohorts=[
            Cohort(id="C4", name="C4 raters", country="KE", headcount=3),
            Cohort(id="C5", name="C5 raters", country="KE", headcount=None),
            Cohort(id="C6", name="C6 raters", country="KE", headcount=70),
        ],
        conditions=[
            condition("C4", Dimension.pay, Status.at_risk),
            condition("C6", Dimension.pay, Status.violates),
        ],
        links=[
            link("S1", ENGAGES, "C4", project="p1"),
            link("S1", ENGAGES, "C5", project="p1"),
            link("V9", ENGAGES, "C6"),
            link("P1", ENGAGES, "C6"),
        ],
    )
    store.write(chain())
    store.write(more)

    with store.read() as reader:
        totals = reader.engaged_totals(5)
        shared = reader.shared_engaged()

    pay, voice = Dimension.pay, Dimension.voice
    assert totals == [
        EngagedTotal("P1", "", 1, 0, 40, ((Dimension.content_safety, "at_risk"),)),
        EngagedTotal("S1", "p1", 3, 1, 40, ((pay, "at_risk"), (pay, "violates"), (voice, "unknown"))),
        EngagedTotal("V1", "p2", 1, 0, 40, ((Dimension.workload, "violates"),)),
        EngagedTotal("V9", "", 1, 0, 40, ((pay, "violates"),)),
    ]
    assert shared == [
        EngagedCohort("P1", "C6", "", "C6 raters", 70, ((pay, "violates"),)),
        EngagedCohort("V9", "C6", "", "C6 raters", 70, ((pay, "violates"),)),
    ]


def test_a_page_breaks_ties_on_cohort_id_then_dimension(store: GraphStore) -> None:
    """Content safety violated and pay violated below half its benchmark score the same
    (severity 5, likelihood 1.0); with equal headcounts the smaller cohort id ranks first."""
    pay = Dimension.pay
    store.write(
        GraphData(
            organizations=[org("B", OrgKind.buyer), org("V", OrgKind.vendor)],
            units=[Unit(id="U", organization_id="B", name="Trust and safety")],
            decisions=[
                Decision(
                    id="D",
                    unit_id="U",
                    lever=Lever.pricing,
                    applies_to="V",
                    dimensions=(pay, Dimension.content_safety),
                )
            ],
            cohorts=[cohort("CB"), cohort("CA")],
            conditions=[
                condition("CB", Dimension.content_safety, Status.violates),
                Condition(cohort_id="CA", dimension=pay, status=Status.violates, value=0.9, benchmark=2.0),
            ],
            links=[link("B", CONTRACTS, "V"), link("V", ENGAGES, "CB"), link("V", ENGAGES, "CA")],
        )
    )

    query = PathQuery(origin="B", limit=1)
    (path,) = trace_risk_paths(regions.path_view(store, query, load_scoring()), query, load_scoring())
    assert (path.cohort_id, path.dimension, path.severity) == ("CA", pay, 5)


@pytest.mark.neo4j
def test_neo4j_holds_the_graph_as_cypher_users_expect(neo4j: neo4j_store.Neo4jStore) -> None:
    neo4j.write(every_field())
    neo4j.write(GraphData(units=[Unit(id="ops", organization_id="buyer", name="Ops")]))
    driver, database = neo4j._driver, neo4j.database

    nodes = driver.execute_query(
        "MATCH (n:Entity) WHERE n.id IN ['acme', 'ops', 'acme-nbo/pay']"
        " RETURN n.id AS id, labels(n) AS labels, properties(n) AS props",
        database_=database,
    ).records
    found = {r["id"]: (set(r["labels"]), r["props"]) for r in nodes}
    assert found["acme"][0] == {"Entity", "Organization"}
    assert found["acme"][1]["kinds"] == ["vendor", "subcontractor"]
    assert found["acme"][1]["name"] == "Acme Data"
    assert found["acme"][1]["extra_name"] == "not the core name"
    assert found["ops"][1]["function"] == "other"  # defaults are stored, not only implied
    assert found["acme-nbo/pay"][0] == {"Entity", "Condition"}
    assert found["acme-nbo/pay"][1]["observed_at"].to_native() == date(2024, 3, 1)
    links = driver.execute_query(
        "MATCH (:Entity)-[r]->(:Entity) RETURN type(r) AS type, r.project AS project",
        database_=database,
    ).records
    assert sorted((r["type"], r["project"]) for r in links) == [
        ("CONTRACTS", "moderation-v2"),
        ("ENGAGES", ""),
    ]
    constraints = driver.execute_query(
        "SHOW CONSTRAINTS YIELD labelsOrTypes, properties, type"
        " WHERE type = 'UNIQUENESS' RETURN labelsOrTypes[0] AS label, properties AS keys",
        database_=database,
    ).records
    unique = {r["label"] for r in constraints if r["keys"] == ["id"]}
    assert unique >= {"Entity", *neo4j_store.LABELS.values()}


@pytest.mark.neo4j
def test_neo4j_rolls_back_a_write_the_server_rejects_midway(
    neo4j: neo4j_store.Neo4jStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = every_field()
    neo4j.write(before)
    counts = neo4j.counts()
    monkeypatch.setattr(neo4j_store, "BATCH_SIZE", 2)
    # Ids are unique across kinds: a unit may not take the id of an organization. The
    # :Entity constraint refuses it only after the organizations' batches went through.
    newer = GraphData(
        organizations=[org(f"new-{i}", OrgKind.vendor) for i in range(5)],
        units=[
            Unit(id="buyer.rai", organization_id="buyer", name="Renamed"),
            Unit(id="acme", organization_id="buyer", name="Not an organization"),
        ],
    )

    with pytest.raises(GraphError, match="acme"):
        neo4j.write(newer)

    assert neo4j.counts() == counts
    assert neo4j.kinds_of(["new-0", "new-4"]) == {}
    assert_unchanged(neo4j, before)


@pytest.mark.neo4j
def test_neo4j_never_drops_a_link_whose_end_it_cannot_find(
    neo4j: neo4j_store.Neo4jStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An end deleted between the write's look-up of its ids and its links fails the write."""
    # A look-up that takes every id for stored stands in for that race.
    monkeypatch.setattr(neo4j_store, "KINDS_BY_ID", "UNWIND $ids AS id RETURN id")

    with pytest.raises(GraphError, match="0 of 1 links"):
        neo4j.write(
            GraphData(organizations=[org("B1", OrgKind.buyer)], links=[link("B1", CONTRACTS, "ghost")])
        )

    assert neo4j.counts()[EntityKind.organization] == 0


def test_an_unreachable_neo4j_is_unavailable_and_says_where() -> None:
    started = time.monotonic()

    with pytest.raises(StoreUnavailable) as raised:
        neo4j_store.Neo4jStore("bolt://127.0.0.1:1", user="neo4j", password="s3cret", connection_timeout=2)

    assert time.monotonic() - started < 10
    assert "bolt://127.0.0.1:1" in str(raised.value)
    assert "s3cret" not in str(raised.value)


def test_a_uri_with_credentials_is_refused_without_repeating_them() -> None:
    with pytest.raises(ConfigError) as raised:
        neo4j_store.Neo4jStore("neo4j://admin:s3cret@db.example:7687", user="u", password="p")

    assert "db.example" in str(raised.value)
    assert "s3cret" not in str(raised.value)

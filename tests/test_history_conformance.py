"""Reviews over time (DOMAIN.md section 6), held against the embedded store and a real Neo4j
server alike: revisions, the earlier values of every fact, condition observations, and
retraction, through the store contract only.

The chain is test_store_conformance's. Its reviews (``reviews``), one revision each:

    1  the chain, C1's pay observed on 2025-03-01
    2  V1 renamed, B1's contract with it given an end, C3's workload re-rated (undated)
    3  C1's pay as observed earlier, on 2024-09-01: joins the series only
    4  C1's pay observed again on 2025-09-01, now meeting its benchmark: the current one
    5  V1 retracted, with a unit and a decision of its own
    6  P1's engagement of C2 and C9's pay condition retracted
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from laborgraph.graph import neo4j_store
from laborgraph.graph.analysis import regions
from laborgraph.graph.errors import InvalidBundle, NotFound
from laborgraph.graph.model import Condition, Decision, GraphData, Link, Organization, Unit
from laborgraph.graph.revisions import Retraction, Revision, WriteNote, Written, link_key, value_at
from laborgraph.graph.store import EngagedCohort, GraphStore
from laborgraph.graph.view import GraphView
from laborgraph.graph.vocabulary import Dimension, EntityKind, Lever, LinkType, OrgKind, Status
from laborgraph.ingest.load import ingest_path
from tests.conftest import EXAMPLE_BUNDLE
from tests.test_store_conformance import (
    CONTRACTS,
    ENGAGES,
    chain,
    cohort,
    condition,
    dump,
    link,
    org,
    paths,
    random_chain,
)

RENAMED_V1 = Organization(id="V1", name="V1 Data Services", kinds=(OrgKind.vendor,), country="KE")
CONTRACT = ("B1", CONTRACTS, "V1", "p1")
ENDED_CONTRACT = Link(from_id="B1", type=CONTRACTS, to_id="V1", project="p1", until=date(2026, 6, 30))
V1_REASON = "V1 was a duplicate of another vendor's record"


def ended_contract() -> Link:
    """B1's contract with V1 once review 2 gave it an end: what it carried before is kept."""
    return chain().links[0].model_copy(update={"until": ENDED_CONTRACT.until})


def pay(observed: date, value: float, **fields: object) -> Condition:
    return Condition.model_validate(
        {
            "cohort_id": "C1",
            "dimension": Dimension.pay,
            "value": value,
            "benchmark": 2.0,
            "value_unit": "USD/h",
            "observed_at": observed,
            **fields,
        }
    )


FIRST_PAY = pay(date(2025, 3, 1), 1.5, source_ids=("SRC1",))
OLDER_PAY = pay(date(2024, 9, 1), 1.2)
NEWER_PAY = pay(date(2025, 9, 1), 2.4)


def first_graph() -> GraphData:
    """The chain, C1's pay dated, V1 with a unit and a decision of its own."""
    data = chain()
    return data.model_copy(
        update={
            "units": [*data.units, Unit(id="UV", organization_id="V1", name="Vendor ops")],
            "decisions": [
                *data.decisions,
                Decision(id="DV", unit_id="UV", lever=Lever.deadline, applies_to="S1"),
            ],
            "conditions": [FIRST_PAY, *data.conditions[1:]],
        }
    )


@dataclass(frozen=True)
class Review:
    data: GraphData = field(default_factory=GraphData)
    retractions: tuple[Retraction, ...] = ()
    note: WriteNote = field(default_factory=WriteNote)


def reviews() -> list[Review]:
    return [
        Review(first_graph(), note=WriteNote(label="2025-Q1 review", digest="a" * 64, writer="analyst")),
        Review(
            GraphData(
                organizations=[RENAMED_V1],
                conditions=[condition("C3", Dimension.workload, Status.at_risk)],
                links=[ENDED_CONTRACT],
            ),
            note=WriteNote(label="2025-Q2 review", digest="b" * 64),
        ),
        Review(GraphData(conditions=[OLDER_PAY])),
        Review(GraphData(conditions=[NEWER_PAY])),
        Review(retractions=(Retraction(id="V1", reason=V1_REASON),)),
        Review(
            retractions=(
                Retraction(link=("P1", ENGAGES, "C2", ""), reason="P1 no longer routes work to C2"),
                Retraction(id="C9/pay", reason="the survey behind it was withdrawn"),
            )
        ),
    ]


def write(store: GraphStore, review: Review) -> Written:
    return store.write(review.data, retractions=review.retractions, note=review.note)


def review(store: GraphStore, upto: int) -> list[Written]:
    """Write the first ``upto`` reviews."""
    return [write(store, step) for step in reviews()[:upto]]


def whole(store: GraphStore) -> object:
    return dump(regions.region_view(store))


# -- revisions -------------------------------------------------------------------------


def test_each_write_that_changes_something_is_the_next_revision(store: GraphStore) -> None:
    started = datetime.now(UTC).replace(microsecond=0)
    first, second = review(store, 2)

    assert first.revision is not None and second.revision is not None
    assert (first.revision.number, second.revision.number) == (1, 2)
    assert first.revision.model_dump(exclude={"at"}) == {
        "number": 1,
        "label": "2025-Q1 review",
        "digest": "a" * 64,
        "writer": "analyst",
        "counts": {"added": 29 + 10, "changed": 0, "retracted": 0, "observations": 5},
    }
    assert second.revision.model_dump(exclude={"at"}) == {
        "number": 2,
        "label": "2025-Q2 review",
        "digest": "b" * 64,
        "writer": "cli",
        "counts": {"added": 0, "changed": 3, "retracted": 0, "observations": 1},
    }
    assert started <= first.revision.at <= second.revision.at <= datetime.now(UTC)
    with store.read() as reader:
        assert reader.revisions() == [first.revision, second.revision]


def test_an_identical_rewrite_makes_no_revision_and_keeps_the_version(store: GraphStore) -> None:
    review(store, 4)
    with store.read() as reader:
        version, revisions = reader.version(), reader.revisions()
    store.remember(f"answer@{version}", "42")
    before = whole(store)

    # Each review but the first again: what it says holds already (the first would undo
    # the second's changes).
    again = [write(store, step) for step in reviews()[1:4]]
    empty = store.write(GraphData())

    assert again == [Written(revision=None)] * 3 and empty == Written(revision=None)
    with store.read() as reader:
        assert reader.version() == version
        assert reader.revisions() == revisions
        assert reader.changed_after(4) == set()
    assert store.recall(f"answer@{version}") == "42"  # nothing derived forgotten
    assert whole(store) == before


# -- earlier values --------------------------------------------------------------------


def test_an_update_keeps_the_earlier_value_and_the_first_graph(store: GraphStore) -> None:
    review(store, 2)
    contract = link_key(CONTRACT)

    with store.read() as reader:
        found = reader.versions(["V1", contract, "C3/workload", "B2", "nobody"])
        first, now = reader.facts_at(1), reader.facts_at(2)
        changed = reader.changed_after(1), reader.changed_after(2), reader.changed_after(0)

    assert [(v.since, v.until, v.record) for v in found["V1"]] == [
        (1, 2, org("V1", OrgKind.vendor)),
        (2, None, RENAMED_V1),
    ]
    (old_contract, new_contract) = found[contract]
    assert (old_contract.kind, old_contract.since, old_contract.until) == ("link", 1, 2)
    assert old_contract.record == chain().links[0]
    assert new_contract.record == ended_contract()
    assert [v.record.status for v in found["C3/workload"]] == [Status.violates, Status.at_risk]  # type: ignore[union-attr]
    assert [(v.since, v.until, v.retracted) for v in found["B2"]] == [(1, None, None)]
    assert "nobody" not in found
    assert all(v.retracted is None for versions in found.values() for v in versions)
    assert dump(GraphView.of(first)) == dump(GraphView.of(first_graph()))
    assert dump(GraphView.of(now)) == whole(store)
    assert changed[0] == {"V1", contract, "C3/workload"}
    assert changed[1] == set()
    assert changed[2] == {e.id for e in first_graph().entities()} | {link_key(k.key) for k in chain().links}


def test_the_graph_at_each_revision_is_the_graph_as_it_stood(store: GraphStore) -> None:
    stood = []
    for step in reviews():
        write(store, step)
        stood.append(whole(store))

    with store.read() as reader:
        at = [dump(GraphView.of(reader.facts_at(n))) for n in range(1, len(stood) + 1)]
        before_any = reader.facts_at(0)

    assert at == stood
    assert before_any.records() == []


# -- observations ----------------------------------------------------------------------


def test_an_older_observation_joins_the_series_and_leaves_the_condition(store: GraphStore) -> None:
    review(store, 2)
    ranked = paths(store, "B1")

    (written,) = [write(store, reviews()[2])]

    assert written.revision is not None
    assert written.revision.counts == {"added": 0, "changed": 0, "retracted": 0, "observations": 1}
    assert store.get("C1/pay") == FIRST_PAY
    with store.read() as reader:
        series = reader.observations(["C1/pay", "C1/voice", "C2/pay"])
        versions = reader.versions(["C1/pay"])
    assert [(o.condition, o.revision, o.current) for o in series] == [
        (OLDER_PAY, 3, False),
        (FIRST_PAY, 1, True),
        (condition("C1", Dimension.voice, Status.unknown), 1, True),
    ]
    assert [(v.since, v.until) for v in versions["C1/pay"]] == [(1, None)]
    assert paths(store, "B1") == ranked


def test_a_newer_observation_becomes_the_condition_and_the_old_one_history(store: GraphStore) -> None:
    review(store, 3)
    assert ("D1", "C1", "pay") in paths(store, "B1")

    review_4 = write(store, reviews()[3])

    assert review_4.revision is not None and review_4.revision.counts["changed"] == 1
    current = store.get("C1/pay")
    assert current == NEWER_PAY  # the condition as observed then, whole: no source carried over
    assert isinstance(current, Condition) and current.status is Status.meets
    with store.read() as reader:
        series = reader.observations(["C1/pay"])
        versions = reader.versions(["C1/pay"])["C1/pay"]
    assert [(o.condition.observed_at, o.revision, o.current) for o in series] == [
        (date(2024, 9, 1), 3, False),
        (date(2025, 3, 1), 1, False),
        (date(2025, 9, 1), 4, True),
    ]
    assert [(v.since, v.until, v.record) for v in versions] == [(1, 4, FIRST_PAY), (4, None, NEWER_PAY)]
    assert value_at(versions, 3) == versions[0]
    assert ("D1", "C1", "pay") not in paths(store, "B1")
    with store.read() as reader:  # the risk codes a map and a page of paths rank by
        (engaged,) = reader.engaged(["S1"], None)
    assert engaged.risks == ((Dimension.voice, "unknown"),)


def test_an_undated_observation_updates_the_current_one(store: GraphStore) -> None:
    review(store, 1)
    undated = GraphData(
        conditions=[Condition(cohort_id="C1", dimension=Dimension.pay, status=Status.violates, value=1.7)]
    )

    updated = store.write(undated)
    again = store.write(undated)

    assert updated.revision is not None and updated.revision.counts["observations"] == 1
    assert again == Written(revision=None)
    current = store.get("C1/pay")
    assert current == FIRST_PAY.model_copy(update={"value": 1.7})
    with store.read() as reader:
        assert [(o.condition, o.revision, o.current) for o in reader.observations(["C1/pay"])] == [
            (current, 2, True)
        ]


def test_a_series_lists_an_undated_observation_first(store: GraphStore) -> None:
    undated = condition("C3", Dimension.workload, Status.violates)
    dated = undated.model_copy(update={"status": Status.at_risk, "observed_at": date(2025, 1, 1)})
    review(store, 1)

    store.write(GraphData(conditions=[dated]))

    assert store.get("C3/workload") == dated
    with store.read() as reader:
        series = reader.observations(["C3/workload"])
    assert [(o.condition, o.revision, o.current) for o in series] == [(undated, 1, False), (dated, 2, True)]


# -- retraction ------------------------------------------------------------------------


def test_retracting_an_organization_takes_its_units_decisions_and_links(store: GraphStore) -> None:
    review(store, 4)
    before_links = {found.key for found in regions.region_view(store).links()}
    x1_paths = paths(store, "X1")
    assert ("D3", "C3", "workload") in paths(store, "B2")

    retracted = write(store, reviews()[4])

    taken = {"V1", "UV", "DV", "D1", "D3"}  # its unit, the unit's decision, the decisions at V1
    taken_links = {key for key in before_links if "V1" in (key[0], key[2])}
    assert len(taken_links) == 5
    assert retracted.orphaned_cohorts == ("C3",)  # V1 alone engaged it
    assert retracted.revision is not None
    assert retracted.revision.counts == {"added": 0, "changed": 0, "retracted": 10, "observations": 0}
    for gone in taken:
        with pytest.raises(NotFound):
            store.get(gone)
    assert store.kinds_of([*taken, "B1", "C3"]) == {"B1": EntityKind.organization, "C3": EntityKind.cohort}
    assert [e.id for e in store.page(EntityKind.organization).items] == ["B1", "B2", "P1", "S1", "V9", "X1"]
    assert [e.id for e in store.page(EntityKind.decision).items] == ["D2", "D9"]
    assert [e.id for e in store.page(EntityKind.unit).items] == ["U1", "U2", "U3", "U9"]
    assert store.counts()["links"] == 10 - 5
    view = regions.region_view(store)
    assert {found.key for found in view.links()} == before_links - taken_links
    assert "V1" not in view.graph and not taken & (set(view.decisions) | set(view.units))
    with store.read() as reader:
        assert reader.links_into(["V1", "S1"], list(LinkType), None) == []
        assert reader.decisions_applying_to(["V1"]) == [] and reader.units_of(["V1"]) == []
    assert paths(store, "B1") == [] and paths(store, "B2") == []  # V1 carried all their work
    assert paths(store, "X1") == x1_paths != []

    with store.read() as reader:
        versions = reader.versions([*taken, *(link_key(key) for key in taken_links)])
        changed = reader.changed_after(4)
        at_4 = reader.facts_at(4)
    assert set(versions) == taken | {link_key(key) for key in taken_links}
    assert versions["V1"][-1].retracted == V1_REASON
    assert [(v.since, v.until) for v in versions["V1"]] == [(1, 2), (2, 5)]
    assert versions["UV"][-1].retracted == f"{V1_REASON} (retracted with V1)"
    assert versions["DV"][-1].retracted == f"{V1_REASON} (retracted with V1) (retracted with UV)"
    assert versions[link_key(CONTRACT)][-1].record == ended_contract()
    assert all(v[-1].until == 5 and v[-1].retracted for v in versions.values())
    assert changed == set(versions)
    assert {e.id for e in at_4.entities()} >= taken


def test_retracting_a_link_or_a_condition_takes_it_out_of_risk_paths(store: GraphStore) -> None:
    review(store, 5)
    assert ("D9", "C9", "pay") in paths(store, "X1")
    store.write(
        GraphData(  # a decision at the platform, which alone engages C2
            units=[Unit(id="U5", organization_id="S1", name="Sourcing")],
            decisions=[Decision(id="D5", unit_id="U5", lever=Lever.vendor_selection, applies_to="P1")],
        )
    )
    assert ("D5", "C2", "content_safety") in paths(store, "S1")

    written = write(store, reviews()[5])

    assert written.orphaned_cohorts == ("C2",)
    assert paths(store, "S1") == [] and paths(store, "X1") == []
    with pytest.raises(NotFound):
        store.get("C9/pay")
    assert store.get("C9") == cohort("C9")
    with store.read() as reader:
        versions = reader.versions([link_key(("P1", ENGAGES, "C2", "")), "C9/pay"])
        series = reader.observations(["C9/pay"])
    assert [v.retracted for v in versions["C9/pay"]] == ["the survey behind it was withdrawn"]
    assert [v.retracted for v in versions["P1|ENGAGES|C2|"]] == ["P1 no longer routes work to C2"]
    assert [(o.condition, o.current) for o in series] == [
        (condition("C9", Dimension.pay, Status.violates), False)
    ]
    with store.read() as reader:
        assert reader.engaged(["V9", "P1"], None) == [EngagedCohort("V9", "C9", "", "C9 annotators", 40, ())]


def test_retracting_an_unknown_fact_is_not_found_and_writes_nothing(store: GraphStore) -> None:
    review(store, 1)
    with store.read() as reader:
        version = reader.version()
    newcomer = GraphData(organizations=[org("B7", OrgKind.buyer)])

    for unknown in (
        Retraction(id="ghost", reason="never there"),
        Retraction(link=("B2", CONTRACTS, "V1", "p1"), reason="the project is wrong"),
    ):
        with pytest.raises(NotFound):
            store.write(newcomer, retractions=[Retraction(id="B2", reason="real"), unknown])

    assert store.kinds_of(["B7", "B2"]) == {"B2": EntityKind.organization}
    with store.read() as reader:
        assert reader.version() == version
        assert [r.number for r in reader.revisions()] == [1]


def test_a_write_may_not_store_what_its_retractions_take_away(store: GraphStore) -> None:
    """Renaming V1's unit, adding a unit and a link to V1, while retracting V1: the unit
    would come back from its retraction, the others point at nothing."""
    review(store, 1)
    before = whole(store)

    with pytest.raises(InvalidBundle) as refused:
        store.write(
            GraphData(
                units=[
                    Unit(id="UV", organization_id="V1", name="Renamed"),
                    Unit(id="UN", organization_id="V1", name="New"),
                ],
                links=[link("B2", CONTRACTS, "V1")],
            ),
            retractions=[Retraction(id="V1", reason=V1_REASON)],
        )

    assert [str(issue) for issue in refused.value.errors] == [
        f"units.csv: 'UN' refers to 'V1', which is retracted: {V1_REASON}",
        f"units.csv: 'UV' is retracted: {V1_REASON} (retracted with V1)",
        f"links.csv: 'B2|CONTRACTS|V1|' links 'V1', which is retracted: {V1_REASON}",
    ]
    assert whole(store) == before
    with store.read() as reader:
        assert len(reader.revisions()) == 1


def test_a_retracted_fact_may_come_back_in_a_later_revision(store: GraphStore) -> None:
    review(store, 5)

    store.write(GraphData(organizations=[RENAMED_V1], links=[link("B2", CONTRACTS, "V1", project="p2")]))

    assert store.get("V1") == RENAMED_V1
    with store.read() as reader:
        versions = reader.versions(["V1"])["V1"]
        at_5 = reader.facts_at(5)
    assert [(v.since, v.until, v.retracted) for v in versions] == [
        (1, 2, None),
        (2, 5, V1_REASON),
        (6, None, None),
    ]
    assert value_at(versions, 5) is None and "V1" not in {e.id for e in at_5.entities()}


def test_an_ingest_is_one_revision_with_its_bundles_digest(store: GraphStore, tmp_path: Path) -> None:
    q1, q2 = tmp_path / "q1.json", tmp_path / "q2.json"
    q1.write_text(
        json.dumps(
            {
                "organizations": [
                    {"id": "B", "name": "Buyer", "kinds": "buyer", "country": "US"},
                    {"id": "V", "name": "Vendor", "kinds": "vendor", "country": "KE"},
                ],
                "units": [{"id": "U", "organization_id": "V", "name": "Ops"}],
                "cohorts": [{"id": "C", "name": "Raters", "country": "KE", "headcount": 40}],
                "links": [
                    {"from_id": "B", "to_id": "V", "type": "CONTRACTS"},
                    {"from_id": "V", "to_id": "C", "type": "ENGAGES"},
                ],
            }
        )
    )
    q2.write_text(
        json.dumps({"organizations": [], "retractions": [{"id": "V", "reason": "not a real vendor"}]})
    )

    first = ingest_path(store, q1, note=WriteNote(label="2026-Q1 review", writer="analyst"))
    again = ingest_path(store, q1)
    retracted = ingest_path(store, q2)

    assert first.revision is not None and retracted.revision is not None
    assert (first.revision.number, first.revision.label, first.revision.writer) == (
        1,
        "2026-Q1 review",
        "analyst",
    )
    assert first.revision.digest == hashlib.sha256(q1.read_bytes()).hexdigest()
    assert again.revision is None
    assert (retracted.revision.number, retracted.revision.counts["retracted"]) == (2, 4)  # V, U, 2 links
    assert [w.message for w in retracted.warnings] == [
        "cohort 'C' is left with no organization engaging it; no decision reaches it"
    ]
    assert store.kinds_of(["V", "U", "C"]) == {"C": EntityKind.cohort}


# -- writers taking turns ----------------------------------------------------------------


def test_concurrent_writers_never_share_a_revision_number(store: GraphStore) -> None:
    writers = 6
    start = threading.Barrier(writers)
    made: dict[str, Revision] = {}

    def one_writer(organization_id: str) -> None:
        start.wait()
        revision = store.write(GraphData(organizations=[org(organization_id, OrgKind.vendor)])).revision
        assert revision is not None
        made[organization_id] = revision

    threads = [threading.Thread(target=one_writer, args=(f"O{n}",)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.number for r in made.values()) == list(range(1, writers + 1))
    with store.read() as reader:
        assert reader.revisions() == sorted(made.values(), key=lambda r: r.number)
        for number in range(1, writers + 1):
            written_by = {o for o, r in made.items() if r.number <= number}
            assert {e.id for e in reader.facts_at(number).entities()} == written_by


# -- both stores ---------------------------------------------------------------------------


def history(store: GraphStore, keys: list[str]) -> dict[str, object]:
    """Every history answer a store gives, in a form two stores can be compared in."""
    with store.read() as reader:
        revisions = reader.revisions()
        numbers = [0, *(r.number for r in revisions)]
        return {
            "revisions": [r.model_dump(exclude={"at"}) for r in revisions],
            "observations": [o.model_dump() for o in reader.observations(keys)],
            "versions": {k: [v.model_dump() for v in vs] for k, vs in reader.versions(keys).items()},
            "changed_after": [sorted(reader.changed_after(n)) for n in numbers],
            "facts_at": [dump(GraphView.of(reader.facts_at(n))) for n in numbers],
        }


@pytest.mark.neo4j
def test_both_stores_give_the_same_history(both: tuple[GraphStore, GraphStore]) -> None:
    written = [[write(store, step) for step in reviews()] for store in both]
    keys = sorted(
        {e.id for e in first_graph().entities()}
        | {link_key(found.key) for found in first_graph().links}
        | {"C1/pay", "nobody", "B1|CONTRACTS|V9|"}
    )

    embedded, neo4j = (history(store, keys) for store in both)

    assert [
        (w.orphaned_cohorts, w.revision and w.revision.model_dump(exclude={"at"})) for w in written[0]
    ] == [(w.orphaned_cohorts, w.revision and w.revision.model_dump(exclude={"at"})) for w in written[1]]
    assert embedded == neo4j
    assert len(embedded["revisions"]) == 6  # type: ignore[arg-type]


@pytest.mark.neo4j
def test_both_stores_keep_the_example_chain_alike(both: tuple[GraphStore, GraphStore]) -> None:
    """Every field, extra and date of a realistic bundle, through an ingest, and once more."""
    first = [ingest_path(store, EXAMPLE_BUNDLE).revision for store in both]
    again = [ingest_path(store, EXAMPLE_BUNDLE).revision for store in both]
    with both[0].read() as reader:
        graph = reader.everything()
    keys = sorted({e.id for e in graph.entities()} | {link_key(found.key) for found in graph.links})

    embedded, neo4j = (history(store, keys) for store in both)

    assert [r and r.model_dump(exclude={"at"}) for r in first] == [
        first[0] and first[0].model_dump(exclude={"at"})
    ] * 2
    assert again == [None, None]
    assert embedded == neo4j
    assert embedded["facts_at"][1] == dump(GraphView.of(graph))  # type: ignore[index]


def random_review(rnd: random.Random, step: int, held: GraphData) -> Review:
    """A review of what the graph holds: organizations renamed and conditions observed again
    (older, newer, on the same date or undated), or, every third, two facts retracted."""
    if step % 3 == 2:
        facts = [*(e.id for e in [*held.organizations, *held.cohorts, *held.conditions]), *held.links]
        return Review(
            retractions=tuple(
                Retraction(id=fact, reason=f"review {step}")
                if isinstance(fact, str)
                else Retraction(link=fact.key, reason=f"review {step}")
                for fact in rnd.sample(facts, 2)
            )
        )
    renamed = [o.model_copy(update={"name": f"{o.name} {step}"}) for o in rnd.sample(held.organizations, 2)]
    observed = [
        Condition(
            cohort_id=c.cohort_id,
            dimension=c.dimension,
            status=rnd.choice(list(Status)),
            observed_at=rnd.choice([None, date(2024, 1, 1), date(2025, 1, 1), date(2026, 1, 1)]),
        )
        for c in rnd.sample(held.conditions, min(3, len(held.conditions)))
    ]
    return Review(GraphData(organizations=renamed, conditions=observed))


@pytest.mark.neo4j
@pytest.mark.parametrize("seed", [1, 2])
def test_both_stores_keep_random_reviews_alike(both: tuple[GraphStore, GraphStore], seed: int) -> None:
    rnd, keys = random.Random(seed), set[str]()
    step = Review(random_chain(seed))
    for n in range(10):
        written = [write(store, step) for store in both]
        assert written[0].orphaned_cohorts == written[1].orphaned_cohorts
        assert whole(both[0]) == whole(both[1])
        with both[0].read() as reader:
            held = reader.everything()
        keys |= {e.id for e in held.entities()} | {link_key(found.key) for found in held.links}
        step = random_review(rnd, n, held)

    assert history(both[0], sorted(keys)) == history(both[1], sorted(keys))


# -- Neo4j only ------------------------------------------------------------------------------


def count_nodes(neo4j: neo4j_store.Neo4jStore, label: str) -> int:
    records = neo4j._driver.execute_query(
        f"MATCH (n:{label}) RETURN count(n) AS n", database_=neo4j.database
    ).records
    return int(records[0]["n"])


@pytest.mark.neo4j
def test_neo4j_keeps_history_beside_the_model(neo4j: neo4j_store.Neo4jStore) -> None:
    for step in reviews():
        write(neo4j, step)

    assert count_nodes(neo4j, neo4j_store.REVISION) == 6
    assert count_nodes(neo4j, neo4j_store.OBSERVATION) == 5 + 2
    assert count_nodes(neo4j, neo4j_store.EARLIER) > 0
    found = neo4j._driver.execute_query(
        "MATCH (n:Entity {id: 'C1/pay'}) RETURN properties(n) AS props", database_=neo4j.database
    ).records[0]["props"]
    assert (found[neo4j_store.FIRST], found[neo4j_store.LAST]) == (1, 4)
    assert neo4j.get("C1/pay") == NEWER_PAY  # the revisions are never part of a record read back
    assert not any(
        key.startswith("history") for link in regions.region_view(neo4j).links() for key in link.extra
    )

    neo4j.wipe()

    for label in (neo4j_store.REVISION, neo4j_store.OBSERVATION, neo4j_store.EARLIER, "Entity"):
        assert count_nodes(neo4j, label) == 0, label
    with neo4j.read() as reader:
        assert reader.revisions() == [] and reader.versions(["V1", "C1/pay"]) == {}
    assert write(neo4j, reviews()[0]).revision.number == 1  # type: ignore[union-attr]


@pytest.mark.neo4j
def test_neo4j_makes_a_database_of_an_earlier_release_its_first_revision(
    neo4j_uri: str, neo4j: neo4j_store.Neo4jStore
) -> None:
    from tests.conftest import _neo4j_store

    neo4j.write(chain())
    before = whole(neo4j)
    # As a release before revisions left it: no history on facts, none beside them.
    for query in (
        f"MATCH (n:Entity) REMOVE n.{neo4j_store.FIRST}, n.{neo4j_store.LAST}",
        f"MATCH ()-[r]->() REMOVE r.{neo4j_store.FIRST}, r.{neo4j_store.LAST}",
        f"MATCH (n:{neo4j_store.REVISION}|{neo4j_store.OBSERVATION}|{neo4j_store.EARLIER}) DELETE n",
        f"MATCH (s:{neo4j_store.STATE}) REMOVE s.history",
    ):
        neo4j._run_write(query)

    reopened = _neo4j_store(neo4j_uri, wipe=False)
    try:
        with reopened.read() as reader:
            (first,) = reader.revisions()
            versions = reader.versions(["B1", link_key(CONTRACT)])
            series = reader.observations(["C1/pay"])
            at_1 = reader.facts_at(1)
        assert first.model_dump(exclude={"at"}) == {
            "number": 1,
            "label": "stored by an earlier release, before revisions were kept",
            "digest": "",
            "writer": "upgrade",
            "counts": {"added": 27},
        }
        assert [(v.since, v.until) for v in versions["B1"]] == [(1, None)]
        assert [(v.since, v.until) for v in versions[link_key(CONTRACT)]] == [(1, None)]
        assert [(o.revision, o.current) for o in series] == [(1, True)]
        assert dump(GraphView.of(at_1)) == before
        assert reopened.write(GraphData(organizations=[RENAMED_V1])).revision.number == 2  # type: ignore[union-attr]
    finally:
        reopened.close()

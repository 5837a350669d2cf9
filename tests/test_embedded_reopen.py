"""Reopening the embedded store: the same graph and the same answers, read back from SQLite."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from laborgraph.graph.analysis import regions
from laborgraph.graph.analysis.gaps import visibility_gaps
from laborgraph.graph.analysis.influence import fragmentation, influencers
from laborgraph.graph.analysis.paths import PathQuery, trace_risk_paths
from laborgraph.graph.analysis.tiers import tier_map
from laborgraph.graph.analysis.whole import WholeGraph
from laborgraph.graph.embedded import DB_FILE, EmbeddedStore
from laborgraph.graph.model import Condition, GraphData, Link, Organization
from laborgraph.graph.scoring import load_scoring
from laborgraph.graph.view import AnyEntity, GraphView
from laborgraph.graph.vocabulary import Dimension, LinkType, OrgKind, Status
from laborgraph.ingest.load import ingest_path
from tests.conftest import EXAMPLE_BUNDLE
from tests.test_store_conformance import every_field

SCORING = load_scoring()
ROOT = Path(__file__).resolve().parents[1]


def updates() -> GraphData:
    """Newer records for what the example holds: a rename, new pay figures, a link that ended."""
    return GraphData(
        organizations=[
            Organization(
                id="org-tessera", name="Tessera Data", kinds=(OrgKind.vendor,), country="IN", extra={"x": 1}
            )
        ],
        conditions=[
            Condition(
                cohort_id="coh-kora-ke-moderators",
                dimension=Dimension.pay,
                status=Status.meets,  # contradicts the figures: the derived status wins
                value=2.0,
                benchmark=2.4,
            )
        ],
        links=[
            Link(
                from_id="org-nimbus",
                to_id="org-tessera",
                type=LinkType.CONTRACTS,
                project="aurora-rlhf",
                until=date(2025, 6, 30),
            )
        ],
    )


def records(view: GraphView) -> dict[str, BaseModel]:
    """Every record of a view by id, links by their key."""
    found: dict[str, BaseModel] = {}
    entities: list[AnyEntity] = [
        *view.organizations(),
        *view.cohorts(),
        *view.units.values(),
        *view.decisions.values(),
        *view.sources.values(),
        *(c for by_dim in view.conditions.values() for c in by_dim.values()),
    ]
    for entity in entities:
        found[entity.id] = entity
    for link in view.links():
        found["|".join(link.key)] = link
    return found


def answers(view: GraphView) -> list[object]:
    """What an analyst asks of the whole graph, as plain data."""
    buyers = sorted(o.id for o in view.organizations() if OrgKind.buyer in o.kinds)
    return [
        [p.model_dump() for p in trace_risk_paths(view, PathQuery(limit=None), SCORING)],
        [tier_map(view, buyer).model_dump() for buyer in buyers],
        [
            g.model_dump()
            for g in visibility_gaps(WholeGraph.from_view(view), SCORING, today=date(2026, 11, 22))
        ],
        fragmentation(WholeGraph.from_view(view)).model_dump(),
        influencers(view, "coh-savanna-ke-moderators", SCORING).model_dump(),
        dict(view.project_owner),
    ]


@pytest.fixture
def written(tmp_path: Path) -> Path:
    """A store holding the example chain, every field of every kind, and updates to both."""
    store = EmbeddedStore(tmp_path / "data")
    ingest_path(store, EXAMPLE_BUNDLE)
    store.write(every_field())
    store.write(updates())
    store.close()
    return tmp_path / "data"


def test_a_reopened_store_holds_the_graph_and_gives_the_answers_it_did_before_closing(
    tmp_path: Path,
) -> None:
    store = EmbeddedStore(tmp_path / "data")
    ingest_path(store, EXAMPLE_BUNDLE)
    store.write(every_field())
    store.write(updates())
    before = regions.region_view(store)
    expected_records, expected_answers = records(before), answers(before)
    store.close()

    after = regions.region_view(EmbeddedStore(tmp_path / "data"))
    found = records(after)
    assert found == expected_records
    assert answers(after) == expected_answers
    assert after.get("org-tessera").extra == {"x": 1}
    assert after.conditions["coh-kora-ke-moderators"][Dimension.pay].status is Status.violates


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("status", '"awful"'),  # not a status
        ("cohort_id", '"has space"'),  # not an id
        ("observed_at", '"last spring"'),  # not a date
        ("unheard_of", "1"),  # a field the model does not have
    ],
)
def test_a_row_that_does_not_read_back_is_refused_not_guessed(written: Path, field: str, bad: str) -> None:
    db = sqlite3.connect(written / DB_FILE)
    db.execute(
        "UPDATE entities SET body = json_set(body, '$.' || ?, json(?)) WHERE id = ?",
        (field, bad, "coh-kora-ke-moderators/workload"),
    )
    db.commit()
    db.close()
    with pytest.raises(ValidationError, match=field):
        regions.region_view(EmbeddedStore(written))


WRITER = """
import sys
from pathlib import Path
from laborgraph.graph.embedded import EmbeddedStore
from laborgraph.graph.model import Condition, GraphData, Link, Organization
store = EmbeddedStore(Path(sys.argv[1]))
store.write(GraphData(
    organizations=[
        Organization(id="org-newcomer", name="Newcomer", kinds=["subcontractor"], country="KE"),
        Organization(id="org-tessera", name="Tessera (renamed elsewhere)", kinds=["vendor"], country="IN"),
    ],
    links=[Link(from_id="org-tessera", to_id="org-newcomer", type="SUBCONTRACTS")],
))
"""


def test_a_commit_by_another_process_is_seen_and_views_handed_out_stay_as_they_were(
    written: Path,
) -> None:
    store = EmbeddedStore(written)
    old = regions.region_view(store)
    subprocess.run([sys.executable, "-c", WRITER, str(written)], check=True, cwd=ROOT)

    new = regions.region_view(store)
    assert new is not old
    assert new.organization("org-tessera").name == "Tessera (renamed elsewhere)"
    assert {link.to_id for link in new.out_links("org-tessera")} >= {"org-newcomer"}
    assert records(new) == records(regions.region_view(EmbeddedStore(written)))  # what a fresh reader sees
    assert old.organization("org-tessera").name == "Tessera Data"
    assert "org-newcomer" not in old.graph


def test_a_write_leaves_views_already_handed_out_unchanged(written: Path) -> None:
    store = EmbeddedStore(written)
    old = regions.region_view(store)
    kept = records(old)
    kept_edges = sorted(old.graph.edges(keys=True))
    store.write(
        GraphData(
            organizations=[
                Organization(id="org-extra", name="Extra", kinds=(OrgKind.platform,), country="PH")
            ],
            links=[
                Link(from_id="org-tessera", to_id="org-extra", type=LinkType.SOURCES_VIA),
                Link(
                    from_id="org-nimbus",
                    to_id="org-tessera",
                    type=LinkType.CONTRACTS,
                    project="aurora-rlhf",
                    until=date(2027, 1, 1),
                ),
                # A second contract between the same two, on another of the buyer's projects.
                Link(
                    from_id="org-nimbus", to_id="org-tessera", type=LinkType.CONTRACTS, project="aurora-eval"
                ),
            ],
        )
    )
    new = regions.region_view(store)
    assert records(old) == kept and sorted(old.graph.edges(keys=True)) == kept_edges
    assert "org-extra" in new.graph and ("org-tessera", "org-extra") in new.graph.edges()
    contract = ("org-nimbus", "org-tessera", (LinkType.CONTRACTS, "aurora-rlhf"))
    assert old.graph.edges[contract]["link"].until == date(2025, 6, 30)
    assert new.graph.edges[contract]["link"].until == date(2027, 1, 1)
    assert [link.from_id for link in new.in_links("org-extra", [LinkType.SOURCES_VIA])] == ["org-tessera"]
    # The view a write leaves is the one a reopen builds from the rows it wrote.
    reopened = regions.region_view(EmbeddedStore(written))
    assert records(new) == records(reopened)
    assert answers(new) == answers(reopened)
    for node in new.graph:
        assert dict(new.graph.pred[node]) == dict(reopened.graph.pred[node])
        assert dict(new.graph.succ[node]) == dict(reopened.graph.succ[node])

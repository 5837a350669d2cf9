"""Review findings pinned down: project ownership, scoped tiers, and values a store cannot keep."""

from __future__ import annotations

import json

import pytest

from laborgraph.graph.analysis import regions
from laborgraph.graph.analysis.paths import PathQuery, trace_risk_paths
from laborgraph.graph.analysis.tiers import tier_map
from laborgraph.graph.errors import InvalidBundle
from laborgraph.graph.scoring import load_scoring
from laborgraph.graph.store import GraphStore
from laborgraph.ingest.load import ingest_raw
from laborgraph.ingest.readers import read_json

TWO_BUYERS = {
    "organizations": [
        {"id": "org-a", "name": "A", "kinds": "buyer", "country": "US"},
        {"id": "org-b", "name": "B", "kinds": "buyer", "country": "US"},
        {"id": "org-c", "name": "C", "kinds": "buyer", "country": "US"},
        {"id": "org-v", "name": "V", "kinds": "vendor", "country": "KE"},
    ],
    "units": [
        {"id": "unit-a", "organization_id": "org-a", "name": "A pricing"},
        {"id": "unit-b", "organization_id": "org-b", "name": "B pricing"},
        {"id": "unit-c", "organization_id": "org-c", "name": "C pricing"},
        {"id": "unit-v", "organization_id": "org-v", "name": "V delivery"},
    ],
    "cohorts": [
        {"id": "coh-a", "name": "A workers", "country": "KE", "headcount": 50},
        {"id": "coh-b", "name": "B workers", "country": "KE", "headcount": 50},
    ],
    "conditions": [
        {"cohort_id": "coh-a", "dimension": "pay", "status": "violates"},
        {"cohort_id": "coh-b", "dimension": "pay", "status": "violates"},
    ],
    "links": [
        {"from_id": "org-a", "to_id": "org-v", "type": "CONTRACTS", "project": "proj-a"},
        {"from_id": "org-b", "to_id": "org-v", "type": "CONTRACTS", "project": "proj-b"},
        {"from_id": "org-c", "to_id": "org-v", "type": "CONTRACTS"},
        {"from_id": "org-v", "to_id": "coh-a", "type": "ENGAGES", "project": "proj-a"},
        {"from_id": "org-v", "to_id": "coh-b", "type": "ENGAGES", "project": "proj-b"},
    ],
    "decisions": [
        {
            "id": "dec-v-a",
            "unit_id": "unit-v",
            "lever": "pricing",
            "applies_to": "org-v",
            "project": "proj-a",
        },
    ],
}


def ingest(store: GraphStore, document: dict[str, object]) -> None:
    ingest_raw(store, read_json(json.dumps(document).encode()))


def rejection(store: GraphStore, document: dict[str, object]) -> list[str]:
    with pytest.raises(InvalidBundle) as caught:
        ingest(store, document)
    return [str(issue) for issue in caught.value.errors]


def test_a_buyer_cannot_name_another_buyers_project(store: GraphStore) -> None:
    ingest(store, TWO_BUYERS)
    before = store.counts()
    errors = rejection(store, {"organizations": [], "decisions": [
        {"id": "dec-b-on-a", "unit_id": "unit-b", "lever": "pricing", "applies_to": "org-v",
         "project": "proj-a"}]})  # fmt: skip
    assert errors == [
        "bundle.json decisions, row 1, column 'project': project 'proj-a' belongs to 'org-a'; "
        "a decision of the buyer 'org-b' cannot reach another buyer's project"
    ]
    assert store.counts() == before


def test_a_vendor_decision_on_a_project_reaches_only_that_project(store: GraphStore) -> None:
    ingest(store, TWO_BUYERS)
    paths = trace_risk_paths(
        regions.region_view(store, "org-v"), PathQuery(origin="org-v", limit=None), load_scoring()
    )
    assert {p.cohort_id for p in paths} == {"coh-a"}


def test_a_project_has_one_buyer_across_bundles(store: GraphStore) -> None:
    ingest(store, TWO_BUYERS)
    errors = rejection(store, {"organizations": [], "links": [
        {"from_id": "org-c", "to_id": "org-v", "type": "CONTRACTS", "project": "proj-b"}]})  # fmt: skip
    assert errors == [
        "bundle.json links, row 1, column 'project': project 'proj-b' already belongs to 'org-b' "
        "(in the graph); a project has one buyer"
    ]
    assert store.project_owners() == {"proj-a": "org-a", "proj-b": "org-b"}


def test_a_buyer_without_projects_sees_no_other_buyers_project(store: GraphStore) -> None:
    ingest(store, TWO_BUYERS)
    seen = {e.id for e in tier_map(regions.region_view(store, "org-c"), "org-c").entries}
    assert seen == {"org-c", "org-v"}  # not coh-a or coh-b: they work on A's and B's projects
    assert {e.id for e in tier_map(regions.region_view(store, "org-v"), "org-v").entries} == {
        "org-v",
        "coh-a",
        "coh-b",
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("NaN", "nan is not a finite number"),
        ("1e999", "inf is not a finite number"),
        ("123456789012345678901234567890", "does not fit in a 64-bit integer"),
    ],
)
def test_values_a_store_cannot_keep_are_rejected_by_column(
    store: GraphStore, value: str, message: str
) -> None:
    document = (
        '{"organizations": [{"id": "o1", "name": "X", "kinds": "buyer", "country": "US", "score": '
        + value
        + "}]}"
    )
    with pytest.raises(InvalidBundle) as caught:
        ingest_raw(store, read_json(document.encode()))
    (issue,) = caught.value.errors
    assert (issue.row, issue.column) == (1, "score") and message in issue.message
    assert store.counts()["organization"] == 0


def test_a_pay_value_that_is_not_finite_is_one_clear_error(store: GraphStore) -> None:
    document = {
        "organizations": [],
        "cohorts": [{"id": "c", "name": "C", "country": "KE"}],
        "conditions": [{"cohort_id": "c", "dimension": "pay", "value": "nan", "benchmark": 2}],
    }
    errors = rejection(store, document)
    assert len(errors) == 1 and "column 'value'" in errors[0] and "finite" in errors[0]

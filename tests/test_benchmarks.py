"""Living-wage benchmarks as an analyst loads them: which benchmark a pay figure takes, what
a later benchmarks.csv changes in what is stored, and the rows that are refused.

The chain: buyer B contracts vendor V (KE), whose decision D (pricing, so pay) reaches the
cohorts V engages, each with a pay figure and no benchmark of its own.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from laborgraph.graph.analysis.paths import PathQuery, iter_risk_paths
from laborgraph.graph.analysis.regions import path_view
from laborgraph.graph.errors import InvalidBundle
from laborgraph.graph.model import Condition, benchmark_id
from laborgraph.graph.scoring import load_scoring
from laborgraph.graph.store import GraphStore
from laborgraph.graph.vocabulary import Dimension, EntityKind, Status
from laborgraph.ingest.load import IngestReport, ingest_path

HEADERS = {
    "organizations": ["id", "name", "kinds", "country"],
    "units": ["id", "organization_id", "name", "function"],
    "decisions": ["id", "unit_id", "lever", "applies_to"],
    "cohorts": ["id", "name", "country", "region", "headcount"],
    "conditions": ["cohort_id", "dimension", "status", "value", "value_unit", "benchmark", "observed_at"],
    "sources": ["id", "title", "kind", "published_at"],
    "benchmarks": ["country", "region", "value", "value_unit", "valid_from", "evidence_grade", "source_ids"],
    "links": ["from_id", "to_id", "type"],
}
CHAIN = {
    "organizations": [["B", "Buyer", "buyer", "US"], ["V", "Vendor", "vendor", "KE"]],
    "units": [["U", "B", "Procurement", "procurement"]],
    "decisions": [["D", "U", "pricing", "V"]],
    "sources": [["src-lw", "Living wage estimates", "research", "2025-01-10"]],
    "links": [["B", "V", "CONTRACTS"]],
}
BENCHMARKS = [
    ["KE", "", "2.00", "USD/h", "2024-01-01", "documented", "src-lw"],
    ["KE", "", "2.20", "USD/h", "2025-01-01", "documented", "src-lw"],
    ["KE", "Nairobi", "3.00", "USD/h", "2025-01-01", "documented", "src-lw"],
    ["KE", "Nairobi", "3.50", "USD/h", "2026-01-01", "documented", "src-lw"],
    ["KE", "", "20000", "KES/month", "2025-01-01", "documented", "src-lw"],
]
# cohort: country, region; its pay: value, unit, observed_at
PAY = {
    "c-nbo": ("KE", "Nairobi", "3.10", "USD/h", "2025-06-01"),  # Nairobi's 2025 figure: 3.00
    "c-nbo-undated": ("KE", "nairobi ", "3.40", "USD/h", ""),  # the newest Nairobi one: 3.50
    "c-msa": ("KE", "Mombasa", "2.50", "USD/h", "2025-06-01"),  # no Mombasa one: national 2.20
    "c-ke-2024": ("KE", "", "2.10", "USD/h", "2024-06-01"),  # national 2.00, valid then
    "c-ke-kes": ("KE", "", "15000", "KES/month", "2025-03-01"),  # national, in its own unit
}


def write_bundle(folder: Path, sections: dict[str, list[list[str]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for section, rows in sections.items():
        with open(folder / f"{section}.csv", "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([HEADERS[section], *rows])
    if "organizations" not in sections:
        write_bundle(folder, {"organizations": []})
    return folder


def pay_bundle(
    pay: dict[str, tuple[str, str, str, str, str]], status: str = ""
) -> dict[str, list[list[str]]]:
    return {
        **CHAIN,
        "cohorts": [[c, f"{c} workers", country, region, "50"] for c, (country, region, *_) in pay.items()],
        "conditions": [
            [c, "pay", status, value, unit, "", day] for c, (_, _, value, unit, day) in pay.items()
        ],
        "links": [*CHAIN["links"], *([("V", c, "ENGAGES") for c in pay])],  # type: ignore[list-item]
    }


def pay_of(store: GraphStore, cohort_id: str) -> Condition:
    found = store.get(f"{cohort_id}/pay")
    assert isinstance(found, Condition)
    return found


def stored_risks(store: GraphStore) -> dict[str, str | None]:
    """The pay risk code each cohort's ENGAGES link is indexed by (the risks a page seeks)."""
    with store.read() as reader:
        engaged = reader.engaged(["V"], None)
    return {e.cohort_id: dict(e.risks).get(Dimension.pay) for e in engaged}


def test_a_pay_figure_takes_the_benchmark_of_its_place_unit_and_day(
    store: GraphStore, tmp_path: Path
) -> None:
    report = ingest_path(store, write_bundle(tmp_path / "b", {**pay_bundle(PAY), "benchmarks": BENCHMARKS}))

    assert report.warnings == []
    taken = {c: (pay_of(store, c).benchmark, pay_of(store, c).status) for c in PAY}
    assert taken == {
        "c-nbo": (3.00, Status.at_risk),  # 3.10 < 110 % of 3.00
        "c-nbo-undated": (3.50, Status.violates),
        "c-msa": (2.20, Status.meets),  # 2.50 >= 2.42
        "c-ke-2024": (2.00, Status.at_risk),
        "c-ke-kes": (20000, Status.violates),
    }
    assert pay_of(store, "c-nbo").benchmark_id == benchmark_id("KE", "Nairobi", "USD/h", date(2025, 1, 1))
    # What the stores index for ranking follows: the embedded risks table, Neo4j's link keys.
    assert stored_risks(store) == {
        "c-nbo": "at_risk",
        "c-nbo-undated": "violates",
        "c-msa": None,
        "c-ke-2024": "at_risk",
        "c-ke-kes": "violates",
    }
    assert store.counts()[EntityKind.benchmark] == 5


def test_a_risk_path_names_the_benchmark_its_pay_was_judged_against(
    store: GraphStore, tmp_path: Path
) -> None:
    ingest_path(store, write_bundle(tmp_path / "b", {**pay_bundle(PAY), "benchmarks": BENCHMARKS}))
    query = PathQuery(origin="B", target="c-nbo/pay", limit=None)

    (path,) = iter_risk_paths(path_view(store, query, load_scoring()), query, load_scoring())

    assert path.status is Status.at_risk
    assert (
        "Pay is judged against the living-wage benchmark for KE/Nairobi valid from 2025-01-01"
        " (3 USD/h, sources src-lw)." in path.explanation
    )


def test_a_later_benchmarks_file_judges_stored_pay_again(store: GraphStore, tmp_path: Path) -> None:
    cohort = {"c-ke": ("KE", "", "2.10", "USD/h", "2025-06-01")}
    ingest_path(store, write_bundle(tmp_path / "1", pay_bundle(cohort, status="meets")))
    assert (pay_of(store, "c-ke").status, stored_risks(store)["c-ke"]) == (Status.meets, None)

    first = ingest_path(
        store,
        write_bundle(tmp_path / "2", {"benchmarks": [["KE", "", "2.50", "USD/h", "2025-01-01", "", ""]]}),
    )
    assert (pay_of(store, "c-ke").status, stored_risks(store)["c-ke"]) == (Status.violates, "violates")
    assert _said(first, "1 stored pay conditions take another benchmark (1 now violates)")

    newer = [["KE", "", "2.00", "USD/h", "2025-05-01", "", ""]]  # valid on 2025-06-01, and newer
    ingest_path(store, write_bundle(tmp_path / "3", {"benchmarks": newer}))
    assert (pay_of(store, "c-ke").benchmark, stored_risks(store)["c-ke"]) == (2.00, "at_risk")

    moved = [["c-ke", "c-ke workers", "UG", "", "50"]]  # to a country with no benchmark
    ingest_path(store, write_bundle(tmp_path / "4", {"cohorts": moved}))
    assert (pay_of(store, "c-ke").benchmark, pay_of(store, "c-ke").status) == (None, Status.unknown)
    assert stored_risks(store)["c-ke"] == "unknown"

    back = [["c-ke", "c-ke workers", "KE", "", "50"]]
    ingest_path(store, write_bundle(tmp_path / "5", {"cohorts": back}))
    assert (pay_of(store, "c-ke").benchmark, stored_risks(store)["c-ke"]) == (2.00, "at_risk")


def test_loading_the_same_benchmarks_again_changes_nothing(store: GraphStore, tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "b", {**pay_bundle(PAY), "benchmarks": BENCHMARKS})
    ingest_path(store, bundle)
    before = (store.counts(), [pay_of(store, c) for c in PAY], stored_risks(store))

    again = ingest_path(store, bundle)

    assert again.warnings == []
    assert (store.counts(), [pay_of(store, c) for c in PAY], stored_risks(store)) == before


def test_a_status_given_against_the_benchmark_is_a_warning_and_the_derived_one_wins(
    store: GraphStore, tmp_path: Path
) -> None:
    cohort = {"c-nbo": PAY["c-nbo"]}
    report = ingest_path(
        store, write_bundle(tmp_path / "b", {**pay_bundle(cohort, status="meets"), "benchmarks": BENCHMARKS})
    )

    assert pay_of(store, "c-nbo").status is Status.at_risk
    (warning,) = report.warnings
    assert (warning.file, warning.row, warning.column) == ("conditions.csv", 2, "status")
    assert "against the benchmark for KE/Nairobi from 2025-01-01 (3 USD/h)" in warning.message


def _said(report: IngestReport, message: str) -> bool:
    return any(message in w.message for w in report.warnings)


def rejected(store: GraphStore, bundle: Path) -> list[tuple[str, int | None, str | None, str]]:
    with pytest.raises(InvalidBundle) as refused:
        ingest_path(store, bundle)
    assert store.counts() == {**{kind: 0 for kind in EntityKind}, "links": 0}  # nothing written
    return [(e.file, e.row, e.column, e.message) for e in refused.value.errors]


def test_two_rows_for_one_benchmark_are_refused_where_they_overlap(store: GraphStore, tmp_path: Path) -> None:
    rows = [
        ["KE", "Nairobi", "3.00", "USD/h", "2025-01-01", "", ""],
        ["KE", "nairobi", "3.20", "USD/h", "2025-01-01", "", ""],  # the same region, written otherwise
        ["KE", "Nairobi", "3.00", "USD/h", "2025-01-01", "", ""],
        ["KE", "Nairobi", "3.00", "USD/h", "2025-02-01", "", ""],  # another day: fine
    ]
    errors = rejected(store, write_bundle(tmp_path / "b", {**CHAIN, "benchmarks": rows}))

    assert [(file, row, column) for file, row, column, _ in errors] == [
        ("benchmarks.csv", 3, "value"),
        ("benchmarks.csv", 4, None),
    ]
    assert "overlaps benchmarks.csv row 2" in errors[0][3] and "3 there and 3.2 here" in errors[0][3]


def test_bad_benchmark_cells_are_refused_with_their_row_and_column(store: GraphStore, tmp_path: Path) -> None:
    rows = [
        ["XX", "", "2.00", "USD/h", "2025-01-01", "", ""],
        ["KE", "", "0", "USD/h", "2025-01-01", "", ""],
        ["KE", "", "-1", "USD/h", "2025-02-01", "", ""],
        ["KE", "", "2.00", "USD/h", "2025-13-01", "", ""],
        ["KE", "", "2.00", "", "2025-03-01", "", ""],
        ["KE", "", "2.00", "USD/h", "2025-04-01", "", "src-nowhere"],
    ]
    errors = rejected(store, write_bundle(tmp_path / "b", {**CHAIN, "benchmarks": rows}))

    assert [(row, column) for _, row, column, _ in errors] == [
        (2, "country"),
        (3, "value"),
        (4, "value"),
        (5, "valid_from"),
        (6, "value_unit"),
        (7, "source_ids"),
    ]
    assert {file for file, *_ in errors} == {"benchmarks.csv"}


def test_a_pay_figure_in_a_unit_no_benchmark_of_its_place_is_in_is_refused(
    store: GraphStore, tmp_path: Path
) -> None:
    pay = {
        "c-ke": ("KE", "", "250", "KES/h", "2025-06-01"),  # KE's benchmarks below are in USD/h
        "c-ug": ("UG", "", "1.00", "UGX/h", "2025-06-01"),  # UG has none: no unit to miss
    }
    only_usd = [row for row in BENCHMARKS if row[3] == "USD/h"]
    sections = {**pay_bundle(pay, status="at_risk"), "benchmarks": only_usd}

    errors = rejected(store, write_bundle(tmp_path / "b", sections))

    ((file, row, column, message),) = errors
    assert (file, row, column) == ("conditions.csv", 2, "value_unit")
    assert "'KES/h' is not the unit of any benchmark for KE (benchmarks.csv gives USD/h)" in message


def test_a_status_left_to_a_benchmark_that_does_not_apply_is_refused(
    store: GraphStore, tmp_path: Path
) -> None:
    pay = {
        "c-early": ("KE", "", "2.10", "USD/h", "2023-06-01"),  # before the first KE benchmark
        "c-ug": ("UG", "", "1.00", "USD/h", "2025-06-01"),  # no UG benchmark
    }
    errors = rejected(store, write_bundle(tmp_path / "b", {**pay_bundle(pay), "benchmarks": BENCHMARKS}))

    assert [(file, row, column) for file, row, column, _ in errors] == [
        ("conditions.csv", 2, "status"),
        ("conditions.csv", 3, "status"),
    ]
    assert "the first benchmark for KE in USD/h is from 2024-01-01, after 2023-06-01" in errors[0][3]
    assert "no national benchmark is given for UG" in errors[1][3]

"""CSV export: safe in a spreadsheet, defensible row by row, streamed."""

from __future__ import annotations

import csv
import io

from laborgraph.graph.analysis.paths import PathQuery, iter_risk_paths
from laborgraph.graph.scoring import load_scoring
from laborgraph.graph.view import GraphView
from laborgraph.visualize.export import CSV_COLUMNS, safe_cell, stream_csv
from tests.chains import Chain

HOSTILE = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rReturn"]


def hostile_view() -> GraphView:
    chain = Chain().org("b", "buyer").org("v", "vendor")
    chain.unit("u", "b").link("b", "v", "CONTRACTS", source_ids=())
    for i, name in enumerate(HOSTILE):
        chain.cohort(f"c{i}", headcount=10 + i, pay="violates")
        chain.cohorts[-1] = chain.cohorts[-1].model_copy(update={"name": name})
        chain.link("v", f"c{i}", "ENGAGES")
    chain.decision("d", "u", "pricing", "v", description="=cmd|' /C calc'!A0")
    return GraphView.of(chain.data())


def test_formula_like_cells_are_neutralised() -> None:
    view = hostile_view()
    text = "".join(stream_csv(iter_risk_paths(view, PathQuery(limit=None), load_scoring())))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(HOSTILE)
    assert list(rows[0]) == CSV_COLUMNS
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    assert {row["cohort_name"] for row in rows} == {"'" + name for name in HOSTILE}
    assert safe_cell(3) == 3 and safe_cell("ok") == "ok"


def test_each_row_carries_its_evidence_per_hop() -> None:
    chain = Chain().org("b", "buyer").org("v", "vendor").unit("u", "b")
    chain.link("b", "v", "CONTRACTS", evidence_grade="verified", source_ids=("src-contract",))
    chain.cohort("c", pay="violates").link("v", "c", "ENGAGES", evidence_grade="inferred")
    chain.decision("d", "u", "pricing", "b", evidence_grade="documented", source_ids=("src-sow",))
    text = "".join(stream_csv(iter_risk_paths(GraphView.of(chain.data()), PathQuery(), load_scoring())))
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["chain"] == "u > d > b > v > c > c/pay"
    assert row["evidence"] == (
        "u made d, applying to b: documented [src-sow]; b CONTRACTS v: verified [src-contract]; "
        "v ENGAGES c: inferred [no source]; c pay violates: reported [no source]"
    )
    assert float(row["confidence"]) == round(0.9 * 1.0 * 0.4 * 0.7, 4)


def test_export_streams_one_row_at_a_time() -> None:
    view = hostile_view()
    chunks = stream_csv(iter_risk_paths(view, PathQuery(limit=None), load_scoring()))
    first = next(chunks)
    assert first.count("\r\n") == 2  # header and one row, before the rest is computed

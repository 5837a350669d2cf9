"""CSV and xlsx exports of risk paths: safe in a spreadsheet, defensible row by row, streamed."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import openpyxl

from laborgraph.graph.analysis.paths import PathQuery, iter_risk_paths
from laborgraph.graph.scoring import load_scoring
from laborgraph.graph.view import GraphView
from laborgraph.visualize.export import CSV_COLUMNS, XlsxExporter, export_paths, safe_cell, stream_csv
from laborgraph.visualize.xlsx import XlsxTable
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


def test_xlsx_has_the_csvs_rows_and_formula_like_cells_stay_text(tmp_path: Path) -> None:
    paths = list(iter_risk_paths(hostile_view(), PathQuery(limit=None), load_scoring()))
    target = tmp_path / "paths.xlsx"
    assert export_paths(paths, [XlsxExporter(target)]) == len(HOSTILE)

    with zipfile.ZipFile(target) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no cell holds a formula
    rows = list(openpyxl.load_workbook(target).active.iter_rows())  # type: ignore[union-attr]
    assert [cell.value for cell in rows[0]] == CSV_COLUMNS
    names = [row[CSV_COLUMNS.index("cohort_name")] for row in rows[1:]]
    # A carriage return is written as Excel escapes it (_x000D_), which openpyxl leaves as is.
    assert {cell.value.replace("_x000D_", "\r") for cell in names} == {"'" + name for name in HOSTILE}
    assert all(cell.data_type == "s" for cell in names)
    assert rows[1][CSV_COLUMNS.index("severity")].data_type == "n"


def test_an_xlsx_table_goes_on_in_a_next_worksheet_past_the_row_limit(tmp_path: Path) -> None:
    target = tmp_path / "rows.xlsx"
    table = XlsxTable(target, ["n", "text"], "rows", max_rows=3)
    for n in range(5):
        table.write([n, f"=row {n}"])
    table.finalize()

    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["rows", "rows 2", "rows 3"]
    assert [[c.value for c in row] for row in book["rows 2"].iter_rows()] == [
        ["n", "text"], [2, "'=row 2"], [3, "'=row 3"]
    ]  # fmt: skip


def test_an_xlsx_of_no_paths_holds_the_header(tmp_path: Path) -> None:
    export_paths([], [XlsxExporter(tmp_path / "none.xlsx")])
    rows = list(openpyxl.load_workbook(tmp_path / "none.xlsx").active.values)  # type: ignore[union-attr]
    assert rows == [tuple(CSV_COLUMNS)]

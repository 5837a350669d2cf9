"""`laborgraph export` and `paths --xlsx` as a user runs them, and the API's spreadsheet:
files written whole or not at all, clear errors and exit codes, the CSV's rows in the xlsx."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path

import networkx as nx
import openpyxl
import pytest
from fastapi.testclient import TestClient

from laborgraph.app.main import create_app
from tests.test_api import make_settings
from tests.test_cli import run


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import EXAMPLE_BUNDLE

    data_dir = tmp_path_factory.mktemp("export-cli")
    assert run("ingest", str(EXAMPLE_BUNDLE), data_dir=data_dir).returncode == 0
    return data_dir


def test_export_writes_the_file_and_says_what_it_holds(loaded: Path, tmp_path: Path) -> None:
    target = tmp_path / "chain.json"
    done = run("export", "--format", "json", "-o", str(target), data_dir=loaded)
    assert done.returncode == 0, done.stderr
    graph = nx.node_link_graph(json.loads(target.read_text(encoding="utf-8")))
    assert f"({graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges)" in done.stdout
    admin = run("export", "--format", "json", "-o", str(target), "--show-small", data_dir=loaded)
    assert admin.returncode == 0 and "coh-tessera-ph-qa-leads" in target.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chain.json"]  # no spool or partial left


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--format", "graphml", "--focus", "org-nowhere"], 1, "error: no entity with id 'org-nowhere'"),
        (["--format", "gexf", "--focus", "unit-halcyon-commercial"], 1, "no organization with id 'unit-"),
        (["--format", "json", "--focus", "coh-tessera-ph-qa-leads"], 1, "no entity with id"),  # a small one
        (["--format", "graphml", "--focus", "org-halcyon", "--depth", "11"], 2, "--depth"),
        (["--format", "csv"], 2, "'csv' is not one of"),
        ([], 2, "Missing option '--format'"),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(
    loaded: Path, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    target = tmp_path / "out.graphml"
    target.write_text("the previous export", encoding="utf-8")
    failed = run("export", *args, "-o", str(target), data_dir=loaded)
    assert failed.returncode == code, failed.stderr
    assert message in failed.stderr and "Traceback" not in failed.stderr
    assert target.read_text(encoding="utf-8") == "the previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["out.graphml"]


def xlsx_rows(data: bytes) -> list[list[object]]:
    """Every row of every worksheet, as comparable cells (see ``cells``)."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [cells(row) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]


def cells(row: Iterable[object]) -> list[object]:
    """A row's cells with numbers as numbers: the CSV's "1.0" is a spreadsheet's 1."""

    def cell(value: object) -> object:
        if value is None:
            return ""
        try:
            return float(value)  # type: ignore[arg-type]
        except ValueError:
            return value

    return [cell(value) for value in row]


def test_paths_xlsx_holds_the_csvs_rows_and_columns(loaded: Path, tmp_path: Path) -> None:
    table, sheet = tmp_path / "paths.csv", tmp_path / "paths.xlsx"
    done = run("paths", "--from", "org-halcyon", "--csv", str(table), "--xlsx", str(sheet), data_dir=loaded)
    assert done.returncode == 0, done.stderr
    assert f"wrote 41 paths to {table} and {sheet}" in done.stdout
    with open(table, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 42 and xlsx_rows(sheet.read_bytes()) == [cells(row) for row in rows]
    book = openpyxl.load_workbook(sheet, read_only=True)
    assert book.sheetnames == ["risk paths"]
    first = next(book.active.iter_rows(min_row=2, max_row=2))  # type: ignore[union-attr]
    assert first[0].data_type == "n" and first[rows[0].index("explanation")].data_type == "s"


def test_paths_xlsx_to_an_unknown_origin_writes_nothing(loaded: Path, tmp_path: Path) -> None:
    failed = run("paths", "--from", "org-nowhere", "--xlsx", str(tmp_path / "p.xlsx"), data_dir=loaded)
    assert failed.returncode == 1 and "org-nowhere" in failed.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_api_sends_the_same_rows_as_a_spreadsheet(loaded: Path) -> None:
    with TestClient(create_app(make_settings("embedded", loaded, data_dir=loaded))) as client:
        params = {"from": "org-halcyon", "limit": 5}
        sheet = client.get("/api/v1/paths.xlsx", params=params)
        table = client.get("/api/v1/paths.csv", params=params)
        missing = client.get("/api/v1/paths.xlsx", params={"from": "org-nowhere"})
    assert sheet.status_code == 200, sheet.text
    assert sheet.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="laborgraph-risk-paths.xlsx"' in sheet.headers["content-disposition"]
    assert xlsx_rows(sheet.content) == [cells(row) for row in csv.reader(io.StringIO(table.text))]
    assert missing.status_code == 404


# -- scorecards and changes as spreadsheets -------------------------------------------

SMALL_COHORTS = ("coh-kora-ke-arabic-reviewers", "coh-tessera-ph-qa-leads", "coh-vantage-co-quality-leads")


def as_csv_writes(row: Iterable[object]) -> list[object]:
    """A spreadsheet row as the CSV spells it: its booleans True and False, as text."""
    return cells(str(value) if isinstance(value, bool) else value for value in row)


def sheet_of(data: bytes) -> tuple[list[str], list[tuple[object, ...]], list[list[str]]]:
    """The worksheet names, the rows, and each row's cell types (n number, s text, b boolean)."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    rows = [row for sheet in book.worksheets for row in sheet.iter_rows()]
    values = [tuple(c.value for c in row) for row in rows]
    return book.sheetnames, values, [[c.data_type for c in row] for row in rows]


def test_scorecard_xlsx_holds_the_csvs_rows_and_columns(loaded: Path, tmp_path: Path) -> None:
    table, sheet = tmp_path / "scorecards.csv", tmp_path / "scorecards.xlsx"
    done = run("scorecard", "--limit", "0", "--csv", str(table), "--xlsx", str(sheet), data_dir=loaded)
    assert done.returncode == 0, done.stderr
    assert f"wrote 14 scorecards to {table} and {sheet}" in done.stdout
    with open(table, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    names, values, types = sheet_of(sheet.read_bytes())
    assert names == ["scorecards"] and len(values) == 1 + 14 * 5
    assert [as_csv_writes(row) for row in values] == [cells(row) for row in rows]
    header = rows[0]
    kora = [row for row in values if row[0] == "org-kora"]
    assert {row[header.index("principle")]: row[header.index("basic")] for row in kora}["fair_pay"] is True
    first = types[1]
    assert first[header.index("points")] == "n" and first[header.index("basic")] == "b"
    assert first[header.index("organization_name")] == "s"
    # Small cohorts stay suppressed, as in the CSV; an admin sees them.
    assert not [c for row in values for c in row if any(small in str(c) for small in SMALL_COHORTS)]
    admin = tmp_path / "admin.xlsx"
    assert run("scorecard", "org-kora", "--xlsx", str(admin), "--show-small", data_dir=loaded).returncode == 0
    assert "coh-kora-ke-arabic-reviewers" in str(sheet_of(admin.read_bytes())[1])


def test_scorecard_xlsx_cells_cannot_run_as_formulas(tmp_path: Path) -> None:
    from laborgraph.app.routes import examples
    from laborgraph.graph.analysis.scorecards import Scorecard
    from laborgraph.visualize.export import write_scorecards_xlsx

    card = Scorecard.model_validate({**examples.SCORECARD, "organization_name": '=HYPERLINK("x")'})
    assert write_scorecards_xlsx([card], tmp_path / "s.xlsx") == 1
    _, values, types = sheet_of((tmp_path / "s.xlsx").read_bytes())
    assert {row[1] for row in values[1:]} == {'\'=HYPERLINK("x")'} and {t[1] for t in types[1:]} == {"s"}


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import EXAMPLE_BUNDLE
    from tests.test_reviews import SECOND_REVIEW

    data_dir = tmp_path_factory.mktemp("changes-xlsx")
    for bundle in (EXAMPLE_BUNDLE, SECOND_REVIEW):
        assert run("ingest", str(bundle), data_dir=data_dir).returncode == 0
    return data_dir


def test_changes_xlsx_holds_the_csvs_rows_and_columns(reviewed: Path, tmp_path: Path) -> None:
    table, sheet = tmp_path / "changes.csv", tmp_path / "changes.xlsx"
    done = run("changes", "--csv", str(table), "--xlsx", str(sheet), data_dir=reviewed)
    assert done.returncode == 0, done.stderr
    with open(table, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert f"wrote {len(rows) - 1} changes to {table} and {sheet}" in done.stdout
    names, values, types = sheet_of(sheet.read_bytes())
    assert names == ["changes"] and len(rows) > 2
    assert [cells(row) for row in values] == [cells(row) for row in rows]
    header = rows[0]
    assert values[1][header.index("change")] == "worse"  # worst news first, as in the CSV
    assert {t[header.index("to_revision")] for t in types[1:]} == {"n"}
    assert not [c for row in values for c in row if any(small in str(c) for small in SMALL_COHORTS)]
    failed = run("changes", "--to", "9", "--xlsx", str(tmp_path / "none.xlsx"), data_dir=reviewed)
    assert failed.returncode == 1 and not (tmp_path / "none.xlsx").exists()


def test_the_api_sends_scorecards_and_changes_as_spreadsheets(loaded: Path, reviewed: Path) -> None:
    with TestClient(create_app(make_settings("embedded", loaded, data_dir=loaded))) as client:
        sheet = client.get("/api/v1/scorecards.xlsx", params={"limit": 3})
        table = client.get("/api/v1/scorecards.csv", params={"limit": 3})
    assert sheet.status_code == 200, sheet.text
    assert 'filename="laborgraph-scorecards.xlsx"' in sheet.headers["content-disposition"]
    assert sheet.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(csv.reader(io.StringIO(table.text)))
    assert len(rows) == 1 + 3 * 5
    assert [as_csv_writes(row) for row in sheet_of(sheet.content)[1]] == [cells(row) for row in rows]
    with TestClient(create_app(make_settings("embedded", reviewed, data_dir=reviewed))) as client:
        sheet = client.get("/api/v1/changes.xlsx")
        table = client.get("/api/v1/changes.csv")
        missing = client.get("/api/v1/changes.xlsx", params={"to": 9})
        missing_csv = client.get("/api/v1/changes.csv", params={"to": 9})
    assert (
        sheet.status_code == 200
        and 'filename="laborgraph-changes.xlsx"' in sheet.headers["content-disposition"]
    )
    assert [cells(row) for row in sheet_of(sheet.content)[1]] == [
        cells(row) for row in csv.reader(io.StringIO(table.text))
    ]
    assert missing.status_code == missing_csv.status_code == 422  # an unknown revision, as for the CSV

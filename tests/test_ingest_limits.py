"""Hostile or broken bundles: bounded memory, bounded answers, clear rejections, never a traceback."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from laborgraph.app.main import create_app
from laborgraph.graph.errors import InvalidBundle
from laborgraph.graph.store import GraphStore
from laborgraph.ingest.load import ingest_path, ingest_raw
from laborgraph.ingest.readers import read_bundle, read_json, read_zip
from laborgraph.ingest.validate import MAX_ISSUES, NoGraph, validate_bundle
from tests.conftest import EXAMPLE_BUNDLE
from tests.test_api import API, make_settings, zip_folder
from tests.test_api_server import base_url  # noqa: F401 (a fixture: a real uvicorn)

ROOT = Path(__file__).resolve().parents[1]
HEADER = b"id,name,kinds,country\n"


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def errors_of(content: bytes, name: str = "bundle.zip") -> list[str]:
    reader = read_zip if content.startswith(b"PK") else read_json
    return [str(e) for e in validate_bundle(reader(content, name), NoGraph()).errors]


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small files that unpack or parse into millions of bad rows (issue 17.2)."""
    folder = tmp_path_factory.mktemp("bombs")
    (folder / "bad-rows.zip").write_bytes(zip_of({"organizations.csv": HEADER + b"a\n" * 8_000_000}))
    duplicates = zip_of({"organizations.csv": HEADER + b"org-a,A,buyer,US\n" * 6_000_000})
    (folder / "duplicates.zip").write_bytes(duplicates)
    (folder / "blank-lines.zip").write_bytes(zip_of({"organizations.csv": HEADER + b"\n" * 200_000_000}))
    items = b'{"organizations": [' + b",".join([b"1"] * 5_000_000) + b"]}"
    (folder / "bad-items.json").write_bytes(items)
    return folder


@pytest.mark.parametrize("bomb", ["bad-rows.zip", "duplicates.zip", "blank-lines.zip", "bad-items.json"])
def test_the_cli_rejects_a_bomb_in_bounded_memory(bombs: Path, bomb: str, tmp_path: Path) -> None:
    """Peak memory of the whole `laborgraph ingest` process stays far below 500 MB."""
    measure = (
        "import resource, subprocess, sys;"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);"
        "print(done.stderr)"
    )
    command = [
        sys.executable,
        "-c",
        measure,
        sys.executable,
        "-m",
        "laborgraph.app.cli",
        "ingest",
        str(bombs / bomb),
    ]
    environment = {**os.environ, "LABORGRAPH_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=120, cwd=ROOT)
    status, peak_kb = result.stdout.split("\n", 1)[0].split()
    stderr = result.stdout.split("\n", 1)[1]
    assert status == "1" and "Traceback" not in stderr and "nothing was written" in stderr
    assert int(peak_kb) < 300 * 1024, f"peak {int(peak_kb) // 1024} MB"


def test_errors_stop_at_the_cap_and_say_so() -> None:
    errors = errors_of(zip_of({"organizations.csv": HEADER + b"a\n" * 5000}))
    assert len(errors) == MAX_ISSUES + 1
    assert errors[0] == "organizations.csv, row 2: has 1 cells but the header has 4"
    assert (
        errors[-1] == "bundle: stopped after the first 1,000 errors; the rest of the bundle was not checked"
    )


def test_warnings_past_the_cap_are_counted() -> None:
    orgs = [
        {"id": f"{p}-{n}", "name": "X", "kinds": "buyer", "country": "US"} for n in range(1500) for p in "oO"
    ]
    checked = validate_bundle(read_json(json.dumps({"organizations": orgs}).encode()), NoGraph())
    assert not checked.errors and len(checked.warnings) == MAX_ISSUES + 1
    assert str(checked.warnings[-1]) == "bundle: and 500 more warnings"


def test_a_rejected_upload_is_a_bounded_answer(tmp_path: Path) -> None:
    """A 16 KB zip of 8M bad rows (before: a 500 after a minute at 7.7 GB) is a small 422."""
    bomb = zip_of({"organizations.csv": HEADER + b"a\n" * 8_000_000})
    assert len(bomb) < 20_000
    with TestClient(create_app(make_settings("embedded", tmp_path))) as client:
        response = client.post(f"{API}/bundles", content=bomb, headers={"content-type": "application/zip"})
    assert response.status_code == 422 and len(response.content) < 200_000
    assert response.json()["errors"][-1]["message"].startswith("stopped after the first 1,000 errors")


def test_the_api_limits_rows_and_unpacked_size(tmp_path: Path) -> None:
    bundle = zip_folder(EXAMPLE_BUNDLE)  # 252 rows
    tight = make_settings("embedded", tmp_path, max_rows=200, max_unpacked_mb=1)
    with TestClient(create_app(tight)) as client:
        too_many = client.post(f"{API}/bundles", content=bundle, headers={"content-type": "application/zip"})
        big = zip_of({"organizations.csv": HEADER + b" " * 2_000_000})
        too_big = client.post(f"{API}/bundles", content=big, headers={"content-type": "application/zip"})
    assert too_many.status_code == 422
    assert "more than 200 rows, the limit (LABORGRAPH_MAX_ROWS)" in too_many.json()["errors"][0]["message"]
    assert "more than 1 MB of CSV or JSON once unpacked" in too_big.json()["errors"][0]["message"]
    assert make_settings("embedded", tmp_path).bundle_limits("api").max_rows == 250_000
    assert make_settings("embedded", tmp_path).bundle_limits("cli").max_rows == 10_000_000


def test_the_cli_honours_the_row_limit(tmp_path: Path) -> None:
    environment = {**os.environ, "LABORGRAPH_DATA_DIR": str(tmp_path / "data"), "LABORGRAPH_MAX_ROWS": "100"}
    result = subprocess.run(
        [sys.executable, "-m", "laborgraph.app.cli", "ingest", str(EXAMPLE_BUNDLE)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
    )
    assert (
        result.returncode == 1 and "more than 100 rows" in result.stderr and "Traceback" not in result.stderr
    )


def test_a_refused_upload_is_not_read_to_the_end(base_url: str) -> None:  # noqa: F811
    """After a 401 the server closes the connection instead of reading a declared gigabyte."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=3) as connection:  # keep-alive waits 5 s
        head = (
            f"POST {API}/bundles HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/zip\r\n"
            "Content-Length: 1073741824\r\n\r\n"
        )
        connection.sendall(head.encode() + b"\0" * 65536)
        answer = b""
        try:
            while chunk := connection.recv(65536):  # ends when the server closes; a timeout fails
                answer += chunk
        except ConnectionResetError:  # closed with the unread body still in its buffer
            pass
    assert answer.startswith(b"HTTP/1.1 401") and b"connection: close" in answer.lower()


def test_deep_nesting_is_a_clear_rejection(store: GraphStore) -> None:
    for document in (
        b'{"organizations": [{"id": "o1", "extra": ' + b"[" * 2000 + b"]" * 2000 + b"}]}",
        b'{"organizations": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ):
        with pytest.raises(InvalidBundle) as caught:
            ingest_raw(store, read_json(document))
        (issue,) = caught.value.errors
        assert (issue.file, issue.row) == ("bundle.json organizations", 1)
        assert issue.message.startswith("not valid JSON: nested too deeply")


def test_errors_quote_long_values_cut_short() -> None:
    long = "x" * 100_000
    rows = [
        {"id": "o1", "name": long, "kinds": "buyer", "country": "US"},
        {"id": "o2", "name": "B", "kinds": long, "country": "US"},
        {"id": "o3", "name": "C", "kinds": "buyer", "country": long},
        {"id": long, "name": "D", "kinds": "buyer", "country": "US"},
    ]
    links = [{"from_id": "o1", "to_id": "o2", "type": "CONTRACTS", "project": long}] * 2
    errors = errors_of(json.dumps({"organizations": rows, "links": links}).encode(), "b.json")
    assert all(len(e) < 300 for e in errors), max(errors, key=len)[:400]
    cut_short = [e for e in errors if "… (100,000 characters)" in e]
    assert [e.split(":")[0] for e in cut_short] == [
        "b.json organizations, row 1, column 'name'",
        "b.json organizations, row 2, column 'kinds'",
        "b.json organizations, row 3, column 'country'",
        "b.json organizations, row 4, column 'id'",
        "b.json links, row 2",  # the duplicate link, named by its project
    ]


def test_ambiguous_zips_are_rejected_naming_the_members() -> None:
    header = b"id,name,kinds,country\norg-a,A,buyer,US\n"
    two_cases = errors_of(zip_of({"organizations.csv": header, "organizations.CSV": header}))
    assert two_cases == [
        "organizations.csv: 2 files would be this section (organizations.csv, organizations.CSV); keep one"
    ]
    two_folders = errors_of(zip_of({"a/organizations.csv": header, "b/organizations.csv": header}))
    assert two_folders == ["bundle.zip: holds more than one bundle folder (a/, b/); zip one bundle at a time"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("organizations.csv", header)
        archive.writestr("organizations.csv", header)
    assert errors_of(buffer.getvalue()) == [
        "organizations.csv: 2 files would be this section (organizations.csv, organizations.csv); keep one"
    ]


def test_an_ambiguous_folder_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "organizations.csv").write_bytes(b"id,name,kinds,country\n")
    (tmp_path / "organizations.CSV").write_bytes(b"id,name,kinds,country\n")
    if len(list(tmp_path.iterdir())) < 2:
        pytest.skip("this filesystem folds case: the two names are one file")
    errors = [str(e) for e in validate_bundle(read_bundle(tmp_path), NoGraph()).errors]
    assert errors == [
        "organizations.csv: 2 files would be this section (organizations.CSV, organizations.csv); keep one"
    ]


def test_rows_are_numbered_as_a_spreadsheet_shows_them() -> None:
    """A quoted cell spanning lines is one row; the row after it is row 3, not line 5."""
    csv = HEADER + b'org-a,"Alpha\nAnd\nSons",buyer,US\norg-b,B,buyer,XX\n'
    assert errors_of(zip_of({"organizations.csv": csv})) == [
        "organizations.csv, row 3, column 'country': 'XX' is not an ISO 3166-1 alpha-2 country code"
    ]


def test_ids_differing_only_in_case_are_warned_about(store: GraphStore, tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "organizations.csv").write_text(
        "id,name,kinds,country\norg-nimbus,Nimbus,vendor,KE\nORG-NIMBUS,Nimbus,vendor,KE\n"
    )
    (folder / "links.csv").write_text("from_id,to_id,type\norg-nimbus,Org-Nimbus,SUBCONTRACTS\n")
    with pytest.raises(InvalidBundle) as caught:
        ingest_path(store, folder)
    assert [str(w) for w in caught.value.warnings] == [
        "organizations.csv, row 3, column 'id': 'ORG-NIMBUS' differs only in case from 'org-nimbus' "
        "(organizations.csv row 2); ids are case-sensitive, so these are two entities"
    ]
    assert [str(e) for e in caught.value.errors] == [
        "links.csv, row 2, column 'to_id': 'Org-Nimbus' is neither in the bundle nor in the graph "
        "(the bundle has 'ORG-NIMBUS': ids are case-sensitive)"
    ]


@pytest.mark.parametrize(
    ("section", "row", "column"),
    [
        ("cohorts", {"id": "c1", "name": "C", "country": "KE", "headcount": 10**29}, "headcount"),
        (
            "cohorts",
            {"id": "c1", "name": "C", "country": "KE", "headcount": "100000000000000000000"},
            "headcount",
        ),
        ("conditions", {"cohort_id": "c0", "dimension": "pay", "value": 1e300, "benchmark": 2}, "value"),
        ("conditions", {"cohort_id": "c0", "dimension": "pay", "value": 1, "benchmark": -2}, "benchmark"),
    ],
)
def test_numbers_out_of_a_plausible_range_are_rejected(
    section: str, row: dict[str, object], column: str
) -> None:
    document = {
        "organizations": [],
        "cohorts": [{"id": "c0", "name": "C0", "country": "KE"}],
        section: [row] if section == "conditions" else [{"id": "c0", "name": "C0", "country": "KE"}, row],
    }
    (issue,) = validate_bundle(read_json(json.dumps(document).encode()), NoGraph()).errors
    assert issue.column == column and "is out of range: expected 0 to" in issue.message


def test_a_json_key_or_section_given_twice_is_an_error() -> None:
    twice_in_item = (
        b'{"organizations": [{"id": "o1", "name": "A", "name": "B", "kinds": "buyer", "country": "US"}]}'
    )
    assert errors_of(twice_in_item, "b.json") == [
        "b.json organizations, row 1, column 'name': the key is given twice in this object; keep one"
    ]
    twice = b'{"organizations": [], "organizations": []}'
    assert errors_of(twice, "b.json") == [
        "b.json, column 'organizations': the section is given twice; keep one"
    ]

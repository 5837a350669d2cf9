"""Read a bundle (CSV folder, zipped folder, or one JSON document) into located raw rows.

Readers only parse: they keep every cell as given, with the file and row it came from, so
validation can report each problem precisely. Nothing here knows what a valid value is.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from graph.errors import BundleIssue

SECTIONS = ("organizations", "units", "cohorts", "conditions", "decisions", "sources", "links")
Cell = str | int | float | bool | list[object] | dict[str, object] | None


@dataclass(frozen=True)
class RawRow:
    file: str
    row: int  # CSV: the row number a spreadsheet shows (header = 1); JSON: 1-based array index
    cells: dict[str, Cell]


@dataclass
class RawBundle:
    rows: dict[str, list[RawRow]] = field(default_factory=lambda: {s: [] for s in SECTIONS})
    columns: dict[str, list[str]] = field(default_factory=dict)  # header of each section read
    issues: list[BundleIssue] = field(default_factory=list)  # problems found while reading
    notes: list[BundleIssue] = field(default_factory=list)  # harmless: ignored files

    def row_count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


def read_bundle(path: Path) -> RawBundle:
    """Read whatever form the bundle at ``path`` takes."""
    path = Path(path)
    if path.is_dir():
        files = {p.name: p.read_bytes for p in sorted(path.iterdir()) if p.is_file()}
        return _read_csv_files(files.items())
    if not path.exists():
        return _failed(str(path), "no such file or folder")
    if zipfile.is_zipfile(path):
        return read_zip(path.read_bytes(), path.name)
    if path.suffix.lower() == ".json":
        return read_json(path.read_bytes(), path.name)
    return _failed(path.name, "not a bundle: expected a folder of CSV files, a .zip or a .json file")


def read_zip(content: bytes, name: str = "bundle.zip") -> RawBundle:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
        return _failed(name, f"not a readable zip file: {exc}")
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir() and "__MACOSX" not in m.filename]
        csvs = [m for m in members if m.filename.lower().endswith(".csv")]
        if not csvs:
            return _failed(name, "the zip holds no CSV files")
        # The bundle is the folder that holds organizations.csv (zips often wrap one folder).
        top = min(
            (PurePosixPath(m.filename).parent for m in csvs if m.filename.endswith("organizations.csv")),
            key=lambda p: len(p.parts),
            default=PurePosixPath("."),
        )
        files = {
            PurePosixPath(m.filename).name: (lambda m=m: archive.read(m))
            for m in csvs
            if PurePosixPath(m.filename).parent == top
        }
        return _read_csv_files(files.items())


def read_json(content: bytes, name: str = "bundle.json") -> RawBundle:
    bundle = RawBundle()
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return _failed(name, f"not valid UTF-8 JSON: {exc}")
    if not isinstance(document, dict):
        return _failed(name, "expected a JSON object with one array per section")
    for key, value in document.items():
        if key not in SECTIONS:
            bundle.notes.append(
                BundleIssue(file=name, message=f"section {key!r} is not part of the bundle format; ignored")
            )
            continue
        if not isinstance(value, list):
            bundle.issues.append(
                BundleIssue(file=name, column=key, message="section must be an array of objects")
            )
            continue
        columns: dict[str, None] = {}
        for index, item in enumerate(value, start=1):
            where = f"{name} {key}"
            if not isinstance(item, dict):
                bundle.issues.append(BundleIssue(file=where, row=index, message="expected an object"))
                continue
            columns.update(dict.fromkeys(item))
            bundle.rows[key].append(RawRow(where, index, item))
        if columns:  # an empty section has no columns to check
            bundle.columns[key] = list(columns)
    if "organizations" not in document:
        bundle.issues.append(
            BundleIssue(file=name, message="the required section 'organizations' is missing")
        )
    return bundle


def _read_csv_files(files: Iterable[tuple[str, object]]) -> RawBundle:
    bundle = RawBundle()
    seen = set()
    for filename, read in files:
        if not filename.lower().endswith(".csv"):
            continue
        section = filename[:-4]
        if section not in SECTIONS:
            bundle.notes.append(BundleIssue(file=filename, message="not a bundle file name; ignored"))
            continue
        seen.add(section)
        _read_csv(filename, read(), section, bundle)  # type: ignore[operator]
    if "organizations" not in seen:
        bundle.issues.append(BundleIssue(file="organizations.csv", message="required file is missing"))
    return bundle


def _read_csv(filename: str, content: bytes, section: str, bundle: RawBundle) -> None:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bundle.issues.append(BundleIssue(file=filename, message=f"not UTF-8 (byte {exc.start})"))
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader, [])]
        if not any(header):
            bundle.issues.append(BundleIssue(file=filename, row=1, message="header row is missing"))
            return
        duplicated = sorted({h for h in header if header.count(h) > 1})
        if duplicated:
            bundle.issues.append(
                BundleIssue(file=filename, row=1, message=f"duplicated columns: {', '.join(duplicated)}")
            )
            return
        bundle.columns[section] = header
        start = reader.line_num + 1
        for record in reader:
            number, start = start, reader.line_num + 1  # a quoted cell may span lines
            if not any(cell.strip() for cell in record):
                continue  # blank line
            if len(record) != len(header):
                bundle.issues.append(
                    BundleIssue(
                        file=filename,
                        row=number,
                        message=f"has {len(record)} cells but the header has {len(header)}",
                    )
                )
                continue
            bundle.rows[section].append(RawRow(filename, number, dict(zip(header, record, strict=True))))
    except csv.Error as exc:
        bundle.issues.append(BundleIssue(file=filename, row=reader.line_num, message=f"malformed CSV: {exc}"))


def _failed(name: str, message: str) -> RawBundle:
    bundle = RawBundle()
    bundle.issues.append(BundleIssue(file=name, message=message))
    return bundle

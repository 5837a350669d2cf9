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
        csvs = [p for p in sorted(path.iterdir()) if p.is_file() and p.suffix.lower() == ".csv"]
        return _read_csv_files((p.name, p.read_bytes()) for p in csvs)
    if not path.exists():
        return _failed(str(path), "no such file or folder")
    if zipfile.is_zipfile(path):
        return read_zip(path.read_bytes(), path.name)
    if path.suffix.lower() == ".json":
        return read_json(path.read_bytes(), path.name)
    return _failed(path.name, "not a bundle: expected a folder of CSV files, a .zip or a .json file")


def read_zip(content: bytes, name: str = "bundle.zip", max_unpacked: int | None = None) -> RawBundle:
    """A zipped bundle folder; ``max_unpacked`` bounds the bytes it may unpack to (zip bombs)."""
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
        chosen = [m for m in csvs if PurePosixPath(m.filename).parent == top]
        ignored = [
            BundleIssue(file=m.filename, message="outside the bundle folder in the zip; ignored")
            for m in csvs
            if m not in chosen
        ]
        try:
            unpacked = _unpack(archive, chosen, max_unpacked)
        except _TooBig as exc:
            return _failed(name, str(exc))
        except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
            return _failed(name, f"cannot unpack: {exc}")
        bundle = _read_csv_files(unpacked.items())
        bundle.notes[:0] = ignored
        return bundle


class _TooBig(Exception):
    pass


def _unpack(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], limit: int | None) -> dict[str, bytes]:
    """The members' bytes, refusing to unpack past ``limit`` whatever the headers claim."""
    unpacked: dict[str, bytes] = {}
    total = 0
    for member in members:
        with archive.open(member) as handle:
            data = handle.read() if limit is None else handle.read(limit - total + 1)
        total += len(data)
        if limit is not None and total > limit:
            raise _TooBig(
                f"unpacks to more than {limit / 2**20:g} MB; split the bundle or load it with the CLI"
            )
        unpacked[PurePosixPath(member.filename).name] = data
    return unpacked


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


def _read_csv_files(files: Iterable[tuple[str, bytes]]) -> RawBundle:
    bundle = RawBundle()
    seen = set()
    for filename, content in files:
        if not filename.lower().endswith(".csv"):
            continue
        section = filename[:-4]
        if section not in SECTIONS:
            bundle.notes.append(BundleIssue(file=filename, message="not a bundle file name; ignored"))
            continue
        seen.add(section)
        _read_csv(filename, content, section, bundle)
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

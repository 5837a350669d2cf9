"""Read a bundle (CSV folder, zipped folder, or one JSON document) as it is validated.

Nothing here knows what a valid value is; it finds the bundle's files, refuses ambiguous or
oversized ones, and reads CSV rows with the row number a spreadsheet shows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Callable, Generator, Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from laborgraph.graph.errors import BundleIssue
from laborgraph.ingest.json_reader import json_parts
from laborgraph.ingest.limits import Budget, ReadingStopped, ReadLimits
from laborgraph.ingest.quote import cut, names
from laborgraph.ingest.raw import (
    SECTIONS,
    BundleParts,
    Note,
    Part,
    RawBundle,
    RawRow,
    RawSection,
    StreamedBundle,
)

__all__ = ["SECTIONS", "BundleParts", "RawBundle", "RawRow", "read_bundle", "read_json", "read_zip"]
MAX_ZIP_MEMBERS = 1000  # a bundle is a handful of files; more is not a bundle


def read_bundle(path: Path, limits: ReadLimits | None = None) -> BundleParts:
    """Whatever form the bundle at ``path`` takes, read within ``limits``."""
    path, limits = Path(path), limits or ReadLimits()
    if path.is_dir():
        return StreamedBundle(lambda: _folder_parts(path, Budget(limits, path.name)), lambda: _lines(path))
    if not path.exists():
        return _failed(str(path), "no such file or folder")
    if not path.is_file():  # a device or a pipe (/dev/zero) would be read without end
        return _failed(str(path), "not a bundle: not a regular file or folder")
    if zipfile.is_zipfile(path):
        return StreamedBundle(lambda: _zip_parts(path, path.name, Budget(limits, path.name)))
    if path.suffix.lower() == ".json":
        return StreamedBundle(lambda: _json_file_parts(path, Budget(limits, path.name)))
    return _failed(path.name, "not a bundle: expected a folder of CSV files, a .zip or a .json file")


def bundle_digest(path: Path) -> str:
    """The sha256 of a bundle file, or of a folder's CSV files (each name and its sha256, by name)."""
    path = Path(path)
    if path.is_file():
        return _sha256(path)
    if not path.is_dir():
        return ""
    folder = hashlib.sha256()
    for file in _csv_files(path):
        folder.update(f"{file.name}\0{_sha256(file)}\n".encode())
    return folder.hexdigest()


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_zip(content: bytes, name: str = "bundle.zip", limits: ReadLimits | None = None) -> BundleParts:
    """A zipped bundle folder, unpacked no further than ``limits`` allow (zip bombs)."""
    name = cut(name)
    return StreamedBundle(lambda: _zip_parts(content, name, Budget(limits or ReadLimits(), name)))


def read_json(content: bytes, name: str = "bundle.json", limits: ReadLimits | None = None) -> BundleParts:
    """One JSON document with an array of objects per section."""
    name = cut(name)
    return StreamedBundle(lambda: json_parts(content, name, Budget(limits or ReadLimits(), name)))


def _json_file_parts(path: Path, budget: Budget) -> Iterator[Part]:
    budget.declared(path.stat().st_size)  # before reading it whole
    yield from json_parts(path.read_bytes(), path.name, budget)


# -- CSV folders and zips ----------------------------------------------------------------

Opener = Callable[[], BinaryIO]
UNPACK_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError)


def _folder_parts(folder: Path, budget: Budget) -> Iterator[Part]:
    found = [(p.name, p.name, p.stat().st_size, _opener(p)) for p in _csv_files(folder)]
    yield from _csv_bundle(found, budget)


def _csv_files(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() == ".csv"]


def _lines(folder: Path) -> int:
    """The lines of a folder's CSV files past their headers: its rows, but for a cell that
    holds a line break (a tenth of a second for a million-link bundle)."""
    lines = 0
    for file in _csv_files(folder):
        with file.open("rb") as handle:
            lines += sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1
    return max(lines, 0)


def _opener(path: Path) -> Opener:
    return lambda: path.open("rb")


def _zip_parts(source: Path | bytes, name: str, budget: Budget) -> Iterator[Part]:
    try:
        archive = zipfile.ZipFile(source if isinstance(source, Path) else io.BytesIO(source))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        yield BundleIssue(file=name, message=f"not a readable zip file: {exc}")
        return
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir() and "__MACOSX" not in m.filename]
        if len(members) > MAX_ZIP_MEMBERS:
            yield BundleIssue(file=name, message=f"holds {len(members):,} files; a bundle is a few CSV files")
            return
        csvs = [m for m in members if m.filename.lower().endswith(".csv")]
        if not csvs:
            yield BundleIssue(file=name, message="the zip holds no CSV files")
            return
        # The bundle is the folder that holds organizations.csv (zips often wrap one folder).
        folders = sorted(
            {str(PurePosixPath(m.filename).parent) for m in csvs if _base(m.filename) == "organizations.csv"}
        )
        if len(folders) > 1:
            shown = names([f"{folder}/" for folder in folders])
            yield BundleIssue(
                file=name, message=f"holds more than one bundle folder ({shown}); zip one bundle at a time"
            )
            return
        top = folders[0] if folders else "."
        chosen = [m for m in csvs if str(PurePosixPath(m.filename).parent) == top]
        for member in csvs:
            if member not in chosen:
                yield Note(
                    BundleIssue(
                        file=cut(member.filename), message="outside the bundle folder in the zip; ignored"
                    )
                )
        found = [
            (cut(m.filename), PurePosixPath(m.filename).name, m.file_size, _member_opener(archive, m))
            for m in chosen
        ]
        yield from _csv_bundle(found, budget)


def _member_opener(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> Opener:
    return lambda: archive.open(member)  # type: ignore[return-value]


def _base(filename: str) -> str:
    return PurePosixPath(filename).name.lower()


def _csv_bundle(found: list[tuple[str, str, int, Opener]], budget: Budget) -> Iterator[Part]:
    """The sections of a bundle's CSV files: (shown name, base name, declared size, opener) each."""
    by_section: dict[str, list[tuple[str, str, int, Opener]]] = defaultdict(list)
    for entry in found:
        by_section[entry[1].lower()[:-4]].append(entry)
    for section, entries in sorted(by_section.items()):
        if section not in SECTIONS:
            for shown, *_ in entries:
                yield Note(BundleIssue(file=shown, message="not a bundle file name; ignored"))
    ambiguous = [
        entries for section, entries in by_section.items() if section in SECTIONS and len(entries) > 1
    ]
    for entries in ambiguous:
        shown = names([entry[0] for entry in entries])
        message = f"{len(entries)} files would be this section ({shown}); keep one"
        yield BundleIssue(file=entries[0][1].lower(), message=message)
    if ambiguous:
        return
    if "organizations" not in by_section:
        yield BundleIssue(file="organizations.csv", message="required file is missing")
    try:
        budget.declared(sum(size for entries in by_section.values() for _, _, size, _ in entries))
        for section in SECTIONS:
            for _, base, _, opener in by_section.get(section, []):
                yield from _csv_section(base, section, opener, budget)
    except UNPACK_ERRORS as exc:
        raise ReadingStopped(BundleIssue(file=budget.name, message=f"cannot unpack: {exc}")) from None


def _csv_section(filename: str, section: str, opener: Opener, budget: Budget) -> Iterator[Part]:
    with opener() as binary:
        text = io.TextIOWrapper(budget.counted(binary), encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        try:
            header = [h.strip() for h in next(reader, [])]
        except UnicodeDecodeError:
            yield BundleIssue(file=filename, message="not UTF-8 text")
            return
        except csv.Error as exc:
            yield BundleIssue(file=filename, row=1, message=f"malformed CSV: {exc}")
            return
        if not any(header):
            yield BundleIssue(file=filename, row=1, message="header row is missing")
            return
        duplicated = sorted({h for h in header if header.count(h) > 1})
        if duplicated:
            yield BundleIssue(file=filename, row=1, message=f"duplicated columns: {names(duplicated)}")
            return
        rows = _csv_rows(filename, reader, header, budget)
        yield RawSection(section, filename, header, rows)
        rows.close()


def _csv_rows(
    filename: str, reader: Iterator[list[str]], header: list[str], budget: Budget
) -> Generator[RawRow | BundleIssue, None, None]:
    row = 1  # as a spreadsheet numbers them: a record is a row, however many lines its cells span
    try:
        for record in reader:
            row += 1
            budget.row()  # a blank line too: a zip of nothing but line breaks is no bundle either
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                message = f"has {len(record)} cells but the header has {len(header)}"
                yield BundleIssue(file=filename, row=row, message=message)
                continue
            yield RawRow(filename, row, dict(zip(header, record, strict=True)))
    except csv.Error as exc:
        line = reader.line_num  # type: ignore[attr-defined]
        yield BundleIssue(
            file=filename, row=row + 1, message=f"malformed CSV (line {line} of the file): {exc}"
        )
    except UnicodeDecodeError:
        yield BundleIssue(file=filename, message=f"not UTF-8 text: a byte after row {row} cannot be read")
    except UNPACK_ERRORS as exc:
        raise ReadingStopped(BundleIssue(file=budget.name, message=f"cannot unpack: {exc}")) from None


def _failed(name: str, message: str) -> RawBundle:
    return RawBundle(issues=[BundleIssue(file=cut(name), message=message)])

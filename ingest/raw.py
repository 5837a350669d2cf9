"""A bundle as readers hand it to validation: located raw rows, in sections, once through.

Readers only parse: they keep every cell as given, with the file and row it came from, so
validation can report each problem precisely. A bundle read from a file is never held whole
in memory: ``parts()`` yields its sections one by one, each with rows read as they are asked
for, so validation can stop at its error cap and a bundle costs memory for the records it
keeps, not for its text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from laborgraph.graph.errors import BundleIssue

SECTIONS = (
    "organizations", "units", "cohorts", "conditions", "decisions", "sources", "benchmarks", "actions",
    "links",
    "retractions",
)  # fmt: skip
Cell = str | int | float | bool | list[object] | dict[str, object] | None


@dataclass(frozen=True, slots=True)
class RawRow:
    file: str
    row: int  # CSV: the row a spreadsheet shows (header = 1, a multi-line cell is one row); JSON: array index
    cells: dict[str, Cell]


@dataclass(frozen=True, slots=True)
class Where:
    """Where a record came from: enough to name it in an error, without its cells."""

    file: str
    row: int


@dataclass(frozen=True)
class Note:
    """Something harmless a reader saw (an ignored file): a warning, never an error."""

    issue: BundleIssue


@dataclass(frozen=True)
class RawSection:
    name: str  # one of SECTIONS
    file: str  # where its rows come from, for messages about the section as a whole
    columns: list[str] | None  # a CSV header; None for JSON, whose items bring their own keys
    rows: Iterable[RawRow | BundleIssue]  # a row that cannot be read comes as its issue


Part = RawSection | BundleIssue | Note


class BundleParts(Protocol):
    """A bundle as validation reads it: its parts once through, in order."""

    def parts(self) -> Iterator[Part]: ...

    def row_count(self) -> int | None: ...


@dataclass
class RawBundle:
    """A bundle whose rows are already in memory (generated, or built by a test)."""

    rows: dict[str, list[RawRow]] = field(default_factory=lambda: {s: [] for s in SECTIONS})
    columns: dict[str, list[str]] = field(default_factory=dict)  # header of each section read
    issues: list[BundleIssue] = field(default_factory=list)
    notes: list[BundleIssue] = field(default_factory=list)

    def row_count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    def parts(self) -> Iterator[Part]:
        yield from (Note(note) for note in self.notes)
        yield from self.issues
        for section in SECTIONS:
            rows = self.rows.get(section, [])
            if section in self.columns or rows:
                file = rows[0].file if rows else f"{section}.csv"
                yield RawSection(section, file, self.columns.get(section), rows)


class StreamedBundle:
    """A bundle read from its bytes as validation asks for its rows; each ``parts()`` reads anew."""

    def __init__(
        self, parts: Callable[[], Iterator[Part]], rows: Callable[[], int | None] = lambda: None
    ) -> None:
        """``rows`` says about how many rows ``parts`` will give, before they are read."""
        self._parts = parts
        self._rows = rows

    def parts(self) -> Iterator[Part]:
        return self._parts()

    def row_count(self) -> int | None:
        """About how many rows (a progress bar's total), or None where it takes reading them."""
        return self._rows()

"""Exports of risk paths behind one interface: ``write()`` each path, then ``finalize()``;
and of scorecards, one row per organization and principle.

CSV cells are made safe for spreadsheets: text that a spreadsheet would read as a formula
(starting with =, +, -, @, a tab or a carriage return) is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Protocol, TextIO

from laborgraph.graph.analysis.paths import Hop, RiskPath
from laborgraph.graph.analysis.scorecards import PrincipleScore, Scorecard

CSV_COLUMNS = [
    "rank", "severity", "likelihood", "confidence", "score", "buyer_id", "buyer_name", "unit_id",
    "unit_name", "decision_id", "lever", "project", "tier", "chain", "cohort_id", "cohort_name",
    "country", "headcount", "dimension", "status", "evidence", "explanation",
]  # fmt: skip
SCORECARD_COLUMNS = [
    "organization_id", "organization_name", "points", "review_day", "principle", "title", "basic",
    "advanced", "rests_on", "rests_on_total", "sources", "missing", "missing_total",
]  # fmt: skip
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class PathExporter(Protocol):
    def write(self, path: RiskPath) -> None: ...

    def finalize(self) -> None: ...


def safe_cell(value: object) -> object:
    """A cell a spreadsheet will show as text, never evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def describe_evidence(hops: list[Hop]) -> str:
    """Per hop: the claim, its grade and its sources, e.g. ``a CONTRACTS b: verified [src-1]``."""
    parts = []
    for hop in hops:
        sources = f" [{'|'.join(hop.source_ids)}]" if hop.source_ids else " [no source]"
        parts.append(f"{hop.claim}: {hop.evidence_grade.value}{sources}")
    return "; ".join(parts)


class CsvExporter:
    """One row per path, columns as DOMAIN.md section 4 names them."""

    def __init__(self, sink: TextIO) -> None:
        self._writer = csv.writer(sink, lineterminator="\r\n")
        self._writer.writerow(CSV_COLUMNS)

    def write(self, path: RiskPath) -> None:
        row = {
            **path.model_dump(mode="json", include=set(CSV_COLUMNS)),
            "chain": " > ".join(path.chain),
            "evidence": describe_evidence(path.hops),
        }
        self._writer.writerow([safe_cell(row.get(column)) for column in CSV_COLUMNS])

    def finalize(self) -> None:
        pass  # CSV needs no trailer; kept for the exporter interface


def stream_csv(paths: Iterable[RiskPath]) -> Iterator[str]:
    """CSV text in chunks of one row, so memory stays constant however many paths."""
    buffer = io.StringIO()
    exporter = CsvExporter(buffer)
    for path in paths:
        exporter.write(path)
        yield _drain(buffer)
    exporter.finalize()
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def scorecard_rows(card: Scorecard) -> Iterator[list[object]]:
    """One row per principle: the conditions it rests on, their sources, and what is missing."""
    for principle in card.principles:
        row = {
            "organization_id": card.organization_id,
            "organization_name": card.organization_name,
            "points": card.points,
            "review_day": card.review_day.isoformat() if card.review_day else "",
            "principle": principle.principle.value,
            "title": principle.title,
            "basic": principle.basic,
            "advanced": principle.advanced,
            "rests_on": " | ".join(e.condition_id for e in principle.rests_on),
            "rests_on_total": principle.rests_on_total,
            "sources": "|".join(_sources(principle)),
            "missing": "; ".join(
                f"{m.cohort_id}/{m.dimension.value} ({m.point}): {m.reason}" for m in principle.missing
            ),
            "missing_total": principle.missing_total,
        }
        yield [safe_cell(row[column]) for column in SCORECARD_COLUMNS]


def _sources(principle: PrincipleScore) -> list[str]:
    return sorted({source for evidence in principle.rests_on for source in evidence.source_ids})


def stream_scorecards_csv(cards: Iterable[Scorecard]) -> Iterator[str]:
    """Scorecards as CSV text, one chunk per organization."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(SCORECARD_COLUMNS)
    for card in cards:
        writer.writerows(scorecard_rows(card))
        yield _drain(buffer)
    yield _drain(buffer)

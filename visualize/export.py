"""Exports of risk paths behind one interface: ``write()`` each path, then ``finalize()``:
CSV, and the same rows and columns as a spreadsheet (visualize.xlsx). Changes between
revisions, actions and scorecards have their own CSV: one row per change, per action, per
organization and principle; changes and scorecards the same rows and columns as a
spreadsheet too.

Cells are made safe for spreadsheets (visualize.cells): text that a spreadsheet would read
as a formula (starting with =, +, -, @, a tab or a carriage return) is prefixed with an
apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol, TextIO

from laborgraph.graph.analysis.actions import TrackedAction
from laborgraph.graph.analysis.changes import Change, describe_fact
from laborgraph.graph.analysis.paths import Hop, PathAction, RiskPath
from laborgraph.graph.analysis.scorecards import PrincipleScore, Scorecard
from laborgraph.graph.revisions import Observation
from laborgraph.visualize.cells import safe_cell

CSV_COLUMNS = [
    "rank", "severity", "likelihood", "confidence", "score", "buyer_id", "buyer_name", "unit_id",
    "unit_name", "decision_id", "lever", "project", "tier", "chain", "cohort_id", "cohort_name",
    "country", "headcount", "dimension", "status", "evidence", "explanation", "actions",
]  # fmt: skip
SCORECARD_COLUMNS = [
    "organization_id", "organization_name", "points", "review_day", "principle", "title", "basic",
    "advanced", "rests_on", "rests_on_total", "sources", "missing", "missing_total",
]  # fmt: skip


class PathExporter(Protocol):
    def write(self, path: RiskPath) -> None: ...

    def finalize(self) -> None: ...


def describe_evidence(hops: list[Hop]) -> str:
    """Per hop: the claim, its grade and its sources, e.g. ``a CONTRACTS b: verified [src-1]``."""
    parts = []
    for hop in hops:
        sources = f" [{'|'.join(hop.source_ids)}]" if hop.source_ids else " [no source]"
        parts.append(f"{hop.claim}: {hop.evidence_grade.value}{sources}")
    return "; ".join(parts)


def describe_actions(actions: list[PathAction]) -> str:
    """The open actions on a path, e.g. ``act-1 (mitigate, in_progress, due 2026-01-31, overdue,
    effect worsened)``."""
    parts = []
    for action in actions:
        due = [f"due {action.due_at}"] if action.due_at else []
        late = ["overdue"] if action.overdue else []
        facts = [action.kind.value, action.status.value, *due, *late, f"effect {action.effect.value}"]
        parts.append(f"{action.id} ({', '.join(facts)})")
    return "; ".join(parts)


class CsvExporter:
    """One row per path, columns as DOMAIN.md section 4 names them."""

    def __init__(self, sink: TextIO) -> None:
        self._writer = csv.writer(sink, lineterminator="\r\n")
        self._writer.writerow(CSV_COLUMNS)

    def write(self, path: RiskPath) -> None:
        self._writer.writerow([safe_cell(cell) for cell in path_row(path)])

    def finalize(self) -> None:
        pass  # CSV needs no trailer; kept for the exporter interface


CHANGE_COLUMNS = [
    "change", "kind", "decision_id", "cohort_id", "dimension", "id", "buyer_id", "revision",
    "from_revision", "to_revision", "before", "after", "evidence",
]  # fmt: skip


def change_row(change: Change) -> list[object]:
    """A change's cells, in the order of CHANGE_COLUMNS (before they are made safe)."""
    row = change.model_dump(mode="json")
    return [row.get(column) for column in CHANGE_COLUMNS]


def stream_changes_csv(changes: Iterable[Change]) -> Iterator[str]:
    """The changes between two revisions, one row each, as DOMAIN.md section 6 names the columns."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CHANGE_COLUMNS)
    for change in changes:
        writer.writerow([safe_cell(cell) for cell in change_row(change)])
        yield _drain(buffer)
    yield _drain(buffer)


def write_changes_xlsx(changes: Iterable[Change], target: Path) -> int:
    """The CSV's rows and columns in one worksheet, "changes"; how many changes."""
    return _write_xlsx(map(change_row, changes), CHANGE_COLUMNS, "changes", target)


def _write_xlsx(rows: Iterable[Sequence[object]], columns: Sequence[str], sheet: str, target: Path) -> int:
    from laborgraph.visualize.xlsx import XlsxTable  # xlsxwriter is loaded only to write one

    table = XlsxTable(target, columns, sheet)
    written = 0
    for row in rows:
        table.write(row)
        written += 1
    table.finalize()
    return written


class XlsxExporter:
    """The CSV's rows and columns in one worksheet, "risk paths", of an .xlsx file."""

    def __init__(self, target: Path) -> None:
        from laborgraph.visualize.xlsx import XlsxTable  # xlsxwriter is loaded only to write one

        self._table = XlsxTable(target, CSV_COLUMNS, "risk paths")

    def write(self, path: RiskPath) -> None:
        self._table.write(path_row(path))

    def finalize(self) -> None:
        self._table.finalize()


def path_row(path: RiskPath) -> list[object]:
    """A path's cells, in the order of CSV_COLUMNS (before they are made safe)."""
    row = {
        **path.model_dump(mode="json", include=set(CSV_COLUMNS)),
        "chain": " > ".join(path.chain),
        "evidence": describe_evidence(path.hops),
        "actions": describe_actions(path.actions),
    }
    return [row.get(column) for column in CSV_COLUMNS]


def export_paths(paths: Iterable[RiskPath], exporters: Sequence[PathExporter]) -> int:
    """Each path through every exporter, then every exporter finalized; how many paths."""
    written = 0
    for path in paths:
        for exporter in exporters:
            exporter.write(path)
        written += 1
    for exporter in exporters:
        exporter.finalize()
    return written


ACTION_COLUMNS = [
    "id", "target", "target_kind", "owner_unit_id", "kind", "status", "opened_at", "due_at",
    "closed_at", "overdue", "effect", "before", "after", "pay_before", "pay_after", "explanation",
    "evidence", "description",
]  # fmt: skip


def stream_actions_csv(actions: Iterable[TrackedAction]) -> Iterator[str]:
    """Every action with its effect, one row each; ``before`` and ``after`` are the
    observations compared, in words with their evidence."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(ACTION_COLUMNS)
    for action in actions:
        row = {
            **action.model_dump(mode="json"),
            "before": _observed(action.before),
            "after": _observed(action.after),
            "pay_before": action.pay.before if action.pay else None,
            "pay_after": action.pay.after if action.pay else None,
            "evidence": f"{action.evidence_grade.value} [{'|'.join(action.source_ids) or 'no source'}]",
        }
        writer.writerow([safe_cell(row.get(column)) for column in ACTION_COLUMNS])
        yield _drain(buffer)
    yield _drain(buffer)


def _observed(observation: Observation | None) -> str | None:
    if observation is None:
        return None
    condition = observation.condition
    sources = "|".join(condition.source_ids) or "no source"
    return f"{describe_fact(condition)} [{condition.grade.value}: {sources}]"


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
    """One row per principle: the conditions it rests on, their sources, and what is missing;
    cells in the order of SCORECARD_COLUMNS (before they are made safe)."""
    for principle in card.principles:
        row = {
            "organization_id": card.organization_id,
            "organization_name": card.organization_name,
            "points": card.points,
            "review_day": card.review_day.isoformat() if card.review_day else None,
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
        yield [row[column] for column in SCORECARD_COLUMNS]


def _sources(principle: PrincipleScore) -> list[str]:
    return sorted({source for evidence in principle.rests_on for source in evidence.source_ids})


def stream_scorecards_csv(cards: Iterable[Scorecard]) -> Iterator[str]:
    """Scorecards as CSV text, one chunk per organization."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(SCORECARD_COLUMNS)
    for card in cards:
        writer.writerows([safe_cell(cell) for cell in row] for row in scorecard_rows(card))
        yield _drain(buffer)
    yield _drain(buffer)


def write_scorecards_xlsx(cards: Iterable[Scorecard], target: Path) -> int:
    """The CSV's rows and columns in one worksheet, "scorecards"; how many scorecards."""
    counted = 0

    def rows() -> Iterator[list[object]]:
        nonlocal counted
        for card in cards:
            counted += 1
            yield from scorecard_rows(card)

    _write_xlsx(rows(), SCORECARD_COLUMNS, "scorecards", target)
    return counted

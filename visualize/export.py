"""Exports of risk paths behind one interface: ``write()`` each path, then ``finalize()``;
and the CSV of changes and of actions.

CSV cells are made safe for spreadsheets: text that a spreadsheet would read as a formula
(starting with =, +, -, @, a tab or a carriage return) is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Protocol, TextIO

from laborgraph.graph.analysis.actions import TrackedAction
from laborgraph.graph.analysis.changes import Change, describe_fact
from laborgraph.graph.analysis.paths import Hop, PathAction, RiskPath
from laborgraph.graph.revisions import Observation

CSV_COLUMNS = [
    "rank", "severity", "likelihood", "confidence", "score", "buyer_id", "buyer_name", "unit_id",
    "unit_name", "decision_id", "lever", "project", "tier", "chain", "cohort_id", "cohort_name",
    "country", "headcount", "dimension", "status", "evidence", "explanation", "actions",
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
        row = {
            **path.model_dump(mode="json", include=set(CSV_COLUMNS)),
            "chain": " > ".join(path.chain),
            "evidence": describe_evidence(path.hops),
            "actions": describe_actions(path.actions),
        }
        self._writer.writerow([safe_cell(row.get(column)) for column in CSV_COLUMNS])

    def finalize(self) -> None:
        pass  # CSV needs no trailer; kept for the exporter interface


CHANGE_COLUMNS = [
    "change", "kind", "decision_id", "cohort_id", "dimension", "id", "buyer_id", "revision",
    "from_revision", "to_revision", "before", "after", "evidence",
]  # fmt: skip


def stream_changes_csv(changes: Iterable[Change]) -> Iterator[str]:
    """The changes between two revisions, one row each, as DOMAIN.md section 6 names the columns."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CHANGE_COLUMNS)
    for change in changes:
        row = change.model_dump(mode="json")
        writer.writerow([safe_cell(row.get(column)) for column in CHANGE_COLUMNS])
        yield _drain(buffer)
    yield _drain(buffer)


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

"""Validate a raw bundle as a whole: every problem found, located, before anything is written.

The rules are DOMAIN.md section 3: enums, numbers, dates and countries per cell; ids unique
across the bundle and the graph; every reference resolved in the bundle or the graph; links
joining the right kinds; unknown columns kept as extra properties; and every pay figure
judged against its living-wage benchmark (DOMAIN.md section 8, ingest.benchmarks).

Errors and warnings are collected up to ``MAX_ISSUES`` each. Past that, a rejected bundle is
not read further (the first errors are enough to fix), and a count of the warnings left over
stands in for them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from laborgraph.graph.collector import collector_paused
from laborgraph.graph.errors import BundleIssue, NotFound
from laborgraph.graph.model import (
    Action,
    Benchmark,
    Cohort,
    Condition,
    Decision,
    GraphData,
    Id,
    Link,
    LinkKey,
    Organization,
    Record,
    Source,
    Unit,
    check_scalar,
    derive_pay_status,
)
from laborgraph.graph.revisions import MAX_REASON, Retraction, observation_key
from laborgraph.graph.store import PayAtPlace
from laborgraph.graph.view import AnyEntity
from laborgraph.graph.vocabulary import (
    SUPPLY_LINKS,
    ActionStatus,
    Dimension,
    EntityKind,
    LinkType,
    OrgKind,
    Status,
)
from laborgraph.ingest.benchmarks import STATUS_REQUIRED, StoredPay, judge_pay
from laborgraph.ingest.limits import ReadingStopped
from laborgraph.ingest.quote import SHOWN, cut, names, quote
from laborgraph.ingest.raw import BundleParts, Cell, Note, RawRow, RawSection, Where

MODELS: dict[str, type[Record]] = {
    "organizations": Organization,
    "units": Unit,
    "cohorts": Cohort,
    "conditions": Condition,
    "decisions": Decision,
    "sources": Source,
    "benchmarks": Benchmark,
    "actions": Action,
    "links": Link,
}
MULTI_VALUED = frozenset({"kinds", "task_types", "dimensions", "source_ids"})
# Model fields no bundle column may set: a taken benchmark's id is set by ingest alone.
NOT_COLUMNS = frozenset({"entity", "extra", "benchmark_id"})
# Columns whose cells name ids (or places) that other rows name too: read as one string each.
SHARED_CELLS = frozenset(
    {"id", "cohort_id", "from_id", "to_id", "organization_id", "unit_id", "applies_to", "owner_unit_id",
     "project", "country", "value_unit"}
)  # fmt: skip
NO_EXTRA: dict[str, object] = {}  # the extra properties of every record that has none (never changed)
MAX_ISSUES = 1000  # errors, and warnings, listed for one bundle
TICK_ROWS = 10_000  # rows between progress reports
LONG_QUOTED = re.compile(rf"'([^']{{{SHOWN},}})'")
# Numbers a bundle may give: plausible for what they measure, and inside a 64-bit integer.
BOUNDS: dict[tuple[str, str], tuple[float, float]] = {
    ("cohorts", "headcount"): (0, 100_000_000),
    ("conditions", "value"): (0, 1e12),
    ("conditions", "benchmark"): (0, 1e12),
    ("benchmarks", "value"): (0, 1e12),
}


class RetractionRow(BaseModel):
    """A row of retractions.csv: an entity's id, or a link's key; and why."""

    model_config = ConfigDict(extra="forbid")

    id: Id | None = None
    from_id: Id | None = None
    type: LinkType | None = None
    to_id: Id | None = None
    project: str | None = None
    reason: str = Field(min_length=1, max_length=MAX_REASON)

    @model_validator(mode="after")
    def _one_fact(self) -> RetractionRow:
        link = (self.from_id, self.type, self.to_id)
        if self.id is not None and any(link):
            raise ValueError("give either id, or a link's from_id, type and to_id, not both")
        if self.id is None and not all(link):
            raise ValueError("give the id of an entity, or a link's from_id, type and to_id")
        return self

    def retraction(self) -> Retraction:
        if self.id is not None:
            return Retraction(id=self.id, reason=self.reason)
        link = (self.from_id, self.type, self.to_id, self.project or "")
        return Retraction(link=link, reason=self.reason)  # type: ignore[arg-type]


COLUMNS: dict[str, type[BaseModel]] = {**MODELS, "retractions": RetractionRow}


def core_columns(section: str) -> list[str]:
    return [name for name in COLUMNS[section].model_fields if name not in NOT_COLUMNS]


def required_columns(section: str) -> list[str]:
    fields = COLUMNS[section].model_fields
    # A condition's status may be left empty where pay derives it, so the column is optional.
    return [n for n, f in fields.items() if f.is_required() and (section, n) != ("conditions", "status")]


class KnownGraph(Protocol):
    """What validation asks of the graph a bundle goes into (a GraphStore answers it)."""

    def kinds_of(self, ids: Collection[str]) -> dict[str, EntityKind]: ...

    def project_owners(self) -> dict[str, str]: ...

    def get(self, entity_id: str) -> AnyEntity: ...

    def read(self) -> AbstractContextManager[StoredFacts]: ...


class StoredFacts(StoredPay, Protocol):
    """What validation reads of a snapshot: pay and benchmarks, and links by key (retractions)."""

    def links_by_key(self, keys: Collection[LinkKey]) -> list[Link]: ...


class NoGraph:
    """An empty graph: validates a bundle on its own."""

    def kinds_of(self, ids: Collection[str]) -> dict[str, EntityKind]:
        return {}

    def project_owners(self) -> dict[str, str]:
        return {}

    def get(self, entity_id: str) -> AnyEntity:
        raise NotFound(entity_id)

    def read(self) -> AbstractContextManager[StoredFacts]:
        return nullcontext(_NothingStored())


class _NothingStored:
    def entities(self, ids: Collection[str]) -> list[AnyEntity]:
        return []

    def benchmarks(self) -> list[Benchmark]:
        return []

    def benchmark_takers(self, countries: Collection[str] | None) -> list[PayAtPlace]:
        return []

    def links_by_key(self, keys: Collection[LinkKey]) -> list[Link]:
        return []


@dataclass
class Validated:
    data: GraphData
    retractions: list[Retraction] = field(default_factory=list)
    errors: list[BundleIssue] = field(default_factory=list)
    warnings: list[BundleIssue] = field(default_factory=list)


class _TooManyErrors(Exception):
    pass


@dataclass
class _Checker:
    errors: list[BundleIssue] = field(default_factory=list)
    warnings: list[BundleIssue] = field(default_factory=list)
    more_warnings: int = 0
    records: dict[str, list[tuple[Where, Record]]] = field(default_factory=dict)
    fields_sets: dict[frozenset[str], set[str]] = field(default_factory=dict)
    last_fields: set[str] = field(default_factory=set)
    strings: dict[str, str] = field(default_factory=dict)  # ids as first read (shared)
    first_seen: dict[object, Where] = field(default_factory=dict)  # by id, or a link's key
    pending_status: set[str] = field(default_factory=set)  # conditions whose status a benchmark gives
    stored_kinds: dict[str, EntityKind] = field(default_factory=dict)  # of the ids the bundle names
    cased_ids: dict[str, tuple[str, Where]] = field(default_factory=dict)  # ids with capitals, by lower case
    retractions: list[tuple[RawRow, Retraction]] = field(default_factory=list)

    def shared_fields_set(self, record: Record) -> None:
        """Let records that set the same fields share one set of their names, and records
        with no extra properties one empty dict.

        Rows of one file mostly set the same fields, and the set pydantic keeps per record is
        about half of a record's memory. Frozen records never change theirs in place
        (``model_copy`` copies it first; ``view.merge`` makes a new ``extra``), so sharing
        them is safe.
        """
        given = record.model_fields_set
        if given != self.last_fields:  # rows of a file come with the same fields, mostly
            self.last_fields = self.fields_sets.setdefault(frozenset(given), given)
        object.__setattr__(record, "__pydantic_fields_set__", self.last_fields)
        if not record.extra:
            record.__dict__["extra"] = NO_EXTRA

    def shared(self, text: str) -> str:
        """One string for every cell that names the same id: a million-link bundle names
        each cohort three times or more, each source thousands of times."""
        return self.strings.setdefault(text, text)

    def error(self, row: RawRow | Where, column: str | None, message: str) -> None:
        self.add_error(
            BundleIssue(file=row.file, row=row.row, column=column and cut(column), message=message)
        )

    def add_error(self, issue: BundleIssue) -> None:
        if len(self.errors) == MAX_ISSUES:
            raise _TooManyErrors
        self.errors.append(issue)

    def warn(self, row: RawRow | Where, column: str | None, message: str) -> None:
        self.add_warning(
            BundleIssue(file=row.file, row=row.row, column=column and cut(column), message=message)
        )

    def add_warning(self, issue: BundleIssue) -> None:
        if len(self.warnings) < MAX_ISSUES:
            self.warnings.append(issue)
        else:
            self.more_warnings += 1


def validate_bundle(
    raw: BundleParts, graph: KnownGraph, tick: Callable[[int], None] | None = None
) -> Validated:
    """Turn raw rows into GraphData, collecting every error and warning on the way."""
    with collector_paused():
        return _validate(raw, graph, tick or (lambda n: None))


def _validate(raw: BundleParts, graph: KnownGraph, tick: Callable[[int], None]) -> Validated:
    check = _Checker()
    rewritten: list[Condition] = []
    try:
        for part in raw.parts():
            if isinstance(part, RawSection):
                _check_section(part, check, tick)
            elif isinstance(part, Note):
                check.add_warning(part.issue)
            else:
                check.add_error(part)
        _check_references(check, graph.kinds_of)
        _check_projects(check, graph)
        _check_retractions(check, graph)
        rewritten = _check_pay(check, graph)
    except ReadingStopped as stop:
        check.errors.append(stop.issue)
    except _TooManyErrors:
        message = f"stopped after the first {MAX_ISSUES:,} errors; the rest of the bundle was not checked"
        check.errors.append(BundleIssue(file="bundle", message=message))
    if check.more_warnings:
        message = f"and {check.more_warnings:,} more warnings"
        check.warnings.append(BundleIssue(file="bundle", message=message))
    if check.errors:
        return Validated(data=GraphData(), errors=check.errors, warnings=check.warnings)
    data = GraphData.of([*(record for rows in check.records.values() for _, record in rows), *rewritten])
    retractions = [retraction for _, retraction in check.retractions]
    return Validated(data=data, retractions=retractions, errors=check.errors, warnings=check.warnings)


def _check_section(section: RawSection, check: _Checker, tick: Callable[[int], None]) -> None:
    columns = section.columns
    core = frozenset(core_columns(section.name))
    if columns is not None:  # a CSV header: check it once rather than on every row
        missing = [c for c in required_columns(section.name) if c not in columns]
        for column in missing:
            check.add_error(
                BundleIssue(file=section.file, column=column, message="required column is missing")
            )
        if missing:
            return
        _warn_extra_columns(section.file, [c for c in columns if c not in core], check)
    keys: dict[str, None] = {}  # JSON: every key any item brings, for one warning
    check.records.setdefault(section.name, [])
    count = 0
    for row in section.rows:
        if isinstance(row, BundleIssue):
            check.add_error(row)
            continue
        if columns is None:
            keys.update(dict.fromkeys(row.cells))
        if section.name == "retractions":
            _parse_retraction(row, check)
            continue
        record = _parse_row(section.name, MODELS[section.name], core, row, check)
        if record is not None:
            _keep(section.name, Where(row.file, row.row), record, check)
        count += 1
        if count == TICK_ROWS:
            tick(count)
            count = 0
    tick(count)
    if columns is None:
        _warn_extra_columns(section.file, [k for k in keys if k not in core], check)


def _warn_extra_columns(file: str, extras: list[str], check: _Checker) -> None:
    if extras:
        message = f"unknown columns kept as extra properties: {names(extras)}"
        check.add_warning(BundleIssue(file=file, message=message))


# -- one row -------------------------------------------------------------------------


def _parse_row(
    section: str, model: type[Record], core: frozenset[str], row: RawRow, check: _Checker
) -> Record | None:
    payload: dict[str, object] = {}
    extra: dict[str, object] = {}
    ok = True
    for column, cell in row.cells.items():
        if isinstance(cell, str):  # every CSV cell: the one path worth keeping short
            cell = cell.strip()
            if not cell:
                continue  # an empty cell carries nothing: upserts keep what is stored
            if column in core:
                if column in MULTI_VALUED:
                    payload[column] = [check.shared(part) for part in _split(cell)]
                else:
                    payload[column] = check.shared(cell) if column in SHARED_CELLS else cell
                continue
        elif _is_empty(cell):
            continue
        if column in core:
            payload[column] = cell
        else:
            try:
                extra[column] = check_scalar(_strip(cell))
            except ValueError as exc:
                check.error(row, column, _unechoed(str(exc), cell))
                ok = False
    if extra:
        payload["extra"] = extra
    reported: set[str | None] = set()
    pending = section == "conditions" and _status_left_to_benchmarks(payload)
    if pending:
        payload["status"] = Status.unknown.value  # until a benchmark gives it (_check_pay)
    elif section == "conditions" and not _status_given_or_derivable(payload):
        check.error(row, "status", STATUS_REQUIRED)
        reported.add("status")
        ok = False
    try:
        record = model.model_validate(payload)
    except ValidationError as exc:
        problems = exc.errors()
        if any(p["loc"][:1] in (("value",), ("benchmark",)) for p in problems):
            reported.add("status")  # a missing status follows from the bad number: say that once
        for problem in problems:
            where = str(problem["loc"][0]) if problem["loc"] else None
            if where not in reported:  # one message per cell: the first is the cause
                reported.add(where)
                check.error(row, where, _describe(problem))
        return None
    for (bounded, column), (low, high) in BOUNDS.items():
        number = getattr(record, column) if bounded == section else None
        if number is not None and not low <= number <= high:
            check.error(row, column, f"{number:,g} is out of range: expected {low:,g} to {high:,g}")
            ok = False
    if not ok:
        return None
    if isinstance(record, Condition):
        _warn_pay_contradiction(payload, record, row, check)
        if pending:
            check.pending_status.add(record.id)
    elif isinstance(record, Action):
        _warn_action_dates(record, row, check)
    check.shared_fields_set(record)
    return record


def _is_empty(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip()) or cell == []


def _strip(cell: Cell) -> Cell:
    return cell.strip() if isinstance(cell, str) else cell


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split("|") if part.strip()]


def _describe(problem: object) -> str:
    message = str(problem["msg"]).removeprefix("Value error, ")  # type: ignore[index]
    given = problem.get("input")  # type: ignore[attr-defined]
    if not isinstance(given, str | int | float):
        return message
    if repr(given) in message or str(given) in message:
        return _unechoed(message, given)
    return f"{_unechoed(message, given)} (got {quote(given)})"


def _unechoed(message: str, given: object) -> str:
    """``message`` with the value it repeats shown as ``quote`` shows it (a cell may be huge)."""
    for echo in (repr(given), str(given)):
        if len(echo) > len(quote(given)) and echo in message:
            return message.replace(echo, quote(given))
    return LONG_QUOTED.sub(lambda m: quote(m.group(1)), message)  # the value as a model rewrote it


def _status_given_or_derivable(payload: dict[str, object]) -> bool:
    if "status" in payload:
        return True
    return payload.get("dimension") == Dimension.pay and "value" in payload and "benchmark" in payload


def _status_left_to_benchmarks(payload: dict[str, object]) -> bool:
    """A pay figure with no status and no benchmark: benchmarks.csv may give it one."""
    return (
        "status" not in payload
        and payload.get("dimension") == Dimension.pay
        and "value" in payload
        and "benchmark" not in payload
    )


def _warn_pay_contradiction(
    payload: dict[str, object], record: Condition, row: RawRow, check: _Checker
) -> None:
    given = payload.get("status")
    if given is None or record.value is None or record.benchmark is None:
        return
    derived = derive_pay_status(record.value, record.benchmark)
    if str(given) != derived.value:
        check.warn(
            row,
            "status",
            f"status {quote(given)} contradicts pay {record.value:g} against benchmark "
            f"{record.benchmark:g}; using the derived {derived.value!r}",
        )


def _warn_action_dates(action: Action, row: RawRow, check: _Checker) -> None:
    """Dates that do not fit the status: kept, and what the effect is measured from, said."""
    if action.is_open and action.closed_at is not None:
        check.warn(row, "closed_at", f"ignored while the action is {action.status.value}")
    elif action.status is ActionStatus.done and action.closed_at is None:
        check.warn(row, "closed_at", "done with no closed_at: the effect is measured after opened_at")


# -- the bundle as a whole -----------------------------------------------------------


def _keep(section: str, where: Where, record: Record, check: _Checker) -> None:
    """Keep a parsed record, unless its id (a link: its key) came earlier in the bundle."""
    # A condition may come once per observation date (graph.revisions).
    key = (
        record.key
        if isinstance(record, Link)
        else observation_key(record)
        if isinstance(record, Condition)
        else record.id  # type: ignore[attr-defined]
    )
    first = check.first_seen.setdefault(key, where)
    if first is not where:
        if isinstance(record, Benchmark):
            _overlapping_benchmark(where, record, first, check)
            return
        what = "link" if isinstance(record, Link) else "id" if section != "conditions" else "observation"
        check.error(where, None, f"duplicate {what} {_show(key)}; first at {first.file} row {first.row}")
        return
    if section not in ("conditions", "links", "benchmarks"):  # their ids are derived
        _warn_if_case_differs(key, where, check)  # type: ignore[arg-type]
    check.records[section].append((where, record))


def _overlapping_benchmark(where: Where, record: Benchmark, first: Where, check: _Checker) -> None:
    """Two rows of one benchmark (place, unit and day): one value each, and at most one row."""
    earlier = next(b for w, b in check.records["benchmarks"] if w is first and isinstance(b, Benchmark))
    region = f" region {quote(record.region)}" if record.region else ""
    same = f"{record.country}{region} in {quote(record.value_unit)} from {record.valid_from}"
    if earlier.value != record.value:
        message = (
            f"overlaps {first.file} row {first.row}: the benchmark for {same} is {earlier.value:g} there"
            f" and {record.value:g} here; give one value for a place, unit and day"
        )
        check.error(where, "value", message)
    else:
        check.error(where, None, f"repeats the benchmark for {same} of {first.file} row {first.row}")


def _warn_if_case_differs(entity_id: str, where: Where, check: _Checker) -> None:
    """Ids are case-sensitive (DOMAIN.md 1): ``ORG-A`` beside ``org-a`` is two entities, likely a slip."""
    folded = entity_id.lower()
    twin = check.cased_ids.get(folded)
    if twin is None and folded != entity_id and folded in check.first_seen:
        twin = (folded, check.first_seen[folded])
    if folded != entity_id:  # only ids with capitals are remembered: most have none
        check.cased_ids.setdefault(folded, (entity_id, where))
    if twin is not None:
        other, first = twin
        check.warn(
            where,
            "id",
            f"{quote(entity_id)} differs only in case from {quote(other)} ({first.file} row {first.row}); "
            "ids are case-sensitive, so these are two entities",
        )


def _show(key: object) -> str:
    if isinstance(key, tuple) and len(key) == 2:
        condition, day = key
        return f"{quote(condition)} observed {day}" if day else f"{quote(condition)} (undated)"
    if isinstance(key, tuple):
        from_id, link_type, to_id, project = key
        return f"{from_id} -{link_type}-> {to_id}" + (f" (project {quote(project)})" if project else "")
    return quote(key)


REFERENCES: dict[str, list[tuple[str, EntityKind]]] = {
    "units": [("organization_id", EntityKind.organization)],
    "conditions": [("cohort_id", EntityKind.cohort)],
    "decisions": [("unit_id", EntityKind.unit), ("applies_to", EntityKind.organization)],
    "actions": [("owner_unit_id", EntityKind.unit)],
}
LINK_ENDS: dict[LinkType, tuple[EntityKind, EntityKind]] = {
    **{t: (EntityKind.organization, EntityKind.organization) for t in SUPPLY_LINKS},
    LinkType.ENGAGES: (EntityKind.organization, EntityKind.cohort),
}


KindLookup = Callable[[Collection[str]], dict[str, EntityKind]]


def _check_references(check: _Checker, known_kinds: KindLookup) -> None:
    in_bundle: dict[str, EntityKind] = {}
    for rows in check.records.values():
        for _, record in rows:
            if not isinstance(record, Link | Condition):
                in_bundle[record.id] = record.entity  # type: ignore[attr-defined]
    expected = _expected_kinds(check)
    stored = check.stored_kinds = known_kinds(set().union(in_bundle, *expected.values()))
    clashes = {i for i, kind in in_bundle.items() if i in stored and stored[i] != kind}
    for rows in check.records.values() if clashes else ():
        for row, record in rows:
            entity_id = getattr(record, "id", None)
            if entity_id in clashes:
                check.error(
                    row, "id", f"{quote(entity_id)} is already in the graph as {_a(stored[entity_id])}"
                )
    kinds = stored | in_bundle
    if all(kinds.get(ref) == kind for kind, refs in expected.items() for ref in refs):
        return  # the usual case, decided on distinct ids; the row by row pass below locates errors
    by_folded_case = {i.casefold(): i for i in in_bundle}
    for row, column, ref, kind in _references(check):
        found = in_bundle.get(ref) or stored.get(ref)
        if found is None:
            near = by_folded_case.get(ref.casefold())
            hint = f" (the bundle has {quote(near)}: ids are case-sensitive)" if near else ""
            check.error(row, column, f"{quote(ref)} is neither in the bundle nor in the graph{hint}")
        elif found != kind:
            check.error(row, column, f"{quote(ref)} is {_a(found)}, expected {_a(kind)}")


def _references(check: _Checker) -> Iterator[tuple[Where, str, str, EntityKind]]:
    """Every reference a record makes: where, in which column, to which id, of which kind."""
    for section, rows in check.records.items():
        for row, record in rows:
            for column, kind in REFERENCES.get(section, []):
                yield row, column, getattr(record, column), kind
            if isinstance(record, Link):
                start, end = LINK_ENDS[record.type]
                yield row, "from_id", record.from_id, start
                yield row, "to_id", record.to_id, end
            elif isinstance(record, Action):
                for ref, kind in _target_refs(record):
                    yield row, "target", ref, kind
            for source in record.source_ids:
                yield row, "source_ids", source, EntityKind.source


def _target_refs(action: Action) -> Iterator[tuple[str, EntityKind]]:
    """The decision and the cohort an action's target names, where it names them."""
    aim = action.aim
    if aim.decision_id is not None:
        yield aim.decision_id, EntityKind.decision
    if aim.cohort_id is not None:
        yield aim.cohort_id, EntityKind.cohort


def _expected_kinds(check: _Checker) -> dict[EntityKind, set[str]]:
    """Every id the records refer to, by the kind the reference needs."""
    expected: dict[EntityKind, set[str]] = defaultdict(set)
    for section, rows in check.records.items():
        for column, kind in REFERENCES.get(section, []):
            expected[kind].update(getattr(record, column) for _, record in rows)
        expected[EntityKind.source].update(s for _, record in rows for s in record.source_ids)
    for _, link in check.records.get("links", []):
        assert isinstance(link, Link)
        start, end = LINK_ENDS[link.type]
        expected[start].add(link.from_id)
        expected[end].add(link.to_id)
    for _, action in check.records.get("actions", []):
        assert isinstance(action, Action)
        for ref, kind in _target_refs(action):
            expected[kind].add(ref)
    return expected


def _parse_retraction(row: RawRow, check: _Checker) -> None:
    payload = {column: _strip(cell) for column, cell in row.cells.items() if not _is_empty(cell)}
    try:
        parsed = RetractionRow.model_validate(payload)
    except ValidationError as exc:
        for problem in exc.errors():
            column = str(problem["loc"][0]) if problem["loc"] else None
            if problem["type"] == "extra_forbidden":
                check.error(row, column, "not a retractions.csv column")
            else:
                check.error(row, column, _describe(problem))
        return
    check.retractions.append((row, parsed.retraction()))


def _check_retractions(check: _Checker, graph: KnownGraph) -> None:
    """Each retraction names a fact the graph holds, and one the bundle does not also write."""
    if not check.retractions:
        return
    written = set(check.first_seen) | {
        key[0] for key in check.first_seen if isinstance(key, tuple) and len(key) == 2
    }
    ids = {r.id for _, r in check.retractions if r.id is not None}
    stored = graph.kinds_of(ids)
    keys = {r.link for _, r in check.retractions if r.link is not None}
    with graph.read() as reader:
        held = {link.key for link in reader.links_by_key(keys)}  # type: ignore[arg-type]
    seen: dict[str, RawRow] = {}
    for row, retraction in check.retractions:
        column = "id" if retraction.id is not None else "from_id"
        first = seen.setdefault(retraction.key, row)
        if first is not row:
            check.error(row, column, f"{quote(retraction.key)} is retracted twice; first at row {first.row}")
        elif retraction.id is not None and retraction.id not in stored:
            check.error(row, "id", f"{quote(retraction.id)} is not in the graph: nothing to retract")
        elif retraction.link is not None and retraction.link not in held:
            check.error(
                row, "from_id", f"the link {_show(retraction.link)} is not in the graph: nothing to retract"
            )
        elif (retraction.id or retraction.link) in written:
            check.error(row, column, f"{quote(retraction.key)} is written and retracted by the same bundle")


def _a(kind: EntityKind) -> str:
    return ("an " if kind.value[0] in "aeio" else "a ") + kind.value  # "a unit"


def _check_pay(check: _Checker, graph: KnownGraph) -> list[Condition]:
    """Judge every pay figure against its benchmark (ingest.benchmarks); the stored
    conditions to write again."""
    records = check.records
    stored_cohorts = {i for i, kind in check.stored_kinds.items() if kind is EntityKind.cohort}
    with graph.read() as stored:
        judged = judge_pay(
            [(w, r) for w, r in records.get("benchmarks", []) if isinstance(r, Benchmark)],
            [(w, r) for w, r in records.get("cohorts", []) if isinstance(r, Cohort)],
            [(w, r) for w, r in records.get("conditions", []) if isinstance(r, Condition)],
            check.pending_status,
            stored_cohorts,
            stored,
            check,
        )
    if "conditions" in records:
        conditions: list[tuple[Where, Record]] = [*judged.conditions]
        records["conditions"] = conditions
    return judged.rewritten


def _check_projects(check: _Checker, graph: KnownGraph) -> None:
    """Links within their dates; each project one buyer's; decisions only on their own projects."""
    owners: dict[str, tuple[str, str]] = {p: (o, "in the graph") for p, o in graph.project_owners().items()}
    for row, link in check.records.get("links", []):
        assert isinstance(link, Link)
        if link.from_id == link.to_id:
            check.error(row, "to_id", "a link cannot join an organization to itself")
        if link.since and link.until and link.until < link.since:
            check.error(row, "until", f"ends ({link.until}) before it starts ({link.since})")
        if link.type is LinkType.CONTRACTS and link.project:
            owner, where = owners.setdefault(link.project, (link.from_id, f"{row.file} row {row.row}"))
            if owner != link.from_id:
                check.error(
                    row,
                    "project",
                    f"project {quote(link.project)} already belongs to {quote(owner)} ({where}); "
                    "a project has one buyer",
                )
    in_bundle = {
        r.id: r for rows in check.records.values() for _, r in rows if isinstance(r, Unit | Organization)
    }
    for row, decision in check.records.get("decisions", []):
        assert isinstance(decision, Decision)
        if not decision.project:
            continue
        maker = _maker(in_bundle, graph, decision)
        project_owner = owners[decision.project][0] if decision.project in owners else None
        if project_owner is None:
            check.warn(
                row,
                "project",
                f"no CONTRACTS link carries project {quote(decision.project)}; the decision reaches "
                "only links without a project",
            )
        elif maker is not None and OrgKind.buyer in maker.kinds and project_owner != maker.id:
            check.error(
                row,
                "project",
                f"project {quote(decision.project)} belongs to {quote(project_owner)}; a decision of the "
                f"buyer {quote(maker.id)} cannot reach another buyer's project",
            )


def _maker(
    in_bundle: dict[str, Unit | Organization], graph: KnownGraph, decision: Decision
) -> Organization | None:
    """The organization whose unit made the decision, from the bundle or the graph."""

    def find(entity_id: str) -> AnyEntity | None:
        try:
            return in_bundle.get(entity_id) or graph.get(entity_id)
        except NotFound:
            return None  # reported as a missing reference

    unit = find(decision.unit_id)
    org = find(unit.organization_id) if isinstance(unit, Unit) else None
    return org if isinstance(org, Organization) else None

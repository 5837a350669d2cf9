"""Validate a raw bundle as a whole: every problem found, located, before anything is written.

The rules are DOMAIN.md section 3: enums, numbers, dates and countries per cell; ids unique
across the bundle and the graph; every reference resolved in the bundle or the graph; links
joining the right kinds; unknown columns kept as extra properties.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import ValidationError

from graph.collector import collector_paused
from graph.errors import BundleIssue, NotFound
from graph.model import (
    Cohort,
    Condition,
    Decision,
    GraphData,
    Link,
    Organization,
    Record,
    Source,
    Unit,
    check_scalar,
    derive_pay_status,
)
from graph.view import AnyEntity
from graph.vocabulary import SUPPLY_LINKS, Dimension, EntityKind, LinkType, OrgKind
from ingest.readers import Cell, RawBundle, RawRow

MODELS: dict[str, type[Record]] = {
    "organizations": Organization,
    "units": Unit,
    "cohorts": Cohort,
    "conditions": Condition,
    "decisions": Decision,
    "sources": Source,
    "links": Link,
}
MULTI_VALUED = frozenset({"kinds", "task_types", "dimensions", "source_ids"})
NOT_COLUMNS = frozenset({"entity", "extra"})  # model fields no bundle column may set


def core_columns(section: str) -> list[str]:
    return [name for name in MODELS[section].model_fields if name not in NOT_COLUMNS]


def required_columns(section: str) -> list[str]:
    fields = MODELS[section].model_fields
    # A condition's status may be left empty where pay derives it, so the column is optional.
    return [n for n, f in fields.items() if f.is_required() and (section, n) != ("conditions", "status")]


class KnownGraph(Protocol):
    """What validation asks of the graph a bundle goes into (a GraphStore answers it)."""

    def kinds_of(self, ids: Collection[str]) -> dict[str, EntityKind]: ...

    def project_owners(self) -> dict[str, str]: ...

    def get(self, entity_id: str) -> AnyEntity: ...


class NoGraph:
    """An empty graph: validates a bundle on its own."""

    def kinds_of(self, ids: Collection[str]) -> dict[str, EntityKind]:
        return {}

    def project_owners(self) -> dict[str, str]:
        return {}

    def get(self, entity_id: str) -> AnyEntity:
        raise NotFound(entity_id)


@dataclass
class Validated:
    data: GraphData
    errors: list[BundleIssue] = field(default_factory=list)
    warnings: list[BundleIssue] = field(default_factory=list)


@dataclass
class _Checker:
    errors: list[BundleIssue] = field(default_factory=list)
    warnings: list[BundleIssue] = field(default_factory=list)
    records: dict[str, list[tuple[RawRow, Record]]] = field(default_factory=dict)

    def error(self, row: RawRow, column: str | None, message: str) -> None:
        self.errors.append(BundleIssue(file=row.file, row=row.row, column=column, message=message))

    def warn(self, row: RawRow, column: str | None, message: str) -> None:
        self.warnings.append(BundleIssue(file=row.file, row=row.row, column=column, message=message))


def validate_bundle(
    raw: RawBundle, graph: KnownGraph, tick: Callable[[int], None] | None = None
) -> Validated:
    """Turn raw rows into GraphData, collecting every error and warning on the way."""
    with collector_paused():
        return _validate(raw, graph, tick)


def _validate(raw: RawBundle, graph: KnownGraph, tick: Callable[[int], None] | None) -> Validated:
    check = _Checker(errors=list(raw.issues), warnings=list(raw.notes))
    for section, model in MODELS.items():
        columns = raw.columns.get(section)
        if columns is None:
            continue
        first = raw.rows[section][0].file if raw.rows[section] else f"{section}.csv"
        missing = [c for c in required_columns(section) if c not in columns]
        if missing:
            for column in missing:
                check.errors.append(
                    BundleIssue(file=first, column=column, message="required column is missing")
                )
            continue
        extras = [c for c in columns if c not in core_columns(section)]
        if extras:
            check.warnings.append(
                BundleIssue(
                    file=first, message=f"unknown columns kept as extra properties: {', '.join(extras)}"
                )
            )
        parsed = check.records.setdefault(section, [])
        core = frozenset(core_columns(section))
        for row in raw.rows[section]:
            record = _parse_row(section, model, core, row, check)
            if record is not None:
                parsed.append((row, record))
        if tick:
            tick(len(raw.rows[section]))
    _check_uniqueness(check)
    _check_references(check, graph.kinds_of)
    _check_projects(check, graph)
    data = GraphData.of(record for rows in check.records.values() for _, record in rows)
    return Validated(data=data, errors=check.errors, warnings=check.warnings)


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
                payload[column] = _split(cell) if column in MULTI_VALUED else cell
                continue
        elif _is_empty(cell):
            continue
        if column in core:
            payload[column] = cell
        else:
            try:
                extra[column] = check_scalar(_strip(cell))
            except ValueError as exc:
                check.error(row, column, str(exc))
                ok = False
    if extra:
        payload["extra"] = extra
    reported: set[str | None] = set()
    if section == "conditions" and not _status_given_or_derivable(payload):
        check.error(row, "status", "required unless dimension is pay with both value and benchmark")
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
    if not ok:
        return None
    if isinstance(record, Condition):
        _warn_pay_contradiction(payload, record, row, check)
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
    if isinstance(given, str | int | float) and repr(given) not in message:
        message += f" (got {given!r})"
    return message


def _status_given_or_derivable(payload: dict[str, object]) -> bool:
    if "status" in payload:
        return True
    return payload.get("dimension") == Dimension.pay and "value" in payload and "benchmark" in payload


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
            f"status {given!r} contradicts pay {record.value:g} against benchmark "
            f"{record.benchmark:g}; using the derived {derived.value!r}",
        )


# -- the bundle as a whole -----------------------------------------------------------


def _check_uniqueness(check: _Checker) -> None:
    first_seen: dict[object, RawRow] = {}
    for section, rows in check.records.items():
        for row, record in rows:
            key = record.key if isinstance(record, Link) else record.id  # type: ignore[attr-defined]
            if key in first_seen:
                first = first_seen[key]
                what = (
                    "link" if isinstance(record, Link) else "id" if section != "conditions" else "condition"
                )
                check.error(
                    row, None, f"duplicate {what} {_show(key)}; first at {first.file} row {first.row}"
                )
            else:
                first_seen[key] = row


def _show(key: object) -> str:
    if isinstance(key, tuple):
        from_id, link_type, to_id, project = key
        return f"{from_id} -{link_type}-> {to_id}" + (f" (project {project})" if project else "")
    return repr(key)


REFERENCES: dict[str, list[tuple[str, EntityKind]]] = {
    "units": [("organization_id", EntityKind.organization)],
    "conditions": [("cohort_id", EntityKind.cohort)],
    "decisions": [("unit_id", EntityKind.unit), ("applies_to", EntityKind.organization)],
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
    stored = known_kinds(set().union(in_bundle, *expected.values()))
    for entity_id, kind in in_bundle.items():
        if entity_id in stored and stored[entity_id] != kind:
            row = next(
                r
                for rows in check.records.values()
                for r, rec in rows
                if getattr(rec, "id", None) == entity_id
            )
            check.error(row, "id", f"{entity_id!r} is already in the graph as {_a(stored[entity_id])}")
    kinds = stored | in_bundle
    if all(kinds.get(ref) == kind for kind, refs in expected.items() for ref in refs):
        return  # the usual case, decided on distinct ids; the row by row pass below locates errors
    wanted: list[tuple[RawRow, str, str, EntityKind]] = []
    for section, rows in check.records.items():
        for row, record in rows:
            for column, kind in REFERENCES.get(section, []):
                wanted.append((row, column, getattr(record, column), kind))
            if isinstance(record, Link):
                start, end = LINK_ENDS[record.type]
                wanted += [(row, "from_id", record.from_id, start), (row, "to_id", record.to_id, end)]
            wanted += [(row, "source_ids", s, EntityKind.source) for s in record.source_ids]
    for row, column, ref, kind in wanted:
        found = in_bundle.get(ref) or stored.get(ref)
        if found is None:
            check.error(row, column, f"{ref!r} is neither in the bundle nor in the graph")
        elif found != kind:
            check.error(row, column, f"{ref!r} is {_a(found)}, expected {_a(kind)}")


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
    return expected


def _a(kind: EntityKind) -> str:
    return ("an " if kind.value[0] in "aeiou" else "a ") + kind.value


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
                    f"project {link.project!r} already belongs to {owner!r} ({where}); "
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
                f"no CONTRACTS link carries project {decision.project!r}; the decision reaches "
                "only links without a project",
            )
        elif maker is not None and OrgKind.buyer in maker.kinds and project_owner != maker.id:
            check.error(
                row,
                "project",
                f"project {decision.project!r} belongs to {project_owner!r}; a decision of the buyer "
                f"{maker.id!r} cannot reach another buyer's project",
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

"""What changed between two revisions (DOMAIN.md section 6): facts added, changed and
retracted, and risk paths new, resolved, worse, better or unchanged.

Facts come from the store's earlier values (graph.revisions): only facts some revision
between the two set or ended are looked at. Risk paths are keyed by (decision, cohort,
dimension): their severity and likelihood depend on nothing else, so two paths with the
same key rank alike whatever chain they take. Only the risk paths of cohorts a changed
fact can reach are traced, once as of each revision (``affected_cohorts``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, Field

from laborgraph.graph.analysis.paths import Hop, RiskPath
from laborgraph.graph.model import Action, Cohort, Condition, Decision, Link, Organization, Record, Unit
from laborgraph.graph.revisions import FactVersion, value_at
from laborgraph.graph.view import AnyEntity
from laborgraph.graph.vocabulary import EntityKind, LinkType

ChangeClass = Literal["new", "resolved", "worse", "better", "unchanged", "added", "changed", "retracted"]
ChangeKind = Literal["risk_path", "condition", "entity", "link"]
PathKey = tuple[str, str, str]  # (decision_id, cohort_id, dimension)
# Listed first: what got worse or is new, then what got better, then facts, then the rest.
ORDER: dict[str, int] = {"worse": 0, "new": 1, "better": 2, "resolved": 3, "changed": 4, "added": 5,
                         "retracted": 6, "unchanged": 7}  # fmt: skip


class Change(BaseModel):
    change: ChangeClass
    kind: ChangeKind
    id: str | None = Field(description="the fact's id (a link: from|type|to|project); null for a risk path")
    decision_id: str | None = None
    cohort_id: str | None = None
    dimension: str | None = None
    buyer_id: str | None = Field(None, description="a risk path's buyer")
    revision: int = Field(description="the revision that made the change (the later one, unchanged)")
    from_revision: int
    to_revision: int
    before: str | None = Field(description="the value before, in words; null when there was none")
    after: str | None = Field(description="the value after, in words; null when there is none")
    evidence: str = Field(description="grade and sources the change rests on; a retraction's reason")


def fact_changes(versions: Mapping[str, list[FactVersion]], a: int, b: int) -> list[Change]:
    """Every fact whose value at revision ``a`` differs from its value at ``b``."""
    found = []
    for key, held in versions.items():
        before, after = value_at(held, a), value_at(held, b)
        if (before and before.record) == (after and after.record):
            continue
        record = (after or before).record  # type: ignore[union-attr]
        kind: ChangeKind = (
            "link" if isinstance(record, Link) else "condition" if isinstance(record, Condition) else "entity"
        )
        if after is None:
            ended = next(v for v in held if v.until is not None and a < v.until <= b)
            change: ChangeClass = "retracted"
            revision = ended.until
            evidence = f"retracted: {ended.retracted}" if ended.retracted else _evidence(record)
        else:
            change = "added" if before is None else "changed"
            revision = after.since
            evidence = _evidence(after.record)
        cohort_id, dimension = _condition_of(record)
        found.append(
            Change(
                change=change,
                kind=kind,
                id=key,
                cohort_id=cohort_id,
                dimension=dimension,
                revision=revision,  # type: ignore[arg-type]
                from_revision=a,
                to_revision=b,
                before=describe_fact(before.record) if before else None,
                after=describe_fact(after.record) if after else None,
                evidence=evidence,
            )
        )
    return found


def _condition_of(record: AnyEntity | Link) -> tuple[str | None, str | None]:
    """The (cohort, dimension) a fact is about: a condition's own, an action's target's."""
    if isinstance(record, Condition):
        return record.cohort_id, record.dimension.value
    if isinstance(record, Action):
        aim = record.aim
        return aim.cohort_id, aim.dimension and aim.dimension.value
    return None, None


def affected_cohorts(records: Iterable[AnyEntity | Link]) -> tuple[set[str], set[str]]:
    """The cohorts whose risk paths changed facts can alter directly, and the organizations
    below which every cohort's can (their supply links, units or decisions changed)."""
    cohorts: set[str] = set()
    organizations: set[str] = set()
    for record in records:
        if isinstance(record, Cohort):
            cohorts.add(record.id)
        elif isinstance(record, Condition):
            cohorts.add(record.cohort_id)
        elif isinstance(record, Link):
            (cohorts if record.type is LinkType.ENGAGES else organizations).add(record.to_id)
        elif isinstance(record, Organization):
            organizations.add(record.id)
        elif isinstance(record, Unit):
            organizations.add(record.organization_id)
        elif isinstance(record, Decision):
            organizations.add(record.applies_to)
    return cohorts, organizations


def path_changes(
    before: Mapping[PathKey, RiskPath], after: Mapping[PathKey, RiskPath], a: int, b: int, revision: int
) -> list[Change]:
    """Each risk path of either side, classed by its severity and likelihood then and now."""
    found = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        shown = new or old
        assert shown is not None
        found.append(
            Change(
                change=_path_class(old, new),
                kind="risk_path",
                id=None,
                decision_id=key[0],
                cohort_id=key[1],
                dimension=key[2],
                buyer_id=shown.buyer_id,
                revision=revision,
                from_revision=a,
                to_revision=b,
                before=describe_path(old) if old else None,
                after=describe_path(new) if new else None,
                evidence=_hops_evidence(shown.hops),
            )
        )
    return found


def _path_class(old: RiskPath | None, new: RiskPath | None) -> ChangeClass:
    if old is None:
        return "new"
    if new is None:
        return "resolved"
    if new.severity > old.severity or new.likelihood > old.likelihood:
        return "worse"
    if new.severity < old.severity or new.likelihood < old.likelihood:
        return "better"
    return "unchanged"


def path_key(path: RiskPath) -> PathKey:
    return (path.decision_id, path.cohort_id, path.dimension.value)


def ranked(changes: Iterable[Change]) -> list[Change]:
    """Worst news first; then by kind, ids."""
    return sorted(
        changes,
        key=lambda c: (ORDER[c.change], c.kind, c.cohort_id or "", c.dimension or "", c.decision_id or "",
                       c.id or ""),
    )  # fmt: skip


def counts(changes: Iterable[Change]) -> dict[str, int]:
    """How many changes of each class, as ``kind:change``."""
    found: dict[str, int] = {}
    for c in changes:
        found[f"{c.kind}:{c.change}"] = found.get(f"{c.kind}:{c.change}", 0) + 1
    return dict(sorted(found.items()))


# -- in words ------------------------------------------------------------------------


def describe_path(path: RiskPath) -> str:
    return f"severity {path.severity}, likelihood {path.likelihood:g} ({path.status.value})"


def describe_fact(record: Record) -> str:
    """A fact's value, in a few words an analyst reads in a table cell."""
    if isinstance(record, Condition):
        words = record.status.value
        if record.value is not None:
            words += f", {record.value:g} {record.value_unit or ''}".rstrip()
            if record.benchmark is not None:
                words += f" against {record.benchmark:g}"
        if record.observed_at:
            words += f", observed {record.observed_at.isoformat()}"
        return words
    if isinstance(record, Action):
        words = f"{record.kind.value} action on {record.target}, {record.status.value}"
        if record.due_at:
            words += f", due {record.due_at.isoformat()}"
        if record.closed_at and not record.is_open:
            words += f", closed {record.closed_at.isoformat()}"
        return words
    if isinstance(record, Link):
        words = f"{record.from_id} {record.type.value} {record.to_id}"
        return words + (f" (project {record.project})" if record.project else "")
    entity = record
    name = getattr(entity, "name", None) or getattr(entity, "title", None)
    kind = getattr(entity, "entity", EntityKind.organization).value
    return f"{kind} {name}" if name else kind


def _evidence(record: Record) -> str:
    sources = "|".join(record.source_ids) or "no source"
    return f"{record.grade.value} [{sources}]"


def _hops_evidence(hops: list[Hop]) -> str:
    condition = [hop for hop in hops if hop.relation == "CONDITION"]
    shown = condition or hops
    return "; ".join(
        f"{hop.claim}: {hop.evidence_grade.value} [{'|'.join(hop.source_ids) or 'no source'}]"
        for hop in shown
    )

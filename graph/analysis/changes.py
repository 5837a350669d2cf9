"""What changed between two revisions (DOMAIN.md section 6): facts added, changed and
retracted, and risk paths new, resolved, worse, better or unchanged.

Facts come from the store's earlier values (graph.revisions): only facts some revision
after the first one set or ended are read, and the graph as of either revision is the
current graph with those facts as they stood then (``as_of``). Risk paths are keyed by
(decision, cohort, dimension): their severity and likelihood depend on nothing else, so a
path exists when the decision reaches the cohort (graph.analysis.reach, as gaps and
fragmentation work it out) and the condition is not met, whatever chain it takes. Only the
cohorts a changed fact can reach are looked at (``affected_cohorts``), on each side.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Literal, NamedTuple, TypeVar

from pydantic import BaseModel, Field

from laborgraph.graph.analysis.reach import Reach
from laborgraph.graph.analysis.traverse import ENGAGES, org_distances, upstream_of
from laborgraph.graph.collector import collector_paused
from laborgraph.graph.model import (
    Action,
    Cohort,
    Condition,
    Decision,
    GraphData,
    Link,
    Organization,
    Record,
    Unit,
)
from laborgraph.graph.revisions import FactVersion, is_link_key, link_key, parse_link_key, value_at
from laborgraph.graph.scoring import ScoringConfig
from laborgraph.graph.store import MAX_DEPTH, Engagement, GraphReader
from laborgraph.graph.view import AnyEntity, GraphView
from laborgraph.graph.vocabulary import EntityKind, LinkType, Status

ChangeClass = Literal["new", "resolved", "worse", "better", "unchanged", "added", "changed", "retracted"]
ChangeKind = Literal["risk_path", "condition", "entity", "link"]
PathKey = tuple[str, str, str]  # (decision_id, cohort_id, dimension)
R = TypeVar("R", bound=Record)
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
            evidence = f"retracted: {ended.retracted}" if ended.retracted else describe_evidence(record)
        else:
            change = "added" if before is None else "changed"
            revision = after.since
            evidence = describe_evidence(after.record)
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


class PathRisk(NamedTuple):
    """What classes a risk path's change: its severity and likelihood, and what to show."""

    severity: int
    likelihood: float
    status: Status
    buyer_id: str
    evidence: str


def fact_key(record: Record) -> str:
    return link_key(record.key) if isinstance(record, Link) else record.id  # type: ignore[attr-defined]


def as_of(
    current: Iterable[R],
    versions: Mapping[str, list[FactVersion]],
    revision: int,
    keep: Callable[[Record], bool],
) -> list[R]:
    """``current`` records as they stood at ``revision``: those some later revision set or
    ended (every key of ``versions``) replaced by their value then, if ``keep`` wants it."""
    found = [record for record in current if fact_key(record) not in versions]
    for held in versions.values():
        then = value_at(held, revision)
        if then is not None and keep(then.record):
            found.append(then.record)  # type: ignore[arg-type]
    return found


def path_risks(
    reach: Reach, conditions: Iterable[Condition], config: ScoringConfig, hidden: set[str]
) -> dict[PathKey, PathRisk]:
    """Every risk path of these conditions' cohorts: each decision reaching the cohort on
    the condition's dimension, for each condition that is not met; ``hidden`` cohorts left out."""
    found: dict[PathKey, PathRisk] = {}
    buyers: dict[int, dict[str, str]] = {}  # per Reachers (shared by many cohorts): decision → buyer
    for condition in conditions:
        risk = config.risk_of(condition)
        if risk is None or condition.cohort_id in hidden:
            continue
        reachers = reach.of(condition.cohort_id)
        buyer_of = buyers.get(id(reachers))
        if buyer_of is None:
            buyer_of = buyers[id(reachers)] = {
                d.id: reachers.organization_of[d.unit_id] for d in reachers.decisions
            }
        claim = f"{condition.cohort_id} {condition.dimension.value} {condition.status.value}"
        evidence = f"{claim}: {describe_evidence(condition)}"
        for decision_id in reachers.deciding(condition.dimension):
            key = (decision_id, condition.cohort_id, condition.dimension.value)
            found[key] = PathRisk(risk[0], risk[1], condition.status, buyer_of[decision_id], evidence)
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


class Found(NamedTuple):
    """Changes worst news first, each with the buyers whose chain it touches; and the risk
    paths compared and found unchanged but not listed, counted by buyer."""

    changes: list[Change]
    chains: list[frozenset[str]]  # one per change: a risk path's buyer, the buyers a fact is below
    unchanged: Counter[str]

    def of_buyer(self, buyer: str) -> Found:
        """What touches ``buyer``'s chain: its decisions' risk paths and the facts of its chain."""
        kept = [(c, chain) for c, chain in zip(self.changes, self.chains, strict=True) if buyer in chain]
        unchanged = Counter({buyer: self.unchanged[buyer]})
        return Found([c for c, _ in kept], [chain for _, chain in kept], unchanged)


def path_changes(
    before: Mapping[PathKey, PathRisk],
    after: Mapping[PathKey, PathRisk],
    a: int,
    b: int,
    revision: int,
    unchanged: bool = False,
) -> Found:
    """Each risk path of either side, classed by its severity and likelihood then and now;
    ``unchanged`` ones listed only when asked (most of a large review), always counted."""
    found = []
    buyers: list[frozenset[str]] = []
    same: Counter[str] = Counter()
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        shown = new or old
        assert shown is not None
        change = _path_class(old, new)
        if change == "unchanged" and not unchanged:
            same[shown.buyer_id] += 1
            continue
        buyers.append(frozenset({shown.buyer_id}))
        found.append(
            Change.model_construct(  # a few hundred thousand on a large review: built as checked here
                change=change,
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
                evidence=shown.evidence,
            )
        )
    return Found(found, buyers, same)


def _path_class(old: PathRisk | None, new: PathRisk | None) -> ChangeClass:
    if old is None:
        return "new"
    if new is None:
        return "resolved"
    if new.severity > old.severity or new.likelihood > old.likelihood:
        return "worse"
    if new.severity < old.severity or new.likelihood < old.likelihood:
        return "better"
    return "unchanged"


def rank(c: Change) -> tuple[int, str, str, str, str, str]:
    """Worst news first; then by kind, ids."""
    return ORDER[c.change], c.kind, c.cohort_id or "", c.dimension or "", c.decision_id or "", c.id or ""


def counts(changes: Iterable[Change]) -> dict[str, int]:
    """How many changes of each class, as ``kind:change``."""
    found: dict[str, int] = {}
    for c in changes:
        found[f"{c.kind}:{c.change}"] = found.get(f"{c.kind}:{c.change}", 0) + 1
    return dict(sorted(found.items()))


# -- in words ------------------------------------------------------------------------


def describe_path(path: PathRisk) -> str:
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


def describe_evidence(record: Record) -> str:
    """A fact's evidence in a few words: its grade and its sources."""
    sources = "|".join(record.source_ids) or "no source"
    return f"{record.grade.value} [{sources}]"


# -- between two revisions, from one snapshot ------------------------------------------------


def between(
    reader: GraphReader,
    start: int,
    end: int,
    config: ScoringConfig,
    hides: Callable[[int | None], bool],
    unchanged: bool = False,
) -> Found:
    """Every change from revision ``start`` to ``end`` (0: the empty graph before the first),
    worst news first, with the buyers whose chain each touches (``Found.of_buyer``); cohorts
    ``hides`` says outputs suppress (by headcount) are left out. ``unchanged`` lists the
    risk paths compared and found unchanged too."""
    versions = reader.versions(reader.changed_after(start))
    facts = fact_changes(versions, start, end)
    named = set().union(*map(_named, facts))
    touched = [v.record for held in versions.values() for v in held
               if v.since <= end and (v.until is None or v.until > start)]  # fmt: skip
    cohorts, organizations = affected_cohorts(touched)
    skeleton_now = reader.skeleton()
    view_now: GraphView | None = None  # built once, for each side whose skeleton is today's
    sides = []
    for revision in (start, end):
        if not revision:
            skeleton = GraphView()
        elif _skeleton_as_now(versions, revision):
            view_now = view_now or _skeleton_view(skeleton_now.records())
            skeleton = view_now
        else:
            skeleton = _skeleton_view(as_of(skeleton_now.records(), versions, revision, _in_skeleton))
        sides.append((revision, skeleton))
    below = set(cohorts)
    for _, skeleton in sides:
        reached = {
            o
            for org in organizations
            if org in skeleton.graph
            for o in org_distances(skeleton, org, None, MAX_DEPTH)
        }
        below |= {link.to_id for link in reader.links_from(reached, ENGAGES, None)}
    below |= {v.record.to_id for held in versions.values() for v in held
              if isinstance(v.record, Link) and v.record.type is LinkType.ENGAGES
              and v.record.from_id in organizations}  # fmt: skip
    ordered = sorted(below)
    engaged_now = reader.links_into(ordered, ENGAGES, None)
    conditions_now = reader.conditions_of(ordered)
    cohorts_now = [e for e in reader.entities(ordered) if isinstance(e, Cohort)]
    # Whose chain a fact is in: its cohort's engagers too when no risk path needed it (an action's).
    beyond = named - below
    engaged_beyond_now = reader.links_into(sorted(beyond), ENGAGES, None)
    risks: list[dict[PathKey, PathRisk]] = []
    chains: list[BuyerChains] = []
    hidden: set[str] = set()
    for revision, skeleton in sides:
        if not revision:
            risks.append({})
            continue
        engaged = as_of(engaged_now, versions, revision, lambda r: _engages(r, below))
        engaged_beyond = as_of(engaged_beyond_now, versions, revision, lambda r: _engages(r, beyond))
        chains.append(BuyerChains(skeleton, [*engaged, *engaged_beyond]))
        shown = as_of(cohorts_now, versions, revision, lambda r: isinstance(r, Cohort) and r.id in below)
        hidden |= {c.id for c in shown if hides(c.headcount)}
        engagements = sorted(Engagement(link.to_id, link.from_id, link.project or "") for link in engaged)
        reach = Reach(skeleton, engagements)
        conditions = as_of(conditions_now, versions, revision,
                           lambda r: isinstance(r, Condition) and r.cohort_id in below)  # fmt: skip
        risks.append(path_risks(reach, conditions, config, hidden))
    then = [v.record for i in named for v in versions.get(i, ()) if isinstance(v.record, Cohort)]
    now = [e for e in reader.entities(named) if isinstance(e, Cohort)]
    hidden |= {c.id for c in [*then, *now] if hides(c.headcount)}  # small at either revision

    before, after = ({k: r for k, r in side.items() if k[1] not in hidden} for side in risks)
    paths = path_changes(before, after, start, end, end, unchanged)
    facts = [f for f in facts if not (_named(f) & hidden)]
    holders = [
        frozenset().union(*(side.holding(_named(f) | _aimed(f, versions)) for side in chains)) for f in facts
    ]
    listed = sorted(
        zip([*paths.changes, *facts], [*paths.chains, *holders], strict=True), key=lambda pair: rank(pair[0])
    )
    return Found([c for c, _ in listed], [chain for _, chain in listed], paths.unchanged)


class BuyerChains:
    """Whose chain holds what, at one revision: a buyer's chain is the organizations within
    MAX_DEPTH supply links below it (itself among them), its units and their decisions, and
    the cohorts those organizations engage (``engaged``: the ENGAGES links of the cohorts
    looked at). A buyer here is any organization with units: vendors decide too."""

    def __init__(self, skeleton: GraphView, engaged: Iterable[Link]) -> None:
        self.skeleton = skeleton
        self.buyers = {u.organization_id for u in skeleton.units.values()} & set(skeleton.graph)
        self.engagers: dict[str, set[str]] = {}
        for link in engaged:
            self.engagers.setdefault(link.to_id, set()).add(link.from_id)
        self._above: dict[str, frozenset[str]] = {}

    def holding(self, ids: Iterable[str]) -> frozenset[str]:
        """The buyers whose chain holds one of these organizations, units or cohorts."""
        found: set[str] = set()
        for i in ids:
            if i in self.skeleton.graph:
                found |= self.above(i)
            decision = self.skeleton.decisions.get(i)
            unit = self.skeleton.units.get(decision.unit_id if decision else i)
            if unit is not None and unit.organization_id in self.buyers:
                found.add(unit.organization_id)  # its own unit, or its unit's decision
            for org in self.engagers.get(i, ()):
                found |= self.above(org)
        return frozenset(found)

    def above(self, org: str) -> frozenset[str]:
        """The buyers ``org`` lies within MAX_DEPTH supply links below (itself, if a buyer)."""
        if org not in self._above:
            self._above[org] = frozenset(upstream_of(self.skeleton, org, MAX_DEPTH) & self.buyers)
        return self._above[org]


def _named(change: Change) -> set[str]:
    """The ids a change names: its cohort, its fact and a link's ends."""
    return {i for i in (change.cohort_id, change.id, *_ends(change.id)) if i}


def _aimed(change: Change, versions: Mapping[str, list[FactVersion]]) -> set[str]:
    """The unit owning an action that changed, and the decision it aims at, at any revision."""
    actions = (v.record for v in versions.get(change.id or "", ()) if isinstance(v.record, Action))
    return {i for a in actions for i in (a.owner_unit_id, a.aim.decision_id) if i}


def _skeleton_view(records: Iterable[Record]) -> GraphView:
    held = list(records)
    with collector_paused():
        skeleton = GraphView.of(GraphData.of(held))
    skeleton.project_owner = _project_owners(held)
    return skeleton


def _skeleton_as_now(versions: Mapping[str, list[FactVersion]], revision: int) -> bool:
    """Whether every organization, unit, decision and supply link some revision after the
    earlier one set or ended held at ``revision`` what it holds now (or was absent both times)."""
    for held in versions.values():
        if any(_in_skeleton(v.record) for v in held):
            now = next((v for v in held if v.until is None), None)
            if value_at(held, revision) is not now:
                return False
    return True


def _in_skeleton(record: Record) -> bool:
    if isinstance(record, Link):
        return record.type is not LinkType.ENGAGES
    return isinstance(record, Organization | Unit | Decision)


def _engages(record: Record, cohorts: set[str]) -> bool:
    return isinstance(record, Link) and record.type is LinkType.ENGAGES and record.to_id in cohorts


def _project_owners(records: Iterable[Record]) -> dict[str, str]:
    """Each project and the buyer whose CONTRACTS link carries it (the smallest id if two),
    from the records rather than the view's links: a view makes each link anew."""
    owners: dict[str, str] = {}
    for link in records:
        if isinstance(link, Link) and link.type is LinkType.CONTRACTS and link.project:
            owners[link.project] = min(owners.get(link.project, link.from_id), link.from_id)
    return owners


def _ends(fact_id: str | None) -> tuple[str, ...]:
    if fact_id and is_link_key(fact_id):
        from_id, _, to_id, _ = parse_link_key(fact_id)
        return (from_id, to_id)
    return ()

"""Actions and their measured effect (DOMAIN.md section 7): did the condition an action
targets get better once it was opened (once it was done, for a done action)?

An action is measured on each condition it targets: a condition (``cohort_id/dimension``)
or a risk path (``decision_id:cohort_id/dimension``) on that one condition; a decision on
every recorded condition the decision reaches (its dimensions, at the cohorts it reaches
within the default depth). On each condition:

- **before** is the newest dated observation on or before ``opened_at``;
- **after** is the newest dated observation after ``opened_at`` (after ``closed_at`` once the
  action is ``done``; a ``dropped`` action is measured as an open one);
- ``not_measured`` when either is missing, or when either says ``unknown`` (an unknown
  status is neither better nor worse than any other: it measured nothing);
- ``pay`` with a value and a benchmark on both sides compares the value as a share of its
  benchmark (a raise that keeps pace with a rising living wage is ``unchanged``); any other
  condition compares status, ``violates`` < ``at_risk`` < ``meets``.

A decision's action is ``worsened`` if any condition it reaches worsened (a worse condition
is never hidden by a better one), else ``improved`` if any improved, else ``unchanged`` if
any was measured, else ``not_measured``. Undated observations cannot be placed before or
after anything and are left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from operator import itemgetter

from pydantic import BaseModel, Field

from laborgraph.graph.analysis.changes import describe_fact
from laborgraph.graph.analysis.paths import PathAction, RiskPath
from laborgraph.graph.analysis.privacy import SHOW_ALL, SUPPRESSED_ID, Privacy, mask_id
from laborgraph.graph.analysis.regions import region
from laborgraph.graph.analysis.traverse import cohort_distances, decision_scope
from laborgraph.graph.errors import NotFound
from laborgraph.graph.model import Action, Cohort, Condition, Decision, TargetKind, condition_id
from laborgraph.graph.revisions import Observation
from laborgraph.graph.store import DEFAULT_DEPTH, GraphReader
from laborgraph.graph.vocabulary import (
    ActionKind,
    ActionStatus,
    Dimension,
    Effect,
    EvidenceGrade,
    Status,
)

_STATUS_ORDER = {Status.violates: 0, Status.at_risk: 1, Status.meets: 2}
# A decision's effect is the first of these any condition it reaches shows.
_PRECEDENCE = (Effect.worsened, Effect.improved, Effect.unchanged, Effect.not_measured)
SHARE_DIGITS = 4  # pay as a share of its benchmark, as compared and shown (0.4583 = 45.83 %)


class PayChange(BaseModel):
    """Pay before and after, each as a share of its own benchmark (1.0 is the benchmark)."""

    before: float
    after: float


class Measurement(BaseModel):
    condition_id: str
    effect: Effect
    before: Observation | None = Field(description="the newest observation on or before opened_at")
    after: Observation | None = Field(
        description="the newest observation after opened_at (after closed_at once done)"
    )
    pay: PayChange | None = Field(description="pay against its benchmark, when both sides give both")
    explanation: str


class TrackedAction(BaseModel):
    """An action as the analyst follows it: the action, whether it is overdue, and its effect."""

    id: str
    target: str
    target_kind: TargetKind
    owner_unit_id: str
    kind: ActionKind
    status: ActionStatus
    description: str | None
    opened_at: date
    due_at: date | None
    closed_at: date | None
    evidence_grade: EvidenceGrade
    source_ids: list[str]
    overdue: bool = Field(description="due_at has passed and the action is neither done nor dropped")
    effect: Effect
    condition_id: str | None = Field(
        description="the condition measured (for a decision: the one deciding the effect); null if none"
    )
    before: Observation | None = Field(description="its newest observation on or before opened_at")
    after: Observation | None = Field(
        description="its newest observation after opened_at (after closed_at once done)"
    )
    pay: PayChange | None = Field(description="pay against its benchmark, when both observations give both")
    explanation: str
    conditions: list[Measurement] = Field(
        description="for a decision: every recorded condition it reaches, measured, by id; else empty"
    )


# -- the rule ----------------------------------------------------------------------------


def is_overdue(action: Action, today: date) -> bool:
    return action.is_open and action.due_at is not None and action.due_at < today


def measured_from(action: Action) -> date:
    """The day after which an observation counts as "after" the action."""
    if action.status is ActionStatus.done and action.closed_at is not None:
        return action.closed_at
    return action.opened_at


def measure(
    action: Action, measured: str, observations: Iterable[Observation], shown: str | None = None
) -> Measurement:
    """The action's effect on one condition, from that condition's observations; ``shown``
    is the condition's id as the output may name it (graph.analysis.privacy)."""
    newest_first = sorted(
        ((o.condition.observed_at, o) for o in observations if o.condition.observed_at is not None),
        key=itemgetter(0),
        reverse=True,
    )
    since = measured_from(action)
    measured = shown or measured
    before = next((o for day, o in newest_first if day <= action.opened_at), None)
    after = next((o for day, o in newest_first if day > since), None)
    if before is None or after is None:
        missing = (
            f"no dated observation of {measured} on or before {action.opened_at}"
            if before is None
            else f"no observation of {measured} after {since}"
        )
        return Measurement(
            condition_id=measured, effect=Effect.not_measured, before=before, after=after, pay=None,
            explanation=f"not measured: {missing}",
        )  # fmt: skip
    effect, pay, why = compare(before.condition, after.condition)
    words = f"{why} (before: {describe_fact(before.condition)}; after: {describe_fact(after.condition)})"
    return Measurement(
        condition_id=measured, effect=effect, before=before, after=after, pay=pay, explanation=words
    )


def compare(before: Condition, after: Condition) -> tuple[Effect, PayChange | None, str]:
    """How a condition went from one observation to a later one, and why, in words."""
    shares = _share(before), _share(after)
    if shares[0] is not None and shares[1] is not None:
        pay = PayChange(before=shares[0], after=shares[1])
        effect = (
            Effect.improved if pay.after > pay.before else Effect.worsened if pay.after < pay.before
            else Effect.unchanged
        )  # fmt: skip
        went = f"pay went from {pay.before:.0%} to {pay.after:.0%} of its benchmark"
        return effect, pay, f"{effect.value}: {went}"
    if Status.unknown in (before.status, after.status):
        return Effect.not_measured, None, "not measured: an unknown status is neither better nor worse"
    if before.status is after.status:
        return Effect.unchanged, None, f"unchanged: {after.status.value} before and after"
    rank_before, rank_after = _STATUS_ORDER[before.status], _STATUS_ORDER[after.status]
    effect = Effect.improved if rank_after > rank_before else Effect.worsened
    return effect, None, f"{effect.value}: from {before.status.value} to {after.status.value}"


def _share(condition: Condition) -> float | None:
    if condition.dimension is not Dimension.pay or condition.value is None or not condition.benchmark:
        return None
    return round(condition.value / condition.benchmark, SHARE_DIGITS)


def track(
    action: Action, measurements: Sequence[Measurement], today: date, target: str | None = None
) -> TrackedAction:
    """The action with its overdue flag and its effect over every condition measured;
    ``target`` is its target as the output may show it."""
    measurements = sorted(measurements, key=lambda m: m.condition_id)
    effect = next((e for e in _PRECEDENCE if any(m.effect is e for m in measurements)), Effect.not_measured)
    deciding = next((m for m in measurements if m.effect is effect), None)
    aim = action.aim
    if deciding is None:
        explanation = f"not measured: {aim.decision_id} reaches no recorded condition"
    elif aim.kind == "decision":
        tally = ", ".join(
            f"{n} {e.value}" for e in _PRECEDENCE if (n := sum(m.effect is e for m in measurements))
        )
        explanation = (
            f"{aim.decision_id} reaches {len(measurements)} recorded conditions ({tally}); "
            f"{deciding.condition_id}: {deciding.explanation}"
        )
    else:
        explanation = deciding.explanation
    return TrackedAction(
        id=action.id, target=target or action.target, target_kind=aim.kind,
        owner_unit_id=action.owner_unit_id, kind=action.kind, status=action.status,
        description=action.description,
        opened_at=action.opened_at, due_at=action.due_at, closed_at=action.closed_at,
        evidence_grade=action.grade, source_ids=list(action.source_ids),
        overdue=is_overdue(action, today), effect=effect,
        condition_id=deciding.condition_id if deciding else None,
        before=deciding.before if deciding else None, after=deciding.after if deciding else None,
        pay=deciding.pay if deciding else None, explanation=explanation,
        conditions=measurements if aim.kind == "decision" else [],
    )  # fmt: skip


def path_targets(decision_id: str, cohort_id: str, dimension: str) -> tuple[str, str, str]:
    """The targets an action on this risk path may name: its condition, the path, its decision."""
    condition = condition_id(cohort_id, dimension)
    return condition, f"{decision_id}:{condition}", decision_id


# -- read from a store -------------------------------------------------------------------


def tracked_actions(
    reader: GraphReader, today: date, privacy: Privacy = SHOW_ALL, actions: Sequence[Action] | None = None
) -> list[TrackedAction]:
    """Every action (or those given), by id, with its effect from the stored observations.
    A cohort ``privacy`` hides keeps its place but not its id (``Shown``)."""
    actions = reader.actions() if actions is None else actions
    decisions = {a.aim.decision_id or "" for a in actions if a.aim.kind == "decision"}
    reached = decision_reach(reader, decisions)
    measured = {a.id: _measured_conditions(a, reached) for a in actions}
    series = _series(reader, {c for ids in measured.values() for c in ids})
    cohorts = {c.partition("/")[0] for ids in measured.values() for c in ids}
    shown = Shown.of(reader, cohorts | {a.aim.cohort_id for a in actions if a.aim.cohort_id}, privacy)
    return [
        track(
            a,
            [measure(a, c, map(shown.observation, series.get(c, ())), shown.id(c)) for c in measured[a.id]],
            today,
            shown.target(a),
        )
        for a in sorted(actions, key=lambda a: a.id)
    ]


@dataclass(frozen=True)
class Shown:
    """What an output may show of the cohorts some actions measure: a hidden cohort's id is
    masked, and its observations lose what could single it out (note, extra columns)."""

    hidden: frozenset[str]

    @classmethod
    def of(cls, reader: GraphReader, cohort_ids: Collection[str], privacy: Privacy) -> Shown:
        if not privacy.min_headcount:
            return cls(frozenset())
        found = reader.entities(cohort_ids)
        return cls(frozenset(c.id for c in found if isinstance(c, Cohort) and privacy.hides(c.headcount)))

    def id(self, condition: str) -> str:
        return mask_id(condition, condition.partition("/")[0]) if self._hides(condition) else condition

    def target(self, action: Action) -> str:
        aim = action.aim
        if aim.cohort_id is None or aim.cohort_id not in self.hidden:
            return action.target
        shown = self.id(aim.condition_id or "")
        return shown if aim.kind == "condition" else f"{aim.decision_id}:{shown}"

    def observation(self, observation: Observation) -> Observation:
        if not self._hides(observation.condition.id):
            return observation
        plain: dict[str, object] = {"cohort_id": SUPPRESSED_ID, "note": None, "extra": {}}
        return observation.model_copy(update={"condition": observation.condition.model_copy(update=plain)})

    def _hides(self, condition: str) -> bool:
        return bool(self.hidden) and condition.partition("/")[0] in self.hidden


def _measured_conditions(action: Action, reached: Mapping[str, list[str]]) -> list[str]:
    aim = action.aim
    if aim.condition_id is not None:
        return [aim.condition_id]
    return reached.get(aim.decision_id or "", [])


def decision_reach(
    reader: GraphReader, decision_ids: Collection[str], depth: int = DEFAULT_DEPTH
) -> dict[str, list[str]]:
    """The recorded conditions each decision reaches: its dimensions at the cohorts it reaches
    within ``depth`` links, by condition id. A decision no longer in the graph reaches none."""
    reached: dict[str, list[str]] = {}
    for decision_id in sorted(decision_ids):
        try:
            view = region(reader, decision_id)
        except NotFound:
            continue
        decision = view.decisions.get(decision_id)
        if not isinstance(decision, Decision):
            continue
        cohorts = cohort_distances(view, decision.applies_to, decision_scope(view, decision), depth)
        reached[decision_id] = sorted(
            condition_id(cohort, dim)
            for cohort in cohorts
            for dim in decision.effective_dimensions
            if dim in view.conditions.get(cohort, {})
        )
    return reached


def _series(reader: GraphReader, condition_ids: Collection[str]) -> dict[str, list[Observation]]:
    grouped: dict[str, list[Observation]] = defaultdict(list)
    for observation in reader.observations(condition_ids) if condition_ids else ():
        grouped[observation.condition.id].append(observation)
    return grouped


def with_open_actions(reader: GraphReader, paths: Sequence[RiskPath], today: date) -> list[RiskPath]:
    """The paths, each carrying the open actions on its condition, itself or its decision,
    measured on the path's condition."""
    refs = {ref for p in paths for ref in (p.cohort_id, p.decision_id)}
    by_target: dict[str, list[Action]] = defaultdict(list)
    for action in reader.actions(refs) if refs else ():
        if action.is_open:
            by_target[action.target].append(action)
    carrying = []
    for path in paths if by_target else ():
        targets = path_targets(path.decision_id, path.cohort_id, path.dimension.value)
        on = sorted((a for t in targets for a in by_target.get(t, ())), key=lambda a: a.id)
        if on:
            carrying.append((path, targets[0], on))
    series = _series(reader, {measured for _, measured, _ in carrying})
    for path, measured, on in carrying:
        path.actions = [
            PathAction(
                id=a.id,
                target=a.target,
                kind=a.kind,
                status=a.status,
                owner_unit_id=a.owner_unit_id,
                description=a.description,
                due_at=a.due_at,
                overdue=is_overdue(a, today),
                effect=measure(a, measured, series.get(measured, ())).effect,
            )  # fmt: skip
            for a in on
        ]
    return list(paths)

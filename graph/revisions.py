"""Reviews over time (DOMAIN.md section 6): revisions, the earlier values of every fact,
condition observations, and retraction.

Every write that changes something is one revision. A store keeps, for each entity and
link, the revision that first and last set it; a value replaced or retracted moves to the
store's earlier values with the revisions it held between (``FactVersion``). What a write
changes is worked out here, once, for both stores (``plan_write``): the stores only carry
the plan out in their own language.

Conditions are series of observations keyed by ``observed_at``. A row dated as the current
observation, or undated, updates it (the upsert rule); a newer date makes a new current
observation; an older one joins the series and leaves the current condition as it is.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from laborgraph.graph.errors import BundleIssue, InvalidBundle, NotFound
from laborgraph.graph.model import Action, Condition, Decision, GraphData, Link, LinkKey, Unit
from laborgraph.graph.view import AnyEntity, merge
from laborgraph.graph.vocabulary import EntityKind, LinkType

FactKind = Literal["entity", "link"]
MAX_LABEL, MAX_REASON = 200, 1000  # characters of a revision label, of a retraction reason
ALL_LINK_TYPES = tuple(LinkType)
# The label of revision 1 when a store written before revisions were kept is opened.
EARLIER_RELEASE = "stored by an earlier release, before revisions were kept"


class WriteNote(BaseModel):
    """What a revision records of the write that made it, besides what changed."""

    label: str | None = Field(default=None, max_length=MAX_LABEL)
    digest: str = Field(default="", description="sha256 of the bundle as read (hex)")
    writer: str = Field(default="cli", description="the API key's name, or cli")


class Revision(BaseModel):
    number: int = Field(description="goes up by one with every write that changes something")
    at: datetime = Field(description="when it was committed (UTC)")
    label: str | None = None
    digest: str
    writer: str
    counts: dict[str, int] = Field(
        description="what changed: added, changed and retracted facts, new observations"
    )


@dataclass(frozen=True)
class Written:
    """What a write did: the revision it made (None: it changed nothing), and the cohorts its
    retractions left with no organization engaging them."""

    revision: Revision | None
    orphaned_cohorts: tuple[str, ...] = ()


class Retraction(BaseModel):
    """A fact to take out of every answer: an entity by id, or a link by its key."""

    model_config = {"frozen": True}

    id: str | None = None
    link: tuple[str, LinkType, str, str] | None = None  # (from_id, type, to_id, project or "")
    reason: str = Field(min_length=1, max_length=MAX_REASON)

    @property
    def key(self) -> str:
        return self.id if self.id is not None else link_key(self.link)  # type: ignore[arg-type]


class FactVersion(BaseModel):
    """One value a fact held, from revision ``since`` until ``until`` (None: it still holds);
    ``retracted`` is the reason when ``until`` is the revision that retracted it."""

    key: str
    kind: FactKind
    since: int
    until: int | None
    record: AnyEntity | Link
    retracted: str | None = None


def value_at(versions: Iterable[FactVersion], revision: int) -> FactVersion | None:
    """The version of a fact that held at ``revision``, if it existed then."""
    for version in versions:
        if version.since <= revision and (version.until is None or revision < version.until):
            return version
    return None


class Observation(BaseModel):
    revision: int = Field(description="the revision that last set this observation")
    current: bool
    condition: Condition


def link_key(key: LinkKey | tuple[str, LinkType, str, str]) -> str:
    """A link's key as one string, as history stores it ("|" is never part of an id)."""
    from_id, link_type, to_id, project = key
    return f"{from_id}|{LinkType(link_type).value}|{to_id}|{project}"


def parse_link_key(key: str) -> LinkKey:
    from_id, link_type, to_id, project = key.split("|", 3)
    return (from_id, LinkType(link_type), to_id, project)


def is_link_key(key: str) -> bool:
    return key.count("|") == 3


# -- what a write changes -----------------------------------------------------------


class StoredFacts(Protocol):
    """The reads planning a write needs (a GraphReader has them all)."""

    def entities(self, ids: Collection[str]) -> list[AnyEntity]: ...

    def links_by_key(self, keys: Collection[LinkKey]) -> list[Link]: ...

    def links_from(
        self, ids: Collection[str], types: Collection[LinkType], projects: Collection[str] | None
    ) -> list[Link]: ...

    def links_into(
        self, ids: Collection[str], types: Collection[LinkType], projects: Collection[str] | None
    ) -> list[Link]: ...

    def units_of(self, organization_ids: Collection[str]) -> list[Unit]: ...

    def decisions_by(self, unit_ids: Collection[str]) -> list[Decision]: ...

    def decisions_applying_to(self, organization_ids: Collection[str]) -> list[Decision]: ...

    def conditions_of(self, cohort_ids: Collection[str]) -> list[Condition]: ...

    def actions(self, refs: Collection[str] | None = None) -> list[Action]: ...


@dataclass
class WritePlan:
    """What one write does to the stored graph."""

    new_entities: list[AnyEntity] = field(default_factory=list)
    changed_entities: list[AnyEntity] = field(default_factory=list)  # merged: the value to store
    new_links: list[Link] = field(default_factory=list)
    changed_links: list[Link] = field(default_factory=list)
    observations: list[Condition] = field(default_factory=list)  # to keep in the series, by date
    # One flag an observation: True when it is the current condition this plan stores (the
    # same record), which a store may then keep as an observation without writing it twice.
    observations_current: list[bool] = field(default_factory=list)
    retracted_entities: dict[str, str] = field(default_factory=dict)  # id -> reason
    retracted_links: dict[LinkKey, str] = field(default_factory=dict)
    touched_cohorts: set[str] = field(default_factory=set)  # whose risk rows must be refreshed...
    # ...every one of them (the cohort or its engagements changed), not only its written conditions'
    whole_cohorts: set[str] = field(default_factory=set)
    orphaned_cohorts: list[str] = field(default_factory=list)  # left with no engager

    def is_empty(self) -> bool:
        return not (
            self.new_entities
            or self.changed_entities
            or self.new_links
            or self.changed_links
            or self.observations
            or self.retracted_entities
            or self.retracted_links
        )

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.new_entities) + len(self.new_links),
            "changed": len(self.changed_entities) + len(self.changed_links),
            "retracted": len(self.retracted_entities) + len(self.retracted_links),
            "observations": len(self.observations),
        }

    def revision(self, number: int, note: WriteNote) -> Revision:
        """The record of the revision this plan makes, committed now."""
        return Revision(
            number=number,
            at=datetime.now(UTC).replace(microsecond=0),
            label=note.label,
            digest=note.digest,
            writer=note.writer,
            counts=self.counts(),
        )

    def entities_to_store(self) -> list[AnyEntity]:
        return [*self.new_entities, *self.changed_entities]

    def links_to_store(self) -> list[Link]:
        return [*self.new_links, *self.changed_links]

    def conditions_to_store(self) -> list[Condition]:
        return [e for e in self.entities_to_store() if isinstance(e, Condition)]


def _day_order(day: date | None) -> date:
    return day or date.min  # undated observations count as older than any dated one


def place_observation(current: Condition | None, incoming: Condition) -> Condition | None:
    """The current condition once ``incoming`` is observed; None if it stays as it is."""
    if current is None:
        return incoming
    if incoming.observed_at is None or incoming.observed_at == current.observed_at:
        return merge(current, incoming)  # the same observation, updated
    if _day_order(incoming.observed_at) > _day_order(current.observed_at):
        return incoming  # a newer observation: the condition as observed then, whole
    return None  # an older observation: kept in the series only


def plan_write(
    stored: StoredFacts,
    data: GraphData,
    retractions: Iterable[Retraction] = (),
    stored_observations: Mapping[tuple[str, str], Condition] | None = None,
) -> WritePlan:
    """What writing ``data`` and retracting ``retractions`` changes in the stored graph.

    ``stored_observations`` holds every stored observation of the conditions the bundle
    observes, by (condition id, date) (``observation_key``), for keeping them in the series
    merged with what is stored: an undated row updates the current one, whatever its date."""
    plan = WritePlan()
    retractions = list(retractions)
    incoming = data.entities()
    ids = [e.id for e in incoming]  # a condition's id is made anew on every call: once here
    before = {e.id: e for e in stored.entities(set(ids))}
    observed = stored_observations or {}
    merged: dict[str, AnyEntity] = {}
    by_date: dict[tuple[str, str], Condition] = {}
    for at in sorted(range(len(incoming)), key=lambda i: _observation_order(incoming[i])):
        entity, entity_id = incoming[at], ids[at]
        current = merged.get(entity_id) or before.get(entity_id)
        if isinstance(entity, Condition):
            placed = place_observation(current, entity)  # type: ignore[arg-type]
            if placed is not None:
                merged[entity_id] = placed
            seen = (entity_id, _iso(entity.observed_at if placed is None else placed.observed_at))
            earlier = by_date.get(seen) or observed.get(seen)
            by_date[seen] = placed if placed is not None else merge(earlier, entity)
        else:
            merged[entity_id] = merge(current, entity)
    # In the bundle's order, not the date order merged in: a store lays rows out as written,
    # and a cohort's conditions read back together when written together.
    stored_conditions: set[str] = set()
    for entity_id in dict.fromkeys(ids):
        value, old = merged.get(entity_id), before.get(entity_id)
        if value is None:
            continue  # older observations only: the stored condition stays as it is
        if old is None:
            plan.new_entities.append(value)
        elif old != value:
            plan.changed_entities.append(value)
        else:
            continue
        if isinstance(value, Condition):
            stored_conditions.add(entity_id)
    for seen, observation in by_date.items():
        if observed.get(seen) != observation:
            plan.observations.append(observation)
            plan.observations_current.append(seen[0] in stored_conditions and merged[seen[0]] is observation)

    # A link with an end this write creates cannot be stored yet: no need to look it up.
    created = set(ids) - set(before)
    keys = {link.key for link in data.links if link.from_id not in created and link.to_id not in created}
    stored_links = {link.key: link for link in stored.links_by_key(keys)}
    merged_links: dict[LinkKey, Link] = {}
    for link in data.links:
        merged_links[link.key] = merge(merged_links.get(link.key) or stored_links.get(link.key), link)
    for key, link in merged_links.items():
        old_link = stored_links.get(key)
        if old_link is None:
            plan.new_links.append(link)
        elif old_link != link:
            plan.changed_links.append(link)

    _plan_retractions(stored, retractions, plan)
    _refuse_writing_what_is_retracted(plan)
    plan.orphaned_cohorts = _orphaned_cohorts(stored, plan)
    plan.whole_cohorts = (
        {e.id for e in plan.entities_to_store() if e.entity is EntityKind.cohort}
        | {link.to_id for link in plan.links_to_store() if link.type is LinkType.ENGAGES}
        | {key[2] for key in plan.retracted_links if key[1] is LinkType.ENGAGES}
        | {i.partition("/")[0] for i in plan.retracted_entities}  # cohorts, and conditions' cohorts
    )
    plan.touched_cohorts = plan.whole_cohorts | {c.cohort_id for c in plan.conditions_to_store()}
    return plan


def _observation_order(entity: AnyEntity) -> tuple[int, date]:
    # Conditions in date order, so a bundle's newest observation of each ends up current.
    if isinstance(entity, Condition):
        return (1, _day_order(entity.observed_at))
    return (0, date.min)


def _iso(day: date | None) -> str:
    return "" if day is None else day.isoformat()


def observation_key(condition: Condition) -> tuple[str, str]:
    """(condition id, observed_at as ISO text or "" when undated): how the series is keyed."""
    return (condition.id, _iso(condition.observed_at))


def _references(entity: AnyEntity) -> tuple[str, ...]:
    """The entities a record refers to by id, besides through links."""
    if isinstance(entity, Unit):
        return (entity.organization_id,)
    if isinstance(entity, Decision):
        return (entity.unit_id, entity.applies_to)
    if isinstance(entity, Condition):
        return (entity.cohort_id,)
    if isinstance(entity, Action):
        aim = entity.aim
        return tuple(i for i in (entity.owner_unit_id, aim.decision_id, aim.cohort_id) if i)
    return ()


def _refuse_writing_what_is_retracted(plan: WritePlan) -> None:
    """InvalidBundle when a write stores a fact its retractions take away (named, or taken
    with what it belongs to), or one that refers to a retracted entity: it would come back
    from its retraction, or point at nothing."""
    gone, gone_links = plan.retracted_entities, plan.retracted_links
    if not gone and not gone_links:
        return
    issues = []
    for entity in plan.entities_to_store():
        where = f"{entity.entity.value}s.csv"
        if entity.id in gone:
            issues.append(BundleIssue(file=where, message=f"{entity.id!r} is retracted: {gone[entity.id]}"))
            continue
        issues += [
            BundleIssue(
                file=where, message=f"{entity.id!r} refers to {ref!r}, which is retracted: {gone[ref]}"
            )
            for ref in _references(entity)
            if ref in gone
        ]
    for link in plan.links_to_store():
        shown = link_key(link.key)
        if link.key in gone_links:
            issues.append(
                BundleIssue(file="links.csv", message=f"{shown!r} is retracted: {gone_links[link.key]}")
            )
            continue
        issues += [
            BundleIssue(file="links.csv", message=f"{shown!r} links {end!r}, which is retracted: {gone[end]}")
            for end in dict.fromkeys((link.from_id, link.to_id))
            if end in gone
        ]
    if issues:
        raise InvalidBundle(issues)


def _orphaned_cohorts(stored: StoredFacts, plan: WritePlan) -> list[str]:
    """The cohorts whose every engagement the plan's retractions end, and that it does not
    retract itself or engage anew."""
    engaged = {key[2] for key in plan.retracted_links if key[1] is LinkType.ENGAGES}
    engaged -= set(plan.retracted_entities)
    still = {link.to_id for link in plan.links_to_store() if link.type is LinkType.ENGAGES}
    for link in stored.links_into(engaged, (LinkType.ENGAGES,), None):
        if link.key not in plan.retracted_links:
            still.add(link.to_id)
    return sorted(engaged - still)


def _plan_retractions(stored: StoredFacts, retractions: list[Retraction], plan: WritePlan) -> None:
    """Each retraction and what it takes with it: an organization its units, their decisions,
    the decisions applying to it and its links; a unit its decisions; a cohort its conditions
    and links; and any of these the actions on them or owned by them."""
    entity_reasons = {r.id: r.reason for r in retractions if r.id is not None}
    asked = {(r.link[0], LinkType(r.link[1]), r.link[2], r.link[3]): r.reason for r in retractions if r.link}
    held = {link.key for link in stored.links_by_key(asked)}
    for key, reason in asked.items():
        if key not in held:
            raise NotFound(link_key(key), "link")
        plan.retracted_links[key] = reason
    if not entity_reasons:
        return
    found = {e.id: e for e in stored.entities(entity_reasons)}
    unknown = sorted(set(entity_reasons) - set(found))
    if unknown:
        raise NotFound(unknown[0])
    reasons = dict(entity_reasons)

    def cascade(ids: Iterable[str], reason_of: Mapping[str, str], child_of: Mapping[str, str]) -> None:
        for child in ids:
            reasons.setdefault(child, f"{reason_of[child_of[child]]} (retracted with {child_of[child]})")

    organizations = [i for i, e in found.items() if e.entity is EntityKind.organization]
    units = stored.units_of(organizations)
    cascade([u.id for u in units], reasons, {u.id: u.organization_id for u in units})
    unit_ids = [i for i, e in found.items() if e.entity is EntityKind.unit] + [u.id for u in units]
    by_unit = stored.decisions_by(unit_ids)
    cascade([d.id for d in by_unit], reasons, {d.id: d.unit_id for d in by_unit})
    applying = stored.decisions_applying_to(organizations)
    cascade([d.id for d in applying], reasons, {d.id: d.applies_to for d in applying})
    cohorts = [i for i, e in found.items() if e.entity is EntityKind.cohort]
    conditions = stored.conditions_of(cohorts)
    cascade([c.id for c in conditions], reasons, {c.id: c.cohort_id for c in conditions})
    # An action goes with the cohort or decision it is on, or the unit that owns it; a
    # retracted condition leaves its actions on the (cohort, dimension), now unrecorded.
    taken = {i for i in reasons if "/" not in i}
    on = {a.id: a.aim.ref for a in stored.actions(taken)}
    owned = {a.id: a.owner_unit_id for a in stored.actions() if a.owner_unit_id in taken} if unit_ids else {}
    cascade([*on, *owned], reasons, {**owned, **on})
    plan.retracted_entities = reasons
    ends = organizations + cohorts
    links = stored.links_from(ends, ALL_LINK_TYPES, None) + stored.links_into(ends, ALL_LINK_TYPES, None)
    for link in links:
        end = link.from_id if link.from_id in reasons else link.to_id
        plan.retracted_links.setdefault(link.key, f"{reasons[end]} (retracted with {end})")

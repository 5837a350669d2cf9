"""The domain model: entities, links and the graph data a bundle carries.

Every model is frozen and forbids unknown fields; unknown bundle columns travel in
``extra`` so they are kept but can never overwrite a core field.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from datetime import date
from functools import cache
from typing import Annotated, Literal, NamedTuple

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    computed_field,
    field_validator,
    model_validator,
)

from laborgraph.graph.vocabulary import (
    DEFAULT_GRADE,
    LEVER_DIMENSIONS,
    OPEN_STATUSES,
    ActionKind,
    ActionStatus,
    Dimension,
    EmploymentType,
    EntityKind,
    EvidenceGrade,
    Lever,
    LinkType,
    OrgKind,
    SourceKind,
    Status,
    UnitFunction,
    WorkSetting,
)

# Ids travel in URLs, CSV cells and Cypher parameters; "/" is kept free for condition ids.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:~-]{0,127}$"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Scalar = str | int | float | bool
Extra = dict[str, Scalar]
INT64 = 2**63


def check_scalar(value: object) -> object:
    """A value fit for an extra property: text, boolean, 64-bit integer or finite number."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if not -INT64 <= value < INT64:
            raise ValueError(f"{value} does not fit in a 64-bit integer")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a finite number")
        return value
    raise ValueError("extra properties must be flat scalars (text, number or boolean)")


def check_country(code: str) -> str:
    """Return an upper-case ISO 3166-1 alpha-2 code or raise ValueError."""
    code = code.strip().upper()
    if not _is_country(code):
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


@cache
def _is_country(code: str) -> bool:
    """Looked up once per code: reading a million cohorts back checks the same few hundred."""
    import pycountry  # imported on use: a 10k-entry table nobody needs at import

    return len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None


class Record(BaseModel):
    """Fields every entity and link shares: evidence and kept extra columns."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)

    evidence_grade: EvidenceGrade | None = None
    source_ids: tuple[Id, ...] = ()
    extra: Extra = Field(default_factory=dict)

    @field_validator("extra", mode="before")
    @classmethod
    def _flat_scalars(cls, extra: object) -> object:
        if isinstance(extra, dict):
            for key, value in extra.items():
                try:
                    check_scalar(value)
                except ValueError as exc:
                    raise ValueError(f"extra property {key!r}: {exc}") from None
        return extra

    @property
    def grade(self) -> EvidenceGrade:
        return self.evidence_grade or DEFAULT_GRADE


class Organization(Record):
    entity: Literal[EntityKind.organization] = EntityKind.organization
    id: Id
    name: Name
    kinds: tuple[OrgKind, ...] = Field(min_length=1)
    country: str

    _country = field_validator("country")(check_country)


class Unit(Record):
    entity: Literal[EntityKind.unit] = EntityKind.unit
    id: Id
    organization_id: Id
    name: Name
    function: UnitFunction = UnitFunction.other


class Cohort(Record):
    entity: Literal[EntityKind.cohort] = EntityKind.cohort
    id: Id
    name: Name
    country: str
    employment_type: EmploymentType = EmploymentType.unknown
    work_setting: WorkSetting = WorkSetting.unknown
    headcount: int | None = Field(default=None, ge=0)
    task_types: tuple[str, ...] = ()
    region: Name | None = None  # where in the country: the region a benchmark may be for

    _country = field_validator("country")(check_country)


def derive_pay_status(value: float, benchmark: float) -> Status:
    """Status of effective pay against a living-wage benchmark in the same unit."""
    if value < benchmark:
        return Status.violates
    if value < 1.1 * benchmark:
        return Status.at_risk
    return Status.meets


class Condition(Record):
    """One dimension of one cohort's conditions; its id is ``cohort_id/dimension``."""

    entity: Literal[EntityKind.condition] = EntityKind.condition
    cohort_id: Id
    dimension: Dimension
    status: Status
    value: float | None = Field(default=None, allow_inf_nan=False)
    value_unit: str | None = None
    benchmark: float | None = Field(default=None, allow_inf_nan=False)
    observed_at: date | None = None
    note: str | None = None
    # Set when ``benchmark`` was taken from benchmarks.csv (graph.benchmarks), not given.
    benchmark_id: Id | None = None

    @model_validator(mode="before")
    @classmethod
    def _derive_pay(cls, data: object) -> object:
        if not isinstance(data, dict) or data.get("dimension") != Dimension.pay:
            return data
        value, benchmark = data.get("value"), data.get("benchmark")
        if value is None or benchmark is None:
            return data
        try:
            derived = derive_pay_status(float(value), float(benchmark))
        except (TypeError, ValueError):
            return data  # field validation reports the non-number
        if not (math.isfinite(float(value)) and math.isfinite(float(benchmark))):
            return data  # field validation reports the non-finite number
        return {**data, "status": derived}

    @property
    def id(self) -> str:
        return condition_id(self.cohort_id, self.dimension)


def condition_id(cohort_id: str, dimension: str) -> str:
    return f"{cohort_id}/{dimension}"


def region_key(region: str | None) -> str:
    """A region as benchmarks match it: case and spacing aside ('Nairobi' is 'nairobi ')."""
    return " ".join(region.split()).casefold() if region else ""


def benchmark_id(country: str, region: str | None, value_unit: str, valid_from: date) -> str:
    """The id of the benchmark for a place and unit from a day on: derived from them, so
    loading the same benchmark again finds it, whatever else its row says."""
    key = "\x1f".join((country, region_key(region), value_unit, valid_from.isoformat()))
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return f"benchmark:{country}:{valid_from.isoformat()}:{digest}"


class Benchmark(Record):
    """A living wage for a country, or one of its regions, in one unit, from a day on."""

    entity: Literal[EntityKind.benchmark] = EntityKind.benchmark
    country: str
    region: Name | None = None
    value: float = Field(gt=0, allow_inf_nan=False)
    value_unit: Name
    valid_from: date

    _country = field_validator("country")(check_country)

    @model_validator(mode="before")
    @classmethod
    def _derived_id(cls, data: object) -> object:
        if isinstance(data, dict) and "id" in data:  # as written out: derived again below
            return {key: value for key, value in data.items() if key != "id"}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def id(self) -> str:
        """Derived from the place, unit and day, so that callers can name the benchmark."""
        return benchmark_id(self.country, self.region, self.value_unit, self.valid_from)

    @property
    def place(self) -> str:
        """The country, and the region if it has one: ``KE/Nairobi``."""
        return f"{self.country}/{self.region}" if self.region else self.country


class Decision(Record):
    entity: Literal[EntityKind.decision] = EntityKind.decision
    id: Id
    unit_id: Id
    lever: Lever
    applies_to: Id
    project: str | None = None
    dimensions: tuple[Dimension, ...] = ()
    made_at: date | None = None
    description: str | None = None

    @property
    def effective_dimensions(self) -> tuple[Dimension, ...]:
        """The decision's own dimensions, or its lever's defaults."""
        return self.dimensions or LEVER_DIMENSIONS[self.lever]


class Source(Record):
    entity: Literal[EntityKind.source] = EntityKind.source
    id: Id
    title: Name
    kind: SourceKind = SourceKind.other
    url: str | None = None
    published_at: date | None = None


TargetKind = Literal["condition", "risk_path", "decision"]
_IS_ID = re.compile(ID_PATTERN)


class Target(NamedTuple):
    """What an action is about: a condition, one risk path to it, or a decision."""

    kind: TargetKind
    decision_id: str | None
    cohort_id: str | None
    dimension: Dimension | None

    @property
    def condition_id(self) -> str | None:
        """The condition measured for this target (None: a decision's, which reaches many)."""
        return None if self.cohort_id is None else condition_id(self.cohort_id, self.dimension or "")

    @property
    def ref(self) -> str:
        """The entity the target hangs on: the cohort of a condition or path, else the decision."""
        return self.cohort_id or self.decision_id or ""


def parse_target(text: str) -> Target:
    """A target as DOMAIN.md section 7 writes it: ``cohort_id/dimension`` (a condition),
    ``decision_id:cohort_id/dimension`` (a risk path: the decision id ends at the first ":")
    or a decision id. ValueError if it is none of these."""
    if "/" not in text:
        _check_id(text, "a decision id")
        return Target("decision", text, None, None)
    head, _, dim = text.rpartition("/")
    try:
        dimension = Dimension(dim)
    except ValueError:
        raise ValueError(f"{dim!r} is not a dimension; use one of {', '.join(Dimension)}") from None
    decision_id, colon, cohort_id = head.partition(":")
    if not colon:
        _check_id(head, "a cohort id")
        return Target("condition", None, head, dimension)
    _check_id(decision_id, "a decision id")
    _check_id(cohort_id, "a cohort id")
    return Target("risk_path", decision_id, cohort_id, dimension)


def _check_id(text: str, what: str) -> None:
    if not _IS_ID.match(text):
        raise ValueError(
            f"{text!r} is not {what}: expected cohort_id/dimension, decision_id:cohort_id/dimension"
            " or a decision id"
        )


class Action(Record):
    """What someone does about a risk (DOMAIN.md section 7); its effect is measured on the
    targeted condition's observations (graph.analysis.actions)."""

    entity: Literal[EntityKind.action] = EntityKind.action
    id: Id
    target: str = Field(max_length=300)
    owner_unit_id: Id
    kind: ActionKind
    description: str | None = None
    opened_at: date
    due_at: date | None = None
    status: ActionStatus = ActionStatus.planned
    closed_at: date | None = None

    @field_validator("target")
    @classmethod
    def _a_target(cls, text: str) -> str:
        parse_target(text)
        return text

    @field_validator("due_at", "closed_at")
    @classmethod
    def _not_before_opening(cls, day: date | None, info: ValidationInfo) -> date | None:
        opened = info.data.get("opened_at")
        if day is not None and opened is not None and day < opened:
            raise ValueError(f"{day} is before opened_at {opened}")
        return day

    @property
    def aim(self) -> Target:
        return parse_target(self.target)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


Entity = Annotated[
    Organization | Unit | Cohort | Condition | Decision | Source | Benchmark | Action,
    Field(discriminator="entity"),
]
ENTITY_MODELS: dict[EntityKind, type[Record]] = {
    EntityKind.organization: Organization,
    EntityKind.unit: Unit,
    EntityKind.cohort: Cohort,
    EntityKind.condition: Condition,
    EntityKind.decision: Decision,
    EntityKind.source: Source,
    EntityKind.benchmark: Benchmark,
    EntityKind.action: Action,
}

LinkKey = tuple[str, LinkType, str, str]  # (from_id, type, to_id, project or "")


class Link(Record):
    from_id: Id
    to_id: Id
    type: LinkType
    project: str | None = None
    since: date | None = None
    until: date | None = None

    @property
    def key(self) -> LinkKey:
        return (self.from_id, self.type, self.to_id, self.project or "")


class GraphData(BaseModel):
    """Entities and links to upsert, as one validated bundle carries them."""

    model_config = ConfigDict(frozen=True)

    organizations: list[Organization] = []
    units: list[Unit] = []
    cohorts: list[Cohort] = []
    conditions: list[Condition] = []
    decisions: list[Decision] = []
    sources: list[Source] = []
    benchmarks: list[Benchmark] = []
    actions: list[Action] = []
    links: list[Link] = []

    @classmethod
    def of(cls, records: Iterable[Record]) -> GraphData:
        """Records of any kinds, sorted into their sections (already validated: no re-checks)."""
        sections: dict[str, list[Record]] = {name: [] for name in cls.model_fields}
        for record in records:
            sections[_SECTION[type(record)]].append(record)
        return cls.model_construct(**sections)  # type: ignore[arg-type]

    def entities(
        self,
    ) -> list[Organization | Unit | Cohort | Condition | Decision | Source | Benchmark | Action]:
        return [
            *self.organizations,
            *self.units,
            *self.cohorts,
            *self.conditions,
            *self.decisions,
            *self.sources,
            *self.benchmarks,
            *self.actions,
        ]

    def records(
        self,
    ) -> list[Organization | Unit | Cohort | Condition | Decision | Source | Benchmark | Action | Link]:
        """Every entity, then every link."""
        return [*self.entities(), *self.links]

    def counts(self) -> dict[str, int]:
        return {
            "organizations": len(self.organizations),
            "units": len(self.units),
            "cohorts": len(self.cohorts),
            "conditions": len(self.conditions),
            "decisions": len(self.decisions),
            "sources": len(self.sources),
            "benchmarks": len(self.benchmarks),
            "actions": len(self.actions),
            "links": len(self.links),
        }


_SECTION: dict[type[Record], str] = {
    Organization: "organizations",
    Unit: "units",
    Cohort: "cohorts",
    Condition: "conditions",
    Decision: "decisions",
    Source: "sources",
    Benchmark: "benchmarks",
    Action: "actions",
    Link: "links",
}

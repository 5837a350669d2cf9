"""The fixed vocabulary of the domain, declared once: kinds, dimensions, levers, grades.

Everything that names a kind, a link type or a dimension refers to these enums, so the
bundle format, the stores, the queries and the outputs cannot drift apart.
"""

from __future__ import annotations

from enum import StrEnum


class EntityKind(StrEnum):
    organization = "organization"
    unit = "unit"
    cohort = "cohort"
    condition = "condition"
    decision = "decision"
    source = "source"
    benchmark = "benchmark"
    action = "action"


class OrgKind(StrEnum):
    buyer = "buyer"
    vendor = "vendor"
    subcontractor = "subcontractor"
    platform = "platform"


class UnitFunction(StrEnum):
    research = "research"
    procurement = "procurement"
    product = "product"
    legal = "legal"
    responsible_ai = "responsible_ai"
    trust_safety = "trust_safety"
    operations = "operations"
    finance = "finance"
    other = "other"


class EmploymentType(StrEnum):
    employee = "employee"
    fixed_term = "fixed_term"
    contractor = "contractor"
    gig = "gig"
    unknown = "unknown"


class WorkSetting(StrEnum):
    office = "office"
    home = "home"
    mixed = "mixed"
    unknown = "unknown"


class LinkType(StrEnum):
    CONTRACTS = "CONTRACTS"
    SUBCONTRACTS = "SUBCONTRACTS"
    SOURCES_VIA = "SOURCES_VIA"
    ENGAGES = "ENGAGES"


# Links along which work (and so a decision's effect) travels between organizations.
SUPPLY_LINKS: tuple[LinkType, ...] = (
    LinkType.CONTRACTS,
    LinkType.SUBCONTRACTS,
    LinkType.SOURCES_VIA,
)


class Dimension(StrEnum):
    pay = "pay"
    payment_terms = "payment_terms"
    task_clarity = "task_clarity"
    workload = "workload"
    content_safety = "content_safety"
    contract = "contract"
    management = "management"
    voice = "voice"


class Status(StrEnum):
    meets = "meets"
    at_risk = "at_risk"
    violates = "violates"
    unknown = "unknown"


class Lever(StrEnum):
    pricing = "pricing"
    time_estimate = "time_estimate"
    deadline = "deadline"
    task_design = "task_design"
    content_scope = "content_scope"
    quality_policy = "quality_policy"
    communication = "communication"
    volume_forecast = "volume_forecast"
    worker_requirements = "worker_requirements"
    vendor_selection = "vendor_selection"


D = Dimension
LEVER_DIMENSIONS: dict[Lever, tuple[Dimension, ...]] = {
    Lever.pricing: (D.pay, D.payment_terms, D.workload),
    Lever.time_estimate: (D.pay, D.workload, D.task_clarity),
    Lever.deadline: (D.workload, D.pay),
    Lever.task_design: (D.task_clarity, D.management),
    Lever.content_scope: (D.content_safety,),
    Lever.quality_policy: (D.management, D.pay, D.payment_terms),
    Lever.communication: (D.voice, D.task_clarity),
    Lever.volume_forecast: (D.contract, D.workload),
    Lever.worker_requirements: (D.content_safety, D.management),
    Lever.vendor_selection: tuple(Dimension),
}
del D


class EvidenceGrade(StrEnum):
    verified = "verified"
    documented = "documented"
    reported = "reported"
    self_declared = "self_declared"
    inferred = "inferred"


DEFAULT_GRADE = EvidenceGrade.reported


class Principle(StrEnum):
    """Fairwork's five principles, as scorecards award them (DOMAIN.md section 8)."""

    fair_pay = "fair_pay"
    fair_conditions = "fair_conditions"
    fair_contracts = "fair_contracts"
    fair_management = "fair_management"
    fair_representation = "fair_representation"


PRINCIPLE_DIMENSIONS: dict[Principle, tuple[Dimension, ...]] = {
    Principle.fair_pay: (Dimension.pay, Dimension.payment_terms),
    Principle.fair_conditions: (Dimension.workload, Dimension.content_safety),
    Principle.fair_contracts: (Dimension.contract,),
    Principle.fair_management: (Dimension.management,),
    Principle.fair_representation: (Dimension.voice,),
}
PRINCIPLE_TITLES: dict[Principle, str] = {p: p.value.replace("_", " ").title() for p in Principle}
# The grades an advanced point may rest on: checked by audit or contract, or written down.
STRONG_GRADES = frozenset({EvidenceGrade.verified, EvidenceGrade.documented})


class SourceKind(StrEnum):
    contract = "contract"
    audit = "audit"
    survey = "survey"
    interview = "interview"
    news = "news"
    research = "research"
    self_declaration = "self_declaration"
    other = "other"


class ActionKind(StrEnum):
    """What an action does about a risk (UNGP: prevent, mitigate, remediate; PAI: pilots)."""

    prevent = "prevent"
    mitigate = "mitigate"
    remediate = "remediate"
    engage_workers = "engage_workers"
    change_decision = "change_decision"
    cease = "cease"


class ActionStatus(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    done = "done"
    dropped = "dropped"


OPEN_STATUSES = frozenset({ActionStatus.planned, ActionStatus.in_progress})


class Effect(StrEnum):
    """What the targeted condition did between the observations before and after an action."""

    improved = "improved"
    unchanged = "unchanged"
    worsened = "worsened"
    not_measured = "not_measured"


# Members by value, for the stores that read them by the million: a dict look-up costs a
# tenth of an Enum call.
DIMENSION_OF = {d.value: d for d in Dimension}
STATUS_OF = {s.value: s for s in Status}
GRADE_OF = {g.value: g for g in EvidenceGrade}

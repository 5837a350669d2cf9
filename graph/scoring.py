"""Scoring configuration (loaded from a TOML file on demand) and the scoring rules."""

from __future__ import annotations

import tomllib
from functools import cache, cached_property
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from laborgraph.graph.errors import ConfigError
from laborgraph.graph.model import Condition
from laborgraph.graph.vocabulary import Dimension, EvidenceGrade, Status

DEFAULT_SCORING_FILE = Path(__file__).with_name("scoring.toml")

Severity = int


class SeverityAdjustment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    at_risk: int
    unknown: int
    pay_below_half_benchmark: int


class Likelihood(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    violates: float = Field(ge=0, le=1)
    at_risk: float = Field(ge=0, le=1)
    unknown: float = Field(ge=0, le=1)


class EvidencePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    stale_after_days: int = Field(gt=0)


class ScoringConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    severity: dict[Dimension, int]
    severity_adjustment: SeverityAdjustment
    likelihood: Likelihood
    confidence: dict[EvidenceGrade, Annotated[float, Field(ge=0, le=1)]]
    evidence: EvidencePolicy

    def risk_of(self, condition: Condition) -> tuple[Severity, float] | None:
        """(severity, likelihood) of a condition; None for ``meets``, which yields no risk.

        Tracing ranks thousands of conditions per question, so this is table lookups only;
        ``severity_of`` says in words how the same severity was reached.
        """
        return self.risk_of_facts(condition.dimension, condition.status, pay_below_half(condition))

    def risk_of_facts(
        self, dimension: Dimension, status: Status, low_pay: bool
    ) -> tuple[Severity, float] | None:
        """``risk_of`` from the only facts it reads: dimension, status, and ``pay_below_half``."""
        likelihood = self.likelihood_by_status[status]
        if likelihood is None:
            return None
        level = self.severity_levels[dimension, status]
        if low_pay:
            level += self.severity_adjustment.pay_below_half_benchmark
        return max(1, min(5, level)), likelihood

    def severity_of(self, condition: Condition, *, values: bool = True) -> tuple[Severity, list[str]]:
        """Severity of a condition (1-5) and the reasons, in words; without ``values`` the
        words never quote the pay and benchmark (a suppressed cohort's)."""
        base = self.severity[condition.dimension]
        reasons = [f"{condition.dimension.value} has base severity {base}"]
        adjust = self.severity_adjustment
        level = base
        if condition.status is Status.at_risk:
            level += adjust.at_risk
            reasons.append(f"at risk rather than violated ({adjust.at_risk:+d})")
        elif condition.status is Status.unknown:
            level += adjust.unknown
            reasons.append(f"status unknown ({adjust.unknown:+d})")
        if pay_below_half(condition):
            level += adjust.pay_below_half_benchmark
            unit = f" {condition.value_unit}" if condition.value_unit else ""
            figures = f" {condition.value:g}{unit}", f" {condition.benchmark:g}{unit}"
            pay, benchmark = figures if values else ("", "")
            reasons.append(
                f"pay{pay} is below half the benchmark{benchmark} ({adjust.pay_below_half_benchmark:+d})"
            )
        return max(1, min(5, level)), reasons

    def likelihood_of(self, status: Status) -> float | None:
        """Likelihood by status; None for ``meets``, which yields no risk."""
        return self.likelihood_by_status[Status(status)]

    @cached_property
    def likelihood_by_status(self) -> dict[Status, float | None]:
        found: dict[Status, float | None] = {Status.meets: None}
        found.update({s: float(getattr(self.likelihood, s.value)) for s in Status if s is not Status.meets})
        return found

    @cached_property
    def severity_by_code(self) -> dict[tuple[Dimension, str], int]:
        """The severity of each (dimension, ``risk_code``) a store's risk index keys."""
        found = {}
        for dimension in Dimension:
            for status in Status:
                for low_pay in (False, True):
                    risk = self.risk_of_facts(dimension, status, low_pay)
                    if risk is not None:
                        found[dimension, risk_code(status, low_pay)] = risk[0]
        return found

    @cached_property
    def severity_levels(self) -> dict[tuple[Dimension, Status], int]:
        """Base severity plus the status adjustment, before clamping, for every pair."""
        adjust = self.severity_adjustment
        by_status = {Status.at_risk: adjust.at_risk, Status.unknown: adjust.unknown}
        return {(d, s): base + by_status.get(s, 0) for d, base in self.severity.items() for s in Status}


def risk_code(status: Status, low_pay: bool) -> str:
    """What a store's risk index keys a not-met condition by: its status, and "/low" for
    pay below half its benchmark (``pay_below_half``), the only facts its risk depends on
    besides its dimension."""
    return status.value + ("/low" if low_pay else "")


def risk_code_of(condition: Condition) -> str | None:
    """``risk_code`` of a condition; None for one that is met, which yields no risk."""
    if condition.status is Status.meets:
        return None
    return risk_code(condition.status, pay_below_half(condition))


def pay_below_half(condition: Condition) -> bool:
    """A pay condition whose value is below half its benchmark (severity goes up)."""
    return (
        condition.dimension is Dimension.pay
        and condition.value is not None
        and bool(condition.benchmark)
        and condition.value < condition.benchmark / 2  # type: ignore[operator]
    )


@cache
def load_scoring(path: Path | None = None) -> ScoringConfig:
    """Read a scoring file (the packaged defaults when ``path`` is None)."""
    path = path or DEFAULT_SCORING_FILE
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
        config = ScoringConfig.model_validate(raw)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read scoring file {path}: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"scoring file {path} is not valid: {problems}") from exc
    missing = [d.value for d in Dimension if d not in config.severity]
    missing += [g.value for g in EvidenceGrade if g not in config.confidence]
    if missing:
        raise ConfigError(f"scoring file {path} lacks: {', '.join(missing)}")
    return config

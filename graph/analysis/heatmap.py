"""Where a chain's risks lie: the cohorts some decision reaches on a condition that is not
met, counted by the risk's severity and the condition's dimension (the heat map of a
due-diligence report).

A cell holds the cohorts whose condition on one dimension has one severity, and their
workers: each not-met condition (by its risk code) on a dimension a decision reaching the
cohort affects, from the decisions' reach (``graph.analysis.reach``, as gaps work it out):
the cohorts and conditions ``laborgraph paths`` lists, found without tracing each chain.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, Field

from laborgraph.graph.analysis.privacy import is_small
from laborgraph.graph.analysis.reach import Reach
from laborgraph.graph.scoring import ScoringConfig
from laborgraph.graph.store import EngagedCohort
from laborgraph.graph.vocabulary import Dimension

SEVERITIES = (5, 4, 3, 2, 1)  # the heat map's rows, worst first


class RiskCell(BaseModel):
    severity: int
    dimension: Dimension
    cohorts: int = Field(description="cohorts whose condition on the dimension has this severity")
    workers: int = Field(description="those cohorts' workers (small cohorts left out unless shown)")


class RiskGrid(BaseModel):
    dimensions: list[Dimension] = Field(description="the heat map's columns: every dimension")
    cells: list[RiskCell] = Field(description="the cells that hold a cohort, worst severity first")
    cohorts: int = Field(description="cohorts with at least one condition at risk")
    workers: int = Field(description="their workers (small cohorts left out unless shown)")

    def cell(self, severity: int, dimension: Dimension) -> RiskCell | None:
        return next((c for c in self.cells if c.severity == severity and c.dimension is dimension), None)


def risk_grid(
    reach: Reach, engaged: Iterable[EngagedCohort], config: ScoringConfig, private_below: int = 0
) -> RiskGrid:
    """The cohorts of these ENGAGES rows that some decision reaches on a condition at risk
    (their risk codes, as the store's risk index keeps them), by severity and dimension."""
    severity_of = config.severity_by_code
    cohorts: dict[tuple[int, Dimension], set[str]] = {}
    workers_of: dict[str, int] = {}
    for row in engaged:
        if row.cohort_id in workers_of:
            continue  # engaged by another organization too: its risks are the same
        workers_of[row.cohort_id] = 0 if is_small(row.headcount, private_below) else row.headcount or 0
        reachers = reach.of(row.cohort_id)
        for dimension, code in row.risks:
            if reachers.deciding(dimension):
                cohorts.setdefault((severity_of[dimension, code], dimension), set()).add(row.cohort_id)

    def workers(ids: Iterable[str]) -> int:
        return sum(workers_of[c] for c in ids)

    order = list(Dimension)
    cells = [
        RiskCell(severity=severity, dimension=dimension, cohorts=len(ids), workers=workers(ids))
        for (severity, dimension), ids in sorted(
            cohorts.items(), key=lambda k: (-k[0][0], order.index(k[0][1]))
        )
    ]
    at_risk = set().union(*cohorts.values())
    return RiskGrid(dimensions=order, cells=cells, cohorts=len(at_risk), workers=workers(at_risk))

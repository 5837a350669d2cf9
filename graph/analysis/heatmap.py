"""Where a chain's risks lie: the cohorts some decision reaches on a condition that is not
met, counted by the risk's severity and the condition's dimension (the heat map of a
due-diligence report).

A cell holds the cohorts whose condition on one dimension has one severity, and their
workers. The conditions counted are those ``graph.analysis.changes.path_risks`` finds a
risk path to from the decisions' reach: the cohorts and conditions ``laborgraph paths``
lists, found without tracing each chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import BaseModel, Field

from laborgraph.graph.analysis.changes import path_risks
from laborgraph.graph.analysis.privacy import is_small
from laborgraph.graph.analysis.reach import Reach
from laborgraph.graph.model import Condition
from laborgraph.graph.scoring import ScoringConfig
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
    reach: Reach,
    conditions: Iterable[Condition],
    headcounts: Mapping[str, int | None],
    config: ScoringConfig,
    private_below: int = 0,
) -> RiskGrid:
    """The cohorts of these conditions some decision reaches on a risk, by severity and dimension."""
    cohorts: dict[tuple[int, Dimension], set[str]] = {}
    for (_, cohort_id, dimension), risk in path_risks(reach, conditions, config, set()).items():
        cohorts.setdefault((risk.severity, Dimension(dimension)), set()).add(cohort_id)

    def workers(ids: Iterable[str]) -> int:
        return sum(n or 0 for c in ids if not is_small(n := headcounts.get(c), private_below))

    order = list(Dimension)
    cells = [
        RiskCell(severity=severity, dimension=dimension, cohorts=len(ids), workers=workers(ids))
        for (severity, dimension), ids in sorted(
            cohorts.items(), key=lambda k: (-k[0][0], order.index(k[0][1]))
        )
    ]
    at_risk = set().union(*cohorts.values())
    return RiskGrid(dimensions=order, cells=cells, cohorts=len(at_risk), workers=workers(at_risk))

"""Render a buyer's due-diligence report (app.report.BuyerReport) as ONE printable HTML page.

No script at all: the charts are inline SVG and coloured table cells, the style is inlined
(``static/report.css``, with A4 print rules), and a Content-Security-Policy forbids scripts
and every request, so the file reads the same offline, in a mail attachment, or printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from markupsafe import Markup

from laborgraph.graph.analysis.heatmap import RiskGrid
from laborgraph.graph.analysis.tiers import TierCount
from laborgraph.graph.vocabulary import PRINCIPLE_TITLES, Dimension, Principle
from laborgraph.visualize.render import HERE, environment
from laborgraph.visualize.style import SEVERITY_COLORS, SEVERITY_WORDS


class ReportLike(Protocol):
    """What the page draws as charts; the template reads the rest of app.report.BuyerReport."""

    @property
    def risks(self) -> RiskGrid: ...
    @property
    def tiers(self) -> Sequence[TierCount]: ...


CSP = (
    "default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)


@dataclass(frozen=True)
class HeatCell:
    cohorts: int
    workers: int
    color: str  # the severity's colour, as strong as the cell's share of the busiest cell
    opacity: float
    dark: bool  # light text on it


@dataclass(frozen=True)
class TierBar:
    tier: int
    organizations: int
    cohorts: int
    workers: int
    width: float  # of the chart's bar area, 0-100


def heat_rows(grid: RiskGrid) -> list[tuple[int, str, list[HeatCell | None]]]:
    """The heat map's rows, worst severity first: (severity, its word, a cell per dimension)."""
    busiest = max((c.cohorts for c in grid.cells), default=1)
    rows = []
    for severity in sorted(SEVERITY_WORDS, reverse=True):
        cells: list[HeatCell | None] = []
        for dimension in grid.dimensions:
            found = grid.cell(severity, Dimension(dimension))
            if found is None:
                cells.append(None)
                continue
            opacity = round(0.55 + 0.45 * found.cohorts / busiest, 2)  # a critical cell stays dark
            cells.append(
                HeatCell(
                    found.cohorts,
                    found.workers,
                    SEVERITY_COLORS[severity],
                    opacity,
                    severity >= 4 and opacity > 0.5,
                )
            )
        rows.append((severity, SEVERITY_WORDS[severity], cells))
    return rows


def tier_bars(tiers: Sequence[TierCount]) -> list[TierBar]:
    """A bar per tier, as long as its workers against the tier with most."""
    most = max((t.workers for t in tiers), default=0) or 1
    return [
        TierBar(t.tier, t.organizations, t.cohorts, t.workers, round(100 * t.workers / most, 1))
        for t in tiers
    ]


def render_report_html(report: ReportLike, *, api_prefix: str = "/api/v1", notice: str | None = None) -> str:
    """The report of one buyer as one self-contained, printable HTML page; ``notice`` (an
    unfinished write) printed on top."""
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            r=report,
            notice=notice,
            csp=CSP,
            css=Markup(_css()),
            heat=heat_rows(report.risks),
            bars=tier_bars(report.tiers),
            severity_words=SEVERITY_WORDS,
            principle_titles=[PRINCIPLE_TITLES[p] for p in Principle],
            api_prefix=api_prefix.rstrip("/"),
        )
    )


def _css() -> str:
    return (HERE / "static" / "report.css").read_text("utf-8")

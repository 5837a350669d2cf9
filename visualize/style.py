"""The map's visual vocabulary, declared once: colours, sizes, link styles and the legend.

Organizations take cool colours by kind; cohorts take warm colours by the worst severity
of the risk paths reaching them, so where workers are at risk stands out at a glance.
"""

from __future__ import annotations

from math import sqrt

from laborgraph.graph.vocabulary import LinkType, OrgKind
from laborgraph.visualize.model import LegendEntry

ORG_COLORS: dict[OrgKind, str] = {
    OrgKind.buyer: "#1d3f8f",
    OrgKind.vendor: "#127a86",
    OrgKind.subcontractor: "#6a4c9c",
    OrgKind.platform: "#3d4b5c",
}
# When an organization has several kinds, the first of these names its colour.
ORG_KIND_ORDER = (OrgKind.buyer, OrgKind.platform, OrgKind.vendor, OrgKind.subcontractor)

SEVERITY_COLORS: dict[int, str] = {
    5: "#4a0a14",  # far darker than "high", not just redder: the two must never be confused
    4: "#e0341c",
    3: "#f46d43",
    2: "#fdae61",
    1: "#fee08b",
}
SEVERITY_WORDS = {5: "critical", 4: "high", 3: "medium", 2: "low", 1: "minor"}
NO_RISK_COLOR = "#c5cbd3"
COHORT_BORDER = "#4a4f57"
FOCUS_BORDER = "#111111"


class LinkStyle:
    def __init__(self, color: str, width: float, dashes: bool = False) -> None:
        self.color, self.width, self.dashes = color, width, dashes


LINK_STYLES: dict[LinkType, LinkStyle] = {
    LinkType.CONTRACTS: LinkStyle("#1d3f8f", 2.6),
    LinkType.SUBCONTRACTS: LinkStyle("#6a4c9c", 2.2),
    LinkType.SOURCES_VIA: LinkStyle("#3d4b5c", 2.2, dashes=True),
    LinkType.ENGAGES: LinkStyle("#8d96a0", 1.2),
}
LINK_WORDS = {
    LinkType.CONTRACTS: "a buyer contracts a vendor or platform (tier 1)",
    LinkType.SUBCONTRACTS: "a vendor passes work to a subcontractor",
    LinkType.SOURCES_VIA: "a vendor routes work through a gig platform",
    LinkType.ENGAGES: "an organization employs or engages the workers",
}


def org_kind(kinds: tuple[OrgKind, ...]) -> OrgKind:
    return next(k for k in ORG_KIND_ORDER if k in kinds)


def risk_color(severity: int | None) -> str:
    return NO_RISK_COLOR if severity is None else SEVERITY_COLORS[severity]


def cohort_size(headcount: int | None) -> float:
    """Dot radius: area grows with headcount, so 2,000 workers look bigger than 20."""
    if headcount is None:
        return 10.0
    return round(min(44.0, 8.0 + 0.5 * sqrt(headcount)), 1)


def legend() -> list[LegendEntry]:
    entries = [
        LegendEntry(group="organization", label=kind.value, color=ORG_COLORS[kind], shape="box")
        for kind in (OrgKind.buyer, OrgKind.vendor, OrgKind.subcontractor, OrgKind.platform)
    ]
    entries += [
        LegendEntry(
            group="risk",
            label=f"{level} {SEVERITY_WORDS[level]}",
            color=SEVERITY_COLORS[level],
            shape="dot",
            detail=f"worst risk path reaching the workers has severity {level}",
        )
        for level in sorted(SEVERITY_COLORS, reverse=True)
    ]
    entries += [
        LegendEntry(
            group="risk",
            label="none traced",
            color=NO_RISK_COLOR,
            shape="dot",
            detail="no risk path reaches these workers, or nothing is known",
        ),
        LegendEntry(
            group="size",
            label="area ∝ workers",
            color=NO_RISK_COLOR,
            shape="dot",
            detail="a cohort's dot area grows with its headcount",
        ),
    ]
    entries += [
        LegendEntry(
            group="link",
            label=t.value,
            color=s.color,
            detail=LINK_WORDS[t],
            shape="dashed" if s.dashes else "line",
        )
        for t, s in LINK_STYLES.items()
    ]
    return entries

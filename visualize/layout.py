"""Tiered layout, computed before the page loads: one horizontal band per tier.

Each band starts with a header strip for its label; below it, organizations sit on a row
and the cohorts each one engages sit in a small grid right under it. Rows are ordered top
down so an organization sits near the average position of the organizations passing it
work (the barycentre heuristic), which keeps chains close to vertical. The cohort grid's
width is chosen so the whole map best fills a screen-shaped box; very wide rows wrap.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

ORG_SLOT = 215.0  # horizontal room for one organization box
COHORT_SLOT = 150.0  # horizontal room for one cohort dot and its label
BAND_HEADER = 44.0  # strip at the top of a band where its label is drawn
ORG_ROW_H = 92.0
ORG_ONLY_ROW_H = 72.0  # a row of organizations none of which has cohorts drawn under it
COHORT_ROW_H = 140.0
BAND_GAP = 14.0
MIN_WRAP_WIDTH = 9000.0  # rows narrower than this never wrap
GRID_CHOICES = (1, 2, 3, 4, 6)  # cohorts per grid row under one organization
SCREEN_ASPECT = 1.6  # width / height of the box the map should fill

Tier = int | None


@dataclass
class Item:
    """An organization (or the loose cohorts of a tier) and the cohorts under it."""

    key: str
    org: str | None
    cohorts: list[str]
    max_cols: int = 2

    @property
    def cols(self) -> int:
        return min(len(self.cohorts), self.max_cols)

    @property
    def width(self) -> float:
        odd = COHORT_SLOT / 2 if self.cols % 2 else 0.0
        return max(ORG_SLOT if self.org else 0.0, self.cols * COHORT_SLOT + odd)

    @property
    def cohort_rows(self) -> int:
        return -(-len(self.cohorts) // self.max_cols)

    @property
    def height(self) -> float:
        return ORG_ROW_H + self.cohort_rows * COHORT_ROW_H


@dataclass
class Layout:
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)
    bands: list[tuple[Tier, float, float]] = field(default_factory=list)  # (tier, top, bottom)

    def fill(self, aspect: float) -> float:
        """How large the map can be drawn in a box of this aspect ratio (bigger is better)."""
        if not self.positions:
            return 0.0
        xs = [x for x, _ in self.positions.values()]
        width = max(xs) - min(xs) + ORG_SLOT
        height = self.bands[-1][2] - self.bands[0][1]
        return min(aspect / width, 1 / height)


Key = Callable[[Item], tuple[bool, str]]


def tier_layout(
    org_tiers: Mapping[str, Tier],
    cohorts_under: Mapping[str, Sequence[str]],
    loose_cohorts: Mapping[Tier, Sequence[str]],
    parents: Mapping[str, Sequence[str]],
    sort_key: Mapping[str, str],
    aspect: float = SCREEN_ASPECT,
) -> Layout:
    """Positions for every organization and cohort, and the vertical extent of each tier.

    ``cohorts_under`` lists, per organization, the cohorts drawn under it (in order);
    ``loose_cohorts`` those of a tier with no organization shown; ``parents`` the shown
    organizations passing work to each organization.
    """
    layouts = [
        _layout(org_tiers, cohorts_under, loose_cohorts, parents, sort_key, cols, aspect)
        for cols in GRID_CHOICES
    ]
    return max(layouts, key=lambda found: found.fill(aspect))


def _layout(
    org_tiers: Mapping[str, Tier],
    cohorts_under: Mapping[str, Sequence[str]],
    loose_cohorts: Mapping[Tier, Sequence[str]],
    parents: Mapping[str, Sequence[str]],
    sort_key: Mapping[str, str],
    cols: int,
    aspect: float,
) -> Layout:
    rows: dict[Tier, list[Item]] = {}
    for org, tier in org_tiers.items():
        rows.setdefault(tier, []).append(Item(org, org, list(cohorts_under.get(org, ())), cols))
    for tier, loose in loose_cohorts.items():
        if loose:
            rows.setdefault(tier, []).append(Item(f"~loose~{tier}", None, list(loose), cols))
    order = sorted(rows, key=lambda t: (t is None, t or 0))

    def key(item: Item) -> tuple[bool, str]:
        return (item.org is None, sort_key.get(item.key, item.key))

    # Wrap wide rows at the width that makes the whole map about as wide as the screen box.
    area = sum(it.width * it.height for items in rows.values() for it in items)
    wrap = max(MIN_WRAP_WIDTH, math.sqrt(area * aspect))
    layout = _place(rows, order, parents, key, wrap)
    if not order:
        return layout
    # One upward pass: put each top-row organization over the work it passes on.
    children: dict[str, list[str]] = {}
    for org, ups in parents.items():
        for up in ups:
            children.setdefault(up, []).append(org)
    x_of = {o: x for o, (x, _) in layout.positions.items()}

    def below(item: Item) -> tuple[bool, float, tuple[bool, str]]:
        xs = [x_of[c] for c in children.get(item.key, ()) if c in x_of]
        return (not xs, sum(xs) / len(xs) if xs else 0.0, key(item))

    rows[order[0]].sort(key=below)
    return _place(rows, order, parents, key, wrap, keep_first=True)


def _place(
    rows: dict[Tier, list[Item]],
    order: list[Tier],
    parents: Mapping[str, Sequence[str]],
    key: Key,
    wrap: float,
    keep_first: bool = False,
) -> Layout:
    layout = Layout()
    x_of: dict[str, float] = {}
    top = 0.0
    for index, tier in enumerate(order):
        items = rows[tier]
        desired: dict[str, float] = {}
        for item in items:
            xs = [x_of[p] for p in parents.get(item.key, ()) if p in x_of]
            if xs:
                desired[item.key] = sum(xs) / len(xs)
        if not (keep_first and index == 0):
            items.sort(key=lambda it: (it.key not in desired, desired.get(it.key, 0.0), key(it)))
        bottom = top + BAND_HEADER
        for subrow, centers in _pack(items, desired, wrap):
            rows_below = max((it.cohort_rows for it in subrow), default=0)
            for item, cx in zip(subrow, centers, strict=True):
                if item.org:
                    x_of[item.org] = cx
                    layout.positions[item.org] = (cx, bottom + ORG_ROW_H * 0.4)
                _place_cohorts(layout, item, cx, bottom + ORG_ROW_H)
            # A row of organizations with no workers under them needs no room for any.
            bottom += (ORG_ROW_H if rows_below else ORG_ONLY_ROW_H) + rows_below * COHORT_ROW_H
        layout.bands.append((tier, top, bottom))
        top = bottom + BAND_GAP
    return layout


def _pack(items: list[Item], desired: dict[str, float], wrap: float) -> list[tuple[list[Item], list[float]]]:
    """Sub-rows of items with centre x: near the desired x, never overlapping."""
    if sum(it.width for it in items) > wrap:
        subrows: list[list[Item]] = [[]]
        width = 0.0
        for item in items:
            if subrows[-1] and width + item.width > wrap:
                subrows.append([])
                width = 0.0
            subrows[-1].append(item)
            width += item.width
        return [(row, _centred(row)) for row in subrows]
    centers: list[float] = []
    right = 0.0
    for item in items:
        want = desired.get(item.key, right + item.width / 2)
        cx = want if not centers else max(want, right + item.width / 2)
        centers.append(cx)
        right = cx + item.width / 2
    # Shift the row so that, on average, items sit where they wanted to be.
    offsets = [desired[it.key] - c for it, c in zip(items, centers, strict=True) if it.key in desired]
    shift = sum(offsets) / len(offsets) if offsets else -(centers[0] + centers[-1]) / 2
    return [(items, [c + shift for c in centers])]


def _centred(row: list[Item]) -> list[float]:
    x = -sum(it.width for it in row) / 2
    centers = []
    for item in row:
        centers.append(x + item.width / 2)
        x += item.width
    return centers


def _place_cohorts(layout: Layout, item: Item, cx: float, top: float) -> None:
    for i, cohort in enumerate(item.cohorts):
        row, col = divmod(i, item.max_cols)
        in_row = min(item.max_cols, len(item.cohorts) - row * item.max_cols)
        # Keep the column under the organization free: links to its subcontractors run there.
        aside = COHORT_SLOT / 2 if in_row % 2 else 0.0
        x = cx + (col - (in_row - 1) / 2) * COHORT_SLOT + aside
        layout.positions[cohort] = (x, top + row * COHORT_ROW_H + COHORT_ROW_H * 0.25)

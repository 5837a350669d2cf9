"""What a spreadsheet cell may hold: text that a spreadsheet would run as a formula (starting
with =, +, -, @, a tab or a carriage return) is prefixed with an apostrophe, in every export
that a spreadsheet may open (CSV and xlsx)."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A cell a spreadsheet will show as text, never evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value

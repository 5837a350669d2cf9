"""How an error message shows a value from the bundle: quoted, and never longer than a line."""

from __future__ import annotations

SHOWN = 80  # characters of a value an error message shows


def quote(value: object) -> str:
    """``value`` as Python would write it, cut to about ``SHOWN`` characters with an ellipsis."""
    if isinstance(value, str) and len(value) > SHOWN:
        return f"{value[: SHOWN - 5]!r}… ({len(value):,} characters)"
    text = repr(value)
    return text if len(text) <= SHOWN else f"{text[: SHOWN - 1]}…"


def cut(text: str) -> str:
    """A name from the bundle (a file, a column) cut to about ``SHOWN`` characters."""
    return text if len(text) <= SHOWN else f"{text[: SHOWN - 1]}…"


def names(values: list[str], shown: int = 20) -> str:
    """Names joined by commas, each cut, the first ``shown`` of them and how many more."""
    listed = ", ".join(cut(v) for v in values[:shown])
    return listed if len(values) <= shown else f"{listed} and {len(values) - shown:,} more"

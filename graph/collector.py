"""Holding off Python's cycle collector while many long-lived objects are made."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cycle collector (in the whole process) for the block, then restore it.

    Building a view or validating a bundle makes millions of objects that are kept and
    next to no cycles, yet every few hundred new objects the collector would walk the
    growing heap: two fifths of a reopen and a third of a validation at 400k rows.
    Reference counting still frees garbage meanwhile.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

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


YOUNG_COLLECTION_EVERY = 50_000  # new container objects between young collections (Python: 700)


def collect_less_often() -> None:
    """Run the cycle collector's youngest generation every 50,000 new objects, not every 700.

    A question on a large graph keeps what it reads (views, walks, per-cohort tables: a few
    million objects, next to no cycles) until it answers; at Python's default the collector
    walks each of them again and again as they age. At 1M links this took a third of a page
    of gaps (2.7 s, 1.9 s at 50,000) and a fifth of tracing every path, for the same peak
    memory. Called once by each process that answers questions: the CLI and the server.
    """
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, middle, old)

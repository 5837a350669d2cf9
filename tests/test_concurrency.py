"""Questions asked at once from many threads answer exactly as when asked one by one."""

from __future__ import annotations

import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from laborgraph.app.questions import Questions
from laborgraph.app.settings import Settings
from laborgraph.graph.analysis.paths import PathQuery
from laborgraph.graph.store import GraphStore
from laborgraph.ingest.load import ingest_path
from tests.conftest import EXAMPLE_BUNDLE

TODAY = date(2026, 11, 22)


def mixed_questions(ask: Questions) -> list[Callable[[], str]]:
    """A question of every kind, each giving its answer as JSON."""
    pages = [
        PathQuery(origin=origin, dimension=dimension)
        for origin in ("org-halcyon", "org-nimbus", "unit-halcyon-sourcing", None)
        for dimension in (None, "pay")
    ]
    return [
        *(lambda q=q: ask.path_page(q, 0, 10).model_dump_json() for q in pages),  # type: ignore[misc]
        *(lambda o=o: ask.tiers(o).model_dump_json() for o in ("org-halcyon", "org-tessera")),  # type: ignore[misc]
        lambda: ask.influencers("coh-savanna-ke-moderators").model_dump_json(),
        lambda: ask.gaps(today=TODAY).model_dump_json(),
        lambda: ask.gaps(offset=5, limit=7, today=TODAY).model_dump_json(),
        lambda: ask.fragmentation(limit=5).model_dump_json(),
    ]


def test_many_threads_get_the_serial_answers(store: GraphStore) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    ask = Questions(store, Settings.model_validate({"min_headcount": 5}))
    serial = [question() for question in mixed_questions(ask)]
    # Writing the same chain again makes a new version: every answer is worked out anew,
    # this time by eight threads at once, each question asked four times in a random order.
    ingest_path(store, EXAMPLE_BUNDLE)
    asked = [n for n in range(len(serial)) for _ in range(4)]
    random.Random(7).shuffle(asked)
    questions = mixed_questions(Questions(store, ask.settings))
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda n: (n, questions[n]()), asked))
    assert all(answer == serial[n] for n, answer in answers)

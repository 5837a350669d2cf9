"""Small cohorts stay unidentifiable in every output a non-admin caller gets, on both stores."""

from __future__ import annotations

import csv
import io

import pytest

from app.questions import Questions
from app.settings import Settings
from graph.analysis.paths import PathQuery
from graph.analysis.privacy import SUPPRESSED_ID
from graph.store import GraphStore
from graph.vocabulary import EntityKind
from ingest.load import ingest_path
from tests.conftest import EXAMPLE_BUNDLE
from visualize.export import stream_csv

SMALL = "coh-kora-ke-arabic-reviewers"  # 4 workers
SMALL_NAME = "Kora Arabic-language escalation reviewers"


@pytest.fixture
def ask(store: GraphStore) -> Questions:
    ingest_path(store, EXAMPLE_BUNDLE)
    return Questions(store, Settings.model_validate({"min_headcount": 5}))


def test_paths_and_their_csv_never_name_or_identify_a_small_cohort(ask: Questions) -> None:
    paths = list(ask.risk_paths(PathQuery(origin="org-halcyon", limit=None)))
    hidden = [p for p in paths if p.suppressed]
    assert hidden, "the example has a small cohort reached by Halcyon"
    text = "".join(stream_csv(iter(paths))) + "".join(p.model_dump_json() for p in paths)
    assert SMALL not in text and SMALL_NAME not in text
    rows = [r for r in csv.DictReader(io.StringIO("".join(stream_csv(iter(hidden)))))]
    assert {r["cohort_id"] for r in rows} == {SUPPRESSED_ID}
    assert all(r["headcount"] == "" and "fewer than 5 workers" in r["cohort_name"] for r in rows)


def test_tiers_gaps_and_fragmentation_mask_small_cohorts(ask: Questions) -> None:
    assert SMALL not in ask.tiers("org-halcyon").model_dump_json()
    assert SMALL not in ask.gaps().model_dump_json()
    found = ask.fragmentation()
    assert SMALL not in found.model_dump_json() and SMALL_NAME not in found.model_dump_json()
    admin = Questions(ask.store, ask.settings, show_small=True).fragmentation()
    workers = {u.unit_id: u.workers for b in found.buyers for u in b.units}
    all_workers = {u.unit_id: u.workers for b in admin.buyers for u in b.units}
    assert all_workers["unit-halcyon-sourcing"] - workers["unit-halcyon-sourcing"] == 4  # the small cohort


def test_a_name_search_does_not_confirm_a_small_cohorts_name(ask: Questions) -> None:
    assert ask.entities(EntityKind.cohort, text="Arabic-language").total == 0
    assert ask.entities(EntityKind.cohort, text="Savanna").total == 1
    admin = Questions(ask.store, ask.settings, show_small=True)
    assert admin.entities(EntityKind.cohort, text="Arabic-language").total == 1

"""What only the embedded store does: its file's layout, connections and locks."""

from __future__ import annotations

import csv
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from laborgraph.app.questions import Questions
from laborgraph.app.settings import Settings
from laborgraph.graph import embedded
from laborgraph.graph.analysis import regions
from laborgraph.graph.analysis.paths import PathQuery, trace_risk_paths
from laborgraph.graph.embedded import ADD_RISKS, DB_FILE, LAYOUT, EmbeddedStore
from laborgraph.graph.errors import InvalidBundle, StoreUnavailable
from laborgraph.graph.model import Condition, GraphData, Unit
from laborgraph.graph.scoring import load_scoring
from laborgraph.graph.vocabulary import Dimension, Status
from laborgraph.ingest.load import ingest_path
from tests.conftest import EXAMPLE_BUNDLE, FIXTURES

SCORING = load_scoring()
FIRST_LAYOUT = """
CREATE TABLE entities (id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT, body TEXT NOT NULL);
CREATE INDEX entities_kind ON entities (kind, id);
CREATE TABLE links (from_id TEXT NOT NULL, type TEXT NOT NULL, to_id TEXT NOT NULL, project TEXT NOT NULL,
    body TEXT NOT NULL, PRIMARY KEY (from_id, type, to_id, project));
"""


def answers(store: EmbeddedStore) -> list[object]:
    query = PathQuery(origin="org-halcyon", limit=None)
    return [
        trace_risk_paths(regions.region_view(store, "org-halcyon"), query, SCORING),
        trace_risk_paths(regions.path_view(store, PathQuery(limit=7), SCORING), PathQuery(limit=7), SCORING),
        store.counts(),
    ]


def test_a_file_of_the_first_release_opens_with_its_graph_and_answers_alike(tmp_path: Path) -> None:
    current = EmbeddedStore(tmp_path / "current")
    ingest_path(current, EXAMPLE_BUNDLE)
    old_dir = tmp_path / "old"
    old_dir.mkdir()
    old = sqlite3.connect(old_dir / DB_FILE)
    old.executescript(FIRST_LAYOUT)
    with sqlite3.connect(current.path) as db:
        old.executemany(
            "INSERT INTO entities VALUES (?, ?, ?, ?)",
            db.execute("SELECT id, kind, name, body FROM entities"),
        )
        old.executemany(
            "INSERT INTO links VALUES (?, ?, ?, ?, ?)",
            db.execute("SELECT from_id, type, to_id, project, body FROM links"),
        )
    old.commit()
    old.close()

    opened = EmbeddedStore(old_dir)

    assert answers(opened) == answers(current)
    with sqlite3.connect(opened.path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == LAYOUT


def test_a_file_of_layout_2_gains_the_grades_of_its_conditions(tmp_path: Path) -> None:
    current = EmbeddedStore(tmp_path / "current")
    ingest_path(current, EXAMPLE_BUNDLE)
    current.close()
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    with sqlite3.connect(current.path) as db, sqlite3.connect(earlier / DB_FILE) as copy:
        db.backup(copy)
        for index in ("condition_facts", "cohort_facts"):  # since layout 4
            copy.execute(f"DROP INDEX {index}")
        copy.execute("ALTER TABLE entities DROP COLUMN grade")
        copy.execute("PRAGMA user_version = 2")

    opened = EmbeddedStore(earlier)

    with opened.read() as reader, EmbeddedStore(tmp_path / "current").read() as expected:
        assert list(reader.condition_facts()) == list(expected.condition_facts())
    assert answers(opened) == answers(EmbeddedStore(tmp_path / "current"))


def test_a_first_release_link_to_a_missing_id_does_not_keep_the_file_from_opening(tmp_path: Path) -> None:
    """The first release's writes did not check that a link's ends exist; such a link is kept."""
    with sqlite3.connect(tmp_path / DB_FILE) as old:
        old.executescript(FIRST_LAYOUT)
        body = '{"entity":"organization","id":"org-a","name":"A","kinds":["buyer"],"country":"KE"}'
        old.execute("INSERT INTO entities VALUES ('org-a', 'organization', 'A', ?)", (body,))
        link = '{"from_id":"org-a","to_id":"org-gone","type":"CONTRACTS"}'
        old.execute("INSERT INTO links VALUES ('org-a', 'CONTRACTS', 'org-gone', '', ?)", (link,))

    opened = EmbeddedStore(tmp_path)

    assert opened.counts()["links"] == 1 and opened.get("org-a").name == "A"


def test_a_file_of_a_newer_release_is_refused_untouched(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    store.close()
    with sqlite3.connect(tmp_path / DB_FILE) as db:
        db.execute(f"PRAGMA user_version = {LAYOUT + 1}")

    with pytest.raises(StoreUnavailable, match="newer laborgraph"):
        EmbeddedStore(tmp_path)
    with sqlite3.connect(tmp_path / DB_FILE) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == LAYOUT + 1


def test_threads_that_come_and_go_leave_no_connections_open(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    ingest_path(store, EXAMPLE_BUNDLE)
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(100):  # as a server's worker threads do
        thread = threading.Thread(target=store.counts)
        thread.start()
        thread.join()
    store.counts()  # a connection opened after they are gone closes theirs
    assert len(os.listdir("/proc/self/fd")) - before < 10


def test_a_long_write_elsewhere_does_not_hold_questions_up(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    ingest_path(store, EXAMPLE_BUNDLE)
    ask = Questions(store, Settings.model_validate({"min_headcount": 5}))
    writer = sqlite3.connect(store.path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process's ingest, under way
    try:
        started = time.monotonic()
        found = ask.gaps(limit=3)
        assert found.total > 0 and len(found.items) == 3
        assert time.monotonic() - started < 5
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_store_leaves_no_file_until_its_first_write(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    store = EmbeddedStore(data_dir)
    assert store.counts()["links"] == 0
    assert Questions(store, Settings()).gaps().total == 0
    with pytest.raises(InvalidBundle):
        ingest_path(store, FIXTURES / "bad-bundle")
    assert not data_dir.exists()  # a rejected first ingest, and questions, leave nothing behind

    other = EmbeddedStore(data_dir)  # opened before the file exists, like a running server
    ingest_path(store, EXAMPLE_BUNDLE)
    assert (data_dir / DB_FILE).is_file()
    assert other.get("org-halcyon").name == "Halcyon Labs"  # sees the first write at once
    store.close()
    other.close()


def test_a_bundle_is_laid_out_in_its_own_order_whatever_its_conditions_dates(tmp_path: Path) -> None:
    # Whole-graph reads walk a cohort's conditions together: they must lie together in the
    # file, not in the date order a write merges observations in.
    store = EmbeddedStore(tmp_path)
    ingest_path(store, EXAMPLE_BUNDLE)
    store.close()
    db = sqlite3.connect(tmp_path / DB_FILE)
    stored = [i for (i,) in db.execute("SELECT id FROM entities WHERE kind = 'condition' ORDER BY rowid")]
    db.close()
    with (EXAMPLE_BUNDLE / "conditions.csv").open(newline="") as rows:
        in_bundle = [f"{row['cohort_id']}/{row['dimension']}" for row in csv.DictReader(rows)]
    assert stored == list(dict.fromkeys(in_bundle))


def _example_with_savanna_pay(tmp_path: Path) -> tuple[EmbeddedStore, Condition]:
    store = EmbeddedStore(tmp_path)
    ingest_path(store, EXAMPLE_BUNDLE)
    pay = store.get("coh-savanna-ke-moderators/pay")
    assert isinstance(pay, Condition)
    return store, pay


def test_changed_entities_are_found_by_their_new_references_and_values(tmp_path: Path) -> None:
    # A changed condition is updated in place; a unit moving to another organization has
    # its reference rewritten in the index that finds units by organization.
    store, pay = _example_with_savanna_pay(tmp_path)
    unit = store.get("unit-nimbus-alignment")
    assert isinstance(unit, Unit)
    moved = unit.model_copy(update={"organization_id": "org-halcyon"})
    met = pay.model_copy(update={"value": 2.9, "status": Status.meets})
    store.write(GraphData(units=[moved], conditions=[met]))
    with store.read() as reader:
        assert "unit-nimbus-alignment" in {u.id for u in reader.units_of(["org-halcyon"])}
        assert "unit-nimbus-alignment" not in {u.id for u in reader.units_of(["org-nimbus"])}
        found = {c.id: c for c in reader.conditions_of(["coh-savanna-ke-moderators"])}
        assert found["coh-savanna-ke-moderators/pay"].status is Status.meets
        facts = [
            f for f in reader.condition_facts(["coh-savanna-ke-moderators"]) if f.dimension is Dimension.pay
        ]
        assert [f.status for f in facts] == [Status.meets]
    assert store.get("coh-savanna-ke-moderators/pay") == met


def test_a_write_of_conditions_alone_leaves_the_risk_rows_a_full_refresh_would(tmp_path: Path) -> None:
    store, pay = _example_with_savanna_pay(tmp_path)
    voice = store.get("coh-savanna-ke-moderators/voice")
    assert isinstance(voice, Condition)
    store.write(
        GraphData(
            conditions=[
                pay.model_copy(update={"value": 2.9, "status": Status.meets}),  # its rows go
                voice.model_copy(update={"status": Status.at_risk}),  # its rows change
                Condition(cohort_id="coh-taskhive-ke-gig", dimension=Dimension.pay, status=Status.violates),
            ]
        )
    )
    store.close()
    db = sqlite3.connect(tmp_path / DB_FILE)
    kept = sorted(db.execute("SELECT * FROM risks"))
    db.execute("CREATE TEMP TABLE touched (id TEXT PRIMARY KEY)")
    db.execute("INSERT INTO temp.touched SELECT id FROM entities WHERE kind = 'cohort'")
    db.execute("DELETE FROM risks")
    db.execute(ADD_RISKS)
    assert kept == sorted(db.execute("SELECT * FROM risks"))
    assert any(row[4] == "coh-taskhive-ke-gig" and row[1] == "pay" for row in kept)
    db.close()


def _tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every stored row but the revisions' times, and the tables' indexes."""
    db = sqlite3.connect(path / DB_FILE)
    found = {
        table: db.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4").fetchall()
        for table in ("entities", "links", "risks", "observations", "earlier")
    }
    found["order"] = db.execute("SELECT id FROM entities ORDER BY rowid").fetchall()
    found["indexes"] = sorted(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
    db.close()
    return found


def test_bulk_writes_store_what_row_by_row_writes_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A large write builds indexes after its rows go in, makes new cohorts' risk rows from
    # the bundle and copies stored conditions as observations: the file must come out the same.
    bundles = [EXAMPLE_BUNDLE, FIXTURES / "update-bundle", EXAMPLE_BUNDLE.parent / "ai-supply-chain-review-2"]
    for name, bulk_rows in (("row_by_row", 10**9), ("bulk", 1)):
        monkeypatch.setattr(embedded, "BULK_ROWS", bulk_rows)
        store = EmbeddedStore(tmp_path / name)
        for bundle in bundles:
            ingest_path(store, bundle)
        store.close()
    bulk = _tables(tmp_path / "bulk")
    assert bulk == _tables(tmp_path / "row_by_row")
    assert bulk["risks"] and bulk["observations"]
    db = sqlite3.connect(tmp_path / "bulk" / DB_FILE)
    db.execute("CREATE TEMP TABLE touched (id TEXT PRIMARY KEY)")
    db.execute("INSERT INTO temp.touched SELECT id FROM entities WHERE kind = 'cohort'")
    db.execute("DELETE FROM risks")
    db.execute(ADD_RISKS)  # the risk rows worked out afresh from everything stored
    assert sorted(db.execute("SELECT * FROM risks")) == sorted(bulk["risks"])
    db.close()

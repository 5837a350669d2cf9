"""The Neo4j store writes a bundle in batches, a transaction each: what replaces "one
transaction" is the mark of the write (graph.unfinished).

A write cut short (its batches failing with the server unreachable, the CLI killed with
SIGKILL) leaves the mark: questions still answer and warn, nothing is kept, every other
write is refused naming ``laborgraph settle``, and settling gives back exactly the graph
before it; ingesting the bundle again then gives the graph a clean ingest gives.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import Session
from neo4j.exceptions import ServiceUnavailable

from bench.generate import generate, write_csv
from laborgraph.app.main import create_app
from laborgraph.app.unfinished_header import UNFINISHED_HEADER
from laborgraph.graph import neo4j_store
from laborgraph.graph.errors import IngestIncomplete, StoreUnavailable
from laborgraph.graph.model import GraphData
from laborgraph.graph.neo4j_store import Neo4jStore
from laborgraph.graph.unfinished import SETTLE_COMMAND, UnfinishedWrite
from laborgraph.graph.vocabulary import EntityKind
from laborgraph.ingest.load import Progress, ingest_path
from tests.conftest import EXAMPLE_BUNDLE
from tests.test_api import make_settings

REVIEW_BUNDLE = EXAMPLE_BUNDLE.parent / "ai-supply-chain-review-2"
BOOKKEEPING = ("undo_revision", "undo_body")  # what a correction replaced; see UNDO_* in neo4j_store

EVERY_NODE = """
MATCH (n) WHERE NOT n:LaborgraphState AND NOT n:LaborgraphDerived
RETURN labels(n) AS labels, properties(n) AS props
"""
EVERY_LINK = "MATCH (a)-[r]->(b) RETURN a.id AS a, type(r) AS type, b.id AS b, properties(r) AS props"


def every_fact(store: Neo4jStore) -> list[str]:
    """Every node and relationship the store holds, with every property (risk keys and
    history included), but when a revision was committed."""
    rows = []
    for record in store._run_read(EVERY_NODE):
        props = {k: v for k, v in record["props"].items() if k not in BOOKKEEPING}
        if "LaborgraphRevision" in record["labels"]:
            props.pop("at")
        rows.append(json.dumps([sorted(record["labels"]), props], sort_keys=True, default=str))
    for record in store._run_read(EVERY_LINK):
        rows.append(
            json.dumps(
                [record["a"], record["type"], record["b"], record["props"]], sort_keys=True, default=str
            )
        )
    return sorted(rows)


def graph_answers(store: Neo4jStore) -> tuple[object, ...]:
    """The graph, its revisions and the graph at revision 1, as the reader gives them
    (records in any order)."""
    with store.read() as reader:
        revisions = [r.model_dump(exclude={"at"}) for r in reader.revisions()]
        return _records(reader.everything()), revisions, _records(reader.facts_at(1))


def _records(data: GraphData) -> list[str]:
    return sorted(record.model_dump_json() for record in [*data.entities(), *data.links])


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(neo4j_store, "BATCH_SIZE", 7)  # the review's facts take many batches


def cut_short_after(monkeypatch: pytest.MonkeyPatch, transactions: int) -> None:
    """The server becomes unreachable once ``transactions`` batch transactions went through
    (so an undo at once fails too, as it would)."""
    through = iter(range(transactions))
    execute_write = Session.execute_write

    def failing(session: Session, work: Any, *args: Any, **kwargs: Any) -> Any:
        if next(through, None) is None:
            raise ServiceUnavailable("injected: the server went away")
        return execute_write(session, work, *args, **kwargs)

    def unreachable(*args: object, **kwargs: object) -> None:
        raise StoreUnavailable("injected: the server went away")

    monkeypatch.setattr(Session, "execute_write", failing)
    monkeypatch.setattr(Neo4jStore, "_undo", unreachable)


def batch_transactions(store: Neo4jStore, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many batch transactions the review takes, counted on a write undone after."""
    counted = 0
    execute_write = Session.execute_write

    def counting(session: Session, work: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal counted
        counted += 1
        return execute_write(session, work, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Session, "execute_write", counting)
        ingest_path(store, REVIEW_BUNDLE)
    return counted


@pytest.mark.parametrize("cut_at", [0.0, 0.3, 0.7, 1.0])
def test_a_review_cut_short_is_reported_refused_and_settled_back(
    neo4j: Neo4jStore, monkeypatch: pytest.MonkeyPatch, small_batches: None, cut_at: float
) -> None:
    ingest_path(neo4j, EXAMPLE_BUNDLE)
    total = batch_transactions(neo4j, monkeypatch)
    clean = every_fact(neo4j), graph_answers(neo4j)
    neo4j.wipe()
    ingest_path(neo4j, EXAMPLE_BUNDLE)
    before, answers_before = every_fact(neo4j), graph_answers(neo4j)
    version_before = _version(neo4j)

    with monkeypatch.context() as patch:
        cut_short_after(patch, round(cut_at * (total - 1)))
        with pytest.raises(IngestIncomplete, match=SETTLE_COMMAND):
            ingest_path(neo4j, REVIEW_BUNDLE)

    mark = neo4j.unfinished_write()
    assert mark is not None and mark.revision == 2
    neo4j.remember("an answer", "of part of a revision")
    assert neo4j.recall("an answer") is None
    with pytest.raises(IngestIncomplete, match=f"revision 2 .*`{SETTLE_COMMAND}`"):
        ingest_path(neo4j, REVIEW_BUNDLE)

    assert neo4j.settle() == mark
    assert neo4j.unfinished_write() is None
    assert every_fact(neo4j) == before
    assert graph_answers(neo4j) == answers_before
    assert _version(neo4j) != version_before  # answers kept before the write are forgotten
    assert neo4j.settle() is None

    ingest_path(neo4j, REVIEW_BUNDLE)
    assert (every_fact(neo4j), graph_answers(neo4j)) == clean


def test_a_review_failing_part_way_on_a_reachable_server_is_undone_at_once(
    neo4j: Neo4jStore, monkeypatch: pytest.MonkeyPatch, small_batches: None
) -> None:
    ingest_path(neo4j, EXAMPLE_BUNDLE)
    before = every_fact(neo4j)
    calls = iter(range(5))
    execute_write = Session.execute_write

    def failing(session: Session, work: Any, *args: Any, **kwargs: Any) -> Any:
        if next(calls, None) is None:
            raise ServiceUnavailable("injected: one batch lost its connection")
        return execute_write(session, work, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Session, "execute_write", failing)
        with pytest.raises(StoreUnavailable, match="injected"):
            ingest_path(neo4j, REVIEW_BUNDLE)

    assert neo4j.unfinished_write() is None
    assert every_fact(neo4j) == before


def test_an_ingest_during_a_write_waits_for_it_then_is_validated_against_it(neo4j: Neo4jStore) -> None:
    """A mark whose writer still holds the write turn is a write under way, not one cut
    short: the next ingest waits for it instead of being refused."""
    waiting = threading.Event()
    outcome: list[object] = []

    def ingest() -> None:
        try:
            outcome.append(
                ingest_path(
                    neo4j,
                    EXAMPLE_BUNDLE,
                    Progress(start=lambda stage, _: stage.startswith("waiting") and waiting.set()),
                )
            )
        except Exception as exc:  # noqa: BLE001 - the test reports it
            outcome.append(exc)

    with neo4j._session() as session, session.begin_transaction() as turn:  # a write under way
        turn.run(neo4j_store.TAKE_WRITE_TURN).consume()
        mark = UnfinishedWrite(revision=1, started=datetime.now(UTC), writer="another ingest")
        neo4j._run_write(neo4j_store.MARK_WRITE, mark=mark.model_dump_json())
        waiter = threading.Thread(target=ingest)
        waiter.start()
        assert waiting.wait(timeout=60)
        waiter.join(timeout=1)
        assert waiter.is_alive() and not outcome  # it waits while the writer holds the turn
        neo4j._run_write(neo4j_store.UNMARK_WRITE)
        turn.commit()
    waiter.join(timeout=120)

    assert len(outcome) == 1 and not isinstance(outcome[0], Exception), outcome
    assert neo4j.unfinished_write() is None and neo4j.counts()[EntityKind.cohort] == 26


def test_every_answer_served_during_an_unfinished_write_says_so(
    neo4j: Neo4jStore, neo4j_uri: str, tmp_path: Path
) -> None:
    ingest_path(neo4j, EXAMPLE_BUNDLE)
    mark = UnfinishedWrite(revision=2, started=datetime.now(UTC), writer="cli", label="2026-Q1 review")
    neo4j._run_write(neo4j_store.MARK_WRITE, mark=mark.model_dump_json())  # a write cut short

    with TestClient(create_app(make_settings("neo4j", tmp_path, neo4j_uri))) as api:
        answers = [
            api.get(url)
            for url in ("/api/v1/gaps", "/api/v1/paths.csv?limit=3", "/", "/report?buyer=org-nimbus")
        ]
        assert [a.status_code for a in answers] == [200] * 4
        for answer in answers:
            notice = answer.headers[UNFINISHED_HEADER]
            assert "revision 2 (2026-Q1 review) by cli" in notice and SETTLE_COMMAND in notice
        for page in answers[2:]:
            assert "Unfinished write." in page.text and "revision 2 (2026-Q1 review)" in page.text

        neo4j._run_write(neo4j_store.UNMARK_WRITE)
        answers = [api.get(url) for url in ("/api/v1/gaps", "/")]
        assert [UNFINISHED_HEADER in a.headers for a in answers] == [False, False]
        assert "Unfinished write." not in answers[1].text


def _version(store: Neo4jStore) -> str:
    with store.read() as reader:
        return reader.version()


# -- the CLI killed mid-ingest ------------------------------------------------------------


@pytest.fixture
def cli_env(neo4j_uri: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "LABORGRAPH_DATA_DIR": str(tmp_path / "data"),
        "LABORGRAPH_STORE": "neo4j",
        "NEO4J_URI": neo4j_uri,
        "NEO4J_PASSWORD": os.environ.get("NEO4J_PASSWORD", "laborgraph-test"),
        "COLUMNS": "200",
    }


def laborgraph(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "laborgraph.app.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def large_bundle(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "b20k"
    write_csv(generate(20_000), folder)  # about 80k rows: seconds of batches
    yield folder


def test_an_ingest_killed_mid_write_is_reported_refused_and_settled_back(
    neo4j: Neo4jStore, cli_env: dict[str, str], large_bundle: Path, neo4j_uri: str, tmp_path: Path
) -> None:
    ingest_path(neo4j, EXAMPLE_BUNDLE)
    before, links_before = every_fact(neo4j), neo4j.counts()["links"]
    env = cli_env | {"PYTHONUNBUFFERED": "1"}
    ingest = subprocess.Popen(
        [sys.executable, "-m", "laborgraph.app.cli", "ingest", str(large_bundle)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        while neo4j.counts()["links"] < links_before + 100:  # some of the bundle's links are in
            assert ingest.poll() is None, "the ingest ended before it could be killed"
            assert time.monotonic() < deadline, "the ingest wrote no links in 4 minutes"
            time.sleep(0.2)
        os.kill(ingest.pid, signal.SIGKILL)
    finally:
        ingest.kill()
        ingest.wait()
    assert neo4j.unfinished_write() is not None
    assert neo4j.counts()["links"] > links_before  # part of the bundle is there: the mark says so

    with TestClient(create_app(make_settings("neo4j", tmp_path, neo4j_uri))) as api:
        health = api.get("/health")
    assert health.status_code == 200 and health.json()["unfinished_write"]["revision"] == 2
    asked = laborgraph(cli_env, "gaps", "--json")
    assert asked.returncode == 0, asked.stderr
    assert "warning:" in asked.stderr and "revision 2" in asked.stderr and SETTLE_COMMAND in asked.stderr
    refused = laborgraph(cli_env, "ingest", str(REVIEW_BUNDLE))
    assert refused.returncode == 1
    assert SETTLE_COMMAND in refused.stderr and "unfinished write" in refused.stderr

    settled = laborgraph(cli_env, "settle")
    assert settled.returncode == 0, settled.stderr
    assert "undid revision 2" in settled.stdout
    assert every_fact(neo4j) == before
    asked = laborgraph(cli_env, "gaps", "--json")
    assert asked.returncode == 0 and "warning:" not in asked.stderr
    with TestClient(create_app(make_settings("neo4j", tmp_path, neo4j_uri))) as api:
        assert api.get("/health").json()["unfinished_write"] is None
    assert "nothing to settle" in laborgraph(cli_env, "settle").stdout

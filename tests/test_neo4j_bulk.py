"""`laborgraph ingest --bulk`: a bundle loaded by neo4j-admin import into a new database of the
project's own Neo4j answers every question as a normal ingest of the same bundle does."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.generate import generate, write_csv
from laborgraph.graph.embedded import EmbeddedStore
from laborgraph.graph.model import GraphData
from laborgraph.graph.neo4j_store import Neo4jStore
from laborgraph.ingest.load import ingest_path
from tests import neo4j_server
from tests.conftest import EXAMPLE_BUNDLE, FIXTURES

ROOT = Path(__file__).resolve().parents[1]


def admin_command() -> str:
    """How the assembled server runs neo4j-admin: its entry point class, from the jars."""
    java, _ = neo4j_server.find_java()
    lib = neo4j_server.build()
    return shlex.join(
        [str(java), "-cp", f"{lib}/*", "-XX:+UseSerialGC", "org.neo4j.server.startup.Neo4jAdminCommand"]
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A Neo4j home that has never been started: conf only, no database."""
    home = tmp_path / "neo4j"
    neo4j_server.write_conf(
        home, neo4j_server.free_port(), neo4j_server.build(), auth=False, heap="512m", pagecache="128m"
    )
    return home


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "laborgraph.app.cli", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", **env},
        cwd=ROOT,
        timeout=300,
    )


def bulk_env(home: Path, uri: str = "bolt://127.0.0.1:1") -> dict[str, str]:
    return {
        "LABORGRAPH_STORE": "neo4j",
        "NEO4J_URI": uri,
        "NEO4J_HOME": str(home),
        "LABORGRAPH_NEO4J_ADMIN": admin_command(),
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("generated") / "bundle"
    write_csv(generate(2_000), folder)
    return folder


def _answers(env: dict[str, str], buyer: str) -> dict[str, object]:
    questions = {
        "paths": ["paths", "--limit", "0"],
        "tiers": ["tiers", buyer, "--limit", "0"],
        "gaps": ["gaps", "--limit", "0"],
        "fragmentation": ["fragmentation", "--limit", "0"],
        "scorecard": ["scorecard", "--limit", "0"],
        "changes": ["changes"],
    }
    answers: dict[str, object] = {}
    for name, args in questions.items():
        done = cli(*args, "--json", env=env)
        assert done.returncode == 0, f"{name}: {done.stderr}"
        answers[name] = json.loads(done.stdout)
    return answers


@pytest.fixture
def started() -> Iterator[list[neo4j_server.RunningNeo4j]]:
    servers: list[neo4j_server.RunningNeo4j] = []
    yield servers
    for server in servers:
        server.stop()


def _by_section(data: GraphData) -> dict[str, list[str]]:
    """Each section's records, as sorted JSON (the stores list them in their own orders)."""
    return {
        name: sorted(record.model_dump_json() for record in getattr(data, name))
        for name in type(data).model_fields
    }


NODES = "MATCH (n) WHERE NOT n:LaborgraphDerived RETURN labels(n) AS labels, properties(n) AS props"
LINKS = "MATCH (a)-[r]->(b) RETURN a.id AS a, type(r) AS type, b.id AS b, properties(r) AS props"
VARY = {"version", "writing", "at"}  # a new token, a write's lock, a commit time


def _kept(props: dict[str, object]) -> dict[str, object]:
    """Properties but those that differ by nature: an import file cannot carry an empty list
    (Bolt stores ``source_ids: []``, the import no property; both read back as no sources)."""
    return {k: v for k, v in props.items() if k not in VARY and v != []}


def _stored(store: Neo4jStore) -> list[str]:
    """Every node and relationship the database holds, with every property, as sorted text."""
    rows = [
        json.dumps([sorted(r["labels"]), _kept(r["props"])],
                   sort_keys=True, default=str)
        for r in store._driver.execute_query(NODES, database_="neo4j").records
    ] + [
        json.dumps([r["a"], r["type"], r["b"], _kept(r["props"])], sort_keys=True, default=str)
        for r in store._driver.execute_query(LINKS, database_="neo4j").records
    ]  # fmt: skip
    return sorted(rows)


def _same_as_normal_ingest(
    bundle: Path, home: Path, tmp_path: Path, started: list, buyer: str, by_bolt: Neo4jStore
) -> str:
    """Bulk-load ``bundle`` into ``home`` and start the server: it holds what a normal ingest
    by Bolt (``by_bolt``, empty) stores, and answers as the embedded store does."""
    done = cli("ingest", str(bundle), "--bulk", env=bulk_env(home))
    assert done.returncode == 0, done.stderr
    assert "revision 1:" in done.stdout
    server = neo4j_server.start(home, password=None)
    started.append(server)
    embedded_dir = tmp_path / "embedded"
    embedded = EmbeddedStore(embedded_dir)
    normal = ingest_path(embedded, bundle)
    bulk = Neo4jStore(server.uri, user="neo4j", password="", database="neo4j")  # creates SCHEMA
    try:
        with bulk.read() as loaded, embedded.read() as written:
            assert _by_section(loaded.everything()) == _by_section(written.everything())
            [made] = loaded.revisions()
            assert made.model_dump(exclude={"at"}) == normal.revision.model_dump(exclude={"at"})  # type: ignore[union-attr]
            conditions = [c.id for c in written.everything().conditions]
            assert loaded.observations(conditions) == written.observations(conditions)
        ingest_path(by_bolt, bundle)
        loaded_rows, stored_rows = _stored(bulk), _stored(by_bolt)
        only_loaded = [row for row in loaded_rows if row not in stored_rows]
        only_stored = [row for row in stored_rows if row not in loaded_rows]
        assert (only_loaded, only_stored) == ([], [])
        assert len(loaded_rows) == len(stored_rows)
        indexes = {r["name"] for r in bulk._driver.execute_query("SHOW INDEXES YIELD name").records}
        assert "laborgraph_entity_id" in indexes and "laborgraph_observation_key" in indexes
    finally:
        bulk.close()
        embedded.close()
    neo4j_env = {**bulk_env(home, server.uri), "NEO4J_PASSWORD": ""}
    embedded_env = {"LABORGRAPH_DATA_DIR": str(embedded_dir)}
    assert _answers(neo4j_env, buyer) == _answers(embedded_env, buyer)
    return server.uri


def test_bulk_example_answers_as_a_normal_ingest_and_then_refuses(
    workdir: Path, tmp_path: Path, started: list, neo4j: Neo4jStore
) -> None:
    uri = _same_as_normal_ingest(EXAMPLE_BUNDLE, workdir, tmp_path, started, "org-nimbus", neo4j)
    running = cli("ingest", str(EXAMPLE_BUNDLE), "--bulk", env=bulk_env(workdir, uri))
    assert running.returncode == 1
    assert "is running: stop it" in running.stderr
    started.pop().stop()
    present = cli("ingest", str(EXAMPLE_BUNDLE), "--bulk", env=bulk_env(workdir))
    assert present.returncode == 1
    assert "database 'neo4j' already exists" in present.stderr
    server = neo4j_server.start(workdir, password=None)  # what the first bulk load stored is intact
    started.append(server)
    store = Neo4jStore(server.uri, user="neo4j", password="", database="neo4j")
    try:
        with store.read() as reader:
            assert len(reader.revisions()) == 1
            assert len(reader.everything().links) == 46
    finally:
        store.close()


def test_bulk_generated_bundle_answers_as_a_normal_ingest(
    workdir: Path, tmp_path: Path, started: list, generated: Path, neo4j: Neo4jStore
) -> None:
    buyer = next(
        line.split(",")[0] for line in (generated / "organizations.csv").read_text().splitlines()[1:]
    )
    _same_as_normal_ingest(generated, workdir, tmp_path, started, buyer, neo4j)


def test_bulk_invalid_bundle_writes_nothing(workdir: Path) -> None:
    invalid = FIXTURES / "bad-bundle"
    done = cli("ingest", str(invalid), "--bulk", env=bulk_env(workdir))
    assert done.returncode == 1
    assert "error" in done.stderr
    assert not (workdir / "data" / "databases").exists()


def test_bulk_needs_the_neo4j_store(workdir: Path, tmp_path: Path) -> None:
    done = cli(
        "ingest", str(EXAMPLE_BUNDLE), "--bulk",
        env={"LABORGRAPH_DATA_DIR": str(tmp_path / "data"), "NEO4J_HOME": str(workdir)},
    )  # fmt: skip
    assert done.returncode == 1
    assert "--bulk loads a Neo4j database: set LABORGRAPH_STORE=neo4j" in done.stderr
    assert not (tmp_path / "data").exists()


def test_bulk_needs_the_neo4j_home(tmp_path: Path) -> None:
    done = cli("ingest", str(EXAMPLE_BUNDLE), "--bulk", env={"LABORGRAPH_STORE": "neo4j"})
    assert done.returncode == 1
    assert "set NEO4J_HOME or pass --neo4j-home" in done.stderr

"""Shared fixtures: every store-facing test runs against the embedded store AND a real Neo4j.

Neo4j is the server in ``NEO4J_URI`` when set, otherwise one assembled from Maven Central
and started for this session (``tests/neo4j_server.py``). If it cannot start, the Neo4j
tests fail with the reason; they never skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from laborgraph.graph.embedded import EmbeddedStore
from laborgraph.graph.store import GraphStore

if TYPE_CHECKING:
    from laborgraph.graph.neo4j_store import Neo4jStore

EXAMPLE_BUNDLE = Path(__file__).resolve().parents[1] / "examples" / "ai-supply-chain"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def neo4j_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("NEO4J_URI"):
        yield os.environ["NEO4J_URI"]
        return
    from tests import neo4j_server

    server = neo4j_server.start(tmp_path_factory.mktemp("neo4j"))
    try:
        yield server.uri
    finally:
        server.stop()


def _neo4j_store(uri: str, *, wipe: bool = True) -> GraphStore:
    from laborgraph.graph.neo4j_store import Neo4jStore

    store = Neo4jStore(
        uri,
        user=os.environ.get("NEO4J_USER", "neo4j"),
        password=os.environ.get("NEO4J_PASSWORD", "laborgraph-test"),
        database=os.environ.get("NEO4J_DATABASE", "neo4j"),
    )
    if wipe:
        store.wipe()  # each test starts from an empty graph
    return store


@pytest.fixture(params=["embedded", "neo4j"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """An empty store of each backend."""
    if request.param == "embedded":
        opened: GraphStore = EmbeddedStore(tmp_path / "data")
    else:
        opened = _neo4j_store(request.getfixturevalue("neo4j_uri"))
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def neo4j(neo4j_uri: str) -> Iterator[Neo4jStore]:
    """An empty Neo4j store, for what only Neo4j holds."""
    from laborgraph.graph.neo4j_store import Neo4jStore

    store = _neo4j_store(neo4j_uri)
    assert isinstance(store, Neo4jStore)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def both(neo4j_uri: str, tmp_path: Path) -> Iterator[tuple[GraphStore, GraphStore]]:
    """An empty store of each backend at once, to compare their answers."""
    embedded, neo4j = EmbeddedStore(tmp_path / "data"), _neo4j_store(neo4j_uri)
    try:
        yield embedded, neo4j
    finally:
        embedded.close()
        neo4j.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many tests really ran against Neo4j, so a silent skip cannot hide."""
    passed = terminalreporter.stats.get("passed", [])
    neo4j = [r for r in passed if "[neo4j" in r.nodeid or "neo4j" in r.keywords]
    terminalreporter.write_line(f"laborgraph: {len(neo4j)} tests passed against a real Neo4j server")

"""A Neo4j that is down gives clear 503s, never 500s; the API recovers once it answers."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from laborgraph.app.main import create_app
from tests import neo4j_server
from tests.conftest import EXAMPLE_BUNDLE
from tests.test_api import API, make_settings, zip_folder


def closed_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def assert_unavailable(client: TestClient, uri: str) -> None:
    health = client.get("/health")
    assert health.status_code == 503
    assert health.json()["store"] == "neo4j" and health.json()["reachable"] is False
    assert uri in health.json()["detail"]
    requests = [("GET", "/paths"), ("GET", "/paths.csv"), ("GET", "/stats"), ("GET", "/gaps"),
                ("GET", "/entities/org-halcyon"), ("POST", "/bundles")]  # fmt: skip
    for method, path in requests:
        response = client.request(method, API + path, json={"organizations": []})
        assert response.status_code == 503, (path, response.text)
        body = response.json()
        assert body["error"] == "store_unavailable" and uri in body["message"], path
        assert "Traceback" not in response.text and response.headers["retry-after"]


def test_unreachable_neo4j_is_503_with_a_clear_message(tmp_path: Path) -> None:
    uri = f"bolt://127.0.0.1:{closed_port()}"
    with TestClient(create_app(make_settings("neo4j", tmp_path, uri))) as client:
        assert_unavailable(client, uri)


def top_decision(client: TestClient) -> str:
    response = client.get(f"{API}/paths", params={"from": "org-halcyon", "limit": 1})
    assert response.status_code == 200, response.text
    return str(response.json()["items"][0]["decision_id"])


def test_api_recovers_when_neo4j_comes_up_and_after_it_goes_away(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = closed_port()
    uri = f"bolt://127.0.0.1:{port}"
    # start() picks a free port itself; make it pick the one the running app points at.
    monkeypatch.setattr(neo4j_server, "free_port", lambda: port)
    with TestClient(create_app(make_settings("neo4j", tmp_path, uri))) as client:
        assert_unavailable(client, uri)  # down when the API starts
        server = neo4j_server.start(tmp_path / "neo4j")
        try:
            assert client.get("/health").status_code == 200
            upload = client.post(
                f"{API}/bundles", files={"file": ("example.zip", zip_folder(EXAMPLE_BUNDLE))}
            )
            assert upload.status_code == 200, upload.text
            assert top_decision(client) == "dec-halcyon-content-scope"
        finally:
            server.stop()
        assert_unavailable(client, uri)  # gone while the API runs: 503, not a hang or a 500
        server = neo4j_server.start(tmp_path / "neo4j")  # back, with its data
        try:
            assert client.get("/health").status_code == 200
            assert top_decision(client) == "dec-halcyon-content-scope"
        finally:
            server.stop()

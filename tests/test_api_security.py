"""Where requests may come from: DNS rebinding, cross-site writes, and uploads to a keyless server."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from laborgraph.app.auth import new_key
from laborgraph.app.main import create_app
from laborgraph.graph.errors import ConfigError
from tests.conftest import EXAMPLE_BUNDLE
from tests.served import free_port
from tests.test_api import API, make_settings, zip_folder

TOKEN = "a-write-token-for-the-tests"
WRITE_KEY, WRITE_ENTRY = new_key("ci-upload", "write")
EVIL = "https://evil.example"


def bundle() -> dict[str, tuple[str, bytes]]:
    return {"file": ("example.zip", zip_folder(EXAMPLE_BUNDLE))}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def links(client: TestClient | httpx.Client, **headers: str) -> int:
    response = client.get(f"{API}/stats", headers=headers)
    assert response.status_code == 200, response.text
    return int(response.json()["links"])


@pytest.fixture
def keyless(tmp_path: Path) -> Iterator[TestClient]:
    """A server without keys, called from this machine over the network (peer 127.0.0.1)."""
    app = create_app(make_settings("embedded", tmp_path / "keyless", write_token=TOKEN))
    with TestClient(app, base_url="http://127.0.0.1:8000", client=("127.0.0.1", 50000)) as client:
        yield client


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(make_settings("embedded", tmp_path / "keyed", api_keys=WRITE_ENTRY))
    with TestClient(app, base_url="https://lab.example", client=("203.0.113.7", 50000)) as client:
        yield client


# -- DNS rebinding -----------------------------------------------------------------------


def test_a_keyless_server_refuses_hosts_that_are_not_loopback_names(keyless: TestClient) -> None:
    for host in ("rebind.evil.example", "rebind.evil.example:8000", "localhost.evil.example",
                 "127.0.0.1.evil.example", "evil@localhost", "10.0.0.1:8000", ""):  # fmt: skip
        for path in (f"{API}/stats", f"{API}/paths?show_small=true", "/", "/docs", "/health"):
            refused = keyless.get(path, headers={"Host": host})
            assert refused.status_code == 403, (host, path)
            assert refused.json()["error"] == "forbidden"
            assert "LABORGRAPH_ALLOWED_HOSTS" in refused.json()["message"]
    for host in ("localhost", "localhost:8000", "LOCALHOST.:8000", "127.0.0.1:8000", "127.0.0.2",
                 "[::1]:8000", "[::1]"):  # fmt: skip
        assert keyless.get(f"{API}/stats", headers={"Host": host}).status_code == 200, host


def test_allowed_hosts_add_names(tmp_path: Path) -> None:
    settings = make_settings("embedded", tmp_path, allowed_hosts=" Lab.Test , dev.example.")
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
        for host in ("lab.test:8000", "dev.example"):
            assert client.get(f"{API}/stats", headers={"Host": host}).status_code == 200, host
        assert client.get(f"{API}/stats", headers={"Host": "other.test"}).status_code == 403


def test_a_server_with_keys_answers_any_host(keyed: TestClient) -> None:
    assert keyed.get("/health", headers={"Host": "api.lab.example"}).status_code == 200


# -- cross-site writes -------------------------------------------------------------------


def test_a_write_from_another_sites_page_is_refused_and_writes_nothing(
    keyless: TestClient, keyed: TestClient
) -> None:
    """A page elsewhere can POST blind (a form, fetch with mode: no-cors): refused on any server."""
    for client, credentials in ((keyless, bearer(TOKEN)), (keyed, bearer(WRITE_KEY))):
        for browser in ({"Origin": EVIL}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"},
                        {"Origin": "http://127.0.0.1:3000"}, {"Sec-Fetch-Site": "same-site"}):  # fmt: skip
            refused = client.post(f"{API}/bundles", files=bundle(), headers={**credentials, **browser})
            assert refused.status_code == 403, browser
            assert refused.json()["error"] == "forbidden" and "refused" in refused.json()["message"]
        assert links(client, **credentials) == 0
        # Reading is not writing: a cross-site GET is answered (the browser hides the answer).
        assert client.get(f"{API}/stats", headers={**credentials, "Origin": EVIL}).status_code == 200


def test_a_write_from_the_servers_own_page_is_accepted(keyless: TestClient, keyed: TestClient) -> None:
    """Swagger UI's "Try it out" at /docs sends the server's own origin."""
    for client, credentials, origin in (
        (keyless, bearer(TOKEN), "http://127.0.0.1:8000"),
        (keyed, bearer(WRITE_KEY), "https://lab.example"),
    ):
        own = {**credentials, "Origin": origin, "Sec-Fetch-Site": "same-origin"}
        assert client.post(f"{API}/bundles", files=bundle(), headers=own).status_code == 200
        assert links(client, **credentials) == 46


# -- uploads to a keyless server ---------------------------------------------------------


def test_a_keyless_server_reads_freely_but_uploads_need_its_write_token(keyless: TestClient) -> None:
    for wrong in ({}, bearer("not-the-token"), {"X-API-Key": TOKEN[:-1]}):
        refused = keyless.post(f"{API}/bundles", files=bundle(), headers=wrong)
        assert refused.status_code == 401, wrong
        assert "write token" in refused.json()["message"] and "laborgraph serve" in refused.json()["message"]
    assert links(keyless) == 0
    assert keyless.post(f"{API}/bundles", files=bundle(), headers={"X-API-Key": TOKEN}).status_code == 200
    assert links(keyless) == 46
    assert keyless.get(f"{API}/paths", params={"show_small": "true"}).status_code == 200


def test_without_a_token_a_keyless_server_takes_no_upload_over_the_network(tmp_path: Path) -> None:
    app = create_app(make_settings("embedded", tmp_path))
    with TestClient(app, base_url="http://localhost:8000", client=("127.0.0.1", 50000)) as client:
        refused = client.post(f"{API}/bundles", files=bundle(), headers=bearer(""))
        assert refused.status_code == 401 and "write token" in refused.json()["message"]


def test_the_write_token_setting_is_checked_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="for a server without API keys"):
        create_app(make_settings("embedded", tmp_path, api_keys=WRITE_ENTRY, write_token=TOKEN))
    with pytest.raises(ConfigError, match="at least 16 characters"):
        create_app(make_settings("embedded", tmp_path, write_token="short"))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`laborgraph serve` without keys, as `make demo` runs it: its URL and the token it printed."""
    port = free_port()
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "COLUMNS": "200",
                   "LABORGRAPH_DATA_DIR": str(tmp_path / "data")}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "laborgraph.app.cli", "serve", "--port", str(port)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=environment,
        cwd=Path(__file__).resolve().parents[1],
    )
    printed: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [printed.put(line) for line in server.stderr or ()], daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _answers(url):
            assert server.poll() is None, "laborgraph serve stopped"
            assert time.monotonic() < deadline, "laborgraph serve did not answer"
            time.sleep(0.1)
        yield url, _printed_token(printed)
    finally:
        server.terminate()
        server.wait(15)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def _printed_token(printed: queue.Queue[str]) -> str:
    """The write token in what the server printed before it answered."""
    try:
        while True:
            found = re.search(r"uploads need the write token: (\S+)", printed.get(timeout=5))
            if found:
                return found.group(1)
    except queue.Empty:
        pytest.fail("laborgraph serve printed no write token")


def test_laborgraph_serve_prints_the_token_uploads_need(served: tuple[str, str]) -> None:
    url, token = served
    with httpx.Client(base_url=url, timeout=30) as client:
        assert client.post(f"{API}/bundles", files=bundle()).status_code == 401
        rebound = client.get(f"{API}/stats", headers={"Host": "rebind.evil.example"})
        assert rebound.status_code == 403
        blind = client.post(f"{API}/bundles", files=bundle(), headers={**bearer(token), "Origin": EVIL})
        assert blind.status_code == 403
        assert links(client) == 0
        assert client.post(f"{API}/bundles", files=bundle(), headers=bearer(token)).status_code == 200
        assert links(client) == 46

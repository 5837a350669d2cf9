"""Browser fixtures: one headless Chromium per session, pages served from 127.0.0.1.

Chromium is Debian's (``apt-get install chromium chromium-driver``, which ``make test``
runs); Playwright drives it, and no browser is ever downloaded. If it is missing, the
browser tests fail with that instruction: they never skip.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from laborgraph.graph.analysis import regions
from laborgraph.graph.analysis.paths import PathQuery, RiskPath, trace_risk_paths
from laborgraph.graph.embedded import EmbeddedStore
from laborgraph.graph.scoring import load_scoring
from laborgraph.graph.view import GraphView
from laborgraph.ingest.load import ingest_path
from tests.browser.pages import Quiet, Site

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ai-supply-chain"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: `make test` installs it "
            "(apt-get install chromium chromium-driver)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("site")
    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(root, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def example_view(tmp_path_factory: pytest.TempPathFactory) -> GraphView:
    store = EmbeddedStore(tmp_path_factory.mktemp("browser-store"))
    ingest_path(store, EXAMPLE)
    return regions.region_view(store)


@pytest.fixture(scope="session")
def example_paths(example_view: GraphView) -> list[RiskPath]:
    return trace_risk_paths(example_view, PathQuery(limit=None), load_scoring())

"""Helpers for driving map pages: a local site to serve them, and a record of each visit."""

from __future__ import annotations

import http.server
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Request

VIEWPORT = {"width": 1600, "height": 1000}


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@dataclass
class Site:
    """A folder served over HTTP on 127.0.0.1; ``put`` writes a page and returns its URL."""

    root: Path
    origin: str

    def put(self, name: str, html: str) -> str:
        (self.root / name).write_text(html, encoding="utf-8")
        return f"{self.origin}/{name}"


@dataclass
class Visit:
    """A page and everything it did: requests, console messages, page errors, dialogs."""

    page: Page
    url: str
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def node_center(self, node_id: str) -> tuple[float, float]:
        """Where a node is on screen, from vis-network's own coordinates."""
        x, y = self.page.evaluate(
            """id => {
                const net = window.laborgraph.network;
                const dom = net.canvasToDOM(net.getPositions([id])[id]);
                const box = document.getElementById("map").getBoundingClientRect();
                return [box.left + dom.x, box.top + dom.y];
            }""",
            node_id,
        )
        return x, y

    def panel_text(self) -> str:
        return str(self.page.text_content("#panel"))


def open_map(browser: Browser, url: str) -> Visit:
    """Open a map page and wait until vis-network has drawn it."""
    page = browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
    visit = Visit(page, url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            visit.console.append(f"{message.type}: {message.text}")

    def on_dialog(dialog: Dialog) -> None:
        visit.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_request(request: Request) -> None:
        visit.requests.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", lambda error: visit.errors.append(str(error)))
    page.on("dialog", on_dialog)
    page.on("request", on_request)
    page.goto(url)
    page.wait_for_function("window.laborgraph && window.laborgraph.ready === true", timeout=30_000)
    return visit

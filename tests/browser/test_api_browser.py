"""The API's own pages in a real headless Chromium: the docs offline, uploads only from its own pages."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Route

from laborgraph.app.auth import new_key
from laborgraph.app.main import create_app
from tests.browser.pages import Site
from tests.conftest import EXAMPLE_BUNDLE
from tests.served import serving
from tests.test_api import API, make_settings, zip_folder

READ_KEY, READ_ENTRY = new_key("analyst", "read")
WRITE_KEY, WRITE_ENTRY = new_key("loader", "write")
TOKEN = "the-write-token-of-the-browser-tests"
# A script POSTing the example bundle to {target}; the page's title says when it was sent.
UPLOAD = """
const bytes = Uint8Array.from(atob("{bundle}"), c => c.charCodeAt(0));
const form = new FormData();
form.append("file", new Blob([bytes]), "example.zip");
fetch("{target}", {{method: "POST", body: form, {options}}})
  .then(r => document.title = "sent " + r.status, e => document.title = "failed " + e);
"""


@dataclass
class Offline:
    """A page whose requests may only reach ``origin``; everything it tried is recorded."""

    page: Page
    origin: str
    requests: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, context: BrowserContext, origin: str) -> Offline:
        visit = cls(context.new_page(), origin)

        def route(route: Route) -> None:
            url = route.request.url
            visit.requests.append(url)
            if url.startswith(origin + "/"):
                route.continue_()
            else:
                visit.refused.append(url)
                route.abort("internetdisconnected")

        def on_console(message: ConsoleMessage) -> None:
            if message.type in ("error", "warning"):
                visit.console.append(f"{message.type}: {message.text}")

        context.route("**/*", route)
        visit.page.on("console", on_console)
        visit.page.on("pageerror", lambda error: visit.errors.append(str(error)))
        return visit

    def assert_clean(self) -> None:
        assert self.refused == [] and self.errors == [] and self.console == []
        assert all(url.startswith(self.origin + "/") for url in self.requests)


def operation_count(origin: str, **headers: str) -> int:
    document = httpx.get(f"{origin}/openapi.json", headers=headers).json()
    return sum(len(item) for item in document["paths"].values())


@pytest.fixture(scope="module")
def keyless(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = make_settings("embedded", tmp_path_factory.mktemp("docs"), write_token=TOKEN)
    with serving(create_app(settings)) as origin:
        yield origin


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    keys = f"{READ_ENTRY},{WRITE_ENTRY}"
    settings = make_settings("embedded", tmp_path_factory.mktemp("docs-keyed"), api_keys=keys)
    with serving(create_app(settings)) as origin:
        yield origin


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    opened = browser.new_context()
    yield opened
    opened.close()


def test_swagger_ui_shows_every_operation_offline(context: BrowserContext, keyless: str) -> None:
    visit = Offline.open(context, keyless)
    visit.page.goto(f"{keyless}/docs")
    visit.page.wait_for_selector(".opblock", timeout=30_000)
    assert visit.page.locator(".opblock").count() == operation_count(keyless)
    assert "laborgraph" in visit.page.locator(".info .title").inner_text()
    assert visit.page.locator(".opblock-summary-path", has_text="/api/v1/bundles").count() == 1
    visit.assert_clean()
    assert f"{keyless}/docs/assets/swagger-ui-bundle.js" in visit.requests


def test_docs_behind_keys_open_with_the_key_as_password(browser: Browser, keyed: str) -> None:
    """Swagger UI fetches the OpenAPI document with the credentials the browser signed in with."""
    context = browser.new_context(http_credentials={"username": "analyst", "password": READ_KEY})
    try:
        visit = Offline.open(context, keyed)
        visit.page.goto(f"{keyed}/docs")
        visit.page.wait_for_selector(".opblock", timeout=30_000)
        assert visit.page.locator(".opblock").count() == operation_count(keyed, **{"X-API-Key": READ_KEY})
        visit.assert_clean()
    finally:
        context.close()


def upload_script(target: str, options: str) -> str:
    bundle = base64.b64encode(zip_folder(EXAMPLE_BUNDLE)).decode()
    return UPLOAD.format(bundle=bundle, target=target, options=options)


def links(origin: str, **headers: str) -> int:
    return int(httpx.get(f"{origin}{API}/stats", headers=headers).json()["links"])


def test_a_page_elsewhere_cannot_upload_with_the_browsers_credentials(
    browser: Browser, keyed: str, site: Site
) -> None:
    """The browser signed in with a write key; another site's page POSTs blind (no-cors)."""
    context = browser.new_context(http_credentials={"username": "loader", "password": WRITE_KEY})
    try:
        page = context.new_page()
        page.goto(f"{keyed}/docs")  # signed in
        answers: list[int] = []
        page.on("response", lambda answer: answers.append(answer.status) if API in answer.url else None)
        script = upload_script(f"{keyed}{API}/bundles", 'mode: "no-cors", credentials: "include"')
        page.goto(site.put("elsewhere.html", f"<script>{script}</script>"))
        page.wait_for_function("document.title.startsWith('sent')", timeout=30_000)
        assert answers == [403]  # without the check: 200, and the bundle written
        assert links(keyed, **{"X-API-Key": READ_KEY}) == 0
    finally:
        context.close()


def test_the_docs_page_itself_may_upload(context: BrowserContext, keyless: str) -> None:
    """What Swagger UI's "Try it out" sends, with the write token: the server's own origin."""
    page = context.new_page()
    page.goto(f"{keyless}/docs")
    script = upload_script(f"{API}/bundles", f'headers: {{Authorization: "Bearer {TOKEN}"}}')
    page.add_script_tag(content=script)
    page.wait_for_function("document.title.startsWith('sent')", timeout=30_000)
    assert page.title() == "sent 200"
    assert links(keyless) == 46

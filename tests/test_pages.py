"""The analyst's pages over HTTP: the front door and the maps, with keys as a browser sends them."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import parse_qsl

import pytest
from fastapi.testclient import TestClient

from laborgraph.app.auth import Scope, new_key
from laborgraph.app.main import create_app
from laborgraph.graph.embedded import EmbeddedStore
from tests.browser.generate import large_chain
from tests.conftest import EXAMPLE_BUNDLE
from tests.test_api import API, make_settings, zip_folder

KEYS = {scope: new_key(f"{scope.value}-key", scope) for scope in Scope}


def basic(scope: Scope) -> dict[str, str]:
    token = base64.b64encode(f"analyst:{KEYS[scope][0]}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    entries = ",".join(entry for _, entry in KEYS.values())
    settings = make_settings("embedded", tmp_path_factory.mktemp("pages"), api_keys=entries)
    with TestClient(create_app(settings)) as opened:
        upload = opened.post(
            f"{API}/bundles",
            files={"file": ("b.zip", zip_folder(EXAMPLE_BUNDLE))},
            headers=basic(Scope.write),
        )
        assert upload.status_code == 200, upload.text
        yield opened


def test_a_browser_is_asked_for_the_key(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic ")
    assert client.get("/", headers=basic(Scope.read)).status_code == 200
    wrong = base64.b64encode(b"analyst:not-the-key").decode()
    assert client.get("/map", headers={"Authorization": f"Basic {wrong}"}).status_code == 401


def test_front_door_shows_map_paths_gaps_and_docs(client: TestClient) -> None:
    page = client.get("/", headers=basic(Scope.read))
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    for expected in ("Savanna Nairobi sentinel moderators", "/api/v1/paths.csv", "/docs", "Greyline"):
        assert expected in html, expected
    assert (
        "Kora Arabic-language escalation reviewers" not in html
    )  # a cohort of 4 stays suppressed for a read key
    # The page's CSV links work with the credentials the browser already sent.
    assert client.get(f"{API}/paths.csv", headers=basic(Scope.read)).status_code == 200


def test_map_pages_for_a_buyer_an_entity_and_a_path(client: TestClient) -> None:
    auth = basic(Scope.read)
    buyer = client.get("/map", params={"viewpoint": "org-halcyon"}, headers=auth)
    assert buyer.status_code == 200 and "Halcyon Labs" in buyer.text
    focus = client.get(
        "/map", params={"viewpoint": "org-halcyon", "focus": "org-tessera", "depth": 1}, headers=auth
    )
    assert focus.status_code == 200 and "Tessera Data Services" in focus.text
    path = client.get("/map", params={"viewpoint": "org-halcyon", "path": 1}, headers=auth)
    assert path.status_code == 200
    missing = client.get("/map", params={"viewpoint": "org-halcyon", "path": 45}, headers=auth)
    assert missing.status_code == 422 and "no risk path ranked 45; there are 41" in missing.text
    assert client.get("/map", params={"path": 2**63}, headers=auth).status_code == 422
    assert client.get("/map", params={"focus": "org-nowhere"}, headers=auth).status_code in (404, 422)


def test_small_cohorts_on_pages_need_admin(client: TestClient) -> None:
    assert client.get("/", params={"show_small": True}, headers=basic(Scope.read)).status_code == 403
    shown = client.get("/", params={"show_small": True}, headers=basic(Scope.admin))
    assert shown.status_code == 200 and "Kora Arabic-language escalation reviewers" in shown.text


def test_page_errors_are_pages_and_api_errors_stay_json(client: TestClient) -> None:
    """A browser shows a page with the message, escaped; a script gets JSON, whatever it accepts."""
    auth = basic(Scope.read)
    script = "<script>alert(1)</script>"
    for params, status, message in (
        ({"focus": "nope"}, 404, "no entity with id &#x27;nope&#x27;"),
        ({"focus": script}, 404, "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ({"depth": 99}, 422, "query.depth: Input should be less than or equal to"),
    ):
        page = client.get("/map", params=params, headers=auth)
        assert page.status_code == status and page.headers["content-type"].startswith("text/html")
        assert message in page.text and script not in page.text and page.text.startswith("<!DOCTYPE html>")
    challenged = client.get("/")
    assert challenged.status_code == 401 and challenged.headers["www-authenticate"].startswith("Basic ")
    assert "sign in with any user name and the key as password" in challenged.text
    api = client.get(f"{API}/entities/nope", headers={**auth, "Accept": "text/html"})
    assert api.status_code == 404 and api.json()["message"] == "no entity with id 'nope'"


@pytest.fixture(scope="module")
def large_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A graph too large for one map: 6,700 organizations and cohorts."""
    entries = ",".join(entry for _, entry in KEYS.values())
    settings = make_settings("embedded", tmp_path_factory.mktemp("large-pages"), api_keys=entries)
    EmbeddedStore(settings.data_dir).write(large_chain(cohorts=6000))
    with TestClient(create_app(settings)) as opened:
        yield opened


def test_front_door_of_a_large_graph_lists_buyers_to_pick_and_draws_nothing(large_client: TestClient) -> None:
    page = large_client.get("/", headers=basic(Scope.read))
    assert page.status_code == 200
    html = page.text
    assert "Pick a viewpoint" in html and "<script" not in html  # a summary, not a map
    buyers = re.findall(r'class="open-map" href="map\?viewpoint=([^"]+)"', html)
    assert sorted(buyers) == [f"org-buyer-{i}" for i in range(5)]
    assert html.count('class="open-cohort"') == 25  # the top risk paths, each leading to its workers
    opened = large_client.get(f"/map?viewpoint={buyers[0]}", headers=basic(Scope.read))
    assert opened.status_code == 200 and len(opened.content) < 2 * 2**20
    assert '"served":true' in opened.text
    first = re.search(r'class="open-cohort" href="map\?([^"]+)"', html)
    assert first is not None
    cohort = dict(parse_qsl(unescape(first.group(1))))["select"]
    workers = large_client.get(f"/map?{unescape(first.group(1))}", headers=basic(Scope.read))
    assert workers.status_code == 200 and f'"entity_id":"{cohort}"' in workers.text


def test_a_group_of_organizations_opens_as_a_page_and_bad_groups_say_why(large_client: TestClient) -> None:
    auth = basic(Scope.read)
    region = large_client.get(
        "/map", params={"viewpoint": "org-buyer-0", "tier": "1", "country": "KE"}, headers=auth
    )
    assert region.status_code == 200 and "Organizations in KE, tier 1" in region.text
    for params in ({"tier": "1"}, {"tier": "one", "country": "KE"}, {"tier": "9", "country": "KE"}):
        refused = large_client.get("/map", params={"viewpoint": "org-buyer-0", **params}, headers=auth)
        assert refused.status_code == 422, params

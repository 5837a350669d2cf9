"""The analyst's pages over HTTP: the front door and the maps, with keys as a browser sends them."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.auth import Scope, new_key
from app.main import create_app
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
    missing = client.get("/map", params={"path": 9999}, headers=auth)
    assert missing.status_code == 422 and "no risk path ranked 9999" in missing.json()["message"]
    assert client.get("/map", params={"focus": "org-nowhere"}, headers=auth).status_code in (404, 422)


def test_small_cohorts_on_pages_need_admin(client: TestClient) -> None:
    assert client.get("/", params={"show_small": True}, headers=basic(Scope.read)).status_code == 403
    shown = client.get("/", params={"show_small": True}, headers=basic(Scope.admin))
    assert shown.status_code == 200 and "Kora Arabic-language escalation reviewers" in shown.text

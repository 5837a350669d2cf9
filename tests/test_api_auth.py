"""API keys and scopes: who may read, upload, and see small cohorts unsuppressed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from laborgraph.app import auth
from laborgraph.app.auth import KeyRing, Scope, new_key, parse_keys
from laborgraph.app.main import create_app
from laborgraph.graph.errors import ConfigError
from tests.conftest import EXAMPLE_BUNDLE
from tests.test_api import API, make_settings, zip_folder

KEYS = {scope: new_key(f"{scope.value}-key", scope) for scope in Scope}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    entries = ",".join(entry for _, entry in KEYS.values())
    with TestClient(create_app(make_settings("embedded", tmp_path, api_keys=entries))) as opened:
        yield opened


def bearer(scope: Scope) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[scope][0]}"}


def test_no_or_unknown_key_is_401_with_a_bearer_challenge(client: TestClient) -> None:
    admin_key = KEYS[Scope.admin][0]
    refused = [{}, {"Authorization": "Bearer not-a-key"}, {"X-API-Key": "not-a-key"},
               {"Authorization": f"Basic {admin_key}"}, {"Authorization": admin_key}]  # fmt: skip
    for headers in refused:
        response = client.get(f"{API}/stats", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"] == "unauthorized"
        assert "X-API-Key" in response.json()["message"]


def test_keys_work_as_bearer_or_header(client: TestClient) -> None:
    assert client.get(f"{API}/stats", headers=bearer(Scope.read)).status_code == 200
    assert client.get(f"{API}/stats", headers={"X-API-Key": KEYS[Scope.read][0]}).status_code == 200


DOCS = ("/docs", "/openapi.json")


def test_health_needs_no_key_and_the_docs_a_read_key(client: TestClient) -> None:
    assert client.get("/health").status_code == 200
    for path in DOCS:
        refused = client.get(path)
        assert refused.status_code == 401, path
        assert refused.headers["www-authenticate"].startswith("Basic "), path  # a browser asks
        assert client.get(path, headers=bearer(Scope.read)).status_code == 200, path
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200  # Swagger UI's own code


def test_public_docs_answer_without_a_key(tmp_path: Path) -> None:
    entries = ",".join(entry for _, entry in KEYS.values())
    settings = make_settings("embedded", tmp_path, api_keys=entries, public_docs=True)
    with TestClient(create_app(settings)) as client:
        for path in DOCS:
            assert client.get(path).status_code == 200, path
        assert client.get(f"{API}/stats").status_code == 401


def test_scopes(client: TestClient) -> None:
    bundle = {"file": ("example.zip", zip_folder(EXAMPLE_BUNDLE))}
    refused = client.post(f"{API}/bundles", files=bundle, headers=bearer(Scope.read))
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden" and "'write'" in refused.json()["message"]
    assert client.get(f"{API}/stats", headers=bearer(Scope.read)).json()["links"] == 0
    for scope in (Scope.write, Scope.admin):
        uploaded = client.post(f"{API}/bundles", files=bundle, headers=bearer(scope))
        assert uploaded.status_code == 200, scope
    for scope in (Scope.read, Scope.write):
        for path in ("/paths", "/entities/coh-kora-ke-arabic-reviewers", "/gaps", "/paths.csv"):
            response = client.get(API + path, params={"show_small": "true"}, headers=bearer(scope))
            assert response.status_code == 403, (scope, path)
            assert "'admin'" in response.json()["message"]
        assert client.get(f"{API}/paths", headers=bearer(scope)).status_code == 200
    shown = client.get(
        f"{API}/entities/coh-kora-ke-arabic-reviewers",
        params={"show_small": "true"},
        headers=bearer(Scope.admin),
    )
    assert shown.status_code == 200 and shown.json()["headcount"] == 4


def test_authentication_comes_before_everything_else(client: TestClient) -> None:
    """An unauthenticated caller learns nothing: not whether an id exists, nor upload limits."""
    assert client.get(f"{API}/entities/org-nowhere").status_code == 401
    assert client.get(f"{API}/paths", params={"limit": 0}).status_code == 401
    huge = client.post(f"{API}/bundles", content=b"x", headers={"content-length": "999999999999"})
    assert huge.status_code == 401


def test_no_keys_means_every_caller_is_admin(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings("embedded", tmp_path))) as client:
        assert client.get(f"{API}/stats").status_code == 200
        assert client.get(f"{API}/paths", params={"show_small": "true"}).status_code == 200


def test_new_key_gives_an_entry_holding_only_its_hash() -> None:
    key, entry = new_key("ci-upload", "write")
    name, scope, digest = entry.split(":")
    assert (name, scope) == ("ci-upload", "write") and key not in entry
    assert digest == hashlib.sha256(key.encode()).hexdigest() and len(key) >= 43
    ring = KeyRing(parse_keys(f"{entry}, {new_key('other', 'admin')[1]}"))
    caller = ring.identify(key)
    assert caller is not None and (caller.name, caller.scope) == ("ci-upload", Scope.write)
    for wrong in (key + "x", "", None):
        assert ring.identify(wrong) is None
    with pytest.raises(ConfigError):
        new_key("has:colon", "read")
    with pytest.raises(ConfigError):
        new_key("fine", "root")


def test_every_bad_key_entry_is_reported_at_startup(tmp_path: Path) -> None:
    text = f"ok:read:{'a' * 64},nameless:root:{'b' * 64},short:read:abc,:admin:{'c' * 64}"
    with pytest.raises(ConfigError) as raised:
        parse_keys(text)
    message = str(raised.value)
    assert "entry 2 (nameless)" in message and "entry 3 (short)" in message and "entry 4" in message
    with pytest.raises(ConfigError):
        create_app(make_settings("embedded", tmp_path, api_keys=text))
    assert [k.digest for k in parse_keys(f" ok:admin:{'A' * 64} ,, ")] == ["a" * 64]
    assert parse_keys("") == []  # unset: no keys, loopback only
    for blank in (" ", " , "):  # set, yet empty: refused rather than opening the API
        with pytest.raises(ConfigError, match="holds no key entry"):
            parse_keys(blank)


def test_scopes_nest() -> None:
    assert Scope.admin.allows(Scope.write) and Scope.write.allows(Scope.read)
    assert not Scope.read.allows(Scope.write) and not Scope.write.allows(Scope.admin)


def test_identify_compares_every_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Constant time: every configured digest is compared, whichever (if any) matches."""
    compared: list[str] = []
    real = auth.hmac.compare_digest

    def counting(a: str, b: str) -> bool:
        compared.append(b)
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", counting)
    entries = [new_key(f"k{i}", "read") for i in range(4)]
    ring = KeyRing(parse_keys(",".join(entry for _, entry in entries)))
    for presented in (entries[0][0], entries[3][0], "unknown"):
        compared.clear()
        ring.identify(presented)
        assert len(compared) == 4


def test_without_keys_only_loopback_callers_are_answered(tmp_path: Path) -> None:
    app = create_app(make_settings("embedded", tmp_path, api_keys=""))
    with TestClient(app, client=("203.0.113.7", 50000)) as remote:
        refused = remote.get(f"{API}/stats")
        assert refused.status_code == 403 and "loopback" in refused.json()["message"]
    with TestClient(app, base_url="http://127.0.0.1:8000", client=("127.0.0.1", 50000)) as local:
        assert local.get(f"{API}/stats").status_code == 200

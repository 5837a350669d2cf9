"""The HTTP API as an analyst uses it, over the embedded store and a real Neo4j alike."""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from laborgraph.app.main import create_app
from laborgraph.app.questions import Questions
from laborgraph.app.settings import Settings
from laborgraph.app.stores import open_store
from laborgraph.graph.analysis.paths import PathQuery
from laborgraph.graph.model import Condition, GraphData
from laborgraph.graph.vocabulary import Dimension, Status
from tests.conftest import EXAMPLE_BUNDLE

API = "/api/v1"
DOMAIN_CSV_COLUMNS = [
    "rank", "severity", "likelihood", "confidence", "score", "buyer_id", "unit_id", "unit_name",
    "decision_id", "lever", "tier", "chain", "cohort_id", "cohort_name", "country", "headcount",
    "dimension", "status", "evidence", "explanation",
]  # fmt: skip
SMALL_COHORT = "coh-kora-ke-arabic-reviewers"  # headcount 4, below the default minimum of 5


def zip_folder(folder: Path, edits: dict[str, str] | None = None) -> bytes:
    """The folder zipped as a user would (wrapped in its own folder); ``edits`` replace files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            if path.suffix == ".csv":
                text = (edits or {}).get(path.name, path.read_text(encoding="utf-8"))
                archive.writestr(f"{folder.name}/{path.name}", text)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def example_zip() -> bytes:
    return zip_folder(EXAMPLE_BUNDLE)


def make_settings(
    store: str, tmp_path: Path, uri: str = "bolt://127.0.0.1:7687", **fields: object
) -> Settings:
    """Settings as the tests mean them, whatever the environment of the run holds."""
    chosen: dict[str, object] = {
        "store": store, "data_dir": tmp_path / "data", "neo4j_uri": uri,
        "neo4j_user": os.environ.get("NEO4J_USER", "neo4j"),
        "neo4j_password": os.environ.get("NEO4J_PASSWORD", "laborgraph-test"),
        "neo4j_database": os.environ.get("NEO4J_DATABASE", "neo4j"),
        "api_keys": "", "scoring_file": None, "min_headcount": 5, "max_upload_mb": 50,
    }  # fmt: skip
    return Settings.model_validate({**chosen, **fields})


@pytest.fixture(params=["embedded", "neo4j"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for an empty store of each backend."""
    if request.param == "embedded":
        return make_settings("embedded", tmp_path)
    from laborgraph.graph.neo4j_store import Neo4jStore

    chosen = make_settings("neo4j", tmp_path, request.getfixturevalue("neo4j_uri"))
    store = Neo4jStore(
        chosen.neo4j_uri,
        user=chosen.neo4j_user,
        password=chosen.neo4j_password.get_secret_value(),
        database=chosen.neo4j_database,
    )
    store.wipe()
    store.close()
    return chosen


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as opened:
        yield opened


@pytest.fixture
def loaded(client: TestClient, example_zip: bytes) -> TestClient:
    """A client whose store holds the example chain, uploaded through the API."""
    response = post_bundle(client, example_zip)
    assert response.status_code == 200, response.text
    return client


def get(client: TestClient, path: str, **params: object) -> Any:
    """The JSON of a GET under /api/v1 that must succeed."""
    response = client.get(API + path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def post_bundle(client: TestClient, content: bytes, media_type: str = "") -> Any:
    """POST a bundle: raw with ``media_type``, else as the multipart file field."""
    if media_type:
        return client.post(f"{API}/bundles", content=content, headers={"content-type": media_type})
    return client.post(f"{API}/bundles", files={"file": ("bundle.zip", content, "application/zip")})


def stats(client: TestClient) -> Any:
    return get(client, "/stats")


# -- the analyst's workflow ------------------------------------------------------------


def test_analyst_workflow(client: TestClient, example_zip: bytes) -> None:
    upload = post_bundle(client, example_zip)
    assert upload.status_code == 200, upload.text
    assert upload.json()["store"] == client.app.state.settings.store  # type: ignore[attr-defined]
    assert upload.json()["counts"] == {"organizations": 17, "units": 16, "cohorts": 26,
                                       "conditions": 105, "decisions": 23, "sources": 25, "benchmarks": 9,
                                       "actions": 4, "links": 46}  # fmt: skip
    assert stats(client)["links"] == 46

    top = get(client, "/paths", **{"from": "org-halcyon", "limit": 3})
    first = top["items"][0]
    assert (first["rank"], first["decision_id"], first["cohort_id"], first["dimension"]) == (
        1, "dec-halcyon-content-scope", "coh-savanna-ke-moderators", "content_safety"
    )  # fmt: skip
    assert first["chain"][2:4] == ["org-tessera", "org-savanna"] and first["tier"] == 2
    assert first["explanation"] and first["hops"][0]["relation"] == "DECIDES"
    assert top["next_offset"] == 3

    influencers = get(client, "/cohorts/coh-savanna-ke-moderators/influencers", dimension="pay")
    assert {i["unit_id"] for i in influencers["influencers"]} == {
        "unit-halcyon-commercial", "unit-halcyon-moderation-ops", "unit-tessera-delivery"
    }  # fmt: skip

    download = client.get(f"{API}/paths.csv", params={"from": "org-halcyon"})
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    assert download.headers["content-disposition"].startswith("attachment; filename=")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert set(DOMAIN_CSV_COLUMNS) <= set(rows[0])
    assert (rows[0]["rank"], rows[0]["decision_id"], rows[0]["dimension"]) == (
        "1", "dec-halcyon-content-scope", "content_safety"
    )  # fmt: skip
    assert rows[0]["chain"].split(" > ")[2:4] == ["org-tessera", "org-savanna"]
    every = get(client, "/paths", **{"from": "org-halcyon", "limit": 1000})["items"]
    assert [r["decision_id"] for r in rows] == [p["decision_id"] for p in every]


def test_answers_are_the_service_layers(loaded: TestClient) -> None:
    """The API adds no logic of its own: it answers what the CLI's Questions answer."""
    state = loaded.app.state  # type: ignore[attr-defined]
    ask = Questions(state.holder.get(), state.settings)

    def dumped(model: Any) -> Any:
        return json.loads(model.model_dump_json())

    paths = get(loaded, "/paths", to="coh-savanna-ke-moderators", limit=50)["items"]
    expected = ask.risk_paths(PathQuery(target="coh-savanna-ke-moderators", limit=50))
    assert paths == [dumped(p) for p in expected]
    assert get(loaded, "/organizations/org-nimbus/tiers") == dumped(ask.tiers("org-nimbus", limit=100))
    influencers = get(loaded, "/cohorts/coh-microlane-ve-gig/influencers")
    assert influencers == dumped(ask.influencers("coh-microlane-ve-gig"))
    assert get(loaded, "/gaps") == dumped(ask.gaps(limit=100))
    assert get(loaded, "/fragmentation") == dumped(ask.fragmentation(limit=100))


def test_a_write_by_another_process_is_seen_by_the_next_request(loaded: TestClient) -> None:
    """Another process (here: another store opened on the same settings) writes; the running
    server's next answer, kept answers included, is the new graph's."""
    settings: Settings = loaded.app.state.settings  # type: ignore[attr-defined]
    before = get(loaded, "/gaps", kind="unknown_condition")
    assert any(g["entity_id"] == "coh-taskhive-ke-gig" and g["dimension"] == "pay" for g in before["items"])
    other = open_store(settings)
    try:
        learnt = Condition(cohort_id="coh-taskhive-ke-gig", dimension=Dimension.pay, status=Status.violates)
        other.write(GraphData(conditions=[learnt]))
    finally:
        other.close()

    after = get(loaded, "/gaps", kind="unknown_condition")
    assert after["total"] == before["total"] - 1
    paths = get(loaded, "/paths", to="coh-taskhive-ke-gig/pay")["items"]
    assert paths and {p["status"] for p in paths} == {"violates"}


def test_filters_narrow_the_paths(loaded: TestClient) -> None:
    params = {"from": "org-halcyon", "dimension": "pay", "min_severity": 4, "country": "ke"}
    found = get(loaded, "/paths", **params)["items"]
    assert found
    assert all(p["dimension"] == "pay" and p["severity"] >= 4 and p["country"] == "KE" for p in found)
    to_condition = get(loaded, "/paths", to="coh-savanna-ke-moderators/pay")["items"]
    assert {p["dimension"] for p in to_condition} == {"pay"}
    deep = get(loaded, "/paths", **{"from": "org-halcyon", "limit": 1000})["items"]
    shallow = get(loaded, "/paths", **{"from": "org-halcyon", "depth": 1})["items"]
    assert 0 < len(shallow) < len(deep)
    # unit, decision, the organization it applies to (which engages the cohort), cohort, condition
    assert all(len(p["chain"]) == 5 for p in shallow)


def test_raw_zip_and_json_bodies_and_reupload_changes_nothing(loaded: TestClient, example_zip: bytes) -> None:
    before = stats(loaded)
    again = post_bundle(loaded, example_zip, "application/zip")
    assert again.status_code == 200, again.text
    assert stats(loaded) == before
    buyer = {"id": "org-new-buyer", "name": "New Buyer", "kinds": "buyer", "country": "fr"}
    link = {"from_id": "org-new-buyer", "to_id": "org-tessera", "type": "CONTRACTS"}
    added = post_bundle(loaded, json.dumps({"organizations": [buyer], "links": [link]}).encode(),
                        "application/json")  # fmt: skip
    assert added.status_code == 200, added.text
    assert added.json()["counts"]["organizations"] == 1
    assert get(loaded, "/entities/org-new-buyer")["country"] == "FR"
    assert stats(loaded)["links"] == before["links"] + 1


def test_bundle_with_errors_lists_them_all_and_writes_nothing(loaded: TestClient) -> None:
    before = stats(loaded)
    organizations = (EXAMPLE_BUNDLE / "organizations.csv").read_text(encoding="utf-8")
    header = organizations.splitlines()[0].split(",")
    new_org = {"id": "org-planted", "name": "Planted Vendor", "kinds": "vendor", "country": "XX"}
    links = (EXAMPLE_BUNDLE / "links.csv").read_text(encoding="utf-8")
    planted = {  # row 19 of organizations.csv and row 48 of links.csv
        "organizations.csv": organizations + ",".join(new_org.get(c, "") for c in header) + "\n",
        "links.csv": links + "org-tessera,org-nowhere,SUBCONTRACTS,,,,,\n",
    }
    response = post_bundle(loaded, zip_folder(EXAMPLE_BUNDLE, planted))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_bundle" and "nothing was written" in body["message"]
    located = {(e["file"], e["row"], e["column"]) for e in body["errors"]}
    assert ("organizations.csv", 19, "country") in located
    nowhere = [e for e in body["errors"] if "org-nowhere" in e["message"]]
    assert [(e["file"], e["row"]) for e in nowhere] == [("links.csv", 48)]
    for issue in body["errors"] + body["warnings"]:
        assert set(issue) == {"file", "row", "column", "message"}
    assert stats(loaded) == before
    assert loaded.get(f"{API}/entities/org-planted").status_code == 404


def test_unreadable_uploads_are_invalid_bundles(client: TestClient) -> None:
    for content, media_type in (
        (b"PK\x03\x04 torn", "application/zip"),
        (b"{", "application/json"),
    ):
        response = post_bundle(client, content, media_type)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["message"]
    no_file = client.post(f"{API}/bundles", files={"other": ("b.zip", b"x")})
    assert no_file.status_code == 422 and "'file'" in no_file.json()["errors"][0]["message"]
    wrong_type = post_bundle(client, b"a,b", "text/csv")
    assert wrong_type.status_code == 415 and wrong_type.json()["error"] == "unsupported_media_type"
    assert stats(client)["links"] == 0


def test_over_size_uploads_are_refused(settings: Settings, example_zip: bytes) -> None:
    small = settings.model_copy(update={"max_upload_mb": 0.001})  # about 1 KB
    assert len(example_zip) > 1100

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused while reading the stream
        for start in range(0, len(example_zip), 256):
            yield example_zip[start : start + 256]

    with TestClient(create_app(small)) as client:
        declared = post_bundle(client, example_zip, "application/zip")
        assert declared.status_code == 413, declared.text
        assert declared.json()["error"] == "upload_too_large"
        assert "LABORGRAPH_MAX_UPLOAD_MB" in declared.json()["message"]
        streamed = client.post(
            f"{API}/bundles", content=chunks(), headers={"content-type": "application/zip"}
        )
        assert streamed.status_code == 413, streamed.text
        assert post_bundle(client, example_zip).status_code == 413  # multipart
        assert stats(client)["links"] == 0


# -- paging, ids and bad parameters ---------------------------------------------------


def test_path_paging_edges(loaded: TestClient) -> None:
    halcyon = {"from": "org-halcyon"}
    every = get(loaded, "/paths", **halcyon, limit=1000)
    total = len(every["items"])
    assert total > 3 and every["next_offset"] is None
    last = get(loaded, "/paths", **halcyon, offset=total - 2, limit=2)
    assert last["items"] == every["items"][-2:] and last["next_offset"] is None
    past = get(loaded, "/paths", **halcyon, offset=total + 10)
    assert past["items"] == [] and past["next_offset"] is None
    pages, offset = [], 0
    while offset is not None:
        page = get(loaded, "/paths", **halcyon, offset=offset, limit=4)
        pages += page["items"]
        offset = page["next_offset"]
    assert pages == every["items"]
    bad = loaded.get(f"{API}/paths", params={"limit": 0, "offset": -1, "min_severity": 9})
    assert bad.status_code == 422
    located = {p["location"] for p in bad.json()["errors"]}
    assert located == {"query.limit", "query.offset", "query.min_severity"}
    assert loaded.get(f"{API}/paths", params={"limit": 1001}).status_code == 422
    csv_past = loaded.get(f"{API}/paths.csv", params={**halcyon, "offset": total})
    assert csv_past.status_code == 200 and csv_past.text.count("\r\n") == 1  # the header only


def test_entity_paging_and_search(loaded: TestClient) -> None:
    seen, offset = [], 0
    while offset is not None:
        page = get(loaded, "/entities", kind="organization", offset=offset, limit=5)
        assert page["total"] == 17 and len(page["items"]) <= 5
        seen += [item["id"] for item in page["items"]]
        offset = page["next_offset"]
    assert seen == sorted(seen) and len(set(seen)) == 17
    past = get(loaded, "/entities", kind="unit", offset=500)
    assert past["items"] == [] and past["next_offset"] is None and past["total"] == 16
    found = get(loaded, "/entities", kind="organization", q="hALcYon")
    assert [item["id"] for item in found["items"]] == ["org-halcyon"]
    none = get(loaded, "/entities", kind="cohort", q="100%_no")  # LIKE wildcards are literal
    assert none["items"] == [] and none["total"] == 0
    assert loaded.get(f"{API}/entities", params={"kind": "worker"}).status_code == 422
    assert loaded.get(f"{API}/entities", params={"kind": "unit", "limit": 0}).status_code == 422


def test_entities_by_id(loaded: TestClient) -> None:
    org = get(loaded, "/entities/org-halcyon")
    assert (org["entity"], org["name"], org["kinds"]) == ("organization", "Halcyon Labs", ["buyer"])
    condition = get(loaded, "/entities/coh-savanna-ke-moderators/pay")  # ids with a slash
    assert (condition["entity"], condition["status"]) == ("condition", "violates")
    missing = loaded.get(f"{API}/entities/coh-savanna-ke-moderators/no-such-dimension")
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/entities/org-nowhere",
        "/organizations/org-nowhere/tiers",
        "/organizations/coh-savanna-ke-moderators/tiers",  # not an organization
        "/cohorts/coh-nowhere/influencers",
        "/paths?from=org-nowhere",
        "/paths?to=coh-nowhere",
        "/paths.csv?from=org-nowhere",
    ],
)
def test_unknown_ids_are_404(loaded: TestClient, path: str) -> None:
    response = loaded.get(API + path)
    assert response.status_code == 404, response.text
    assert response.json()["error"] == "not_found"
    assert response.json()["message"].startswith("no ") and "with id" in response.json()["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/paths?from=coh-savanna-ke-moderators",  # paths start at a unit, decision or organization
        "/paths?to=coh-savanna-ke-moderators/wages",
        "/paths.csv?depth=11",
        "/paths?dimension=wages",
        "/cohorts/coh-savanna-ke-moderators/influencers?dimension=wages",
        "/cohorts/coh-savanna-ke-moderators/influencers?depth=0",
    ],
)
def test_bad_questions_are_422_with_the_problem(loaded: TestClient, path: str) -> None:
    response = loaded.get(API + path)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] in ("invalid_query", "invalid_request") and body["errors"][0]["message"]


def test_small_cohorts_are_suppressed_unless_asked(loaded: TestClient) -> None:
    assert loaded.get(f"{API}/entities/{SMALL_COHORT}").status_code == 404
    shown = get(loaded, f"/entities/{SMALL_COHORT}", show_small=True)
    assert shown["headcount"] == 4 and "Arabic" in shown["name"]
    listed = get(loaded, "/entities", kind="cohort", limit=100)["items"]
    assert SMALL_COHORT not in {c["id"] for c in listed}
    conditions = get(loaded, "/entities", kind="condition", limit=1000)["items"]
    assert SMALL_COHORT not in {c["cohort_id"] for c in conditions}
    for route in ("/paths", "/paths.csv", f"/cohorts/{SMALL_COHORT}/influencers"):
        asked = loaded.get(API + route, params={"to": SMALL_COHORT})
        assert asked.status_code == 404 and "Arabic" not in asked.text  # asked by id: unknown
    paths = get(loaded, "/paths", limit=500, **{"from": "org-halcyon"})["items"]
    assert [p for p in paths if p["suppressed"]] and "Arabic" not in str(paths)
    revealed = get(loaded, "/paths", to=SMALL_COHORT, show_small=True)["items"]
    assert not any(p["suppressed"] for p in revealed)


def test_health_names_the_store(client: TestClient, settings: Settings) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["store"] == settings.store and response.json()["reachable"] is True


def test_openapi_documents_every_route_with_examples(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    routes = {
        "/health", "/api/v1/paths", "/api/v1/paths.csv", "/api/v1/cohorts/{cohort_id}/influencers",
        "/api/v1/organizations/{org_id}/tiers", "/api/v1/gaps", "/api/v1/fragmentation",
        "/api/v1/entities", "/api/v1/entities/{entity_id}", "/api/v1/stats", "/api/v1/bundles",
    }  # fmt: skip
    assert routes <= set(schema["paths"])
    for route in routes:
        for operation in schema["paths"][route].values():
            assert operation["description"], route
            ok = operation["responses"]["200"]["content"]
            assert any("example" in media for media in ok.values()), route
    assert client.get("/docs").status_code == 200

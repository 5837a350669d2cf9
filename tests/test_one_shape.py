"""The CLI's --json and the API send the same document for the same question, and every list
answer says where it stands: total, offset, limit, next_offset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from laborgraph.app.main import create_app
from tests.conftest import EXAMPLE_BUNDLE
from tests.test_api import API, SMALL_COHORT, make_settings
from tests.test_cli import run


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TestClient]:
    root = tmp_path_factory.mktemp("one-shape")
    assert run("ingest", str(EXAMPLE_BUNDLE), data_dir=root / "data").returncode == 0
    with TestClient(create_app(make_settings("embedded", root))) as client:
        yield root / "data", client


QUESTIONS = [
    (
        ["paths", "--from", "org-halcyon", "--limit", "5", "--offset", "3"],
        "/paths?from=org-halcyon&limit=5&offset=3",
    ),
    (["paths", "--to", "coh-savanna-ke-moderators/pay"], "/paths?to=coh-savanna-ke-moderators/pay"),
    (["tiers", "org-nimbus", "--limit", "4"], "/organizations/org-nimbus/tiers?limit=4"),
    (["gaps", "--limit", "7", "--offset", "2"], "/gaps?limit=7&offset=2"),
    (["gaps", "--kind", "stale_evidence"], "/gaps?kind=stale_evidence"),
    (["fragmentation", "--limit", "3"], "/fragmentation?limit=3"),
    (["influencers", "coh-savanna-ke-moderators"], "/cohorts/coh-savanna-ke-moderators/influencers"),
]


@pytest.mark.parametrize(("command", "route"), QUESTIONS, ids=[" ".join(q[0][:2]) for q in QUESTIONS])
def test_cli_json_and_api_json_are_the_same_document(
    loaded: tuple[Path, TestClient], command: list[str], route: str
) -> None:
    data_dir, client = loaded
    printed = run(*command, "--json", data_dir=data_dir)
    assert printed.returncode == 0, printed.stderr
    response = client.get(API + route)
    assert response.status_code == 200, response.text
    assert json.loads(printed.stdout) == response.json()


@pytest.mark.parametrize(
    "route",
    ["/paths?limit=5", "/gaps?limit=5", "/fragmentation?limit=5", "/organizations/org-nimbus/tiers?limit=5",
     "/entities?limit=5", "/entities?kind=cohort&limit=5"],
)  # fmt: skip
def test_every_list_answer_says_where_it_stands(loaded: tuple[Path, TestClient], route: str) -> None:
    _, client = loaded
    answer = client.get(API + route).json()
    assert {"total", "offset", "limit", "next_offset"} <= set(answer)
    assert answer["offset"] == 0 and answer["limit"] == 5 and answer["next_offset"] == 5


def test_the_last_page_of_paths_knows_the_total(loaded: tuple[Path, TestClient]) -> None:
    _, client = loaded
    last = client.get(API + "/paths?from=org-halcyon&offset=40&limit=100").json()
    assert (last["total"], last["next_offset"], len(last["items"])) == (41, None, 1)


def test_entities_of_every_kind_list_without_kind_and_leave_out_small_cohorts(
    loaded: tuple[Path, TestClient],
) -> None:
    _, client = loaded
    every = client.get(API + "/entities?limit=1000").json()
    ids = [e.get("id") or f"{e['cohort_id']}/{e['dimension']}" for e in every["items"]]
    assert ids == sorted(ids) and every["total"] == len(ids)
    assert {e["entity"] for e in every["items"]} == {
        "organization", "unit", "cohort", "condition", "decision", "source", "benchmark", "action"
    }  # fmt: skip
    assert not [i for i in ids if i.startswith(SMALL_COHORT)]
    assert client.get(f"{API}/entities/{SMALL_COHORT}").status_code == 404
    assert client.get(f"{API}/entities/{SMALL_COHORT}/pay").status_code == 404
    admin = client.get(API + "/entities?limit=1000&show_small=true").json()
    assert SMALL_COHORT in [e.get("id") for e in admin["items"]]
    assert client.get(f"{API}/entities/{SMALL_COHORT}?show_small=true").json()["headcount"] == 4


def test_openapi_says_list_answers_carry_a_total(loaded: tuple[Path, TestClient]) -> None:
    _, client = loaded
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("PathPage", "GapReport", "Fragmentation", "TierMap", "EntityList"):
        assert "total" in schemas[name]["properties"], name

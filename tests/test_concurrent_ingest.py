"""Two ingests at once: each is validated against what the other committed, never beside it.

Two bundles that are each valid on an empty graph but contradict each other (one says
``twin`` is an organization, the other that it is a cohort) must never both land.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from laborgraph.graph.errors import InvalidBundle
from laborgraph.graph.model import GraphData
from laborgraph.graph.store import GraphStore
from laborgraph.graph.vocabulary import EntityKind
from laborgraph.ingest.load import Progress, ingest_raw
from laborgraph.ingest.readers import RawBundle, read_json
from laborgraph.ingest.validate import NoGraph, validate_bundle

AS_ORGANIZATION = {
    "organizations": [{"id": "twin", "name": "Twin Data Services", "kinds": "vendor", "country": "KE"}]
}
AS_COHORT = {
    "organizations": [{"id": "org-buyer", "name": "Buyer", "kinds": "buyer", "country": "US"}],
    "cohorts": [{"id": "twin", "name": "Twin annotators", "country": "KE", "headcount": 40}],
    "links": [{"from_id": "org-buyer", "to_id": "twin", "type": "ENGAGES"}],
}


def test_a_write_committed_during_validation_sends_the_bundle_back_to_validation(
    store: GraphStore,
) -> None:
    def the_other_ingest_lands_first(stage: str, total: int | None) -> None:
        if stage == "writing" and not store.kinds_of(["twin"]):
            ingest_raw(store, read_json(json.dumps(AS_COHORT).encode()))

    with pytest.raises(InvalidBundle) as rejected:
        ingest_raw(
            store,
            read_json(json.dumps(AS_ORGANIZATION).encode()),
            Progress(start=the_other_ingest_lands_first),
        )

    assert [str(e) for e in rejected.value.errors] == [
        "bundle.json organizations, row 1, column 'id': 'twin' is already in the graph as a cohort"
    ]
    landed = {"twin": EntityKind.cohort, "org-buyer": EntityKind.organization}
    assert store.kinds_of(["twin", "org-buyer"]) == landed


def ingest_process(bundle: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "laborgraph.app.cli", "ingest", str(bundle)]
    return subprocess.Popen(command, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def store_env(store: GraphStore, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    env = {**os.environ, "LABORGRAPH_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    if store.backend == "neo4j":
        env |= {
            "LABORGRAPH_STORE": "neo4j",
            "NEO4J_URI": request.getfixturevalue("neo4j_uri"),
            "NEO4J_PASSWORD": os.environ.get("NEO4J_PASSWORD", "laborgraph-test"),
        }
    return env


@pytest.mark.parametrize("round_", range(3))
def test_racing_ingest_processes_land_one_contradicting_bundle_only(
    store: GraphStore, tmp_path: Path, request: pytest.FixtureRequest, round_: int
) -> None:
    bundles = []
    for name, content in (("organization", AS_ORGANIZATION), ("cohort", AS_COHORT)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(content))
        bundles.append(path)
    env = store_env(store, tmp_path, request)

    racing = [ingest_process(bundle, env) for bundle in bundles[:: 1 if round_ % 2 else -1]]
    outcomes = [(process.wait(timeout=120), process.communicate()) for process in racing]

    assert sorted(code for code, _ in outcomes) == [0, 1], outcomes
    refused = next(err for code, (_, err) in outcomes if code == 1)
    assert "'twin' is already in the graph as" in refused
    kinds = store.kinds_of(["twin", "org-buyer"])
    assert kinds["twin"] in (EntityKind.organization, EntityKind.cohort)
    assert ("org-buyer" in kinds) == (kinds["twin"] is EntityKind.cohort)  # the landed bundle, whole
    questions = subprocess.run(
        [sys.executable, "-m", "laborgraph.app.cli", "gaps", "--json"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert questions.returncode == 0, questions.stderr


def test_racing_updates_of_one_organization_both_land(
    store: GraphStore, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    base = {"id": "shared", "name": "Shared Vendor", "kinds": "vendor", "country": "KE"}
    store.write(validated(read_json(json.dumps({"organizations": [base]}).encode())))
    bundles = []
    for field, value in (("audited_by", "Fair Audit Co"), ("contract_ref", "MSA-2026-7")):
        path = tmp_path / f"{field}.json"
        path.write_text(json.dumps({"organizations": [{**base, field: value}]}))
        bundles.append(path)
    env = store_env(store, tmp_path, request)

    racing = [ingest_process(bundle, env) for bundle in bundles]
    assert [process.wait(timeout=120) for process in racing] == [0, 0]

    assert store.get("shared").extra == {"audited_by": "Fair Audit Co", "contract_ref": "MSA-2026-7"}


def validated(raw: RawBundle) -> GraphData:
    checked = validate_bundle(raw, NoGraph())
    assert not checked.errors
    return checked.data

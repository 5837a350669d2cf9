"""Bundle ingest on both stores: all-or-nothing, every error located, idempotent, lossless."""

from __future__ import annotations

import gc
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from laborgraph.graph.analysis import regions
from laborgraph.graph.embedded import EmbeddedStore
from laborgraph.graph.errors import BundleIssue, InvalidBundle
from laborgraph.graph.model import GraphData, Link
from laborgraph.graph.store import GraphStore
from laborgraph.graph.view import GraphView
from laborgraph.ingest.limits import ReadingStopped, ReadLimits
from laborgraph.ingest.load import Progress, ingest_path
from laborgraph.ingest.raw import BundleParts, Note, RawBundle, RawSection
from laborgraph.ingest.readers import read_bundle, read_json, read_zip
from laborgraph.ingest.validate import NoGraph, validate_bundle
from tests.conftest import EXAMPLE_BUNDLE, FIXTURES


def snapshot(store: GraphStore) -> tuple[object, ...]:
    """Everything in the store, comparable: counts, and every entity and link as data."""
    view = regions.region_view(store)
    entities = sorted(
        (
            e.model_dump_json()
            for e in [
                *view.organizations(),
                *view.cohorts(),
                *view.units.values(),
                *view.decisions.values(),
                *view.sources.values(),
                *view.benchmarks.values(),
            ]
            + [c for by_dim in view.conditions.values() for c in by_dim.values()]
        ),
    )
    links = sorted(link.model_dump_json() for link in view.links())
    return tuple(sorted(store.counts().items(), key=str)), tuple(entities), tuple(links)


def read_all(bundle: BundleParts) -> RawBundle:
    """Every part of ``bundle`` read into memory: its rows, problems and notes."""
    raw = RawBundle()
    try:
        for part in bundle.parts():
            if isinstance(part, RawSection):
                if part.columns is not None:
                    raw.columns[part.name] = part.columns
                for row in part.rows:
                    raw.issues.append(row) if isinstance(row, BundleIssue) else raw.rows[part.name].append(
                        row
                    )
            elif isinstance(part, Note):
                raw.notes.append(part.issue)
            else:
                raw.issues.append(part)
    except ReadingStopped as stop:
        raw.issues.append(stop.issue)
    return raw


def zipped(folder: Path, wrap: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in folder.glob("*.csv"):
            archive.write(file, f"{wrap}{file.name}")
    return buffer.getvalue()


def test_example_bundle_loads_cleanly(store: GraphStore) -> None:
    report = ingest_path(store, EXAMPLE_BUNDLE)
    assert report.warnings == []
    assert report.counts == {
        "organizations": 17,
        "units": 16,
        "cohorts": 26,
        "conditions": 105,
        "decisions": 23,
        "sources": 25,
        "benchmarks": 9,
        "actions": 4,
        "links": 46,
    }
    assert store.counts()["links"] == 46


def test_bundle_with_errors_is_rejected_whole_and_every_error_is_named(store: GraphStore) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    before = snapshot(store)
    with pytest.raises(InvalidBundle) as caught:
        ingest_path(store, FIXTURES / "bad-bundle")
    located = {(e.file, e.row, e.column) for e in caught.value.errors}
    assert ("organizations.csv", 3, "kinds") in located  # bad enum: "vendr"
    assert ("cohorts.csv", 2, "headcount") in located  # "about forty"
    assert ("links.csv", 2, "since") in located  # 2025-02-30 is no date
    assert ("links.csv", 4, "to_id") in located  # unknown reference
    assert ("units.csv", None, "organization_id") in located  # required column missing
    messages = " | ".join(str(e) for e in caught.value.errors)
    assert "'vendr'" in messages and "coh-does-not-exist" in messages
    assert snapshot(store) == before  # nothing written, nothing lost


def test_reingesting_changes_nothing(store: GraphStore) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    first = snapshot(store)
    ingest_path(store, EXAMPLE_BUNDLE)
    assert snapshot(store) == first


def test_a_folders_ingest_tells_its_progress_how_many_rows_it_will_validate(store: GraphStore) -> None:
    stages: list[tuple[str, int | None]] = []
    advanced: list[int] = []
    ingest_path(
        store, EXAMPLE_BUNDLE, Progress(start=lambda *stage: stages.append(stage), advance=advanced.append)
    )
    assert ("validating", 271) in stages  # a bar with a total, and so an estimate of the time left
    assert sum(advanced) == 271


def test_zip_and_json_bundles_load_the_same_graph(store: GraphStore, tmp_path: Path) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    from_folder = snapshot(store)
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(zipped(EXAMPLE_BUNDLE, wrap="ai-supply-chain/"))
    ingest_path(store, archive)
    assert snapshot(store) == from_folder
    raw = read_all(read_zip(archive.read_bytes()))
    document = {section: [row.cells for row in rows] for section, rows in raw.rows.items() if rows}
    assert read_all(read_json(json.dumps(document).encode())).row_count() == raw.row_count() == 271


def test_newer_bundle_updates_what_it_carries_and_keeps_the_rest(store: GraphStore) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    cohort_before = store.get("coh-savanna-ke-moderators")
    report = ingest_path(store, FIXTURES / "update-bundle")
    savanna = store.get("org-savanna")
    assert savanna.name == "Savanna Trust Services Ltd"
    assert savanna.extra == {"annual_revenue_band": "10-50M USD"}  # unknown column kept
    assert savanna.source_ids  # not in the update bundle: kept
    pay = store.get("coh-savanna-ke-moderators/pay")
    assert pay.value == 1.30 and pay.status.value == "violates"  # derived from 1.30 < 2.40, not "meets"
    assert store.get("coh-savanna-ke-moderators") == cohort_before
    assert any(w.column == "status" and "contradicts" in w.message for w in report.warnings)


def test_unknown_columns_never_overwrite_core_fields(store: GraphStore) -> None:
    document = {
        "organizations": [
            {
                "id": "org-x",
                "name": "X",
                "kinds": ["buyer"],
                "country": "FR",
                "extra": "sneaky",
                "entity": "cohort",
                "size": 12,
            }
        ]
    }
    from laborgraph.ingest.load import ingest_raw

    ingest_raw(store, read_json(json.dumps(document).encode()))
    org = store.get("org-x")
    assert org.entity.value == "organization" and org.name == "X"
    assert org.extra == {"extra": "sneaky", "entity": "cohort", "size": 12}


def test_references_may_point_into_the_graph_and_kinds_must_match(store: GraphStore) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    from laborgraph.ingest.load import ingest_raw

    ok = {
        "organizations": [{"id": "org-x", "name": "X", "kinds": "vendor", "country": "KE"}],
        "links": [{"from_id": "org-tessera", "to_id": "org-x", "type": "SUBCONTRACTS"}],
    }
    ingest_raw(store, read_json(json.dumps(ok).encode()))
    assert store.counts()["links"] == 47
    clash = {"organizations": [], "cohorts": [{"id": "org-x", "name": "Not an org", "country": "KE"}]}
    with pytest.raises(InvalidBundle, match="1 error") as caught:
        ingest_raw(store, read_json(json.dumps(clash).encode()))
    assert "already in the graph as an organization" in str(caught.value.errors[0])


WRITER = """
import sys
from pathlib import Path
from laborgraph.graph.embedded import EmbeddedStore
from laborgraph.graph.model import GraphData, Link, Organization
store = EmbeddedStore(Path(sys.argv[1]))
orgs = [Organization(id=f"o{i}", name=f"O{i}", kinds=["vendor"], country="KE") for i in range(200_000)]
links = [Link(from_id=f"o{i}", to_id=f"o{i + 1}", type="SUBCONTRACTS") for i in range(199_999)]
data = GraphData(organizations=orgs, links=links)
print("writing", flush=True)
store.write(data)
print("committed", flush=True)
"""


def test_embedded_store_survives_kill_during_ingest(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    store = EmbeddedStore(data_dir)
    ingest_path(store, EXAMPLE_BUNDLE)
    before = snapshot(store)
    store.close()
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(data_dir)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "writing"
    time.sleep(1.0)  # the transaction is under way: 400k rows take several seconds
    os.kill(child.pid, signal.SIGKILL)
    rest = child.stdout.read()
    child.wait()
    assert "committed" not in rest, "the write finished before the kill; make it bigger"
    reopened = EmbeddedStore(data_dir)
    assert snapshot(reopened) == before
    assert reopened._db().execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_view_built_from_data_equals_store_view(store: GraphStore) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    assert isinstance(regions.region_view(store), GraphView)
    assert all(isinstance(link, Link) for link in regions.region_view(store).links())
    assert isinstance(GraphData(), GraphData)


def test_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("organizations.csv", "id,name,kinds,country\n" + "x" * 50_000_000)
    assert len(buffer.getvalue()) < 200_000
    raw = read_all(read_zip(buffer.getvalue(), "bomb.zip", ReadLimits(max_bytes=10 * 2**20)))
    assert [str(issue) for issue in raw.issues] == [
        "bomb.zip: holds more than 10 MB of CSV or JSON once unpacked, the limit"
        " (LABORGRAPH_MAX_UNPACKED_MB); split the bundle"
    ]


def test_csv_files_outside_the_bundle_folder_are_named_not_dropped_silently() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bundle/organizations.csv", "id,name,kinds,country\norg-a,A,buyer,US\n")
        archive.writestr("links.csv", "from_id,to_id,type\n")
        archive.writestr("bundle/old/units.csv", "id,organization_id,name\n")
    raw = read_all(read_zip(buffer.getvalue()))
    assert raw.rows["organizations"] and not raw.issues
    assert {(n.file, n.message) for n in raw.notes} == {
        ("links.csv", "outside the bundle folder in the zip; ignored"),
        ("bundle/old/units.csv", "outside the bundle folder in the zip; ignored"),
    }


def test_validation_hands_the_cycle_collector_back_as_it_found_it() -> None:
    """Validation pauses the collector for speed; the caller's process gets it back as it was."""
    assert gc.isenabled()
    assert validate_bundle(read_bundle(FIXTURES / "bad-bundle"), NoGraph()).errors
    assert gc.isenabled()
    gc.disable()
    try:
        validate_bundle(read_bundle(EXAMPLE_BUNDLE), NoGraph())
        assert not gc.isenabled()
    finally:
        gc.enable()

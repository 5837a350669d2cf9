"""The `laborgraph` command as a user runs it: exit codes, readable errors, files written."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_BUNDLE, FIXTURES


def run(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": "/usr/bin:/bin", "LABORGRAPH_DATA_DIR": str(data_dir), "COLUMNS": "200", **env}
    return subprocess.run(
        [sys.executable, "-m", "laborgraph.app.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=Path(__file__).resolve().parents[1],
        timeout=120,
    )


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli")
    result = run("ingest", str(EXAMPLE_BUNDLE), data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert "17 organizations" in result.stdout and "46 links" in result.stdout
    return data_dir


def test_help_everywhere() -> None:
    for command in ([], ["ingest"], ["paths"], ["tiers"], ["influencers"], ["gaps"], ["serve"], ["demo"]):
        result = run(*command, "--help", data_dir=Path("/tmp"))
        assert result.returncode == 0 and "Usage" in result.stdout
    # The list of commands wraps each summary to the terminal, not where its docstring breaks.
    listed = run("--help", data_dir=Path("/tmp")).stdout
    assert "then the first ones (unknown or unrecorded conditions, stale or missing evidence" in listed
    assert "Actions on risks and their measured effect: list them (the default), add one" in listed


def test_invalid_bundle_lists_every_error_without_traceback(tmp_path: Path) -> None:
    result = run("ingest", str(FIXTURES / "bad-bundle"), data_dir=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "organizations.csv, row 3, column 'kinds'" in result.stderr
    assert "links.csv, row 4, column 'to_id'" in result.stderr
    assert "nothing was written" in result.stderr


def test_paths_table_json_and_csv(loaded: Path, tmp_path: Path) -> None:
    table = run("paths", "--from", "org-halcyon", "--limit", "3", data_dir=loaded)
    assert table.returncode == 0 and "dec-halcyon-content-scope" in table.stdout
    page = json.loads(run("paths", "--from", "org-halcyon", "--json", data_dir=loaded).stdout)
    assert (page["total"], page["offset"], page["limit"], page["next_offset"]) == (41, 0, 100, None)
    assert page["items"][0]["cohort_id"] == "coh-savanna-ke-moderators"
    second = json.loads(
        run(
            "paths", "--from", "org-halcyon", "--limit", "10", "--offset", "10", "--json", data_dir=loaded
        ).stdout
    )
    assert [p["rank"] for p in second["items"]] == list(range(11, 21))
    assert (second["total"], second["next_offset"]) == (None, 20)
    out = tmp_path / "paths.csv"
    result = run("paths", "--limit", "0", "--csv", str(out), data_dir=loaded)
    assert result.returncode == 0 and "wrote 150 paths" in result.stdout
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 150 and rows[0]["rank"] == "1"
    assert {"evidence", "explanation", "chain", "tier"} <= set(rows[0])


def test_small_cohorts_are_suppressed_unless_asked(loaded: Path) -> None:
    output = run("tiers", "org-halcyon", "--json", data_dir=loaded).stdout
    assert "coh-kora-ke-arabic-reviewers" not in output
    hidden = [e for e in json.loads(output)["entries"] if e["id"] == "suppressed-cohort"]
    assert hidden and all(e["name"] == "suppressed cohort" and e["headcount"] is None for e in hidden)
    shown = json.loads(run("tiers", "org-halcyon", "--json", "--show-small", data_dir=loaded).stdout)
    small = next(e for e in shown["entries"] if e["id"] == "coh-kora-ke-arabic-reviewers")
    assert small["headcount"] == 4


def test_questions_answer(loaded: Path) -> None:
    influencers = json.loads(
        run("influencers", "coh-savanna-ke-moderators/pay", "--json", data_dir=loaded).stdout
    )
    assert influencers["units"] == 3
    first = json.loads(
        run("influencers", "coh-savanna-ke-moderators/pay", "--limit", "2", "--json", data_dir=loaded).stdout
    )
    assert first["units"] == 3 and first["influencers"] == influencers["influencers"][:2]
    listed = run("influencers", "coh-savanna-ke-moderators/pay", "--offset", "2", data_dir=loaded).stdout
    assert influencers["influencers"][2]["unit_name"] in listed and "units 3-3 of 3" in listed
    assert influencers["influencers"][0]["unit_name"] not in listed
    every = json.loads(run("gaps", "--json", "--limit", "0", data_dir=loaded).stdout)
    assert any(g["entity_id"] == "org-greyline" for g in every["items"])
    assert (
        len(every["items"])
        == every["total"]
        == sum(c["count"] for c in every["counts"] if not c["dimension"])
    )
    page = json.loads(run("gaps", "--json", "--limit", "2", "--offset", "1", data_dir=loaded).stdout)
    assert page["items"] == every["items"][1:3] and page["next_offset"] == 3
    stale = json.loads(
        run("gaps", "--json", "--kind", "stale_evidence", "--limit", "0", data_dir=loaded).stdout
    )
    assert stale["items"] == [g for g in every["items"] if g["kind"] == "stale_evidence"]
    listed = run("gaps", "--limit", "3", data_dir=loaded).stdout
    assert f"gaps 1-3 of {every['total']}" in listed and "--offset 3" in listed
    assert run("fragmentation", data_dir=loaded).returncode == 0


def test_fragmentation_prints_the_buyers_whose_units_reach_most_workers_first(tmp_path: Path) -> None:
    more = tmp_path / "more-buyers"
    more.mkdir()
    (more / "organizations.csv").write_text(
        "id,name,kinds,country\n" + "".join(f"org-new-{n},New Buyer {n},buyer,US\n" for n in range(6))
    )
    (more / "units.csv").write_text(
        "id,organization_id,name,function\n"
        + "".join(f"unit-new-{n},org-new-{n},Sourcing {n},procurement\n" for n in range(6))
    )
    for bundle in (EXAMPLE_BUNDLE, more):
        assert run("ingest", str(bundle), data_dir=tmp_path).returncode == 0
    printed = run("fragmentation", "--limit", "3", data_dir=tmp_path).stdout
    titles = [line.split(":")[0] for line in printed.splitlines() if "workers reached per unit" in line]
    assert titles == ["Nimbus Intelligence", "Halcyon Labs", "Quillmind AI", "New Buyer 0", "New Buyer 1"]
    assert "and 4 more buyers, whose units reach fewer workers; --json lists every one" in printed
    every = json.loads(run("fragmentation", "--json", data_dir=tmp_path).stdout)["buyers"]
    assert len(every) == 9


def test_fragmentation_groups_how_many_units_reach_cohorts_when_a_line_cannot_hold_each_count() -> None:
    from laborgraph.app.cli import _spread
    from laborgraph.graph.analysis.influence import UnitsPerCohort

    few = [UnitsPerCohort(units=n, cohorts=10 * n + 1) for n in (0, 1, 2, 7)]
    assert _spread(few) == [("0", 1), ("1", 11), ("2", 21), ("7", 71)]
    many = [UnitsPerCohort(units=n, cohorts=1) for n in [0, 1, 2, 3, 4, 5, 6, 10, 11, 20, 48, 51, 99, 667]]
    assert _spread(many) == [
        ("0", 1), ("1", 1), ("2", 1), ("3-5", 3), ("6-10", 2), ("11-20", 2), ("21-50", 1), ("51-100", 2),
        ("501-1000", 1),
    ]  # fmt: skip


def test_an_unknown_id_is_rejected_input_and_a_bad_depth_a_usage_error(loaded: Path) -> None:
    missing = run("tiers", "org-nowhere", data_dir=loaded)
    assert missing.returncode == 1 and "with id 'org-nowhere'" in missing.stderr
    deep = run("paths", "--depth", "11", data_dir=loaded)
    assert deep.returncode == 2 and "less than or equal to 10" in deep.stderr
    assert "Traceback" not in missing.stderr + deep.stderr


def test_unreachable_neo4j_is_a_clear_error(tmp_path: Path) -> None:
    result = run("gaps", data_dir=tmp_path, LABORGRAPH_STORE="neo4j", NEO4J_URI="bolt://127.0.0.1:1")
    assert (
        result.returncode == 3 and "bolt://127.0.0.1:1" in result.stderr and "Traceback" not in result.stderr
    )

"""What the terminal shows of hostile data, and how the CLI fails: a message and an exit code."""

from __future__ import annotations

import csv
import shlex
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_BUNDLE
from tests.test_cli import run

CLEAR_SCREEN = "\x1b[2J"
FORGED_LINK = "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\"
RIGHT_TO_LEFT = "\u202e"


def rename(bundle: Path, file: str, entity_id: str, name: str) -> None:
    path = bundle / file
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["id"] == entity_id:
            row["name"] = name
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The example chain with control sequences in a buyer's, a unit's and a cohort's name,
    and an ingest's stderr, which echoes an unknown column named with one."""
    bundle = tmp_path_factory.mktemp("hostile") / "bundle"
    shutil.copytree(EXAMPLE_BUNDLE, bundle)
    rename(bundle, "organizations.csv", "org-halcyon", f"Halcyon{CLEAR_SCREEN} Labs")
    rename(bundle, "units.csv", "unit-halcyon-sourcing", f"Sourcing {FORGED_LINK}")
    rename(bundle, "cohorts.csv", "coh-savanna-ke-moderators", f"Savanna {RIGHT_TO_LEFT}srotaredom")
    sources = bundle / "sources.csv"
    lines = sources.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + f",note{CLEAR_SCREEN}", *(line + "," for line in lines[1:])]
    sources.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data_dir = tmp_path_factory.mktemp("hostile-data")
    ingested = run("ingest", str(bundle), data_dir=data_dir)
    assert ingested.returncode == 0, ingested.stderr
    return data_dir, ingested.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["paths", "--from", "org-halcyon"],
        ["gaps", "--limit", "0"],
        ["fragmentation"],
        ["influencers", "coh-savanna-ke-moderators"],
        ["tiers", "org-halcyon"],
    ],
)
def test_control_sequences_in_names_reach_the_terminal_as_visible_escapes(
    hostile: tuple[Path, str], command: list[str]
) -> None:
    data_dir, _ = hostile
    result = run(*command, data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and RIGHT_TO_LEFT not in result.stdout
    assert "\\x1b" in result.stdout or "\\u202e" in result.stdout


def test_ingest_warnings_show_control_sequences_as_escapes(hostile: tuple[Path, str]) -> None:
    _, stderr = hostile
    assert "unknown columns kept as extra properties: note\\x1b[2J" in stderr
    assert "\x1b" not in stderr


def test_json_output_keeps_the_names_exactly(hostile: tuple[Path, str]) -> None:
    data_dir, _ = hostile
    result = run("paths", "--from", "org-halcyon", "--json", data_dir=data_dir)
    assert "Halcyon\\u001b[2J Labs" in result.stdout  # JSON's own escape: data stays data


def test_a_bad_key_name_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    result = run("keys", "new", "bad name!", data_dir=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: key name 'bad name!': use 1-64 of A-Z a-z 0-9 . _ -"


def test_a_record_damaged_in_the_store_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    assert run("ingest", str(EXAMPLE_BUNDLE), data_dir=tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "laborgraph.sqlite") as db:
        db.execute("""UPDATE entities SET body = '{"id": 3}' WHERE id = 'org-halcyon'""")
    result = run("paths", "--from", "org-halcyon", data_dir=tmp_path)
    assert result.returncode == 3
    assert result.stderr.startswith("store unreadable: it holds a record this release cannot read")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["tiers", "org-nope"], 1),  # an unknown id: rejected input
        (["paths", "--dimension", "nope"], 2),  # a bad option value: usage, as typer reports it
        (["tiers", "org-halcyon", "--limit", "-1"], 2),
        (["no-such-command"], 2),
        (["ingest", "does/not/exist"], 1),
        (["ingest", "/dev/zero"], 1),  # not a regular file: refused, never read
        (["paths", "--depth", "11"], 2),
        (["map", "--focus", "org-halcyon", "--depth", "0", "-o", "m.html"], 2),
        (["serve", "--port", "99999"], 2),
    ],
)
def test_exit_codes_are_the_ones_the_readme_documents(tmp_path: Path, args: list[str], code: int) -> None:
    assert run("ingest", str(EXAMPLE_BUNDLE), data_dir=tmp_path).returncode == 0
    assert run(*args, data_dir=tmp_path).returncode == code


def test_the_demo_says_where_it_writes_and_prints_next_commands_that_run_as_printed(tmp_path: Path) -> None:
    launcher = Path(sys.executable).with_name("laborgraph")
    demo = subprocess.run(
        [str(launcher), "demo", "--no-serve"],
        env={"PATH": "/usr/bin:/bin", "LABORGRAPH_DATA_DIR": str(tmp_path), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stderr
    assert f"into the embedded store at {tmp_path / 'laborgraph.sqlite'}" in demo.stdout
    next_commands = demo.stdout.split("next, in another terminal:\n")[1].splitlines()
    assert len(next_commands) == 7  # paths, influencers, map, the second review, changes, actions, report
    assert (tmp_path / "nimbus.html").exists() is False
    for line in next_commands:
        ran = subprocess.run(
            shlex.split(line),
            env={"PATH": "/usr/bin:/bin", "LABORGRAPH_DATA_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
        assert ran.returncode == 0, (line, ran.stderr)
    assert "Nimbus Intelligence" in (tmp_path / "nimbus.html").read_text(encoding="utf-8")


def test_csv_through_a_symlink_a_device_or_onto_a_folder(tmp_path: Path) -> None:
    assert run("ingest", str(EXAMPLE_BUNDLE), data_dir=tmp_path / "data").returncode == 0
    real = tmp_path / "exports" / "paths.csv"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "latest.csv"
    link.symlink_to(real)

    assert run("paths", "--csv", str(link), data_dir=tmp_path / "data").returncode == 0
    assert link.is_symlink() and real.read_text(encoding="utf-8").startswith("rank,")

    assert run("paths", "--csv", "/dev/null", data_dir=tmp_path / "data").returncode == 0
    onto_folder = run("paths", "--csv", str(real.parent), data_dir=tmp_path / "data")
    assert onto_folder.returncode == 1 and "it is a folder" in onto_folder.stderr


def test_settings_that_would_mislead_are_refused(tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("")
    on_a_file = run("gaps", data_dir=a_file)
    assert on_a_file.returncode == 3 and "not a folder" in on_a_file.stderr
    empty = run("gaps", data_dir=tmp_path, LABORGRAPH_DATA_DIR="")
    assert empty.returncode == 1 and "LABORGRAPH_DATA_DIR" in empty.stderr
    same_key = "a" * 64
    twice = run("serve", data_dir=tmp_path, LABORGRAPH_API_KEYS=f"r:read:{same_key},adm:admin:{same_key}")
    assert twice.returncode == 1 and "another entry has the same key" in twice.stderr
    same_name = run("serve", data_dir=tmp_path, LABORGRAPH_API_KEYS=f"r:read:{same_key},r:admin:{'b' * 64}")
    assert same_name.returncode == 1 and "another entry has this name" in same_name.stderr

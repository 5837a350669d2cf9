"""Both stores give the same answers: every question's ``--json`` output, byte for byte.

    python -m bench.same_answers --data-dir /tmp/lg100k --neo4j-uri bolt://127.0.0.1:7687 --bundle /tmp/b100k

The embedded store in ``--data-dir`` and the Neo4j store at ``--neo4j-uri`` must hold the
same bundle (``--bundle``, where the subjects are picked as bench.questions picks them).
Exits 1 when any answer differs, naming it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from bench.questions import laborgraph_executable, pick_subjects


def questions(buyer: str, unit: str, decision: str, cohort: str) -> list[list[str]]:
    return [
        ["paths", "--from", buyer],
        ["paths", "--from", unit],
        ["paths", "--from", decision],
        ["paths", "--to", cohort],
        ["paths"],
        ["tiers", buyer],
        ["influencers", cohort],
        ["gaps"],
        ["gaps", "--kind", "unrecorded_condition", "--offset", "1000"],
        ["fragmentation"],
        ["scorecard"],
        ["scorecard", "--offset", "100"],
    ]


def answer(argv: list[str], env: dict[str, str]) -> bytes:
    done = subprocess.run(
        [laborgraph_executable(), *argv, "--json"], env=env, capture_output=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"laborgraph {' '.join(argv)} failed: {done.stderr.decode()[-500:]}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--neo4j-uri", required=True)
    parser.add_argument("--bundle", type=Path, required=True)
    args = parser.parse_args()
    s = pick_subjects(args.bundle)
    embedded = {**os.environ, "LABORGRAPH_STORE": "embedded", "LABORGRAPH_DATA_DIR": str(args.data_dir)}
    neo4j = {**os.environ, "LABORGRAPH_STORE": "neo4j", "NEO4J_URI": args.neo4j_uri}
    neo4j.setdefault("NEO4J_PASSWORD", "laborgraph-test")
    differ = 0
    for argv in questions(s.buyer, s.unit, s.decision, s.cohort):
        one, other = answer(argv, embedded), answer(argv, neo4j)
        same = one == other
        differ += not same
        print(f"{'same' if same else 'DIFFERENT'}  {' '.join(argv)}  ({len(one):,} bytes)", flush=True)
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()

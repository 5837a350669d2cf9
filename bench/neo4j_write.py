"""Time a bundle's ingest into a wiped Neo4j database, phase by phase, in one process.

    python -m bench.neo4j_write --neo4j-uri bolt://127.0.0.1:7687 --bundle /work/data/b100k

Prints the seconds spent validating (and reading), planning the write, sending its
batches and in the whole write (plan, batches and the turn's own statements), the write's
rows per second, the client's peak RSS and the load average. What it times is the store's
own code, wrapped here; it changes nothing in it. No warm-up of answers, unlike the CLI.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections import defaultdict
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from laborgraph.graph import neo4j_store
from laborgraph.graph.neo4j_store import Neo4jStore
from laborgraph.ingest.load import ingest_path


def _timed(spent: dict[str, float], phase: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            return function(*args, **kwargs)
        finally:
            spent[phase] += time.monotonic() - started

    return timed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neo4j-uri", required=True)
    parser.add_argument("--user", default="neo4j")
    parser.add_argument("--password", default="")
    parser.add_argument("--bundle", type=Path, required=True)
    args = parser.parse_args(argv)

    store = Neo4jStore(args.neo4j_uri, user=args.user, password=args.password)
    store.wipe()
    spent: dict[str, float] = defaultdict(float)
    Neo4jStore._plan = staticmethod(_timed(spent, "plan", Neo4jStore._plan))  # type: ignore[method-assign]
    for phase, name in (("batches", "_write_batches"), ("write", "write")):
        setattr(Neo4jStore, name, _timed(spent, phase, getattr(Neo4jStore, name)))
    started = time.monotonic()
    try:
        report = ingest_path(store, args.bundle)
    finally:
        store.close()
    total = time.monotonic() - started
    rows = sum(report.counts.values())
    write = spent["write"]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        f"{rows:,} rows, batches of {neo4j_store.BATCH_SIZE:,}, {neo4j_store.PIPELINE} at once:"
        f" validation {total - write:.1f} s, plan {spent['plan']:.1f} s, batches {spent['batches']:.1f} s,"
        f" write {write:.1f} s = {rows / write:,.0f} rows/s; in all {total:.1f} s;"
        f" client peak RSS {rss:,} MB; load {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()

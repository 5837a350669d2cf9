"""Time ingest and risk tracing on a generated chain, per store, against naive baselines.

    python -m bench.run --size medium --store both [--json]

Neo4j is the server in ``NEO4J_URI`` (with ``NEO4J_USER``/``NEO4J_PASSWORD``/``NEO4J_DATABASE``)
when set, otherwise a throwaway one started with ``tests/neo4j_server.py``. The Neo4j
database is wiped first. Timings are wall-clock on whatever machine runs this.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bench.generate import SIZES, Bundle, generate, graph_data, raw_bundle, split
from bench.naive import TooSlow, naive_trace, write_row_by_row
from laborgraph.graph.analysis import regions
from laborgraph.graph.analysis.paths import PathQuery, trace_risk_paths
from laborgraph.graph.embedded import EmbeddedStore
from laborgraph.graph.scoring import load_scoring
from laborgraph.graph.store import GraphStore
from laborgraph.graph.view import GraphView
from laborgraph.ingest.load import Progress, ingest_raw
from laborgraph.ingest.readers import RawBundle

if TYPE_CHECKING:
    from neo4j import Driver

    from laborgraph.graph.neo4j_store import Neo4jStore

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
T = TypeVar("T")


@dataclass
class StoreResult:
    store: str
    rows: int
    ingest_s: float
    ingest_rows_per_s: float
    write_s: float  # of ingest_s, after validation
    reopen_s: float | None = None  # embedded: open + load the whole view from disk
    naive_ingest_rows: int | None = None
    naive_ingest_rows_per_s: float | None = None
    first_trace_s: float | None = None  # the first question on a loaded store, indexes built
    trace_ms: list[float] = field(default_factory=list)
    trace_ms_by_buyer: dict[str, list[float]] = field(default_factory=dict)
    agrees: bool | None = None  # same paths as tracing the whole graph in memory

    def median(self) -> float:
        return statistics.median(self.trace_ms)

    def p95(self) -> float:
        ordered = sorted(self.trace_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@dataclass
class NaiveResult:
    buyer: str
    ms: float
    finished: bool  # False: stopped at the time budget, so ``ms`` is a lower bound
    agrees: bool | None  # same top paths as trace_risk_paths (None when unfinished)


def code_version() -> str:
    """The commit measured, with ``+dirty`` when the working tree differs from it."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT).stdout.strip()

    return git("rev-parse", "--short", "HEAD") + (
        "+dirty" if git("status", "--porcelain", "graph", "ingest") else ""
    )


def timed(work: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


PathIds = list[tuple[str, str, str, tuple[str, ...]]]  # decision, cohort, dimension, chain


def top_paths(view: GraphView, buyer: str) -> PathIds:
    paths = trace_risk_paths(view, top_100(buyer), load_scoring())
    return [(p.decision_id, p.cohort_id, p.dimension.value, tuple(p.chain[2:-2])) for p in paths]


def top_100(buyer: str) -> PathQuery:
    return PathQuery(origin=buyer, limit=100)


def time_traces(store: GraphStore, buyers: list[str], runs: int, result: StoreResult) -> dict[str, PathIds]:
    """Trace each buyer ``runs`` times, view included; return each buyer's paths.

    Each trace reads its own region from the store, as every question does; the first
    trace after opening is reported on its own.
    """
    found: dict[str, PathIds] = {}
    first = buyers[0]
    result.first_trace_s, _ = timed(lambda: top_paths(_fresh(store, first), first))
    for _ in range(runs):
        for buyer in buyers:
            seconds, found[buyer] = timed(lambda b=buyer: top_paths(_fresh(store, b), b))  # type: ignore[misc]
            result.trace_ms.append(1000 * seconds)
            result.trace_ms_by_buyer.setdefault(buyer, []).append(1000 * seconds)
    return found


def _fresh(store: GraphStore, buyer: str) -> GraphView:
    return regions.path_view(store, top_100(buyer), load_scoring())


def ingest_all(store: GraphStore, raws: list[RawBundle]) -> tuple[float, float]:
    """Seconds to ingest the bundles in order, each in its own write; and of those, writing."""
    total = writing = 0.0
    marks: dict[str, float] = {}
    progress = Progress(start=lambda stage, _: marks.__setitem__(stage, time.perf_counter()))
    for raw in raws:
        started = time.perf_counter()
        ingest_raw(store, raw, progress)
        total += time.perf_counter() - started
        writing += time.perf_counter() - marks["writing"]
    return total, writing


def bench_embedded(
    raws: list[RawBundle], buyers: list[str], runs: int, folder: Path
) -> tuple[StoreResult, EmbeddedStore, dict[str, PathIds]]:
    rows = sum(raw.row_count() for raw in raws)
    store = EmbeddedStore(folder)
    seconds, write_s = ingest_all(store, raws)
    store.close()
    del store
    gc.collect()  # the first store's view is gone before the reopened one loads
    result = StoreResult("embedded", rows, seconds, rows / seconds, write_s)
    result.reopen_s, reopened = timed(lambda: _reopen(folder))
    return result, reopened, time_traces(reopened, buyers, runs, result)


def _reopen(folder: Path) -> EmbeddedStore:
    return EmbeddedStore(folder)


@contextmanager
def neo4j_server(heap: str, pagecache: str) -> Iterator[tuple[str, tuple[str, str], str]]:
    """(uri, auth, database) of the configured server, or of a throwaway one."""
    auth = (
        os.environ.get("NEO4J_USER", "neo4j"),
        os.environ.get("NEO4J_PASSWORD", "laborgraph-test"),
    )
    database = os.environ.get("NEO4J_DATABASE", "neo4j")
    if os.environ.get("NEO4J_URI"):
        yield os.environ["NEO4J_URI"], auth, database
        return
    from tests import neo4j_server

    # The JVM as a deployed server runs it (full JIT), not the tests' quick-starting one.
    with (
        tempfile.TemporaryDirectory(prefix="laborgraph-bench-neo4j-") as workdir,
        neo4j_server.start(
            Path(workdir), password=auth[1], heap=heap, pagecache=pagecache, quick_jit=False
        ) as server,
    ):
        yield server.uri, auth, database


def bench_neo4j(
    connection: tuple[str, tuple[str, str], str],
    raws: list[RawBundle],
    sample: Bundle,
    buyers: list[str],
    runs: int,
) -> tuple[StoreResult, dict[str, PathIds]]:
    from neo4j import GraphDatabase

    from laborgraph.graph.neo4j_store import Neo4jStore

    uri, auth, database = connection
    store = Neo4jStore(uri, user=auth[0], password=auth[1], database=database)
    try:
        store.wipe()
        sections = {s: [r.cells for r in rs] for s, rs in raw_bundle(sample).rows.items()}
        with GraphDatabase.driver(uri, auth=auth) as driver:
            warm_up(store, driver, database, sections)
            naive_s, naive_rows = timed(lambda: write_row_by_row(driver, database, sections))  # type: ignore[arg-type]
        store.wipe()
        seconds, write_s = ingest_all(store, raws)
        rows = sum(raw.row_count() for raw in raws)
        result = StoreResult(
            "neo4j",
            rows,
            seconds,
            rows / seconds,
            write_s,
            naive_ingest_rows=naive_rows,
            naive_ingest_rows_per_s=naive_rows / naive_s,
        )
        return result, time_traces(store, buyers, runs, result)
    finally:
        store.close()


WARM_UP_ROWS = 100  # of each section, written row by row


def warm_up(store: Neo4jStore, driver: Driver, database: str, sections: dict[str, list[Any]]) -> None:
    """Run what is timed once, untimed, on a chain of its own, then wipe it. Both the store
    and the row-by-row baseline then meet the server as a deployment runs it: the JVM's
    compiler warmed up and every statement's plan cached. A fresh server runs everything
    interpreted for its first seconds, which at a thousand links is most of the benchmark."""
    warm = generate(1_000, seed=1)
    ingest_raw(store, raw_bundle(warm))
    for buyer in sorted(row[0] for row in warm.rows["organizations"] if row[2] == "buyer"):
        top_paths(_fresh(store, buyer), buyer)
    store.wipe()
    write_row_by_row(driver, database, {section: rows[:WARM_UP_ROWS] for section, rows in sections.items()})
    store.wipe()


def bench_naive(view: GraphView, buyers: list[str], budget_s: float) -> list[NaiveResult]:
    results = []
    for buyer in buyers:
        start = time.perf_counter()
        try:
            keys = naive_trace(view, buyer, load_scoring(), budget_s=budget_s)
        except TooSlow:
            results.append(NaiveResult(buyer, 1000 * (time.perf_counter() - start), False, None))
            continue
        ms = 1000 * (time.perf_counter() - start)
        found = [(k[5], k[3], k[4], k[6]) for k in keys]
        results.append(NaiveResult(buyer, ms, True, found == top_paths(view, buyer)))
    return results


def report(title: str, stores: list[StoreResult], naive: list[NaiveResult]) -> str:
    naive_ms = statistics.median(n.ms for n in naive)
    bound = "" if all(n.finished for n in naive) else ">="
    lines = [
        title,
        f"naive trace (all simple paths over the whole graph, then score and sort), median of "
        f"{len(naive)} buyers: {bound}{naive_ms:,.0f} ms (from {min(n.ms for n in naive):,.0f}"
        f" to {max(n.ms for n in naive):,.0f}); same top 100 as trace_risk_paths: "
        f"{', '.join(sorted({str(n.agrees) for n in naive}))}",
        "",
        f"{'store':<9} {'ingest rows/s':>13} {'write s':>8} {'1 tx/row':>9} {'ratio':>7} {'reopen s':>9}"
        f" {'first s':>8} {'trace median ms':>15} {'p95 ms':>8} {'runs':>5} {'vs naive':>9} {'worst':>9}"
        f" {'agrees':>7}",
    ]
    for s in stores:
        naive_rate = s.naive_ingest_rows_per_s
        # Per buyer: its naive time over the median of its traces; the worst buyer is shown too.
        ratios = [n.ms / statistics.median(s.trace_ms_by_buyer[n.buyer]) for n in naive]
        lines.append(
            f"{s.store:<9} {s.ingest_rows_per_s:>13,.0f} {s.write_s:>8.1f}"
            f" {f'{naive_rate:,.0f}' if naive_rate else '-':>9}"
            f" {f'{s.ingest_rows_per_s / naive_rate:.1f}x' if naive_rate else '-':>7}"
            f" {f'{s.reopen_s:.2f}' if s.reopen_s is not None else '-':>9}"
            f" {f'{s.first_trace_s:.2f}' if s.first_trace_s is not None else '-':>8}"
            f" {s.median():>15,.1f} {s.p95():>8,.1f} {len(s.trace_ms):>5}"
            f" {bound + f'{statistics.median(ratios):,.1f}x':>9} {bound + f'{min(ratios):,.1f}x':>9}"
            f" {str(s.agrees):>7}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=SIZES, default="small")
    parser.add_argument("--links", type=int, help="number of links (overrides --size)")
    parser.add_argument("--store", choices=["embedded", "neo4j", "both"], default="both")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--buyers", type=int, default=5, help="buyers traced")
    parser.add_argument("--runs", type=int, default=4, help="timed traces per buyer")
    parser.add_argument("--naive-budget", type=float, default=300.0, help="seconds per naive trace")
    parser.add_argument(
        "--sample-links",
        type=int,
        default=700,
        help="links of the bundle written one transaction per row (Neo4j baseline)",
    )
    parser.add_argument(
        "--neo4j-parts",
        type=int,
        default=1,
        help="ingest into Neo4j as this many bundles (one transaction each)",
    )
    parser.add_argument("--neo4j-heap", default="4g")
    parser.add_argument("--neo4j-pagecache", default="2g")
    parser.add_argument("--json", action="store_true", help=f"also write the figures to {RESULTS}/")
    args = parser.parse_args()

    links = args.links or SIZES[args.size]
    generated_s, bundle = timed(lambda: generate(links, args.seed))
    buyer_ids = sorted(row[0] for row in bundle.rows["organizations"] if row[2] == "buyer")
    buyers = random.Random(args.seed).sample(buyer_ids, min(args.buyers, len(buyer_ids)))
    rows = bundle.row_count()
    title = f"{links:,} links, {rows:,} rows (seed {args.seed}, code {code_version()})"
    title += "; trace: top 100 paths of a buyer"
    title += f"; Neo4j ingest in {args.neo4j_parts} parts" if args.neo4j_parts > 1 else ""
    print(f"{title}\ngenerated in {generated_s:.1f} s; buyers traced: {', '.join(buyers)}", flush=True)

    results: list[StoreResult] = []
    found: dict[str, dict[str, PathIds]] = {}
    whole: GraphView | None = None
    with tempfile.TemporaryDirectory(prefix="laborgraph-bench-") as folder:
        if args.store in ("embedded", "both"):
            result, embedded, found["embedded"] = bench_embedded(
                [raw_bundle(bundle)], buyers, args.runs, Path(folder)
            )
            whole = regions.region_view(embedded)
            results.append(result)
            print(f"embedded: ingest {result.ingest_s:.1f} s, reopen {result.reopen_s:.1f} s", flush=True)
        if args.store in ("neo4j", "both"):
            sample = generate(args.sample_links, args.seed + 1)
            with neo4j_server(args.neo4j_heap, args.neo4j_pagecache) as connection:
                result, found["neo4j"] = bench_neo4j(
                    connection,
                    [raw_bundle(part) for part in split(bundle, args.neo4j_parts)],
                    sample,
                    buyers,
                    args.runs,
                )
            results.append(result)
            print(f"neo4j: ingest {result.ingest_s:.1f} s", flush=True)
        if whole is None:
            whole = GraphView.of(graph_data(bundle))
        del bundle  # free it before the naive baseline needs memory
        for result in results:  # both stores give the whole graph's answer
            result.agrees = all(found[result.store][b] == top_paths(whole, b) for b in buyers)
    naive = bench_naive(whole, buyers, args.naive_budget)
    table = report(title, results, naive)
    print(table)
    if args.json:
        RESULTS.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        out = RESULTS / f"{args.size if not args.links else links}-{args.store}-{stamp}.json"
        out.write_text(
            json.dumps(
                {
                    "args": vars(args),
                    "title": title,
                    "rows": rows,
                    "generated_s": generated_s,
                    "stores": [asdict(r) for r in results],
                    "naive": [asdict(n) for n in naive],
                },
                indent=2,
            )
        )
        print(f"wrote {out}")


if __name__ == "__main__":
    main()

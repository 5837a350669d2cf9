"""Time the whole-graph export as users run it: a fresh ``laborgraph export`` process per format.

    python -m bench.export --data-dir /tmp/lg1m [--formats graphml gexf json] [--runs 1]
        [--neo4j-uri bolt://...] [--show-small] [--out bench/results/export-1m.json]

Each run is one process under ``/usr/bin/time`` (its peak RSS and CPU time) writing to a
scratch folder; elements are the nodes and edges it reports writing, and elements/s counts
them over the process's whole wall time, start-up included, and over its CPU time (user and
system, of both processes where the export uses two cores: the embedded store's whole
graph), which other jobs on a shared machine disturb less. Peak RSS is the larger
process's. The store is chosen as in bench.questions.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.questions import (
    TIME,
    git_info,
    laborgraph_executable,
    machine_info,
    run_in_own_group,
    say,
    store_env,
    tail,
)

WROTE = re.compile(r"\(([\d,]+) nodes, ([\d,]+) edges\)")


@dataclass
class ExportRun:
    format: str
    exit_code: int | None
    wall_s: float
    cpu_s: float
    peak_rss_mb: float | None
    nodes: int
    edges: int
    file_mb: float
    stderr: str = ""

    @property
    def elements_per_s(self) -> float:
        return (self.nodes + self.edges) / self.wall_s if self.wall_s else 0.0

    @property
    def elements_per_cpu_s(self) -> float:
        return (self.nodes + self.edges) / self.cpu_s if self.cpu_s else 0.0


def rss_and_cpu(time_output: Path) -> tuple[float | None, float]:
    """Peak RSS (MB) and user + system seconds from GNU time's ``%M %U %S`` line."""
    lines = time_output.read_text().split("\n") if time_output.exists() else []
    found = [line.split() for line in lines if len(line.split()) == 3]
    if not found:
        return None, 0.0
    rss, user, system = found[-1]
    return round(int(rss) / 1024, 1), round(float(user) + float(system), 2)


def run_export(fmt: str, args: argparse.Namespace, scratch: Path) -> ExportRun:
    target = scratch / f"graph.{fmt}"
    timing, out, err = scratch / "time.txt", scratch / "stdout.txt", scratch / "stderr.txt"
    argv = [TIME, "-f", "%M %U %S", "-o", str(timing), laborgraph_executable(), "export", "--format", fmt]
    argv += ["-o", str(target), *(["--show-small"] if args.show_small else [])]
    finished = run_in_own_group(argv, store_env(args), args.timeout, out, err)
    wrote = WROTE.search(out.read_text(encoding="utf-8", errors="replace"))
    nodes, edges = (int(n.replace(",", "")) for n in wrote.groups()) if wrote else (0, 0)
    size = target.stat().st_size / 2**20 if target.exists() else 0.0
    target.unlink(missing_ok=True)
    rss, cpu = rss_and_cpu(timing)
    return ExportRun(
        fmt,
        finished.exit_code,
        round(finished.wall_s, 2),
        cpu,
        rss,
        nodes,
        edges,
        round(size, 1),
        "" if finished.exit_code == 0 else tail(err),
    )


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--data-dir", type=Path, help="the embedded store (unless --neo4j-uri)")
    parser.add_argument("--neo4j-uri", help="a loaded Neo4j server instead of the embedded store")
    parser.add_argument("--formats", nargs="+", default=["graphml", "gexf", "json"])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--show-small", action="store_true", help="export every cohort (as an admin)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds one export may take")
    parser.add_argument("--out", type=Path, help="write every figure here as JSON")
    args = parser.parse_args()
    if not (args.data_dir or args.neo4j_uri):
        parser.error("give --data-dir or --neo4j-uri")

    runs: list[ExportRun] = []
    say(
        f"{'format':8} {'wall s':>7} {'CPU s':>7} {'elements':>11} {'elem/s':>9} {'elem/CPU s':>10}"
        f" {'peak RSS':>9} {'file':>8}"
    )
    with tempfile.TemporaryDirectory(prefix="lg-export-bench-", dir=args.data_dir) as folder:
        for fmt in args.formats:
            for _ in range(args.runs):
                run = run_export(fmt, args, Path(folder))
                runs.append(run)
                status = "" if run.exit_code == 0 else f"  failed ({run.exit_code}): {run.stderr}"
                say(
                    f"{fmt:8} {run.wall_s:7.1f} {run.cpu_s:7.1f} {run.nodes + run.edges:11,}"
                    f" {run.elements_per_s:9,.0f} {run.elements_per_cpu_s:10,.0f}"
                    f" {run.peak_rss_mb or 0:7.0f}MB {run.file_mb:6.0f}MB{status}"
                )
    for fmt in args.formats:
        done = [r for r in runs if r.format == fmt and r.exit_code == 0]
        if len(done) > 1:
            wall = statistics.median(r.elements_per_s for r in done)
            cpu = statistics.median(r.elements_per_cpu_s for r in done)
            say(f"{fmt}: median {wall:,.0f} elements/s, {cpu:,.0f} per CPU second, over {len(done)} runs")
    if args.out:
        figures = {"machine": machine_info(), "git": git_info(), "runs": [asdict(r) for r in runs]}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()

"""Time every analyst question as users live it: a fresh CLI process on an already-loaded store.

    python -m bench.questions --data-dir /tmp/lg100k --bundle /tmp/b100k [--runs 3]
        [--neo4j-uri bolt://...] [--api] [--timeout 600] [--out bench/results/questions-100k.json]

Each question is one ``laborgraph ...`` process under ``/usr/bin/time -f %M`` (its peak RSS),
stdout to a file, repeated ``--runs`` times; wall time is reported against ``laborgraph --help``
measured in the same run. A question that fails or times out is recorded as such and not
repeated. The subjects (a buyer, one of its units and decisions, an engaged cohort) are picked
from the bundle's CSVs, never from the store.

The store is embedded (``LABORGRAPH_DATA_DIR=--data-dir``) unless ``--neo4j-uri`` is given;
then ``NEO4J_USER``, ``NEO4J_PASSWORD`` and ``NEO4J_DATABASE`` come from the environment
(defaults neo4j / laborgraph-test / neo4j).

With ``--api``, ``laborgraph serve`` is started on a free loopback port (no API keys) and each
endpoint is timed cold, then warm (20 requests, at most ``--timeout`` seconds in all), then
16 threads hammer the paths endpoint for 10 seconds (at most 5000 requests). A request timeout
restarts the server, which would otherwise still be busy with it during what comes next.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TIME = "/usr/bin/time"
STDERR_TAIL = 500
HEALTH_TIMEOUT_S = 120.0
WARM_REQUESTS = 20
HAMMER_THREADS = 16
HAMMER_SECONDS = 10.0
HAMMER_MAX_REQUESTS = 5000
STOP_GRACE_S = 10.0


# -- output ------------------------------------------------------------------------------------


def say(text: str = "") -> None:
    """The one place this module writes to stdout."""
    print(text, flush=True)


# -- subjects ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subjects:
    buyer: str
    buyer_decisions: int
    unit: str
    decision: str
    cohort: str


def read_rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def buyer_ids(bundle: Path) -> set[str]:
    return {row["id"] for row in read_rows(bundle / "organizations.csv") if "buyer" in row["kinds"]}


def unit_owners(bundle: Path) -> dict[str, str]:
    return {row["id"]: row["organization_id"] for row in read_rows(bundle / "units.csv")}


def first_engaged_cohort(bundle: Path) -> str:
    for row in read_rows(bundle / "links.csv"):
        if row["type"] == "ENGAGES":
            return row["to_id"]
    raise SystemExit(f"{bundle / 'links.csv'} has no ENGAGES link")


def pick_subjects(bundle: Path) -> Subjects:
    """The buyer with most decisions, its busiest unit, its first decision, an engaged cohort."""
    buyers, owners = buyer_ids(bundle), unit_owners(bundle)
    by_buyer: Counter[str] = Counter()
    by_unit: Counter[str] = Counter()
    first_decision: dict[str, str] = {}
    for row in read_rows(bundle / "decisions.csv"):
        owner = owners.get(row["unit_id"])
        if owner in buyers:
            by_buyer[owner] += 1
            by_unit[row["unit_id"]] += 1
            first_decision.setdefault(owner, row["id"])
    if not by_buyer:
        raise SystemExit(f"no decision in {bundle} belongs to a buyer's unit")
    buyer, count = by_buyer.most_common(1)[0]
    unit = max((u for u in by_unit if owners[u] == buyer), key=lambda u: by_unit[u])
    return Subjects(buyer, count, unit, first_decision[buyer], first_engaged_cohort(bundle))


# -- environment and machine -------------------------------------------------------------------


def store_env(args: argparse.Namespace) -> dict[str, str]:
    """The environment every child runs in: the chosen store, no API keys, and Python's
    compiled modules kept as a user's installation keeps them (a shell that sets
    PYTHONDONTWRITEBYTECODE would add their compilation, 0.3-0.5 s, to every process)."""
    env = dict(os.environ, LABORGRAPH_API_KEYS="", PYTHONUNBUFFERED="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if args.neo4j_uri:
        env.update(
            LABORGRAPH_STORE="neo4j",
            NEO4J_URI=args.neo4j_uri,
            NEO4J_USER=os.environ.get("NEO4J_USER", "neo4j"),
            NEO4J_PASSWORD=os.environ.get("NEO4J_PASSWORD", "laborgraph-test"),
            NEO4J_DATABASE=os.environ.get("NEO4J_DATABASE", "neo4j"),
        )
    else:
        env.update(LABORGRAPH_STORE="embedded", LABORGRAPH_DATA_DIR=str(args.data_dir))
    return env


def laborgraph_executable() -> str:
    beside_python = Path(sys.executable).with_name("laborgraph")
    found = str(beside_python) if beside_python.exists() else shutil.which("laborgraph")
    if not found:
        raise SystemExit("cannot find the laborgraph executable (is the project installed?)")
    return found


def git_output(*argv: str) -> str:
    done = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def git_info() -> dict[str, Any]:
    """HEAD, and whether the work tree differs from it (others may be editing it meanwhile)."""
    return {
        "commit": git_output("rev-parse", "--short", "HEAD"),
        "dirty": bool(git_output("status", "--porcelain")),
    }


def total_memory_mb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def machine_info() -> dict[str, Any]:
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_count": os.cpu_count(),
        "total_memory_mb": total_memory_mb(),
        "load_average": list(os.getloadavg()),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


# -- running one process -----------------------------------------------------------------------


@dataclass
class Finished:
    exit_code: int | None  # None: timed out and killed
    wall_s: float


def run_in_own_group(
    argv: Sequence[str], env: dict[str, str], timeout_s: float, stdout_path: Path, stderr_path: Path
) -> Finished:
    """Run argv in its own process group; on timeout (or interrupt) kill that group."""
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, start_new_session=True
        )
        try:
            code: int | None = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            code = None
        except BaseException:
            kill_group(proc)
            raise
        wall = time.perf_counter() - started
        if code is None:
            kill_group(proc)
    return Finished(code, wall)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def peak_rss_mb(time_output: Path) -> float | None:
    """GNU time's ``%M`` (KB), the last line of its file (an exit-status line may precede it)."""
    try:
        lines = [line.strip() for line in time_output.read_text().splitlines() if line.strip()]
    except OSError:
        return None
    if lines and lines[-1].isdigit():
        return round(int(lines[-1]) / 1024, 1)
    return None


def tail(path: Path, chars: int = STDERR_TAIL) -> str:
    try:
        return path.read_bytes()[-chars:].decode("utf-8", errors="replace")
    except OSError:
        return ""


def count_lines(path: Path) -> int:
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines


# -- questions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    name: str
    args: tuple[str, ...]
    output: Path | None = None  # the file the question writes (a map or a CSV)
    is_csv: bool = False


def analyst_questions(s: Subjects, scratch: Path) -> list[Question]:
    csv_file, buyer_map, full_map = scratch / "paths.csv", scratch / "buyer.html", scratch / "map.html"
    return [
        Question("--help", ("--help",)),
        Question("paths --from BUYER", ("paths", "--from", s.buyer, "--limit", "100")),
        Question("paths --from UNIT", ("paths", "--from", s.unit, "--limit", "100")),
        Question("paths --from DECISION", ("paths", "--from", s.decision, "--limit", "100")),
        Question("paths --to COHORT", ("paths", "--to", s.cohort, "--limit", "100")),
        Question("tiers BUYER", ("tiers", s.buyer)),
        Question("influencers COHORT", ("influencers", s.cohort)),
        Question("gaps", ("gaps",)),
        Question("fragmentation", ("fragmentation",)),
        Question("scorecard", ("scorecard",)),
        Question("scorecard --offset 100", ("scorecard", "--offset", "100")),
        Question("paths (all, limit 100)", ("paths", "--limit", "100")),
        Question(
            "paths --from BUYER --csv (all)",
            ("paths", "--from", s.buyer, "--limit", "0", "--csv", str(csv_file)),
            csv_file,
            is_csv=True,
        ),
        Question("map --viewpoint BUYER", ("map", "--viewpoint", s.buyer, "-o", str(buyer_map)), buyer_map),
        Question("map (all)", ("map", "-o", str(full_map)), full_map),
    ]


@dataclass
class Run:
    status: str  # ok, failed or timeout
    wall_s: float
    exit_code: int | None
    peak_rss_mb: float | None
    stdout_bytes: int
    output_bytes: int | None = None
    csv_rows: int | None = None
    stderr_tail: str = ""


def run_question(question: Question, exe: str, env: dict[str, str], timeout_s: float, scratch: Path) -> Run:
    stdout, stderr, rss = scratch / "stdout", scratch / "stderr", scratch / "time"
    for stale in (stdout, stderr, rss, question.output):
        if stale:
            stale.unlink(missing_ok=True)
    argv = [TIME, "-f", "%M", "-o", str(rss), exe, *question.args]
    finished = run_in_own_group(argv, env, timeout_s, stdout, stderr)
    status = "timeout" if finished.exit_code is None else "ok" if finished.exit_code == 0 else "failed"
    run = Run(status, finished.wall_s, finished.exit_code, peak_rss_mb(rss), stdout.stat().st_size)
    if status != "ok":
        run.stderr_tail = tail(stderr)
    if question.output and question.output.exists():
        run.output_bytes = question.output.stat().st_size
        if question.is_csv:
            run.csv_rows = max(count_lines(question.output) - 1, 0)
        question.output.unlink()
    return run


@dataclass
class QuestionResult:
    name: str
    argv: list[str]
    status: str
    runs: list[Run] = field(default_factory=list)
    median_s: float | None = None
    max_s: float | None = None
    ratio_to_help: float | None = None
    max_rss_mb: float | None = None
    stdout_bytes: int | None = None
    output_bytes: int | None = None
    csv_rows: int | None = None
    rows_per_s: float | None = None


def summarize(question: Question, runs: list[Run], help_median_s: float | None) -> QuestionResult:
    ok = [run for run in runs if run.status == "ok"]
    failed = next((run for run in runs if run.status != "ok"), None)
    result = QuestionResult(question.name, ["laborgraph", *question.args], failed.status if failed else "ok")
    result.runs = runs
    rss = [run.peak_rss_mb for run in runs if run.peak_rss_mb is not None]
    result.max_rss_mb = max(rss) if rss else None
    if not ok:
        return result
    walls = [run.wall_s for run in ok]
    result.median_s, result.max_s = statistics.median(walls), max(walls)
    if help_median_s:
        result.ratio_to_help = result.median_s / help_median_s
    result.stdout_bytes = ok[-1].stdout_bytes
    result.output_bytes = ok[-1].output_bytes
    result.csv_rows = ok[-1].csv_rows
    if result.csv_rows is not None and result.median_s:
        result.rows_per_s = result.csv_rows / result.median_s
    return result


def time_question(
    question: Question, args: argparse.Namespace, exe: str, env: dict[str, str], scratch: Path
) -> list[Run]:
    """Up to ``--runs`` runs; a failed or timed-out run is not repeated."""
    runs: list[Run] = []
    for _ in range(args.runs):
        runs.append(run_question(question, exe, env, args.timeout, scratch))
        if runs[-1].status != "ok":
            break
    return runs


def time_questions(args: argparse.Namespace, subjects: Subjects, env: dict[str, str]) -> list[QuestionResult]:
    exe = laborgraph_executable()
    results: list[QuestionResult] = []
    help_median: float | None = None
    say(question_header())
    with tempfile.TemporaryDirectory(prefix="lg-questions-") as tmp:
        scratch = Path(tmp)
        for question in analyst_questions(subjects, scratch):
            result = summarize(question, time_question(question, args, exe, env, scratch), help_median)
            if question.name == "--help":
                help_median = result.median_s
                result.ratio_to_help = 1.0 if help_median else None
            results.append(result)
            say(question_row(result))
    return results


# -- table rows --------------------------------------------------------------------------------


def number(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def question_header() -> str:
    return (
        f"{'question':<32} {'status':<7} {'median s':>9} {'max s':>9} {'x help':>8} "
        f"{'RSS MB':>8} {'out bytes':>12} {'rows/s':>10}"
    )


def question_row(r: QuestionResult) -> str:
    size = r.output_bytes if r.output_bytes is not None else r.stdout_bytes
    row = (
        f"{r.name:<32} {r.status:<7} {number(r.median_s, '.3f'):>9} {number(r.max_s, '.3f'):>9} "
        f"{number(r.ratio_to_help, '.1f'):>8} {number(r.max_rss_mb, '.1f'):>8} "
        f"{number(size, ',d'):>12} {number(r.rows_per_s, ',.0f'):>10}"
    )
    failed = next((run for run in r.runs if run.status != "ok"), None)
    if failed:
        last_line = failed.stderr_tail.strip().splitlines()[-1:] or [""]
        ended = "timed out" if failed.exit_code is None else f"exit {failed.exit_code}"
        row += f"\n    {ended} after {failed.wall_s:.1f} s: {last_line[0][:100]}"
    return row


# -- the HTTP API ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def server_peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    base_url: str
    log: Path
    startup_s: float = 0.0


def wait_until_healthy(server: Server, timeout_s: float) -> None:
    started = time.perf_counter()
    with httpx.Client(base_url=server.base_url, timeout=5.0) as client:
        while time.perf_counter() - started < timeout_s:
            if server.proc.poll() is not None:
                raise RuntimeError(f"server exited with {server.proc.returncode}: {tail(server.log)}")
            try:
                if client.get("/health").status_code == 200:
                    server.startup_s = time.perf_counter() - started
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
    raise RuntimeError(f"server not healthy after {timeout_s:.0f} s: {tail(server.log)}")


def stop_server(server: Server) -> None:
    """Terminate the server's process group; kill it if it has not gone in STOP_GRACE_S."""
    if server.proc.poll() is not None:
        return
    try:
        os.killpg(server.proc.pid, signal.SIGTERM)
        server.proc.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        kill_group(server.proc)
    except ProcessLookupError:
        server.proc.wait()


def start_server(env: dict[str, str], log: Path, workers: int) -> Server:
    """``laborgraph serve`` on a free loopback port, healthy (or stopped and RuntimeError)."""
    port = free_port()
    argv = [laborgraph_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--workers", str(workers)]
    with log.open("ab") as log_file:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    server = Server(proc, f"http://127.0.0.1:{port}", log)
    try:
        wait_until_healthy(server, HEALTH_TIMEOUT_S)
    except BaseException:
        stop_server(server)
        raise
    say(f"server {server.base_url} healthy after {server.startup_s:.1f} s")
    return server


class ServerHost:
    """The one server running at a time; restartable, and always stopped on leaving."""

    def __init__(self, env: dict[str, str], log: Path, workers: int) -> None:
        self.env, self.log, self.workers = env, log, workers
        self.server: Server | None = None
        self.startups_s: list[float] = []
        self.peaks_mb: list[float] = []

    def __enter__(self) -> ServerHost:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return self.server.base_url

    def start(self) -> None:
        self.server = start_server(self.env, self.log, self.workers)
        self.startups_s.append(self.server.startup_s)

    def stop(self) -> None:
        if self.server is None:
            return
        peak = server_peak_rss_mb(self.server.proc.pid)
        if peak is not None:
            self.peaks_mb.append(peak)
        stop_server(self.server)
        self.server = None

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    params: dict[str, str | int]


def api_endpoints(s: Subjects) -> list[Endpoint]:
    return [
        Endpoint("/api/v1/paths?from=BUYER&limit=100", "/api/v1/paths", {"from": s.buyer, "limit": 100}),
        Endpoint("/api/v1/organizations/BUYER/tiers", f"/api/v1/organizations/{s.buyer}/tiers", {}),
        Endpoint("/api/v1/cohorts/COHORT/influencers", f"/api/v1/cohorts/{s.cohort}/influencers", {}),
        Endpoint("/api/v1/gaps", "/api/v1/gaps", {}),
        Endpoint("/api/v1/fragmentation", "/api/v1/fragmentation", {}),
        Endpoint("/api/v1/scorecards", "/api/v1/scorecards", {}),
        Endpoint("/", "/", {}),
        Endpoint("/map?viewpoint=BUYER", "/map", {"viewpoint": s.buyer}),
    ]


@dataclass
class Response:
    status: int | str  # the HTTP status, or the exception's name
    ms: float
    size: int


def request(client: httpx.Client, endpoint: Endpoint) -> Response:
    started = time.perf_counter()
    try:
        reply = client.get(endpoint.path, params=endpoint.params)
        return Response(reply.status_code, (time.perf_counter() - started) * 1000, len(reply.content))
    except httpx.HTTPError as error:
        return Response(type(error).__name__, (time.perf_counter() - started) * 1000, 0)


@dataclass
class EndpointResult:
    name: str
    url: str
    cold_ms: float
    cold_status: int | str
    bytes: int
    warm_requests: int = 0
    warm_p50_ms: float | None = None
    warm_p95_ms: float | None = None
    statuses: dict[str, int] = field(default_factory=dict)


def time_endpoint(base_url: str, endpoint: Endpoint, timeout_s: float) -> EndpointResult:
    """One cold request, then up to WARM_REQUESTS warm ones within timeout_s (none if cold failed)."""
    with httpx.Client(base_url=base_url, timeout=timeout_s) as client:
        cold = request(client, endpoint)
        url = str(client.build_request("GET", endpoint.path, params=endpoint.params).url)
        warm: list[Response] = []
        started = time.perf_counter()
        while cold.status == 200 and len(warm) < WARM_REQUESTS and time.perf_counter() - started < timeout_s:
            warm.append(request(client, endpoint))
    result = EndpointResult(endpoint.name, url, cold.ms, cold.status, cold.size, len(warm))
    result.warm_p50_ms = percentile([r.ms for r in warm], 50)
    result.warm_p95_ms = percentile([r.ms for r in warm], 95)
    result.statuses = dict(Counter(str(r.status) for r in [cold, *warm]))
    return result


def abandoned_work(result: EndpointResult) -> bool:
    """A request the client gave up on (timeout, dropped connection): the server may still be busy."""
    return any(not code.isdigit() for code in result.statuses)


def endpoint_header() -> str:
    return f"{'endpoint':<38} {'cold ms':>9} {'warm n':>6} {'p50 ms':>9} {'p95 ms':>9} {'bytes':>12} statuses"


def endpoint_row(r: EndpointResult) -> str:
    statuses = " ".join(f"{code}x{n}" for code, n in r.statuses.items())
    return (
        f"{r.name:<38} {r.cold_ms:>9.1f} {r.warm_requests:>6} {number(r.warm_p50_ms, '.1f'):>9} "
        f"{number(r.warm_p95_ms, '.1f'):>9} {r.bytes:>12,} {statuses}"
    )


class RequestBudget:
    """Shared by the hammering threads: a deadline and a maximum number of requests."""

    def __init__(self, seconds: float, max_requests: int) -> None:
        self.deadline = time.perf_counter() + seconds
        self.left = max_requests
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0 or time.perf_counter() >= self.deadline:
                return False
            self.left -= 1
            return True


def hammer(base_url: str, endpoint: Endpoint, budget: RequestBudget, timeout_s: float) -> list[Response]:
    responses: list[Response] = []
    with httpx.Client(base_url=base_url, timeout=timeout_s) as client:
        while budget.take():
            responses.append(request(client, endpoint))
    return responses


def concurrency_test(base_url: str, endpoint: Endpoint, timeout_s: float) -> dict[str, Any]:
    budget = RequestBudget(HAMMER_SECONDS, HAMMER_MAX_REQUESTS)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=HAMMER_THREADS) as pool:
        futures = [pool.submit(hammer, base_url, endpoint, budget, timeout_s) for _ in range(HAMMER_THREADS)]
        responses = [r for future in futures for r in future.result()]
    elapsed = time.perf_counter() - started
    ok = [r.ms for r in responses if r.status == 200]
    return {
        "endpoint": endpoint.name,
        "threads": HAMMER_THREADS,
        "seconds": elapsed,
        "requests": len(responses),
        "requests_per_s": len(responses) / elapsed if elapsed else None,
        "p50_ms": percentile(ok, 50),
        "p95_ms": percentile(ok, 95),
        "errors": len(responses) - len(ok),
        "statuses": dict(Counter(str(r.status) for r in responses)),
    }


def concurrency_row(c: dict[str, Any]) -> str:
    return (
        f"{c['threads']} threads on {c['endpoint']}: {c['requests']} requests in {c['seconds']:.1f} s = "
        f"{c['requests_per_s']:.1f} req/s, p50 {number(c['p50_ms'], '.1f')} ms, "
        f"p95 {number(c['p95_ms'], '.1f')} ms, errors {c['errors']}"
    )


def time_api(args: argparse.Namespace, subjects: Subjects, env: dict[str, str]) -> dict[str, Any]:
    """Each endpoint cold then warm, then the concurrency test; a server left working on a request
    the client gave up on is restarted first, so that it does not slow what is measured next."""
    endpoints = api_endpoints(subjects)
    results: list[EndpointResult] = []
    with (
        tempfile.TemporaryDirectory(prefix="lg-serve-") as tmp,
        ServerHost(env, Path(tmp) / "log", args.workers) as host,
    ):
        say(endpoint_header())
        for endpoint in endpoints:
            results.append(time_endpoint(host.base_url, endpoint, args.timeout))
            say(endpoint_row(results[-1]))
            if abandoned_work(results[-1]):
                say("restarting the server: it may still be working on the abandoned request")
                host.restart()
        with httpx.Client(base_url=host.base_url, timeout=args.timeout) as client:
            request(client, endpoints[0])  # warm, in case the server was just restarted
        concurrency = concurrency_test(host.base_url, endpoints[0], args.timeout)
        say(concurrency_row(concurrency))
        host.stop()
        peak = max(host.peaks_mb, default=None)
        say(f"server peak RSS {number(peak, '.1f')} MB")
        return {
            "startups_s": host.startups_s,
            "restarts": len(host.startups_s) - 1,
            "server_peak_rss_mb": peak,
            "endpoints": [asdict(r) for r in results],
            "concurrency": concurrency,
        }


def api_figures(args: argparse.Namespace, subjects: Subjects, env: dict[str, str]) -> dict[str, Any]:
    try:
        return time_api(args, subjects, env)
    except (RuntimeError, httpx.HTTPError) as error:
        say(f"API benchmark failed: {error}")
        return {"error": str(error)}


# -- the command -------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="the embedded store's LABORGRAPH_DATA_DIR")
    parser.add_argument("--bundle", type=Path, required=True, help="the bundle folder the store holds")
    parser.add_argument("--runs", type=int, default=3, help="runs of each question (default 3)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per question (default 600)")
    parser.add_argument("--neo4j-uri", help="use the Neo4j store at this URI instead of the embedded one")
    parser.add_argument("--api", action="store_true", help="also time the HTTP API, warm and concurrent")
    parser.add_argument("--workers", type=int, default=1, help="server processes for --api (default 1)")
    parser.add_argument("--api-only", action="store_true", help="time the HTTP API only, no CLI questions")
    parser.add_argument("--out", type=Path, help="the JSON file to write")
    args = parser.parse_args(argv)
    if not args.neo4j_uri and not args.data_dir:
        parser.error("--data-dir is required for the embedded store")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.out is None:
        name = args.data_dir.name if args.data_dir else f"neo4j-{args.bundle.name}"
        args.out = RESULTS / f"questions-{name}.json"
    return args


def describe_store(args: argparse.Namespace) -> dict[str, Any]:
    if args.neo4j_uri:
        return {"kind": "neo4j", "uri": args.neo4j_uri, "database": os.environ.get("NEO4J_DATABASE", "neo4j")}
    return {"kind": "embedded", "data_dir": str(args.data_dir)}


def write_json(path: Path, figures: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, default=str) + "\n")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    subjects = pick_subjects(args.bundle)
    env = store_env(args)
    store = describe_store(args)
    say(f"store {store}, bundle {args.bundle}, {args.runs} run(s), timeout {args.timeout:.0f} s")
    say(f"subjects {asdict(subjects)}\n")
    figures: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git": git_info(),
        "store": store,
        "bundle": str(args.bundle),
        "runs": args.runs,
        "timeout_s": args.timeout,
        "subjects": asdict(subjects),
        "machine": machine_info(),
    }
    figures["workers"] = args.workers
    figures["questions"] = [] if args.api_only else [asdict(r) for r in time_questions(args, subjects, env)]
    figures["api"] = None
    write_json(args.out, figures)  # the questions' figures survive an API failure
    if args.api or args.api_only:
        figures["api"] = api_figures(args, subjects, env)
        write_json(args.out, figures)
    say(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()

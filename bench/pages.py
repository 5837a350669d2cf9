"""The analyst's pages as a browser meets them: size, serving time, time to interactive.

    python -m bench.pages --data-dir /tmp/lg1m --buyer org-b00044

``laborgraph map --viewpoint BUYER`` (with ``--whole``, ``laborgraph map`` too) as a fresh
process (wall time and the file's size), then ``laborgraph serve``: for the front page, the
buyer's map, the first group that map opens, the organizations of its busiest tier and
country (``tier=T&country=C``) and with ``--whole`` the map of every buyer: the cold and a
warm request (time, bytes), and headless Chromium (Debian's) from navigation to a drawn map,
with its console errors and every request that left the server (there should be none).
Figures go to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from urllib.parse import urlencode

import httpx
from playwright.sync_api import Browser, sync_playwright

from bench.questions import (
    RESULTS,
    git_info,
    laborgraph_executable,
    machine_info,
    run_in_own_group,
    say,
    start_server,
    stop_server,
    store_env,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
READY = "body[data-ready=true]"  # set by map.js once vis-network has drawn the map


def time_cli_map(env: dict[str, str], buyer: str | None, runs: int, scratch: Path) -> dict[str, Any]:
    out, log = scratch / "map.html", scratch / "cli.log"
    walls = []
    for _ in range(runs):
        argv = [laborgraph_executable(), "map", *(["--viewpoint", buyer] if buyer else []), "-o", str(out)]
        finished = run_in_own_group(argv, env, 120.0, log, log)
        if finished.exit_code != 0:
            raise SystemExit(f"laborgraph map failed: {log.read_text()[-500:]}")
        walls.append(finished.wall_s)
    return {"median_s": statistics.median(walls), "runs_s": walls, "bytes": out.stat().st_size}


def serve_and_open(browser: Browser, base_url: str, path: str) -> dict[str, Any]:
    with httpx.Client(base_url=base_url, timeout=120.0) as client:
        started = time.perf_counter()
        cold = client.get(path)
        cold_s = time.perf_counter() - started
        started = time.perf_counter()
        client.get(path)
        warm_s = time.perf_counter() - started
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith(base_url) else outside.append(r.url))
    try:
        started = time.perf_counter()
        page.goto(base_url + path)
        is_map = page.locator("#map-data").count() > 0
        if is_map:
            page.wait_for_selector(READY, state="attached", timeout=60_000)
        interactive_s = time.perf_counter() - started
        nodes = page.evaluate("window.laborgraph ? window.laborgraph.data.nodes.length : 0")
        group = page.evaluate(
            """() => { const g = window.laborgraph && window.laborgraph.data.nodes.find(n => n.drill);
                       return g ? g.drill : null; }"""
        )
        # The tier and country holding most of the map's organizations: a group of them, opened.
        region = page.evaluate(
            """() => { if (!window.laborgraph) return null;
                const seen = new Map();
                for (const n of window.laborgraph.data.nodes) {
                  if (n.kind !== "organization" || n.tier == null) continue;
                  const country = n.facts[0][1].find(f => f[0] === "Country")[1];
                  const key = n.tier + ":" + country;
                  seen.set(key, (seen.get(key) || 0) + 1);
                }
                const best = [...seen].sort((a, b) => b[1] - a[1])[0];
                return best ? {tier: best[0].split(":")[0], country: best[0].split(":")[1]} : null; }"""
        )
    finally:
        page.close()
    return {
        "path": path,
        "status": cold.status_code,
        "bytes": len(cold.content),
        "cold_s": cold_s,
        "warm_s": warm_s,
        "interactive_s": interactive_s,
        "nodes": nodes,
        "console_errors": errors,
        "requests_outside": outside,
        "first_group": group,
        "busiest_region": region,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data-dir", type=Path, required=True, help="an embedded store (LABORGRAPH_DATA_DIR)"
    )
    parser.add_argument("--neo4j-uri", default=None, help="time a Neo4j store instead")
    parser.add_argument("--buyer", required=True, help="the buyer whose map is timed")
    parser.add_argument("--runs", type=int, default=3, help="fresh `laborgraph map` processes")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--whole", action="store_true", help="also time the map of every buyer (CLI and /map)"
    )
    args = parser.parse_args()
    env = store_env(args)
    figures: dict[str, Any] = {"machine": machine_info(), "git": git_info(), "buyer": args.buyer}
    with TemporaryDirectory() as scratch:
        figures["cli_map"] = time_cli_map(env, args.buyer, args.runs, Path(scratch))
        say(f"laborgraph map --viewpoint {args.buyer}: {figures['cli_map']}")
        if args.whole:
            figures["cli_whole_map"] = time_cli_map(env, None, args.runs, Path(scratch))
            say(f"laborgraph map: {figures['cli_whole_map']}")
        server = start_server(env, Path(scratch) / "server.log", workers=1)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    pages = [serve_and_open(browser, server.base_url, "/")]
                    pages.append(
                        serve_and_open(
                            browser, server.base_url, "/map?" + urlencode({"viewpoint": args.buyer})
                        )
                    )
                    chain = pages[-1]
                    if chain["first_group"]:
                        opened = "/map?" + urlencode(chain["first_group"])
                        pages.append(serve_and_open(browser, server.base_url, opened))
                    if chain["busiest_region"]:
                        region = {"viewpoint": args.buyer, **chain["busiest_region"]}
                        pages.append(serve_and_open(browser, server.base_url, "/map?" + urlencode(region)))
                    if args.whole:
                        pages.append(serve_and_open(browser, server.base_url, "/map"))
                finally:
                    browser.close()
        finally:
            stop_server(server)
    figures["pages"] = pages
    say(f"{'page':<60} {'bytes':>10} {'cold s':>7} {'warm s':>7} {'ready s':>8} {'nodes':>6} errors")
    for found in pages:
        trouble = len(found["console_errors"]) + len(found["requests_outside"])
        say(
            f"{found['path'][:60]:<60} {found['bytes']:>10,} {found['cold_s']:>7.2f} {found['warm_s']:>7.2f}"
            f" {found['interactive_s']:>8.2f} {found['nodes']:>6} {trouble}"
        )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = args.out or RESULTS / f"pages-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    say(f"wrote {out}")


if __name__ == "__main__":
    main()

"""The `laborgraph` command line. All terminal output of the project goes through here."""

from __future__ import annotations

import inspect
import json
import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import BaseModel, SecretStr, ValidationError
from rich.console import Console
from rich.markup import escape as escape_markup
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from laborgraph.app.auth import Scope, new_key, new_write_token
from laborgraph.app.questions import DEFAULT_PAGE, Questions
from laborgraph.app.report import buyer_report
from laborgraph.app.settings import Settings
from laborgraph.app.stores import open_store
from laborgraph.examples import AI_SUPPLY_CHAIN, AI_SUPPLY_CHAIN_REVIEW_2
from laborgraph.graph.analysis.changes import describe_evidence, describe_fact
from laborgraph.graph.analysis.gaps import DIMENSIONS, GapKind
from laborgraph.graph.analysis.influence import BuyerFragmentation, UnitsPerCohort
from laborgraph.graph.analysis.paths import PathQuery, RiskPath
from laborgraph.graph.analysis.scorecards import PrincipleScore, Scorecard
from laborgraph.graph.collector import collect_less_often
from laborgraph.graph.errors import ConfigError, GraphError, InvalidBundle, StoreUnavailable
from laborgraph.graph.revisions import MAX_LABEL, MAX_REASON, WriteNote
from laborgraph.graph.store import DEFAULT_DEPTH, MAX_DEPTH, GraphStore
from laborgraph.graph.vocabulary import ActionKind, ActionStatus, Dimension, Effect, EvidenceGrade
from laborgraph.ingest import load
from laborgraph.ingest.actions import add_action, update_action
from laborgraph.visualize.export import (
    CsvExporter,
    PathExporter,
    XlsxExporter,
    export_paths,
    stream_actions_csv,
    stream_changes_csv,
    stream_scorecards_csv,
    write_changes_xlsx,
    write_scorecards_xlsx,
)
from laborgraph.visualize.graph_elements import Element
from laborgraph.visualize.graph_formats import GraphChanged, GraphFormat, write_graph, write_graph_in_two
from laborgraph.visualize.map import DEFAULT_FOCUS_DEPTH, MAX_PATHS, map_region
from laborgraph.visualize.render import render_map_html
from laborgraph.visualize.report import render_report_html

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
BUYERS_SHOWN = 5  # buyers whose units fragmentation prints, those reaching most workers first
SHOWN_PER_PRINCIPLE = 5  # conditions, and shortfalls, a scorecard's table shows of each principle

cli = typer.Typer(
    help="Map AI data-work supply chains and trace which decisions affect which worker conditions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# Piped into a file or another program, a table keeps each row on one line, ids whole:
# as wide as its cells need, not folded to 80 columns. A terminal gets its own width.
out = Console(width=None if sys.stdout.isatty() else 100_000)
err = Console(stderr=True)

# Exit codes: 0 ok, 1 rejected input or unknown id, 2 usage (typer), 3 store unavailable.
EXIT_INVALID, EXIT_UNAVAILABLE = 1, 3


def load_settings() -> Settings:
    """The settings from the environment; a bad value is a clear message and exit code 1."""
    try:
        return Settings()
    except ValidationError as exc:
        for problem in exc.errors():
            variable = problem["loc"][0] if problem["loc"] else "settings"
            err.print(f"[red]configuration error:[/] {plain(str(variable))}: {plain(problem['msg'])}")
        raise typer.Exit(EXIT_INVALID) from None


@contextmanager
def opened_store(settings: Settings | None = None) -> Iterator[GraphStore]:
    """Open the configured store and turn laborgraph's errors into messages and exit codes."""
    with _translated_errors():
        store = open_store(settings or load_settings())
        try:
            yield store
        finally:
            store.close()


@contextmanager
def _translated_errors() -> Iterator[None]:
    """laborgraph's errors as messages and exit codes."""
    try:
        yield
    except OSError as exc:  # an output file that cannot be written, a bundle that cannot be read
        err.print(f"[red]error:[/] {plain(str(exc))}")
        raise typer.Exit(EXIT_INVALID) from None
    except InvalidBundle as exc:
        for issue in exc.errors:
            err.print(f"[red]error[/]   {plain(str(issue))}", highlight=False)
        for issue in exc.warnings:
            err.print(f"[yellow]warning[/] {plain(str(issue))}", highlight=False)
        err.print(f"[red]{plain(str(exc))}[/]")
        raise typer.Exit(EXIT_INVALID) from None
    except StoreUnavailable as exc:
        err.print(f"[red]store unavailable:[/] {plain(str(exc))}")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    except ValidationError as exc:  # a stored record edited by hand, or written by a newer release
        first = exc.errors()[0]
        detail = f"{exc.title}: {first['msg']} (input {str(first.get('input'))[:80]})"
        err.print(f"[red]store unreadable:[/] it holds a record this release cannot read: {plain(detail)}")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    except GraphError as exc:
        err.print(f"[red]error:[/] {plain(str(exc))}")
        raise typer.Exit(EXIT_INVALID) from None


# Control characters (C0 but newline and tab, DEL, C1) and bidirectional overrides in data
# could clear the screen, forge links (OSC 8) or reorder what a line says: they are shown as
# escapes instead, e.g. \x1b.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(char: re.Match[str]) -> str:
    code = ord(char.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plain(text: str) -> str:
    """``text`` as the terminal should show it: never read as markup, never as control codes."""
    return escape_markup(_UNSAFE.sub(_visible, text))


def _add_row(table: Table, *cells: str) -> None:
    """A table row whose text is shown as it is, never read as markup or control codes."""
    table.add_row(*(plain(cell) for cell in cells))


@contextmanager
def _atomic_target(target: Path) -> Iterator[Path]:
    """The path to write ``target``'s new content to: it becomes ``target`` only if the block
    ends without error; an old file is kept otherwise.

    A symbolic link is written through (the file it points to is replaced); a device or a
    pipe (``/dev/stdout``) is itself the path, written to as the content comes."""
    target = target.resolve() if target.is_symlink() else target
    if target.exists() and not target.is_file():
        if target.is_dir():
            raise OSError(f"cannot write {target}: it is a folder")
        yield target
        return
    partial = target.with_name(f".{target.name}.partial")
    try:
        yield partial
        os.replace(partial, target)
    except OSError as exc:
        raise OSError(f"cannot write {target}: {exc.strerror or exc}") from exc
    finally:
        partial.unlink(missing_ok=True)


def _write_atomically(target: Path, chunks: Iterable[str]) -> None:
    """Write ``chunks`` to ``target`` only if all of them come (see ``_atomic_target``)."""
    with _atomic_target(target) as path, open(path, "w", encoding="utf-8", newline="") as sink:
        sink.writelines(chunks)


_Item = TypeVar("_Item")


@contextmanager
def _counting(what: str, total: int | None = None) -> Iterator[Callable[[Iterable[_Item]], Iterator[_Item]]]:
    """A bar on a terminal's stderr for the items of a long export as they pass: how many (of
    how many), how fast and, when the total is known, the time left. Nothing elsewhere."""
    with _stderr_bar(per_second=None) as bar:
        task = bar.add_task(f"writing {what}", total=total)

        def counted(items: Iterable[_Item]) -> Iterator[_Item]:
            if bar.disable:  # counting adds a step to each of millions: only where someone watches
                yield from items
                return
            n = 0
            for n, item in enumerate(items, 1):
                if n % 1_000 == 0:
                    bar.update(task, completed=n)
                yield item
            bar.update(task, completed=n)

        yield counted


def _stderr_bar(per_second: str | None) -> Progress:
    """A progress display on a terminal's stderr (none elsewhere): each task's description,
    bar, count, speed, elapsed time and time left."""
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        Counted(),
        PerSecond(per_second),
        TimeElapsedColumn(),
        TimeLeft(),
    )
    return Progress(*columns, console=err, transient=True, disable=not err.is_terminal)


class Counted(ProgressColumn):
    """How many a stage has done, of how many when it knows."""

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text(f"{task.completed:,.0f}" if task.completed else "")
        return Text(f"{task.completed:,.0f}/{task.total:,.0f}", style="progress.download")


class TimeLeft(ProgressColumn):
    """The time a stage has left, once it knows how much it has to do."""

    def render(self, task: Task) -> Text:
        if task.total is None or task.time_remaining is None:
            return Text("")
        return Text(f"{timedelta(seconds=round(task.time_remaining))} left", style="progress.remaining")


class PerSecond(ProgressColumn):
    """How fast a stage that counts rows (or other items) goes."""

    def __init__(self, items: str | None = "rows") -> None:
        """``items`` names what is counted: "rows/s", or "/s" alone after a stage that names them."""
        super().__init__()
        self.per_second = f" {items}/s" if items else "/s"

    def render(self, task: Task) -> Text:
        if not task.speed:
            return Text("")
        return Text(f"{task.speed:,.0f}{self.per_second}", style="progress.data.speed")


@contextmanager
def _progress() -> Iterator[load.Progress]:
    """An ingest's stages and rows, on a terminal's stderr."""
    with _stderr_bar(per_second="rows") as bar:
        stage = [bar.add_task("reading", total=None)]

        def start(description: str, total: int | None) -> None:
            bar.remove_task(stage[0])  # each stage its own count, speed and time
            stage[0] = bar.add_task(description, total=total)

        yield load.Progress(start=start, advance=lambda n: bar.advance(stage[0], n))


def _ingest(store: GraphStore, path: Path, settings: Settings, label: str | None = None) -> load.IngestReport:
    """Load the bundle, then work out the whole-graph answers users ask first."""
    with _progress() as progress:
        note = WriteNote(label=label, writer="cli")
        report = load.ingest_path(store, path, progress, settings.bundle_limits("cli"), note)
        progress.start("summarising gaps and fragmentation", None)
        try:
            Questions(store, settings).warm()
        except GraphError as exc:  # the bundle is written: the first question works it out instead
            err.print(f"[yellow]warning[/] could not summarise the new graph yet: {plain(str(exc))}")
        return report


def _print_report(report: load.IngestReport) -> None:
    for issue in report.warnings:
        err.print(f"[yellow]warning[/] {plain(str(issue))}", highlight=False)
    counts = ", ".join(f"{n} {section}" for section, n in report.counts.items() if n)
    out.print(f"ingested into the {report.store} store: {counts or 'nothing'}", highlight=False)
    pace = f" ({report.rows_per_second():,.0f} rows/s)" if report.seconds >= 1 else ""
    out.print(f"{report.rows:,} rows validated and written in {report.seconds:,.1f} s{pace}", highlight=False)
    made = report.revision
    if made is None:
        out.print("nothing changed: the graph already holds all of it (no new revision)", highlight=False)
    else:
        changed = ", ".join(f"{n} {what}" for what, n in made.counts.items() if n)
        label = f" ({plain(made.label)})" if made.label else ""
        out.print(f"revision {made.number}{label}: {changed}", highlight=False)


@cli.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A bundle: folder of CSV files, .zip or .json.")],
    label: Annotated[str | None, typer.Option(help='Name the revision, e.g. "2026-Q3 review".')] = None,
    bulk: Annotated[
        bool,
        typer.Option(
            "--bulk",
            help="Into a new Neo4j database, with neo4j-admin import; the server must be stopped.",
        ),
    ] = False,
    neo4j_home: Annotated[
        str | None, typer.Option(help="With --bulk: the Neo4j installation (default $NEO4J_HOME).")
    ] = None,
) -> None:
    """Load a bundle; prints counts, warnings and every error. Writes nothing if any error."""
    if label is not None and not 0 < len(label.strip()) <= MAX_LABEL:
        err.print(f"[red]error:[/] --label takes 1 to {MAX_LABEL} characters")
        raise typer.Exit(EXIT_INVALID)
    settings = load_settings()
    if bulk:
        _bulk_ingest(path, settings, label, neo4j_home or settings.neo4j_home)
        return
    with opened_store(settings) as store:
        _print_report(_ingest(store, path, settings, label))


def _bulk_ingest(path: Path, settings: Settings, label: str | None, home: str) -> None:
    from laborgraph.graph.neo4j_bulk import find_install, server_answers
    from laborgraph.ingest.bulk import bulk_ingest

    if settings.store != "neo4j":
        err.print("[red]error:[/] --bulk loads a Neo4j database: set LABORGRAPH_STORE=neo4j (and NEO4J_HOME)")
        raise typer.Exit(EXIT_INVALID)
    with _translated_errors():
        install = find_install(home, settings.neo4j_admin)
        running = server_answers(settings.neo4j_uri)
        with _progress() as progress:
            report = bulk_ingest(
                path,
                install,
                settings.neo4j_database,
                server_answers=running,
                uri=settings.neo4j_uri,
                progress=progress,
                limits=settings.bundle_limits("cli"),
                note=WriteNote(label=label, writer="cli"),
            )
        _print_report(report)
        out.print("start the Neo4j server now; its first connection creates the indexes", highlight=False)


@cli.command()
def settle() -> None:
    """Undo an ingest that was interrupted (the Neo4j store writes a bundle in batches).

    Run it only when no ingest is running. The graph is left as it was before that ingest;
    ingest the bundle again afterwards."""
    with opened_store() as store:
        undone = store.settle()
    if undone is None:
        out.print("nothing to settle: no ingest was left unfinished", highlight=False)
    else:
        label = f" ({plain(undone.label)})" if undone.label else ""
        out.print(
            f"undid revision {undone.revision}{label}, started {undone.started:%Y-%m-%d %H:%M:%S} UTC:"
            " the graph is as it was before it; ingest its bundle again to load it",
            highlight=False,
        )


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes answering requests.")] = 1,
) -> None:
    """Serve the HTTP API and the map pages."""
    _serve(load_settings(), host, port, workers)


@cli.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Load the example, do not serve.")] = False,
) -> None:
    """Load the bundled example chain into the configured store and serve it."""
    settings = load_settings()
    with opened_store(settings) as store:
        where = f"the {store.backend} store at {store.describe()}"
        out.print(f"loading the example chain into {where}", highlight=False)
        _print_report(_ingest(store, AI_SUPPLY_CHAIN, settings))
    _print_next_steps()
    if not no_serve:
        _serve(settings, host, port)


def _print_next_steps() -> None:
    """The commands to try next, runnable as printed from where the user stands."""
    command = "laborgraph"
    if shutil.which("laborgraph") is None:  # not on PATH: name the venv's own copy
        installed = Path(sys.argv[0]).resolve()
        command = os.path.relpath(installed) if installed.is_relative_to(Path.cwd()) else str(installed)
    out.print("next, in another terminal:", highlight=False)
    for example in (
        "paths --from org-halcyon --limit 10",
        "influencers coh-savanna-ke-moderators",
        "map --focus org-tessera -o tessera.html",
        f'ingest {shlex.quote(str(AI_SUPPLY_CHAIN_REVIEW_2))} --label "2026-Q1 review"',
        "changes",
        "actions",
        "report --buyer org-nimbus -o nimbus.html",
    ):
        out.print(f"  {command} {example}", highlight=False)


def _serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    from laborgraph.app.auth import KeyRing
    from laborgraph.app.main import create_app

    made_token = ""
    try:
        keys = KeyRing.from_setting(settings.api_keys, settings.write_token.get_secret_value())
        if keys.open and not settings.write_token.get_secret_value():
            made_token = new_write_token()
            os.environ["LABORGRAPH_WRITE_TOKEN"] = made_token  # worker processes read the environment
            settings = settings.model_copy(update={"write_token": SecretStr(made_token)})
        app = create_app(settings)
    except ConfigError as exc:
        err.print(f"[red]configuration error:[/] {plain(str(exc))}")
        raise typer.Exit(EXIT_INVALID) from None
    if keys.open and host not in LOOPBACK:
        err.print(
            f"[red]refusing to listen on {host}: no API keys are configured.[/] "
            "Set LABORGRAPH_API_KEYS (see `laborgraph keys new`) or listen on 127.0.0.1."
        )
        raise typer.Exit(EXIT_INVALID)
    if keys.open:
        err.print("no API keys configured: listening on loopback only, every caller may read everything")
        token = made_token or "the one in LABORGRAPH_WRITE_TOKEN"
        err.print(f"uploads need the write token: {token}", highlight=False, markup=False)
    out.print(f"laborgraph on http://{host}:{port}/  (API docs at /docs)", highlight=False)
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    else:  # each worker process builds its own app from the same environment
        uvicorn.run(
            "laborgraph.app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
        )


keys_cli = typer.Typer(help="API keys for `laborgraph serve`.", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")


@keys_cli.command("new")
def new_key_command(
    name: Annotated[str, typer.Argument(help="Who the key is for, e.g. analyst or dashboard.")],
    scope: Annotated[
        Scope, typer.Option(help="read: questions; write: also ingest; admin: also small cohorts.")
    ] = Scope.read,
) -> None:
    """Make an API key: prints the key once, and the entry to add to LABORGRAPH_API_KEYS."""
    try:
        key, entry = new_key(name, scope)
    except ConfigError as exc:
        err.print(f"[red]error:[/] {plain(str(exc))}")
        raise typer.Exit(EXIT_INVALID) from None
    out.print(f"key (give it to {name}; it is not stored anywhere): {key}", highlight=False, soft_wrap=True)
    out.print(
        f"LABORGRAPH_API_KEYS entry (only its SHA-256 is kept): {entry}", highlight=False, soft_wrap=True
    )


# -- questions -------------------------------------------------------------------------

ShowSmall = Annotated[
    bool, typer.Option("--show-small", help="Show cohorts below the minimum headcount unsuppressed.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Depth = Annotated[
    int, typer.Option(min=1, max=MAX_DEPTH, help="Links to follow below where a decision applies.")
]


AsOf = Annotated[
    int | None, typer.Option("--as-of", min=1, help="Answer as the graph stood at this revision.")
]
Offset = Annotated[int, typer.Option(min=0, help="Rows to skip before the first one listed.")]
PageLimit = Annotated[int, typer.Option(min=0, help="List at most this many rows; 0 for all.")]


def _page_note(shown: int, offset: int, total: int, what: str) -> None:
    """Which rows of how many were listed, and how to see the others."""
    if total == 0:
        return
    first, last = offset + 1, offset + shown
    note = f"{what} {first:,}-{last:,} of {total:,}" if shown else f"no {what} past {offset:,} (of {total:,})"
    if last < total:
        note += f"; --offset {last} for the next ones, --limit 0 for all"
    out.print(note, highlight=False)


@contextmanager
def questions(show_small: bool = False, as_of: int | None = None) -> Iterator[Questions]:
    settings = load_settings()
    with opened_store(settings) as store:
        _warn_if_unfinished(store)
        yield Questions(store, settings, show_small=show_small).as_of(as_of)


def _warn_if_unfinished(store: GraphStore) -> None:
    """A question asked while a write is unfinished answers, and says it may hold part of it."""
    if (mark := store.unfinished_write()) is not None:
        err.print(f"[yellow]warning:[/] {plain(mark.describe())}", highlight=False)


def _print_json(model: BaseModel) -> None:
    """The answer as the API sends it (the same document), indented."""
    text = model.model_dump_json(indent=2)
    out.print_json(text) if out.is_terminal else sys.stdout.write(text + "\n")


@cli.command("paths")
def paths_command(
    origin: Annotated[str | None, typer.Option("--from", help="A unit, decision or organization id.")] = None,
    target: Annotated[str | None, typer.Option("--to", help="A cohort id, or cohort_id/dimension.")] = None,
    dimension: Annotated[Dimension | None, typer.Option(help="Only this condition dimension.")] = None,
    min_severity: Annotated[int, typer.Option(min=1, max=5, help="Only paths at least this severe.")] = 1,
    country: Annotated[str | None, typer.Option(help="Only cohorts in this country (ISO alpha-2).")] = None,
    project: Annotated[str | None, typer.Option(help="Only paths on this project.")] = None,
    depth: Depth = DEFAULT_DEPTH,
    limit: PageLimit = DEFAULT_PAGE,
    offset: Offset = 0,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Write the paths as CSV to FILE.")] = None,
    xlsx_file: Annotated[
        Path | None, typer.Option("--xlsx", help="Write the paths as a spreadsheet (.xlsx) to FILE.")
    ] = None,
    as_json: AsJson = False,
    show_small: ShowSmall = False,
    as_of: AsOf = None,
) -> None:
    """Ranked risk paths: whose decisions reach which worker conditions, worst first."""
    query = PathQuery(
        origin=origin,
        target=target,
        dimension=dimension,
        min_severity=min_severity,
        country=country,
        project=project,
        depth=depth,
        offset=offset,
        limit=limit or None,
    )
    with questions(show_small, as_of) as ask:
        if csv_file or xlsx_file:
            files = [file for file in (csv_file, xlsx_file) if file]
            written = _export_paths(ask.risk_paths(query), csv_file, xlsx_file)
            out.print(f"wrote {written} paths to {' and '.join(map(str, files))}", highlight=False)
            return
        page = ask.path_page(query, offset, limit or None)
    if as_json:
        _print_json(page)
        return
    listed = page.items
    table = Table(title=plain(f"{len(listed)} risk paths"), title_justify="left", show_lines=False)
    for column in ("#", "sev", "lik", "conf", "decision (unit)", "chain", "cohort", "dimension", "tier"):
        table.add_column(column, overflow="fold")
    for p in listed:
        _add_row(
            table,
            str(p.rank),
            str(p.severity),
            f"{p.likelihood:g}",
            f"{p.confidence:.2f}",
            f"{p.decision_id} ({p.unit_name}, {p.buyer_name})",
            " > ".join(p.organizations),
            f"{p.cohort_name} [{p.country}, {p.headcount if p.headcount is not None else '?'}]",
            f"{p.dimension.value} {p.status.value}",
            str(p.tier) if p.tier is not None else "-",
        )
    out.print(table)
    if page.next_offset is not None:
        out.print(
            f"paths {offset + 1:,}-{page.next_offset:,}; --offset {page.next_offset} for the next ones,"
            " --limit 0 for all",
            highlight=False,
        )


def _export_paths(paths: Iterator[RiskPath], csv_file: Path | None, xlsx_file: Path | None) -> int:
    """Write the paths to each file given, each file whole or not at all; how many paths."""
    with ExitStack() as files:
        exporters: list[PathExporter] = []
        if csv_file:
            path = files.enter_context(_atomic_target(csv_file))
            sink = files.enter_context(open(path, "w", encoding="utf-8", newline=""))
            exporters.append(CsvExporter(sink))
        if xlsx_file:
            exporters.append(XlsxExporter(files.enter_context(_atomic_target(xlsx_file))))
        with _counting("paths") as counted:
            return export_paths(counted(paths), exporters)


@cli.command("tiers")
def tiers_command(
    org_id: Annotated[str, typer.Argument(help="The viewpoint organization.")],
    limit: PageLimit = DEFAULT_PAGE,
    offset: Offset = 0,
    as_json: AsJson = False,
    show_small: ShowSmall = False,
    as_of: AsOf = None,
) -> None:
    """What each tier below an organization holds, then its organizations and cohorts by tier."""
    with questions(show_small, as_of) as ask:
        found = ask.tiers(org_id, offset, limit or None)
    if as_json:
        _print_json(found)
        return
    summary = Table(
        title=plain(f"Tiers below {found.viewpoint_name} ({found.viewpoint})"), title_justify="left"
    )
    for column in ("tier", "organizations", "cohorts", "workers"):
        summary.add_column(column, justify="right")
    for t in found.tiers:
        _add_row(summary, str(t.tier), f"{t.organizations:,}", f"{t.cohorts:,}", f"{t.workers:,}")
    out.print(summary)
    countries = ", ".join(f"{c.country} {c.workers:,}" for c in found.countries[:10])
    more = f" and {len(found.countries) - 10} more" if len(found.countries) > 10 else ""
    out.print(plain(f"workers by country: {countries}{more}"), highlight=False)
    table = Table()
    for column in ("tier", "id", "name", "kind", "country", "workers", "via"):
        table.add_column(column, overflow="fold")
    for e in found.entries:
        kind = "|".join(e.kinds) if e.kinds else e.entity.value
        via = f"{e.link} from {e.via}" if e.via else ""
        _add_row(
            table,
            str(e.tier),
            e.id,
            e.name,
            kind,
            e.country,
            "" if e.headcount is None else str(e.headcount),
            via,
        )
    out.print(table)
    _page_note(len(found.entries), offset, found.total, "entries")


@cli.command("influencers")
def influencers_command(
    target: Annotated[str, typer.Argument(help="A cohort id, or cohort_id/dimension for one condition.")],
    depth: Depth = DEFAULT_DEPTH,
    limit: PageLimit = DEFAULT_PAGE,
    offset: Offset = 0,
    as_json: AsJson = False,
    show_small: ShowSmall = False,
    as_of: AsOf = None,
) -> None:
    """Which units, in which organizations, through which decisions and chains, affect a cohort."""
    with questions(show_small, as_of) as ask:
        found = ask.influencers(target, depth)
    listed = found.influencers[offset : offset + limit if limit else None]
    if as_json:
        _print_json(found.model_copy(update={"influencers": listed}))
        return
    table = Table(
        title=plain(f"{found.units} units in {found.organizations} organizations affect {found.cohort_name}"),
        title_justify="left",
        show_lines=True,
    )
    for column in ("worst sev", "unit (organization)", "decision", "chain", "dimensions"):
        table.add_column(column, overflow="fold")
    for i in listed:
        for r in i.routes:
            effects = ", ".join(
                f"{e.dimension.value}: {e.status.value if e.status else 'unrecorded'}" for e in r.effects
            )
            _add_row(
                table,
                str(i.worst_severity or "-"),
                f"{i.unit_name} ({i.organization_name})",
                f"{r.decision_id} [{r.lever.value}]",
                "\n".join(" > ".join(c) for c in r.chains),
                effects,
            )
    out.print(table)
    _page_note(len(listed), offset, found.units, "units")


@cli.command("gaps")
def gaps_command(
    kind: Annotated[GapKind | None, typer.Option(help="Only gaps of this kind.")] = None,
    dimension: Annotated[Dimension | None, typer.Option(help="Only gaps on this dimension.")] = None,
    limit: PageLimit = DEFAULT_PAGE,
    offset: Offset = 0,
    as_json: AsJson = False,
    show_small: ShowSmall = False,
    as_of: AsOf = None,
) -> None:
    """Visibility gaps: how many of each kind, then the first ones (unknown or unrecorded
    conditions, stale or missing evidence, dead ends, idle decisions)."""
    with questions(show_small, as_of) as ask:
        found = ask.gaps(kind, dimension, offset, limit or None)
    if as_json:
        _print_json(found)
        return
    summary = Table(title=plain(f"{found.total:,} visibility gaps"), title_justify="left")
    for column in ("kind", "gaps", *(d.value for d in DIMENSIONS)):
        summary.add_column(column, justify="right" if column != "kind" else "left")
    by_dimension = {(c.kind, c.dimension): c.count for c in found.counts}
    for gap_kind in GapKind:
        if (gap_kind, None) in by_dimension:
            cells = [
                f"{by_dimension.get((gap_kind, d), 0):,}" if (gap_kind, d) in by_dimension else ""
                for d in DIMENSIONS
            ]
            _add_row(summary, gap_kind.value, f"{by_dimension[gap_kind, None]:,}", *cells)
    out.print(summary)
    if not found.items:
        return
    table = Table(show_lines=False)
    for column in ("kind", "entity", "dimension", "detail"):
        table.add_column(column, overflow="fold")
    for g in found.items:
        _add_row(table, g.kind.value, f"{g.entity_name} ({g.entity_id})", g.dimension or "", g.detail)
    out.print(table)
    _page_note(len(found.items), offset, found.total, "gaps")


@cli.command("fragmentation")
def fragmentation_command(
    limit: PageLimit = DEFAULT_PAGE,
    offset: Offset = 0,
    as_json: AsJson = False,
    show_small: ShowSmall = False,
) -> None:
    """How many units and organizations affect each cohort (most first); which buyer units
    reach most workers."""
    with questions(show_small) as ask:
        found = ask.fragmentation(offset, limit or None)
    if as_json:
        _print_json(found)
        return
    spread = ", ".join(f"{units}: {cohorts:,}" for units, cohorts in _spread(found.units_per_cohort))
    out.print(
        plain(f"{found.total:,} cohorts; cohorts by how many units reach them: {spread}"), highlight=False
    )
    cohorts = Table(title=plain("Decision-makers per cohort, most first"), title_justify="left")
    for column in ("cohort", "workers", "units", "organizations"):
        cohorts.add_column(column, overflow="fold")
    for c in found.cohorts:
        _add_row(
            cohorts,
            f"{c.cohort_name} ({c.cohort_id})",
            str(c.headcount or "?"),
            str(c.units),
            str(c.organizations),
        )
    out.print(cohorts)
    _page_note(len(found.cohorts), offset, found.total, "cohorts")
    reaching_most = sorted(found.buyers, key=_most_workers_reached)
    for buyer in reaching_most[:BUYERS_SHOWN]:
        units = Table(title=plain(f"{buyer.buyer_name}: workers reached per unit"), title_justify="left")
        for column in ("unit", "function", "cohorts", "workers"):
            units.add_column(column)
        for u in buyer.units:
            _add_row(units, u.unit_name, u.function.value, f"{u.cohorts:,}", f"{u.workers:,}")
        out.print(units)
    if len(found.buyers) > BUYERS_SHOWN:
        more = len(found.buyers) - BUYERS_SHOWN
        out.print(f"and {more:,} more buyers, whose units reach fewer workers; --json lists every one")


def _most_workers_reached(buyer: BuyerFragmentation) -> tuple[int, str]:
    return -max((u.workers for u in buyer.units), default=0), buyer.buyer_id


def _spread(counts: list[UnitsPerCohort]) -> list[tuple[str, int]]:
    """How many cohorts that many units reach: each count, or past a dozen, in ranges
    (0, 1, 2, 3-5, 6-10, 11-20, 21-50, ...) that a line can hold."""
    if len(counts) <= 12:
        return [(str(c.units), c.cohorts) for c in counts]
    bounds = [0, 1, 2, 3, 6, 11, 21, 51]
    while bounds[-1] <= counts[-1].units:
        bounds.append((bounds[-3] - 1) * 10 + 1)  # 101, 201, 501, 1001, ...
    ranges: dict[str, int] = {}
    for c in counts:
        low = max(b for b in bounds if b <= c.units)
        high = bounds[bounds.index(low) + 1] - 1
        name = str(low) if low == high else f"{low}-{high}"
        ranges[name] = ranges.get(name, 0) + c.cohorts
    return list(ranges.items())


# -- reviews -------------------------------------------------------------------------


@cli.command("revisions")
def revisions_command(as_json: AsJson = False) -> None:
    """Every revision of the graph: number, when, label, what changed, who wrote it."""
    with questions() as ask:
        found = ask.revisions()
    if as_json:
        sys.stdout.write(json.dumps([r.model_dump(mode="json") for r in found], indent=2) + "\n")
        return
    if not found:
        out.print("no revisions yet: ingest a bundle first", highlight=False)
        return
    table = Table(title=plain(f"{len(found)} revisions"), title_justify="left")
    for column in ("#", "at (UTC)", "label", "changed", "writer", "bundle sha256"):
        table.add_column(column, overflow="fold")
    for r in found:
        changed = ", ".join(f"{n} {what}" for what, n in r.counts.items() if n)
        _add_row(table, str(r.number), r.at.strftime("%Y-%m-%d %H:%M"), r.label or "", changed, r.writer,
                 r.digest[:12])  # fmt: skip
    out.print(table)


@cli.command("retract")
def retract_command(
    fact_id: Annotated[
        str,
        typer.Argument(
            help="An entity id, a condition cohort_id/dimension, or a link from_id|TYPE|to_id|project."
        ),
    ],  # fmt: skip
    reason: Annotated[str, typer.Option(help="Why it is wrong; kept in the history.")],
) -> None:
    """Take a wrong fact out of every answer; the history keeps it with the reason. An
    organization takes its units, their decisions, the decisions applying to it and its
    links with it; a cohort its conditions and links."""
    if not 0 < len(reason.strip()) <= MAX_REASON:
        err.print(f"[red]error:[/] --reason takes 1 to {MAX_REASON} characters: say why the fact is wrong")
        raise typer.Exit(EXIT_INVALID)
    settings = load_settings()
    with opened_store(settings) as store:
        written = load.retract(store, fact_id, reason.strip(), WriteNote(writer="cli"))
        for cohort in written.orphaned_cohorts:
            err.print(f"[yellow]warning[/] {plain(str(load.orphan_warning(cohort)))}", highlight=False)
        made = written.revision
        assert made is not None
        out.print(f"retracted {plain(fact_id)} in revision {made.number}: {made.counts['retracted']} facts",
                  highlight=False)  # fmt: skip


@cli.command("history")
def history_command(
    fact_id: Annotated[str, typer.Argument(help="An entity id, or a condition cohort_id/dimension.")],
    as_json: AsJson = False,
    show_small: ShowSmall = False,
) -> None:
    """Every value a fact has held, with the revisions between which it held, retractions
    with their reasons, and a condition's observations."""
    with questions(show_small) as ask:
        found = ask.history(fact_id)
    if as_json:
        _print_json(found)
        return
    table = Table(title=plain(f"history of {fact_id}"), title_justify="left")
    for column in ("from rev", "until rev", "value", "evidence"):
        table.add_column(column, overflow="fold")
    for v in found.versions:
        ended = (
            "" if v.until is None else str(v.until) + (f" retracted: {v.retracted}" if v.retracted else "")
        )
        _add_row(table, str(v.since), ended or "now", describe_fact(v.record), describe_evidence(v.record))
    out.print(table)
    if found.observations:
        observed = Table(title="observations", title_justify="left")
        for column in ("observed", "value", "current", "revision"):
            observed.add_column(column, overflow="fold")
        for o in found.observations:
            day = o.condition.observed_at.isoformat() if o.condition.observed_at else "undated"
            _add_row(observed, day, describe_fact(o.condition), "yes" if o.current else "", str(o.revision))
        out.print(observed)


@cli.command("changes")
def changes_command(
    start: Annotated[
        int | None,
        typer.Option(
            "--from", min=0, help="The earlier revision (default: the one before --to; 0: before any)."
        ),
    ] = None,
    end: Annotated[
        int | None, typer.Option("--to", min=1, help="The later revision (default: the newest).")
    ] = None,
    buyer: Annotated[str | None, typer.Option(help="Only what touches this buyer's chain.")] = None,
    unchanged: Annotated[
        bool, typer.Option("--unchanged", help="List the risk paths a change could have moved but did not.")
    ] = False,
    limit: PageLimit = DEFAULT_PAGE,
    offset: Offset = 0,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Write every change as CSV to FILE.")] = None,
    xlsx_file: Annotated[
        Path | None, typer.Option("--xlsx", help="Write every change as a spreadsheet (.xlsx) to FILE.")
    ] = None,
    as_json: AsJson = False,
    show_small: ShowSmall = False,
) -> None:
    """What changed between two reviews: risk paths new, worse, better, resolved; conditions
    changed; entities and links added or retracted. Worst news first."""
    every = bool(csv_file or xlsx_file)
    with questions(show_small) as ask:
        found = ask.changes(
            start, end, buyer, 0 if every else offset, None if every else limit or None, unchanged
        )
    if every:
        if csv_file:
            _write_atomically(csv_file, stream_changes_csv(found.items))
        if xlsx_file:
            with _atomic_target(xlsx_file) as path:
                write_changes_xlsx(found.items, path)
        files = " and ".join(str(file) for file in (csv_file, xlsx_file) if file)
        out.print(f"wrote {found.total} changes to {files}", highlight=False)
        return
    if as_json:
        _print_json(found)
        return
    counted = ", ".join(f"{n} {what.replace(':', ' ')}" for what, n in found.counts.items())
    title = f"changes from revision {found.from_revision} to {found.to_revision}: {counted or 'none'}"
    table = Table(title=plain(title), title_justify="left")
    for column in ("change", "kind", "what", "before", "after", "rev", "evidence"):
        table.add_column(column, overflow="fold")
    for c in found.items:
        what = f"{c.decision_id} > {c.cohort_id}/{c.dimension}" if c.kind == "risk_path" else c.id or ""
        _add_row(table, c.change, c.kind, what, c.before or "", c.after or "", str(c.revision), c.evidence)
    out.print(table)
    _page_note(len(found.items), offset, found.total, "changes")


def _export_scorecards(
    cards: Callable[[], Iterator[Scorecard]], total: int, csv_file: Path | None, xlsx_file: Path | None
) -> tuple[int, str]:
    """The ``total`` scorecards to each file given, each whole or not at all; how many, and the files."""
    written = 0

    def counted() -> Iterator[Scorecard]:
        nonlocal written
        written = 0
        with _counting("scorecards", total) as shown:
            for card in shown(cards()):
                written += 1
                yield card

    if csv_file:
        _write_atomically(csv_file, stream_scorecards_csv(counted()))
    if xlsx_file:
        with _atomic_target(xlsx_file) as path:
            write_scorecards_xlsx(counted(), path)
    return written, " and ".join(str(file) for file in (csv_file, xlsx_file) if file)


@cli.command("scorecard")
def scorecard_command(
    org_id: Annotated[str | None, typer.Argument(help="One organization; without it, every one.")] = None,
    limit: PageLimit = DEFAULT_PAGE,
    offset: Offset = 0,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Write one row per organization and principle to FILE.")
    ] = None,
    xlsx_file: Annotated[
        Path | None, typer.Option("--xlsx", help="Write the same rows as a spreadsheet (.xlsx) to FILE.")
    ] = None,
    as_json: AsJson = False,
    show_small: ShowSmall = False,
) -> None:
    """Fairwork-style scorecards of the organizations that engage cohorts: a basic and an
    advanced point for each of five principles, and what each rests on or misses."""
    with questions(show_small) as ask:
        if org_id is not None:
            card = ask.scorecard(org_id)
            if csv_file or xlsx_file:
                files = _export_scorecards(lambda: iter([card]), 1, csv_file, xlsx_file)[1]
                out.print(f"wrote the scorecard of {org_id} to {files}", highlight=False)
            elif as_json:
                _print_json(card)
            else:
                _print_scorecard(card)
            return
        if csv_file or xlsx_file:
            scored = ask.scorecard_summary().organizations[offset : offset + limit if limit else None]
            written, files = _export_scorecards(
                lambda: ask.iter_scorecards(offset, limit or None), len(scored), csv_file, xlsx_file
            )
            out.print(f"wrote {written} scorecards to {files}", highlight=False)
            return
        page = ask.scorecards(offset, limit or None)
    if as_json:
        _print_json(page)
        return
    day = f"evidence ages from {page.review_day}" if page.review_day else "the graph holds no dates"
    spread = ", ".join(f"{c.points}: {c.organizations:,}" for c in page.by_points)
    out.print(
        plain(f"{page.total:,} organizations engage cohorts ({day}); organizations by points: {spread}"),
        highlight=False,
    )
    table = Table(title=plain("Scorecards (basic and advanced point per principle)"), title_justify="left")
    for column in (
        "organization",
        "points",
        *(p.title for p in (page.items[0].principles if page.items else [])),
    ):
        table.add_column(column, overflow="fold")
    for card in page.items:
        _add_row(
            table,
            f"{card.organization_name} ({card.organization_id})",
            f"{card.points}/10",
            *(_earned(p) for p in card.principles),
        )
    out.print(table)
    _page_note(len(page.items), offset, page.total, "organizations")


def _earned(principle: PrincipleScore) -> str:
    return "basic + advanced" if principle.advanced else "basic" if principle.basic else "-"


def _print_scorecard(card: Scorecard) -> None:
    day = f"; evidence ages from {card.review_day}" if card.review_day else ""
    out.print(
        plain(f"{card.organization_name} ({card.organization_id}): {card.points} of 10 points,"
              f" {card.cohorts} cohorts{day}"),
        highlight=False,
    )  # fmt: skip
    table = Table(show_lines=True)
    for column in ("principle", "points", "rests on", "missing"):
        table.add_column(column, overflow="fold")
    for p in card.principles:
        rests = ", ".join(f"{e.condition_id} {e.status.value}" for e in p.rests_on[:SHOWN_PER_PRINCIPLE])
        missing = "\n".join(
            f"{m.cohort_id}/{m.dimension.value}: {m.reason}" for m in p.missing[:SHOWN_PER_PRINCIPLE]
        )
        rests += _more(p.rests_on_total)
        missing += _more(p.missing_total)
        _add_row(table, f"{p.title} ({', '.join(p.dimensions)})", _earned(p), rests or "-", missing or "-")
    out.print(table)


def _more(total: int) -> str:
    return (
        f" and {total - SHOWN_PER_PRINCIPLE:,} more (--json lists them)"
        if total > SHOWN_PER_PRINCIPLE
        else ""
    )


# -- actions ---------------------------------------------------------------------------

actions_cli = typer.Typer(
    help="Actions on risks and their measured effect: list them (the default), add one, close one.",
    invoke_without_command=True,
)
cli.add_typer(actions_cli, name="actions")
Today = Annotated[
    datetime | None,
    typer.Option("--today", formats=["%Y-%m-%d"], help="Count overdue as of this date (default: today)."),
]


StatusFilter = Annotated[ActionStatus | None, typer.Option(help="Only actions of this status.")]
OverdueFilter = Annotated[bool, typer.Option("--overdue", help="Only actions past their due date.")]
EffectFilter = Annotated[Effect | None, typer.Option(help="Only actions with this effect.")]
BuyerFilter = Annotated[str | None, typer.Option(help="Only actions in this buyer's chain.")]
ActionsCsv = Annotated[Path | None, typer.Option("--csv", help="Write every action as CSV to FILE.")]


@actions_cli.callback()
def actions_command(
    context: typer.Context,
    status: StatusFilter = None,
    overdue: OverdueFilter = False,
    effect: EffectFilter = None,
    buyer: BuyerFilter = None,
    limit: PageLimit = DEFAULT_PAGE,
    offset: Offset = 0,
    csv_file: ActionsCsv = None,
    as_json: AsJson = False,
    show_small: ShowSmall = False,
    today: Today = None,
) -> None:
    """Every action with its status, whether it is overdue, and its effect on the targeted
    condition: the observations before and after it, compared."""
    if context.invoked_subcommand is None:
        _list_actions(status, overdue, effect, buyer, limit, offset, csv_file, as_json, show_small, today)


@actions_cli.command("list")
def list_actions_command(
    status: StatusFilter = None,
    overdue: OverdueFilter = False,
    effect: EffectFilter = None,
    buyer: BuyerFilter = None,
    limit: PageLimit = DEFAULT_PAGE,
    offset: Offset = 0,
    csv_file: ActionsCsv = None,
    as_json: AsJson = False,
    show_small: ShowSmall = False,
    today: Today = None,
) -> None:
    """The same as `laborgraph actions`."""
    _list_actions(status, overdue, effect, buyer, limit, offset, csv_file, as_json, show_small, today)


def _list_actions(
    status: ActionStatus | None,
    overdue: bool,
    effect: Effect | None,
    buyer: str | None,
    limit: int,
    offset: int,
    csv_file: Path | None,
    as_json: bool,
    show_small: bool,
    today: datetime | None,
) -> None:
    day = today.date() if today else date.today()
    with questions(show_small) as ask:
        everything = csv_file is not None
        found = ask.actions(status, overdue or None, effect, buyer, 0 if everything else offset,
                            None if everything else limit or None, day)  # fmt: skip
    if csv_file:
        _write_atomically(csv_file, stream_actions_csv(found.items))
        out.print(f"wrote {found.total} actions to {csv_file}", highlight=False)
        return
    if as_json:
        _print_json(found)
        return
    counted = ", ".join(f"{n} {what.partition(':')[2] or what}" for what, n in found.counts.items() if n)
    table = Table(title=plain(f"{found.total} actions ({counted or 'none'})"), title_justify="left")
    for column in ("id", "status", "due", "effect", "target", "owner", "how it was measured"):
        table.add_column(column, overflow="fold")
    for a in found.items:
        due = f"{a.due_at}{' OVERDUE' if a.overdue else ''}" if a.due_at else ""
        _add_row(table, a.id, a.status.value, due, a.effect.value, a.target, a.owner_unit_id, a.explanation)
    out.print(table)
    _page_note(len(found.items), offset, found.total, "actions")


@actions_cli.command("add")
def add_action_command(
    action_id: Annotated[str, typer.Option("--id", help="The action's id, e.g. act-savanna-pay.")],
    target: Annotated[
        str, typer.Option(help="cohort_id/dimension, decision_id:cohort_id/dimension, or a decision id.")
    ],
    owner: Annotated[str, typer.Option("--owner", "--owner-unit-id", help="The unit that owns it.")],
    kind: Annotated[ActionKind, typer.Option(help="What it does about the risk.")],
    description: Annotated[str | None, typer.Option(help="What is done, in words.")] = None,
    opened_at: Annotated[str | None, typer.Option(help="When it was opened (default: today).")] = None,
    due_at: Annotated[str | None, typer.Option(help="When it is due.")] = None,
    status: Annotated[ActionStatus, typer.Option(help="Where it stands.")] = ActionStatus.planned,
    evidence_grade: Annotated[EvidenceGrade | None, typer.Option(help="How well it is evidenced.")] = None,
    source_ids: Annotated[str | None, typer.Option(help="Sources, separated by |.")] = None,
) -> None:
    """Record an action (a revision written by `cli`), validated as a row of actions.csv."""
    fields = {
        "id": action_id, "target": target, "owner_unit_id": owner, "kind": kind.value,
        "description": description, "opened_at": opened_at, "due_at": due_at, "status": status.value,
        "evidence_grade": evidence_grade and evidence_grade.value, "source_ids": source_ids,
    }  # fmt: skip
    settings = load_settings()
    with opened_store(settings) as store:
        report = add_action(store, fields, WriteNote(writer="cli"), "actions add", date.today())
        _print_action_written(Questions(store, settings), action_id, report)


@actions_cli.command("close")
def close_action_command(
    action_id: Annotated[str, typer.Argument(help="The action's id.")],
    status: Annotated[ActionStatus, typer.Option(help="done or dropped.")],
    closed_at: Annotated[str | None, typer.Option(help="When it was closed (default: today).")] = None,
) -> None:
    """Close an action as done or dropped (a revision written by `cli`)."""
    if status not in (ActionStatus.done, ActionStatus.dropped):
        err.print("[red]error:[/] --status takes done or dropped to close an action")
        raise typer.Exit(EXIT_INVALID)
    settings = load_settings()
    with opened_store(settings) as store:
        changes = {"status": status.value, "closed_at": closed_at}
        note = WriteNote(writer="cli")
        report = update_action(store, action_id, changes, note, "actions close", date.today())
        _print_action_written(Questions(store, settings), action_id, report)


def _print_action_written(ask: Questions, action_id: str, report: load.IngestReport) -> None:
    for issue in report.warnings:
        err.print(f"[yellow]warning[/] {plain(str(issue))}", highlight=False)
    made = report.revision
    where = f"in revision {made.number}" if made else "(unchanged: no new revision)"
    tracked = ask.action(action_id)
    out.print(f"{plain(action_id)} {where}: {tracked.status.value}, effect {tracked.effect.value}"
              f"{', overdue' if tracked.overdue else ''}", highlight=False)  # fmt: skip
    out.print(plain(tracked.explanation), highlight=False)


@cli.command("map")
def map_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="The HTML file to write.")],
    viewpoint: Annotated[str | None, typer.Option(help="Lay the chain out from this organization.")] = None,
    focus: Annotated[str | None, typer.Option(help="Show only the neighbourhood of this entity.")] = None,
    depth: Annotated[
        int, typer.Option(min=1, max=MAX_DEPTH, help="Links around --focus to show.")
    ] = DEFAULT_FOCUS_DEPTH,
    path: Annotated[
        int | None, typer.Option(min=1, max=MAX_PATHS, help="Highlight the risk path of this rank.")
    ] = None,
    tier: Annotated[str | None, typer.Option(help="With --country: the organizations of this tier.")] = None,
    country: Annotated[str | None, typer.Option(help="With --tier: those of this country.")] = None,
    show_small: ShowSmall = False,
) -> None:
    """Write the interactive map as one self-contained HTML file (works offline)."""
    with questions(show_small) as ask:
        region = map_region(tier, country)
        model = ask.chain_map(viewpoint=viewpoint, focus=focus, depth=depth, path_rank=path, region=region)
        _write_atomically(output, [render_map_html(model, notice=ask.unfinished_notice())])
    out.print(f"wrote {output} ({len(model.nodes)} nodes, {len(model.edges)} links)", highlight=False)


@cli.command("report")
def report_command(
    buyer: Annotated[str, typer.Option(help="The buyer whose chain the report is about.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The HTML file to write.")],
    show_small: ShowSmall = False,
) -> None:
    """Write a buyer's due-diligence report: one printable, self-contained HTML page (no script)."""
    with questions(show_small) as ask:
        found = buyer_report(ask, buyer)
        notice = ask.unfinished_notice()
    _write_atomically(output, [render_report_html(found, notice=notice)])
    shown = f"{len(found.top_paths)} top risk paths, {len(found.scorecards)} scorecards"
    out.print(f"wrote {output} (the report of {found.buyer.buyer_name}: {shown})", highlight=False)


@cli.command("export")
def export_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="The file to write.")],
    graph_format: Annotated[
        GraphFormat, typer.Option("--format", help="graphml, gexf, or json (networkx's node-link form).")
    ],
    focus: Annotated[
        str | None, typer.Option(help="Only this organization, its units and decisions, and what lies below.")
    ] = None,
    depth: Annotated[
        int, typer.Option(min=1, max=MAX_DEPTH, help="With --focus: how many links below it to include.")
    ] = DEFAULT_DEPTH,
    show_small: ShowSmall = False,
) -> None:
    """Write the graph (or the region below one organization) for Gephi, yEd, Cytoscape or networkx.

    Every entity is a node, every link and every reference an edge (docs/EXPORTS.md). Cohorts
    below the minimum headcount, their conditions and the edges naming them are left out
    unless --show-small."""
    with questions(show_small) as ask:
        if focus is None and ask.settings.store == "embedded":
            nodes, edges = _write_graph_in_two(ask, show_small, graph_format, output)
        else:
            with ask.graph_elements(focus, depth) as elements:
                nodes, edges = _write_graph(elements, graph_format, output)
    out.print(f"wrote {output} ({nodes:,} nodes, {edges:,} edges)", highlight=False)


def _write_graph(elements: Iterator[Element], graph_format: GraphFormat, output: Path) -> tuple[int, int]:
    """Write the elements to ``output``, whole or not at all; how many nodes and edges."""
    with _atomic_target(output) as path, open(path, "wb") as sink, _counting("nodes and edges") as counted:
        return write_graph(counted(elements), graph_format, sink, path.parent)


def _write_graph_in_two(
    ask: Questions, show_small: bool, graph_format: GraphFormat, output: Path
) -> tuple[int, int]:
    """The whole graph on two cores: nodes here, edges from a forked process with its own
    store; serially after all if a write comes between the two."""

    @contextmanager
    def edges() -> Iterator[tuple[str, Iterable[Element]]]:
        with questions(show_small) as own, own.graph_part("edges") as found:
            yield found

    try:
        with _atomic_target(output) as path, open(path, "wb") as sink:
            return write_graph_in_two(lambda: ask.graph_part("nodes"), edges, graph_format, sink, path.parent)
    except GraphChanged:
        pass  # the partial file is gone, an older one kept
    with ask.graph_elements() as elements:
        return _write_graph(elements, graph_format, output)


def _one_line_summaries(*apps: typer.Typer) -> None:
    """Each command's summary in `--help` lists: its docstring's first paragraph as one line,
    which the list wraps to the terminal, not at the docstring's own line breaks."""
    for app in apps:
        for command in app.registered_commands:
            if command.short_help is None and command.callback is not None and command.callback.__doc__:
                first = inspect.cleandoc(command.callback.__doc__).split("\n\n")[0]
                command.short_help = " ".join(first.split())


_one_line_summaries(cli, keys_cli, actions_cli)


def main() -> None:
    collect_less_often()
    cli(prog_name="laborgraph")


if __name__ == "__main__":
    main()

"""The `laborgraph` command line. All terminal output of the project goes through here."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from app.settings import Settings
from app.stores import open_store
from graph.errors import GraphError, InvalidBundle, StoreUnavailable
from graph.store import GraphStore
from ingest import load

EXAMPLE_BUNDLE = Path(__file__).resolve().parents[1] / "examples" / "ai-supply-chain"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

cli = typer.Typer(
    help="Map AI data-work supply chains and trace which decisions affect which worker conditions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

# Exit codes: 0 ok, 1 rejected input or unknown id, 2 usage (typer), 3 store unavailable.
EXIT_INVALID, EXIT_UNAVAILABLE = 1, 3


@contextmanager
def opened_store() -> Iterator[GraphStore]:
    """Open the configured store and turn laborgraph's errors into messages and exit codes."""
    try:
        store = open_store(Settings())
        try:
            yield store
        finally:
            store.close()
    except InvalidBundle as exc:
        for issue in exc.errors:
            err.print(f"[red]error[/]   {issue}", highlight=False, markup=True)
        for issue in exc.warnings:
            err.print(f"[yellow]warning[/] {issue}", highlight=False)
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(EXIT_INVALID) from None
    except StoreUnavailable as exc:
        err.print(f"[red]store unavailable:[/] {exc}")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    except GraphError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_INVALID) from None


def _ingest(store: GraphStore, path: Path) -> load.IngestReport:
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("reading", total=None)

        def start(stage: str, total: int | None) -> None:
            bar.update(task, description=stage, total=total, completed=0)

        progress = load.Progress(start=start, advance=lambda n: bar.advance(task, n))
        return load.ingest_path(store, path, progress)


def _print_report(report: load.IngestReport) -> None:
    for issue in report.warnings:
        err.print(f"[yellow]warning[/] {issue}", highlight=False)
    counts = ", ".join(f"{n} {section}" for section, n in report.counts.items() if n)
    out.print(f"ingested into the {report.store} store: {counts or 'nothing'}", highlight=False)


@cli.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A bundle: folder of CSV files, .zip or .json.")],
) -> None:
    """Load a bundle; prints counts, warnings and every error. Writes nothing if any error."""
    with opened_store() as store:
        _print_report(_ingest(store, path))


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the HTTP API and the map pages."""
    _serve(Settings(), host, port)


@cli.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Load the example, do not serve.")] = False,
) -> None:
    """Load the bundled example chain into the configured store and serve it."""
    with opened_store() as store:
        _print_report(_ingest(store, EXAMPLE_BUNDLE))
    if not no_serve:
        _serve(Settings(), host, port)


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from app.main import create_app

    if host not in LOOPBACK and not settings.api_keys:
        err.print(
            f"[red]refusing to listen on {host}: no API keys are configured.[/] "
            "Set LABORGRAPH_API_KEYS (see `laborgraph keys new`) or listen on 127.0.0.1."
        )
        raise typer.Exit(EXIT_INVALID)
    if not settings.api_keys:
        err.print("no API keys configured: listening on loopback only, every caller has full access")
    out.print(f"laborgraph on http://{host}:{port}/  (API docs at /docs)", highlight=False)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


def main() -> None:
    cli(prog_name="laborgraph")


if __name__ == "__main__":
    sys.exit(main())

"""The one error tree of laborgraph.

    GraphError                  anything laborgraph refuses or cannot do
    ├── NotFound                an id that is not in the graph
    ├── InvalidQuery            a question asked with bad arguments (depth, filters)
    ├── InvalidBundle           a bundle that failed validation; carries every BundleIssue
    ├── GraphChanged            a write refused: another write committed since its bundle was validated
    ├── StoreUnavailable        the store cannot be reached or opened (Neo4j down, disk locked)
    └── ConfigError             settings or scoring configuration that cannot be used

Stores translate their driver's errors into this tree; the API maps it to status codes in
one place and the CLI to messages and exit codes.
"""

from __future__ import annotations

from pydantic import BaseModel


class BundleIssue(BaseModel):
    """One problem in a bundle, located as precisely as the input allows."""

    file: str
    row: int | None = None  # as a spreadsheet numbers it (CSV header = row 1); None: whole file
    column: str | None = None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column!r}"
        return f"{where}: {self.message}"


class GraphError(Exception):
    """Base of every error laborgraph raises on purpose."""


class NotFound(GraphError):
    def __init__(self, entity_id: str, kind: str | None = None) -> None:
        self.entity_id = entity_id
        self.kind = kind
        super().__init__(f"no {kind or 'entity'} with id {entity_id!r}")


class InvalidQuery(GraphError):
    pass


class TooManyChanges(InvalidQuery):
    """Two revisions between which more facts changed than a comparison holds in memory."""


class InvalidBundle(GraphError):
    def __init__(self, errors: list[BundleIssue], warnings: list[BundleIssue] | None = None):
        self.errors = errors
        self.warnings = warnings or []
        noun = "error" if len(errors) == 1 else "errors"
        super().__init__(f"bundle rejected with {len(errors)} {noun}; nothing was written")


class GraphChanged(GraphError):
    """The graph moved on since the version a write was validated against; nothing was written."""


class StoreUnavailable(GraphError):
    pass


class ConfigError(GraphError):
    pass


class IngestIncomplete(GraphError):
    """A write was started and never finished (another is running, or it was interrupted):
    the store refuses a new one until it ends or ``laborgraph settle`` undoes it."""

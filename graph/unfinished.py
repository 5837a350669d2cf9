"""The mark of a write in progress: what a store that writes a bundle over several
transactions (the Neo4j store) records before its first batch and removes after its last.

While the mark is there the graph may hold part of revision ``revision``: questions still
answer, but say so, keep no answers, and no other write starts. ``laborgraph settle``
undoes such a write when it was interrupted (``SETTLE_COMMAND``).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

SETTLE_COMMAND = "laborgraph settle"


class UnfinishedWrite(BaseModel):
    """A write that took the write turn and has not finished."""

    revision: int  # the revision it writes: every fact it set carries it
    started: datetime  # UTC
    digest: str = ""  # the bundle's sha256
    writer: str = ""
    label: str | None = None

    def describe(self) -> str:
        label = f" ({self.label})" if self.label else ""
        return (
            f"revision {self.revision}{label} by {self.writer or 'an unknown writer'}, started"
            f" {self.started:%Y-%m-%d %H:%M:%S} UTC, is not finished: it is still being written,"
            f" or it was interrupted. Until it ends, answers may hold part of it. If no ingest is"
            f" running, `{SETTLE_COMMAND}` undoes it (then ingest the bundle again)"
        )

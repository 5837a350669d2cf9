"""What one bundle may hold, and the running count that holds a bundle to it as it is read.

A reader counts the bytes it unpacks and the rows it hands on; past a limit it raises
``ReadingStopped`` and validation rejects the bundle with that one issue. Nothing is read
ahead, so a bundle that passes a limit costs no more than the limit.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO

from laborgraph.graph.errors import BundleIssue

MB = 2**20


@dataclass(frozen=True)
class ReadLimits:
    max_bytes: int | None = None  # CSV or JSON text, as unpacked
    max_rows: int | None = None  # rows of every file together


class ReadingStopped(Exception):
    """The bundle cannot be read on (a limit passed, a broken stream); ``issue`` says why."""

    def __init__(self, issue: BundleIssue) -> None:
        self.issue = issue
        super().__init__(str(issue))


class Budget:
    """The bytes and rows read so far from one bundle, against its limits."""

    def __init__(self, limits: ReadLimits, name: str) -> None:
        self.limits = limits
        self.name = name
        self.bytes = 0
        self.rows = 0

    def declared(self, size: int) -> None:
        """Refuse up front what file sizes (or a zip's headers) already say is too big."""
        if self.limits.max_bytes is not None and size > self.limits.max_bytes:
            raise ReadingStopped(self._too_big())

    def read(self, size: int) -> None:
        self.bytes += size
        if self.limits.max_bytes is not None and self.bytes > self.limits.max_bytes:
            raise ReadingStopped(self._too_big())

    def row(self) -> None:
        self.rows += 1
        if self.limits.max_rows is not None and self.rows > self.limits.max_rows:
            message = (
                f"holds more than {self.limits.max_rows:,} rows, the limit (LABORGRAPH_MAX_ROWS); "
                "split the bundle, or raise the limit where memory allows (about 2.5 KB a row)"
            )
            raise ReadingStopped(BundleIssue(file=self.name, message=message))

    def _too_big(self) -> BundleIssue:
        assert self.limits.max_bytes is not None
        message = (
            f"holds more than {self.limits.max_bytes / MB:g} MB of CSV or JSON once unpacked, the "
            "limit (LABORGRAPH_MAX_UNPACKED_MB); split the bundle"
        )
        return BundleIssue(file=self.name, message=message)

    def counted(self, stream: BinaryIO) -> io.BufferedReader:
        """``stream`` as a buffered binary stream whose every byte read counts."""
        return io.BufferedReader(_Counted(stream, self))


class _Counted(io.RawIOBase):
    def __init__(self, stream: BinaryIO, budget: Budget) -> None:
        self._stream = stream
        self._budget = budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        self._budget.read(len(data))
        return len(data)

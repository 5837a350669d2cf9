"""Batches of a Neo4j write sent while the next ones are built: the batch pipeline.

A write that waits for each batch's commit before building the next leaves the server idle
while the client builds rows, and the client idle while the server writes them. A pipeline
sends each batch, a transaction of its own, from a worker thread with a session of its own,
and lets the caller build the next meanwhile; ``concurrent`` batches may be at the server at
once, and one more waits built, so memory stays bounded. ``barrier`` waits until every
batch sent has committed: what comes after it may rely on them (links on their ends). The
first batch that fails stops the pipeline: the batches not started are dropped, those
under way are waited for, and its error is raised to the caller.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from types import TracebackType

from neo4j import ManagedTransaction, Session

Work = Callable[[ManagedTransaction], None]


class BatchPipeline:
    """Up to ``workers`` batch transactions under way at once, each from its own session."""

    def __init__(self, open_session: Callable[[], Session], workers: int) -> None:
        self._open_session = open_session
        self._workers = max(1, workers)
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="laborgraph-batch")
        self._local = threading.local()
        self._sessions: list[Session] = []
        self._lock = threading.Lock()
        self._pending: deque[Future[None]] = deque()

    def __enter__(self) -> BatchPipeline:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def send(self, work: Work, *, concurrent: bool = True) -> None:
        """Run ``work`` in a transaction of its own (retried alone if it fails transiently),
        once fewer than ``workers`` batches are under way; ``concurrent=False``: once every
        batch sent before it has committed."""
        room = self._workers + 1 if concurrent else 1  # one more waits built
        for future in self._pending:
            if future.done() and future.exception() is not None:
                future.result()  # the first failure stops the write at once
        while len(self._pending) >= room:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._execute, work))

    def barrier(self) -> None:
        """Wait until every batch sent has committed; raise the first failure."""
        while self._pending:
            self._pending.popleft().result()

    def close(self) -> None:
        """Drop the batches not started, wait for those under way, close the sessions."""
        for future in self._pending:
            future.cancel()
        wait(self._pending)
        self._pending.clear()
        self._pool.shutdown(wait=True)
        for session in self._sessions:
            session.close()

    def _execute(self, work: Work) -> None:
        session: Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._open_session()
            with self._lock:
                self._sessions.append(session)
        session.execute_write(work)

"""Holds the process's one store, opening it on first use and again after it failed to open.

A Neo4j server that is down when the API starts must not stop the API: requests get a 503
until the server answers, then the store opens and the API recovers by itself. Once a request
has found the store unavailable, later requests first ``ping()`` it (one attempt, no retries)
until it answers again, so they get their 503 at once instead of each waiting out the
driver's retries.
"""

from __future__ import annotations

import threading

from laborgraph.app.settings import Settings
from laborgraph.app.stores import open_store
from laborgraph.graph.errors import StoreUnavailable
from laborgraph.graph.store import GraphStore


class StoreHolder:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: GraphStore | None = None
        self._suspect = False  # the store failed lately: check it answers before using it
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        return self.settings.store

    def get(self) -> GraphStore:
        """The open store; raises StoreUnavailable while it cannot be opened."""
        with self._lock:
            if self._store is None:
                self._store = open_store(self.settings)
            store = self._store
        if self._suspect:
            store.ping()
            self._suspect = False
        return store

    def mark_unavailable(self) -> None:
        """A request found the store unavailable: have the next ones check it first."""
        self._suspect = True

    def health(self) -> tuple[bool, str]:
        """Whether the store answers now, and a message saying so."""
        try:
            store = self.get()
            store.ping()
            return True, f"{store.backend} store at {store.describe()} is reachable"
        except StoreUnavailable as exc:
            self._suspect = True
            return False, str(exc)

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

"""Holds the process's one store, opening it on first use and again after it failed to open.

A Neo4j server that is down when the API starts must not stop the API: requests get a 503
until the server answers, then the store opens and the API recovers by itself.
"""

from __future__ import annotations

import threading

from app.settings import Settings
from app.stores import open_store
from graph.errors import StoreUnavailable
from graph.store import GraphStore


class StoreHolder:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: GraphStore | None = None
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        return self.settings.store

    def get(self) -> GraphStore:
        """The open store; raises StoreUnavailable while it cannot be opened."""
        with self._lock:
            if self._store is None:
                self._store = open_store(self.settings)
            return self._store

    def health(self) -> tuple[bool, str]:
        """Whether the store answers now, and a message saying so."""
        try:
            store = self.get()
            store.ping()
            return True, f"{store.backend} store at {store.describe()} is reachable"
        except StoreUnavailable as exc:
            return False, str(exc)

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

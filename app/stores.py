"""Open the store the settings name: one per process."""

from __future__ import annotations

from laborgraph.app.settings import Settings
from laborgraph.graph.store import GraphStore


def open_store(settings: Settings) -> GraphStore:
    if settings.store == "neo4j":
        from laborgraph.graph.neo4j_store import Neo4jStore

        return Neo4jStore(
            settings.neo4j_uri,
            user=settings.neo4j_user,
            password=settings.neo4j_password.get_secret_value(),
            database=settings.neo4j_database,
        )
    from laborgraph.graph.embedded import EmbeddedStore

    return EmbeddedStore(settings.data_dir)

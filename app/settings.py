"""The one settings object, read from the environment by the CLI and the server alike."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from laborgraph.graph.analysis.privacy import DEFAULT_MIN_HEADCOUNT
from laborgraph.ingest.limits import MB, ReadLimits

# What one bundle may hold when a setting leaves it open: (unpacked MB, rows). A server
# keeps a rejected upload under about 500 MB; the CLI loads a 1M-link bundle (4.1M rows).
BUNDLE_DEFAULTS = {"api": (200, 250_000), "cli": (1024, 10_000_000)}


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "laborgraph"


class Settings(BaseSettings):
    """Configuration; every field is an environment variable (names in ``validation_alias``)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    store: Literal["embedded", "neo4j"] = Field("embedded", validation_alias="LABORGRAPH_STORE")
    data_dir: Path = Field(default_factory=default_data_dir, validation_alias="LABORGRAPH_DATA_DIR")
    neo4j_uri: str = Field("bolt://localhost:7687", validation_alias="NEO4J_URI")
    neo4j_user: str = Field("neo4j", validation_alias="NEO4J_USER")
    neo4j_password: SecretStr = Field(SecretStr(""), validation_alias="NEO4J_PASSWORD")
    neo4j_database: str = Field("neo4j", validation_alias="NEO4J_DATABASE")
    # `ingest --bulk` only: the Neo4j installation, and the command running its neo4j-admin.
    neo4j_home: str = Field("", validation_alias="NEO4J_HOME")
    neo4j_admin: str = Field("", validation_alias="LABORGRAPH_NEO4J_ADMIN")
    # Comma-separated "name:scope:sha256-hex" entries; make one with `laborgraph keys new`.
    api_keys: str = Field("", validation_alias="LABORGRAPH_API_KEYS")
    # Without API keys: the token uploads need (`laborgraph serve` makes one when unset).
    write_token: SecretStr = Field(SecretStr(""), validation_alias="LABORGRAPH_WRITE_TOKEN")
    # Without API keys: host names besides localhost and loopback addresses the server answers to.
    allowed_hosts: str = Field("", validation_alias="LABORGRAPH_ALLOWED_HOSTS")
    # With API keys: whether /docs and /openapi.json answer without one.
    public_docs: bool = Field(False, validation_alias="LABORGRAPH_PUBLIC_DOCS")
    scoring_file: Path | None = Field(None, validation_alias="LABORGRAPH_SCORING_FILE")
    min_headcount: int = Field(DEFAULT_MIN_HEADCOUNT, ge=0, validation_alias="LABORGRAPH_MIN_HEADCOUNT")
    max_upload_mb: float = Field(50, gt=0, validation_alias="LABORGRAPH_MAX_UPLOAD_MB")
    # Unset: the API's or the CLI's default (BUNDLE_DEFAULTS).
    max_unpacked_mb: float | None = Field(None, gt=0, validation_alias="LABORGRAPH_MAX_UNPACKED_MB")
    max_rows: int | None = Field(None, gt=0, validation_alias="LABORGRAPH_MAX_ROWS")

    @field_validator("data_dir", mode="before")
    @classmethod
    def _data_dir_named(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise ValueError("is empty: name a folder, or unset it for the default")
        return value

    def bundle_limits(self, surface: Literal["api", "cli"]) -> ReadLimits:
        """What one bundle may hold, uploaded to the API or loaded by the CLI."""
        unpacked_mb, rows = BUNDLE_DEFAULTS[surface]
        return ReadLimits(
            max_bytes=int((self.max_unpacked_mb or unpacked_mb) * MB), max_rows=self.max_rows or rows
        )

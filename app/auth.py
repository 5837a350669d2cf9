"""API keys and their scopes: ``read`` < ``write`` < ``admin``.

Keys are configured as ``name:scope:sha256hex`` entries (``LABORGRAPH_API_KEYS``, comma
separated): only the SHA-256 of a key is ever stored. A presented key is hashed and compared
in constant time with every configured digest, without stopping at a match, so timing tells
nothing about which key (if any) matched. With no keys configured every caller is an admin
for reading, the CLI refuses to listen on anything but loopback, and an upload needs the
server's write token (``LABORGRAPH_WRITE_TOKEN``; ``laborgraph serve`` makes one when unset).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from laborgraph.graph.errors import ConfigError

_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
MIN_WRITE_TOKEN = 16  # characters; `new_write_token` makes 32


class Scope(StrEnum):
    read = "read"
    write = "write"
    admin = "admin"

    def allows(self, needed: Scope) -> bool:
        """Whether this scope includes ``needed`` (admin ⊃ write ⊃ read)."""
        order = list(Scope)
        return order.index(self) >= order.index(needed)


@dataclass(frozen=True)
class ApiKey:
    name: str
    scope: Scope
    digest: str  # SHA-256 of the key, lower-case hex

    @property
    def entry(self) -> str:
        return f"{self.name}:{self.scope.value}:{self.digest}"


@dataclass(frozen=True)
class Caller:
    """Who is asking: the name of the key they presented, and its scope."""

    name: str
    scope: Scope


ANONYMOUS_ADMIN = Caller("anonymous", Scope.admin)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_keys(text: str) -> list[ApiKey]:
    """The keys a ``LABORGRAPH_API_KEYS`` value configures; ConfigError lists every bad entry."""
    keys: list[ApiKey] = []
    problems: list[str] = []
    for position, entry in enumerate((e.strip() for e in text.split(",")), start=1):
        if not entry:
            continue
        name, _, rest = entry.partition(":")
        scope, _, hexdigest = rest.partition(":")
        hexdigest = hexdigest.lower()
        if not _NAME.match(name):
            problems.append(f"entry {position}: name must be 1-64 of A-Z a-z 0-9 . _ -")
        elif scope not in Scope.__members__:
            problems.append(f"entry {position} ({name}): scope must be read, write or admin")
        elif not _DIGEST.match(hexdigest):
            problems.append(f"entry {position} ({name}): expected the key's SHA-256 as 64 hex digits")
        elif any(k.name == name for k in keys):
            problems.append(f"entry {position} ({name}): another entry has this name")
        elif any(k.digest == hexdigest for k in keys):
            problems.append(f"entry {position} ({name}): another entry has the same key")
        else:
            keys.append(ApiKey(name, Scope(scope), hexdigest))
    if text and not keys and not problems:
        # Anything set but no key would silently open the API to every caller as admin.
        problems.append("it is set but holds no key entry")
    if problems:
        raise ConfigError("LABORGRAPH_API_KEYS: " + "; ".join(problems) + " (format: name:scope:sha256hex)")
    return keys


def new_key(name: str, scope: Scope | str) -> tuple[str, str]:
    """A fresh random key and the ``LABORGRAPH_API_KEYS`` entry that configures it."""
    if not _NAME.match(name):
        raise ConfigError(f"key name {name!r}: use 1-64 of A-Z a-z 0-9 . _ -")
    try:
        scope = Scope(scope)
    except ValueError:
        raise ConfigError(f"scope {scope!r}: use read, write or admin") from None
    key = secrets.token_urlsafe(32)
    return key, ApiKey(name, scope, digest(key)).entry


def new_write_token() -> str:
    """A fresh random write token for a server without API keys."""
    return secrets.token_urlsafe(24)


class KeyRing:
    """The configured keys; identifies the caller a presented key belongs to."""

    def __init__(self, keys: list[ApiKey], write_token: str = "") -> None:
        self.keys = keys
        self._write_digest = digest(write_token) if write_token else ""

    @classmethod
    def from_setting(cls, text: str, write_token: str = "") -> KeyRing:
        """The ring ``LABORGRAPH_API_KEYS`` and ``LABORGRAPH_WRITE_TOKEN`` configure."""
        keys = parse_keys(text)
        if write_token and keys:
            raise ConfigError(
                "LABORGRAPH_WRITE_TOKEN is for a server without API keys; with keys, uploads need"
                " a key of the 'write' scope (`laborgraph keys new NAME --scope write`)"
            )
        if write_token and len(write_token) < MIN_WRITE_TOKEN:
            raise ConfigError(f"LABORGRAPH_WRITE_TOKEN: use at least {MIN_WRITE_TOKEN} characters")
        return cls(keys, write_token)

    @property
    def open(self) -> bool:
        """No keys configured: every caller is an admin (loopback-only serving)."""
        return not self.keys

    def is_write_token(self, presented: str | None) -> bool:
        """Whether ``presented`` is the write token of this server without keys."""
        if not (self._write_digest and presented):
            return False
        return hmac.compare_digest(digest(presented), self._write_digest)

    def identify(self, presented: str | None) -> Caller | None:
        """The caller owning ``presented``, or None for a missing or unknown key."""
        if self.open:
            return ANONYMOUS_ADMIN
        if not presented:
            return None
        candidate = digest(presented)
        matched: ApiKey | None = None
        for key in self.keys:  # no early exit: every digest is compared
            if hmac.compare_digest(candidate, key.digest):
                matched = key
        return None if matched is None else Caller(matched.name, matched.scope)

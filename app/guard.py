"""Where requests may come from: the peer, the ``Host`` and the ``Origin`` they carry.

A server without API keys treats every caller as an admin, so it answers only callers on this
machine, and only under a loopback name: a page on a name an attacker points at 127.0.0.1
(DNS rebinding) sends that name as ``Host`` and is refused. On every server, a request that
changes something (anything but GET, HEAD, OPTIONS) sent by another site's page is refused:
a form or a ``no-cors`` fetch can send one, blind, with the browser's credentials.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from laborgraph.app.errors import ErrorBody

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_NAMES = frozenset({"localhost"})
_HOST = re.compile(r"^(?:\[(?P<ip6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9.-]+))(?::\d{1,5})?$")
# Sec-Fetch-Site values of another origin ("same-site": another port or subdomain).
_OTHER_SITES = frozenset({"cross-site", "same-site"})


def network_peer(connection: HTTPConnection) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The caller's address; None without a network peer (an in-process client, a unix socket)."""
    host = connection.client.host if connection.client else None
    try:
        return ipaddress.ip_address(host) if host else None
    except ValueError:
        return None


def allowed_host_names(text: str) -> frozenset[str]:
    """The host names a ``LABORGRAPH_ALLOWED_HOSTS`` value lists (comma separated)."""
    return frozenset(name.strip().lower().rstrip(".") for name in text.split(",") if name.strip())


def host_name(header: str) -> str | None:
    """The name or address in a ``Host`` header, lower-case, without port; None if malformed."""
    match = _HOST.match(header.strip().lower())
    if match is None:
        return None
    return match["ip6"] or match["name"].rstrip(".")


def is_loopback_name(name: str) -> bool:
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_cross_site(connection: HTTPConnection) -> bool:
    """Whether a browser sent this from a page of another origin."""
    if connection.headers.get("sec-fetch-site") in _OTHER_SITES:
        return True
    origin = connection.headers.get("origin")
    if origin is None:
        return False  # not a browser, or a same-origin GET
    return urlsplit(origin).netloc.lower() != connection.headers.get("host", "").strip().lower()


class RequestGuard:
    """ASGI middleware answering 403 to requests from where they may not come."""

    def __init__(self, app: ASGIApp, *, keyless: bool, allowed_hosts: frozenset[str]) -> None:
        self.app = app
        self.keyless = keyless
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self.refusal(HTTPConnection(scope))
            if refusal is not None:
                body = ErrorBody(error="forbidden", message=refusal)
                response = JSONResponse(body.model_dump(), status_code=403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def refusal(self, connection: HTTPConnection) -> str | None:
        """Why this request is refused, or None."""
        peer = network_peer(connection)
        if self.keyless and peer is not None:
            if not peer.is_loopback:
                return "this server has no API keys configured and answers only on loopback"
            header = connection.headers.get("host", "")
            name = host_name(header)
            if name is None or not (is_loopback_name(name) or name in self.allowed_hosts):
                return (
                    "this server has no API keys configured and answers only to localhost, 127.0.0.1"
                    f" and [::1], not to the host {header!r}: open it at one of those, or add the name"
                    " to LABORGRAPH_ALLOWED_HOSTS"
                )
        if connection.scope["method"] not in SAFE_METHODS and is_cross_site(connection):
            origin = connection.headers.get("origin", "another site")
            return (
                f"a {connection.scope['method']} sent by a page of {origin} is refused: changes come"
                " from this server's own pages or from clients that are not browsers"
            )
        return None

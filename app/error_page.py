"""The small HTML page an HTML route (a map page, the docs) answers an error with."""

from __future__ import annotations

from html import escape
from http import HTTPStatus

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{status} {phrase} · laborgraph</title>
<style>
  body {{ font: 15px/1.5 system-ui, sans-serif; max-width: 46em; margin: 3em auto; padding: 0 1em; }}
  h1 {{ font-size: 1.3em; }}
  .message {{ background: #f6f6f6; border-left: 4px solid #b33; padding: .6em 1em; }}
</style>
</head>
<body>
<h1>{status} {phrase}</h1>
<p class="message">{message}</p>
<p><a href="{home}">The front page</a> · <a href="{home}docs">The API docs</a></p>
</body>
</html>
"""


def render_error_page(status: int, message: str, home: str = "/") -> str:
    """The page: the status and the message (which lists every problem), escaped."""
    return PAGE.format(
        status=status, phrase=escape(HTTPStatus(status).phrase), message=escape(message), home=escape(home)
    )

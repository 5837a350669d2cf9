"""Spreadsheet downloads: a file written whole to a temporary path, then sent and deleted."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI description of a 200 that is a spreadsheet."""
    return {200: {"description": description, "content": {XLSX_TYPE: {}}}}


def xlsx_download(write: Callable[[Path], object], filename: str) -> FileResponse:
    """``write`` the spreadsheet to a temporary file (a spreadsheet is complete only once
    written: not to memory), then send it as ``filename``; the file goes once sent."""
    with tempfile.NamedTemporaryFile(prefix="laborgraph-", suffix=".xlsx", delete=False) as file:
        target = Path(file.name)
    try:
        write(target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    cleanup = BackgroundTask(target.unlink, missing_ok=True)
    return FileResponse(target, media_type=XLSX_TYPE, filename=filename, background=cleanup)

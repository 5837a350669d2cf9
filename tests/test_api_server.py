"""The API served by a real uvicorn on a loopback port, driven over the network with httpx."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from laborgraph.app.auth import new_key
from laborgraph.app.main import create_app
from tests.conftest import EXAMPLE_BUNDLE
from tests.served import serving
from tests.test_api import API, DOMAIN_CSV_COLUMNS, make_settings, zip_folder

READ_KEY, READ_ENTRY = new_key("dashboard", "read")
WRITE_KEY, WRITE_ENTRY = new_key("ci-upload", "write")


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    settings = make_settings("embedded", tmp_path, api_keys=f"{READ_ENTRY},{WRITE_ENTRY}", max_upload_mb=1)
    with serving(create_app(settings)) as url:
        yield url


def test_served_workflow(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        assert client.get("/health").json()["reachable"] is True
        denied = client.get(f"{API}/stats")
        assert denied.status_code == 401 and denied.headers["www-authenticate"] == "Bearer"

        upload = client.post(
            f"{API}/bundles",
            files={"file": ("ai-supply-chain.zip", zip_folder(EXAMPLE_BUNDLE), "application/zip")},
            headers={"Authorization": f"Bearer {WRITE_KEY}"},
        )
        assert upload.status_code == 200, upload.text
        assert upload.json()["counts"]["cohorts"] == 26

        reader = {"X-API-Key": READ_KEY}
        top = client.get(f"{API}/paths", params={"from": "org-halcyon", "limit": 1}, headers=reader)
        assert top.json()["items"][0]["decision_id"] == "dec-halcyon-content-scope"

        with client.stream(
            "GET", f"{API}/paths.csv", params={"from": "org-halcyon"}, headers=reader
        ) as download:
            assert download.status_code == 200
            assert download.headers["content-type"] == "text/csv; charset=utf-8"
            assert "content-length" not in download.headers  # streamed, not built in memory
            text = "".join(download.iter_text())
        rows = list(csv.DictReader(io.StringIO(text)))
        assert set(DOMAIN_CSV_COLUMNS) <= set(rows[0]) and rows[0]["cohort_id"] == "coh-savanna-ke-moderators"


def test_served_upload_limit(base_url: str) -> None:
    """Over-size bodies get a 413 whether their length is declared or they are streamed."""
    writer = {"Authorization": f"Bearer {WRITE_KEY}", "Content-Type": "application/zip"}
    body = b"PK\x03\x04" + b"\0" * (3 * 1024 * 1024)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    with httpx.Client(base_url=base_url, timeout=30) as client:
        for content in (body, chunks()):
            response = client.post(f"{API}/bundles", content=content, headers=writer)
            assert response.status_code == 413, response.text
            assert response.json()["error"] == "upload_too_large"
        stats = client.get(f"{API}/stats", headers={"X-API-Key": READ_KEY}).json()
        assert stats["links"] == 0

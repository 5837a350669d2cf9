"""Render maps as ONE self-contained HTML page: no CDN, no network request of any kind.

vis-network's script and style are inlined from the copy shipped inside the pyvis package;
the page is our own autoescaping Jinja2 template (pyvis's template loads Bootstrap from a
CDN and writes titles as HTML). The map data travels as JSON in a non-executable
``<script type="application/json">`` with ``<``, ``>`` and ``&`` escaped, and the page's
script shows every string with ``textContent``. A Content-Security-Policy allows only the
page's own inline scripts (by hash) and no fetch at all, so even a mistake cannot load or
run anything else.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from jinja2 import BytecodeCache, Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from pydantic import BaseModel

from laborgraph.graph.analysis.overview import Overview
from laborgraph.graph.analysis.paths import RiskPath
from laborgraph.graph.analysis.privacy import SUPPRESSED_NAME
from laborgraph.visualize.model import MapModel
from laborgraph.visualize.style import SEVERITY_WORDS

VIS_VERSION = "vis-9.1.2"  # the copy pyvis ships; its Popup shows string titles as text
HERE = Path(__file__).parent


class GapLike(Protocol):
    @property
    def kind(self) -> object: ...
    @property
    def entity_id(self) -> str: ...
    @property
    def detail(self) -> str: ...


class GapRow(BaseModel):
    kind: str
    entity_id: str
    entity_name: str | None = None
    detail: str


@dataclass(frozen=True)
class _Assets:
    vis_js: str
    vis_css: str
    map_js: str
    map_css: str


@cache
def _assets() -> _Assets:
    # Found, not imported: importing pyvis imports IPython, a quarter of a second.
    vis = Path(_package_dir("pyvis")) / "lib" / VIS_VERSION
    own = HERE / "static"
    return _Assets(
        vis_js=_script_text((vis / "vis-network.min.js").read_text("utf-8")),
        vis_css=_without_images((vis / "vis-network.css").read_text("utf-8")),
        map_js=_script_text((own / "map.js").read_text("utf-8")),
        map_css=(own / "map.css").read_text("utf-8"),
    )


def _package_dir(name: str) -> str:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(name)
    return list(spec.submodule_search_locations)[0]


def _without_images(css: str) -> str:
    # Nine tenths of vis-network's style are inlined images of the navigation and editing
    # buttons, which maps never show.
    return re.sub(r"url\(\s*[\"']?data:[^)]*\)", "none", css)


def _script_text(code: str) -> str:
    # Inside <script>, only "</script" (any case) or "<!--" could end or confuse the element.
    for bad in ("</script", "</SCRIPT", "<!--"):
        code = code.replace(bad, bad.replace("<", "\\x3C"))
    return code


def preload() -> None:
    """Read the page's scripts and styles and compile its templates now (a server starting),
    not on the first request: a fifth of a second."""
    _assets()
    for template in ("map.html.j2", "home.html.j2", "summary.html.j2"):
        environment().get_template(template)


@cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=_compiled_templates(),
    )


def _compiled_templates() -> BytecodeCache | None:
    """Templates compiled once per user rather than once per process (a few tenths of a
    second for the map and the report): jinja2 keeps them in a directory of the temporary
    one only this user may read, keyed by each template's text. None where there is none."""
    try:
        return FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


def json_for_script(value: object) -> str:
    """JSON that cannot end or alter the <script> element holding it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return text


def _csp(scripts: Sequence[str]) -> str:
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts
    )
    return (
        f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )


def _page(template: str, model: MapModel, **context: object) -> str:
    assets = _assets()
    scripts = [assets.vis_js, assets.map_js]
    return (
        environment()
        .get_template(template)
        .render(
            model=model,
            csp=_csp(scripts),
            data=Markup(json_for_script(_compact(model.model_dump(mode="json", exclude_none=True)))),
            vis_js=Markup(assets.vis_js),
            map_js=Markup(assets.map_js),
            vis_css=Markup(assets.vis_css),
            map_css=Markup(assets.map_css),
            **context,
        )
    )


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    """The page's copy of the model, with each fact as [label, value, evidence?] and each
    section as [heading, facts]: facts are most of a large map's bytes."""

    def fact(f: dict[str, str]) -> list[str]:
        return [f["label"], f["value"], *([f["evidence"]] if "evidence" in f else [])]

    for node in data["nodes"]:
        node["facts"] = [[s["heading"], [fact(f) for f in s["facts"]]] for s in node.get("facts", [])]
    for path in data["paths"]:
        path["steps"] = [fact(f) for f in path["steps"]]
    return data


def render_map_html(model: MapModel, *, notice: str | None = None) -> str:
    """The map as one self-contained HTML page; ``notice`` (an unfinished write) shown on top."""
    return _page("map.html.j2", model, notice=notice)


def render_home_html(
    model: MapModel,
    gaps: Sequence[GapLike | Mapping[str, object]] = (),
    *,
    gap_totals: Mapping[str, int] | None = None,
    since: object | None = None,
    reports: Sequence[tuple[str, str]] = (),
    api_prefix: str = "/api/v1",
    docs_url: str = "/docs",
    max_paths: int = 25,
    notice: str | None = None,
) -> str:
    """The analyst's front page: the map, the top risk paths, the visibility gaps, the API.

    ``gap_totals`` says how many gaps of each kind there are when ``gaps`` lists only some;
    ``since`` is what changed since the last review (a ChangeReport), if there was one;
    ``reports`` the (id, name) of each buyer whose report the page links to (served pages)."""
    return _page(
        "home.html.j2",
        model,
        notice=notice,
        since=since,
        reports=reports,
        paths=model.paths[:max_paths],
        gaps=_by_kind([_gap_row(g, model.suppressed_ids) for g in gaps]),
        gap_totals=dict(gap_totals or {}),
        api_prefix=api_prefix.rstrip("/"),
        docs_url=docs_url,
    )


def render_summary_html(
    overview: Overview,
    paths: Sequence[RiskPath],
    *,
    gap_totals: Mapping[str, int],
    since: object | None = None,
    offset: int = 0,
    limit: int = 50,
    api_prefix: str = "/api/v1",
    docs_url: str = "/docs",
    notice: str | None = None,
) -> str:
    """The front page of a graph too large to draw at once: every buyer (a page of them)
    with the workers it reaches and its worst risk, each opening its chain's map; the top
    risk paths; how many visibility gaps of each kind. No script at all."""
    return (
        environment()
        .get_template("summary.html.j2")
        .render(
            title="AI data-work supply chains",
            notice=notice,
            overview=overview,
            buyers=overview.buyers[offset : offset + limit],
            offset=offset,
            limit=limit,
            paths=paths,
            gap_totals=dict(gap_totals),
            since=since,
            severity_words=SEVERITY_WORDS,
            api_prefix=api_prefix.rstrip("/"),
            docs_url=docs_url,
            map_css=Markup(_assets().map_css),
        )
    )


def _by_kind(rows: list[GapRow]) -> list[tuple[str, list[GapRow]]]:
    grouped: dict[str, list[GapRow]] = {}
    for row in rows:
        grouped.setdefault(row.kind, []).append(row)
    return list(grouped.items())


def _gap_row(gap: GapLike | Mapping[str, object], hidden: set[str]) -> GapRow:
    raw = (
        dict(gap)
        if isinstance(gap, Mapping)
        else {
            "kind": gap.kind,
            "entity_id": gap.entity_id,
            "detail": gap.detail,
            "entity_name": getattr(gap, "entity_name", None),
        }
    )
    row = GapRow(
        kind=str(raw["kind"]),
        entity_id=str(raw["entity_id"]),
        entity_name=None if raw.get("entity_name") is None else str(raw["entity_name"]),
        detail=str(raw["detail"]),
    )
    if row.entity_id.partition("/")[0] in hidden:
        dimension = row.entity_id.partition("/")[2]
        row = GapRow(
            kind=row.kind,
            entity_id=SUPPRESSED_NAME + (f"/{dimension}" if dimension else ""),
            entity_name=SUPPRESSED_NAME,
            detail="details hidden: the cohort has too few workers to be named",
        )
    return row

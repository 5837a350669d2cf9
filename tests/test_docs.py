"""The user's documentation: every link resolves inside the repository, every setting and
every bundle column the code knows is described, and the answers it quotes are laborgraph's."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
import typing
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote, urlsplit

from laborgraph.app.questions import Questions
from laborgraph.app.settings import Settings
from laborgraph.graph.analysis.paths import PathQuery
from laborgraph.graph.embedded import EmbeddedStore
from laborgraph.ingest.load import ingest_path
from laborgraph.ingest.validate import COLUMNS, core_columns, required_columns
from tests.conftest import EXAMPLE_BUNDLE

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def markdown_files(root: Path) -> list[Path]:
    """The documentation a user's clone holds: the README, docs/ and the examples' READMEs."""
    examples = sorted(root.glob("examples/*/README.md"))
    return [root / "README.md", *sorted((root / "docs").glob("*.md")), *examples]


def _prose(text: str) -> str:
    """The text outside fenced code blocks, where links are links."""
    return FENCE.sub("", text)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link counts by its text
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for heading in HEADING.findall(_prose(path.read_text(encoding="utf-8"))):
        base = slug(heading)
        name, n = base, 0
        while name in found:  # repeated headings get -1, -2, ...
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


def broken_links(root: Path) -> list[str]:
    """Every relative link in the documentation that does not resolve, as 'file: link: why'."""
    root = root.resolve()
    problems = []
    for page in markdown_files(root):
        if not page.exists():
            continue
        for target in LINK.findall(_prose(page.read_text(encoding="utf-8"))):
            parts = urlsplit(target)
            if parts.scheme or parts.netloc:
                continue  # a web address: not the repository's to resolve
            where = f"{page.relative_to(root)}: {target}"
            file = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not file.is_relative_to(root):
                problems.append(f"{where}: points outside the repository")
            elif not file.exists():
                problems.append(f"{where}: no such file")
            elif parts.fragment and (file.suffix != ".md" or parts.fragment not in anchors(file)):
                problems.append(f"{where}: no heading #{parts.fragment}")
    return problems


def test_every_link_in_the_documentation_resolves_inside_the_repository() -> None:
    assert broken_links(ROOT) == []


def test_broken_links_are_found(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "GUIDE.md").write_text("# Guide\n\n## Two words\n", encoding="utf-8")
    (tmp_path / "README.md").write_text(
        "# Readme\n\n"
        "[fine](docs/GUIDE.md#two-words) [here](#readme) [web](https://example.org/x.md)\n"
        "[gone](docs/MISSING.md) [no anchor](docs/GUIDE.md#three-words) [out](../elsewhere.md)\n"
        "```\n[in code](not/a/link.md)\n```\n",
        encoding="utf-8",
    )
    (tmp_path / "elsewhere.md").write_text("outside\n", encoding="utf-8")

    assert broken_links(tmp_path) == [
        "README.md: docs/MISSING.md: no such file",
        "README.md: docs/GUIDE.md#three-words: no heading #three-words",
        "README.md: ../elsewhere.md: points outside the repository",
    ]


def test_anchors_follow_github() -> None:
    assert slug("`LABORGRAPH_MIN_HEADCOUNT`") == "laborgraph_min_headcount"
    assert slug("Loading again, and updates") == "loading-again-and-updates"
    assert slug("[organizations.csv](x.md)") == "organizationscsv"


def test_every_setting_has_its_heading_in_the_configuration_page() -> None:
    variables = {str(field.validation_alias) for field in Settings.model_fields.values()}
    assert variables  # derived from the code: a new setting must be documented
    documented = anchors(DOCS / "CONFIGURATION.md")
    missing = [v for v in sorted(variables) if not any(v.lower() in heading for heading in documented)]
    assert missing == []


def _section(text: str, heading: str) -> str:
    """The text under a '## heading' up to the next heading of that level."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"no section '## {heading}'"
    return match.group(1)


def test_every_bundle_column_is_documented_with_whether_it_is_required() -> None:
    text = (DOCS / "BUNDLE.md").read_text(encoding="utf-8")
    undocumented, wrong = [], []
    for section in COLUMNS:
        rows = dict(re.findall(r"^\| `(\w+)` \| ([^|]+) \|", _section(text, f"{section}.csv"), re.MULTILINE))
        required = set(required_columns(section))
        for column in core_columns(section):
            if column not in rows:
                undocumented.append(f"{section}.csv {column}")
            elif (rows[column].strip() == "yes") != (column in required):
                wrong.append(f"{section}.csv {column}: {rows[column].strip()!r}")
    assert undocumented == [] and wrong == []


def _enums(annotation: object) -> set[type[StrEnum]]:
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return {annotation}
    return set().union(*(_enums(arg) for arg in typing.get_args(annotation)))


def test_every_allowed_value_of_a_bundle_column_is_documented() -> None:
    text = (DOCS / "BUNDLE.md").read_text(encoding="utf-8")
    enums = {
        enum
        for section, model in COLUMNS.items()
        for name, field in model.model_fields.items()
        if name in core_columns(section)
        for enum in _enums(field.annotation)
    }
    assert len(enums) >= 10  # kinds, functions, employment, setting, link types, dimensions, ...
    missing = [f"{e.__name__}.{v.value}" for e in enums for v in e if f"`{v.value}`" not in text]
    assert missing == []


def _code_block_after(text: str, marker: str) -> list[str]:
    """The lines of the first fenced block after ``marker``."""
    block = re.search(r"```[^\n]*\n(.*?)```", text[text.index(marker) :], re.DOTALL)
    assert block, f"no code block after {marker!r}"
    return block.group(1).splitlines()


# The five cells BUNDLE.md breaks in the example chain: (file, row as numbered, column, value).
BROKEN_CELLS = [
    ("cohorts.csv", 3, "country", "XX"),
    ("conditions.csv", 2, "benchmark", ""),
    ("decisions.csv", 2, "lever", "pricing_policy"),
    ("links.csv", 5, "to_id", "org-nowhere"),
    ("links.csv", 6, "to_id", "coh-halcyon-de-escalation"),
]


def test_the_documented_bundle_errors_are_what_ingest_prints(tmp_path: Path) -> None:
    bundle = shutil.copytree(EXAMPLE_BUNDLE, tmp_path / "bundle")
    for name, row, column, value in BROKEN_CELLS:
        with open(bundle / name, encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        rows[row - 1][rows[0].index(column)] = value
        with open(bundle / name, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(rows)
    result = subprocess.run(
        [sys.executable, "-m", "laborgraph.app.cli", "ingest", str(bundle)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "LABORGRAPH_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "1000"},
        cwd=ROOT,
        timeout=120,
    )
    documented = _code_block_after((DOCS / "BUNDLE.md").read_text(encoding="utf-8"), "five cells broken")
    assert result.returncode == 1
    assert result.stderr.splitlines() == documented


def test_the_worked_scoring_example_is_what_paths_answers(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    try:
        ingest_path(store, EXAMPLE_BUNDLE)
        ask = Questions(store, Settings(data_dir=tmp_path, scoring_file=None))
        found = list(ask.risk_paths(PathQuery(origin="org-halcyon", limit=5)))
    finally:
        store.close()
    answered = [
        f"| {p.rank} | {p.severity} | {p.likelihood} | {p.headcount} | {p.confidence} | {p.score} "
        f"| `{p.decision_id}` | `{p.cohort_id}` | {p.dimension.value} | {p.tier} |"
        for p in found
    ]
    text = (DOCS / "SCORING.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| [1-5] \| .*$", _section(text, "A worked example"), re.MULTILINE)
    assert documented == answered

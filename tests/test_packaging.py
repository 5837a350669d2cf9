"""Packaging (issue 16.12): the code installs under the one top-level name `laborgraph`, from
the repository's folders; every package folder and every data file in them is declared."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
FOLDERS = {name: ROOT / folder for name, folder in CONFIG["package-dir"].items()}


def package_of(path: Path) -> str:
    """The dotted name of the package folder that holds path."""
    for name, folder in sorted(FOLDERS.items(), key=lambda item: -len(str(item[1]))):
        if path.is_relative_to(folder):
            rest = path.relative_to(folder).parts
            return ".".join((name, *rest))
    raise AssertionError(f"{path} is in no package folder")


def test_every_top_level_package_is_under_laborgraph() -> None:
    assert all(name == "laborgraph" or name.startswith("laborgraph.") for name in CONFIG["packages"])
    assert all(name == "laborgraph" or name.startswith("laborgraph.") for name in CONFIG["package-dir"])


def test_every_folder_with_an_init_is_a_listed_package() -> None:
    found = {package_of(init.parent) for folder in FOLDERS.values() for init in folder.rglob("__init__.py")}
    missing = sorted(found - set(CONFIG["packages"]))
    assert not missing, f"add {missing} to [tool.setuptools] packages in pyproject.toml"
    assert not sorted(set(CONFIG["packages"]) - found), "pyproject.toml lists packages that do not exist"


def test_every_data_file_is_package_data() -> None:
    data = CONFIG.get("package-data", {})
    undeclared = []
    for folder in FOLDERS.values():
        for path in folder.rglob("*"):
            if not path.is_file() or path.suffix in {".py", ".pyc"} or "__pycache__" in path.parts:
                continue
            if any(part.startswith(".") for part in path.relative_to(ROOT).parts):
                continue
            owner = path.parent
            while not (owner / "__init__.py").exists():
                owner = owner.parent
            rel = path.relative_to(owner).as_posix()
            if not any(fnmatch.fnmatch(rel, glob) for glob in data.get(package_of(owner), [])):
                undeclared.append(f"{package_of(owner)}: {rel}")
    assert not undeclared, f"declare these in [tool.setuptools.package-data]: {undeclared}"

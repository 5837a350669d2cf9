"""Scoring rules and a user's own scoring file."""

from __future__ import annotations

from pathlib import Path

import pytest

from laborgraph.graph.errors import ConfigError
from laborgraph.graph.model import Condition
from laborgraph.graph.scoring import DEFAULT_SCORING_FILE, load_scoring


def condition(dimension: str, status: str | None = None, **fields: object) -> Condition:
    return Condition(cohort_id="c", dimension=dimension, status=status, **fields)


def test_severity_rules() -> None:
    config = load_scoring()
    assert config.severity_of(condition("content_safety", "violates"))[0] == 5
    assert config.severity_of(condition("content_safety", "at_risk"))[0] == 4
    assert config.severity_of(condition("task_clarity", "unknown"))[0] == 1  # 2 - 2, never below 1
    assert config.severity_of(condition("pay", value=1.0, benchmark=2.5))[0] == 5  # below half: +1
    assert config.severity_of(condition("pay", value=2.0, benchmark=2.5))[0] == 4
    assert config.severity_of(condition("pay", value=2.6, benchmark=2.5))[0] == 3  # at risk (< 110 %)
    assert config.likelihood_of(condition("pay", value=3, benchmark=2.5).status) is None  # meets


def test_a_users_scoring_file_changes_the_scores(tmp_path: Path) -> None:
    custom = tmp_path / "scoring.toml"
    custom.write_text(DEFAULT_SCORING_FILE.read_text().replace("voice = 3", "voice = 5"))
    assert load_scoring(custom).severity_of(condition("voice", "violates"))[0] == 5


def test_a_broken_scoring_file_says_what_is_wrong(tmp_path: Path) -> None:
    broken = tmp_path / "scoring.toml"
    broken.write_text(DEFAULT_SCORING_FILE.read_text().replace("violates = 1.0", "violates = 3.0"))
    with pytest.raises(ConfigError, match="likelihood.violates"):
        load_scoring(broken)
    with pytest.raises(ConfigError, match="cannot read"):
        load_scoring(tmp_path / "missing.toml")
    overconfident = tmp_path / "overconfident.toml"
    overconfident.write_text(DEFAULT_SCORING_FILE.read_text().replace("verified = 1.0", "verified = 5.0"))
    with pytest.raises(ConfigError, match="confidence.verified"):
        load_scoring(overconfident)

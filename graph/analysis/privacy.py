"""Small-cohort suppression: outputs never show a cohort so small its workers could be singled out."""

from __future__ import annotations

from graph.analysis.paths import RiskPath

SUPPRESSED_NAME = "suppressed cohort"


def is_small(headcount: int | None, min_headcount: int) -> bool:
    """Whether a cohort must be suppressed; an unknown headcount is not assumed small."""
    return headcount is not None and headcount < min_headcount


def suppress_path(path: RiskPath, min_headcount: int) -> RiskPath:
    """The path with its cohort's name and headcount hidden if the cohort is too small."""
    if not is_small(path.headcount, min_headcount):
        return path
    note = f"{SUPPRESSED_NAME} (fewer than {min_headcount} workers)"
    return path.model_copy(
        update={
            "cohort_name": note,
            "headcount": None,
            "suppressed": True,
            "explanation": path.explanation.replace(path.cohort_name, note),
        }
    )

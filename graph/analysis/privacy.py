"""Small-cohort suppression: outputs never single out a cohort so small its workers could be.

A suppressed cohort keeps its place in every answer (its tier, its conditions, the decisions
reaching it) but loses what identifies it: its name, its headcount and its id, which in
practice describes it (``coh-kora-ke-arabic-reviewers``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

DEFAULT_MIN_HEADCOUNT = 5  # LABORGRAPH_MIN_HEADCOUNT unless set
SUPPRESSED_NAME = "suppressed cohort"
SUPPRESSED_ID = "suppressed-cohort"


class ShownCohort(NamedTuple):
    """What an output may say of a cohort."""

    id: str
    name: str
    headcount: int | None
    suppressed: bool


@dataclass(frozen=True)
class Privacy:
    """The one policy every output applies: cohorts with fewer workers than
    ``min_headcount`` are never singled out (0 shows every cohort, as for admins)."""

    min_headcount: int = 0

    def hides(self, headcount: int | None) -> bool:
        return is_small(headcount, self.min_headcount)

    def cohort(self, cohort_id: str, name: str, headcount: int | None) -> ShownCohort:
        """The id, name and headcount to show for a cohort; a hidden one's say only that it is."""
        return HIDDEN if self.hides(headcount) else ShownCohort(cohort_id, name, headcount, False)

    def described(self, shown: ShownCohort) -> str:
        """The cohort as a sentence names it: a hidden one with the threshold it falls under."""
        return f"{shown.name} (fewer than {self.min_headcount} workers)" if shown.suppressed else shown.name

    def masked(self, entity_id: str, cohort_id: str, shown: ShownCohort) -> str:
        """``entity_id`` (the cohort's, a condition's, any other) as outputs may show it."""
        return mask_id(entity_id, cohort_id) if shown.suppressed else entity_id


SHOW_ALL = Privacy(0)
DEFAULT_PRIVACY = Privacy(DEFAULT_MIN_HEADCOUNT)
HIDDEN = ShownCohort(SUPPRESSED_ID, SUPPRESSED_NAME, None, True)  # a cohort an output may not single out


def is_small(headcount: int | None, min_headcount: int) -> bool:
    """Whether a cohort must be suppressed; an unknown headcount is not assumed small."""
    return headcount is not None and headcount < min_headcount


def mask_id(entity_id: str, cohort_id: str) -> str:
    """``entity_id`` with a suppressed cohort's id (alone, or in a condition id) masked."""
    if entity_id == cohort_id:
        return SUPPRESSED_ID
    if entity_id.startswith(cohort_id + "/"):
        return SUPPRESSED_ID + entity_id[len(cohort_id) :]
    return entity_id

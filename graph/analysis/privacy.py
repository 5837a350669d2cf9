"""Small-cohort suppression: outputs never single out a cohort so small its workers could be.

A suppressed cohort keeps its place in every answer (its tier, its conditions, the decisions
reaching it) but loses what identifies it: its name, its headcount and its id, which in
practice describes it (``coh-kora-ke-arabic-reviewers``).
"""

from __future__ import annotations

from graph.analysis.paths import Hop, RiskPath

SUPPRESSED_NAME = "suppressed cohort"
SUPPRESSED_ID = "suppressed-cohort"


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


def suppress_path(path: RiskPath, min_headcount: int) -> RiskPath:
    """The path with its cohort's name, headcount and id hidden if the cohort is too small."""
    if not is_small(path.headcount, min_headcount):
        return path
    cohort = path.cohort_id
    note = f"{SUPPRESSED_NAME} (fewer than {min_headcount} workers)"
    return path.model_copy(
        update={
            "cohort_id": SUPPRESSED_ID,
            "cohort_name": note,
            "headcount": None,
            "suppressed": True,
            "chain": [mask_id(i, cohort) for i in path.chain],
            "hops": [_mask_hop(hop, cohort) for hop in path.hops],
            # The name stands in one known place: "..., which reaches <name> at tier ...".
            "explanation": path.explanation.replace(f"reaches {path.cohort_name} at", f"reaches {note} at"),
        }
    )


def _mask_hop(hop: Hop, cohort_id: str) -> Hop:
    if cohort_id not in (hop.from_id, hop.to_id.partition("/")[0]):
        return hop
    claim = " ".join(mask_id(word, cohort_id) for word in hop.claim.split(" "))
    return hop.model_copy(
        update={
            "from_id": mask_id(hop.from_id, cohort_id),
            "to_id": mask_id(hop.to_id, cohort_id),
            "claim": claim,
        }
    )

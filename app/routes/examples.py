"""Example responses for the OpenAPI document, taken from the bundled example chain."""

from __future__ import annotations

from typing import Any

from laborgraph.graph.analysis.changes import Change
from laborgraph.graph.analysis.paths import RiskPath
from laborgraph.graph.analysis.scorecards import Scorecard
from laborgraph.visualize.export import stream_changes_csv, stream_csv, stream_scorecards_csv

RISK_PATH: dict[str, Any] = {
    "rank": 1,
    "severity": 5,
    "likelihood": 1.0,
    "confidence": 0.2646,
    "score": 5.0,
    "buyer_id": "org-halcyon",
    "buyer_name": "Halcyon Labs",
    "unit_id": "unit-halcyon-trust-safety",
    "unit_name": "Trust & Safety Policy",
    "decision_id": "dec-halcyon-content-scope",
    "lever": "content_scope",
    "project": "sentinel-moderation",
    "applies_to": "org-tessera",
    "tier": 2,
    "chain": [
        "unit-halcyon-trust-safety",
        "dec-halcyon-content-scope",
        "org-tessera",
        "org-savanna",
        "coh-savanna-ke-moderators",
        "coh-savanna-ke-moderators/content_safety",
    ],
    "cohort_id": "coh-savanna-ke-moderators",
    "cohort_name": "Savanna Nairobi sentinel moderators",
    "country": "KE",
    "headcount": 420,
    "dimension": "content_safety",
    "status": "violates",
    "hops": [
        {
            "claim": "unit-halcyon-trust-safety made dec-halcyon-content-scope, applying to org-tessera",
            "from_id": "unit-halcyon-trust-safety",
            "to_id": "org-tessera",
            "relation": "DECIDES",
            "project": "sentinel-moderation",
            "evidence_grade": "documented",
            "source_ids": ["src-halcyon-tessera-sow"],
        },
        {
            "claim": "org-tessera SUBCONTRACTS org-savanna",
            "from_id": "org-tessera",
            "to_id": "org-savanna",
            "relation": "SUBCONTRACTS",
            "project": "sentinel-moderation",
            "evidence_grade": "self_declared",
            "source_ids": ["src-tessera-supplier-attestation"],
        },
        {
            "claim": "org-savanna ENGAGES coh-savanna-ke-moderators",
            "from_id": "org-savanna",
            "to_id": "coh-savanna-ke-moderators",
            "relation": "ENGAGES",
            "project": "sentinel-moderation",
            "evidence_grade": "reported",
            "source_ids": ["src-savanna-worker-survey"],
        },
        {
            "claim": "coh-savanna-ke-moderators content_safety violates",
            "from_id": "coh-savanna-ke-moderators",
            "to_id": "coh-savanna-ke-moderators/content_safety",
            "relation": "CONDITION",
            "project": None,
            "evidence_grade": "reported",
            "source_ids": ["src-savanna-worker-survey"],
        },
    ],
    "actions": [],
    "explanation": "Trust & Safety Policy (Halcyon Labs) made the content_scope decision"
    " dec-halcyon-content-scope, which reaches Savanna Nairobi sentinel moderators at tier 2"
    " through Tessera Data Services > Savanna Trust Services; the content_scope lever covers"
    " content_safety. Severity 5: content_safety has base severity 5. Likelihood 1: the condition"
    " is violates. Confidence 0.26 from the evidence on 4 hops"
    " (documented × self_declared × reported × reported).",
    "suppressed": False,
}

PATH_PAGE = {"items": [RISK_PATH], "offset": 0, "limit": 1, "next_offset": 1}

# The CSV route's example is the JSON example exported, so the two never disagree.
PATHS_CSV = "".join(stream_csv([RiskPath.model_validate(RISK_PATH)]))


INFLUENCERS = {
    "cohort_id": "coh-savanna-ke-moderators",
    "cohort_name": "Savanna Nairobi sentinel moderators",
    "dimension": "pay",
    "units": 3,
    "organizations": 2,
    "influencers": [
        {
            "unit_id": "unit-halcyon-commercial",
            "unit_name": "Commercial Pricing",
            "function": "finance",
            "organization_id": "org-halcyon",
            "organization_name": "Halcyon Labs",
            "worst_severity": 5,
            "routes": [
                {
                    "decision_id": "dec-halcyon-rate-card",
                    "lever": "pricing",
                    "project": "sentinel-moderation",
                    "applies_to": "org-tessera",
                    "evidence_grade": "verified",
                    "chains": [["org-tessera", "org-savanna"]],
                    "effects": [{"dimension": "pay", "status": "violates", "severity": 5}],
                }
            ],
        }
    ],
}

TIERS = {
    "viewpoint": "org-halcyon",
    "viewpoint_name": "Halcyon Labs",
    "max_tier": 3,
    "tiers": [
        {"tier": 0, "organizations": 1, "cohorts": 0, "workers": 0},
        {"tier": 1, "organizations": 2, "cohorts": 3, "workers": 1240},
    ],
    "countries": [{"country": "KE", "organizations": 2, "cohorts": 4, "workers": 2390}],
    "total": 17,
    "offset": 0,
    "limit": 1,
    "next_offset": 1,
    "entries": [
        {
            "id": "org-halcyon",
            "name": "Halcyon Labs",
            "entity": "organization",
            "kinds": ["buyer"],
            "country": "DE",
            "headcount": None,
            "tier": 0,
            "via": None,
            "link": None,
        },
        {
            "id": "org-kora",
            "name": "Kora Annotation Services",
            "entity": "organization",
            "kinds": ["vendor"],
            "country": "KE",
            "headcount": None,
            "tier": 1,
            "via": "org-halcyon",
            "link": "CONTRACTS",
        },
    ],
}

GAPS = {
    "counts": [
        {"kind": "organization_without_cohorts", "dimension": None, "count": 1},
        {"kind": "stale_evidence", "dimension": None, "count": 16},
        {"kind": "stale_evidence", "dimension": "contract", "count": 3},
    ],
    "total": 1,
    "offset": 0,
    "limit": 1,
    "next_offset": None,
    "items": [
        {
            "kind": "organization_without_cohorts",
            "entity_id": "org-greyline",
            "entity_name": "Greyline Data Partners",
            "dimension": None,
            "detail": "routes work onward to org-farpoint but no cohort is known beneath it",
            "related_ids": ["org-farpoint"],
        },
    ],
}

FRAGMENTATION = {
    "total": 21,
    "units_per_cohort": [{"units": 0, "cohorts": 2}, {"units": 7, "cohorts": 1}],
    "offset": 0,
    "limit": 1,
    "next_offset": 1,
    "cohorts": [
        {
            "cohort_id": "coh-microlane-ve-gig",
            "cohort_name": "Microlane workers in Venezuela",
            "headcount": 1800,
            "units": 7,
            "organizations": 4,
            "unit_ids": [
                "unit-halcyon-moderation-ops",
                "unit-halcyon-sourcing",
                "unit-kora-operations",
            ],
        }
    ],
    "buyers": [
        {
            "buyer_id": "org-halcyon",
            "buyer_name": "Halcyon Labs",
            "units": [
                {
                    "unit_id": "unit-halcyon-moderation-ops",
                    "unit_name": "Moderation Operations",
                    "function": "operations",
                    "cohorts": 10,
                    "workers": 5822,
                }
            ],
        }
    ],
}

ORGANIZATION = {
    "entity": "organization",
    "id": "org-halcyon",
    "name": "Halcyon Labs",
    "kinds": ["buyer"],
    "country": "DE",
    "evidence_grade": "verified",
    "source_ids": ["src-halcyon-tessera-sow"],
    "extra": {},
}

ENTITY_PAGE = {"total": 17, "offset": 0, "limit": 1, "next_offset": 1, "items": [ORGANIZATION]}

STATS = {
    "store": "embedded",
    "entities": {
        "organization": 17,
        "unit": 16,
        "cohort": 26,
        "condition": 105,
        "decision": 23,
        "source": 25,
        "benchmark": 9,
        "action": 4,
    },
    "links": 46,
}

INGEST_REPORT = {
    "store": "embedded",
    "counts": {
        "organizations": 17,
        "units": 16,
        "cohorts": 26,
        "conditions": 105,
        "decisions": 23,
        "sources": 25,
        "benchmarks": 9,
        "actions": 4,
        "links": 46,
    },
    "warnings": [
        {
            "file": "conditions.csv",
            "row": 12,
            "column": "status",
            "message": "status 'at_risk' contradicts the derived 'violates'",
        }
    ],
    "rows": 271,
    "seconds": 0.12,
}

REVISION = {
    "number": 2,
    "at": "2026-03-02T09:14:05Z",
    "label": "2026-Q1 review",
    "digest": "e34732bc1117aafc7971042480155616bea8046968adc2f27042626d9f14d399",
    "writer": "analyst",
    "counts": {"added": 14, "changed": 6, "retracted": 1, "observations": 6},
}
INGEST_REPORT["revision"] = REVISION
BETTER_PATH = {
    "change": "better",
    "kind": "risk_path",
    "id": None,
    "decision_id": "dec-halcyon-rate-card",
    "cohort_id": "coh-savanna-ke-moderators",
    "dimension": "pay",
    "buyer_id": "org-halcyon",
    "revision": 2,
    "from_revision": 1,
    "to_revision": 2,
    "before": "severity 5, likelihood 1 (violates)",
    "after": "severity 3, likelihood 0.6 (at_risk)",
    "evidence": "coh-savanna-ke-moderators pay at_risk: verified"
    " [src-savanna-payslips-2026|src-living-wage-2025]",
}
RETRACTED_LINK = {
    "change": "retracted",
    "kind": "link",
    "id": "org-brightlabel|SOURCES_VIA|org-taskhive|aurora-eval",
    "decision_id": None,
    "cohort_id": None,
    "dimension": None,
    "buyer_id": None,
    "revision": 2,
    "from_revision": 1,
    "to_revision": 2,
    "before": "org-brightlabel SOURCES_VIA org-taskhive (project aurora-eval)",
    "after": None,
    "evidence": "retracted: Brightlabel's 2026 audit found no aurora-eval work routed to TaskHive",
}
CHANGES = {
    "from_revision": 1,
    "to_revision": 2,
    "buyer_id": None,
    "counts": {"link:retracted": 1, "risk_path:better": 3},
    "total": 4,
    "offset": 0,
    "limit": 2,
    "next_offset": 2,
    "items": [BETTER_PATH, RETRACTED_LINK],
}
HISTORY = {
    "id": "org-farpoint",
    "versions": [
        {
            "key": "org-farpoint",
            "kind": "entity",
            "since": 1,
            "until": 3,
            "record": {
                "entity": "organization",
                "id": "org-farpoint",
                "name": "Farpoint Tasking",
                "kinds": ["subcontractor"],
                "country": "GH",
                "evidence_grade": "inferred",
                "source_ids": [],
                "extra": {},
            },
            "retracted": "not a real company: a trading name of Greyline",
        }
    ],
    "observations": [],
}
CHANGES_CSV = "".join(
    stream_changes_csv([Change.model_validate(BETTER_PATH), Change.model_validate(RETRACTED_LINK)])
)
RETRACTED = {"revision": {**REVISION, "number": 3, "label": None, "digest": "",
                          "counts": {"added": 0, "changed": 0, "retracted": 2, "observations": 0}},
             "orphaned_cohorts": []}  # fmt: skip
HALCYON = "coh-halcyon-de-escalation"


def _evidence(dimension: str, status: str, grade: str, sources: list[str]) -> dict[str, Any]:
    return {
        "condition_id": f"{HALCYON}/{dimension}",
        "cohort_id": HALCYON,
        "dimension": dimension,
        "status": status,
        "evidence_grade": grade,
        "evidence_date": "2025-10-01",
        "source_ids": sources,
    }


def _short(point: str, dimension: str, reason: str) -> dict[str, Any]:
    return {"point": point, "cohort_id": HALCYON, "dimension": dimension, "reason": reason}


def _principle(
    principle: str, dimensions: list[str], points: int, rests_on: list[Any], missing: list[Any]
) -> dict[str, Any]:
    return {
        "principle": principle,
        "title": principle.replace("_", " ").title(),
        "dimensions": dimensions,
        "basic": points >= 1,
        "advanced": points == 2,
        "rests_on": rests_on,
        "rests_on_total": len(rests_on),
        "missing": missing,
        "missing_total": len(missing),
    }


NOT_RECORDED = "no condition is recorded"
SCORECARD: dict[str, Any] = {
    "organization_id": "org-halcyon",
    "organization_name": "Halcyon Labs",
    "cohorts": 1,
    "points": 2,
    "review_day": "2025-11-03",
    "principles": [
        _principle(
            "fair_pay",
            ["pay", "payment_terms"],
            0,
            [_evidence("pay", "meets", "verified", ["src-living-wage-2025"])],
            [_short("basic", "payment_terms", NOT_RECORDED)],
        ),
        _principle(
            "fair_conditions",
            ["workload", "content_safety"],
            1,
            [
                _evidence("workload", "at_risk", "documented", []),
                _evidence("content_safety", "at_risk", "documented", []),
            ],
            [
                _short("advanced", "workload", "at_risk, not meets; cites no source"),
                _short("advanced", "content_safety", "at_risk, not meets; cites no source"),
            ],
        ),
        _principle("fair_contracts", ["contract"], 0, [], [_short("basic", "contract", NOT_RECORDED)]),
        _principle("fair_management", ["management"], 0, [], [_short("basic", "management", NOT_RECORDED)]),
        _principle(
            "fair_representation",
            ["voice"],
            1,
            [_evidence("voice", "meets", "verified", [])],
            [_short("advanced", "voice", "cites no source")],
        ),
    ],
}
SCORECARD_PAGE = {
    "review_day": "2025-11-03",
    "total": 14,
    "by_points": [
        {"points": 0, "organizations": 9},
        {"points": 1, "organizations": 2},
        {"points": 2, "organizations": 2},
        {"points": 8, "organizations": 1},
    ],
    "principles": [
        {"principle": "fair_pay", "basic": 1, "advanced": 0},
        {"principle": "fair_conditions", "basic": 2, "advanced": 0},
        {"principle": "fair_contracts", "basic": 4, "advanced": 1},
        {"principle": "fair_management", "basic": 2, "advanced": 1},
        {"principle": "fair_representation", "basic": 2, "advanced": 1},
    ],
    "offset": 3,
    "limit": 1,
    "next_offset": 4,
    "items": [SCORECARD],
}
SCORECARDS_CSV = "".join(stream_scorecards_csv([Scorecard.model_validate(SCORECARD)]))


def _observed(revision: int, current: bool, value: float, status: str, day: str, grade: str,
              sources: list[str]) -> dict[str, Any]:  # fmt: skip
    condition = {
        "entity": "condition", "cohort_id": "coh-savanna-ke-moderators", "dimension": "pay", "status": status,
        "value": value, "value_unit": "USD/h", "benchmark": 2.4, "observed_at": day, "evidence_grade": grade,
        "source_ids": sources, "note": None, "extra": {},
    }  # fmt: skip
    return {"revision": revision, "current": current, "condition": condition}


TRACKED_ACTION: dict[str, Any] = {
    "id": "act-savanna-rate-share",
    "target": "dec-tessera-savanna-rate:coh-savanna-ke-moderators/pay",
    "target_kind": "risk_path",
    "owner_unit_id": "unit-tessera-delivery",
    "kind": "change_decision",
    "status": "done",
    "description": "Raise Savanna's share of the sentinel-moderation rate card so that its moderators earn"
    " at least the Nairobi living wage",
    "opened_at": "2025-10-15",
    "due_at": "2026-01-31",
    "closed_at": "2026-01-12",
    "evidence_grade": "verified",
    "source_ids": ["src-savanna-payslips-2026"],
    "overdue": False,
    "effect": "improved",
    "condition_id": "coh-savanna-ke-moderators/pay",
    "before": _observed(1, False, 1.1, "violates", "2025-08-15", "reported", ["src-savanna-worker-survey"]),
    "after": _observed(2, True, 2.6, "at_risk", "2026-02-20", "verified", ["src-savanna-payslips-2026"]),
    "pay": {"before": 0.4583, "after": 1.0833},
    "explanation": "improved: pay went from 46% to 108% of its benchmark (before: violates, 1.1 USD/h"
    " against 2.4, observed 2025-08-15; after: at_risk, 2.6 USD/h against 2.4, observed 2026-02-20)",
    "conditions": [],
}
ACTIONS = {
    "today": "2026-03-01",
    "buyer_id": None,
    "counts": {
        "effect:improved": 1,
        "effect:not_measured": 2,
        "effect:unchanged": 1,
        "effect:worsened": 1,
        "overdue": 1,
        "status:done": 2,
        "status:dropped": 1,
        "status:in_progress": 1,
        "status:planned": 1,
    },  # fmt: skip
    "total": 5,
    "offset": 0,
    "limit": 1,
    "next_offset": 1,
    "items": [TRACKED_ACTION],
}
CLOSED = {"added": 0, "changed": 1, "retracted": 0, "observations": 0}
ACTION_WRITTEN = {
    "action": TRACKED_ACTION,
    "revision": {**REVISION, "number": 3, "label": None, "digest": "", "counts": CLOSED},
    "warnings": [],
}
ACTION_REFUSED = {
    "error": "invalid_bundle",
    "message": "bundle rejected with 1 error; nothing was written",
    "errors": [
        {
            "file": "request body",
            "row": 1,
            "column": "target",
            "message": "'coh-nowhere' is neither in the bundle nor in the graph",
        }
    ],
    "warnings": [],
}

HEALTH = {
    "status": "ok",
    "store": "embedded",
    "reachable": True,
    "detail": "embedded store at /var/lib/laborgraph/laborgraph.sqlite is reachable",
}


def json_example(example: object, description: str = "Success.") -> dict[int | str, dict[str, Any]]:
    """A ``responses=`` entry giving the 200 response an example."""
    return {200: {"description": description, "content": {"application/json": {"example": example}}}}

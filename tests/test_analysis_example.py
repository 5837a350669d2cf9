"""The example chain's answers, as a due-diligence analyst would state them, on both stores."""

from __future__ import annotations

from datetime import date

import pytest

from laborgraph.graph.analysis import regions
from laborgraph.graph.analysis.gaps import GapKind, VisibilityGaps, visibility_gaps
from laborgraph.graph.analysis.influence import fragmentation, influencers
from laborgraph.graph.analysis.paths import PathQuery, RiskPath, trace_risk_paths
from laborgraph.graph.analysis.tiers import tier_map
from laborgraph.graph.scoring import load_scoring
from laborgraph.graph.store import GraphStore
from laborgraph.graph.vocabulary import Dimension
from laborgraph.ingest.load import ingest_path
from tests.conftest import EXAMPLE_BUNDLE

SCORING = load_scoring()
AURORA_RLHF_COHORTS = {"coh-tessera-us-rlhf-experts", "coh-meridian-in-rlhf"}
SENTINEL_COHORTS = {"coh-savanna-ke-moderators", "coh-lakeside-ug-moderators"}


@pytest.fixture
def example(store: GraphStore) -> GraphStore:
    ingest_path(store, EXAMPLE_BUNDLE)
    return store


def trace(store: GraphStore, origin: str | None = None, **query: object) -> list[RiskPath]:
    view = regions.region_view(
        store, origin or (str(query["target"]).partition("/")[0] if query.get("target") else None)
    )
    return trace_risk_paths(view, PathQuery(origin=origin, limit=None, **query), SCORING)


def summary(path: RiskPath) -> tuple[str, str, str, int]:
    return path.decision_id, path.cohort_id, path.dimension.value, path.severity


def test_each_buyers_worst_paths_are_the_ones_an_analyst_would_name(example: GraphStore) -> None:
    halcyon = trace(example, "org-halcyon")
    assert [summary(p) for p in halcyon[:3]] == [
        ("dec-halcyon-content-scope", "coh-savanna-ke-moderators", "content_safety", 5),
        ("dec-halcyon-rate-card", "coh-savanna-ke-moderators", "pay", 5),  # pay below half the living wage
        ("dec-halcyon-sla-deadline", "coh-savanna-ke-moderators", "pay", 5),
    ]
    assert halcyon[0].organizations == ["org-tessera", "org-savanna"] and halcyon[0].tier == 2
    nimbus = trace(example, "org-nimbus")
    assert summary(nimbus[0]) == ("dec-nimbus-redteam-scope", "coh-taskhive-us-gig", "content_safety", 5)
    quill = trace(example, "org-quillmind")
    assert summary(quill[0]) == ("dec-quill-audio-rate", "coh-microlane-ve-gig", "pay", 4)
    assert quill[0].organizations == ["org-vantage", "org-andes", "org-orinoco", "org-microlane"]
    assert quill[0].tier == 4
    assert (len(halcyon), len(nimbus), len(quill)) == (41, 57, 31)


def test_one_buyers_decisions_never_reach_another_buyers_project(example: GraphStore) -> None:
    halcyon_cohorts = {p.cohort_id for p in trace(example, "org-halcyon")}
    nimbus_cohorts = {p.cohort_id for p in trace(example, "org-nimbus")}
    assert not halcyon_cohorts & AURORA_RLHF_COHORTS
    assert not nimbus_cohorts & SENTINEL_COHORTS
    assert "coh-meridian-in-rlhf" in nimbus_cohorts  # Nimbus's own project does reach it
    # The shared vendor's unscoped cohort is reached by both.
    assert "coh-tessera-ph-qa-leads" in {
        p.cohort_id for p in trace(example, "org-halcyon", min_severity=1)
    } | {e.id for e in tier_map(regions.region_view(example, "org-halcyon"), "org-halcyon").entries}


def test_paths_are_simple_bounded_and_ranked(example: GraphStore) -> None:
    paths = trace(example)
    assert len(paths) == 150
    for path in paths:
        orgs = path.organizations
        assert len(orgs) == len(set(orgs)), "a chain visits an organization twice"
        assert len(orgs) <= 6  # default depth: 6 links including ENGAGES
    keys = [
        (-p.severity, -p.likelihood, -(p.headcount or 0), p.cohort_id, p.dimension.value, p.decision_id)
        for p in paths
    ]
    assert keys == sorted(keys)
    assert [p.rank for p in paths] == list(range(1, 151))
    assert {p.status.value for p in paths} == {"violates", "at_risk", "unknown"}  # never "meets"


def test_depth_bound_cuts_long_chains(example: GraphStore) -> None:
    deep = trace(example, "org-quillmind")
    shallow = trace(example, "org-quillmind", depth=3)
    assert max(len(p.organizations) for p in deep) == 4
    # depth 3 = at most two supply links below where the decision applies, then ENGAGES
    assert shallow and max(len(p.organizations) for p in shallow) == 3


def test_filters_and_paging(example: GraphStore) -> None:
    everything = trace(example, "org-nimbus")
    severe = trace(example, "org-nimbus", min_severity=4)
    assert severe == [p for p in everything if p.severity >= 4]
    pay = trace(example, "org-nimbus", dimension="pay")
    assert pay and {p.dimension.value for p in pay} == {"pay"}
    in_ve = trace(example, "org-nimbus", country="VE")
    assert in_ve and {p.country for p in in_ve} == {"VE"}
    view = regions.region_view(example, "org-nimbus")
    page = trace_risk_paths(view, PathQuery(origin="org-nimbus", offset=5, limit=3), SCORING)
    assert [p.rank for p in page] == [6, 7, 8] and page == everything[5:8]
    to_condition = trace(example, target="coh-savanna-ke-moderators/pay")
    assert {p.decision_id for p in to_condition} == {
        "dec-halcyon-rate-card",
        "dec-halcyon-sla-deadline",
        "dec-tessera-savanna-rate",
    }


def test_scores_explain_themselves(example: GraphStore) -> None:
    top = trace(example, "org-halcyon")[1]  # Savanna pay 1.10 against 2.40 USD/h
    assert top.severity == 5 and top.likelihood == 1.0 and top.score == 5.0
    assert "below half the benchmark" in top.explanation
    expected_confidence = 1.0
    for hop in top.hops:
        expected_confidence *= SCORING.confidence[hop.evidence_grade]
    assert top.confidence == pytest.approx(expected_confidence, abs=1e-4)
    assert [h.relation for h in top.hops] == ["DECIDES", "SUBCONTRACTS", "ENGAGES", "CONDITION"]
    assert all(h.evidence_grade for h in top.hops)


def test_tiers_are_computed_from_the_viewpoint(example: GraphStore) -> None:
    halcyon = {
        e.id: e.tier for e in tier_map(regions.region_view(example, "org-halcyon"), "org-halcyon").entries
    }
    assert (halcyon["org-tessera"], halcyon["org-savanna"], halcyon["org-lakeside"]) == (1, 2, 3)
    assert halcyon["coh-savanna-ke-moderators"] == 2  # the tier of the organization that engages it
    assert halcyon["coh-halcyon-de-escalation"] == 0  # engaged by the buyer itself
    assert "org-meridian" not in halcyon  # only reachable on Nimbus's project
    tessera = {
        e.id: e.tier for e in tier_map(regions.region_view(example, "org-tessera"), "org-tessera").entries
    }
    assert tessera["org-savanna"] == 1 and tessera["org-meridian"] == 1  # a vendor sees all its work


def test_tiers_say_what_each_tier_holds_and_page_the_entries(example: GraphStore) -> None:
    chain = regions.chain_view(example, "org-halcyon")
    every = tier_map(chain, "org-halcyon")
    assert tier_map(regions.region_view(example, "org-halcyon"), "org-halcyon") == every
    assert sum(t.organizations + t.cohorts for t in every.tiers) == every.total == len(every.entries)
    assert sum(t.workers for t in every.tiers) == sum(e.headcount or 0 for e in every.entries)
    assert sum(c.workers for c in every.countries) == sum(t.workers for t in every.tiers)
    assert [t.tier for t in every.tiers] == list(range(every.max_tier + 1))
    page = tier_map(chain, "org-halcyon", offset=3, limit=4)
    assert page.entries == every.entries[3:7] and page.next_offset == 7
    assert (page.tiers, page.countries, page.total) == (every.tiers, every.countries, every.total)
    assert tier_map(chain, "org-halcyon", offset=every.total - 1, limit=4).next_offset is None


def test_influencers_name_every_unit_behind_a_condition(example: GraphStore) -> None:
    found = influencers(
        regions.region_view(example, "coh-savanna-ke-moderators"), "coh-savanna-ke-moderators", SCORING, "pay"
    )
    assert [i.unit_id for i in found.influencers] == [
        "unit-halcyon-commercial",
        "unit-halcyon-moderation-ops",
        "unit-tessera-delivery",
    ]
    assert (found.units, found.organizations) == (3, 2)
    assert found.influencers[0].routes[0].chains == [["org-tessera", "org-savanna"]]


def test_gaps_show_what_cannot_be_seen(example: GraphStore) -> None:
    with regions.whole_graph(example) as whole:
        gaps = visibility_gaps(whole, SCORING, today=date(2026, 11, 22))
    by_kind: dict[GapKind, set[str]] = {}
    for gap in gaps:
        by_kind.setdefault(gap.kind, set()).add(
            gap.entity_id + (f"/{gap.dimension}" if gap.dimension else "")
        )
    assert by_kind[GapKind.organization_without_cohorts] == {"org-greyline", "org-farpoint"}
    assert by_kind[GapKind.decision_reaches_no_cohort] == {"dec-quill-greyline-award"}
    assert "coh-lakeside-ug-moderators/contract" in by_kind[GapKind.stale_evidence]
    assert "coh-savanna-ke-moderators/management" in by_kind[GapKind.unsourced_condition]
    assert "coh-taskhive-ke-gig/pay" in by_kind[GapKind.unknown_condition]
    assert len(by_kind[GapKind.stale_evidence]) == 16


@pytest.mark.parametrize("limit", [1, 3, 100])
def test_the_first_pages_of_gaps_are_the_pages_each_report_gives(example: GraphStore, limit: int) -> None:
    with regions.whole_graph(example) as whole:
        found = VisibilityGaps(whole, SCORING, today=date(2026, 11, 22))
        first = found.first_pages(limit)
        one_by_one = {ask: found.report(*ask, 0, limit) for ask in first}
    assert len(first) == (len(GapKind) + 1) * (len(Dimension) + 1)
    assert first == one_by_one
    assert any(page.total > limit for page in first.values())  # pages cut short, not whole


@pytest.mark.parametrize(
    ("kind", "dimension"),
    [(None, None), (GapKind.unknown_condition, None), (GapKind.unrecorded_condition, None),
     (None, Dimension.workload), (GapKind.stale_evidence, None)],
)  # fmt: skip
def test_any_page_of_gaps_is_that_slice_of_them_all_when_only_the_counts_are_known_before(
    example: GraphStore, kind: GapKind | None, dimension: Dimension | None
) -> None:
    """A page past the first, from kept counts: the cohorts' links are read only up to the
    page, and it still lists what the whole list lists there."""
    today = date(2026, 11, 22)
    with regions.whole_graph(example) as whole:
        every = VisibilityGaps(whole, SCORING, today=today)
        listed = list(every.iter(kind, dimension))
        tally = every.tally()
    assert len(listed) > 8
    for offset, limit in [(0, 5), (3, 4), (7, 100), (len(listed) - 2, 5), (len(listed), 3)]:
        with regions.whole_graph(example) as whole:
            page = VisibilityGaps(whole, SCORING, today=today, counted=lambda count: tally).report(
                kind, dimension, offset, limit
            )
        assert page.items == listed[offset : offset + limit], (offset, limit)
        assert page.total == len(listed)
        assert page.next_offset == (offset + limit if offset + limit < len(listed) else None)


def test_fragmentation_counts_decision_makers(example: GraphStore) -> None:
    with regions.whole_graph(example) as whole:
        found = fragmentation(whole)
    top = found.cohorts[0]
    assert (top.cohort_id, top.units, top.organizations) == ("coh-microlane-ve-gig", 7, 4)
    savanna = next(c for c in found.cohorts if c.cohort_id == "coh-savanna-ke-moderators")
    assert (savanna.units, savanna.organizations) == (4, 2)
    halcyon = next(b for b in found.buyers if b.buyer_id == "org-halcyon")
    assert halcyon.units[0].workers >= halcyon.units[-1].workers

"""Whole-graph answers are kept in the store between processes, and never outlive a write."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import NoReturn

import pytest

from laborgraph.app import questions
from laborgraph.app.questions import DEFAULT_PAGE, Questions
from laborgraph.app.settings import Settings
from laborgraph.graph.analysis import changes
from laborgraph.graph.analysis.gaps import GapKind
from laborgraph.graph.analysis.paths import PathQuery
from laborgraph.graph.embedded import EmbeddedStore
from laborgraph.graph.model import Cohort, Condition, GraphData, Link
from laborgraph.graph.store import GraphStore
from laborgraph.graph.vocabulary import Dimension, LinkType, Status
from laborgraph.ingest.load import ingest_path
from laborgraph.visualize.render import render_map_html
from tests.conftest import EXAMPLE_BUNDLE
from tests.test_reviews import SECOND_REVIEW

TODAY = date(2026, 11, 22)


def test_a_write_changes_the_version_and_forgets_what_was_derived(store: GraphStore) -> None:
    with store.read() as reader:
        before = reader.version()
    store.remember(f"answer@{before}", "42")
    assert store.recall(f"answer@{before}") == "42"
    assert store.recall("never kept") is None

    ingest_path(store, EXAMPLE_BUNDLE)

    with store.read() as reader:
        assert reader.version() != before
    assert store.recall(f"answer@{before}") is None


def test_questions_answer_the_graph_as_it_is_after_every_write(store: GraphStore) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    ask = Questions(store, Settings.model_validate({"min_headcount": 5}))
    unknown = ask.gaps(GapKind.unknown_condition, today=TODAY)
    assert ask.gaps(GapKind.unknown_condition, today=TODAY) == unknown  # read back, not worked out
    assert any(g.entity_id == "coh-taskhive-ke-gig" and g.dimension == "pay" for g in unknown.items)
    before = ask.fragmentation(limit=3)
    assert Questions(store, ask.settings).fragmentation(limit=3) == before  # another asker, same answer

    # The unknown pay of TaskHive's gig workers is found out: the next answer knows it.
    learnt = Condition(cohort_id="coh-taskhive-ke-gig", dimension=Dimension.pay, status=Status.violates)
    store.write(GraphData(conditions=[learnt]))

    after = ask.gaps(GapKind.unknown_condition, today=TODAY)
    assert after.total == unknown.total - 1
    assert not any(g.entity_id == "coh-taskhive-ke-gig" and g.dimension == "pay" for g in after.items)
    shown = Questions(store, ask.settings, show_small=True)
    assert shown.gaps(GapKind.unknown_condition, today=TODAY).total == after.total


def test_a_map_is_kept_whole_and_forgotten_at_the_next_write(store: GraphStore) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    ask = Questions(store, Settings.model_validate({"min_headcount": 5}))
    served = ask.chain_map(viewpoint="org-halcyon", served=True, today=TODAY)
    kept = Questions(store, ask.settings).chain_map(viewpoint="org-halcyon", served=True, today=TODAY)
    assert render_map_html(kept) == render_map_html(served)  # another asker, the same page
    assert kept.suppressed_ids == served.suppressed_ids != set()  # still masked on the front page
    in_a_file = ask.chain_map(viewpoint="org-halcyon", today=TODAY)
    assert not in_a_file.served and in_a_file.nodes == served.nodes  # groups say how to write theirs

    # A new cohort at Kora: the next map draws it.
    store.write(
        GraphData(
            cohorts=[Cohort(id="coh-new", name="New annotators", country="KE", headcount=40)],
            links=[Link(from_id="org-kora", type=LinkType.ENGAGES, to_id="coh-new")],
        )
    )
    after = ask.chain_map(viewpoint="org-halcyon", served=True, today=TODAY)
    assert "coh-new" in {n.id for n in after.nodes} - {n.id for n in served.nodes}


def test_the_warm_up_keeps_every_change_since_the_last_review_for_any_page_of_it(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    ingest_path(store, SECOND_REVIEW)
    ask = Questions(store, Settings.model_validate({"min_headcount": 5}))
    ask.warm()
    every = ask.changes()
    assert every.total > 3

    def traced_again(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("the changes were traced again")

    monkeypatch.setattr(changes, "between", traced_again)
    page = Questions(store, ask.settings).changes(offset=2, limit=2)  # another asker, another page
    assert page.items == every.items[2:4]
    assert (page.total, page.counts, page.next_offset) == (every.total, every.counts, 4)


def test_the_warm_up_keeps_the_first_page_of_gaps_of_every_kind_and_dimension(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings.model_validate({"min_headcount": 5})
    unwarmed = EmbeddedStore(tmp_path / "unwarmed")
    for each in (store, unwarmed):
        ingest_path(each, EXAMPLE_BUNDLE)
    Questions(store, settings).warm()
    worked_out = Questions(unwarmed, settings)
    asks = [(kind, None) for kind in GapKind] + [(None, dim) for dim in Dimension]
    asks += [(GapKind.unknown_condition, Dimension.pay), (GapKind.unrecorded_condition, Dimension.workload)]
    expected = {ask: worked_out.gaps(*ask, limit=DEFAULT_PAGE) for ask in asks}
    assert sum(e.total > 0 for e in expected.values()) > 8

    def counted_again(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("the gaps were counted again")

    monkeypatch.setattr(questions, "VisibilityGaps", counted_again)
    ask = Questions(store, settings)
    assert {a: ask.gaps(*a, limit=DEFAULT_PAGE) for a in asks} == expected


def test_on_a_later_day_gaps_are_listed_as_of_that_day_without_counting_the_graph_again(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the gaps count holds whatever the day; only stale evidence and the actions'
    gaps change with it, and they are counted from what was kept."""
    settings = Settings.model_validate({"min_headcount": 5})
    unwarmed = EmbeddedStore(tmp_path / "unwarmed")
    for each in (store, unwarmed):
        ingest_path(each, EXAMPLE_BUNDLE)
    Questions(store, settings).gaps(today=TODAY)  # counted today
    later = date(2027, 9, 1)
    asks = [
        (None, None),
        (GapKind.stale_evidence, None),
        (GapKind.overdue_action, None),
        (None, Dimension.pay),
    ]
    expected = {ask: Questions(unwarmed, settings).gaps(*ask, today=later) for ask in asks}
    stale = [
        Questions(unwarmed, settings).gaps(GapKind.stale_evidence, today=day).total for day in (TODAY, later)
    ]
    assert stale[0] < stale[1]  # evidence has aged meanwhile

    def counted_again(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("the whole graph's gaps were counted again")

    monkeypatch.setattr(questions.gaps.VisibilityGaps, "_cohort_counts", counted_again)
    assert {a: Questions(store, settings).gaps(*a, today=later) for a in asks} == expected


def test_paths_and_maps_kept_one_day_answer_the_next_unless_an_action_has_fallen_due(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    ask = Questions(store, Settings())
    first, second, due = date(2025, 12, 1), date(2025, 12, 20), date(2026, 1, 2)  # two actions fall due 12-31
    before = ask.path_page(PathQuery(), 0, 100, first)
    drawn = ask.chain_map(viewpoint="org-nimbus", today=first)
    overdue_after = {
        a.id for p in ask.path_page(PathQuery(), 0, 100, due).items for a in p.actions if a.overdue
    }
    assert overdue_after >= {"act-meridian-paid-rework"}

    def traced_again(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("traced again")

    monkeypatch.setattr(Questions, "_traced", traced_again)
    monkeypatch.setattr(questions, "chain_map", traced_again)
    assert Questions(store, Settings()).path_page(PathQuery(), 0, 100, second) == before
    assert Questions(store, Settings()).chain_map(viewpoint="org-nimbus", today=second) == drawn
    assert not any(a.overdue for p in before.items for a in p.actions if a.id in overdue_after)
    with pytest.raises(AssertionError, match="traced again"):  # an action fell due: overdue now
        Questions(store, Settings()).chain_map(viewpoint="org-nimbus", today=due)


@pytest.mark.parametrize("origin", [None, "org-halcyon"])
def test_pages_of_the_first_paths_are_cut_from_one_kept_page(
    store: GraphStore, origin: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    ask = Questions(store, Settings())
    every = list(ask.risk_paths(PathQuery(origin=origin, limit=None), TODAY))
    assert 25 < len(every) < questions.KEPT_PATHS
    ask.path_page(PathQuery(origin=origin), 0, 25, TODAY)  # the first page keeps the first KEPT_PATHS

    def traced_again(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("the paths were traced again")

    monkeypatch.setattr(Questions, "_traced", traced_again)
    for offset, limit in [
        (0, 25),
        (0, 100),
        (10, 5),
        (20, len(every) - 20),
        (20, 80),
        (100, questions.KEPT_PATHS - 100),
        (len(every), 10),
    ]:
        page = Questions(store, Settings()).path_page(PathQuery(origin=origin), offset, limit, TODAY)
        assert page.items == every[offset : offset + limit], (offset, limit)
        last = offset + limit >= len(every)
        assert page.next_offset == (None if last else offset + limit)
        assert page.total == (len(every) if last else None)
    with pytest.raises(AssertionError, match="traced again"):  # past the kept page, traced
        ask.path_page(PathQuery(origin=origin), 0, questions.KEPT_PATHS + 1, TODAY)


def test_pages_of_the_most_fragmented_cohorts_are_cut_from_one_kept_page(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    ask = Questions(store, Settings.model_validate({"min_headcount": 5}))
    every = ask.fragmentation()  # every cohort, worked out whole
    assert every.total > 20
    ask.warm()

    def ranked_again(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("fragmentation was worked out again")

    with monkeypatch.context() as patched:
        patched.setattr(questions.influence, "ranking", ranked_again)
        for offset, limit in [(0, 100), (0, 5), (5, 10), (every.total - 3, 10), (every.total, 5)]:
            page = Questions(store, ask.settings).fragmentation(offset, limit)
            assert page.cohorts == every.cohorts[offset : offset + limit], (offset, limit)
            assert (page.offset, page.limit) == (offset, limit)
            assert page.next_offset == (offset + limit if offset + limit < every.total else None)
            assert (page.total, page.units_per_cohort, page.buyers) == (
                every.total,
                every.units_per_cohort,
                every.buyers,
            )

    # A ranking kept of fewer cohorts than the graph holds: a page running past it is ranked anew.
    monkeypatch.setattr(questions, "KEPT_FRAGMENTATION", 12)
    assert Questions(store, ask.settings).fragmentation(0, 5).cohorts == every.cohorts[:5]
    past = Questions(store, ask.settings).fragmentation(10, 5)
    assert past.cohorts == every.cohorts[10:15] and past.next_offset == 15
    monkeypatch.setattr(questions.influence, "ranking", ranked_again)
    assert Questions(store, ask.settings).fragmentation(5, 7).cohorts == every.cohorts[5:12]
    with pytest.raises(AssertionError, match="worked out again"):
        Questions(store, ask.settings).fragmentation(10, 3)

"""Reviews over time, as an analyst lives them: two reviews of the example chain, what
changed between them, answers as of the first, retraction, and bad retractions refused."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from laborgraph.app import questions as questions_module
from laborgraph.app.auth import Scope, new_key
from laborgraph.app.main import create_app
from laborgraph.app.questions import Questions
from laborgraph.graph.analysis.changes import Change
from laborgraph.graph.analysis.paths import PathQuery
from laborgraph.graph.analysis.traverse import org_distances
from laborgraph.graph.errors import InvalidBundle, InvalidQuery, NotFound, TooManyChanges
from laborgraph.graph.revisions import WriteNote
from laborgraph.graph.store import MAX_DEPTH, GraphStore
from laborgraph.graph.view import GraphView
from laborgraph.graph.vocabulary import LinkType
from laborgraph.ingest.load import ingest_path, retract
from tests.conftest import EXAMPLE_BUNDLE
from tests.test_api import API, make_settings
from tests.test_cli import run

SECOND_REVIEW = EXAMPLE_BUNDLE.parent / "ai-supply-chain-review-2"
RETRACTED_LINK = "org-brightlabel|SOURCES_VIA|org-taskhive|aurora-eval"


def two_reviews(store: GraphStore) -> None:
    first = ingest_path(store, EXAMPLE_BUNDLE, note=WriteNote(label="2025-Q4 review"))
    second = ingest_path(store, SECOND_REVIEW, note=WriteNote(label="2026-Q1 review"))
    assert first.revision is not None and second.revision is not None
    assert (first.revision.number, second.revision.number) == (1, 2)


def ask(store: GraphStore, tmp_path: Path) -> Questions:
    return Questions(store, make_settings("embedded", tmp_path))


def test_changes_between_two_reviews_name_what_an_analyst_would(store: GraphStore, tmp_path: Path) -> None:
    two_reviews(store)
    report = ask(store, tmp_path).changes()
    assert (report.from_revision, report.to_revision) == (1, 2)
    by = {(c.change, c.kind, c.id or f"{c.decision_id}>{c.cohort_id}/{c.dimension}"): c for c in report.items}
    # The rate raised at Savanna: pay from 1.10 to 2.60 USD/h against 2.40, on payslips an auditor saw.
    raised = by["changed", "condition", "coh-savanna-ke-moderators/pay"]
    assert "1.1 USD/h" in (raised.before or "") and "2.6 USD/h" in (raised.after or "")
    assert "src-savanna-payslips-2026" in raised.evidence and raised.revision == 2
    better = by["better", "risk_path", "dec-halcyon-rate-card>coh-savanna-ke-moderators/pay"]
    assert (better.before, better.after) == (
        "severity 5, likelihood 1 (violates)",
        "severity 3, likelihood 0.6 (at_risk)",
    )
    # The condition that got worse: Meridian's raters now below the living wage.
    assert ("worse", "risk_path", "dec-nimbus-tessera-selection>coh-meridian-in-rlhf/pay") in by
    # The subcontractor found, its cohort and the paths that now reach it.
    assert ("added", "entity", "org-kestrel") in by
    assert ("added", "link", "org-farpoint|SUBCONTRACTS|org-kestrel|lyra-speech") in by
    new = {k[2] for k in by if k[:2] == ("new", "risk_path")}
    assert new == {f"dec-quill-greyline-award>coh-kestrel-gh-transcribers/{d}" for d in
                   ("pay", "payment_terms", "voice")}  # fmt: skip
    # The retracted link, with its reason, and the paths it carried, resolved.
    gone = by["retracted", "link", RETRACTED_LINK]
    assert gone.evidence.startswith("retracted: Brightlabel's 2026 audit")
    resolved = {k[2] for k in by if k[:2] == ("resolved", "risk_path")}
    assert "dec-nimbus-eval-quality-gate>coh-taskhive-us-gig/pay" in resolved
    assert all(k[2].startswith("dec-nimbus-eval-") for k in by if k[:2] == ("resolved", "risk_path"))
    # Worst news first.
    classes = [c.change for c in report.items]
    assert classes.index("worse") < classes.index("better") < classes.index("retracted")
    assert report.counts["risk_path:worse"] == 2 and report.total == len(report.items)
    # Paths a change could have moved but did not are counted; listed only when asked.
    assert report.counts["risk_path:unchanged"] > 0 and "unchanged" not in classes
    every = ask(store, tmp_path).changes(unchanged=True)
    assert sum(c.change == "unchanged" for c in every.items) == report.counts["risk_path:unchanged"]


def test_a_buyers_changes_are_its_paths_and_the_facts_of_its_chain_at_either_review(
    store: GraphStore, tmp_path: Path
) -> None:
    two_reviews(store)
    questions = ask(store, tmp_path)
    every = questions.changes(unchanged=True).items

    def chain_at(revision: int, buyer: str) -> set[str]:
        """The buyer's chain as the review left it: organizations within MAX_DEPTH supply
        links below it, its units and their decisions, every cohort they engage and the
        actions on any of these, from the whole graph then."""
        with questions.as_of(revision).store.read() as reader:
            view = GraphView.of(reader.everything())
            actions = reader.actions()
        if buyer not in view.graph:
            return set()
        orgs = set(org_distances(view, buyer, None, MAX_DEPTH))
        units = {u.id for u in view.units.values() if u.organization_id == buyer}
        decisions = {d.id for d in view.decisions.values() if d.unit_id in units}
        engaged = {
            link.to_id for link in view.links() if link.type is LinkType.ENGAGES and link.from_id in orgs
        }
        chain = orgs | units | decisions | engaged
        acted = {a.id for a in actions if {a.owner_unit_id, a.aim.decision_id, a.aim.cohort_id} & chain}
        return chain | acted

    def named(change: Change) -> set[str]:
        ends = change.id.split("|")[::2] if change.id and "|" in change.id else []
        return {i for i in (change.cohort_id, change.id, *ends) if i}

    seen: set[tuple[str | None, str | None, str | None, str | None]] = set()
    deciders = ("org-nimbus", "org-quillmind", "org-halcyon", "org-tessera", "org-kora", "org-vantage")
    for buyer in deciders:  # every organization with units: vendors decide too
        chain = chain_at(1, buyer) | chain_at(2, buyer)
        mine = questions.changes(buyer=buyer, unchanged=True)
        assert mine.buyer_id == buyer
        expected = [c for c in every if c.buyer_id == buyer or (c.kind != "risk_path" and named(c) & chain)]
        assert mine.items == expected
        counted = questions.changes(buyer=buyer)
        assert counted.counts.get("risk_path:unchanged", 0) == sum(
            c.change == "unchanged" for c in mine.items
        )
        seen |= {(c.kind, c.id, c.decision_id, c.cohort_id) for c in mine.items}
    # Between them their chains hold every change of the example but the sources it cites.
    assert seen == {
        (c.kind, c.id, c.decision_id, c.cohort_id) for c in every if not (c.id or "").startswith("src-")
    }
    with pytest.raises(NotFound, match="no buyer with id 'org-savanna'"):
        questions.changes(buyer="org-savanna")  # a vendor: no decisions of its own


def test_as_of_the_first_review_answers_as_it_did_then(store: GraphStore, tmp_path: Path) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    questions = ask(store, tmp_path)

    def answers(q: Questions) -> list[str]:
        return [
            q.path_page(PathQuery(), 0, 100).model_dump_json(),
            q.path_page(PathQuery(origin="dec-nimbus-eval-quality-gate"), 0, None).model_dump_json(),
            q.tiers("org-nimbus").model_dump_json(),
            q.influencers("coh-taskhive-us-gig").model_dump_json(),
            q.gaps(limit=None).model_dump_json(),
        ]

    before = answers(questions)
    ingest_path(store, SECOND_REVIEW)
    assert answers(questions) != before  # the second review changed them...
    assert answers(questions.as_of(1)) == before  # ...and as of the first, they are as they were
    assert answers(questions.as_of(2)) == answers(questions)
    with pytest.raises(InvalidQuery, match="no revision 7: revisions are 1 to 2"):
        questions.as_of(7)


def test_a_retraction_leaves_every_answer_and_stays_in_the_history(store: GraphStore, tmp_path: Path) -> None:
    two_reviews(store)
    questions = ask(store, tmp_path)
    written = retract(store, "org-kestrel", "a trading name of Farpoint, not a company", WriteNote())
    assert written.revision is not None and written.revision.number == 3
    assert written.orphaned_cohorts == ("coh-kestrel-gh-transcribers",)
    with pytest.raises(NotFound):
        store.get("org-kestrel")
    assert "org-kestrel" not in {e.id for e in store.page(None, limit=1000).items}
    reached = questions.path_page(PathQuery(origin="dec-quill-greyline-award"), 0, None).items
    assert "org-kestrel" not in {org for path in reached for org in path.organizations}
    history = questions.history("org-kestrel")
    assert [(v.since, v.until, v.retracted) for v in history.versions] == [
        (2, 3, "a trading name of Farpoint, not a company")
    ]
    link = questions.history("org-kestrel|ENGAGES|coh-kestrel-gh-transcribers|lyra-speech")
    assert (
        link.versions[0].retracted == "a trading name of Farpoint, not a company (retracted with org-kestrel)"
    )
    changes = questions.changes()
    assert {(c.change, c.id) for c in changes.items if c.kind != "risk_path"} >= {
        ("retracted", "org-kestrel"),
        ("retracted", "org-farpoint|SUBCONTRACTS|org-kestrel|lyra-speech"),
    }
    with pytest.raises(NotFound):
        retract(store, "org-kestrel", "again", WriteNote())  # already gone: nothing to retract


def test_an_older_observation_joins_the_series_and_a_newer_one_becomes_current(
    store: GraphStore, tmp_path: Path
) -> None:
    two_reviews(store)
    questions = ask(store, tmp_path)
    history = questions.history("coh-savanna-ke-moderators/pay")
    assert [(o.condition.observed_at.isoformat(), o.current) for o in history.observations] == [  # type: ignore[union-attr]
        ("2025-08-15", False),
        ("2026-02-20", True),
    ]
    # An observation older than the current one joins the series and changes nothing else.
    older = tmp_path / "older.json"
    observation = {
        "cohort_id": "coh-savanna-ke-moderators", "dimension": "pay", "value": 0.95, "value_unit": "USD/h",
        "benchmark": 2.4, "observed_at": "2025-02-01", "source_ids": ["src-savanna-worker-survey"],
    }  # fmt: skip
    older.write_text(json.dumps({"organizations": [], "conditions": [observation]}))
    added = ingest_path(store, older)
    assert added.revision is not None and added.revision.counts["observations"] == 1
    assert store.get("coh-savanna-ke-moderators/pay").value == 2.6  # type: ignore[union-attr]
    series = questions.history("coh-savanna-ke-moderators/pay").observations
    assert [o.condition.value for o in series] == [0.95, 1.1, 2.6]
    assert questions.changes().counts == {}  # no answer changed


def test_a_bad_retraction_rejects_the_whole_bundle_with_file_row_and_column(
    store: GraphStore, tmp_path: Path
) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    bundle = tmp_path / "bad-review"
    shutil.copytree(SECOND_REVIEW, bundle)
    (bundle / "retractions.csv").write_text(
        "id,from_id,type,to_id,project,reason\n"
        "org-nowhere,,,,,made up\n"
        "org-greyline,,,,,\n"
        "org-greyline,org-nimbus,CONTRACTS,org-tessera,,both at once\n"
        ",org-nimbus,CONTRACTS,org-kora,,no such link\n"
        "org-kestrel,,,,,written by this bundle too\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidBundle) as rejected:
        ingest_path(store, bundle)
    found = {(e.file, e.row, e.column) for e in rejected.value.errors}
    assert found == {
        ("retractions.csv", 2, "id"),
        ("retractions.csv", 3, "reason"),
        ("retractions.csv", 4, None),
        ("retractions.csv", 5, "from_id"),
        ("retractions.csv", 6, "id"),
    }
    with store.read() as reader:
        assert [r.number for r in reader.revisions()] == [1]  # nothing written
    with pytest.raises(NotFound):
        store.get("org-kestrel")


def test_the_cli_records_labels_and_lists_changes_as_csv(tmp_path: Path) -> None:
    first = run("ingest", str(EXAMPLE_BUNDLE), "--label", "2025-Q4 review", data_dir=tmp_path)
    assert first.returncode == 0 and "revision 1 (2025-Q4 review)" in first.stdout
    again = run("ingest", str(EXAMPLE_BUNDLE), data_dir=tmp_path)
    assert "nothing changed" in again.stdout
    assert run("ingest", str(SECOND_REVIEW), "--label", "2026-Q1 review", data_dir=tmp_path).returncode == 0
    listed = json.loads(run("revisions", "--json", data_dir=tmp_path).stdout)
    assert [(r["number"], r["label"], r["writer"]) for r in listed] == [
        (1, "2025-Q4 review", "cli"),
        (2, "2026-Q1 review", "cli"),
    ]
    assert len(listed[0]["digest"]) == 64
    out = tmp_path / "changes.csv"
    assert run("changes", "--csv", str(out), data_dir=tmp_path).returncode == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert {"change", "kind", "decision_id", "cohort_id", "dimension", "id", "from_revision", "to_revision",
            "before", "after", "evidence"} <= set(rows[0])  # fmt: skip
    assert rows[0]["change"] == "worse"
    as_of = run("paths", "--from", "dec-nimbus-eval-quality-gate", "--as-of", "1", "--limit", "0",
                "--json", data_dir=tmp_path)  # fmt: skip
    assert len(json.loads(as_of.stdout)["items"]) == 16
    assert run("paths", "--as-of", "9", data_dir=tmp_path).returncode == 1
    blank = run("retract", "org-kestrel", "--reason", "  ", data_dir=tmp_path)
    assert blank.returncode == 1 and "--reason" in blank.stderr
    unknown = run("retract", "org-nowhere", "--reason", "x", data_dir=tmp_path)
    assert unknown.returncode == 1 and "org-nowhere" in unknown.stderr


def test_the_api_lists_revisions_and_changes_and_retracts_only_with_the_write_scope(tmp_path: Path) -> None:
    keys = {scope: new_key(f"{scope.value}-key", scope) for scope in (Scope.read, Scope.write)}
    settings = make_settings("embedded", tmp_path, api_keys=",".join(e for _, e in keys.values()))
    headers = {scope: {"Authorization": f"Bearer {key}"} for scope, (key, _) in keys.items()}
    with TestClient(create_app(settings)) as client:
        for bundle, label in ((EXAMPLE_BUNDLE, "2025-Q4"), (SECOND_REVIEW, "2026-Q1")):
            from tests.test_api import zip_folder

            sent = client.post(f"{API}/bundles", params={"label": label}, headers=headers[Scope.write],
                               files={"file": ("b.zip", zip_folder(bundle), "application/zip")})  # fmt: skip
            assert sent.status_code == 200, sent.text
        revisions = client.get(f"{API}/revisions", headers=headers[Scope.read]).json()
        assert [(r["label"], r["writer"]) for r in revisions] == [
            ("2025-Q4", "write-key"),
            ("2026-Q1", "write-key"),
        ]
        changes = client.get(f"{API}/changes", params={"limit": 2}, headers=headers[Scope.read]).json()
        assert changes["next_offset"] == 2 and changes["items"][0]["change"] == "worse"
        as_csv = client.get(f"{API}/changes.csv", headers=headers[Scope.read])
        assert as_csv.text.startswith("change,kind,decision_id")
        as_of = client.get(f"{API}/paths", params={"from": "dec-nimbus-eval-quality-gate", "as_of": 1},
                           headers=headers[Scope.read]).json()  # fmt: skip
        assert len(as_of["items"]) == 16
        refused = client.delete(
            f"{API}/entities/org-kestrel", params={"reason": "x"}, headers=headers[Scope.read]
        )
        assert refused.status_code == 403
        done = client.delete(f"{API}/entities/org-kestrel", params={"reason": "not a company"},
                             headers=headers[Scope.write])  # fmt: skip
        assert done.status_code == 200 and done.json()["revision"]["writer"] == "write-key"
        assert done.json()["orphaned_cohorts"] == ["coh-kestrel-gh-transcribers"]
        assert client.get(f"{API}/entities/org-kestrel", headers=headers[Scope.read]).status_code == 404
        history = client.get(f"{API}/history/org-kestrel", headers=headers[Scope.read]).json()
        assert history["versions"][0]["retracted"] == "not a company"


def test_changes_from_nothing_list_every_risk_path_the_tracer_finds(
    store: GraphStore, tmp_path: Path
) -> None:
    two_reviews(store)
    questions = ask(store, tmp_path)
    for revision in (1, 2):
        then = questions.as_of(revision)
        traced = {
            (p.decision_id, p.cohort_id, p.dimension.value, p.severity, p.likelihood)
            for p in then.path_page(PathQuery(), 0, None).items
            if not p.suppressed
        }
        listed = questions.changes(0, revision).items
        new = {(c.decision_id, c.cohort_id, c.dimension, c.after) for c in listed if c.change == "new"}
        assert {(d, c, dim, f"severity {s}, likelihood {lik:g}") for d, c, dim, s, lik in traced} == {
            (d, c, dim, after.rsplit(" (", 1)[0])
            for d, c, dim, after in new  # type: ignore[union-attr]
        }
        assert len(new) > 100


def test_revisions_that_changed_more_than_a_comparison_holds_are_refused_before_anything_is_read(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_reviews(store)
    questions = ask(store, tmp_path)
    first, second = (
        sum(n for what, n in r.counts.items() if what != "observations") for r in questions.revisions()
    )
    monkeypatch.setattr(questions_module, "CHANGES_AT_MOST", second - 1)
    with pytest.raises(TooManyChanges, match=f"built the graph from nothing: all {first:,} of its facts"):
        questions.changes(0, 1)
    with pytest.raises(TooManyChanges, match=f"revision 2 changed {second:,} facts, more than"):
        questions.changes()
    with pytest.raises(
        TooManyChanges, match=f"revisions 1 to 2 built the graph from nothing: all {first + second:,}"
    ):
        questions.changes(0, 2, buyer="org-nimbus")
    monkeypatch.setattr(questions_module, "CHANGES_AT_MOST", second)
    assert questions.changes().total > 0  # exactly at the bound, compared

"""Actions and their measured effect, as an analyst follows them across reviews, on both stores:
every effect is the one worked out by hand from the observations, worse news is flagged,
bad rows are refused whole, a read key changes nothing, and every surface says the same."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from laborgraph.app.auth import Scope, new_key
from laborgraph.app.main import create_app
from laborgraph.app.questions import Questions
from laborgraph.graph.analysis.gaps import GapKind
from laborgraph.graph.analysis.paths import PathQuery
from laborgraph.graph.errors import InvalidBundle, NotFound
from laborgraph.graph.revisions import WriteNote
from laborgraph.graph.store import GraphStore
from laborgraph.ingest.load import ingest_path, ingest_raw, retract
from laborgraph.ingest.readers import read_json
from laborgraph.visualize.export import stream_csv
from tests.conftest import EXAMPLE_BUNDLE
from tests.test_api import API, make_settings
from tests.test_cli import run

SECOND_REVIEW = EXAMPLE_BUNDLE.parent / "ai-supply-chain-review-2"
TODAY = date(2026, 3, 1)


def ask(store: GraphStore, tmp_path: Path, **settings: object) -> Questions:
    return Questions(store, make_settings("embedded", tmp_path, **settings))


def write(store: GraphStore, **sections: list[dict[str, Any]]) -> None:
    report = ingest_raw(store, read_json(json.dumps({"organizations": [], **sections}).encode()))
    assert report.revision is not None


def by_id(found: Questions, today: date = TODAY) -> dict[str, Any]:
    return {a.id: a for a in found.actions(today=today).items}


def pay(cohort: str, day: str, value: float, benchmark: float) -> dict[str, Any]:
    return {"cohort_id": cohort, "dimension": "pay", "value": value, "benchmark": benchmark,
            "value_unit": "USD/h", "observed_at": day, "source_ids": ["src-survey"]}  # fmt: skip


def status(cohort: str, dimension: str, day: str | None, state: str) -> dict[str, Any]:
    return {"cohort_id": cohort, "dimension": dimension, "status": state, "observed_at": day}


def action(action_id: str, target: str, opened: str, state: str, **fields: str) -> dict[str, Any]:
    return {"id": action_id, "target": target, "owner_unit_id": "unit-b", "kind": "mitigate",
            "opened_at": opened, "status": state, **fields}  # fmt: skip


def three_reviews(store: GraphStore) -> None:
    """A buyer's pricing decision reaches two cohorts at its vendor; their conditions are
    observed in three reviews, and actions of every status are recorded along the way."""
    write(
        store,
        organizations=[
            {"id": "org-b", "name": "Buyer", "kinds": "buyer", "country": "US"},
            {"id": "org-v", "name": "Vendor", "kinds": "vendor", "country": "KE"},
        ],
        units=[{"id": "unit-b", "organization_id": "org-b", "name": "Procurement"}],
        cohorts=[
            {"id": "coh-1", "name": "Raters", "country": "KE", "headcount": 100},
            {"id": "coh-2", "name": "Writers", "country": "KE", "headcount": 80},
        ],
        sources=[{"id": "src-survey", "title": "Survey", "kind": "survey"}],
        decisions=[{"id": "dec-rate", "unit_id": "unit-b", "lever": "pricing", "applies_to": "org-v"}],
        links=[
            {"from_id": "org-b", "to_id": "org-v", "type": "CONTRACTS"},
            {"from_id": "org-v", "to_id": "coh-1", "type": "ENGAGES"},
            {"from_id": "org-v", "to_id": "coh-2", "type": "ENGAGES"},
        ],
        conditions=[
            pay("coh-1", "2025-01-01", 1.0, 2.0),  # 50 % of the benchmark
            status("coh-1", "workload", "2025-01-01", "violates"),
            pay("coh-2", "2025-01-01", 3.0, 2.0),  # 150 %: meets
            status("coh-2", "voice", "2025-01-01", "unknown"),
            status("coh-2", "contract", None, "violates"),  # undated
        ],
        actions=[
            action("act-1", "coh-1/pay", "2025-03-01", "planned", due_at="2025-06-30"),
            action("act-3", "coh-1/pay", "2025-02-01", "in_progress"),
            action("act-4", "dec-rate:coh-2/pay", "2025-02-01", "in_progress", due_at="2025-12-31"),
            action("act-5", "coh-2/voice", "2025-02-01", "planned", due_at="2025-04-01"),
            action("act-8", "coh-2/contract", "2025-02-01", "planned"),
        ],
    )
    write(
        store,
        conditions=[
            pay("coh-1", "2025-05-01", 1.5, 2.0),  # 75 %
            status("coh-1", "workload", "2025-05-01", "at_risk"),
            pay("coh-2", "2025-05-01", 2.5, 2.0),  # 125 %: still meets, but lower against the benchmark
            status("coh-2", "voice", "2025-05-01", "meets"),
        ],
        actions=[
            action("act-1", "coh-1/pay", "2025-03-01", "in_progress", due_at="2025-06-30"),
            action("act-2", "coh-1/pay", "2025-05-01", "done", due_at="2025-05-15", closed_at="2025-06-01"),
            action("act-4", "dec-rate:coh-2/pay", "2025-02-01", "dropped", closed_at="2025-03-01"),
            action("act-6", "dec-rate", "2025-02-01", "in_progress", due_at="2026-01-01"),
            action("act-7", "coh-1/workload", "2025-01-01", "in_progress", due_at="2025-12-01"),
        ],
    )
    write(
        store,
        conditions=[pay("coh-1", "2025-08-01", 1.8, 2.4)],  # 75 % of a higher living wage
        actions=[action("act-3", "coh-1/pay", "2025-02-01", "done", closed_at="2025-09-01")],
    )


# What an analyst works out by hand from the observations above: (effect, before, after).
BY_HAND = {
    # opened 03-01: before is 01-01 (50 %), after the newest since, 08-01 (75 %)
    "act-1": ("improved", "2025-01-01", "2025-08-01"),
    # opened on the day of an observation: it is the one before; done 06-01: 08-01 after (75 % both)
    "act-2": ("unchanged", "2025-05-01", "2025-08-01"),
    # done 09-01: nothing observed after it, whatever came between opening and closing
    "act-3": ("not_measured", "2025-01-01", None),
    # dropped: measured since opening; pay still meets, but fell from 150 % to 125 % of the benchmark
    "act-4": ("worsened", "2025-01-01", "2025-05-01"),
    # unknown before: neither better nor worse than meets
    "act-5": ("not_measured", "2025-01-01", "2025-05-01"),
    # a decision: coh-1 pay and workload improved, coh-2 pay worsened; the worse is not hidden
    "act-6": ("worsened", "2025-01-01", "2025-05-01"),
    "act-7": ("improved", "2025-01-01", "2025-05-01"),
    # an undated observation cannot be placed before or after anything
    "act-8": ("not_measured", None, None),
}


def test_every_effect_is_what_an_analyst_works_out_from_the_observations(
    store: GraphStore, tmp_path: Path
) -> None:
    three_reviews(store)
    found = by_id(ask(store, tmp_path), today=date(2025, 12, 1))

    def day(observation: Any) -> str | None:
        return observation and observation.condition.observed_at.isoformat()

    assert {i: (a.effect.value, day(a.before), day(a.after)) for i, a in found.items()} == BY_HAND
    assert (found["act-1"].pay.before, found["act-1"].pay.after) == (0.5, 0.75)  # type: ignore[union-attr]
    assert (found["act-2"].pay.before, found["act-2"].pay.after) == (0.75, 0.75)  # type: ignore[union-attr]
    dropped = found["act-4"]
    assert dropped.before.condition.status.value == dropped.after.condition.status.value == "meets"  # type: ignore[union-attr]
    decision = found["act-6"]
    assert decision.condition_id == "coh-2/pay" and decision.target_kind == "decision"
    assert {m.condition_id: m.effect.value for m in decision.conditions} == {
        "coh-1/pay": "improved", "coh-1/workload": "improved", "coh-2/pay": "worsened",
    }  # fmt: skip
    # Overdue: due before today and still open; due today, or done late, is not.
    assert {i for i, a in found.items() if a.overdue} == {"act-1", "act-5"}
    # The observations compared come with their evidence and the revision that recorded them.
    assert found["act-1"].after.condition.source_ids == ("src-survey",)  # type: ignore[union-attr]
    assert (found["act-1"].before.revision, found["act-1"].after.revision) == (1, 3)  # type: ignore[union-attr]
    assert "from 50% to 75% of its benchmark" in found["act-1"].explanation


def test_overdue_actions_and_worsened_conditions_are_gaps(store: GraphStore, tmp_path: Path) -> None:
    three_reviews(store)
    questions = ask(store, tmp_path)
    overdue = questions.gaps(GapKind.overdue_action, today=date(2025, 12, 1))
    assert [(g.entity_id, g.dimension) for g in overdue.items] == [("act-1", "pay"), ("act-5", "voice")]
    assert "was due 2025-06-30 and is still in_progress (154 days overdue)" in overdue.items[0].detail
    worse = questions.gaps(GapKind.worsened_after_action, today=date(2025, 12, 1))
    assert [(g.entity_id, g.related_ids[0]) for g in worse.items] == [
        ("act-4", "coh-2/pay"), ("act-6", "coh-2/pay"),
    ]  # fmt: skip
    counts = {(c.kind.value, c.dimension): c.count for c in worse.counts}
    assert counts[("worsened_after_action", None)] == 2 and counts[("overdue_action", None)] == 2
    later = questions.gaps(GapKind.overdue_action, today=date(2026, 6, 1)).items
    assert [g.entity_id for g in later] == ["act-1", "act-5", "act-6", "act-7"]


def test_the_example_shows_every_effect_after_its_two_reviews(store: GraphStore, tmp_path: Path) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    questions = ask(store, tmp_path)
    first = by_id(questions)
    assert {a.effect.value for a in first.values()} == {"not_measured"}  # nothing observed since yet
    ingest_path(store, SECOND_REVIEW)
    found = by_id(questions)
    assert {i: (a.status.value, a.effect.value, a.overdue) for i, a in found.items()} == {
        "act-andes-payment-terms": ("done", "unchanged", False),
        "act-kora-worker-reqs": ("dropped", "not_measured", False),
        "act-meridian-paid-rework": ("in_progress", "worsened", True),
        "act-redteam-opt-in": ("planned", "not_measured", False),
        "act-savanna-rate-share": ("done", "improved", False),
    }
    savanna = found["act-savanna-rate-share"]
    # 1.10 and 2.60 USD/h against the 2.40 Nairobi living wage, on the survey, then on payslips.
    assert (savanna.pay.before, savanna.pay.after) == (round(1.1 / 2.4, 4), round(2.6 / 2.4, 4))  # type: ignore[union-attr]
    assert "src-savanna-payslips-2026" in savanna.after.condition.source_ids  # type: ignore[union-attr]
    meridian = found["act-meridian-paid-rework"]
    assert (meridian.before.condition.value, meridian.after.condition.value) == (2.0, 1.7)  # type: ignore[union-attr]
    assert questions.actions(overdue=True, today=TODAY).total == 1
    assert questions.actions(buyer="org-quillmind", today=TODAY).counts["effect:unchanged"] == 1
    assert [a.id for a in questions.actions(buyer="org-halcyon", today=TODAY).items] == [
        "act-kora-worker-reqs", "act-savanna-rate-share",
    ]  # fmt: skip
    gaps = questions.gaps(today=TODAY)
    flagged = {(g.kind.value, g.entity_id) for g in gaps.items if g.kind.value.endswith("action")}
    assert flagged == {("overdue_action", "act-meridian-paid-rework"),
                       ("worsened_after_action", "act-meridian-paid-rework")}  # fmt: skip
    # Closing act-savanna-rate-share in the second review is a change of that fact, with its history.
    changes = {(c.change, c.id) for c in questions.changes().items if c.kind == "entity"}
    assert {("changed", "act-savanna-rate-share"), ("added", "act-redteam-opt-in")} <= changes
    history = questions.history("act-savanna-rate-share").versions
    assert [(v.since, v.record.status.value) for v in history] == [(1, "in_progress"), (2, "done")]  # type: ignore[union-attr]


def test_risk_paths_carry_their_open_actions(store: GraphStore, tmp_path: Path) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    ingest_path(store, SECOND_REVIEW)
    questions = ask(store, tmp_path)
    to_meridian = questions.path_page(PathQuery(target="coh-meridian-in-rlhf/pay"), today=TODAY).items
    on_each = {tuple((a.id, a.overdue, a.effect.value) for a in p.actions) for p in to_meridian}
    assert to_meridian and on_each == {(("act-meridian-paid-rework", True, "worsened"),)}
    # The path the planned opt-in pool is on, and no other path to the same cohort.
    to_taskhive = questions.path_page(PathQuery(target="coh-taskhive-us-gig"), limit=None, today=TODAY).items
    carrying = {(p.decision_id, p.dimension.value) for p in to_taskhive if p.actions}
    assert carrying == {("dec-nimbus-redteam-scope", "content_safety")}
    # Done and dropped actions are no longer on their paths.
    to_savanna = questions.path_page(PathQuery(target="coh-savanna-ke-moderators/pay"), today=TODAY).items
    assert to_savanna and not any(p.actions for p in to_savanna)
    rows = list(csv.DictReader(io.StringIO("".join(stream_csv(iter(to_meridian))))))
    assert rows[0]["actions"] == (
        "act-meridian-paid-rework (remediate, in_progress, due 2025-12-31, overdue, effect worsened)"
    )
    page = questions.chain_map(viewpoint="org-nimbus", today=TODAY)
    panel = next(n for n in page.nodes if n.id == "coh-meridian-in-rlhf").facts
    opened = next(s for s in panel if s.heading == "Open actions on these risks").facts
    assert [f.label for f in opened] == ["remediate · in_progress"]
    assert "act-meridian-paid-rework" in opened[0].value and "(overdue)" in opened[0].value


def test_a_bad_row_rejects_the_whole_bundle_with_file_row_and_column(
    store: GraphStore, tmp_path: Path
) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    bundle = shutil.copytree(SECOND_REVIEW, tmp_path / "bad-review")
    header = (SECOND_REVIEW / "actions.csv").read_text(encoding="utf-8").splitlines()[0]
    (bundle / "actions.csv").write_text(
        "\n".join([
            header,
            "act-a,coh-nowhere/pay,unit-nimbus-rai,mitigate,,2026-01-10,,planned,,,",
            "act-b,coh-meridian-in-rlhf/wages,unit-nimbus-rai,mitigate,,2026-01-10,,planned,,,",
            "act-c,coh-meridian-in-rlhf/pay,dec-nimbus-rlhf-rubric,mitigate,,2026-01-10,,planned,,,",
            "act-d,coh-meridian-in-rlhf/pay,unit-nimbus-rai,mitigate,,2026-01-10,,finished,,,",
            "act-e,coh-meridian-in-rlhf/pay,unit-nimbus-rai,mitigate,,2026-01-10,2025-12-01,planned,,,",
            "act-f,org-nimbus,unit-nimbus-rai,mitigate,,2026-02-30,,planned,,,",
            "act-g,dec-nowhere:coh-meridian-in-rlhf/pay,unit-nimbus-rai,pray,,2026-01-10,,planned,,,",
            "act-h,org-nimbus,unit-nimbus-rai,cease,,2026-01-10,,planned,,,",
        ]) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    with pytest.raises(InvalidBundle) as rejected:
        ingest_path(store, bundle)
    assert {(e.file, e.row, e.column) for e in rejected.value.errors} == {
        ("actions.csv", 2, "target"),  # no such cohort
        ("actions.csv", 3, "target"),  # no such dimension
        ("actions.csv", 4, "owner_unit_id"),  # a decision, not a unit
        ("actions.csv", 5, "status"),
        ("actions.csv", 6, "due_at"),  # before opened_at
        ("actions.csv", 7, "opened_at"),  # no such day
        ("actions.csv", 8, "kind"),
        ("actions.csv", 9, "target"),  # an organization, not a decision
    }
    messages = {e.row: e.message for e in rejected.value.errors}
    assert messages[2] == "'coh-nowhere' is neither in the bundle nor in the graph"
    assert messages[4] == "'dec-nimbus-rlhf-rubric' is a decision, expected a unit"
    assert messages[6] == "2025-12-01 is before opened_at 2026-01-10"
    with store.read() as reader:
        assert [r.number for r in reader.revisions()] == [1]  # nothing of the review written
    with pytest.raises(NotFound):
        store.get("org-kestrel")


def test_retracting_what_an_action_hangs_on_retracts_the_action(store: GraphStore, tmp_path: Path) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    retract(store, "dec-halcyon-kora-worker-reqs", "never made: a draft policy", WriteNote())
    with pytest.raises(NotFound):
        store.get("act-kora-worker-reqs")
    gone = ask(store, tmp_path).history("act-kora-worker-reqs").versions[0]
    assert gone.retracted == "never made: a draft policy (retracted with dec-halcyon-kora-worker-reqs)"
    retract(store, "unit-nimbus-data-procurement", "merged into another team", WriteNote())
    with pytest.raises(NotFound):
        store.get("act-meridian-paid-rework")  # owned by the unit
    retract(store, "coh-andes-co-transcribers/payment_terms", "a mistaken reading", WriteNote())
    assert store.get("act-andes-payment-terms")  # a condition retracted leaves the action on it


def test_an_action_on_a_small_cohort_keeps_its_place_but_not_the_cohorts_id(
    store: GraphStore, tmp_path: Path
) -> None:
    ingest_path(store, EXAMPLE_BUNDLE)
    small = "coh-kora-ke-arabic-reviewers"
    write(store, actions=[{"id": "act-counsellor", "target": f"{small}/content_safety", "kind": "remediate",
                           "owner_unit_id": "unit-kora-operations", "opened_at": "2025-06-01"}])  # fmt: skip
    hidden, admin = ask(store, tmp_path), ask(store, tmp_path, min_headcount=0)
    shown = by_id(hidden)
    assert shown["act-counsellor"].target == "suppressed-cohort/content_safety"
    kora = {m.condition_id for m in shown["act-kora-worker-reqs"].conditions}
    assert "suppressed-cohort/content_safety" in kora and not any(small in c for c in kora)
    assert small not in hidden.actions(today=TODAY).model_dump_json()
    assert small not in hidden.gaps(today=TODAY).model_dump_json()
    assert "act-counsellor" not in {e.id for e in hidden.entities(limit=1000).items}  # type: ignore[union-attr]
    assert small not in hidden.changes().model_dump_json()  # its recording is no change to list
    for refused in (hidden.entity, hidden.history):
        with pytest.raises(NotFound):
            refused("act-counsellor")
    assert by_id(admin)["act-counsellor"].target == f"{small}/content_safety"
    assert ("added", "act-counsellor") in {(c.change, c.id) for c in admin.changes().items}


def test_the_cli_adds_lists_and_closes_actions(tmp_path: Path) -> None:
    assert run("ingest", str(EXAMPLE_BUNDLE), data_dir=tmp_path).returncode == 0
    added = run("actions", "add", "--id", "act-voice", "--target", "coh-meridian-in-rlhf/voice",
                "--owner", "unit-nimbus-rai", "--kind", "engage_workers", "--opened-at", "2026-01-05",
                "--due-at", "2026-02-01", data_dir=tmp_path)  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "act-voice in revision 2: planned, effect not_measured" in added.stdout
    overdue = ("--overdue", "--today", "2026-03-01", "--json")
    listed = json.loads(run("actions", *overdue, data_dir=tmp_path).stdout)
    assert {a["id"] for a in listed["items"]} >= {"act-voice", "act-meridian-paid-rework"}
    assert all(a["overdue"] for a in listed["items"]) and listed["today"] == "2026-03-01"
    assert listed == json.loads(run("actions", "list", *overdue, data_dir=tmp_path).stdout)
    closed = run("actions", "close", "act-voice", "--status", "done", "--closed-at", "2026-02-10",
                 data_dir=tmp_path)  # fmt: skip
    assert closed.returncode == 0 and "act-voice in revision 3: done" in closed.stdout
    revisions = json.loads(run("revisions", "--json", data_dir=tmp_path).stdout)
    assert [r["writer"] for r in revisions] == ["cli", "cli", "cli"]
    out = tmp_path / "actions.csv"
    assert run("actions", "--csv", str(out), data_dir=tmp_path).returncode == 0
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))}
    assert (rows["act-voice"]["status"], rows["act-voice"]["closed_at"]) == ("done", "2026-02-10")
    bad = run("actions", "add", "--id", "act-bad", "--target", "coh-nowhere/pay",
              "--owner", "unit-nimbus-rai", "--kind", "mitigate", data_dir=tmp_path)  # fmt: skip
    assert bad.returncode == 1 and "column 'target'" in bad.stderr and "coh-nowhere" in bad.stderr
    again = run("actions", "add", "--id", "act-voice", "--target", "coh-meridian-in-rlhf/voice",
                "--owner", "unit-nimbus-rai", "--kind", "mitigate", data_dir=tmp_path)  # fmt: skip
    assert again.returncode == 1 and "already in the graph" in again.stderr
    unknown = run("actions", "close", "act-nowhere", "--status", "done", data_dir=tmp_path)
    assert unknown.returncode == 1 and "no action with id 'act-nowhere'" in unknown.stderr
    reopen = run("actions", "close", "act-voice", "--status", "in_progress", data_dir=tmp_path)
    assert reopen.returncode == 1 and "done or dropped" in reopen.stderr


def test_the_api_lists_actions_and_only_a_write_key_changes_them(tmp_path: Path) -> None:
    keys = {scope: new_key(f"{scope.value}-key", scope) for scope in (Scope.read, Scope.write)}
    settings = make_settings("embedded", tmp_path, api_keys=",".join(e for _, e in keys.values()))
    read, write_ = ({"Authorization": f"Bearer {keys[s][0]}"} for s in (Scope.read, Scope.write))
    assert run("ingest", str(EXAMPLE_BUNDLE), data_dir=settings.data_dir).returncode == 0
    new = {"id": "act-api", "target": "coh-meridian-in-rlhf/workload", "owner_unit_id": "unit-nimbus-rai",
           "kind": "prevent", "opened_at": "2026-01-05", "due_at": "2026-02-01"}  # fmt: skip
    with TestClient(create_app(settings)) as client:
        assert client.post(f"{API}/actions", json=new, headers=read).status_code == 403
        assert client.patch(f"{API}/actions/act-meridian-paid-rework", json={"status": "done"},
                            headers=read).status_code == 403  # fmt: skip
        created = client.post(f"{API}/actions", json=new, headers=write_)
        assert created.status_code == 200, created.text
        assert created.json()["revision"]["writer"] == "write-key"
        assert created.json()["action"]["status"] == "planned"
        page = client.get(f"{API}/actions", params={"limit": 2, "today": "2026-03-01"}, headers=read).json()
        assert (page["total"], page["offset"], page["limit"], page["next_offset"]) == (5, 0, 2, 2)
        assert {"id", "target", "status", "effect", "overdue", "before", "after"} <= set(page["items"][0])
        cli = run("actions", "--limit", "2", "--today", "2026-03-01", "--json", data_dir=settings.data_dir)
        assert json.loads(cli.stdout) == page  # one document, whichever surface asks
        closed = client.patch(f"{API}/actions/act-api", json={"status": "dropped"}, headers=write_).json()
        dropped = (closed["action"]["status"], closed["action"]["closed_at"])
        assert dropped == ("dropped", date.today().isoformat())
        refused = client.post(f"{API}/actions", json={**new, "id": "act-api-2", "owner_unit_id": "org-nimbus",
                                                       "due_at": "2025-01-01"}, headers=write_)  # fmt: skip
        assert refused.status_code == 422
        assert {(e["file"], e["column"]) for e in refused.json()["errors"]} == {("request body", "due_at")}
        wrong = client.post(f"{API}/actions", json={**new, "id": "act-api-3", "owner_unit_id": "org-nimbus"},
                            headers=write_).json()  # fmt: skip
        assert wrong["errors"][0]["message"] == "'org-nimbus' is an organization, expected a unit"
        assert client.get(f"{API}/actions/act-api-3", headers=read).status_code == 404  # nothing written
        one = client.get(f"{API}/actions/act-meridian-paid-rework", params={"today": "2026-03-01"},
                         headers=read)  # fmt: skip
        assert one.json()["overdue"] is True
        as_csv = client.get(f"{API}/actions.csv", params={"status": "planned"}, headers=read)
        assert as_csv.text.startswith("id,target,target_kind,owner_unit_id,kind,status")
        assert {r["id"] for r in csv.DictReader(io.StringIO(as_csv.text))} == {"act-kora-worker-reqs"}

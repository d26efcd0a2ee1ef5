"""つくば 4(2)③(I)(ア) the five points of the response policy recorded one by one; 4(2)③(II)(ア)
the recovery branch as a choice; 4(2)④(I) progress reports as a recurring duty (issue 16)."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import Select, TextArea

from conftest import open_screen, sample_intake, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.report.content import form1_content
from csirt_tui.response import StepError, notification_state, set_step, update_notification
from csirt_tui.store import Store
from csirt_tui.triage import Triage, record_triage
from screens.form import FormScreen
from screens.response import ResponseScreen

OP = "試験 花子"
POINTS = ["インシデントの影響範囲及び損害規模の把握", "対応に要する時間の見積り及び復旧のスケジュール確認",
          "対応に必要な人員及び人材の確保", "必要なコストの積算及びそれに対する予算措置",
          "連絡や通知をする必要がある機関の確認及び外部への報告対応"]


@pytest.fixture
def tsukuba(tmp_path, clock):
    store = Store.open(tmp_path / "tsukuba", profile="tsukuba", clock=clock)
    inc = store.create_incident(sample_intake(), operator=OP)
    record_triage(store, inc.id, Triage(fact_check="done", type_id="cyber", ticked=["L1.1"]), operator=OP)
    return store, inc.id


def progress(store, iid):
    return [(n["party"], n["status"]) for n in notification_state(store.profile, store.incident(iid))
            if n["purpose"] == "progress"]


def test_the_five_points_one_by_one_and_in_form1(tsukuba, clock):
    store, iid = tsukuba
    with pytest.raises(StepError):
        set_step(store, iid, "policy", "done", operator=OP, note="x", points={"予算": "なし"})
    _, warnings = set_step(store, iid, "policy", "done", operator=OP, note="方針",
                           points={POINTS[0]: "税務課端末1台", POINTS[3]: "予算不要"})
    assert any(w.startswith("留意事項の記録がありません: 対応に要する時間") for w in warnings)
    entry, warnings = set_step(store, iid, "policy", "done", operator=OP, note="方針（改）",
                               points={p: f"答{i}" for i, p in enumerate(POINTS)})
    assert not any("留意事項" in w for w in warnings)
    assert list(entry.data["points"]) == POINTS
    form = form1_content(store.profile, store.incident(iid), clock())
    first = next(s for s in form.sections if s.fill == "response").parts[0].auto
    assert any(f"{POINTS[2]}: 答2" in line for line in first)


def test_the_recovery_branch_is_a_choice(tsukuba):
    store, iid = tsukuba
    with pytest.raises(StepError):
        set_step(store, iid, "restore", "done", operator=OP, note="x", choice="rebuild")  # no interim measure
    with pytest.raises(StepError):
        set_step(store, iid, "restore", "done", operator=OP, note="x", choice="magic", choice_detail="y")
    _, warnings = set_step(store, iid, "restore", "doing", operator=OP, note="作業中")
    entry, warnings = set_step(store, iid, "restore", "done", operator=OP, note="再構築", choice="rebuild",
                               choice_detail="構築中は紙の台帳で受付")
    assert entry.data["choice"] == "rebuild" and entry.data["choice_detail"] == "構築中は紙の台帳で受付"
    assert "修復不可能な場合（新規に構築）: 新規システム構築期間中の代替策: 構築中は紙の台帳で受付" in entry.text


def test_progress_reports_recur_when_the_policy_or_the_level_changes(tsukuba):
    store, iid = tsukuba
    assert progress(store, iid) == []
    set_step(store, iid, "policy", "doing", operator=OP)
    assert progress(store, iid) == [("csirt_manager", "todo"), ("csirt_chief", "todo")]
    set_step(store, iid, "policy", "done", operator=OP, note="方針")  # still open: not asked twice
    assert len(progress(store, iid)) == 2
    for party in ("csirt_manager", "csirt_chief"):
        update_notification(store, iid, party, "done", operator=OP, means="内線", person="管理者", said="方針",
                            purpose="progress")
    record_triage(store, iid, Triage(fact_check="done", type_id="cyber", ticked=["L2.5"]), operator=OP)
    assert progress(store, iid)[-2:] == [("csirt_manager", "todo"), ("csirt_chief", "todo")]
    assert len(progress(store, iid)) == 4


def test_the_step_form_offers_each_point_and_the_branch(tsukuba, clock):
    store, iid = tsukuba

    async def scenario():
        app = CsirtDeskApp(store, operator=OP, clock=clock, backups=False)
        async with app.run_test(size=(120, 30)) as pilot:
            screen = await open_screen(pilot, app, lambda: app.open_response(iid), ResponseScreen, "#steps")
            table = screen.query_one("#steps")
            table.move_cursor(row=next(i for i, r in enumerate(screen.steps) if r["step"] == "policy"))
            await pilot.press("s")
            assert await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
            form = app.screen
            form.query_one("#f-status", Select).value = "done"
            form.query_one("#f-note", TextArea).text = "方針"
            for i in range(5):
                form.query_one(f"#f-point_{i}", TextArea).text = f"[bold]答{i}"
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: store.incident(iid).steps["policy"]["status"] == "done")
            assert store.incident(iid).steps["policy"]["points"][POINTS[4]] == "[bold]答4"

    asyncio.run(scenario())

"""The response tracker (Pilot): from first response to closure, warnings that do not block."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from textual.widgets import Checkbox, DataTable, Input, Select, TextArea

from conftest import TZ, Clock, sample_intake
from csirt_tui import triage as core
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens.form import FormScreen
from screens.response import ResponseScreen

NOW = datetime(2026, 11, 16, 11, 0, tzinfo=TZ)


def _incident(store, what="ランサムウェアの疑い"):
    inc = store.create_incident(sample_intake(received_at="2026-11-16T10:00:00+09:00", what=what,
                                              reporter_type="staff"), operator="受付")
    t = core.Triage(fact_check="done", type_id="cyber",
                    ticked=[k for k, lv, text, _ in core.level_examples(store.profile, "cyber")
                            if "ネットワーク接続している端末" in text])
    core.record_triage(store, inc.id, t, operator="ハンドラー")
    return inc.id


async def _fill(pilot, app, values: dict):
    form = app.screen
    assert isinstance(form, FormScreen)
    for key, value in values.items():
        widget = form.query_one(f"#f-{key}")
        if isinstance(widget, TextArea):
            widget.text = value
        elif isinstance(widget, (Select, Checkbox, Input)):
            widget.value = value
    await pilot.pause()
    await pilot.press("ctrl+s")
    await pilot.pause()


def _row(screen, wid, key):
    table = screen.query_one(wid, DataTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(key))


def test_first_response_to_closure(store_dir):
    clock = Clock(NOW)
    store = Store.open(store_dir, clock=clock)
    incident_id = _incident(store)
    other_id = _incident(store, what="別の件")
    warnings_seen = []

    async def scenario():
        app = CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False)
        original_notify = app.notify

        def notify(message, *a, **kw):
            warnings_seen.append(str(message))
            return original_notify(message, *a, **kw)

        app.notify = notify
        async with app.run_test(size=(120, 50)) as pilot:
            await pilot.pause()
            app.open_response(incident_id)
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, ResponseScreen)
            # containment before evidence: a warning, not a block
            _row(screen, "#steps", "containment")
            await pilot.press("s")
            await pilot.pause()
            await _fill(pilot, app, {"status": "done", "note": "LAN ケーブルを抜いて隔離"})
            assert store.incident(incident_id).steps["containment"]["status"] == "done"
            assert any("証拠保全" in w and "⚠" in w for w in warnings_seen)
            # evidence needs a note when completed
            _row(screen, "#steps", "evidence")
            await pilot.press("s")
            await pilot.pause()
            await _fill(pilot, app, {"status": "done", "note": ""})
            assert store.incident(incident_id).steps.get("evidence", {}).get("status") != "done"
            assert isinstance(app.screen, FormScreen)  # refused: the form stays, with what was typed
            await _fill(pilot, app, {"status": "done", "note": "端末のメモリダンプとイベントログを取得"})
            # a notification: done, with what was said
            _row(screen, "#notifs", str(screen.notifs[0]["thread"]))
            await pilot.press("d")
            await pilot.pause()
            await _fill(pilot, app, {"person": "試験 管理者", "said": "隔離済み、影響範囲を調査中と報告"})
            # evidence register with a file hashed
            await pilot.press("e")
            await pilot.pause()
            await _fill(pilot, app, {"item": "イベントログ", "location": "CSIRT 金庫 A-1", "path": ""})
            # monitoring
            await pilot.press("m")
            await pilot.pause()
            await _fill(pilot, app, {"period": "2週間"})
            # closure with open steps: asks, then records with force
            await pilot.press("c")
            await pilot.pause()
            await _fill(pilot, app, {"note": "再発なし、収束を確認"})
            assert isinstance(app.screen, FormScreen)  # what is still open is listed
            await _fill(pilot, app, {"force": True})
            await pilot.pause()

    asyncio.run(scenario())
    inc = store.incident(incident_id)
    assert inc.status == "closed"
    close = [e for e in inc.entries if e.kind == "close"][-1]
    assert close.data["forced"] and close.data["open_steps"]
    step = inc.steps["containment"]
    assert step["warnings"] and "証拠保全" in step["warnings"][0]
    assert any(n.get("status") == "done" and n.get("said") for n in inc.notifications)
    assert any(e.get("item") == "イベントログ" for e in inc.evidence)
    other = store.incident(other_id)  # several incidents stay independent
    assert other.status == "open" and "containment" not in {k for k, v in other.steps.items() if v["status"] != "todo"}
    assert store.verify().ok


def test_overdue_notifications_stand_out_on_the_dashboard(store_dir):
    from datetime import timedelta

    from csirt_tui.views import incident_row_cells

    clock = Clock(NOW)
    store = Store.open(store_dir, clock=clock)
    incident_id = _incident(store)
    row = next(r for r in store.list_incidents() if r["id"] == incident_id)
    assert row["notify_due"]
    assert "連絡期限超過" not in incident_row_cells(store.profile, row, clock.now)[-1]
    late = clock.now + timedelta(days=3)
    assert incident_row_cells(store.profile, row, late)[-1].startswith("【連絡期限超過】")
    from csirt_tui import response as rs

    for n in rs.notification_state(store.profile, store.incident(incident_id)):
        rs.update_notification(store, incident_id, n["party"], "na", operator="op", why="同席して報告済み")
    row = next(r for r in store.list_incidents() if r["id"] == incident_id)
    assert row["notify_due"] is None
    assert "連絡期限超過" not in incident_row_cells(store.profile, row, late)[-1]


def _one_width(text: str) -> bool:
    import unicodedata

    return all(unicodedata.east_asian_width(ch) != "A" for ch in text)


def _on_the_tracker_at_80x24(store_dir, then) -> None:
    """Run ``then(app, pilot)`` with the response screen of a level-1 cyber incident open at 80x24."""
    clock = Clock(datetime(2026, 11, 16, 10, 0, tzinfo=TZ))
    store = Store.open(store_dir, clock=clock)
    incident_id = _incident(store)

    async def scenario():
        app = CsirtDeskApp(store, operator="op", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.push_screen(ResponseScreen(incident_id))
            await pilot.pause()
            await then(app, pilot)

    asyncio.run(scenario())


def test_why_a_party_is_to_be_told_is_drawn_in_one_width_characters(store_dir):
    """The reason under a party to notify is the profile's clause (つくば 4(2)④(I) …): ④ is of
    ambiguous width, two cells in a Japanese terminal; it was drawn as it is (found walking a
    call in tmux at 80x24)."""
    from textual.widgets import Static

    async def then(app, pilot):
        app.screen.query_one("#notifs", DataTable).focus()
        await pilot.pause()
        text = str(app.screen.query_one("#response-info", Static).render())
        assert "理由: " in text and "4(2)" in text and _one_width(text), text
        await pilot.press("d")  # 連絡済み: the form says why too
        await pilot.pause()
        intro = str(app.screen.query_one("#form-intro", Static).render())
        assert "4(2)" in intro and _one_width(intro), intro

    _on_the_tracker_at_80x24(store_dir, then)


def test_a_warning_quoting_the_procedures_is_drawn_in_one_width_characters(store_dir):
    """「復旧の前に監視を始めている（つくば 4(2)③(II)(イ) ...」: the toast drew ③ (two cells in a
    Japanese terminal; found walking a call in tmux at 80x24)."""

    async def then(app, pilot):
        app.screen._run(lambda *a, **k: (None, ["監視（つくば 4(2)③(II)(イ)）"]), ok="記録しました")
        await pilot.pause()
        said = [str(n.message) for n in app._notifications if "監視" in str(n.message)]
        assert said and _one_width(said[0]), said

    _on_the_tracker_at_80x24(store_dir, then)


def test_after_a_refused_close_tab_and_space_tick_the_consent_and_leave_the_memo_as_typed(store_dir):
    """The close form refused with steps open asks 「未完了のものを承知のうえで収束する」 and gives
    that check the focus. A Tab then wrapped round to the memo (the form's first field), and the
    Space typed next, meant for the check, went into the memo's text. The form's fields are in the
    order they are read (memo, then the check) and Tab stops at the last one: Tab, Space, Ctrl+S
    records the closure with the memo as typed."""
    clock = Clock(NOW)
    store = Store.open(store_dir, clock=clock)
    incident_id = _incident(store)
    seen = {}

    async def scenario():
        app = CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_response(incident_id)
            await pilot.pause()
            await pilot.press("c")
            await pilot.pause()
            await pilot.press(*"再発なし", "ctrl+s")
            await pilot.pause(0.3)
            form = app.screen
            assert isinstance(form, FormScreen) and form.query("#f-force")
            seen["focus after refusal"] = app.focused.id
            await pilot.press("tab", "space")
            await pilot.pause()
            seen["focus after tab"] = app.focused.id
            seen["memo"] = form.query_one("#f-note", TextArea).text
            await pilot.press("shift+tab")  # back to the memo, and forward again
            seen["back"] = app.focused.id
            await pilot.press("tab")
            seen["forward"] = app.focused.id
            await pilot.press("ctrl+s")
            await pilot.pause(0.3)

    asyncio.run(scenario())
    assert seen["focus after refusal"] == "f-force"
    assert seen["focus after tab"] == "f-force" and seen["memo"] == "再発なし"
    assert (seen["back"], seen["forward"]) == ("f-note", "f-force")
    inc = store.incident(incident_id)
    assert inc.status == "closed"
    close = [e for e in inc.entries if e.kind == "close"][-1]
    assert close.data["forced"] and "再発なし" in close.text


async def _on_tracker(store_dir, then):
    """``then(app, pilot)`` on the tracker of a new incident, 80x24; returns what it returns."""
    clock = Clock(NOW)
    store = Store.open(store_dir, clock=clock)
    incident_id = _incident(store)
    app = CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_response(incident_id)
        await pilot.pause()
        return await then(app, pilot)


def test_the_steps_title_is_in_view_at_open_and_the_cursor_row_stays_in_view(store_dir):
    """At 80x24 the tracker opened scrolled one line down: focusing the steps table scrolled it
    into view, which put its section title 「対応の手順 (s / Enter で状態を記録)」 above the screen
    (and left a blank header line). Moving down the steps still brings each row into view."""
    clock = Clock(NOW)
    store = Store.open(store_dir, clock=clock)
    incident_id = _incident(store)

    async def scenario():
        app = CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            app.open_response(incident_id)
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, ResponseScreen)
            body = screen.query_one("#response-body")
            assert body.scroll_y == 0
            title = screen.query_one("#response-body .section-title")
            assert body.region.contains_region(title.region)
            table = screen.query_one("#steps", DataTable)
            for _ in range(table.row_count - 1):
                await pilot.press("down")
                await pilot.pause()
                row_y = table.region.y + table.cursor_row - round(table.scroll_y)
                assert body.region.y <= row_y < body.region.bottom, (table.cursor_row, body.scroll_y)
            assert table.cursor_row == table.row_count - 1

    asyncio.run(scenario())


@pytest.mark.parametrize("size", [(80, 24), (120, 30)])
def test_the_body_follows_the_cursor_of_each_table(store_dir, size):
    """A table scrolls only itself: moving down the notifications (Tab), the tracker's body stayed
    put while the detail below grew with the row's text, and the second notification was under
    it, out of sight (at 80x24 and 120x30). Now the body follows the cursor row of the focused
    table, and back on the first step its section title is in view again."""
    clock = Clock(NOW)
    store = Store.open(store_dir, clock=clock)
    incident_id = _incident(store)
    hidden: list = []

    async def scenario():
        app = CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False)
        async with app.run_test(size=size) as pilot:
            app.open_response(incident_id)
            await pilot.pause()
            screen = app.screen
            body = screen.query_one("#response-body")
            steps = screen.query_one("#steps", DataTable)
            for wid in ("#steps", "#notifs"):
                table = screen.query_one(wid, DataTable)
                if wid != "#steps":
                    await pilot.press("tab")
                    await pilot.pause()
                assert app.focused is table and table.row_count > 1
                for _ in range(table.row_count - 1):
                    await pilot.press("down")
                    await pilot.pause()
                    row_y = table.region.y + table.cursor_row - round(table.scroll_y)
                    if not body.region.y <= row_y < body.region.bottom:
                        hidden.append((wid, table.cursor_row, row_y, body.region))
            await pilot.press("shift+tab")
            await pilot.pause()
            assert app.focused is steps
            for _ in range(steps.row_count):
                await pilot.press("up")
            await pilot.pause()
            assert steps.cursor_row == 0
            title = screen.query_one("#response-body .section-title")
            assert body.scroll_y == 0 and body.region.contains_region(title.region)

    asyncio.run(scenario())
    assert hidden == []


def test_esc_esc_on_a_step_form_names_the_text_once(store_dir):
    """A step form's text is 「入力」: its Esc question and its discard said 「入力した入力を…」."""
    async def scenario(app, pilot):
        await pilot.press("s")
        for _ in range(50):
            await pilot.pause()
            if isinstance(app.screen, FormScreen) and app.focused is not None:
                break
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#f-note", TextArea).focus()
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        from screens.form import DraftStatus

        asked = form.query_one(DraftStatus).text
        await pilot.press("escape")
        await pilot.pause()
        said = [str(n.message) for n in app._notifications]
        return asked, said

    asked, said = asyncio.run(_on_tracker(store_dir, scenario))
    assert asked.startswith("入力を破棄しますか？"), asked
    assert "入力を破棄しました（記録していません）" in said, said
    assert not any("入力した入力" in text for text in [asked, *said])


def _osaki_fraud(store_dir):
    """大崎: a 不正行為 at 脅威度3 (its steps, the council)."""
    clock = Clock(NOW)
    store = Store.open(store_dir, profile="osaki", clock=clock)
    inc = store.create_incident(sample_intake(received_at="2026-11-16T10:00:00+09:00"), operator="受付")
    core.record_triage(store, inc.id, core.Triage(fact_check="done", type_id="fraud", ticked=["L3.2.2"]),
                       operator="ハンドラー")
    return store, clock, inc


def test_the_steps_of_a_phase_named_after_its_type_show_the_phase(store_dir):
    """大崎's phases are named after their type (「不正行為: 報告・情報の把握・緊急措置」, 「不正行為:
    セキュリティ会議」): cut at the column's 14 cells, every step of a 不正行為 read 「不正行為: ...」
    at 120 columns. The column shows the phase; the heading says the type."""
    from csirt_tui.response import step_states

    store, clock, inc = _osaki_fraud(store_dir)
    rows = step_states(store.profile, store.incident(inc.id))
    assert any(r["phase_label"].startswith("不正行為: ") for r in rows)
    shown = {ResponseScreen._step_line(r).plain[:16].strip() for r in rows}
    assert not any(s.startswith("不正行為") for s in shown), shown
    assert len(shown) > 1, shown


def test_the_council_form_names_each_item_once(store_dir):
    """大崎's セキュリティ会議 (k on the tracker) asked 「システムの停止: システムの停止」, 「関係機関への連絡:
    関係機関への連絡」, 「代替措置の実施: 代替措置の実施」: the item, then its one field of the same name."""
    store, clock, inc = _osaki_fraud(store_dir)
    seen = {}

    async def scenario():
        app = CsirtDeskApp(store, operator="ハンドラー", clock=clock, backups=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            app.open_response(inc.id)
            await pilot.pause()
            await pilot.press("k")
            await pilot.pause()
            assert isinstance(app.screen, FormScreen)
            seen["labels"] = [f.label for f in app.screen.fields]

    asyncio.run(scenario())
    labels = seen["labels"]
    assert "システムの停止" in labels and "システムの停止: 停止の範囲・内容" in labels, labels
    assert not [label for label in labels if ": " in label and label.split(": ", 1)[0] == label.split(": ", 1)[1]], labels


def test_the_councils_interim_measures_are_kept_with_either_colon_or_refused_never_dropped(store_dir):
    """代替措置の実施 (1行に「業務: 措置」): a line typed with the Japanese colon (「窓口業務：紙の申請書で
    受付」) or without one was dropped, and the decision recorded without it. Either colon is read; a
    line that is not 「業務: 措置」 is refused, named, and stays in the form."""
    store, clock, inc = _osaki_fraud(store_dir)
    seen = {}

    async def scenario():
        app = CsirtDeskApp(store, operator="ハンドラー", clock=clock, backups=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            app.open_response(inc.id)
            await pilot.pause()
            await pilot.press("k")
            await pilot.pause()
            form = app.screen
            interim = form.query_one("#f-interim", TextArea)
            interim.text = "窓口業務：紙の申請書で受付\n電話対応"
            await pilot.press("ctrl+s")
            await pilot.pause(0.3)
            seen["refused"] = (app.screen is form, interim.text, app.focused is interim)
            interim.text = "窓口業務：紙の申請書で受付\n電話: 受付時間：9時〜"
            await pilot.press("ctrl+s")
            await pilot.pause(0.3)
            seen["closed"] = app.screen is not form

    asyncio.run(scenario())
    assert seen["refused"] == (True, "窓口業務：紙の申請書で受付\n電話対応", True), seen
    assert seen["closed"], seen
    decision = next(e for e in store.timeline(inc.id) if e.kind == "decision")
    assert decision.data["council"]["interim"] == [{"business": "窓口業務", "measure": "紙の申請書で受付"},
                                                   {"business": "電話", "measure": "受付時間：9時〜"}], decision.data


def test_the_dashboard_and_list_say_a_phase_named_after_its_type_by_its_phase(store_dir):
    """The dashboard's フェーズ column (10 cells at 80 columns, 14 at 120) read 「不正行為: ...」 on every
    大崎 不正行為 row, beside a 種別 column saying 不正行為; `csirt-desk list` said it twice too."""
    from csirt_tui.views import incident_row_cells

    store, clock, inc = _osaki_fraud(store_dir)
    row = next(r for r in store.list_incidents() if r["id"] == inc.id)
    cells = incident_row_cells(store.profile, row, clock())
    assert cells[4] == "不正行為" and cells[6] == "報告・情報の把握・緊急措置", cells

"""The roster (Pilot): find a person by kana, who to call now, log a call from an incident."""

from __future__ import annotations

import asyncio
from datetime import datetime

from textual.widgets import DataTable, Input, Static, TextArea

from conftest import TZ, Clock, sample_intake, wait_until
from csirt_tui import roster as rc
from csirt_tui import triage as core
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens.form import FormScreen
from screens.form import PickerScreen
from screens.roster import RosterScreen

SATURDAY_NIGHT = datetime(2026, 11, 21, 21, 0, tzinfo=TZ)


def _people(store):
    rc.add_person(store, {"name": "試験 一樹", "kana": "しけん かずき", "role": "csirt_manager",
                          "section": "総合情報課", "extension": "2141", "mobile": "090-0000-0101",
                          "weekday": True, "night": True, "holiday": True}, operator="setup")
    rc.add_person(store, {"name": "見本 花子", "kana": "みほん はなこ", "role": "csirt_manager",
                          "section": "総合情報課", "extension": "2142", "weekday": True}, operator="setup")


def test_find_by_kana_and_who_to_call_now(store_dir):
    clock = Clock(SATURDAY_NIGHT)
    store = Store.open(store_dir, clock=clock)
    _people(store)

    async def scenario():
        app = CsirtDeskApp(store, operator="受付", clock=clock, backups=False)
        async with app.run_test(size=(120, 45)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+r")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, RosterScreen)
            table = screen.query_one("#people", DataTable)
            assert table.row_count == 2
            screen.query_one("#roster-query", Input).value = "ミホン"  # katakana finds the hiragana kana
            await pilot.pause()
            assert table.row_count == 1 and "見本 花子" in str(table.get_row_at(0)[0])
            screen.query_one("#roster-query", Input).value = ""
            await pilot.pause()
            await pilot.press("w")
            await pilot.pause()
            picker = app.screen
            assert isinstance(picker, PickerScreen)
            lst = picker.query_one("#kind-list")
            lst.highlighted = [cid for _l, cid in picker.choices].index("csirt_manager")
            await pilot.press("enter")
            await pilot.pause()
            who = str(screen.query_one("#who-result", Static).render())
            assert "試験 一樹" in who and "見本 花子" not in who  # Saturday night: only who is reachable

    asyncio.run(scenario())


def test_log_a_call_from_an_incident_appears_on_the_record(store_dir):
    clock = Clock(SATURDAY_NIGHT)
    store = Store.open(store_dir, clock=clock)
    _people(store)
    inc = store.create_incident(sample_intake(received_at="2026-11-21T20:30:00+09:00", reporter_type="staff"),
                                operator="受付")
    t = core.Triage(fact_check="done", type_id="cyber",
                    ticked=[k for k, lv, text, _ in core.level_examples(store.profile, "cyber") if lv == 1][:1])
    core.record_triage(store, inc.id, t, operator="ハンドラー")

    async def scenario():
        app = CsirtDeskApp(store, operator="ハンドラー", clock=clock, backups=False)
        async with app.run_test(size=(120, 45)) as pilot:
            await pilot.pause()
            app.open_response(inc.id)
            await pilot.pause()
            screen = app.screen
            notifs = screen.query_one("#notifs", DataTable)
            notifs.focus()
            row = next(i for i, n in enumerate(screen.notifs) if n["party"] == "csirt_manager")
            notifs.move_cursor(row=row)
            await pilot.press("t")
            await pilot.pause()
            assert isinstance(app.screen, PickerScreen)
            await pilot.press("enter")  # the first to call now
            await pilot.pause()
            form = app.screen
            assert isinstance(form, FormScreen)
            form.query_one("#f-said", TextArea).text = "端末を隔離済みと報告。明朝登庁するとのこと"
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: any(e.kind == "call" for e in store.timeline(inc.id)))

    asyncio.run(scenario())
    inc2 = store.incident(inc.id)
    call = next(e for e in inc2.entries if e.kind == "call")
    assert "試験 一樹" in call.text
    manager = next(n for n in inc2.notifications if n.get("party") == "csirt_manager" and n.get("status") == "done")
    assert "隔離済み" in manager["said"]
    assert store.verify().ok


def test_call_anyone_from_the_incident_view(store_dir):
    from screens.incident import IncidentScreen

    clock = Clock(SATURDAY_NIGHT)
    store = Store.open(store_dir, clock=clock)
    _people(store)
    inc = store.create_incident(sample_intake(received_at="2026-11-21T20:30:00+09:00"), operator="受付")

    async def scenario():
        app = CsirtDeskApp(store, operator="受付", clock=clock, backups=False)
        async with app.run_test(size=(120, 45)) as pilot:
            await pilot.pause()
            app.push_screen(IncidentScreen(inc.id))
            await pilot.pause()
            await pilot.press("c")
            await pilot.pause()
            picker = app.screen
            assert isinstance(picker, PickerScreen)
            picker.query_one("#kind-list").highlighted = [cid for _l, cid in picker.choices].index("csirt_manager")
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, PickerScreen)  # who to call now
            assert "試験 一樹" in str(app.screen.choices[0][0])
            await pilot.press("enter")
            await pilot.pause()
            app.screen.query_one("#f-said", TextArea).text = "状況を説明、指示待ち"
            app.screen.query_one("#f-means", Input).value = "携帯"
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: any(e.kind == "call" for e in store.timeline(inc.id)))

    asyncio.run(scenario())
    call = next(e for e in store.timeline(inc.id) if e.kind == "call")
    assert call.data["person"] == "試験 一樹" and call.data["number"] == "090-0000-0101"
    assert "状況を説明、指示待ち" in call.text


def on_roster(store, clock, size, then) -> None:
    """The desk at ``size``, Ctrl+R, the roster shown: ``then(app, pilot)``."""
    async def scenario():
        app = CsirtDeskApp(store, operator="受付", clock=clock, backups=False)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+r")
            assert await wait_until(pilot, lambda: isinstance(app.screen, RosterScreen))
            await pilot.pause()
            await then(app, pilot)

    asyncio.run(scenario())


def test_at_80_columns_the_list_shows_who_is_absent(store_dir):
    """The 不在 mark of a row was drawn after the section, the numbers and the 平夜休 marks, from
    the 93rd cell on: at 80 columns the list never said who is away (the operator calls them)."""
    from screen_walk import drawn

    clock = Clock(SATURDAY_NIGHT)
    store = Store.open(store_dir, clock=clock)
    _people(store)
    absent = next(p for p in rc.list_people(store) if p["name"] == "見本 花子")
    rc.update_person(store, absent["doc_id"], {"absent": True}, operator="setup")
    rows = {}

    async def then(app, pilot):
        for line in drawn(app).text.splitlines():
            for name in ("見本 花子", "試験 一樹"):
                if name in line and "内線" in line:
                    rows[name] = line

    on_roster(store, clock, (80, 24), then)
    assert "不在" in rows["見本 花子"], rows
    assert "不在" not in rows["試験 一樹"], rows


def test_x_says_whom_it_marked_absent_and_back(store_dir):
    """x marks the highlighted person 不在 (who to call skips them): it said nothing, and a stray
    x (typed for the search field) changed the roster unseen."""
    clock = Clock(SATURDAY_NIGHT)
    store = Store.open(store_dir, clock=clock)
    _people(store)
    said = []

    async def then(app, pilot):
        for _ in range(2):
            await pilot.press("x")
            await pilot.pause()
            said.append([str(n.message) for n in app._notifications])

    on_roster(store, clock, (80, 24), then)
    assert any("試験 一樹: 不在にしました" in m for m in said[0]), said
    assert any("試験 一樹: 在席にしました" in m for m in said[1]), said
    assert not rc.list_people(store)[0].get("absent")


def test_at_120_columns_a_long_roster_shows_every_mark(store_dir):
    """With more people than the list shows (its scroll bar takes two columns), the row drawn at
    120 columns lost its last mark (平夜休 read 平夜: reachable on holidays not said) once the 不在
    column was added."""
    from screen_walk import drawn

    clock = Clock(SATURDAY_NIGHT)
    store = Store.open(store_dir, clock=clock)
    for i in range(25):
        rc.add_person(store, {"name": f"試験 {i:02d}", "role": "csirt_manager", "section": "総務部総合情報課 主幹",
                              "extension": "2141", "phone": "0175-00-0001", "mobile": "090-0000-0101",
                              "weekday": True, "night": True, "holiday": True}, operator="setup")
    lines = []

    async def then(app, pilot):
        lines.extend(line for line in drawn(app).text.splitlines() if "試験 00" in line)

    on_roster(store, clock, (120, 30), then)
    assert lines and lines[0].rstrip(" ▁▂▃▄▅▆▇█▉▊▋▌▍▎▏").endswith("平夜休"), lines


def test_at_80x24_who_to_call_reads_whole_and_the_call_form_keeps_the_number_in_sight(store_dir):
    """Walking the tracker at 80x24 (t on CSIRT管理者): the picker was 40 cells wide, its title read
    「CSIRT管理者: 今だれに電話するか (」 and each person took three lines (name, numbers, when);
    once a person was picked, the call form showed no number to dial."""
    clock = Clock(SATURDAY_NIGHT)
    store = Store.open(store_dir, clock=clock)
    _people(store)
    inc = store.create_incident(sample_intake(received_at="2026-11-21T20:30:00+09:00", reporter_type="staff"),
                                operator="受付")
    t = core.Triage(fact_check="done", type_id="cyber",
                    ticked=[k for k, lv, text, _ in core.level_examples(store.profile, "cyber") if lv == 1][:1])
    core.record_triage(store, inc.id, t, operator="ハンドラー")
    seen = {}

    async def scenario():
        from rich.cells import cell_len

        app = CsirtDeskApp(store, operator="ハンドラー", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_response(inc.id)
            assert await wait_until(pilot, lambda: bool(app.screen.query("#notifs")))
            screen = app.screen
            notifs = screen.query_one("#notifs", DataTable)
            notifs.focus()
            notifs.move_cursor(row=next(i for i, n in enumerate(screen.notifs) if n["party"] == "csirt_manager"))
            await pilot.press("t")
            assert await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
            await pilot.pause()
            picker = app.screen
            title = picker.query_one(".saved-title")
            seen["title"] = (picker.query_one("#kind-box").content_region.width, cell_len(picker.title_text))
            listed = picker.query_one("#kind-list")
            seen["rows"] = (listed.virtual_size.height, len(picker.choices))
            await pilot.press("enter")
            assert await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
            await pilot.pause()
            seen["intro"] = str(app.screen.query_one("#form-intro", Static).render())

    asyncio.run(scenario())
    width, needed = seen["title"]
    assert width >= needed, seen
    assert seen["rows"][0] == seen["rows"][1], seen  # one line a person
    assert "090-0000-0101" in seen["intro"] and "内線2141" in seen["intro"], seen


def test_the_csv_forms_say_what_ctrl_s_does_there(store_dir):
    """The roster's CSV export and import forms said 「Ctrl+S 記録」: nothing is recorded there, a
    file is written or read (found walking the desk)."""
    clock = Clock(SATURDAY_NIGHT)
    store = Store.open(store_dir, clock=clock)
    _people(store)
    hints = {}

    async def scenario():
        app = CsirtDeskApp(store, operator="受付", clock=clock, backups=False)
        async with app.run_test(size=(120, 45)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+r")
            assert await wait_until(pilot, lambda: isinstance(app.screen, RosterScreen))
            roster = app.screen
            for name, act in (("export", roster.action_export_csv), ("import", roster.action_import_csv)):
                act()
                assert await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
                await pilot.pause()
                hints[name] = str(app.screen.query_one(".hint", Static).render())
                app.screen.dismiss(None)
                assert await wait_until(pilot, lambda: app.screen is roster)

    asyncio.run(scenario())
    assert hints["export"].startswith("Ctrl+S 書き出す") and hints["import"].startswith("Ctrl+S 取り込む"), hints

"""A form draws the fields its box shows, then the rest (issue 15: every screen open <= 150 ms
at 10,000 incidents, timed in bench/intake.py; counted here).

The step form (s on the response tracker) has 28 widgets; its five 留意事項 memos (10 of
them: a label and a 5-line box each) are below its fields' box's edge at 80x24 and 120x30 and
are mounted just after the first paint, as the triage's lower form is (tests/test_triage_opening.py).
Keys read before they are there wait for them: none is lost, each goes where it would have gone
on the whole form, in the order typed."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from conftest import TZ, Clock, sample_intake, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens.form import FormScreen
from screens.response import ResponseScreen
from test_keys_race import burst

NOW = datetime(2026, 11, 22, 14, 35, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _built_at_s(monkeypatch):
    """These are of the form built at `s`; the one made ahead while the tracker is idle:
    tests/test_step_ahead.py."""
    import screens.response

    monkeypatch.setattr(screens.response, "STEP_AHEAD_IDLE", 3600)


def _desk(store_dir):
    clock = Clock(NOW)
    store = Store.open(store_dir, clock=clock)
    inc = store.create_incident(sample_intake(), operator="受付")
    return CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False), inc.id


async def _tracker(app, pilot, incident_id):
    await pilot.pause()
    app.push_screen(ResponseScreen(incident_id))
    assert await wait_until(pilot, lambda: isinstance(app.screen, ResponseScreen) and app.focused is not None)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 30)])
def test_the_step_form_draws_the_fields_its_box_shows_then_the_memos_below(store_dir, monkeypatch, size):
    app, incident_id = _desk(store_dir)
    at_first_paint = []  # the widgets there when the lower fields are built (after the first paint)
    build_lower = FormScreen._build_lower_fields

    async def painted_then_built(form):
        at_first_paint.append({w.id for w in form.walk_children() if w.id})
        at_first_paint.append(form._drawn_whole_at is not None)  # (laid out and drawn by then)
        await build_lower(form)

    monkeypatch.setattr(FormScreen, "_build_lower_fields", painted_then_built)
    got = {}

    async def go():
        async with app.run_test(size=size) as pilot:
            await _tracker(app, pilot, incident_id)
            await pilot.press("s")
            assert await wait_until(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.keys_wait.is_set())
            await pilot.pause()
            form = app.screen
            box = form.query_one("#form-fields")
            got["ids"] = [w.id for w in box.children if w.id]
            got["shown"] = box.content_region  # what of the box is seen (not scrolled)
            got["later"] = {w.id: w.region for w in box.children if w.id and w.id not in at_first_paint[0]}
            got["focused"] = app.focused.id

    asyncio.run(go())
    first, drawn = at_first_paint
    assert drawn
    assert {"f-status", "f-who", "f-when", "f-when-preview"} <= first  # (at 80x24 the memo is below the edge)
    assert not any(i.startswith("f-point_") for i in first)  # built after the first paint
    # the whole form, in its order, once opened; what came later is below what the box shows
    assert got["ids"] == ["f-status", "f-who", "f-when", "f-when-preview", "f-note",
                          *(f"f-point_{i}" for i in range(5))]
    assert {f"f-point_{i}" for i in range(5)} <= set(got["later"])
    assert all(region.y >= got["shown"].bottom for region in got["later"].values()), (got["shown"], got["later"])
    assert got["focused"] == "f-status"


def test_keys_read_as_the_step_form_opens_wait_for_its_memos(store_dir):
    """The step form opened (as s on the tracker does), then four Tabs (担当, いつ, メモ, the
    first 留意事項), text and Ctrl+S read at once, before the memos below the box's edge are
    there: each goes where it goes on the whole form, in order (read before the memos were there,
    the fourth Tab had nowhere to go and the text went into メモ), and Ctrl+S records it, verbatim."""
    app, incident_id = _desk(store_dir)
    got = {}

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await _tracker(app, pilot, incident_id)
            app.screen.action_step()
            burst(app, "\t\t\t\t影響は[bold]庁内[/]のみ\x13")
            assert await wait_until(pilot, lambda: isinstance(app.screen, ResponseScreen))
            await pilot.pause()
            got["running"] = app.is_running

    asyncio.run(go())
    assert got["running"]
    steps = [e for e in Store.open(store_dir).incident(incident_id).entries if e.kind == "step"]
    assert steps, "the step was not recorded"
    data = steps[-1].data or {}
    assert data.get("note", "") == ""
    assert list((data.get("points") or {}).values()) == ["影響は[bold]庁内[/]のみ"], data


def test_the_keys_go_on_once_the_memos_are_laid_out(store_dir, monkeypatch):
    """The keys held as the form opened go on after the layout that places the memos, not between
    their mount and it: that layout meets the requests made before it and repaints nothing more
    (screens/opening.py), so a key's change made in between could be left undrawn (seen in a tmux
    walk under load: after a Tab scrolled the box, lines of the memo's box stayed on the terminal)."""
    from textual.screen import Screen

    app, incident_id = _desk(store_dir)
    order = []
    refresh_layout = Screen._refresh_layout

    def laid_out(screen, size=None, scroll=False):
        if isinstance(screen, FormScreen) and not scroll:
            order.append(("layout", len(screen.query("#form-fields > *"))))
        return refresh_layout(screen, size, scroll)

    monkeypatch.setattr(Screen, "_refresh_layout", laid_out)

    async def go():
        async with app.run_test(size=(120, 30)) as pilot:
            await _tracker(app, pilot, incident_id)
            app.screen.action_step()
            form = app.screen
            set_keys = form.keys_wait.set
            monkeypatch.setattr(form.keys_wait, "set", lambda: (order.append(("keys",)), set_keys())[-1])
            assert await wait_until(pilot, lambda: form.keys_wait.is_set())

    asyncio.run(go())
    assert order[-1] == ("keys",) and order[-2] == ("layout", 19), order


@pytest.mark.parametrize("answer", ["enter", "n"])
def test_keys_typed_as_a_form_opens_on_its_unsaved_draft_do_not_answer_the_offer(store_dir, answer):
    """The step form opened again over its unsaved text: the offer (続きを書く / 破棄して新しく書く /
    あとで) came up as it opened, and the Tab and the memo typed meanwhile went to the offer: its
    「n」 discarded the draft the operator never saw offered. Keys read before the offer could be
    seen are now kept for the form and reach it once the offer is answered."""
    from test_keys_race import burst

    app, incident_id = _desk(store_dir)

    async def typed_then_quit():
        async with app.run_test(size=(80, 24)) as pilot:
            await _tracker(app, pilot, incident_id)
            app.screen.action_step()
            assert await wait_until(pilot, lambda: isinstance(app.screen, FormScreen)
                                    and app.screen.keys_wait.is_set() and app.screen.keeper is not None)
            app.screen.query_one("#f-note").focus()
            await pilot.press(*"前のメモ")
            app.screen.flush_now()

    asyncio.run(typed_then_quit())
    store = Store.open(store_dir)
    again = CsirtDeskApp(store, operator="見本 ハンドラー", clock=Clock(NOW), backups=False)
    got = {}

    async def opened_again():
        async with again.run_test(size=(80, 24)) as pilot:
            await _tracker(again, pilot, incident_id)
            again.screen.action_step()
            burst(again, "\tnew text")  # typed as the form opens, before anything is seen
            assert await wait_until(pilot, lambda: type(again.screen).__name__ == "DraftOfferScreen")
            await pilot.pause(0.5)
            got["offer still up"] = type(again.screen).__name__ == "DraftOfferScreen"
            await pilot.pause(0.3)  # (the operator reads it)
            await pilot.press(answer)
            assert await wait_until(pilot, lambda: isinstance(again.screen, FormScreen))
            await pilot.pause(0.5)
            got["values"] = {w.id: w.value for w in again.screen.query("Input") if w.value}
            got["memo"] = again.screen.query_one("#f-note").text

    asyncio.run(opened_again())
    assert got["offer still up"]  # before: answered by the keys typed for the form
    assert any("new text" in v for v in got["values"].values()), got  # the keys reached the form
    discarded = Store.open(store_dir).list_drafts(kind=None, status="discarded")
    if answer == "enter":  # 続きを書く: the memo back, nothing discarded
        assert got["memo"] == "前のメモ" and not discarded
    else:  # 破棄して新しく書く, chosen by the operator: discarded, the form blank but for what was typed
        assert got["memo"] == "" and len(discarded) == 1


def test_a_tab_read_with_s_moves_the_focus_on_the_step_form_not_on_the_tracker(store_dir):
    """「s」 and Tab in one read on the response tracker: Tab is a priority binding (app.move_focus),
    run as it was read, while 「s」 was still on its way to the tracker's binding: it moved the
    tracker's focus (and 541f399 re-sends only keys that come back unhandled), then 「s」 opened the
    step form with its focus on its first field. A key read after a key still being handled now
    waits for it: the Tab moves the step form's focus, from 状態 to 担当, as typed slowly."""
    app, incident_id = _desk(store_dir)
    got = {}

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await _tracker(app, pilot, incident_id)
            tracker = app.screen
            got["tracker focus"] = tracker.focused.id
            burst(app, "s\t")
            assert await wait_until(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.keys_wait.is_set())
            await pilot.pause(0.3)
            got["tracker focus after"] = tracker.focused.id
            got["form focus"] = app.focused.id

    asyncio.run(go())
    assert got["tracker focus after"] == got["tracker focus"]
    assert got["form focus"] == "f-who"


def test_a_dropdown_chosen_in_one_read_acts_as_typed_slowly(store_dir):
    """On the step form's 状態 (a Select), Enter, Down Down Enter, Tab and a name in one read: the
    open list takes the focus through the message queue, so the Downs, the Enter, the Tab and the
    text were read with the closed Select focused (the text went to the list's search) and the
    list was left open. Read one at a time, they choose 完了, close it, and the name goes to 担当."""
    from textual.widgets import Select

    app, incident_id = _desk(store_dir)
    got = {}

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await _tracker(app, pilot, incident_id)
            await pilot.press("s")
            assert await wait_until(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.keys_wait.is_set())
            await pilot.pause()
            form = app.screen
            assert app.focused.id == "f-status"
            burst(app, "\r\x1b[B\x1b[B\r\t山田 次郎")
            await wait_until(pilot, lambda: form.query_one("#f-who").value == "山田 次郎", timeout=3)
            got["status"] = form.query_one("#f-status", Select).value
            got["open"] = form.query_one("#f-status", Select).expanded
            got["focus"] = app.focused.id if app.focused is not None else None
            got["who"] = form.query_one("#f-who").value

    asyncio.run(go())
    assert got == {"status": "done", "open": False, "focus": "f-who", "who": "山田 次郎"}


def test_downs_in_one_read_on_the_dashboard_do_not_wait_for_each_other_and_keep_their_order(tmp_path):
    """Keys handled one at a time (2acc0bd) made each Down of a burst on the dashboard's table wait
    for the one before (40 Downs in one read: 410-760 ms at 10,000 incidents, 70-120 ms before;
    review). A key that moves a list's cursor opens nothing and moves no focus: it is not held.
    Up Up Enter in one read still opens the incident two rows above (the keys in their order)."""
    from textual.widgets import DataTable

    from csirt_tui.demo import build_demo
    from screens.incident import IncidentScreen

    clock = Clock(NOW)
    store = Store.open(tmp_path / "store", clock=clock)
    build_demo(store)
    app = CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False)
    handed = []
    key_handed = app._key_handed
    app._key_handed = lambda target, key, since=None: (handed.append(key.key), key_handed(target, key, since))[1]
    got = {}

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            table = app.screen.query_one("#incidents", DataTable)
            assert await wait_until(pilot, lambda: table.row_count > 4 and app.focused is table)
            start = table.cursor_row
            burst(app, "\x1b[B" * 3)
            assert await wait_until(pilot, lambda: table.cursor_row == start + 3)
            got["handed for downs"] = list(handed)
            expected = table.coordinate_to_cell_key((start + 1, 0)).row_key.value
            burst(app, "\x1b[A\x1b[A\r")
            assert await wait_until(pilot, lambda: isinstance(app.screen, IncidentScreen))
            got["opened"], got["expected"] = app.screen.incident_id, expected

    asyncio.run(go())
    assert got["handed for downs"] == []
    assert got["opened"] == got["expected"]

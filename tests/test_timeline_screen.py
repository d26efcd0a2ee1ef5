"""The record screen (Pilot): notes with an earlier time, corrections linked, chain status."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

from textual.widgets import DataTable, Input, Static, TextArea

from conftest import TZ, Clock, sample_intake
from csirt_tui import jsonfile
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens.timeline import NoteScreen, TimelineScreen

NOW = datetime(2026, 11, 16, 15, 0, tzinfo=TZ)


def _setup(store_dir):
    clock = Clock(NOW)
    store = Store.open(store_dir, clock=clock)
    inc = store.create_incident(sample_intake(received_at="2026-11-16T09:50:00+09:00"), operator="受付")
    store.append(inc.id, "note", "ベンダーに連絡", operator="受付")
    return store, clock, inc.id


async def _open(pilot, app, incident_id):
    """Open the record and wait (up to 10 s) for the whole record and the chain check."""
    await pilot.pause()
    app.push_screen(TimelineScreen(incident_id))
    screen = app.screen
    for _ in range(100):
        await pilot.pause(0.1)
        heading = str(screen.query_one("#timeline-heading", Static).render())
        if "✔" in heading or "✘" in heading:
            break
    await app.workers.wait_for_complete()
    await pilot.pause()
    return screen


def test_note_with_an_earlier_time_and_a_linked_correction(store_dir):
    store, clock, incident_id = _setup(store_dir)

    async def scenario():
        app = CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False)
        async with app.run_test(size=(120, 45)) as pilot:
            screen = await _open(pilot, app, incident_id)
            assert "✔" in str(screen.query_one("#timeline-heading", Static).render())
            await pilot.press("n")
            await pilot.pause()
            note = app.screen
            assert isinstance(note, NoteScreen)
            note.query_one("#note-text", TextArea).text = "電話で [bold]状況[/] を聴取"
            note.query_one("#note-when", Input).value = "13:20"
            await pilot.pause()
            await pilot.press("ctrl+s")
            await pilot.pause(0.3)
            table = screen.query_one("#entries", DataTable)
            assert table.row_count == 3
            await pilot.press("c")  # correct the highlighted (new) entry
            await pilot.pause()
            app.screen.query_one("#note-text", TextArea).text = "聴取したのは 13:30 でした"
            await pilot.press("ctrl+s")
            await pilot.pause(0.3)
            detail = str(screen.query_one("#detail", Static).render())
            assert "訂正前の記録" in detail and "[bold]状況[/]" in detail
            await pilot.press("k")
            await pilot.pause()
            from screens.form import PickerScreen

            assert isinstance(app.screen, PickerScreen)
            app.screen.query_one("#kind-list").highlighted = 1 + list(__import__("csirt_tui.model").model.KINDS).index("correction")
            await pilot.press("enter")
            await pilot.pause()
            assert table.row_count == 1
            screen.set_kind("__all__")
            screen.query_one("#search", Input).value = "ベンダー"
            await pilot.pause()
            assert table.row_count == 1

    asyncio.run(scenario())
    entries = store.timeline(incident_id)
    note, correction = entries[2], entries[3]
    assert (note.kind, note.occurred_at, note.at) == ("note", "2026-11-16T13:20:00+09:00", "2026-11-16T15:00:00+09:00")
    assert note.text == "電話で [bold]状況[/] を聴取"
    assert (correction.kind, correction.corrects) == ("correction", note.seq)
    assert store.verify().ok


def test_chain_status_shows_a_broken_entry(store_dir):
    store, clock, incident_id = _setup(store_dir)
    seg = next(store.root.glob("incidents/*/*/timeline-0000.json"))
    data = json.loads(seg.read_text(encoding="utf-8"))
    data["timeline"]["2"]["text"] = "書き換え"
    seg.write_bytes(jsonfile.encode(data))

    async def scenario():
        app = CsirtDeskApp(store, operator="見本", clock=clock, backups=False)
        async with app.run_test(size=(120, 45)) as pilot:
            screen = await _open(pilot, app, incident_id)
            heading = str(screen.query_one("#timeline-heading", Static).render())
            assert "✘" in heading and f"{incident_id}#2" in heading

    asyncio.run(scenario())


def test_the_recorded_time_is_said_only_when_it_reads_differently(store_dir):
    """A step recorded with 「今」 is written seconds after its form opened: every such row said
    「12/05 08:59 (記録 12/05 08:59)」, 19 of 80 columns, its text cut (found walking a call)."""
    from conftest import Clock, FIXED_NOW, sample_intake
    from csirt_tui.store import Store
    from csirt_tui.views import incident_text_lines, recorded_apart

    clock = Clock(FIXED_NOW.replace(second=40))
    store = Store.open(store_dir, clock=clock)
    inc = store.create_incident(sample_intake(), operator="op")
    same = store.append(inc.id, "note", "今のこと", operator="op",
                        occurred_at=FIXED_NOW.replace(second=5).isoformat())
    before = store.append(inc.id, "note", "前のこと", operator="op",
                          occurred_at=FIXED_NOW.replace(minute=10).isoformat())
    assert recorded_apart(same) == ""
    assert recorded_apart(before) == " (記録 11/22 14:35)"
    lines = incident_text_lines(store.profile, store.incident(inc.id))
    assert sum("(記録 " in line for line in lines) == 1


def test_a_note_of_a_megabyte_is_drawn_in_part_and_says_where_the_rest_is(store_dir):
    """A 1.4 MB paste saved as a note (30,001 lines): the record's detail drew every line (each
    drawn again at each scroll) and its list row measured the whole text as one line: the
    screen took 20 s to open at 80x24, keys held meanwhile. The detail shows the first lines
    and says how long the note is and where it is whole; the row is cut. The store keeps it all."""
    store, clock, incident_id = _setup(store_dir)
    body = "貼り付け [bold]x[/]\n" + "あいうえおかきくけこ0123456789abcdef\n" * 30000 + "終わり"
    store.append(incident_id, "note", body, operator="受付")
    seen = {}

    async def scenario():
        app = CsirtDeskApp(store, operator="見本", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _open(pilot, app, incident_id)
            seen["detail"] = str(screen.query_one("#detail", Static).render())
            table = screen.query_one("#entries", DataTable)
            seen["row"] = str(table.get_row_at(table.row_count - 1)[0])

    asyncio.run(scenario())
    detail = seen["detail"]
    assert detail.startswith(f"#3 ") and "貼り付け [bold]x[/]" in detail, detail[:200]
    assert detail.count("\n") < 400, detail.count("\n")
    assert "30,002 行" in detail and f"csirt-desk show {incident_id}" in detail, detail[-300:]
    assert seen["row"].startswith("#3") and len(seen["row"]) < 400, len(seen["row"])
    assert store.timeline(incident_id)[-1].text == body


def test_a_refused_note_or_form_takes_its_refusal_back_once_saved(store_dir):
    """Walking at 80x24: a note with いつ 「昨日 25時」, Ctrl+S (「時刻は0時〜23時で…」), いつ 「10分前」,
    Ctrl+S: the note was recorded but the refusal stayed over the timeline beside 「…を記録しました」,
    saying the time could not be read. The same for a form's refused time (the step form)."""
    from screens.form import Field, FormScreen

    store, clock, incident_id = _setup(store_dir)
    seen = {}

    async def scenario():
        app = CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await _open(pilot, app, incident_id)
            await pilot.press("n")
            await pilot.pause()
            note = app.screen
            note.query_one("#note-text", TextArea).text = "税務課長に報告"
            note.query_one("#note-when", Input).value = "昨日 25時"
            await pilot.press("ctrl+s")
            await pilot.pause()
            seen["refused"] = [str(n.message) for n in app._notifications]
            note.query_one("#note-when", Input).value = "10分前"
            await pilot.press("ctrl+s")
            await pilot.pause(0.3)
            seen["note"] = [str(n.message) for n in app._notifications]
            app.push_screen(FormScreen("手順の状態", [Field("at", "いつ", "time", value="25時")], save=lambda v: None))
            await pilot.pause()
            await pilot.press("ctrl+s")
            await pilot.pause()
            seen["form refused"] = [str(n.message) for n in app._notifications]
            app.screen.query_one("#f-at", Input).value = "今"
            await pilot.press("ctrl+s")
            await pilot.pause(0.3)
            seen["form"] = [str(n.message) for n in app._notifications]

    asyncio.run(scenario())
    assert any("時刻は0時〜23時で" in m for m in seen["refused"]), seen
    assert [e.text for e in store.timeline(incident_id)][-1] == "税務課長に報告"
    assert not any("時刻は0時〜23時で" in m for m in seen["note"]), seen
    assert any("いつ: 時刻は0時〜23時で" in m for m in seen["form refused"]), seen
    assert not any("いつ: 時刻は0時〜23時で" in m for m in seen["form"]), seen

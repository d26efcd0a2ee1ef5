"""Ctrl+S while another process holds the store (issue 17, reliability; issue 15, the operator
on a live call).

``bundle import`` holds the store's lock for as long as it writes: minutes for a large bundle.
Ctrl+S on the intake took that lock on the desk's own thread with the store's long timeout:
every key of the desk froze (15.2 s at the default), then 「受付を保存できませんでした…
(lock timeout)」. Every dialog's Ctrl+S did the same. Now the desk's thread waits a fraction of
a second (Store.wait_briefly), the screen stays open with all that was typed (its draft has a
lock of its own), one line says what holds the store, since when, by whom, and what to do;
when the store is free the screen says so, and Ctrl+S saves, once.

The import here holds the store for HOLD seconds and then ends by itself, and the store's own
timeout is longer than that: before the fix the desk's thread waited for the import's end,
so a key typed after Ctrl+S reached the form only after the import had let the store go. The
tests assert that order (the key in the form while the import still holds the store), not times.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

from textual.widgets import Input, Select, TextArea

from conftest import Clock, sample_intake, wait_until
from test_quit_flush import first_half_on_disk
from test_triage_drafts import MONDAY_10, pick_type, said
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens.intake import SavedScreen

HOLD = 40  # seconds the import holds the store unless stopped (before the fix, the desk waited for all of it)
BY = "他デスク 山田"

IMPORTER = textwrap.dedent("""
    import sys, time
    from csirt_tui.store import Store
    store = Store.open(sys.argv[1])
    def work():
        print("importing", flush=True)
        time.sleep(float(sys.argv[2]))
    store.import_all(work, by=sys.argv[3])
""")


def start_import(store_dir) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", IMPORTER, str(store_dir), str(HOLD), BY],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "importing"
    return proc


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def intake_during_import(store_dir, then, *, size=(120, 40), start=None, lock_timeout: float = HOLD + 30):
    """The desk on a store (its own lock timeout ``lock_timeout``), the intake opened with 「前半」 in
    its draft, then an import started (``start(store_dir)``, default: one that holds the store HOLD
    seconds): ``await then(app, pilot, importer)``, the import stopped afterwards. Returns the store."""
    clock = Clock()
    store = Store.open(store_dir, clock=clock, lock_timeout=lock_timeout)

    async def scenario():
        app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
        async with app.run_test(size=size) as pilot:
            await first_half_on_disk(app, pilot, store_dir)
            importer = (start or start_import)(store_dir)
            try:
                await then(app, pilot, importer)
            finally:
                stop(importer)

    asyncio.run(scenario())
    return store


def status(app) -> str:
    return getattr(app.screen.query_one("#draft-status"), "text", "")


def assert_busy_said(app, saving: str) -> None:
    line = status(app)
    assert f"別のウィンドウの取り込み（" in line and BY in line, line
    assert f"まだ{saving}していません" in line and f"Ctrl+S でもう一度{saving}" in line, line
    assert "lock timeout" not in said(app)


def test_ctrl_s_on_the_intake_while_an_import_holds_the_store(store_dir):
    state: dict = {}

    async def then(app, pilot, importer):
        form = app.screen
        what = form.query_one("#what", TextArea)
        await pilot.press("ctrl+s")
        await pilot.press(*"追記")
        reached = await wait_until(pilot, lambda: what.text == "前半追記", timeout=HOLD / 2)
        state["order"] = ["key in the form" if reached else "key not in the form",
                          "import still holding" if importer.poll() is None else "import over"]
        assert state["order"] == ["key in the form", "import still holding"], state["order"]
        assert app.screen is form  # the form stays, with what was typed
        assert_busy_said(app, "保存")
        stop(importer)
        assert await wait_until(pilot, lambda: "ストアが空きました" in status(app), timeout=10), status(app)
        assert app.store.list_incidents() == []  # nothing was saved while the store was taken
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: isinstance(app.screen, SavedScreen))

    store = intake_during_import(store_dir, then)
    assert state["order"] == ["key in the form", "import still holding"]
    (row,) = store.list_incidents()
    assert store.incident(row["id"]).intake["what"] == "前半追記"  # once, with the key typed after Ctrl+S
    assert Store.open(store_dir).list_drafts() == []  # the draft is marked saved


def test_ctrl_s_on_the_triage_and_on_a_note_while_an_import_holds_the_store(store_dir):
    from screens.timeline import TimelineScreen
    from screens.triage import TriageScreen

    clock = Clock(MONDAY_10)
    store = Store.open(store_dir, profile="osaki", clock=clock, lock_timeout=HOLD + 30)
    inc = store.create_incident(sample_intake(received_at="2026-11-16T09:50:00+09:00", reporter_type="staff"),
                                operator="受付")
    before = len(store.timeline(inc.id))
    state: dict = {}

    async def busy_then_free(app, pilot, field, key_text: str, expect: str, saving: str, leaves) -> None:
        entries = len(store.timeline(inc.id))
        importer = start_import(store_dir)
        try:
            await pilot.press("ctrl+s")
            await pilot.press(*key_text)
            reached = await wait_until(pilot, lambda: (field.text if isinstance(field, TextArea)
                                                       else field.value) == expect, timeout=HOLD / 2)
            state.setdefault("order", []).append(
                ["key in the form" if reached else "key not in the form",
                 "import still holding" if importer.poll() is None else "import over"])
            assert state["order"][-1] == ["key in the form", "import still holding"], state["order"]
            assert_busy_said(app, saving)
            assert len(store.timeline(inc.id)) == entries  # nothing of it on the record yet
        finally:
            stop(importer)
        assert await wait_until(pilot, lambda: "ストアが空きました" in status(app), timeout=10), status(app)
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, leaves), said(app)

    async def scenario():
        app = CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            app.open_triage(inc.id)
            assert await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
            await pilot.pause()
            screen = app.screen
            pick_type(screen, "fault")
            await pilot.pause()
            screen.query_one("#fault_type", Select).value = "hardware"
            note = screen.query_one("#fact_note", Input)
            note.focus()
            await pilot.press(*"本人に確認")
            await busy_then_free(app, pilot, note, "済み", "本人に確認済み", "記録",
                                 lambda: not isinstance(app.screen, TriageScreen))
            # the note dialog of the record
            from test_dialog_drafts import open_timeline

            await open_timeline(pilot, app, inc.id)
            await pilot.press("n")
            assert await wait_until(pilot, lambda: type(app.screen).__name__ == "NoteScreen")
            await pilot.pause()
            text = app.screen.query_one("#note-text", TextArea)
            await pilot.press(*"ベンダーに電話")
            await busy_then_free(app, pilot, text, "した", "ベンダーに電話した", "記録",
                                 lambda: isinstance(app.screen, TimelineScreen))

    asyncio.run(scenario())
    assert state["order"] == [["key in the form", "import still holding"]] * 2
    timeline = store.timeline(inc.id)
    triages = [e for e in timeline[before:] if e.kind == "triage"]
    import json

    assert len(triages) == 1 and "本人に確認済み" in json.dumps(triages[0].data, ensure_ascii=False)
    assert [e.text for e in timeline if e.kind == "note"] == ["ベンダーに電話した"]  # once


def test_a_busy_store_says_what_holds_it_and_the_screen_thread_waits_briefly(store_dir):
    """The core alone: StoreBusyError carries Store.holder (the import's holder.json), the CLI's
    line names it, plain_problem says it without the path or 「lock timeout」."""
    import pytest

    from csirt_tui.draftsave import plain_problem
    from csirt_tui.errors import StoreBusyError

    store = Store.open(store_dir, lock_timeout=HOLD + 30)
    inc = store.create_incident(sample_intake(), operator="受付")
    assert store.holder() is None and store.lock_free()
    importer = start_import(store_dir)
    try:
        store.wait_briefly(0.2)
        with pytest.raises(StoreBusyError) as caught:
            store.append(inc.id, "note", "取り込み中のメモ", operator="受付 花子")
        err = caught.value
        assert importer.poll() is None  # refused while the import still held the store
        assert err.holder["what"] == "import" and err.holder["by"] == BY and err.holder["pid"] == importer.pid
        assert f"他のプロセスがストアを使用中です: 取り込み（" in str(err) and BY in str(err)
        said = plain_problem(err)
        assert said.startswith("別のウィンドウの取り込み（") and BY in said and "lock timeout" not in said
        assert str(store_dir) not in said
        assert not store.lock_free()
    finally:
        store.wait_briefly(None)
        stop(importer)
    assert store.lock_free()
    assert [e.text for e in store.timeline(inc.id)][-1] != "取り込み中のメモ"  # nothing half-written


def test_the_busy_line_folded_never_starts_a_row_with_a_comma_or_a_full_stop():
    """At 80 columns the triage's status line began a row with 「、まだ記録していません」."""
    from csirt_tui.draftsave import busy_line
    from csirt_tui.errors import StoreBusyError
    from screens.form import fold

    line = busy_line(StoreBusyError("x", {"what": "import", "started": "2026-12-05T20:57:00+09:00", "by": BY,
                                          "host": "vm", "pid": 1}), kept="入力は下書きに保存しています。")
    for width in range(20, 121):
        for hang in (False, True):
            text = ("  " if hang else "") + line
            rows = fold(text, width, hang=hang).split("\n")
            assert not [r for r in rows if r.strip()[:1] in ("、", "。")], (width, rows)
            assert "".join(rows).replace(" ", "") == text.replace(" ", ""), (width, rows)  # nothing lost


def test_ctrl_q_after_a_busy_ctrl_s_keeps_everything_in_the_draft(store_dir):
    """Nothing is left waiting behind the screen: the desk closes at once (the import still
    holding the store) and the draft holds what was typed before and after Ctrl+S; no incident."""
    from test_draft_lock import on_disk

    state: dict = {}

    async def then(app, pilot, importer):
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: "まだ保存していません" in status(app), timeout=HOLD / 2)
        await pilot.press(*"追記", "ctrl+q")
        assert await wait_until(pilot, lambda: not app.is_running, timeout=HOLD / 2)
        state["closed while held"] = importer.poll() is None
        state["on disk"] = on_disk(store_dir)
        state["unsaved"] = app.unsaved_on_exit

    intake_during_import(store_dir, then, size=(80, 24))
    assert state == {"closed while held": True, "on disk": ["前半追記"], "unsaved": []}
    assert Store.open(store_dir).list_incidents() == []

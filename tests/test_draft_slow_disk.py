"""Esc and Ctrl+Q on the intake while its autosave is still being written (a slow disk: the
worker's write takes longer than the screen thread's short wait, UI_LOCK_WAIT).

They were refused with 「ストアを使用中の処理があります（取り込みなど）」 (screens/form.py BUSY):
nothing was being imported, the store was not busy, the desk was writing this very draft. Esc
opened 「画面を閉じません」 and Ctrl+Q said 「終了していません」. Now the screen says what is
happening (the draft being written) and the key acts once that write is done, with everything
typed in the draft.

The slow disk is a write held until the test lets it go (no timing is asserted).
"""

from __future__ import annotations

import asyncio
import threading

from conftest import Clock, wait_until
from test_quit_flush import drafts_of, first_half_on_disk
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens import form
from screens.form import WRITING, DraftStatus, KeepTextScreen
from screens.intake import IntakeScreen


def slow_disk(monkeypatch):
    """Draft writes of worker threads wait, holding the drafts' lock, until the test lets each go
    (``gate.release()``: one write; ``entered``: one is under way)."""
    gate, entered = threading.Semaphore(0), threading.Event()
    write = Store._save_draft

    def slow(self, *args, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            entered.set()
            gate.acquire(timeout=30)
        return write(self, *args, **kwargs)

    monkeypatch.setattr(Store, "_save_draft", slow)
    monkeypatch.setattr(form, "RETRY_SECONDS", 0.05)  # a write tried again meanwhile does not go ahead of the key
    return gate, entered


async def note_autosave_held(pilot, store_dir, monkeypatch):
    """In the note dialog: 「ベンダーに電話」 on disk, then 「した」 typed with its autosave under way,
    held (slow_disk); returns the gate that lets it go."""
    from test_dialog_drafts import texts

    await pilot.press(*"ベンダーに電話")
    assert await wait_until(pilot, lambda: texts(store_dir, "note") == ["ベンダーに電話"], timeout=5)
    gate, entered = slow_disk(monkeypatch)
    await pilot.press(*"した")
    assert await wait_until(pilot, entered.is_set)
    return gate


def run(store_dir, monkeypatch, key: str) -> dict:
    clock = Clock()
    store = Store.open(store_dir, clock=clock)
    state: dict = {}

    async def scenario():
        app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await first_half_on_disk(app, pilot, store_dir)
            intake = app.screen
            gate, entered = slow_disk(monkeypatch)
            try:
                await pilot.press(*"途中")
                assert await wait_until(pilot, entered.is_set)  # its autosave under way, slow
                await pilot.press(*"まで")
                await pilot.press(key)
                await pilot.pause()
                state["front"] = type(app.screen).__name__
                state["problem"] = intake.keeper.problem
                state["status"] = str(intake.query_one("#draft-status", DraftStatus).content)
                state["said"] = [n.message for n in app._notifications]
                state["running"] = app.is_running
                await pilot.pause(0.3)  # (the retry of the refused write is due meanwhile)
                gate.release()  # the slow write is done: the key acts, nothing else is written slowly
                if key == "escape":
                    state["left"] = await wait_until(
                        pilot, lambda: not isinstance(app.screen, (IntakeScreen, KeepTextScreen)))
                else:
                    state["left"] = await wait_until(pilot, lambda: not app.is_running)
                    state["unsaved"] = app.unsaved_on_exit
            finally:
                gate.release(10)
        state["drafts"] = drafts_of(store_dir)

    asyncio.run(scenario())
    return state


def test_esc_during_a_slow_autosave_closes_once_it_is_written(store_dir, monkeypatch):
    state = run(store_dir, monkeypatch, "escape")
    assert state["front"] == "IntakeScreen"  # before: KeepTextScreen 「画面を閉じません」
    assert state["problem"] == WRITING       # before: BUSY (取り込みなど)
    assert "書き込んでいる途中" in state["status"] and "閉じます" in state["status"], state["status"]
    assert not any("取り込み" in m for m in state["said"] + [state["status"]])
    assert state["left"]
    assert state["drafts"] == ["前半途中まで"]  # nothing typed lost


def test_ctrl_q_during_a_slow_autosave_quits_once_it_is_written(store_dir, monkeypatch):
    state = run(store_dir, monkeypatch, "ctrl+q")
    assert state["running"]
    assert state["problem"] == WRITING
    assert not any("取り込み" in m or "終了していません" in m for m in state["said"]), state["said"]
    assert any("書き終わりしだい" in m for m in state["said"]), state["said"]
    assert state["left"]  # before: it stayed open, 「終了していません」
    assert state["unsaved"] == []
    assert state["drafts"] == ["前半途中まで"]



def test_esc_esc_on_a_note_during_a_slow_autosave_discards_once_it_is_written(store_dir, monkeypatch):
    """The note dialog's Esc Esc while its autosave is being written was refused as
    「別のウィンドウの処理（取り込み・バックアップなど）がストアを使用中のため、まだ破棄していません」."""
    from test_dialog_drafts import _store, desk, texts

    store, clock, incident_id = _store(store_dir)
    state: dict = {}

    async def then(app, pilot, timeline):
        gate = await note_autosave_held(pilot, store_dir, monkeypatch)
        try:
            await pilot.press("escape", "escape")
            await pilot.pause()
            state["front"] = type(app.screen).__name__
            state["status"] = str(app.screen.query_one(DraftStatus).content)
            await pilot.pause(0.3)
            gate.release()
            state["closed"] = await wait_until(pilot, lambda: app.screen is timeline)
        finally:
            gate.release(10)

    desk(store, clock, then, incident_id=incident_id, key="n")
    assert state["front"] == "NoteScreen"
    assert "取り込み" not in state["status"] and "別のウィンドウ" not in state["status"], state["status"]
    assert "書き込んでいる途中" in state["status"], state["status"]
    assert state["closed"]  # before: it stayed, 「まだ破棄していません」
    assert texts(store_dir, "note") == []
    assert texts(store_dir, "note", status="discarded") == ["ベンダーに電話した"]


def test_what_is_typed_while_an_overtaken_autosave_waits_to_start_is_written(store_dir, monkeypatch):
    """An autosave worker that a write of the screen thread overtook (Ctrl+S's flush_now took the
    keeper's lock before the worker thread started: a loaded machine) found a newer snapshot on disk
    and returned without _after_write. The keys typed meanwhile had been left to it (_flush: one
    write at a time, _behind), so nothing wrote them until another key was typed: 「よ」 stayed
    only on the screen however long the operator waited."""
    from test_dialog_drafts import _store, desk, texts

    store, clock, incident_id = _store(store_dir)
    state: dict = {}
    gate, entered = threading.Event(), threading.Event()
    write = form.DraftKeeper._write

    def late(self, *args, **kwargs):  # a worker's write that has not started yet (its thread waits)
        if threading.current_thread() is not threading.main_thread():
            entered.set()
            gate.wait(30)
        return write(self, *args, **kwargs)

    def refused(*args, **kwargs):
        raise OSError(5, "Input/output error")

    async def then(app, pilot, timeline):
        await pilot.press(*"ベンダーに電話")
        assert await wait_until(pilot, lambda: texts(store_dir, "note") == ["ベンダーに電話"], timeout=5)
        monkeypatch.setattr(form.DraftKeeper, "_write", late)
        monkeypatch.setattr(Store, "append", refused)  # the record's write fails: the note stays open
        try:
            await pilot.press(*"した")
            assert await wait_until(pilot, entered.is_set)  # its autosave's worker, not started yet
            await pilot.press("ctrl+s")  # writes the draft on the screen thread first, then refused
            await pilot.pause()
            state["front"] = type(app.screen).__name__
            await pilot.press(*"よ")
            await pilot.pause(0.3)  # (its autosave due meanwhile: left to the worker under way)
            gate.set()
            state["written"] = await wait_until(
                pilot, lambda: texts(store_dir, "note") == ["ベンダーに電話したよ"], timeout=5)
            state["drafts"] = texts(store_dir, "note")
        finally:
            gate.set()

    desk(store, clock, then, incident_id=incident_id, key="n")
    assert state["front"] == "NoteScreen"
    assert state["written"], state["drafts"]  # before: ["ベンダーに電話した"], 「よ」 on no disk


def test_ctrl_q_waiting_for_a_note_s_slow_autosave_quits_when_the_note_is_recorded_meanwhile(store_dir, monkeypatch):
    """Ctrl+Q said 「終了を待っています…書き終わりしだい…終了します」 and waited for the note's
    autosave (DraftKeeper.when_written); Ctrl+S recorded the note meanwhile, which closes its keeper,
    and a closed keeper's _after_write returned before the keys waiting for it: the desk never quit."""
    from test_dialog_drafts import _store, desk, texts

    store, clock, incident_id = _store(store_dir)
    state: dict = {}

    async def then(app, pilot, timeline):
        gate = await note_autosave_held(pilot, store_dir, monkeypatch)
        try:
            await pilot.press("ctrl+q")
            await pilot.pause()
            state["said"] = [str(n.message) for n in app._notifications]
            await pilot.press("ctrl+s")  # the note is recorded; its draft is closed later
            state["recorded"] = await wait_until(pilot, lambda: app.screen is timeline)
            gate.release()
            state["quit"] = await wait_until(pilot, lambda: not app.is_running, timeout=5)
        finally:
            gate.release(10)

    desk(store, clock, then, incident_id=incident_id, key="n")
    assert any("書き終わりしだい" in m for m in state["said"]), state["said"]
    assert state["recorded"]
    assert state["quit"]  # before: still running, the wait for the write forgotten
    assert [e.text for e in Store.open(store_dir).timeline(incident_id) if e.kind == "note"][-1] == "ベンダーに電話した"
    assert texts(store_dir, "note") == [] and texts(store_dir, "note", status="saved") == ["ベンダーに電話した"]

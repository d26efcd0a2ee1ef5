"""What is missing, said at Ctrl+S, is one toast at a time: Ctrl+S pressed again on a form with
missing fields stacked the same toast three deep (the triage's 「まだ記録できません / 種別を選んで
ください」, a form's 「… を入力してください」, the note's 「内容を入力してください」) over the fields
the operator is trying to fill. Now the newest replaces the one before; it is taken back when
the dialog closes."""

from __future__ import annotations

import asyncio

from conftest import open_screen
from csirt_tui.app import CsirtDeskApp
from screens.form import Field, FormScreen
from screens.timeline import NoteScreen
from screens.triage import TriageScreen
from test_triage_screen import _store


def said(app, words: str) -> int:
    return sum(words in note.message for note in app._notifications)


def press_save_thrice(open_it, screen_type, words, store, clock, ready=None) -> dict:
    app = CsirtDeskApp(store, operator="試験", clock=clock, backups=False)
    seen: dict = {}

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_screen(pilot, app, lambda: open_it(app), screen_type, ready)
            for _ in range(3):
                await pilot.press("ctrl+s")
                await pilot.pause(0.1)
            seen["count"] = said(app, words)
            screen.dismiss(None)
            await pilot.pause()
            seen["after close"] = said(app, words)

    asyncio.run(go())
    return seen


def test_a_forms_missing_field_is_said_once(store, clock):
    fields = [Field("who", "担当者名", required=True), Field("note", "メモ", "multiline")]
    seen = press_save_thrice(lambda app: app.push_screen(FormScreen("名簿に追加", fields, save=lambda v: None)),
                             FormScreen, "担当者名 を入力してください", store, clock, "#f-note")
    assert seen["count"] == 1  # before: 3
    assert seen["after close"] == 0


def test_an_empty_note_is_said_once(store, clock):
    seen = press_save_thrice(lambda app: app.push_screen(NoteScreen("メモを追加", save=lambda v: None)),
                             NoteScreen, "内容を入力してください", store, clock, "#note-text")
    assert seen["count"] == 1  # before: 3


def test_the_triages_missing_type_is_said_once(store_dir):
    store, clock, incident_id = _store(store_dir)
    seen = press_save_thrice(lambda app: app.open_triage(incident_id), TriageScreen,
                             "種別を選んでください", store, clock)
    assert seen["count"] == 1  # before: 3
    assert seen["after close"] == 0


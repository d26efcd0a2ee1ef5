"""Esc and the key after it, read together, are two keys (screens/paste.keys_after_escape).

Found in review (2026-12-05; there since the first desk): Textual read ESC followed by a
character as Alt+that character, or dropped the ESC (ESC Enter, ESC Ctrl+S). Two keys come in
one read in a remote session's batch, in tmux within its escape-time, from a fast typist on a
slow PC: the second Esc of 「破棄するときは 4 秒以内にもう一度 Esc」 and the 「n」 after it were one
alt+n, the note stayed open with 「n」 added, and a Ctrl+S recorded the text the operator had
discarded (tmux 80x24: `n のぞみ号で移動中 Escape`, then `Escape n 二回目 C-s` in one send-keys
recorded 「のぞみ号で移動中n二回目」)."""

from __future__ import annotations

import pytest
from textual._xterm_parser import XTermParser
from textual.widgets import TextArea

import csirt_tui.app  # noqa: F401  (installs the desk's parser changes)
from test_dialog_drafts import _store, desk, is_a, texts


def _keys(data: str) -> list[str]:
    parser = XTermParser()
    events = [*parser.feed(data), *parser.feed("")]  # (an empty feed ends the read: ESC's wait)
    return [e.key for e in events if hasattr(e, "key")]


@pytest.mark.parametrize("data, keys", [
    ("\x1bn", ["escape", "n"]),
    ("\x1bn二\x13", ["escape", "n", "二", "ctrl+s"]),
    ("\x1b\r", ["escape", "enter"]),
    ("\x1b\x13", ["escape", "ctrl+s"]),
    ("\x1b ", ["escape", "space"]),
    ("\x1b二", ["escape", "二"]),
    ("\x1bN", ["escape", "N"]),
    # unchanged: a lone Esc, two Escs, escape sequences of keys (Alt+Up is a key of its own)
    ("\x1b", ["escape"]),
    ("\x1b\x1b", ["escape", "escape"]),
    ("\x1b[A", ["up"]),
    ("\x1b\x1b[A", ["escape", "up"]),
    ("\x1b[1;3A", ["alt+up"]),
    ("a\x1bOP", ["a", "f1"]),
])
def test_esc_and_the_next_key_in_one_read_are_both_keys(data, keys):
    assert _keys(data) == keys


def test_esc_then_a_letter_in_one_read_still_discards_the_note(store_dir):
    """The second Esc and 「n」 in one read: the note is discarded, as with the keys typed apart."""
    store, clock, incident_id = _store(store_dir)
    seen = {}

    async def then(app, pilot, timeline):
        await pilot.press(*"ベンダーに電話した", "escape")  # asks: Esc again to discard
        await pilot.pause()
        parser = XTermParser()
        for event in [*parser.feed("\x1bn"), *parser.feed("")]:  # the second Esc and 「n」 in one read
            app.post_message(event)
        await pilot.pause(0.5)
        seen["screen"] = type(app.screen).__name__
        if is_a(app, "NoteScreen"):
            seen["text"] = app.screen.query_one("#note-text", TextArea).text

    desk(store, clock, then, incident_id=incident_id, key="n")
    assert seen.get("text") != "ベンダーに電話したn", seen
    assert texts(store_dir, "note", status="discarded") == ["ベンダーに電話した"], seen

"""Pastes through a real pseudo-terminal into the real app (issue 14, defect 1).

The bytes a terminal sends for a bracketed paste (ESC [ 200 ~ text ESC [ 201 ~,
the text as it is: a terminal escapes nothing inside) are written to the
pty's master side while the desk runs in it. Every paste must end up in the
field as text, whole; the desk must still be running, must not have saved
anything, and must still be on the form with the field focused (a key typed
after the pastes lands in it).

What a field does with a pasted text is its own rule (tests/test_hostile_corpus.py):
③ (multi-line) keeps one kind of line break, a one-line field turns CR / LF
into spaces; every other character is kept as it is.
"""

from __future__ import annotations

import os
import select

try:  # POSIX only: on Windows the pty tests skip (nothing fails at collection)
    import pty
except ImportError:  # pragma: no cover - Windows
    pty = None

import pytest

from csirt_tui.store import Store
from test_hostile_corpus import multi_line, one_line_paste
from test_paste import END, EVERY_CONTROL, LOG_LINE, PASTES, START
from test_tui_crash import Terminal, new_desk, open_drafts, wait_for

pytestmark = pytest.mark.skipif(not hasattr(pty, "fork"), reason="needs a POSIX pseudo-terminal (pty): Windows has only ConPTY")

# Into ③, one after the other (each followed by a typed "|").
INTO_WHAT = (
    PASTES["esc-ctrl-q"],                       # quit the desk
    PASTES["esc-ctrl-s"],                       # saved the intake with ③ empty
    PASTES["esc-esc-t"],                        # left the form
    LOG_LINE,                                   # stored scrambled
    EVERY_CONTROL,                              # 0x00-0x1F, 0x7F, 0x80-0x9F
    "赤: \x1b[31m 太字赤: \x1b[1;31m 戻す: \x1b[0m 256色: \x1b[38;5;196m 真色: \x1b[38;2;255;0;0m 終",
    PASTES["keys-and-mouse"],                   # arrows, F1, F5, mouse, focus, clear screen, OSC 52
    PASTES["kitty-keys"],
    PASTES["literal-start"],
    f"前{END}\x11\x13中{END}\x1b\x1bt後",       # the end marker as text, the rest in the same burst
    PASTES["long-escape"],
    PASTES["japanese"],
)


def paste(term: Terminal, text: str) -> None:
    """Write what a terminal writes for a paste of ``text``, reading the app's output meanwhile
    (a large paste fills the pty's buffers: the app must be able to draw while it reads)."""
    data = (START + text + END).encode("utf-8")
    while data:
        readable, writable, _ = select.select([term.fd], [term.fd], [], 0.5)
        if readable:
            try:
                term.output += os.read(term.fd, 65536)
            except OSError:
                return
        if writable:
            data = data[os.write(term.fd, data[:4096]):]
    term.pump(0.05)


def draft(store_dir) -> dict:
    drafts = open_drafts(store_dir)
    return drafts[0]["data"] if drafts else {}


def running(term: Terminal) -> bool:
    return os.waitpid(term.pid, os.WNOHANG) == (0, 0)


def start_intake(store_dir, term: Terminal) -> None:
    """The desk up, the intake open, the cursor in ②どこで (a key typed there is in the draft)."""
    assert wait_for(lambda: (store_dir / "backups").is_dir() and any((store_dir / "backups").iterdir()),
                    30, term), term.output[-500:]
    term.send("\x0e")  # Ctrl+N
    assert wait_for(lambda: "発見した内容" in term.output.decode("utf-8", "replace"), 15, term), term.output[-800:]
    term.send("\t\t")  # 通報の種類 → ① → ②
    term.send("場")
    assert wait_for(lambda: draft(store_dir).get("place") == "場", 10, term), term.output[-800:]


def test_every_control_character_pasted_through_a_pty_is_text_in_the_field(tmp_path):
    store_dir, term = new_desk(tmp_path)
    try:
        start_intake(store_dir, term)
        # ② (one line): every control character, and a colour-coded log line
        place = "場"
        for text in (EVERY_CONTROL, LOG_LINE, PASTES["esc-ctrl-q"]):
            paste(term, text)
            term.send("|")
            place += one_line_paste(text) + "|"
            assert wait_for(lambda: draft(store_dir).get("place") == place, 10, term), (
                text, draft(store_dir).get("place"), running(term))
        term.send("\t")  # ② → ③
        term.send("始")
        what = "始"
        assert wait_for(lambda: draft(store_dir).get("what") == what, 10, term), draft(store_dir)
        for text in INTO_WHAT:
            paste(term, text)
            term.send("|")
            what += multi_line(text) + "|"
            assert wait_for(lambda: draft(store_dir).get("what") == what, 10, term), (
                text, draft(store_dir).get("what", "")[-200:], running(term))
        # a log excerpt of 2,000 coloured lines (~150 kB), written as the terminal would, in pieces
        log = "".join(f"{i:05d} {LOG_LINE} \x1b[2K\x1b[1A\r\n" for i in range(2000))
        paste(term, log)
        term.send("終")
        what += multi_line(log) + "終"
        assert wait_for(lambda: draft(store_dir).get("what") == what, 30, term), (
            len(draft(store_dir).get("what", "")), len(what), running(term))
        assert running(term)                                 # did not quit
        assert Store.open(store_dir).list_incidents() == []  # did not save
        # still on the form, in ③ (the last key typed is there): Ctrl+S now saves what was pasted
        term.send("\x13")
        assert wait_for(lambda: Store.open(store_dir).list_incidents(), 15, term), term.output[-800:]
        assert running(term)
    finally:
        term.kill()
    store = Store.open(store_dir)
    (row,) = store.list_incidents()
    intake = store.incident(row["id"]).intake
    assert intake["place"] == place
    assert intake["what"] == what
    assert store.verify().ok

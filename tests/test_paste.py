"""A bracketed paste is read as text, whole, whatever it holds (issue 14, defect 1).

Fast, in-process: Textual's XTermParser as the desk runs it (screens/paste.py
is installed when csirt_tui.app is imported) fed the bytes a terminal sends.
The same pastes go through a real pseudo-terminal into the real app in
tests/test_paste_pty.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import sys

import pytest
import textual
import textual._parser
from textual import constants, events
from textual._parser import Parser
from textual._xterm_parser import XTermParser

import csirt_tui.app  # noqa: F401  (installs the paste reader)

START, END = "\x1b[200~", "\x1b[201~"
ESC = "\x1b"
C0 = "".join(map(chr, range(0x20)))
C1 = "".join(map(chr, range(0x80, 0xA0)))
EVERY_CONTROL = C0 + "\x7f" + C1
LOG_LINE = "2026-11-22 14:31:07 … \x1b[31mERROR\x1b[0m ransomware: \x1b[1;33mfiles encrypted\x1b[0m"

# What an alert mail or a log excerpt may hold, each of which acted on the desk (issue 14, defect 1).
PASTES = {
    "esc-ctrl-q": "本文\x1b\x11",             # quit the desk
    "esc-ctrl-s": "本文\x1b\x13",             # saved the intake with ③ empty
    "esc-esc-t": "本文\x1b\x1bt",             # left the form (and went on to triage)
    "colour-log": LOG_LINE,                   # stored scrambled, its start moved to the end
    "every-control": EVERY_CONTROL,
    "every-control-twice-with-text": f"前{EVERY_CONTROL}中{EVERY_CONTROL}後",
    "keys-and-mouse": "\x1b[A\x1b[B\x1bOP\x1b[15~\x1b[<0;10;5M\x1b[<0;10;5m\x1b[I\x1b[O\x1b[2J\x1b]52;c;cHduZWQ=\x07",
    "kitty-keys": "\x1b[113;5u\x1b[27u",      # Ctrl+Q and Esc as the kitty keyboard protocol writes them
    "literal-start": f"a{START}b",            # the start marker as text: kept
    "long-escape": "\x1b[" + "9" * 100 + "m", # longer than Textual's 32-character search
    "esc-last": "行末\x1b",
    "esc-only": ESC,
    "japanese": "画面が真っ暗になり、英語の脅迫文\r\n𩸽𠮷 👩\u200d💻 \u202e逆",
}


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeTime()
    monkeypatch.setattr(textual._parser, "get_time", fake)
    return fake


class Reader:
    """An XTermParser fed like the Linux driver feeds it: chunks, and tick() between them."""

    def __init__(self, clock: FakeTime) -> None:
        self.clock = clock
        self.parser = XTermParser()
        self.events: list = []

    def feed(self, *chunks: str) -> "Reader":
        for chunk in chunks:
            self.events.extend(self.parser.feed(chunk))
            self.events.extend(self.parser.tick())
        return self

    def wait(self, seconds: float = 1.0) -> "Reader":
        """Time passes with nothing read (the driver ticks every 0.1 s)."""
        self.clock.now += seconds
        self.events.extend(self.parser.tick())
        return self

    def seen(self) -> list[tuple[str, str]]:
        out = []
        for e in self.events:
            if isinstance(e, events.Paste):
                out.append(("paste", e.text))
            elif isinstance(e, events.Key):
                out.append(("key", e.key))
            else:
                out.append((type(e).__name__, ""))
        return out


def pasted(text: str) -> str:
    return START + text + END


@pytest.mark.parametrize("name", PASTES)
def test_a_paste_is_one_paste_event_holding_every_character(clock, name):
    text = PASTES[name]
    assert Reader(clock).feed(pasted(text)).wait().seen() == [("paste", text)]


@pytest.mark.parametrize("name", ["esc-ctrl-q", "colour-log", "every-control-twice-with-text", "long-escape"])
def test_a_paste_split_across_reads_is_still_one_paste(clock, name):
    text = pasted(PASTES[name])
    one_by_one = Reader(clock).feed(*text).wait().seen()
    assert one_by_one == [("paste", PASTES[name])]
    for size in (2, 3, 5, 7):
        chunks = [text[i:i + size] for i in range(0, len(text), size)]
        assert Reader(clock).feed(*chunks).wait().seen() == [("paste", PASTES[name])], size


def test_no_escape_timeout_inside_a_paste(clock):
    """A paste that comes in two reads with time between them (a slow link, a busy machine)."""
    reader = Reader(clock).feed(START + "a\x1b")
    reader.wait(5.0)
    reader.feed("[31mb\x1b", )
    reader.wait(5.0)
    reader.feed("\x11c" + END).wait()
    assert reader.seen() == [("paste", "a\x1b[31mb\x1b\x11c")]


def test_keys_before_and_after_a_paste_stay_keys_in_order(clock):
    reader = Reader(clock).feed("x" + pasted("p\x1b\x11") + "y")
    reader.wait()
    reader.feed("\x1b").wait()  # the Escape key on its own
    reader.feed("\x11")         # and Ctrl+Q typed: the desk still obeys the keyboard
    assert reader.seen() == [("key", "x"), ("paste", "p\x1b\x11"), ("key", "y"), ("key", "escape"),
                             ("key", "ctrl+q")]


def test_escape_pressed_right_before_a_paste(clock):
    assert Reader(clock).feed("\x1b" + pasted("a")).wait().seen() == [("key", "escape"), ("paste", "a")]


def test_escape_pressed_right_after_a_paste_is_not_stuck(clock):
    """Keys typed while the reader waits to see whether the paste goes on are read after it."""
    reader = Reader(clock).feed(pasted("a") + "\x1b")
    reader.wait(constants.ESCAPE_DELAY + 0.01)  # the paste is over
    reader.wait(constants.ESCAPE_DELAY + 0.01)  # and the Escape was a key
    assert reader.seen() == [("paste", "a"), ("key", "escape")]


def test_two_pastes_one_after_the_other(clock):
    assert Reader(clock).feed(pasted("a") + pasted("b")).wait().seen() == [("paste", "a"), ("paste", "b")]


def test_the_end_marker_as_text_with_the_rest_in_the_same_burst_stays_in_the_paste(clock):
    """A terminal sends the text as it is: text holding ESC [ 201 ~ ends the paste there.
    When the rest follows at once (as a terminal sends one paste) it is taken back into it."""
    text = f"a{END}\x11b{END}\x13{END}"
    assert Reader(clock).feed(pasted(text)).wait().seen() == [("paste", text)]
    assert Reader(clock).feed(pasted(f"a{END}")).wait().seen() == [("paste", f"a{END}")]


def test_the_limit_an_end_marker_then_a_pause_then_keys(clock):
    """What cannot be told apart: a paste, a pause, then a key. Typed keys stay keys."""
    reader = Reader(clock).feed(pasted("a")).wait(constants.ESCAPE_DELAY + 0.01)
    reader.feed("\x11")
    assert reader.seen() == [("paste", "a"), ("key", "ctrl+q")]


def test_the_paste_is_given_once_the_terminal_is_quiet(clock):
    reader = Reader(clock).feed(pasted("a"))
    assert reader.seen() == []  # the rest of it may still come (see above)
    reader.wait(constants.ESCAPE_DELAY + 0.01)
    assert reader.seen() == [("paste", "a")]


def test_a_paste_cut_by_the_end_of_input_keeps_what_came(clock):
    reader = Reader(clock).feed(START + "途中まで\x1b")
    reader.events.extend(reader.parser.feed(""))
    assert reader.seen() == [("paste", "途中まで\x1b")]


def test_nul_is_kept_except_on_windows(clock, monkeypatch):
    assert Reader(clock).feed(pasted("a\x00b")).wait().seen() == [("paste", "a\x00b")]
    # Windows Terminal sends a NUL for each key that needs a modifier while it pastes
    # (Textual issue 1661): Textual drops NULs there, and so does the desk.
    monkeypatch.setattr(sys, "platform", "win32")
    assert Reader(clock).feed(pasted("a\x00b")).wait().seen() == [("paste", "ab")]


def test_other_sequences_still_work(clock):
    reader = Reader(clock).feed("\x1b[A", "\x1b[<0;10;5M", "\x1b[I", "\x1b[113;5u").wait()
    assert reader.seen() == [("key", "up"), ("MouseDown", ""), ("AppFocus", ""), ("key", "ctrl+q")]


# ---------------------------------------------------------------------------
# The patch and the Textual it was checked against


def _source_sha256(fn) -> str:
    return hashlib.sha256(inspect.getsource(fn).encode("utf-8")).hexdigest()


def test_the_patch_is_installed_and_textual_is_the_version_it_was_checked_against():
    from screens import paste

    assert XTermParser.parse is paste.parse_keeping_pastes
    assert XTermParser().parse.__func__ is paste.parse_keeping_pastes
    found = {
        "XTermParser.parse": _source_sha256(paste.TEXTUAL_PARSE),
        "Parser.feed": _source_sha256(Parser.feed),
        "Parser.tick": _source_sha256(Parser.tick),
    }
    assert (textual.__version__, found) == (paste.TEXTUAL_CHECKED, paste.TEXTUAL_SOURCES), (
        f"Textual {textual.__version__} changed what screens/paste.py wraps (checked against "
        f"{paste.TEXTUAL_CHECKED}). Read textual/_xterm_parser.py and textual/_parser.py again: does "
        "Textual now read a bracketed paste whole? Then remove screens/paste.py. If not, check the "
        "assumptions in its docstring, run tests/test_paste.py and tests/test_paste_pty.py, and record "
        f"the new version and hashes: {textual.__version__!r}, {found!r}")
    from textual._xterm_parser import BRACKETED_PASTE_END, BRACKETED_PASTE_START

    assert (BRACKETED_PASTE_START, BRACKETED_PASTE_END) == (START, END)


def test_install_twice_wraps_once():
    from screens import paste

    paste.install()
    paste.install()
    assert XTermParser.parse is paste.parse_keeping_pastes


# ---------------------------------------------------------------------------
# Where a paste lands in a field that would draw it as it is


def test_a_paste_into_textuals_own_inputs_is_shown_with_symbols(store_dir):
    """The command palette's search is Textual's Input, which draws what it holds: a pasted
    ESC or OSC sequence there would reach the terminal. It gets the symbols instead."""
    from conftest import Clock
    from csirt_tui.app import CsirtDeskApp
    from csirt_tui.store import Store
    from test_hostile_corpus import assert_terminal_safe

    store = Store.open(store_dir, clock=Clock())
    held = {}

    async def scenario():
        app = CsirtDeskApp(store, operator="受付 花子", clock=Clock(), backups=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("ctrl+p")
            await pilot.pause()
            app.post_message(events.Paste("\x1b]0;pwned\x07\x1b[2J\x9b31m検索"))
            await pilot.pause(0.2)
            held["value"] = app.focused.value
            assert_terminal_safe(app, "command palette")
            assert app.is_running

    asyncio.run(scenario())
    assert held["value"] == "␛]0;pwned␇␛[2J\u242631m検索"


def test_a_one_line_field_shows_every_control_character_it_holds_and_its_cursor_after_them():
    """Walking the dashboard's filter and the intake's (1)いつ with a pasted alert line
    「a␛[31mred␛]0;title␇」: the field showed 「a␛[31mred␛]0;title」. Rich's Text drops BEL, BS, VT, FF
    and CR before the highlighter that draws the symbols sees them, so those characters were in
    the value but nowhere on screen; and the cursor, measured on the value (a control character
    0 cells wide), stood one cell left of its place past each one."""
    from textual.app import App

    from screens.safe_input import SafeInput

    values = ["a\x1b[31mred\x1b]0;title\x07", "山田\x08\x08鈴木", "x\x0b\x0c\ry"]

    class Fields(App):
        def compose(self):
            for i, value in enumerate(values):
                yield SafeInput(value, id=f"f{i}", compact=True)

    seen = {}

    async def scenario():
        app = Fields()
        async with app.run_test(size=(60, 10)) as pilot:
            await pilot.pause()
            for i in range(len(values)):
                field = app.query_one(f"#f{i}", SafeInput)
                seen[i] = "".join(s.text for s in field.render_line(0)).rstrip()
            field = app.query_one("#f1", SafeInput)
            field.focus()
            await pilot.pause()
            field.cursor_position = 4  # after 「山田␈␈」, on 「鈴」
            await pilot.pause()
            seen["cursor"] = (field._cursor_offset, field.value[field.cursor_position])

    asyncio.run(scenario())
    assert seen[0] == "a␛[31mred␛]0;title␇", seen
    assert seen[1] == "山田␈␈鈴木", seen
    assert seen[2] == "x␋␌␍y", seen
    assert seen["cursor"] == (6, "鈴"), seen  # drawn after 山田 (4 cells) ␈␈ (2 cells)

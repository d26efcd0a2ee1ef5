"""Typed joiners, direction marks, BOM, tag characters are text (issue 14.11): they
were dropped when typed (Textual keeps only str.isprintable() keys) and kept when
pasted, splitting a typed emoji sequence."""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App, ComposeResult

from screens.form import SafeTextArea
from screens.safe_input import SafeInput

TYPED = ["\u200d", "\u200c", "\u202e", "\ufeff", "\U000e0041", "\u2066", "\u2028"]


class One(App):
    def compose(self) -> ComposeResult:
        yield SafeInput(id="f")


class Many(App):
    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.start_text = text

    def compose(self) -> ComposeResult:
        yield SafeTextArea(self.start_text, id="f")


async def type_as_the_terminal_sends(app, pilot, text: str) -> None:
    """Key events as the terminal's bytes give them (Textual's parser: Pilot.press
    drops the character of a key such as zero_width_joiner)."""
    from textual._xterm_parser import XTermParser

    for event in XTermParser().feed(text):
        app.post_message(event)
        await pilot.pause()


@pytest.mark.parametrize("ch", TYPED, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("app_class", [One, Many], ids=["SafeInput", "SafeTextArea"])
def test_a_typed_format_character_is_kept(ch, app_class):
    async def go():
        app = app_class()
        async with app.run_test() as pilot:
            field = app.query_one("#f")
            field.focus()
            await type_as_the_terminal_sends(app, pilot, "a" + ch + "b")
            return field.text if isinstance(field, SafeTextArea) else field.value

    assert asyncio.run(go()) == "a" + ch + "b"


def test_a_typed_emoji_sequence_stays_whole():
    family = "👨\u200d👩\u200d👧"

    async def go():
        app = One()
        async with app.run_test() as pilot:
            field = app.query_one("#f", SafeInput)
            field.focus()
            await type_as_the_terminal_sends(app, pilot, family)
            await pilot.press("tab")  # a key, not text
            return field.value

    assert asyncio.run(go()) == family


SEPARATORS = ["\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85"]


@pytest.mark.parametrize("ch", SEPARATORS, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("where", ["end", "middle"])
def test_characters_str_splitlines_breaks_at_are_text_in_a_text_area(ch, where):
    """Textual's Document splits lines with str.splitlines: a U+2028 (or VT, FF, U+0085 …)
    became a line break, and at the end of the text it was dropped (issue 14.11). Loaded
    (a draft offered back), pasted and typed, the text comes back as it was."""
    text = "前半" + ch + ("後半" if where == "middle" else "")

    async def go():
        loaded = Many(text)
        async with loaded.run_test() as pilot:
            field = loaded.query_one("#f", SafeTextArea)
            got_loaded = field.text
            field.focus()
            field.move_cursor(field.document.end)
            field.insert("\n" + text)  # as a paste inserts
            await pilot.pause()
            return got_loaded, field.text, field.document.line_count, field.get_line(0).plain

    got_loaded, got_after, lines, shown = asyncio.run(go())
    assert got_loaded == text
    assert got_after == text + "\n" + text
    assert lines == 2  # only the LF typed between them breaks the line
    assert ch not in shown and len(shown) == len(text.split("\n")[0])  # drawn as one visible symbol

"""Typed joiners, direction marks, BOM, tag characters are text (issue 14.11): they
were dropped when typed (Textual keeps only str.isprintable() keys) and kept when
pasted, splitting a typed emoji sequence."""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App, ComposeResult

from screens.safe_input import SafeInput

TYPED = ["\u200d", "\u200c", "\u202e", "\ufeff", "\U000e0041", "\u2066", "\u2028"]


class One(App):
    def compose(self) -> ComposeResult:
        yield SafeInput(id="f")


async def type_as_the_terminal_sends(app, pilot, text: str) -> None:
    """Key events as the terminal's bytes give them (Textual's parser: Pilot.press
    drops the character of a key such as zero_width_joiner)."""
    from textual._xterm_parser import XTermParser

    for event in XTermParser().feed(text):
        app.post_message(event)
        await pilot.pause()


@pytest.mark.parametrize("ch", TYPED, ids=lambda c: f"U+{ord(c):04X}")
def test_a_typed_format_character_is_kept(ch):
    async def go():
        app = One()
        async with app.run_test() as pilot:
            field = app.query_one("#f", SafeInput)
            field.focus()
            await type_as_the_terminal_sends(app, pilot, "a" + ch + "b")
            return field.value

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

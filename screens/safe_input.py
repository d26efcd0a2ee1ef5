"""A one-line entry field that keeps what is typed or pasted but never passes a
control character to the terminal (kept apart from screens/form.py so that the
dashboard's filter can use it without importing the form widgets at start-up).

Textual's Input and TextArea draw their text as it is: an ESC, a C1 CSI
(U+009B), NUL or a bidi override typed or pasted into a field would reach the
terminal and be obeyed (colours, clearing the screen, OSC 52 writing the
clipboard, a changed window title…). These show each such character as one
visible symbol (␛ ␀ ␦); the value is unchanged.
"""

from __future__ import annotations

import re
import unicodedata

from rich.cells import cell_len, get_character_cell_size
from rich.highlighter import Highlighter
from rich.text import Text
from textual import events
from textual.widgets import Input

from csirt_tui.textsafe import control_pictures


class ControlPictures(Highlighter):
    """Rich highlighter: control characters drawn as symbols, one for one."""

    def highlight(self, text: Text) -> None:
        plain = text.plain
        shown = control_pictures(plain)
        if shown != plain:
            text.plain = shown


_LINE_BREAKS = re.compile(r"\r\n|\r|\n")

# Characters an operator types that are text but not "printable" to Python (so
# Textual's fields dropped them when typed, kept them when pasted): joiners that
# hold an emoji or a name together (ZWJ, ZWNJ), direction marks, BOM, tag and
# private-use characters, line/paragraph separators. Control characters (Cc) are
# keys (Tab, Enter, Ctrl+…), not text, and stay keys.
_TEXT_CATEGORIES = frozenset({"Cf", "Co", "Cn", "Zl", "Zp"})


def typed_text(event: events.Key) -> str | None:
    """The character a key event types, when Textual would drop it; else None."""
    ch = event.character
    if ch and len(ch) == 1 and not ch.isprintable() and unicodedata.category(ch) in _TEXT_CATEGORIES:
        return ch
    return None


class SafeInput(Input):
    """A one-line field: the value exactly as typed or pasted, shown with control
    characters as symbols.

    A paste keeps all its text: line breaks (a terminal sends them as CR) become
    spaces, trailing ones are dropped. (Textual's Input would keep only the first
    line, and cut also at characters ``str.splitlines`` treats as breaks, such as
    U+001C or U+0085: the rest of a pasted address or name would be lost.)"""

    SHOWS_CONTROLS_AS_SYMBOLS = True  # a paste is given to it as it is (csirt_tui.app: on_event)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("highlighter", ControlPictures())
        super().__init__(*args, **kwargs)

    async def _on_key(self, event: events.Key) -> None:
        ch = typed_text(event)
        if ch is None:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        selection = self.selection
        if selection.is_empty:
            self.insert_text_at_cursor(ch)
        else:
            self.replace(ch, *selection)

    # The value is drawn with each control character as its one-cell symbol, and the cursor, the
    # scrolling and the mouse measured on that drawing. Input drew Text(value): Rich's Text drops
    # BEL, BS, VT, FF and CR before any highlighter sees them (a pasted 「…title␇」 showed 「…title」,
    # 「a\x08b」 showed 「ab」), and measured the value, where an ESC is 0 cells wide: past each
    # control character the cursor stood one cell left of where the next key would go.
    @property
    def _value(self) -> Text:
        if self.password:
            return super()._value
        text = Text(control_pictures(self.value), no_wrap=True, overflow="ignore", end="")
        highlighter = self.highlighter
        if highlighter is not None and not isinstance(highlighter, ControlPictures):
            text = highlighter(text)
        return text

    def _position_to_cell(self, position: int) -> int:
        if self.password:
            return super()._position_to_cell(position)
        return cell_len(control_pictures(self.value[:position]))

    def _cell_offset_to_index(self, offset: int) -> int:
        if self.password:
            return super()._cell_offset_to_index(offset)
        offset += self.scroll_offset[0]
        cells = 0
        for index, char in enumerate(control_pictures(self.value)):
            width = get_character_cell_size(char)
            if cells <= offset < cells + width:
                return index
            cells += width
        return max(0, min(offset, len(self.value)))

    def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()  # not Input._on_paste as well
        event.stop()
        text = _LINE_BREAKS.sub(" ", re.sub(r"(?:\r\n|\r|\n)+$", "", event.text or ""))
        if not text:
            return
        selection = self.selection
        if selection.is_empty:
            self.insert_text_at_cursor(text)
        else:
            self.replace(text, *selection)


class PasswordInput(Input):
    """A password field drawn with ``*``, one per character typed.

    Textual's Input draws a password as 「•」 (U+2022), a character of ambiguous East Asian
    width: one cell for Textual, two in a Japanese terminal font, so the dots overlapped the
    field's end and the cursor stood apart from them (issue 15). The cursor is placed by
    characters too (one ``*`` each): a password typed in Japanese put it twice as far as the
    drawn stars, being measured on the value's own (two-cell) characters."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("password", True)
        super().__init__(*args, **kwargs)

    @property
    def _value(self) -> Text:
        if self.password:
            return Text("*" * len(self.value), no_wrap=True, overflow="ignore", end="")
        return super()._value

    def _position_to_cell(self, position: int) -> int:
        if self.password:
            return len(self.value[:position])
        return super()._position_to_cell(position)

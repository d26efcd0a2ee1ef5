"""What Textual itself draws around the desk's text, with no character of ambiguous East Asian
width (issue 15; the text itself: csirt_tui/cells.py).

Textual draws its frames with box-drawing and block characters (╭─╮ │ ▊▔▎ █▀▄), ends a scroll
bar's thumb with ▁▂▃…, marks a Select with ▼ and a Header with ⭘: all ambiguous, one cell for
Textual, two in a Japanese terminal font (the frame's right edge is pushed a cell to the right
on every line, a Select's last character is hidden). Decided:

- Frames: every border type Textual has is drawn with ASCII ``+ - |`` in its colours
  (:func:`install` rewrites Textual's border table, one place for every widget and every
  stylesheet, ours and Textual's own: Input, Button, Select's list, toasts, the palette).
  The heavy block frames of the dialogs (``thick``) become a coloured ``+--+`` frame. Buttons
  are one line high without a frame (assets/desk.tcss), the focused one in reverse.
- Scroll bars: coloured blanks (:class:`PlainBars`): the thumb is seen by its colour.
- A Select's arrow: ``v`` / ``^`` (:func:`install` replaces what Textual's SelectCurrent draws).
- Check boxes and radio buttons: ``[X]`` / ``[ ]`` and ``(*)`` / ``( )`` (Textual's ▐X▌, ▐●▌).
- The open list of a Select: its keys (Textual's Esc 「Dismiss menu」) from screens/commands.py.
- The Header: :class:`DeskHeader`, no ⭘ icon, and its title narrowed (``—`` → ``-``).

:func:`install` runs when the dashboard module is imported (the first screen of every
desk); it is idempotent.
"""

from __future__ import annotations

from textual.content import Content
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.widgets import Header, Static
from textual.widgets._header import HeaderTitle

from rich.cells import cell_len

from rich.text import Text

from csirt_tui.cells import cut, fit, is_ambiguous, narrow
from csirt_tui.textsafe import one_line

_ASCII = (("+", "-", "+"), ("|", " ", "|"), ("+", "-", "+"))
_ZERO = ((0, 0, 0), (0, 0, 0), (0, 0, 0))
_installed = False


class PlainBars(ScrollBarRender):
    """Scroll bars drawn with coloured blanks only (Textual ends a thumb with ▁▂▃…)."""

    VERTICAL_BARS = [" "] * 8
    HORIZONTAL_BARS = [" "] * 8


def _select_current_compose(self):
    """Textual's SelectCurrent.compose with the arrows v / ^ (its ▼ ▲ are ambiguous-width)."""
    from textual.widgets._select import NonSelectableStatic

    yield NonSelectableStatic(self.placeholder, id="label")
    yield NonSelectableStatic("v", classes="arrow down-arrow")
    yield NonSelectableStatic("^", classes="arrow up-arrow")


class DeskHeader(Header):
    """Textual's Header without its ⭘ icon, its title drawn with one-width characters (the
    app's title is 「csirt-desk — <profile>」; Textual joins title and subtitle with —)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("icon", " ")
        super().__init__(**kwargs)

    def format_title(self) -> Content:
        title, sub = narrow(self.screen_title), narrow(self.screen_sub_title)
        # Textual cuts a long title with …: cut here, with "...", to the title's room (the
        # header less its icon and clock space, 8 + 10 cells)
        room = self.size.width - 20 if self.size.width else 0
        if room > 0:
            title = cut(title, room)
            sub = cut(sub, max(room - cell_len(title) - 2, 0)) if sub else sub
        if not sub:
            return Content(title)
        return Content.assemble(Content(title), ("  ", "dim"), Content(sub).stylize("dim"))

    def compose(self):  # type: ignore[no-untyped-def]
        for widget in super().compose():
            yield OneLineTitle() if type(widget) is HeaderTitle else widget

    def on_resize(self) -> None:
        for title in self.query(HeaderTitle):
            title.update(self.format_title())


class OneLineTitle(HeaderTitle):
    """The header's title: one line the header's width, whatever it says, so a new title needs
    no layout of the screen (Textual's asked for one each time, as a screen opened)."""

    def update(self, content="", *, layout: bool = True) -> None:  # type: ignore[override]
        super().update(content, layout=False)


def _plain_button(self) -> Content:
    """A toggle button as [X] / [ ] and (*) / ( ): Textual's ▐X▌ and ▐●▌ are ambiguous-width, and
    it draws the X of an unticked box too, told apart only by colour."""
    style = self.get_visual_style("toggle--button")
    return Content.assemble(self.BUTTON_LEFT, (self.BUTTON_INNER if self.value else " ", style),
                            self.BUTTON_RIGHT)


def install() -> None:
    """Frames drawn in ASCII and plain scroll bars, for every widget (see the module's text)."""
    global _installed
    if _installed:
        return
    from textual import _border

    for name, chars in list(_border.BORDER_CHARS.items()):
        if any(is_ambiguous(ch) for row in chars for ch in row):
            _border.BORDER_CHARS[name] = _ASCII
            _border.BORDER_LOCATIONS[name] = _ZERO
            _border.BORDER_LABEL_LOCATIONS[name] = (0, 0)
            _border.BORDER_TITLE_FLIP.pop(name, None)
    _border.get_box.cache_clear()
    ScrollBar.renderer = PlainBars
    from textual.widgets import Checkbox, RadioButton
    from textual.widgets._toggle_button import ToggleButton

    ToggleButton._button = property(_plain_button)
    Checkbox.BUTTON_LEFT, Checkbox.BUTTON_INNER, Checkbox.BUTTON_RIGHT = "[", "X", "]"
    RadioButton.BUTTON_LEFT, RadioButton.BUTTON_INNER, RadioButton.BUTTON_RIGHT = "(", "*", ")"
    from textual.widgets._select import SelectCurrent, SelectOverlay

    SelectCurrent.compose = _select_current_compose
    # the open list's keys from the registry (its Esc was 「Dismiss menu」 in the footer)
    from screens.commands import bindings

    SelectOverlay.BINDINGS = bindings("dropdown")
    SelectOverlay._merged_bindings = SelectOverlay._merge_bindings()
    _installed = True


def pad(text: str, width: int, style: str = "") -> Text:
    """A fixed-width column of user text (double-width Japanese counted), cut with "..." (Rich's
    and Textual's own cut ends in …, ambiguous-width), then two spaces."""
    return Text(fit(one_line(text or ""), width) + "  ", style=style)


class SteadyStatic(Static):
    """A Static that an update with the text it already shows leaves as it is: Textual lays the
    whole screen out again after every ``update``, and a screen that recomputes its panels on each
    change (the triage, as it opens: every field's first Changed) set the same texts again."""

    def update(self, content="", *, layout: bool = True) -> None:  # type: ignore[override]
        if isinstance(content, str) and isinstance(self.content, str) and content == self.content:
            return
        super().update(content, layout=layout)


class OneLine(Static):
    """One line of text cut to its width with "..." (a Static with ``text-overflow: ellipsis``
    ends in Textual's …)."""

    def __init__(self, text: str, **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self.text = one_line(text)

    def render(self) -> Content:
        width = self.content_size.width
        return Content(cut(self.text, width) if width else self.text)

"""Text typed where the focus takes no text (issue 15: "what they type must never be lost").

The operator on the phone types without looking at the screen; an IME commits a whole word at
once. Typed on a choice, a list or a button, Textual drops it without a sign. The app
(CsirtDeskApp.on_event) hands each such character, as it is read, to one of these:

- a screen's ``text_field_for(focused)`` names the field the text belongs to (the intake's
  choices: (1) いつ; the triage's 1 and 2: 確認の結果・方法): the focus moves there and the
  text follows it (csirt_tui/app.py);
- a list of examples, a list to pick from, a dropdown (open or closed): type to find. The
  highlight moves to the first entry containing what was typed, and one line says what was
  looked for and where the highlight went, or that nothing contains it (:func:`find_typed`);
- anything else (a button, a checkbox, a scroll area): one line says the text was not
  taken, quoting it whole, and where text goes (:func:`say_not_taken`).

Keys that are commands where they are typed (the dashboard's t, n, o; a dialog's c) are bound,
and stay commands: these only see characters nothing else would take. Space is not text here:
on a choice it chooses (once the text has gone to a field, the Space follows it there). A paste
(the terminal's, tmux paste-buffer) where the focus takes no text is answered the same way, as
one word. A screen may say where text goes on it (``TYPED_TEXT_HINT``: the dashboard's Ctrl+N).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.notifications import Notification
from textual.widget import Widget
from textual.widgets import Input, OptionList, Select, SelectionList, TextArea
from textual.widgets._select import SelectOverlay

from csirt_tui.cells import cut

BURST_GAP = 1.0     # seconds: characters typed closer than this are one word (an IME commits it at once)
SHOWN_WIDTH = 30    # characters of an entry quoted in the line that says where the highlight went
FOUND_TIMEOUT = 6   # seconds the line says where the highlight went
NOT_FOUND_TIMEOUT = 10  # seconds the line says nothing contains the word
LOST_TIMEOUT = 30   # seconds the line quoting text that was not taken stays (to be typed again)


@dataclass
class Burst:
    """What has been typed on one widget, as one word, and the line that says so."""

    widget: Widget
    text: str
    at: float
    note: Notification | None = None
    origin: int | None = None  # the highlight before the word: back there when nothing contains it
    started: bool = False
    opened: bool = False       # a closed dropdown the word opened
    on_top: bool = False       # its line is drawn at the top (over a dropdown's open list)


def _burst(app, widget: Widget, ch: str) -> Burst:
    now = time.monotonic()
    burst = getattr(app, "typed_burst", None)  # one word at a time
    if burst is None or burst.widget is not widget or now - burst.at > BURST_GAP:
        end_burst(app)
        burst = Burst(widget, "", now)
        app.typed_burst = burst
    burst.text += ch
    burst.at = now
    return burst


def screen_changed(app, screen) -> None:
    """Another screen in front: the lines about the lists of the screens behind it go (「含む事例は
    ありません」 stayed 10 s on the dashboard after the triage it spoke of had closed)."""
    found = getattr(app, "typed_find_notes", None) or {}
    for identity, (note, on) in list(found.items()):
        if on is not screen:
            del found[identity]
            if note in app._notifications:
                app._unnotify(note)


def end_burst(app) -> None:
    """A key that is not text (Tab, an arrow, Enter) ends the word being typed."""
    burst = getattr(app, "typed_burst", None)
    app.typed_burst = None
    if burst is not None and burst.on_top:
        _line_on_top(app, False)


def _line_on_top(app, on_top: bool) -> None:
    """The line above an open dropdown's list, not under it (assets/desk.tcss)."""
    try:
        app.screen.set_class(on_top, "-typed-on-dropdown")
    except Exception:  # no screen (closing)
        pass


def _say(app, burst: Burst, message: str, *, severity: str = "information", timeout: float,
         of_screen: bool = False) -> None:
    """One line per word: the line of the characters before it in the same word is replaced.
    ``of_screen``: a line about the screen's list (type to find), gone when another screen comes
    in front (:func:`screen_changed`); a line quoting text not taken stays its time wherever."""
    if burst.note is not None and burst.note in app._notifications:
        app._unnotify(burst.note, refresh=False)
    burst.note = Notification(message, "", severity, timeout, markup=False)
    if of_screen:
        found = getattr(app, "typed_find_notes", None)
        if found is None:
            found = app.typed_find_notes = {}
        found[burst.note.identity] = (burst.note, burst.widget.screen)
    # as App._on_notify does, now: a line posted (App.notify) is not there yet when the next
    # character of the word, read at the same time, replaces it
    app._notifications.add(burst.note)
    app._refresh_notifications()


QUOTED_LIMIT = 200  # characters of a word (a paste) quoted in one line


def shown(text: str) -> str:
    """``text`` on one line as the desk shows user text; a long paste cut, with its length."""
    from csirt_tui.textsafe import one_line

    if len(text) > QUOTED_LIMIT:
        return one_line(text[:QUOTED_LIMIT]) + f"... (全 {len(text)} 文字)"
    return one_line(text)


# ------------------------------------------------------------------ type to find
def _find_target(focused: Widget) -> tuple[Any, list[str], str] | None:
    """(the widget whose highlight moves, the texts of its entries, what an entry is called),
    when ``focused`` is a list or a dropdown; else None."""
    if isinstance(focused, SelectionList):
        count = focused.option_count
        text_at = getattr(focused, "text_at", None)
        texts = [text_at(i) if text_at else _plain(focused.get_option_at_index(i).prompt) for i in range(count)]
        return focused, texts, getattr(focused, "entry_name", "項目")
    if isinstance(focused, SelectOverlay):
        select = focused.parent
        if isinstance(select, Select):
            return select, [_plain(prompt) for prompt, _value in select._options], "選択肢"
        return None
    if isinstance(focused, Select):
        return focused, [_plain(prompt) for prompt, _value in focused._options], "選択肢"
    if isinstance(focused, OptionList):
        texts = [_plain(focused.get_option_at_index(i).prompt) for i in range(focused.option_count)]
        return focused, texts, "項目"
    return None


def _plain(prompt: Any) -> str:
    if isinstance(prompt, Text):
        return prompt.plain
    plain = getattr(prompt, "plain", None)
    return plain if isinstance(plain, str) else str(prompt)


def open_list_of(select: Widget) -> Widget | None:
    """The list of an open dropdown (the focus goes to it after the key that opened it)."""
    for child in select.children:
        if isinstance(child, SelectOverlay):
            return child
    return None


def typed_character(event) -> str | None:  # type: ignore[no-untyped-def]
    """The text a key types (a joiner, a direction mark too: screens/safe_input.py), or None for
    a key that is not text here: Tab, Enter, Ctrl+…, and Space, which chooses on a choice."""
    from screens.safe_input import typed_text

    ch = event.character if event.is_printable else typed_text(event)
    return None if not ch or ch == " " else ch


def finds_as_read(focused: Widget | None) -> bool:
    """A list whose highlight moves as the key is read (a Space or Enter read with the word acts on
    the entry found): the examples (the triage reads Space so) and dropdowns, whose Enter chooses
    and opens nothing. A list to pick from finds when the key comes back unhandled instead."""
    return isinstance(focused, (SelectionList, Select, SelectOverlay))


def can_find(focused: Widget | None) -> bool:
    return focused is not None and _find_target(focused) is not None


async def find_typed(app, focused: Widget, ch: str) -> bool:
    """Type to find on a list or a dropdown: the highlight on the first entry containing the word
    typed so far (case ignored), said in one line, or that no entry contains it. A closed dropdown
    is opened on the entry found (Enter or Space then chooses it, as when opened with a key)."""
    target = _find_target(focused)
    if target is None:
        return False
    widget, texts, entry = target
    burst = _burst(app, widget, ch)
    if not burst.started:
        burst.started = True
        burst.origin = _highlight_of(widget)
    query = burst.text.casefold()
    index = next((i for i, text in enumerate(texts) if query in text.casefold()), None)
    word = shown(burst.text)
    if isinstance(widget, Select) and not burst.on_top:
        burst.on_top = True
        _line_on_top(app, True)
    if not texts:
        _say(app, burst, f"「{word}」は入力されていません: {entry}がまだありません", severity="warning",
             timeout=LOST_TIMEOUT)
        return True
    if index is None:
        # (its first characters may have been found: 「サ」 in サービス, on the way to 「サーバ停止」)
        if burst.opened:  # opened on the first characters of the word: on the option chosen, as opened
            current = next((i for i, (_p, value) in enumerate(widget._options) if value == widget.value), None)
            _set_highlight(widget, current)
        elif burst.origin is not None and _highlight_of(widget) != burst.origin:
            _set_highlight(widget, burst.origin)
        _say(app, burst, f"「{word}」を含む{entry}はありません ({len(texts)} 件)", severity="warning",
             timeout=NOT_FOUND_TIMEOUT, of_screen=True)
        return True
    if isinstance(widget, Select):
        burst.opened = burst.opened or not widget.expanded
        await _highlight_option(widget, index)
    else:
        _set_highlight(widget, index)
    _say(app, burst, f"「{word}」: {index + 1}/{len(texts)} 件目の{entry}「{cut(shown(texts[index]), SHOWN_WIDTH)}」",
         timeout=FOUND_TIMEOUT, of_screen=True)
    return True


def _highlight_of(widget: Widget) -> int | None:
    if isinstance(widget, Select):
        overlay = open_list_of(widget)
        return overlay.highlighted if overlay is not None and widget.expanded else None
    return widget.highlighted


def _set_highlight(widget: Widget, index: int | None) -> None:
    target = open_list_of(widget) if isinstance(widget, Select) else widget
    if target is not None:
        target.highlighted = index
        target.scroll_to_highlight()


async def _highlight_option(select: Select, index: int) -> None:
    opener = getattr(select, "_open_list", None)
    if opener is not None:
        await opener()  # a LazySelect's list is mounted when first opened (screens/select.py)
    overlay = select.query_one(SelectOverlay)
    if not select.expanded:
        select.expanded = True
    overlay.highlighted = index  # (Select._options and the list: the blank one first, when allowed)
    overlay.scroll_to_highlight()


# ------------------------------------------------------------------ not taken
TEXT_WIDGETS = (Input, TextArea)


def say_not_taken(app, focused: Widget | None, ch: str) -> None:
    """The text typed where nothing takes it, quoted whole in one line (kept on screen long
    enough to be typed again where it belongs) with where text goes on this screen."""
    widget = focused or app.screen
    burst = _burst(app, widget, ch)
    fields = [w for w in app.screen.query("Input, TextArea") if w.focusable and w.display]
    where = getattr(app.screen, "TYPED_TEXT_HINT", None) or (
        "入力欄へは Tab で移ってください" if fields else "この画面には入力欄がありません")
    what = _what_it_is(focused)
    _say(app, burst, f"「{shown(burst.text)}」は入力されていません: {what}は文字を受け付けません。{where}",
         severity="warning", timeout=LOST_TIMEOUT)
    app.typed_lost = burst  # withdrawn once typed again in a field (retyped_in)


def retyped_in(app, field: Widget) -> None:
    """After text typed or pasted into ``field``: the line quoting text not taken goes once that
    text is in the field (typed again where it belongs). It stayed its 30 s over the lower right of
    the screen, where it hid the field being typed into (the triage's 想定停止時間 at 80x24)."""
    lost = getattr(app, "typed_lost", None)
    if lost is None or lost.note is None or lost.note not in app._notifications:
        app.typed_lost = None
        return
    value = field.value if isinstance(field, Input) else field.text if isinstance(field, TextArea) else ""
    if lost.text.strip() and lost.text in value:
        app.typed_lost = None
        app._unnotify(lost.note)


def _what_it_is(focused: Widget | None) -> str:
    from textual.widgets import Button, Checkbox, DataTable, RadioSet

    if isinstance(focused, Button):
        label = _plain(focused.label)
        return f"ボタン「{cut(shown(label), SHOWN_WIDTH)}」" if label else "ボタン"
    if isinstance(focused, Checkbox):
        return f"チェック欄「{cut(shown(_plain(focused.label)), SHOWN_WIDTH)}」"
    if isinstance(focused, RadioSet):
        return "選択肢"
    if isinstance(focused, DataTable):
        return "一覧"
    return "ここ"

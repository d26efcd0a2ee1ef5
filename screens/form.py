"""A small modal form built from field specs (used by the tracker's actions).

Every value comes back exactly as typed; times are parsed for the preview
and returned both as typed and as ISO. Ctrl+S submits, Esc cancels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from csirt_tui.textsafe import control_pictures, one_line, printable
from csirt_tui.timeparse import TimeParseError, format_preview, parse_time, to_iso
from screens.safe_input import SafeInput



# Entry fields that keep what is typed or pasted but never pass a control
# character to the terminal: SafeInput (screens/safe_input.py, light enough for
# the dashboard's first paint) and SafeTextArea here.


class SafeTextArea(TextArea):
    """A multi-line field, shown with control characters as symbols (tabs are laid
    out by the TextArea). The text is what the TextArea holds: line breaks are
    its own (CR, LF and CRLF, and what ``str.splitlines`` counts as a break, such
    as VT, FF, U+0085, U+2028, all become the field's line break)."""

    SHOWS_CONTROLS_AS_SYMBOLS = True  # a paste is given to it as it is (csirt_tui.app: on_event)

    def get_line(self, line_index: int) -> Text:
        return Text(control_pictures(self.document.get_line(line_index), keep="\t"), end="", no_wrap=True)


@dataclass
class Field:
    key: str
    label: str
    kind: str = "text"                    # text | multiline | time | select | check
    value: Any = ""
    options: list[tuple[str, Any]] = field(default_factory=list)   # for select: (label, value)
    placeholder: str = ""
    required: bool = False


class FormScreen(ModalScreen[dict[str, Any] | None]):
    BINDINGS = [Binding("ctrl+s", "submit", "記録", priority=True), Binding("escape", "cancel", "やめる")]

    def __init__(self, title: str, fields: list[Field], *, intro: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.intro = intro

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Label(self.title_text, classes="saved-title")
            if self.intro:
                yield Static(printable(self.intro), classes="intro", markup=False)
            with VerticalScroll(id="form-fields"):
                for f in self.fields:
                    wid = f"f-{f.key}"
                    if f.kind == "check":
                        yield Checkbox(f.label, value=bool(f.value), id=wid, compact=True)
                        continue
                    yield Label(f.label + (" *" if f.required else ""), classes="form-label")
                    if f.kind == "multiline":
                        yield SafeTextArea(str(f.value or ""), id=wid, soft_wrap=True, tab_behavior="focus",
                                           classes="form-multiline")
                    elif f.kind == "select":
                        yield Select([(Text(label), value) for label, value in f.options], id=wid, compact=True,
                                     prompt=f.placeholder or "選択", value=f.value if f.value not in ("", None)
                                     else getattr(Select, "NULL", None) or getattr(Select, "BLANK"))
                    else:
                        yield SafeInput(str(f.value or ""), id=wid, placeholder=f.placeholder, compact=True)
                        if f.kind == "time":
                            yield Static("", id=f"{wid}-preview", classes="preview", markup=False)
            yield Static("Ctrl+S 記録   Esc やめる   Tab 次の項目", classes="hint", markup=False)

    def on_mount(self) -> None:
        for f in self.fields:
            if f.kind == "time":
                self._preview(f"f-{f.key}")
        first = next(iter(self.query("#form-fields > Input, #form-fields > TextArea, #form-fields > Select, "
                                     "#form-fields > Checkbox")), None)
        if first is not None:
            first.focus()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        if self.query(f"#{event.input.id}-preview"):
            self._preview(event.input.id)

    def _preview(self, wid: str) -> None:
        text = self.query_one(f"#{wid}", Input).value
        target = self.query_one(f"#{wid}-preview", Static)
        if not text.strip():
            target.update("")
            return
        try:
            target.update("→ " + format_preview(parse_time(text, self.app.now())))
        except TimeParseError as err:
            target.update("✘ " + one_line(str(err)))

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.fields:
            widget = self.query_one(f"#f-{f.key}")
            if isinstance(widget, TextArea):
                out[f.key] = widget.text
            elif isinstance(widget, Select):
                out[f.key] = None if widget.is_blank() else widget.value
            elif isinstance(widget, Checkbox):
                out[f.key] = widget.value
            else:
                out[f.key] = widget.value
        return out

    def action_submit(self) -> None:
        values = self.values()
        problems = []
        for f in self.fields:
            value = values[f.key]
            if f.required and (value is None or (isinstance(value, str) and not value.strip())):
                problems.append(f"{f.label} を入力してください")
            if f.kind == "time" and isinstance(value, str) and value.strip():
                try:
                    values[f"{f.key}_iso"] = to_iso(parse_time(value, self.app.now()))
                except TimeParseError as err:
                    problems.append(f"{f.label}: {one_line(str(err))}")
        if problems:
            self.notify("\n".join(problems), severity="error", markup=False)
            return
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PickerScreen(ModalScreen[str | None]):
    """Pick one of a list (built only when asked). Returns the chosen id, or None."""

    BINDINGS = [Binding("escape", "cancel", "やめる")]

    def __init__(self, choices: list[tuple[str, str]], title: str, current: str | None = None) -> None:
        super().__init__()
        self.choices = choices
        self.title_text = title
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="kind-box"):
            yield Label(self.title_text, classes="saved-title")
            yield OptionList(*(Option(Text(label), id=cid) for label, cid in self.choices), id="kind-list")

    def on_mount(self) -> None:
        lst = self.query_one("#kind-list", OptionList)
        if self.current is not None:
            lst.highlighted = lst.get_option_index(self.current)
        lst.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


def pad(text: str, width: int, style: str = "") -> Text:
    """A fixed-width column of user text (double-width Japanese counted), shortened with …."""
    part = Text(one_line(text or ""), style=style)
    part.truncate(width, overflow="ellipsis", pad=True)
    part.append("  ")
    return part

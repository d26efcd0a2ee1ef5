"""PoC カード (むつ 別表第1): the desk's window for reports, whole — the organisation and its
section, the address, the hours, the outside number and 内線, the mail and the items asked —
from the profile (csirt_tui/poc.py), each organisation its own. F3 or the palette's
「PoC カード」, on any screen; the out-of-hours banner of the intake shows the same lines."""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from csirt_tui.cells import narrow
from csirt_tui.poc import poc_card
from screens.commands import bindings
from screens.form import fold

LABEL_COLUMN = 10  # cells for the labels (所在地, 電話番号 …)


class PocCardScreen(ModalScreen[None]):
    KEYS_SCREEN = "poc"
    BINDINGS = bindings("poc")  # screens/commands.py
    DEFAULT_CSS = """
    PocCardScreen { align: center middle; }
    PocCardScreen #poc-box { width: 96%; max-width: 100; height: auto; max-height: 90%; border: round $accent;
                             background: $surface; padding: 0 1; }
    PocCardScreen #poc-title { text-style: bold; width: 100%; }
    PocCardScreen #poc-rows { height: auto; max-height: 20; }
    PocCardScreen .poc-foot { color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        profile = self.app.store.profile
        with Vertical(id="poc-box"):
            yield Label(narrow(f"PoC カード: {profile.name}"), id="poc-title", markup=False)
            with VerticalScroll(id="poc-rows"):
                yield Static(id="poc-text", markup=False)
            hours = "" if profile.in_hours(self.app.now()) else "今は対応時間外です。"
            yield Label(f"{hours}Esc / Enter で閉じる", classes="poc-foot", markup=False)

    def on_mount(self) -> None:
        self.query_one("#poc-rows").focus()
        self._fill()

    def on_resize(self) -> None:
        self._fill()

    def _fill(self) -> None:
        width = max(self.query_one("#poc-rows").size.width - 3, 30)  # room for a scroll bar
        lines: list[str] = []
        for label, value in poc_card(self.app.store.profile):
            body = fold(narrow(value), width - LABEL_COLUMN).split("\n")
            lines.append(label + " " * max(LABEL_COLUMN - cell_len(label), 1) + body[0])
            lines.extend(" " * LABEL_COLUMN + more for more in body[1:])
        self.query_one("#poc-text", Static).update("\n".join(lines))

    def action_close(self) -> None:
        self.dismiss(None)

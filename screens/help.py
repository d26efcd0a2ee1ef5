"""F1: what the keys of this screen do, and the keys that work everywhere (from the one
list in screens/commands.py, which the footer and the README use too)."""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from screens.commands import SCREENS, WIDGETS, bindings, help_rows
from screens.form import fold

KEY_COLUMN = 22  # cells for the keys; the description is folded to the rest


class HelpScreen(ModalScreen[None]):
    """The keys of one screen (``screen_id``), each with what it does."""

    KEYS_SCREEN = "help"
    BINDINGS = bindings("help")
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen #help-box { width: 96%; max-width: 110; height: 90%; border: round $accent;
                           background: $surface; padding: 0 1; }
    HelpScreen #help-title { text-style: bold; width: 100%; }
    HelpScreen #help-rows { height: 1fr; }
    HelpScreen .help-foot { color: $text-muted; }
    """

    def __init__(self, screen_id: str, widgets: tuple[str, ...] = ()) -> None:
        """``widgets``: the registry's widget groups the screen has (``dropdown``: a Select)."""
        super().__init__()
        self.screen_id = screen_id if screen_id in SCREENS else "app"
        self.widgets = tuple(w for w in widgets if w in WIDGETS)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Label(f"キー一覧: {SCREENS[self.screen_id]}", id="help-title", markup=False)
            with VerticalScroll(id="help-rows"):
                yield Static(id="help-text", markup=False)
            yield Label("Esc / F1 で閉じる。Ctrl+P で名前から探して実行できます。", classes="help-foot",
                        markup=False)

    def on_mount(self) -> None:
        self.query_one("#help-rows").focus()
        self._fill()

    def on_resize(self) -> None:
        self._fill()

    def _fill(self) -> None:
        width = max(self.query_one("#help-rows").size.width - 1, 30)
        keys_width = min(KEY_COLUMN, width // 3)
        lines: list[str] = []
        profile = self.app.store.profile
        parts = [("", help_rows(self.screen_id, common=False, profile=profile))]
        parts += [(f"{SCREENS[w]}:", help_rows(w, common=False, profile=profile)) for w in self.widgets]
        if self.screen_id != "app":
            parts.append(("どの画面でも:", help_rows("app", common=False, profile=profile)))
        for heading, rows in parts:
            if heading:
                lines += ["", heading]
            for keys, text in rows:
                body = fold(text, width - keys_width - 1).split("\n")
                pad = " " * max(keys_width - cell_len(keys), 1)
                lines.append(f"{keys}{pad}{body[0]}")
                lines.extend(" " * keys_width + more for more in body[1:])
        self.query_one("#help-text", Static).update("\n".join(lines))

    def action_close(self) -> None:
        self.dismiss(None)

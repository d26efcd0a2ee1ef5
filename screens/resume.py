"""On start: offer the intake drafts left by a call that was cut off."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from csirt_tui.textsafe import one_line
from csirt_tui.views import short_time
from screens.commands import bindings


class ResumeDraftScreen(ModalScreen[str | None]):
    KEYS_SCREEN = "resume"
    BINDINGS = bindings("resume")  # screens/commands.py

    def __init__(self, drafts: list[dict[str, Any]]) -> None:
        super().__init__()
        self.drafts = drafts

    def compose(self) -> ComposeResult:
        newest = self.drafts[0]
        data = newest.get("data") or {}
        with Vertical(id="resume-box"):
            yield Label("保存されていない受付の下書きがあります", classes="saved-title")
            yield Static(
                f"{short_time(newest.get('updated_at'))} {one_line(newest.get('operator', ''), 20)}\n"
                f"いつ: {one_line(data.get('found_at', ''), 40)}\n"
                f"どこで: {one_line(data.get('place', ''), 40)}\n"
                f"何が: {one_line(data.get('what', ''), 60)}"
                + (f"\nほかに {len(self.drafts) - 1} 件 (ダッシュボードの下書き一覧)" if len(self.drafts) > 1 else ""),
                markup=False)
            yield Button("続きを入力する (Enter)", id="resume", variant="primary")
            yield Button("あとで (Esc)", id="later")
            yield Button("破棄する (x)", id="discard")

    def on_mount(self) -> None:
        self.query_one("#resume", Button).focus()

    @on(Button.Pressed, "#resume")
    def _resume(self) -> None:
        self.dismiss(self.drafts[0]["id"])

    @on(Button.Pressed, "#later")
    def action_later(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#discard")
    def action_discard(self) -> None:
        """x: discard this draft after a question; it stays in the store, marked discarded."""
        from screens.discard import ask_and_discard

        ask_and_discard(self.app, self.drafts[0], lambda done: self.dismiss(None) if done else None)

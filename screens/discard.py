"""Discard a draft, after a question (issue 15): a stray intake draft asked 「保存されていない
受付の下書きがあります」 at every start until it was saved as an incident.

The draft is not deleted: Store.discard_draft marks it ``discarded`` with who discarded it and
when; its text stays in its file (``csirt-desk drafts --discarded`` lists them). Opened from the
dashboard's draft list and from the offer at start (keys: screens/commands.py).
"""

from __future__ import annotations

from typing import Any, Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from csirt_tui.draftsave import draft_row, plain_problem
from csirt_tui.errors import DomainError, StoreBusyError
from csirt_tui.textsafe import one_line
from csirt_tui.views import short_time
from screens.commands import bindings
from screens.form import Folded, StoreWait


class DiscardDraftScreen(ModalScreen[bool]):
    """「この下書きを破棄しますか」: the draft as the lists show it; y discards, Esc (and Enter on
    the focused やめる) does not."""

    KEYS_SCREEN = "discard"
    BINDINGS = bindings("discard")  # screens/commands.py
    DEFAULT_CSS = """
    DiscardDraftScreen { align: center middle; }
    #discard-box { width: 90%; max-width: 76; height: auto; padding: 1 2; border: thick $warning;
                   background: $surface; }
    #discard-box .discard-title { text-style: bold; margin-bottom: 1; }
    #discard-what { margin-bottom: 1; }
    #discard-buttons { height: auto; margin-top: 1; }
    #discard-buttons Button { margin-right: 2; }
    #discard-busy { display: none; margin-top: 1; color: $warning; }
    """

    def __init__(self, draft: dict[str, Any]) -> None:
        super().__init__()
        self.draft = draft

    def compose(self) -> ComposeResult:
        d = self.draft
        kind, about, text = draft_row(d)
        with Vertical(id="discard-box"):
            yield Label(f"この{kind}の下書きを破棄しますか？", classes="discard-title", markup=False)
            yield Static(f"{short_time(d.get('updated_at'))} {one_line(d.get('operator', ''), 20)} の入力\n"
                         f"{one_line(about, 60)}\n{one_line(text, 120)}", id="discard-what", markup=False)
            yield Static("破棄しても中身は消えません。ストアに「破棄した下書き」として残り、"
                         "だれがいつ破棄したかを記録します。下書きの一覧と起動時の案内には出なくなります。",
                         markup=False)
            with Horizontal(id="discard-buttons"):
                yield Button("破棄する (y)", id="discard-yes", variant="warning", compact=True)
                yield Button("やめる (Esc)", id="discard-no", variant="primary", compact=True)
            yield Folded("", id="discard-busy")  # the store busy: one line (StoreWait)

    def on_mount(self) -> None:
        self.query_one("#discard-no", Button).focus()  # Enter does not discard
        self.store_wait = StoreWait(self, self._show_busy, saving="破棄")

    def _show_busy(self) -> None:
        busy = self.query_one("#discard-busy", Folded)
        busy.display = bool(self.store_wait.line)
        busy.say(self.store_wait.line or "")

    @on(Button.Pressed, "#discard-yes")
    def action_discard(self) -> None:
        """y: discarded in the store, then the question goes. Refused as busy (another window's
        restore holds the drafts: the screen thread waits briefly, Store.wait_briefly), the
        question stays and says so in one line, and 「y」 again once the store is free does it;
        any other refusal is said and the question goes, the draft still open."""
        app = self.app
        try:
            app.store.discard_draft(self.draft["id"], operator=app.operator)
        except StoreBusyError as err:
            self.store_wait.busy(err, "", again="y で")
            return
        except (DomainError, OSError) as err:
            app.notify(f"下書きを破棄できませんでした: {plain_problem(err)}", severity="error", markup=False)
            self.dismiss(False)
            return
        kind, _about, _text = draft_row(self.draft)
        app.notify(f"{kind}の下書きを破棄しました (中身はストアに残っています)。", title="下書き", markup=False)
        self.dismiss(True)

    @on(Button.Pressed, "#discard-no")
    def action_cancel(self) -> None:
        self.dismiss(False)


def ask_and_discard(app, draft: dict[str, Any], then: Callable[[bool], None] | None = None) -> None:
    """Ask (DiscardDraftScreen), then discard ``draft`` in the store as the desk's operator and
    say so; ``then(discarded)`` afterwards."""

    def answered(done: bool | None) -> None:  # (discarded and said by the question itself)
        if then is not None:
            then(bool(done))

    app.push_screen(DiscardDraftScreen(draft), answered)

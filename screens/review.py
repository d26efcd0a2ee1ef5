"""手順の評価・見直し: the reviews of the procedures recorded so far, when the next one is
due, and the dialog that records one (csirt_tui.reviews). Reached from the command palette
(「手順の評価・見直し」) and named in the dashboard's reminder.

A review is never edited: 「訂正」 records a new review naming the one it corrects.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from csirt_tui import reviews
from csirt_tui.errors import DomainError
from csirt_tui.textsafe import printable
from screens.chrome import DeskHeader
from screens.commands import bindings
from screens.footer import DeskFooter
from screens.form import DraftKey, Field, Folded, FormScreen, PickerScreen


def review_fields(store, corrects: dict[str, Any] | None = None) -> list[Field]:
    """The review dialog: who, when, what, the changes, the closed incidents' evaluations it drew on."""
    fields = [
        Field("reviewer", "評価・見直しを行った者 (氏名・役割)", value=(corrects or {}).get("reviewer", ""),
              required=True),
        Field("reviewed_at", "評価・見直しの日 (例: 今日, 11/20)", value="今日", required=True),
        Field("subject", "対象 (手順・計画のどこを評価・見直したか)", "multiline",
              (corrects or {}).get("subject", ""), required=True),
        Field("changes", "見直しの内容 (変更すること。変更がなければ「変更なし」)", "multiline",
              (corrects or {}).get("changes", ""), required=True),
        Field("note", "メモ", "multiline"),
    ]
    used = {i["id"] for i in (corrects or {}).get("incidents") or ()}
    for row in reviews.closed_evaluations(store):
        evaluation = row["evaluation"].splitlines()[0] if row["evaluation"].strip() else "評価の記録なし"
        fields.append(Field(f"inc_{row['id']}", printable(f"評価を使う: {row['id']} {row['summary'][:24]} / "
                                                          f"{evaluation[:40]}"), "check", row["id"] in used))
    return fields


class ReviewScreen(Screen):
    KEYS_SCREEN = "review"
    BINDINGS = bindings("review")  # screens/commands.py

    def __init__(self, reopen: str | None = None) -> None:
        super().__init__()
        self._reopen = reopen  # a draft chosen on the dashboard: its dialog opens (and offers it back)
        self.rows: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield DeskHeader()
        yield Folded("", id="review-due")  # folded by characters (Static wrapped at the date's space)
        with VerticalScroll(id="review-list"):
            yield Static("", id="review-text", markup=False)
        yield DeskFooter()

    def on_mount(self) -> None:
        self.query_one("#review-list").focus()
        self.reload()
        if self._reopen:
            _, _, no = self._reopen.partition(":")
            target = next((r for r in self.rows if str(r["no"]) == no), None) if no else None
            self._open(target)

    def reload(self) -> None:
        store = self.app.store
        try:
            rows = reviews.list_reviews(store)
            due = reviews.review_due(store, self.app.now())
        except (DomainError, OSError) as err:
            self.query_one("#review-due", Folded).say(f"読めません: {err}")
            return
        rule = store.profile.procedure_review
        head = reviews.due_line(due)
        if rule:
            head += f"\n「{rule['text']}」"
        self.query_one("#review-due", Folded).say(head)
        body = "\n\n".join(reviews.review_text(r, store.profile.timezone, reviews.SCREEN_CHARS)
                             for r in reversed(rows))
        self.query_one("#review-text", Static).update(printable(body or "記録はまだありません (a で記録)"))
        self.rows = rows

    def _open(self, corrects: dict[str, Any] | None = None) -> None:
        title = "手順の評価・見直しを記録" if corrects is None else f"No.{corrects['no']} を訂正 (新しい記録として)"
        dialog = "review" if corrects is None else f"review:{corrects['no']}"
        self.app.push_screen(FormScreen(title, review_fields(self.app.store, corrects),
                                        save=lambda v: self._save(v, corrects),
                                        draft=DraftKey("form", None, dialog, "review")),
                             lambda _: self.reload())

    def _save(self, values: dict[str, Any], corrects: dict[str, Any] | None) -> dict[str, Any]:
        used = [k.partition("_")[2] for k, v in values.items() if k.startswith("inc_") and v]
        return reviews.record_review(self.app.store, operator=self.app.operator, reviewer=values["reviewer"],
                                     reviewed_at=values["reviewed_at"], subject=values["subject"],
                                     changes=values["changes"], incidents=used, note=values.get("note") or "",
                                     corrects=corrects["no"] if corrects else None)

    def action_add(self) -> None:
        self._open()

    def action_correct(self) -> None:
        rows = self.rows
        if not rows:
            self.notify("訂正する記録がありません", severity="warning")
            return
        choices = [(printable(f"No.{r['no']} {r['reviewed_at'][:10]} {r['reviewer']} {r['subject'][:30]}"),
                    str(r["no"])) for r in reversed(rows)]

        def chosen(no: str | None) -> None:
            if no:
                self._open(next(r for r in rows if str(r["no"]) == no))

        self.app.push_screen(PickerScreen(choices, "どの記録を訂正しますか"), chosen)

    def action_leave(self) -> None:
        self.app.pop_screen()

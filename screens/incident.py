"""インシデントの表示: the intake items and the whole time-ordered record (read-only).

It also says when text typed into one of the incident's dialogs (a note, a correction, a
form, a report text) is not on the record yet (a quit or a crash left it as a draft), and
opens that dialog again (d), where it offers the text back. :func:`reopen_draft` is also
what the dashboard's list of drafts does with such a draft."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from typing import Any

from csirt_tui.draftsave import draft_label, draft_text, draft_what
from csirt_tui.errors import DomainError
from csirt_tui.textsafe import printable
from csirt_tui.merge import exchange_lines
from csirt_tui.views import chrome_lines, incident_text_lines, intake_labels, short_time
from rich.cells import cell_len

from screens.form import Folded, fold
from screens.timeline import WATCH_SECONDS
from screens.chrome import DeskHeader
from screens.commands import bindings
from screens.footer import DeskFooter
from screens.opening import StyledAtMount


class IndentedText(Static):
    """The incident's text, each line as it is, except that an indented line (「判断が分かれて
    います」's lines of each desk's decision) folds at the width onto lines with its indent: at 80
    columns Textual wrapped them back to the edge, and they read as lines of their own."""

    def __init__(self, **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self.lines: list[str] = []
        self._shown_for = -1
        self._text: str | None = None

    def show(self, text: str) -> None:
        self.lines = text.split("\n")
        self._shown_for = -1
        self._fill()

    def _fill(self) -> None:
        width = self.content_size.width  # 0 before the first layout: as it is (Textual wraps it)
        if width == self._shown_for:
            return
        self._shown_for = width
        text = "\n".join(fold(line, width, hang=True) if width and line[:1] == " " and cell_len(line) > width
                         else line for line in self.lines)
        if text != self._text:  # a record with no such line is not laid out again as the screen opens
            self._text = text
            self.update(text)

    def on_resize(self) -> None:
        self._fill()


def dialog_drafts_of(store, incident_id: str | None) -> list[dict[str, Any]]:
    """The open drafts of an incident's dialogs (not intakes), newest first."""
    return [d for d in store.list_drafts(kind=None)
            if d.get("kind", "intake") != "intake" and d.get("incident") == incident_id]


def reopen_draft(app, draft: dict[str, Any]) -> None:
    """Open the dialog ``draft`` was typed in, where it was opened (the incident's record, its
    tracker, its report texts, the roster): the dialog offers the text back."""
    from screens.export import ReportTextsScreen
    from screens.response import ResponseScreen
    from screens.roster import RosterScreen, call_party
    from screens.timeline import TimelineScreen

    data = draft.get("data") or {}
    where, dialog, incident_id = data.get("screen"), str(data.get("dialog") or ""), draft.get("incident")
    if where == "roster":
        app.push_screen(RosterScreen(reopen=dialog))
        return
    if where == "review":  # 手順の評価・見直し
        from screens.review import ReviewScreen

        app.push_screen(ReviewScreen(reopen=dialog))
        return
    if where == "export" and not incident_id:  # the committee summary's dialog
        app.open_export(None, "summary")
        return
    if where == "bundle" and not incident_id:  # a bundle of every incident
        app.open_bundle("export")
        return
    if not incident_id or not app.store.exists(incident_id):
        app.notify("この書きかけのインシデントが見つかりません", severity="warning")
        return
    if not (isinstance(app.screen, IncidentScreen) and app.screen.incident_id == incident_id):
        app.push_screen(IncidentScreen(incident_id))  # Esc from the dialog's screen comes back here
    if where == "timeline":
        app.push_screen(TimelineScreen(incident_id, reopen=dialog))
    elif where == "report":
        app.push_screen(ReportTextsScreen(incident_id, reopen=dialog.partition(":")[2]))
    elif where == "response":
        app.push_screen(ResponseScreen(incident_id, reopen=dialog))
    elif where == "export":
        app.call_later(app.open_export, incident_id)
    elif where == "bundle":
        app.call_later(app.open_bundle, "export", incident_id)
    elif where == "triage":  # the triage screen offers its draft back itself (once the incident is up)
        app.call_later(app.open_triage, incident_id, dialog if dialog == "support" else None)
    elif where == "incident" and dialog == "drill":
        app.mark_drill_dialog(incident_id)
    elif where == "incident" and dialog.startswith("call:"):
        _, party, person = (dialog.split(":", 2) + ["", ""])[:3]
        profile = app.store.profile
        labels = {p["id"]: p["label"] for p in (*profile.roles, *profile.outside_bodies)}
        call_party(app, incident_id, party, labels.get(party, party), screen="incident", person_id=person or None)
    else:
        app.notify("この書きかけを開く画面が分かりません", severity="warning")




class IncidentScreen(StyledAtMount, Screen):
    KEYS_SCREEN = "incident"
    BINDINGS = bindings("incident")  # screens/commands.py

    def action_export(self) -> None:
        """報告様式1 (or the committee summary) as PDF: the export dialog."""
        self.app.open_export(self.incident_id)

    def action_report_texts(self) -> None:
        """Write the free-text parts of 報告様式1 (cause, damage, measures …) before export."""
        self.app.open_report_texts(self.incident_id)

    def action_call(self) -> None:
        """Call anyone about this incident: choose the role, then who to call now, then log the call."""
        from screens.form import PickerScreen
        from screens.roster import call_party

        profile = self.app.store.profile
        parties = [(r["label"], r["id"]) for r in profile.roles] + [(b["label"], b["id"]) for b in profile.outside_bodies]
        labels = dict((pid, label) for label, pid in parties)

        def picked(party: str | None) -> None:
            if party:
                call_party(self.app, self.incident_id, party, labels[party], lambda *_: self.action_reload())

        self.app.push_screen(PickerScreen(parties, "どの役割に電話しますか"), picked)

    def action_drafts(self) -> None:
        """Open the dialog of the incident's unsaved text (one: at once; more: choose)."""
        from screens.form import PickerScreen

        drafts = self._drafts
        if not drafts:
            self.notify("書きかけのメモ・入力はありません", markup=False)
            return
        if len(drafts) == 1:
            reopen_draft(self.app, drafts[0])
            return
        by_id = {d["id"]: d for d in drafts}
        choices = [(f"{short_time(d.get('updated_at'))} {draft_what(d)}: {draft_text(d, 50)}", d["id"]) for d in drafts]
        self.app.push_screen(PickerScreen(choices, "どの書きかけを開きますか"),
                             lambda chosen: chosen and reopen_draft(self.app, by_id[chosen]))

    def action_response(self) -> None:
        self.app.open_response(self.incident_id)

    def action_drill(self) -> None:
        """k: mark the incident a drill (訓練), or take the mark back (each a new entry)."""
        self.app.mark_drill_dialog(self.incident_id, self.action_reload)

    def action_drill_review(self) -> None:
        """v: the review (講評) of a drill as PDF."""
        self.app.drill_review(self.incident_id)

    def action_timeline(self) -> None:
        from screens.timeline import TimelineScreen

        self.app.push_screen(TimelineScreen(self.incident_id))

    def action_triage(self) -> None:
        self.app.open_triage(self.incident_id)

    def action_copy_id(self) -> None:
        """Ctrl+C: the incident's number to the clipboard (screens/intake.copy_incident_id)."""
        from screens.intake import copy_incident_id

        self.notify(copy_incident_id(self.app, self.incident_id), title="番号をコピー", markup=False)

    def __init__(self, incident_id: str) -> None:
        super().__init__()
        self.incident_id = incident_id
        self._drafts: list[dict[str, Any]] = []
        self._read_at_mount = False  # on_mount read the record: the resume that follows it does not again

    def compose(self) -> ComposeResult:
        yield DeskHeader()
        banner = Folded("", id="incident-drafts")
        banner.styles.color = "yellow"
        banner.styles.text_style = "bold"
        banner.styles.padding = (0, 1)
        banner.display = False
        yield banner
        with VerticalScroll(id="incident-view"):
            yield IndentedText(id="incident-text")
        yield DeskFooter()

    def on_screen_resume(self) -> None:
        if self._read_at_mount:  # opened: on_mount has just read it (the record was read twice)
            self._read_at_mount = False
            return
        self.action_reload()

    def on_mount(self) -> None:
        self.action_reload()
        self._read_at_mount = True
        self.query_one("#incident-view").focus()
        self.set_interval(WATCH_SECONDS, self._watch)

    def _watch(self) -> None:
        """Another desk (or the CLI) appended to this record: show it."""
        if self.app.store.incident_stamp(self.incident_id) != self._stamp:
            self.action_reload()

    def action_reload(self) -> None:
        store = self.app.store
        self._stamp = store.incident_stamp(self.incident_id)
        try:
            inc = store.incident(self.incident_id)
            lines = chrome_lines(incident_text_lines(store.profile, inc, exchange_lines(store, inc)),
                                 intake_labels(store.profile))
        except DomainError as err:
            lines = [str(err)]
        self.query_one("#incident-text", IndentedText).show(printable("\n".join(lines)))
        self._show_drafts()

    def _show_drafts(self) -> None:
        """Say which of the incident's dialogs hold text not on the record yet."""
        try:
            self._drafts = dialog_drafts_of(self.app.store, self.incident_id)
        except (DomainError, OSError):
            self._drafts = []
        banner = self.query_one("#incident-drafts", Folded)
        banner.display = bool(self._drafts)
        if not self._drafts:
            return
        newest = self._drafts[0]
        what = "・".join(dict.fromkeys(draft_what(d) for d in self._drafts))
        count = f" {len(self._drafts)} 件" if len(self._drafts) > 1 else f"（{draft_label(newest)}）"
        banner.say(f"書きかけの{what}があります{count}。まだ記録していません: "
                   f"{short_time(newest.get('updated_at'))} {newest.get('operator', '')} 「{draft_text(newest, 40)}」"
                   " — d で開くと続きを書けます")

"""インシデントの表示: the intake items and the whole time-ordered record (read-only)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from csirt_tui.errors import DomainError
from csirt_tui.textsafe import printable
from csirt_tui.views import incident_text_lines
from screens.timeline import WATCH_SECONDS


class IncidentScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "戻る"),
        Binding("r", "reload", "更新"),
        Binding("t", "triage", "トリアージ"),
        Binding("l", "timeline", "記録 (メモ・訂正)"),
        Binding("o", "response", "対応の記録"),
        Binding("c", "call", "電話する (名簿)"),
        Binding("p", "export", "報告書 (PDF)"),
        Binding("e", "report_texts", "報告書の記載"),
    ]

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

    def action_response(self) -> None:
        self.app.open_response(self.incident_id)

    def action_timeline(self) -> None:
        from screens.timeline import TimelineScreen

        self.app.push_screen(TimelineScreen(self.incident_id))

    def action_triage(self) -> None:
        self.app.open_triage(self.incident_id)

    def __init__(self, incident_id: str) -> None:
        super().__init__()
        self.incident_id = incident_id

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="incident-view"):
            yield Static("", id="incident-text", markup=False)
        yield Footer()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def on_mount(self) -> None:
        self.action_reload()
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
            lines = incident_text_lines(store.profile, store.incident(self.incident_id))
        except DomainError as err:
            lines = [str(err)]
        self.query_one("#incident-text", Static).update(printable("\n".join(lines)))

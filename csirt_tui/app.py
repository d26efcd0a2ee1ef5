"""The Textual application: joins the core (store, profile) to the screens."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Callable

from textual.app import App
from textual.binding import Binding

from .errors import DomainError
from .resources import assets_dir
from .store import Store, resolve_store_dir


BACKUP_DELAY = 3.0  # seconds after start


class CsirtDeskApp(App):
    """csirt-desk: the incident desk."""

    CSS_PATH = str(assets_dir() / "desk.tcss")
    BINDINGS = [
        Binding("ctrl+q", "quit", "終了", priority=True),
        Binding("ctrl+n", "new_intake", "新規受付", priority=True),
        Binding("ctrl+r", "roster", "連絡先名簿", priority=True),
    ]

    def __init__(self, store: Store, *, operator: str, clock: Callable[[], datetime] | None = None,
                 backups: bool = True) -> None:
        super().__init__()
        self.store = store
        self.operator = operator
        self.clock = clock or store.now
        self.backups = backups
        profile = store.profile
        poc = profile.poc
        self.title = f"csirt-desk — {profile.name}"
        ext = f" 内線{poc['extension']}" if poc.get("extension") else ""
        self.sub_title = f"PoC {poc.get('hours_label', '')}{ext}  操作者: {operator}"

    def on_mount(self) -> None:
        from screens.dashboard import DashboardScreen

        self.push_screen(DashboardScreen())
        if self.backups:
            # a full copy: start it once the dashboard is up, not during the first paint
            self.set_timer(BACKUP_DELAY, self._backup_on_open)
        drafts = self.store.list_drafts()
        if drafts:  # a call was cut by a crash or a closed terminal: offer to go on with it
            from screens.resume import ResumeDraftScreen

            self.push_screen(ResumeDraftScreen(drafts), self._resume_answer)

    def _backup_on_open(self) -> None:
        self.run_worker(lambda: self.store.backup("open"), thread=True, exit_on_error=False)

    def _resume_answer(self, draft_id: str | None) -> None:
        if draft_id:
            self.open_draft(draft_id)

    def action_new_intake(self) -> None:
        from screens.intake import IntakeScreen

        if isinstance(self.screen, IntakeScreen):
            return  # already taking a call
        self.push_screen(IntakeScreen())

    def action_roster(self) -> None:
        from screens.roster import RosterScreen

        if not isinstance(self.screen, RosterScreen):
            self.push_screen(RosterScreen())

    def open_triage(self, incident_id: str) -> None:
        from screens.triage import TriageScreen

        try:
            self.push_screen(TriageScreen(incident_id))
        except DomainError as err:
            self.notify(str(err), severity="error", markup=False)

    def open_response(self, incident_id: str) -> None:
        from screens.response import ResponseScreen

        self.push_screen(ResponseScreen(incident_id))

    def open_export(self, incident_id: str | None = None, kind: str | None = None) -> None:
        """The report export dialog (報告様式1 of ``incident_id``, or the committee summary)."""
        from screens.export import ExportScreen

        if isinstance(self.screen, ExportScreen):
            return
        self.push_screen(ExportScreen(incident_id, kind))

    def open_report_texts(self, incident_id: str) -> None:
        """The free-text parts of 報告様式1 (cause, damage, measures …), each save on the record."""
        from screens.export import ReportTextsScreen

        try:
            self.store.incident(incident_id)
        except DomainError as err:
            self.notify(str(err), severity="error", markup=False)
            return
        self.push_screen(ReportTextsScreen(incident_id))

    def _current_incident(self, screen) -> str | None:
        """The incident the operator is looking at: the open one, or the dashboard's highlighted row."""
        incident_id = getattr(screen, "incident_id", None)
        if incident_id:
            return incident_id
        from screens.dashboard import DashboardScreen, _cursor_key

        if isinstance(screen, DashboardScreen):
            return _cursor_key(screen.query_one("#incidents"))
        return None

    def action_export_report(self, screen=None) -> None:
        incident_id = self._current_incident(screen or self.screen)
        if not incident_id:
            self.notify("インシデントを選ぶか開いてから出力してください（委員会向け集計はインシデント不要）",
                        severity="warning", markup=False)
            return
        self.open_export(incident_id)

    def action_report_texts(self, screen=None) -> None:
        incident_id = self._current_incident(screen or self.screen)
        if not incident_id:
            self.notify("インシデントを選ぶか開いてから編集してください", severity="warning", markup=False)
            return
        self.open_report_texts(incident_id)

    def open_draft(self, draft_id: str) -> None:
        from screens.intake import IntakeScreen

        try:
            draft = self.store.load_draft(draft_id)
        except DomainError as err:
            self.notify(str(err), severity="error", markup=False)
            return
        self.push_screen(IntakeScreen(draft))

    def now(self) -> datetime:
        return self.clock()

    def get_system_commands(self, screen):
        from textual.app import SystemCommand

        yield SystemCommand("新規受付", "電話・メールなどの通報を受け付ける (Ctrl+N)", self.action_new_intake)
        yield SystemCommand("連絡先名簿", "役割・担当者・今だれに電話するか (Ctrl+R)", self.action_roster)
        yield SystemCommand("更新", "一覧を読み直す", lambda: screen.run_action("refresh"))
        yield SystemCommand("全件 / 対応中のみ", "収束・非インシデントも表示するか切り替える",
                            lambda: screen.run_action("toggle_all"))
        yield SystemCommand("報告書 (PDF) を出力", "報告様式1（発生報告・収束報告）を PDF に (インシデント画面の p)",
                            lambda: self.action_export_report(screen))
        yield SystemCommand("報告書の記載を編集", "原因・被害・再発防止策など報告様式1の記載 (インシデント画面の e)",
                            lambda: self.action_report_texts(screen))
        yield SystemCommand("委員会向け集計 (PDF)", "期間を指定して委員会向けの集計を PDF に",
                            lambda: self.open_export(None, "summary"))
        yield SystemCommand("バックアップ", "今すぐストアのバックアップを作る", self.action_backup)
        yield SystemCommand("終了", "csirt-desk を終了する", self.exit)
        yield from super().get_system_commands(screen)

    def action_backup(self) -> None:
        def work():
            path = self.store.backup("manual")
            self.call_from_thread(self.notify, f"バックアップを作成しました: {path.name}", markup=False)

        self.run_worker(work, thread=True, exit_on_error=False)


def run_app(*, store_dir: str | None, profile: str | None, operator: str) -> int:
    try:
        store = Store.open(resolve_store_dir(store_dir), profile=profile)
    except DomainError as err:
        print(f"csirt-desk: {err}", file=sys.stderr)
        return 1
    app = CsirtDeskApp(store, operator=operator)
    app.run()
    if app.backups:
        try:
            store.backup("close")
        except DomainError as err:  # the session's work is already saved
            print(f"csirt-desk: バックアップできませんでした: {err}", file=sys.stderr)
    return app.return_code or 0

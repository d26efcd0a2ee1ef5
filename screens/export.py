"""報告書の出力 (PDF): the export dialog and the editor of the report's free-text parts.

The dialog asks what to make (報告様式1 発生報告 / 収束報告, or the committee
summary for a period), where to write it (the store's reports/ folder by
default) and the password. A report of 機密性2 or above is encrypted unless
the operator writes why not (the reason goes on the record). The PDF is made
in a thread worker with a progress bar; a failure (disk full, no permission,
a folder instead of a file …) is shown in plain words in the dialog, which
stays open so the operator can fix it.

The password is only ever in the two password inputs and in the worker's
local variables while the PDF is encrypted: it is not put on the screen's
attributes, not logged, and the inputs are emptied when the dialog closes.

「記載の編集」: the handler writes the free-text parts of 報告様式1 (原因、被害、
再発防止策 …) before export; each save is a new "report" entry on the record,
the text kept exactly as typed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, ProgressBar, RadioButton, RadioSet, Static, TextArea
from textual.widgets.option_list import Option

from csirt_tui.cells import narrow
from csirt_tui.draftsave import plain_problem
from csirt_tui.errors import DomainError
from csirt_tui.textsafe import one_line, printable
from csirt_tui.timeparse import TimeParseError, parse_day, to_wareki
from screens.chrome import OneLine
from screens.form import DraftedDialog, DraftKey, DraftStatus, PickerScreen, SafeInput, SafeTextArea
from screens.commands import bindings
from screens.opening import StyledAtMount
from screens.safe_input import PasswordInput

# What the dialog can make: (id, label). The first two are 報告様式1 variants
# (csirt_tui.report.content.VARIANTS); "summary" is the committee summary.
KIND_CHOICES: list[tuple[str, str]] = [
    ("occurrence", "報告様式1 発生報告"),
    ("closure", "報告様式1 収束報告"),
    ("summary", "集計（期間を指定）"),  # named after the profile's addressee: ExportScreen._choices
]
SUMMARY = "summary"
# The review (講評) of a drill: offered for a drill only (csirt_tui.report.drillreview).
DRILL_REVIEW = "drill_review"
DRILL_REVIEW_CHOICE = (DRILL_REVIEW, "【訓練】訓練の講評（シナリオの期待と記録、時間）")
BLANK = "（未記入・手書き欄になります）"
WEEKDAYS = "月火水木金土日"


def fiscal_year_start(today: date) -> date:
    """The first day of the Japanese fiscal year (年度, April–March) holding ``today``."""
    return date(today.year if today.month >= 4 else today.year - 1, 4, 1)


def _date_text(d: date) -> str:
    return f"{d.year}/{d.month}/{d.day}"


def _date_preview(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日({WEEKDAYS[d.weekday()]})"


def plain_error(err: BaseException, path: str) -> str:
    """An error from the export in plain words (never a traceback)."""
    if isinstance(err, DomainError):  # ReportError and the store's errors already say it plainly
        return str(err)
    if isinstance(err, OSError):
        from csirt_tui.fileout import plain_os_error

        where = Path(err.filename) if getattr(err, "filename", None) else Path(path or ".")
        return plain_os_error(err, where, "pdf")
    if isinstance(err, MemoryError):
        return "メモリが足りないため報告書を作れませんでした"
    return f"報告書を作れませんでした（{type(err).__name__}: {err}）"


class ExportScreen(DraftedDialog):  # styled once as it opens: DraftedDialog is StyledAtMount
    """Export a report. Returns the ExportResult, or None when cancelled.

    What the operator types here (the reason not to encrypt, a path of their own) is a draft
    as in every dialog (issue 14, defect 4): Esc asks before it is discarded, Ctrl+O keeps it
    elsewhere, opened again it is offered back. Passwords are never part of it."""

    KEYS_SCREEN = "export"
    BINDINGS = bindings("export")  # screens/commands.py
    AUTO_FOCUS = ""  # on_mount focuses the password (Textual's auto focus on the kind first restyled both twice)
    DRAFT_WHAT = "入力 (暗号化しない理由・保存先)"

    def __init__(self, incident_id: str | None = None, kind: str | None = None) -> None:
        super().__init__(DraftKey("form", incident_id, "export" if incident_id else "export:summary", "export"))
        self.incident_id = incident_id
        self.kind = kind or ("occurrence" if incident_id else SUMMARY)
        if not incident_id:
            self.kind = SUMMARY
        self.working = False
        self._pages = 0
        self._auto_path = ""          # the path we filled in (replaced when the kind changes)
        self.result = None
        self._marks: dict[str, tuple[str, bool]] = {}
        self._overwrite = ""          # the existing file the operator said yes to writing over
        self._waive_asked: str | None = None  # a reason that looked like a password, asked about once
        self._is_drill = False
        self._period_fields: dict[str, Any] = {}  # the summary's period (_period_box), once made

    # ------------------------------------------------------------ layout
    def _summary_label(self) -> str:
        """The summary's name in the profile's wording (委員会向け集計 only where it goes to a 委員会)."""
        from csirt_tui.report.summary import summary_label

        return summary_label(self.app.store.profile)

    def _choices(self) -> list[tuple[str, str]]:
        kinds = [(k, f"{self._summary_label()}（期間を指定）" if k == SUMMARY else label) for k, label in KIND_CHOICES]
        if not self.incident_id:
            return [c for c in kinds if c[0] == SUMMARY]
        return kinds + ([DRILL_REVIEW_CHOICE] if self._is_drill else [])

    def compose(self) -> ComposeResult:
        store = self.app.store
        incident = None
        if self.incident_id:
            try:
                incident = store.incident(self.incident_id)
            except DomainError:
                incident = None
        if incident is not None and self.kind == "occurrence" and incident.status != "open":
            self.kind = "closure"
        self._is_drill = bool(incident is not None and incident.drill)
        if self.kind == DRILL_REVIEW and not self._is_drill:
            self.kind = "occurrence"
        # scrolls: at 80x24 the buttons were below the screen (issue 15)
        with VerticalScroll(id="export-box", can_focus=False):
            title = (f"報告書を PDF で出力: {self.incident_id}" if self.incident_id
                     else f"{self._summary_label()}を PDF で出力")
            if self._is_drill:
                title = "【訓練】" + title
            yield Label(printable(title), classes="saved-title", markup=False)
            if incident is not None:
                about = one_line(f"{incident.intake.get('place') or ''} {incident.intake.get('what') or ''}")
                yield OneLine(about, classes="intro one-line")
            yield Label("種類", classes="export-label")
            with RadioSet(id="export-kind"):
                for kid, label in self._choices():
                    yield RadioButton(Text(label), value=(kid == self.kind), name=kid)
            if self.kind == SUMMARY:  # else made when the summary is chosen (_kind_changed)
                yield self._period_box()
            yield Label("保存先", classes="export-label")
            yield SafeInput("", id="export-path", compact=True)
            yield Static("", id="export-class", markup=False)
            with Horizontal(classes="export-row"):
                yield Label("パスワード", classes="export-key")
                yield PasswordInput("", id="export-password", compact=True,
                            placeholder="PDF を開くときのパスワード（記録には残りません）")
            with Horizontal(classes="export-row"):
                yield Label("確認", classes="export-key")
                yield PasswordInput("", id="export-confirm", compact=True, placeholder="もう一度")
            rule = store.profile.data.get("outside_permission")
            if rule:  # 水戸 3(2)ケ(イ): a report given outside needs a permission (no other profile has it)
                with Vertical(id="export-outside-box"):
                    yield Label("外部に提供する場合の提供先（総務省・警察など。庁内だけなら空欄）", classes="export-label")
                    yield SafeInput("", id="export-recipient", compact=True)
                    yield Label(f"外部への提供を許可した{self._permission_role()}（{rule['source']}）",
                                classes="export-label")
                    yield SafeInput("", id="export-permitted", compact=True)
            with Vertical(id="export-waive-box"):
                yield Label("暗号化しない理由（パスワードなしで出力する場合。記録に残ります）", classes="export-label")
                yield SafeInput("", id="export-waive", compact=True, placeholder="例: 庁内の施錠された端末でのみ扱うため")
            status = DraftStatus(id="draft-status")
            status.display = False  # shown when there is something to say (a question, a refused write)
            yield status
            yield Static("", id="export-message", markup=False)
            # the progress bar is made when an export starts (_start): hidden, its animation
            # still refreshed it 15 times a second while the dialog was open
            working = Horizontal(id="export-working")
            working.display = False
            yield working
            with Horizontal(classes="buttons"):
                yield Button("出力 (Ctrl+S)", id="export-go", variant="primary", compact=True)
                yield Button("記載の編集 (F2)", id="export-edit", compact=True)
                yield Button("やめる (Esc)", id="export-cancel", compact=True)
            yield Static("", id="export-hint", classes="hint", markup=False)

    def _period_box(self) -> Vertical:
        """The summary's period. Made only for the summary: an incident's dialog opened with its 7
        widgets hidden, each styled as the dialog opened (issue 15: every screen open <= 150 ms)."""
        today = self.app.now().date()
        start = SafeInput(_date_text(fiscal_year_start(today)), id="export-from", compact=True, classes="export-date")
        end = SafeInput(_date_text(today), id="export-to", compact=True, classes="export-date")
        preview = Static("", id="export-period-preview", classes="preview", markup=False)
        # (held here: mounted as the summary is chosen, they are not in the DOM until the next refresh)
        self._period_fields = {"#export-from": start, "#export-to": end, "#export-period-preview": preview}
        self._period_opened = [start.value, end.value]
        return Vertical(
            Horizontal(Label("期間", classes="export-key"), start, Label(" 〜 ", classes="export-sep"), end,
                       classes="export-row"),
            preview, id="export-period")

    def _typed(self, wid: str) -> str:
        """What a field holds; "" for one the dialog does not have (the outside box but for 水戸)."""
        fields = self.query(wid)
        return fields.first(Input).value if fields else ""

    def _permission_role(self) -> str:
        from csirt_tui.outside import role_label

        return role_label(self.app.store.profile)

    def on_mount(self) -> None:
        self._kind_changed()
        self._period_preview()
        # the path is filled in already: what the operator types first is the password; at 80x24
        # it is shown in the middle, the buttons below it (scrolled once the dialog is laid out)
        password = self.query_one("#export-password", Input)
        password.focus(scroll_visible=False)
        self.call_after_refresh(self.scroll_to_center, password, animate=False, origin_visible=True)
        self.start_drafts()

    # ------------------------------------------------------------ the draft (DraftedDialog)
    def draft_values(self) -> dict[str, Any]:
        values = {"waive": self.query_one("#export-waive", Input).value,
                  "path": self.query_one("#export-path", Input).value,
                  "recipient": self._typed("#export-recipient"), "permitted": self._typed("#export-permitted")}
        # the summary's period, once typed (as it opened, the fiscal year so far, it is nothing typed;
        # one Esc closed the dialog and the period typed was gone)
        period = self._period_typed()
        if period is not None:
            values["period"] = period
        return values

    def _period_typed(self) -> list[str] | None:
        fields = self._period_fields
        if not fields:
            return None
        typed = [fields["#export-from"].value, fields["#export-to"].value]
        return typed if typed != self._period_opened else None

    _period_opened: list[str] | None = None  # the period's texts as the box was made (_period_box)

    def load_draft_values(self, values: dict[str, Any]) -> None:
        for key, wid in (("waive", "#export-waive"), ("path", "#export-path"), ("recipient", "#export-recipient"),
                         ("permitted", "#export-permitted")):
            if isinstance(values.get(key), str):
                for field in self.query(wid).results(Input):  # (the outside box: 水戸 only)
                    field.value = values[key]
        period = values.get("period")
        if self._period_fields and isinstance(period, list) and len(period) == 2 \
                and all(isinstance(text, str) for text in period):
            self._period_fields["#export-from"].value, self._period_fields["#export-to"].value = period

    def draft_fields(self) -> list[tuple[str, Any]]:
        values = self.draft_values()
        return [("暗号化しない理由", values["waive"]), ("保存先", values["path"]), ("提供先", values["recipient"]),
                ("提供を許可した者", values["permitted"])]

    def draft_title(self) -> str:
        return f"報告書の出力 ({self.incident_id})" if self.incident_id else f"{self._summary_label()}の出力"

    # ------------------------------------------------------------ state
    def _mark(self) -> tuple[str, bool]:
        """(classification mark, encryption required) for the chosen kind (read once per kind)."""
        key = SUMMARY if self.kind == SUMMARY else "form1"
        if key not in self._marks:
            self._marks[key] = self._read_mark()
        return self._marks[key]

    def _read_mark(self) -> tuple[str, bool]:
        from csirt_tui.report.content import classification_of

        store = self.app.store
        incident = None
        if self.kind != SUMMARY and self.incident_id:
            try:
                incident = store.incident(self.incident_id)
            except DomainError:
                incident = None
        return classification_of(store.profile, incident)

    def _period(self) -> tuple[date, date]:
        """The summary period as typed (raises ValueError with a plain message)."""
        now = self.app.now()
        out = []
        for wid, name in (("#export-from", "期間の始め"), ("#export-to", "期間の終わり")):
            text = self._period_fields[wid].value
            if not text.strip():
                raise ValueError(f"{name}を入力してください")
            try:
                out.append(parse_day(text, now))
            except TimeParseError as err:
                raise ValueError(f"{name}: {one_line(str(err))}") from None
        start, end = out
        if start > end:
            raise ValueError("期間の始めが終わりより後になっています")
        return start, end

    def _default_path(self) -> str:
        from csirt_tui.report.names import default_report_path, form1_filename, review_filename

        store = self.app.store
        now = self.app.now()
        try:
            if self.kind == SUMMARY:
                try:
                    start, end = self._period()
                except ValueError:
                    start = end = now.date()
                from csirt_tui.report.summary import summary_filename

                name = summary_filename(start, end, now, store.profile)
            elif self.kind == DRILL_REVIEW:
                name = review_filename(self.incident_id, now)
            else:
                name = form1_filename(self.incident_id, self.kind, now)
            return str(default_report_path(store, name))
        except OSError:  # reports/ could not be made: the operator types a path
            return ""

    def _refresh_path(self) -> None:
        path = self.query_one("#export-path", Input)
        if path.value in ("", self._auto_path):
            self._auto_path = self._default_path()
            path.value = self._auto_path
            path.cursor_position = len(path.value)

    def _kind_changed(self) -> None:
        if self.kind == SUMMARY and not self._period_fields:
            self.query_one("#export-box").mount(self._period_box(), after="#export-kind")
            self._period_preview()
        for box in self.query("#export-period"):
            box.display = self.kind == SUMMARY
        for box in self.query("#export-outside-box"):
            box.display = self.kind != SUMMARY
        self.query_one("#export-edit", Button).display = self.kind != SUMMARY
        self.query_one("#export-hint", Static).update(
            "Enter / Ctrl+S 出力   " + ("" if self.kind == SUMMARY else "F2 原因・被害・対策などの記載   ")
            + "Esc やめる   Tab 次の項目")
        self._refresh_path()
        self._show_class()

    def _show_class(self) -> None:
        mark, required = self._mark()
        note = self.query_one("#export-class", Static)
        password = self.query_one("#export-password", Input).value
        if required:
            source = self.app.store.profile.send_rule["source"]  # 水戸 3(2)キ, or the desk's rule (issue 16)
            note.update(printable(f"{mark}: 暗号化が必要です（{source}）"
                                  + ("" if password else "\n-> パスワードを指定するか、暗号化しない理由を記入してください")))
        else:
            note.update(printable(f"{mark}: 暗号化は任意です（パスワードを指定すれば暗号化します）"))
        note.set_class(required, "required")
        waive = self.query_one("#export-waive-box")
        if waive.display != (required and not password):
            waive.display = required and not password

    def _say(self, message: str, *, error: bool = True) -> None:
        box = self.query_one("#export-message", Static)
        box.update(printable(message))
        box.set_class(error and bool(message), "error")

    @on(RadioSet.Changed, "#export-kind")
    def _kind_chosen(self, event: RadioSet.Changed) -> None:
        self.kind = event.pressed.name or self.kind
        self._say("")
        self._kind_changed()

    @on(Input.Changed, "#export-password")
    def _password_changed(self) -> None:
        self._show_class()

    @on(Input.Changed, "#export-from")
    @on(Input.Changed, "#export-to")
    def _period_preview(self) -> None:
        target = self._period_fields.get("#export-period-preview")
        if target is None:  # an incident's report: no period (_period_box)
            return
        try:
            start, end = self._period()
        except ValueError as err:
            shown, error = "✘ " + one_line(str(err)), True
        else:
            shown, error = f"-> {_date_preview(start)} 〜 {_date_preview(end)}（{to_wareki(start)} 〜 {to_wareki(end)}）", False
        target.set_class(error, "error")
        if shown != target.content:  # the dates' first Changed, after on_mount showed them: no layout again
            target.update(shown)
        if error:
            return
        if self.kind == SUMMARY:
            self._refresh_path()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_export()

    @on(Button.Pressed, "#export-go")
    def _go(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#export-edit")
    def _edit(self) -> None:
        self.action_edit_texts()

    @on(Button.Pressed, "#export-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    # ------------------------------------------------------------ export
    def action_export(self) -> None:
        if self.working:
            return
        password = self.query_one("#export-password", Input).value
        confirm = self.query_one("#export-confirm", Input).value
        waive = self.query_one("#export-waive", Input).value
        path = self.query_one("#export-path", Input).value
        if (password or confirm) and password != confirm:
            self._say("パスワードが確認欄と一致しません。もう一度入力してください" if confirm and password
                      else "パスワードを「パスワード」と「確認」の両方に入力してください")
            self.query_one("#export-confirm" if not confirm else "#export-password", Input).focus()
            return
        if not path.strip():
            self._say("保存先を指定してください")
            self.query_one("#export-path", Input).focus()
            return
        from csirt_tui.report.export import encryption_problem, reason_looks_like_a_password

        mark, required = self._mark()
        problem = encryption_problem(required, password, waive, mark, self.app.store.profile)
        if problem:
            self._say(problem)
            self.query_one("#export-password", Input).focus()
            return
        if not password and reason_looks_like_a_password(waive) and self._waive_asked != waive:
            # asked once (not echoed): Ctrl+S again with the same text exports without a password
            self._waive_asked = waive
            self._say("「暗号化しない理由」に入力した文字はパスワードのように見えます。理由は記録に残り、PDF は"
                      "暗号化されません。パスワードなら「パスワード」と「確認」に入力してください。"
                      "理由のとおりなら、もう一度 Ctrl+S（出力）を押してください")
            self.query_one("#export-waive", Input).focus()
            return
        target = str(Path(path.strip()).expanduser())
        force = self._overwrite == target
        if Path(target).is_file() and not force:
            # ask before writing over a file (Enter or Ctrl+S again says yes)
            self._overwrite = target
            self._say(f"{target} は既にあります。上書きするなら、もう一度 Ctrl+S（出力）を押してください。"
                      "別の名前にもできます")
            self.query_one("#export-path", Input).focus()
            return
        job: dict[str, Any] = {"kind": self.kind, "path": path, "waive": "" if password else waive,
                               "force": force, "recipient": "", "permitted": ""}
        if self.kind != SUMMARY and any(box.display for box in self.query("#export-outside-box")):
            job["recipient"] = self._typed("#export-recipient")
            job["permitted"] = self._typed("#export-permitted")
            if job["recipient"].strip() and not job["permitted"].strip():
                self._say(f"外部に提供するには{self._permission_role()}の許可が要ります: 許可した者を入力してください")
                self.query_one("#export-permitted", Input).focus()
                return
        if self.kind == SUMMARY:
            try:
                job["start"], job["end"] = self._period()
            except ValueError as err:
                self._say(str(err))
                self._period_fields["#export-from"].focus()
                return
        self._start(job, password)

    def _start(self, job: dict[str, Any], password: str) -> None:
        self.working = True
        self._pages = 0
        self._say("")
        working = self.query_one("#export-working")
        if working.children:  # an export again (the last one failed)
            self.query_one("#export-progress", ProgressBar).update(total=None)
            self.query_one("#export-progress-text", Static).update("作成中...")
        else:
            working.mount(ProgressBar(total=None, show_eta=False, show_percentage=False, id="export-progress"),
                          Static("作成中...", id="export-progress-text", markup=False))
        working.display = True
        for wid in ("#export-go", "#export-edit"):
            self.query_one(wid, Button).disabled = True
        # The password goes to the worker in a one-shot box the worker empties: it is not
        # kept on the screen or in the worker object once the worker has started.
        box = [password or None]
        self.run_worker(lambda: self._make(job, box), thread=True, exclusive=True,
                        group="export", exit_on_error=False, description="報告書の出力")

    def _make(self, job: dict[str, Any], box: list[str | None]) -> None:
        """Worker thread: make the PDF, put the export on the record."""
        password = box.pop()
        app = self.app
        store, operator = app.store, app.operator

        def progress(kind: str) -> None:
            app.call_from_thread(self._progress)

        try:
            if job["kind"] == SUMMARY:
                try:
                    from csirt_tui.report.summary import export_summary
                except ImportError:
                    raise DomainError("集計の出力は、この版ではまだ使えません") from None
                result = export_summary(store, job["path"], start=job["start"], end=job["end"], operator=operator,
                                        password=password, waive_reason=job["waive"], on_progress=progress,
                                        force=job["force"])
            elif job["kind"] == DRILL_REVIEW:
                from csirt_tui.report.drillreview import export_review

                result = export_review(store, self.incident_id, job["path"], operator=operator, password=password,
                                       waive_reason=job["waive"], on_progress=progress, force=job["force"])
            else:
                from csirt_tui.report.export import export_form1

                result = export_form1(store, self.incident_id, job["path"], operator=operator, variant=job["kind"],
                                      password=password, waive_reason=job["waive"], on_progress=progress,
                                      force=job["force"], recipient=job["recipient"],
                                      permitted_by=job["permitted"])
        except Exception as err:  # shown in plain words; never a traceback, never the password
            password = None
            message = plain_error(err, job["path"])
            app.call_from_thread(self._failed, message)
            return
        password = None
        app.call_from_thread(self._finished, result, bool(job["waive"].strip()))

    def _progress(self) -> None:
        self._pages += 1
        self.query_one("#export-progress-text", Static).update(f"作成中... {self._pages} ページ目")

    def _stop_working(self) -> None:
        self.working = False
        self.query_one("#export-working").display = False
        for bar in self.query("#export-progress").results(ProgressBar):
            bar.update(total=1, progress=1)  # a bar with a total is not animated (hidden, it was redrawn 15 times a second)
        for wid in ("#export-go", "#export-edit"):
            self.query_one(wid, Button).disabled = False

    def _failed(self, message: str) -> None:
        self._stop_working()
        self._say(message)
        self.query_one("#export-path", Input).focus()

    def _finished(self, result, waived: bool = False) -> None:
        self._stop_working()
        self._clear_secrets()
        self.result = result
        how = "暗号化あり（AES-256）" if result.encrypted else (
            "暗号化なし（理由を記録しました）" if waived else "暗号化なし")
        self.app.notify(printable(f"報告書を出力しました: {result.path}\n{result.pages} ページ、{how}"),
                        title="報告書", markup=False, timeout=15)
        warning = getattr(result, "warning", None)
        if warning:
            self.app.notify(printable(warning), title="報告書のフォント", severity="warning", markup=False,
                            timeout=30)
        if self.keeper is not None:
            self.keeper.close("saved", self.incident_id)  # the reason is on the record with the export
        self.dismiss(result)

    def _clear_secrets(self) -> None:
        for wid in ("#export-password", "#export-confirm"):
            for widget in self.query(wid):
                widget.value = ""

    def action_cancel(self) -> None:
        if self.working:
            self.notify("出力中です。終わるまでお待ちください", severity="warning")
            return
        super().action_cancel()  # typed text: asks first (a second Esc discards)

    def on_unmount(self) -> None:
        super().on_unmount()  # the draft first: what follows is not typing
        self._clear_secrets()

    # ------------------------------------------------------------ the free-text parts
    def action_edit_texts(self) -> None:
        if self.working or not self.incident_id or self.kind == SUMMARY:
            return
        self.app.push_screen(ReportTextsScreen(self.incident_id))


# ---------------------------------------------------------------------------
# 記載の編集


def _parts(store, incident_id: str, now) -> dict[str, dict[str, Any]]:
    """For each REPORT_FIELDS id: {label, text (the handler's, or None), auto (lines from the record)}."""
    from csirt_tui.report.content import REPORT_FIELDS, form1_content, report_edits

    inc = store.incident(incident_id)
    edits = report_edits(inc)
    auto: dict[str, list[str]] = {}
    form = form1_content(store.profile, inc, now, "occurrence")
    for section in form.sections:
        for part in section.parts:
            if part.field:
                auto[part.field] = list(part.auto)
    if inc.type_id:  # the opening names the incident type unless the handler writes it
        types = {t["id"]: t.get("label", t["id"]) for t in store.profile.incident_types}
        auto["summary"] = [types.get(inc.type_id, inc.type_id)]
    out = {}
    for fid, label in REPORT_FIELDS.items():
        text = edits.get(fid, {}).get("text")
        out[fid] = {"label": label, "text": text, "auto": auto.get(fid, []),
                    "who": edits.get(fid, {}).get("operator"), "seq": edits.get(fid, {}).get("seq")}
    return out


class ReportTextsScreen(StyledAtMount, ModalScreen[None]):
    """The parts of 報告様式1 the handler may write: pick one (Enter) to edit it."""

    KEYS_SCREEN = "report_texts"
    BINDINGS = bindings("report_texts")  # screens/commands.py

    def __init__(self, incident_id: str, reopen: str | None = None) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.parts: dict[str, dict[str, Any]] = {}
        self._reopen = reopen  # a part to open once shown (a draft chosen on the dashboard)

    def compose(self) -> ComposeResult:
        with Vertical(id="texts-box"):
            yield Label(printable(f"報告様式1の記載: {self.incident_id}"), classes="saved-title", markup=False)
            yield Static("原因・被害・再発防止策などを書いておくと報告書に入ります（保存するたびに記録に残ります）。"
                         "空のままの欄は手書き用の空欄として印刷されます。", classes="intro", markup=False)
            yield OptionList(id="texts-list")
            yield Static("Enter 編集   Esc 閉じる", classes="hint", markup=False)

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#texts-list", OptionList).focus()
        if self._reopen:
            self.call_after_refresh(self.edit, self._reopen)

    def reload(self, keep: str | None = None) -> None:
        try:
            self.parts = _parts(self.app.store, self.incident_id, self.app.now())
        except DomainError as err:
            self.notify(one_line(str(err)), severity="error", markup=False)
            return
        lst = self.query_one("#texts-list", OptionList)
        lst.clear_options()
        threats = self.app.store.profile.threats
        for fid, p in self.parts.items():
            if fid == "cause" and threats:  # むつ ポリシー「対象とする脅威」: chosen, not typed
                lst.add_option(Option(self._threat_prompt(threats[0]["source"].split(" 対象とする脅威")[0]),
                                      id="threat"))
            prompt = Text(narrow(one_line(p["label"])), style="bold")
            if (p["text"] or "").strip():
                prompt.append("\n  " + one_line(p["text"], 80))
            elif p["auto"]:
                prompt.append("\n  記録から: " + narrow(one_line(" / ".join(p["auto"]), 70)), style="dim")
            else:
                prompt.append("\n  " + BLANK, style="dim")
            lst.add_option(Option(prompt, id=fid))
        if keep:
            lst.highlighted = lst.get_option_index(keep)
        elif lst.option_count:
            lst.highlighted = 0

    def _threat_prompt(self, source: str) -> Text:
        from csirt_tui.report.content import threat_choice

        prompt = Text(f"3 原因: 脅威の種類（{source}「対象とする脅威」から選ぶ）", style="bold")
        try:
            chosen = threat_choice(self.app.store.profile, self.app.store.incident(self.incident_id))
        except DomainError:
            chosen = None
        if chosen:
            prompt.append("\n  " + narrow(one_line(f"{chosen['label']}: {chosen['text']}", 76)))
        else:
            prompt.append("\n  " + "（選んでいません）", style="dim")
        return prompt

    @on(OptionList.OptionSelected, "#texts-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.edit(event.option.id)

    def choose_threat(self) -> None:
        """The kind of threat behind the cause: one of the rule's list, on the record when chosen."""
        from csirt_tui.report.content import set_threat, threat_choice

        store = self.app.store
        try:
            current = threat_choice(store.profile, store.incident(self.incident_id))
        except DomainError:
            current = None
        # whole: the policy's definition is what the operator chooses by (cut at 70 characters, the
        # picker 40 cells wide showed 「…情報資産の漏えい・破壊...」 even at 120 columns)
        choices = [(narrow(one_line(f"{t['label']}: {t['text']}")), t["id"]) for t in store.profile.threats]
        choices.append(("指定しない（選んだ種類を取り消す）", "__none__"))

        def chosen(tid: str | None) -> None:
            if tid is None:
                return
            try:
                entry = set_threat(store, self.incident_id, None if tid == "__none__" else tid,
                                   operator=self.app.operator)
            except (DomainError, OSError) as err:
                self.notify(one_line(plain_problem(err)), severity="error", markup=False)
                return
            self.notify(f"{entry.id} 脅威の種類を記録しました" if entry else "変更はありません（記録していません）",
                        markup=False)
            self.reload(keep="threat")

        self.app.push_screen(PickerScreen(choices, "3 原因: 脅威の種類", (current or {}).get("threat"), wide=True), chosen)

    def edit(self, fid: str) -> None:
        """Write one part: its dialog puts the text on the record before it closes."""
        if fid == "threat":
            self.choose_threat()
            return
        p = self.parts.get(fid)
        if p is None:
            return
        from csirt_tui.report.content import set_report_text

        def save(text: str):
            return set_report_text(self.app.store, self.incident_id, fid, text, operator=self.app.operator)

        self.app.push_screen(ReportTextScreen(self.incident_id, fid, p["label"], p["text"] or "", p["auto"],
                                              save=save),
                             lambda result: self._saved(fid, result))

    def _saved(self, fid: str, result: dict[str, Any] | None) -> None:
        if result is None:
            return
        entry = result.get("entry")
        if entry is None:
            self.notify("変更はありません（記録していません）", markup=False)
        else:
            self.notify(f"{entry.id} 記載を記録しました", markup=False)
        self.reload(keep=fid)

    def action_close(self) -> None:
        self.dismiss(None)


class ReportTextScreen(DraftedDialog):
    """Write one part of 報告様式1 (kept exactly as typed). ``save(text)`` puts it on the record
    while the dialog is open (it stays, with the text, if that fails). Returns {text, entry}
    or None. The text is a draft while it is typed (kind "report")."""

    KEYS_SCREEN = "form"
    BINDINGS = bindings("form", only=("submit", "cancel"), rename={"submit": "save"})  # screens/commands.py
    DRAFT_WHAT = "記載"

    def __init__(self, incident_id: str, field_id: str, label: str, text: str, auto: list[str], *,
                 save=None) -> None:
        super().__init__(DraftKey("report", incident_id, f"report:{field_id}", "report"))
        self.incident_id = incident_id
        self.field_id = field_id
        self.label = label
        self.text = text
        self.auto = auto
        self.save = save

    def compose(self) -> ComposeResult:
        with Vertical(id="text-box"):
            yield Label(printable(self.label), classes="saved-title", markup=False)
            yield DraftStatus(id="draft-status")
            if self.auto:
                intro = ("書かない場合に入る内容:" if self.field_id == "summary"
                         else "記録から自動で入る内容（ここに書いた内容はその後に続けて印刷されます）:")
                yield Static(printable(intro + "\n" + "\n".join(self.auto)), classes="auto", markup=False)
            yield SafeTextArea(self.text, id="report-text", soft_wrap=True, tab_behavior="focus")
            yield Static("Ctrl+S 保存（記録に残ります）   Esc やめる   空にして保存すると手書き欄に戻ります",
                         classes="hint", markup=False)

    def on_mount(self) -> None:
        area = self.query_one("#report-text", TextArea)
        area.focus()
        area.move_cursor(area.document.end)
        self.start_drafts()

    # the draft (DraftedDialog)
    def draft_values(self) -> dict[str, Any]:
        return {"text": self.query_one("#report-text", TextArea).text}

    def load_draft_values(self, values: dict[str, Any]) -> None:
        area = self.query_one("#report-text", TextArea)
        area.text = values.get("text") or ""
        area.move_cursor(area.document.end)

    def draft_fields(self) -> list[tuple[str, Any]]:
        return [(f"報告様式1 {self.label}", self.draft_values()["text"])]

    def draft_title(self) -> str:
        return f"報告様式1の記載「{self.label}」 ({self.incident_id})"

    def action_save(self) -> None:
        text = self.query_one("#report-text", TextArea).text
        self.record_and_return(self.save, text, {"text": text})

"""対応の記録 (response phase tracker): steps, notifications, evidence, monitoring.

Every action is a form whose answers become new timeline entries (the core
``csirt_tui.response`` and ``csirt_tui.evidence`` decide and record). The
procedure's order is advice: warnings are shown and stored, never blocking.
"""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.geometry import Region
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static

from csirt_tui import evidence as ev
from csirt_tui import outside
from csirt_tui import response as rs
from csirt_tui.cells import narrow
from csirt_tui.errors import DomainError
from csirt_tui.textsafe import one_line, printable
from csirt_tui.views import level_label, short_time, type_label
from screens.form import AskMore, DraftKey, Field, FormScreen, Pending
from screens.chrome import DeskHeader, SteadyStatic, pad
from screens.commands import bindings
from screens.footer import DeskFooter
from screens.opening import StyledAtMount

STEP_AHEAD_IDLE = 1.0  # seconds with no key, the tracker in front: the step form is made ahead (prepare_step)
STEP_AHEAD_RETRY = 0.5  # seconds between two looks for such a pause
STEP_OPTIONS = [(label, key) for key, label in rs.STEP_STATUSES.items()]
STOP_OPTIONS = [(label, key) for key, label in rs.SYSTEM_STOP_LABELS.items()]


class ResponseBody(VerticalScroll):
    """The tracker's scrolled body. Its height changes with the detail below it (the text of the
    row under the cursor): then the cursor row is brought into view again."""

    def on_resize(self) -> None:
        if isinstance(self.screen, ResponseScreen):
            self.screen._cursor_in_view()


def _interim_rows(text: str) -> list[dict[str, str]]:
    """代替措置の実施, one 「業務: 措置」 a line (the colon half- or full-width). A line that is not
    so is refused, named, and stays in the form: lines without 「:」 were dropped without a word
    (「窓口業務：紙の申請書で受付」, typed with the Japanese colon, was not on the record)."""
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        cut = min((i for i in (line.find(":"), line.find("：")) if i >= 0), default=-1)  # the first colon
        business, measure = (line[:cut], line[cut + 1:]) if cut >= 0 else ("", "")
        if not business.strip() or not measure.strip():
            raise DomainError(f"代替措置の実施: 「{one_line(line.strip(), 40)}」は「業務: 措置」の形で、1行に1つ入力してください")
        rows.append({"business": business.strip(), "measure": measure.strip()})
    return rows


class ResponseScreen(StyledAtMount, Screen):
    KEYS_SCREEN = "response"
    BINDINGS = bindings("response")  # screens/commands.py
    AUTO_FOCUS = ""  # on_mount focuses the steps: the body's scroll container first restyled it all

    def __init__(self, incident_id: str, reopen: str | None = None) -> None:
        super().__init__()
        self.incident_id = incident_id
        self._reopen = reopen  # a form to open once shown (a draft chosen on the dashboard)
        self._shown = False
        self._follow_later = False  # a look at the cursor row after a scroll under way (_cursor_in_view)

    def compose(self) -> ComposeResult:
        yield DeskHeader()
        yield Static("", id="response-heading", markup=False)
        with ResponseBody(id="response-body"):
            yield Label("対応の手順 (s / Enter で状態を記録)", classes="section-title")
            yield DataTable(id="steps", cursor_type="row", zebra_stripes=True, show_header=False)
            yield Label("連絡・通知 (d 連絡済み / x 不要 / a 追加)", classes="section-title")
            yield DataTable(id="notifs", cursor_type="row", show_header=False)
            yield Label("証拠 (e 登録 / h 受け渡し)", classes="section-title")
            yield DataTable(id="evidence", cursor_type="row", show_header=False)
        with Vertical(id="response-detail"):
            yield SteadyStatic("", id="response-info", markup=False)
        # its keys as it mounts, drawn with the first paint (screens/footer.py): built after the
        # bindings signal, they took ~30-50 ms CPU just after that paint (two more layouts of the
        # tracker), and an `s` pressed then waited for them (issue 15: the step form built at `s`)
        yield DeskFooter(at_mount=True)

    def on_mount(self) -> None:
        for wid in ("#steps", "#notifs", "#evidence"):
            self.query_one(wid, DataTable).add_column("", key="row")
        self.reload()
        self.query_one("#steps", DataTable).focus(scroll_visible=False)  # (scrolled into view, the table hid its section title)
        if self._reopen:
            self.call_after_refresh(self.reopen, self._reopen)
        self._shown_at = time.monotonic()
        self.set_interval(STEP_AHEAD_RETRY, self.prepare_step)

    def on_screen_resume(self) -> None:
        if not self._shown:  # the first resume follows the mount, which has just loaded the record
            self._shown = True
            return
        self.reload()  # back from a form or a dialog: what it recorded

    # ------------------------------------------------------------ data
    def reload(self) -> None:
        store = self.app.store
        profile = store.profile
        now = self.app.now()
        try:
            self.incident = inc = store.incident(self.incident_id)
        except DomainError as err:
            self.query_one("#response-heading", Static).update(str(err))
            return
        self.steps = rs.step_states(profile, inc)
        self.notifs = rs.notification_state(profile, inc, now)
        self.items = ev.evidence_items(inc)
        state = rs.response_state(inc)
        mon = rs.monitoring_status(inc, now)
        overdue = sum(1 for n in self.notifs if n["overdue"])
        head = [("【訓練】" if inc.drill else "") + f"対応 {inc.id}", type_label(profile, inc.type_id), level_label(inc.level),
                f"優先度 {inc.priority or '-'}", {"open": "対応中", "closed": "収束",
                                                 "not_incident": "インシデントではない"}.get(inc.status, inc.status)]
        if mon:
            head.append(f"監視 {mon['end']:%m/%d} まで" + (f" 残り{mon['days_left']}日" if mon["days_left"] > 0
                                                         else " 終了"))
        if overdue:
            head.append(f"⚠ 期限超過の連絡 {overdue} 件")
        deadline = next((r for r in self.steps if r.get("log_deadline") and r["status"] not in ("done", "na")), None)
        if deadline:  # 水戸 7-1(6)ア: the logs may be gone after this day
            head.append(f"ログ確保 {deadline['log_deadline']['date']:%m/%d} まで")
        if state.crime:
            head.append("犯罪の可能性: 攻撃の記録を保存")
        self.query_one("#response-heading", Static).update(printable("  ".join(head)))
        self._fill("#steps", [(row["step"], self._step_line(row)) for row in self.steps])
        outside = {b["id"] for b in profile.outside_bodies}
        self._fill("#notifs", [(str(n["thread"]), self._notif_line(n) if not (inc.drill and n["party"] in outside)
                                else Text.assemble(("【訓練:実際には連絡しない】", "bold"), self._notif_line(n)))
                               for n in self.notifs])
        self._fill("#evidence", [(str(i["seq"]), self._evidence_line(i)) for i in self.items])
        self._show_info()

    def _fill(self, wid: str, rows: list[tuple[str, Text]]) -> None:
        table = self.query_one(wid, DataTable)
        keep = table.cursor_row
        table.clear()
        for key, line in rows:
            table.add_row(line, key=key)
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))

    @staticmethod
    def _step_line(row: dict[str, Any]) -> Text:
        style = {"done": "green", "doing": "bold yellow", "na": "dim", "todo": ""}.get(row["status"], "")
        line = Text(no_wrap=True, overflow="ellipsis")
        # the phase without the type it belongs to (大崎: 「不正行為: 脅威度の判定」), which the heading
        # says: cut at 14 cells, every row of a 不正行為 read 「不正行為: ...」 (the detail says it whole)
        line.append_text(pad(row["phase_label"].split(": ", 1)[-1], 14, "dim"))
        line.append_text(pad(row["label"], 34))
        line.append_text(pad(row["status_label"], 8, style))
        if row["at"] and row["status"] != "todo":  # a step opened by triage has nobody on it yet
            line.append(f"  {short_time(row['at'])} {one_line(row['who'] or row['operator'] or '', 10)}", style="dim")
        if row["warnings"]:
            line.append("  ⚠", style="yellow")
        if row.get("log_deadline") and row["status"] not in ("done", "na"):  # 水戸 7-1(6)ア
            day = row["log_deadline"]["date"]
            line.append(f"  ログ確保 {day:%m/%d} まで", style="bold yellow")
        if row["note"]:
            line.append("  " + one_line(row["note"]))
        return line

    @staticmethod
    def _notif_line(n: dict[str, Any]) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis")
        style = {"done": "green", "na": "dim"}.get(n["status"], "bold red" if n["overdue"] else "yellow")
        line.append(f"{one_line(n['label'], 24)}  ")
        line.append(n["status_label"], style=style)
        if n["purpose_label"]:
            line.append(f" ({n['purpose_label']})", style="dim")
        if n["status"] == "todo" and n["due"]:
            line.append(f"  期限 {short_time(n['due'])}" + (" 超過" if n["overdue"] else ""),
                        style="bold red" if n["overdue"] else "dim")
        elif n["status"] == "done":
            line.append(f"  {short_time(n['at'])} {one_line(n['means'], 8)} {one_line(n['person'], 12)}")
        elif n["status"] == "na":
            line.append("  " + one_line(n["why"], 40))
        return line

    @staticmethod
    def _evidence_line(i: dict[str, Any]) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"#{i['seq']} {one_line(i.get('item', ''), 30)}  ")
        line.append(f"{short_time(i.get('collected_at'))} {one_line(i.get('collected_by', ''), 12)}", style="dim")
        line.append(f"  保管: {one_line(i.get('holder') or '', 12)} {one_line(i.get('current_location') or '', 20)}")
        if i.get("sha256"):
            line.append(f"  sha256:{i['sha256'][:12]}...", style="dim")
        return line

    @on(DataTable.RowHighlighted)
    def _show_info(self, event=None) -> None:
        info = self.query_one("#response-info", Static)
        focused = self.focused
        if isinstance(focused, DataTable) and focused.id == "notifs" and self.notifs:
            n = self.notifs[min(focused.cursor_row, len(self.notifs) - 1)]
            text = f"{narrow(n['label'])}: {n['status_label']}\n理由: {_reason(n)}\n" + (
                f"伝えた内容: {n['said']}" if n["said"] else "")
            if self.incident.drill:
                text = self._drill_warning(n["party"]) + "\n" + text
        elif isinstance(focused, DataTable) and focused.id == "evidence" and self.items:
            i = self.items[min(focused.cursor_row, len(self.items) - 1)]
            chain = ev.custody_chain(self.incident, i["seq"])
            text = (f"{i.get('item', '')} (取得元 {i.get('source_device', '')})\nSHA-256: {i.get('sha256') or '-'}\n"
                    + "受け渡し: " + (" -> ".join(f"{c.get('from')}->{c.get('to')} {short_time(c.get('when'))}"
                                            for c in chain) or "なし"))
        elif self.steps:
            table = self.query_one("#steps", DataTable)
            row = self.steps[min(table.cursor_row, len(self.steps) - 1)]
            text = f"{row['phase_label']} / {row['label']}: {row['text']}"
            if row.get("log_deadline"):
                text += "\n" + rs.log_deadline_text(row["log_deadline"], self.app.now().date())
            if row["points"]:
                text += "\n" + "\n".join(f"・{p}" for p in row["points"])
            if row["warnings"]:
                text += "\n⚠ " + "\n⚠ ".join(row["warnings"])
            text = narrow(text)  # the profile's words: its clause numbers drawn one-width
        else:
            text = ""
        info.update(narrow(printable(text)))

    def on_descendant_focus(self) -> None:
        self._show_info()
        self.call_after_refresh(self._cursor_in_view)

    def _cursor_in_view_later(self) -> None:
        self._follow_later = False
        self._cursor_in_view()

    @on(DataTable.RowHighlighted)
    def _follow_cursor(self) -> None:
        self.call_after_refresh(self._cursor_in_view)  # once the detail below has its new height

    def _cursor_in_view(self) -> None:
        """The body follows the focused table's cursor row (the first row: with its section title).
        A table scrolls only itself; the body stayed put, and the row went under the detail below
        (the second notification at 120x30 and 80x24, the last steps at 80x20)."""
        table = self.focused
        body = self.query_one(ResponseBody)
        if not isinstance(table, DataTable) or table.parent is not body or not table.row_count:
            return
        if self.app.animator.is_being_animated(body, "scroll_y"):  # Tab's scroll to a table: after it
            if not self._follow_later:
                self._follow_later = True
                self.set_timer(0.05, self._cursor_in_view_later)
            return
        row = table.virtual_region.y + table.cursor_row - round(table.scroll_y)
        top = row
        if table.cursor_row == 0:
            index = body.children.index(table)
            if index and isinstance(body.children[index - 1], Label):
                top = body.children[index - 1].virtual_region_with_margin.y
        body.scroll_to_region(Region(0, top, 1, row - top + 1), animate=False, immediate=True)

    # ------------------------------------------------------------ helpers
    def _selected(self, wid: str, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
        table = self.query_one(wid, DataTable)
        if not rows or not table.row_count:
            self.notify("選択できる行がありません", severity="warning")
            return None
        return rows[min(table.cursor_row, len(rows) - 1)]

    def _run(self, fn, *args, ok: str = "記録しました", **kwargs) -> Any:
        """Call a core function; show its warnings; reload the tracker. Raises (DomainError,
        OSError) when the record refuses or cannot be written: the form that asked stays open."""
        result = fn(self.app.store, self.incident_id, *args, operator=self.app.operator, **kwargs)
        warnings = result[1] if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], list) else []
        for w in warnings:  # the procedures' words and clause numbers (「つくば 4(2)③(II)」): one-width
            self.notify(narrow(f"⚠ {w}"), severity="warning", timeout=12, markup=False)
        self.notify(ok, markup=False)
        self.reload()
        return result

    def _form(self, title: str, fields: list[Field], dialog: str, save, *, intro: str = "") -> None:
        """A form whose text is a draft (``dialog`` names it: opened again, it offers the draft)
        and whose ``save(values)`` writes the record before it closes."""
        self.app.push_screen(FormScreen(title, fields, intro=intro, save=save,
                                        draft=DraftKey("form", self.incident_id, dialog, "response")))

    def reopen(self, dialog: str) -> None:
        """Open the form a draft belongs to (the dashboard's list of drafts): it offers the text."""
        action, _, arg = dialog.partition(":")
        tables = {"step": ("#steps", self.steps, "step"), "notified": ("#notifs", self.notifs, "thread"),
                  "na": ("#notifs", self.notifs, "thread"), "call": ("#notifs", self.notifs, "party"),
                  "hand_over": ("#evidence", self.items, "seq")}
        if action in tables:
            wid, rows, key = tables[action]
            part = arg.split(":", 1)[0] if action == "call" else arg
            index = next((i for i, r in enumerate(rows) if str(r.get(key)) == part), None)
            if index is None:
                self.notify("書きかけの入力の行が見つかりません（状態が変わりました）", severity="warning")
                return
            table = self.query_one(wid, DataTable)
            table.focus()
            table.move_cursor(row=index)
        handlers = {"step": self.action_step, "notified": self.action_notified, "na": self.action_not_needed,
                    "call": lambda: self.action_call(arg.split(":", 1)[1] if ":" in arg else None),
                    "hand_over": self.action_hand_over, "add_party": self.action_add_party,
                    "evidence": self.action_evidence, "monitoring": self.action_monitoring,
                    "crime": self.action_crime, "close": self.action_close, "council": self.action_council,
                    "release": self.action_release,
                    "resume": self.action_resume}
        handler = handlers.get(action)
        if handler is not None:
            handler()

    def _parties(self) -> list[tuple[str, str]]:
        profile = self.app.store.profile
        return [(r["label"], r["id"]) for r in profile.roles] + [(b["label"], b["id"]) for b in profile.outside_bodies]

    # ------------------------------------------------------------ actions
    @on(DataTable.RowSelected, "#steps")
    def action_step(self) -> None:
        row = self._selected("#steps", self.steps)
        if row is None:
            return
        title, fields, dialog, save, intro = self._step_form(row)
        spare, self._step_ahead = self._step_ahead, None
        # (its message loop started, or about to: `s` in the very turn it was begun)
        usable = (spare is not None and spare.ahead and not spare._closed
                  and (spare.is_running or spare._task is not None))
        if usable and spare.made_for == (title, fields, dialog, intro):
            if spare.is_mounted:  # in front, then opened (its draft, and the offer of one, after its paint)
                self.app.push_screen(spare)
                spare.open_now(save)
            else:  # still being built (`s` within its ~0.1 s): finished, not built a second time
                spare.open_at_mount(save)
                self.app.push_screen(spare)
            return
        if spare is not None:  # made for another step, or for the step as it was
            spare.give_up()
        self._form(title, fields, dialog, save, intro=intro)

    def _step_form(self, row: dict[str, Any]):  # type: ignore[no-untyped-def]
        """The step form of ``row`` as of now: (title, fields, dialog, save, intro)."""
        warn = rs.check_order(self.app.store.profile, self.incident, row["step"], "doing")
        intro = f"{row['phase_label']} / {row['label']}: {row['text']}" + ("\n⚠ " + "\n⚠ ".join(warn) if warn else "")
        if row.get("log_deadline"):
            intro += "\n" + rs.log_deadline_text(row["log_deadline"], self.app.now().date())
        fields = [Field("status", "状態", "select", row["status"], STEP_OPTIONS, required=True),
                  Field("who", "担当", value=row["who"] or self.app.operator),
                  Field("when", "いつ", "time", "今"),
                  Field("note", "メモ" + (" (完了時は必須: 何をしたか)" if row["note_required"] else " (対象外は理由が必須)"),
                        "multiline")]
        if row["choices"]:  # つくば 4(2)③(II)(ア): 修復可能 / 修復不可能
            fields.append(Field("choice", "復旧の方法 (完了時は必須)" if row["step"] == "restore" else "分岐 (完了時は必須)",
                                "select", row["choice"] or "", [(c["label"], c["id"]) for c in row["choices"]]))
            fields.append(Field("choice_detail", " / ".join(c["detail"] for c in row["choices"]) + " (選んだ方の内容)",
                                "multiline", row["choice_detail"]))
        if row["record_points"]:  # つくば 4(2)③(I)(ア): the five points, one by one
            fields += [Field(f"point_{i}", f"留意事項: {p}", "multiline", row["answers"].get(p, ""))
                       for i, p in enumerate(row["points"])]

        def save(v):
            points = {p: v[f"point_{i}"] for i, p in enumerate(row["points"])
                      if row["record_points"] and (v.get(f"point_{i}") or "").strip()}
            self._run(rs.set_step, row["step"], v["status"], note=v["note"], who=v["who"],
                      occurred_at=v.get("when_iso"), points=points or None, choice=v.get("choice") or None,
                      choice_detail=v.get("choice_detail") or "",
                      ok=f"{row['label']}: {rs.STEP_STATUSES[v['status']]}")

        return f"手順の状態: {row['label']}", fields, f"step:{row['step']}", save, intro

    # The step form made ahead (issue 15: built at `s`, it took keys ~140-160 ms later at 10,000
    # incidents, p90 ~230, bench/intake.py; goal 150): while the tracker is in front and no key
    # has come for STEP_AHEAD_IDLE (its ~0.13 s of building holds the keys), the form of the
    # highlighted step is composed, mounted, laid out and drawn unseen (CsirtDeskApp.build_unseen);
    # `s` / Enter shows it when it is the form that step would get now (the same title, fields,
    # values and intro), else builds one as before.
    _step_ahead: FormScreen | None = None
    _shown_at = 0.0  # (time.monotonic) when the tracker was mounted

    def prepare_step(self) -> None:
        app = self.app
        if not self.is_current or not self.is_attached or not getattr(self, "steps", None) \
                or app._exit or getattr(app, "_closing", False):
            return
        if time.monotonic() - max(getattr(app, "_key_at", 0.0), self._shown_at) < STEP_AHEAD_IDLE:
            return  # (not as the tracker opens either: a key is likely to come)
        table = self.query_one("#steps", DataTable)
        if not table.row_count:
            return
        row = self.steps[min(table.cursor_row, len(self.steps) - 1)]
        title, fields, dialog, _save, intro = self._step_form(row)
        spare = self._step_ahead
        if spare is not None and (not spare.is_mounted  # (being built: looked at again once it is)
                                  or spare.made_for == (title, fields, dialog, intro) and spare.is_attached):
            return
        if spare is not None:
            spare.give_up()
        spare = FormScreen(title, fields, intro=intro, draft=DraftKey("form", self.incident_id, dialog, "response"),
                           ahead=True)
        spare.made_for = (title, fields, dialog, intro)
        self._step_ahead = app.build_unseen(spare)

    def on_unmount(self) -> None:
        spare, self._step_ahead = self._step_ahead, None
        if spare is not None:
            spare.give_up()

    def action_notified(self) -> None:
        n = self._selected("#notifs", self.notifs)
        if n is None:
            return
        fields = [Field("means", "方法 (電話・メール・来訪・文書)", required=True, value="電話"),
                  Field("person", "相手 (連絡がついた人)", required=True),
                  Field("said", "伝えた内容", "multiline", required=True),
                  Field("when", "いつ", "time", "今")]
        warn = self._drill_warning(n["party"])
        intro = (warn + "\n" if warn else "") + _reason(n)
        if self._needs_permission(n["party"]):  # 水戸 3(2)ケ(イ)
            rule = outside.rule(self.app.store.profile)
            fields.append(Field("permitted_by", f"外部への提供を許可した{outside.role_label(self.app.store.profile)}",
                                required=True))
            intro += narrow(f"\n{rule['text']}（{rule['source']}）")
        self._form(("【訓練】" if warn else "") + f"連絡済み: {n['label']}", fields, f"notified:{n['thread']}",
                   lambda v: self._run(rs.update_notification, n["party"], "done", means=v["means"],
                                       person=v["person"], said=v["said"], occurred_at=v.get("when_iso"),
                                       purpose=n["purpose"], permitted_by=v.get("permitted_by") or "",
                                       ok=f"{n['label']}: 連絡済み"),
                   intro=intro)

    def _needs_permission(self, party: str) -> bool:
        """Is ``party`` an outside body that the incident's material needs a permission to reach?"""
        profile = self.app.store.profile
        return party in {b["id"] for b in profile.outside_bodies} and outside.needed(profile, self.incident)

    def _drill_warning(self, party: str) -> str:
        """During a drill: that an outside body (総務省, 県, police, J-LIS …) must not be called for real."""
        if not getattr(self, "incident", None) or not self.incident.drill:
            return ""
        from csirt_tui.drill import outside_warning

        return outside_warning(self.app.store.profile, party)

    def action_call(self, person_id: str | None = None) -> None:
        """Call the party of the selected notification: who to call now from the roster, then log the call;
        a call that got through also marks the notification 連絡済み. ``person_id``: that person
        (a draft of the call's form reopened), without the choice."""
        from screens.roster import call_party

        n = self._selected("#notifs", self.notifs)
        if n is None:
            return

        def after(person, values) -> None:
            if values["reached"] and n["status"] == "todo" and self._needs_permission(n["party"]):
                self.notify(f"通話を記録しました。{n['label']}を連絡済みにするには d で、外部への提供を許可した"
                            f"{outside.role_label(self.app.store.profile)}を入力してください", severity="warning",
                            timeout=12, markup=False)
            elif values["reached"] and n["status"] == "todo":
                rs.update_notification(self.app.store, self.incident_id, n["party"], "done",
                                       operator=self.app.operator, means=values["means"],
                                       person=person.get("name", ""), said=values["said"],
                                       occurred_at=values.get("when_iso"), purpose=n["purpose"])
            self.reload()

        call_party(self.app, self.incident_id, n["party"], n["label"], after, screen="response",
                   person_id=person_id)

    def action_not_needed(self) -> None:
        n = self._selected("#notifs", self.notifs)
        if n is None:
            return
        self._form(f"連絡不要: {n['label']}", [Field("why", "理由", "multiline", required=True)], f"na:{n['thread']}",
                   lambda v: self._run(rs.update_notification, n["party"], "na", why=v["why"],
                                       purpose=n["purpose"], ok=f"{n['label']}: 不要"))

    def action_add_party(self) -> None:
        fields = [Field("party", "連絡先 (役割・外部の関係者)", "select", options=self._parties()),
                  Field("other", "一覧にない相手 (名称)"),
                  Field("reason", "理由", "multiline", required=True)]

        def save(v):
            party = v["party"] or v["other"].strip()
            if not party:
                raise DomainError("連絡先を選ぶか、名称を入力してください")
            self._run(rs.add_notification, party, reason=v["reason"], ok="連絡先を追加しました")

        self._form("連絡先を追加", fields, "add_party", save)

    def action_evidence(self) -> None:
        fields = [Field("item", "証拠 (何を)", required=True), Field("source_device", "取得元の機器"),
                  Field("collected_by", "取得した人", value=self.app.operator, required=True),
                  Field("when", "いつ", "time", "今", required=True),
                  Field("location", "保管場所", required=True),
                  Field("path", "ファイルのパス (あれば SHA-256 を計算します)"),
                  Field("note", "メモ", "multiline")]
        self._form("証拠を登録 (証拠保全)", fields, "evidence", self._add_evidence)

    def _add_evidence(self, v: dict[str, Any]) -> Pending | None:
        """Register the evidence; a file is hashed first in a worker (the form waits, open)."""
        item = ev.EvidenceItem(item=v["item"], collected_by=v["collected_by"], collected_at=v["when"],
                               location=v["location"], source_device=v["source_device"], path=v["path"],
                               note=v["note"])
        if not v["path"].strip():
            self._run(ev.add_evidence, item, ok="証拠を登録しました")
            return None
        self.notify("SHA-256 を計算しています...", markup=False)
        pending = Pending()

        def record():
            try:
                self._run(ev.add_evidence, item, ok="証拠を登録しました")
            except (DomainError, OSError) as err:
                pending.done(err)
            else:
                pending.done(None)

        def work():
            last = [0.0]

            def progress(done, total):
                if total and done - last[0] >= max(total / 10, 1):
                    last[0] = done
                    self.app.call_from_thread(self.notify, f"SHA-256 計算中 {done * 100 // total}%", timeout=2)

            try:
                digest = ev.sha256_file(v["path"], progress=progress)
            except DomainError as err:
                self.app.call_from_thread(self.notify, f"{err}: ハッシュなしで登録します", severity="warning",
                                          markup=False)
                digest = ""
            item.sha256 = digest
            self.app.call_from_thread(record)

        self.run_worker(work, thread=True, exit_on_error=False)
        return pending

    def action_hand_over(self) -> None:
        i = self._selected("#evidence", self.items)
        if i is None:
            return
        fields = [Field("from_", "渡した人", value=i.get("holder") or "", required=True),
                  Field("to", "受け取った人", required=True), Field("when", "いつ", "time", "今", required=True),
                  Field("why", "理由", required=True), Field("location", "新しい保管場所")]
        self._form(f"証拠の受け渡し: #{i['seq']} {i.get('item', '')}", fields, f"hand_over:{i['seq']}",
                   lambda v: self._run(ev.hand_over, i["seq"], from_=v["from_"], to=v["to"], when=v["when"],
                                       why=v["why"], location=v["location"], ok="受け渡しを記録しました"))

    def action_monitoring(self) -> None:
        fields = [Field("start", "監視の開始", "time", "今", required=True),
                  Field("period", "期間 (例: 30日 / 2週間 / 1か月)", required=True, value="1か月"),
                  Field("note", "監視の内容", "multiline")]
        self._form("監視期間 (再発及び関連活動の有無)", fields, "monitoring",
                   lambda v: self._run(rs.set_monitoring, start=v["start"], period=v["period"], note=v["note"],
                                       ok="監視期間を記録しました"))

    def action_crime(self) -> None:
        self._form("犯罪の可能性 (攻撃の記録を保存し、警察と連携)", [Field("note", "状況", "multiline", required=True)],
                   "crime", lambda v: self._run(rs.flag_crime, note=v["note"],
                                                ok="犯罪の可能性を記録しました (警察への連絡を追加)"))

    def action_close(self, force: bool = False) -> None:
        fields = [Field("note", "収束の確認 (内容)", "multiline", required=True)]

        def save(v):
            try:
                rs.close_incident(self.app.store, self.incident_id, operator=self.app.operator,
                                  note=v["note"], force=force or bool(v.get("force")))
            except rs.CloseError as err:
                if err.needs_force:  # the same form asks: what was typed stays in it
                    raise AskMore([Field("force", "未完了のものを承知のうえで収束する", "check")],
                                  "\n".join(err.warnings), "未完了のものがあります") from None
                raise
            self.notify("収束を記録しました", markup=False)
            self.reload()

        self._form("収束 (事後対応)", fields, "close", save)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """r (緊急時対応の解除) only where the profile's short path applies (大崎 脅威度1)."""
        if action == "release":
            incident = getattr(self, "incident", None)
            return incident is not None and rs.release_rule(self.app.store.profile, incident) is not None
        return True

    def action_release(self) -> None:
        """大崎 5条(5): 脅威度1 → 庁内で必要な報告を行い、緊急時対応を解除する (one form, one go)."""
        profile = self.app.store.profile
        rule = rs.release_rule(profile, self.incident)
        if rule is None:
            self.notify(rs.release_refusal(profile), severity="warning", markup=False)
            return
        roles = [(r["label"], r["id"]) for r in profile.roles]
        default = next((r["id"] for r in profile.roles if r["id"] == "sec_chief"), roles[0][1])
        fields = [Field("reported_to", "庁内で報告した先", "select", default, roles, required=True),
                  Field("reported", "報告した内容", "multiline", required=True),
                  Field("note", "脅威度の判定 (何を確かめてレベル1としたか)", "multiline")]

        def save(v):
            rs.release_low_threat(self.app.store, self.incident_id, operator=self.app.operator,
                                  reported_to=v["reported_to"], reported=v["reported"], note=v["note"] or "")
            self.notify("緊急時対応を解除しました（収束）", markup=False)
            self.reload()

        self._form(f"緊急時対応の解除（脅威度{rule['level']}、{rule['source']}）", fields, "release", save,
                   intro=rule["text"] + "\n残りの不正行為の手順は対象外として記録し、収束します。")

    def action_council(self) -> None:
        profile = self.app.store.profile
        found = rs.council_step(profile, self.incident)
        if found is None:
            self.notify("このインシデントにはセキュリティ会議の手順がありません", severity="warning")
            return
        _phase, step = found
        parties = self._parties()
        fields = [Field("held_at", "開催日時", "time", "今")]
        for item in step.get("council_items", []):
            label, names = rs.COUNCIL_ITEMS[item]
            for name in names:
                part = rs.COUNCIL_FIELD_LABELS.get(name, name)
                # 「システムの停止」 once (it read 「システムの停止: システムの停止」, 「代替措置の実施: 代替措置の実施」)
                text = label if part == label else f"{label}: {part}"
                if name == "system_stop":
                    fields.append(Field(name, text, "select", options=STOP_OPTIONS))
                elif name in ("contact", "support"):
                    fields.append(Field(name, text, "select", options=parties))
                elif name == "resume":
                    fields.append(Field(name, text, "select", options=[("運用再開を決定", True), ("再開しない", False)]))
                elif name == "interim":
                    fields.append(Field(name, text + " (1行に「業務: 措置」)", "multiline"))
                else:
                    fields.append(Field(name, text, "multiline"))
        fields.append(Field("text", "議事・その他", "multiline"))

        def save(v):
            data = {k: val for k, val in v.items() if not k.endswith("_iso")}
            for key in ("system_stop", "contact", "support"):
                if key in data:
                    data[key] = [data[key]] if data[key] else []
            if "interim" in data:
                data["interim"] = _interim_rows(data["interim"])
            self._run(rs.record_council, rs.CouncilDecision.from_dict(data), ok="セキュリティ会議の決定を記録しました")

        self._form(f"セキュリティ会議: {step['label']}", fields, f"council:{step.get('id', '')}", save)

    def action_resume(self) -> None:
        profile = self.app.store.profile
        conditions = rs.resume_conditions(profile, self.incident)
        if not conditions:
            self.notify("このインシデントには運用再開の手順がありません", severity="warning")
            return
        missing = [c for c in conditions if not c["met"]]
        intro = "\n".join(f"{'✔' if c['met'] else '✘'} {c['label']}: {c['text']}" for c in conditions)
        confirmable = [(c["label"], c["id"]) for c in missing if c["kind"] != "step"]
        if missing:
            if not confirmable:
                self.notify("運用再開の条件が満たされていません:\n" + "\n".join(c["label"] for c in missing),
                            severity="warning", timeout=10, markup=False)
                return
            fields = [Field("condition", "確認した条件", "select", options=confirmable, required=True),
                      Field("note", "確認の内容", "multiline", required=True), Field("who", "確認した人")]
            self._form("運用再開の条件の確認", fields, "resume:condition",
                       lambda v: self._run(rs.confirm_resume_condition, v["condition"], note=v["note"], who=v["who"],
                                           ok="確認を記録しました"), intro=intro)
            return
        self._form("運用再開", [Field("note", "運用再開の内容", "multiline", required=True)], "resume",
                   lambda v: self._run(rs.record_resume, note=v["note"],
                                       ok="運用再開を記録しました (関係機関への連絡を追加)"),
                   intro=intro + "\n関係機関に運用再開の連絡をします。")

    def action_timeline(self) -> None:
        from screens.timeline import TimelineScreen

        self.app.push_screen(TimelineScreen(self.incident_id))


def _reason(n: dict[str, Any]) -> str:
    """Why a party is to be told: a rule's reason is the profile's clause (「つくば 4(2)④(I): ...」),
    drawn with one-width characters (cells.narrow: (4)); one typed when a party was added is
    shown as typed."""
    return narrow(n["reason"]) if n.get("rule") else n["reason"]

"""連絡先名簿: roles, people, who to call now, and the roster's upkeep.

Search by name, kana, role or section; "who to call now" for a role takes the
time of day, weekends and Japanese public holidays into account, then the
deputy. Edits are validated field by field (never saved half-valid) and
audited; CSV import/export opens in Excel on a Japanese Windows PC.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Input, Label, Static

from csirt_tui import roster as rc
from csirt_tui.cells import narrow
from csirt_tui.draftsave import plain_problem
from csirt_tui.errors import DomainError
from csirt_tui.textsafe import printable
from screens.form import DraftKey, Field, FormScreen, PickerScreen, SafeInput
from screens.chrome import DeskHeader, pad
from screens.commands import bindings
from screens.footer import DeskFooter
from screens.opening import StyledAtMount

BOOL_FIELDS = ("weekday", "night", "holiday", "absent")


def call_party(app, incident_id: str, party: str, label: str, after=None, *, screen: str = "incident",
               person_id: str | None = None) -> None:
    """From an incident: who to call now for ``party`` (a role or outside body), pick one,
    see their numbers, and log the call (time, means, reached or not, what was said)
    as a timeline entry. ``after(person, values)`` runs once the call is recorded.
    The call's form is a draft (``screen``: where it was opened, for the dashboard to reopen
    it there); ``person_id``: that person, without the choice (a draft reopened)."""
    store = app.store
    drill_note = ""
    try:
        if store.incident(incident_id).drill:  # a drill: an outside body is never called for real
            from csirt_tui.drill import outside_warning

            drill_note = outside_warning(store.profile, party)
    except DomainError:
        pass
    if drill_note:
        app.notify(drill_note, title="訓練", severity="warning", timeout=15, markup=False)
    candidates = rc.who_to_call(store.profile, rc.list_people(store), party, app.now())
    if not candidates:
        app.notify(f"{label} の連絡先が名簿にありません (Ctrl+R で名簿を開けます)", severity="warning", markup=False)
        return
    def numbers_of(p: dict[str, Any]) -> str:
        return " / ".join(x for x in (f"内線{p['extension']}" if p.get("extension") else "",
                                      p.get("phone", ""), p.get("mobile", "")) if x)

    choices = [(f"{c['person'].get('name', '')}  {numbers_of(c['person'])}  ({c['reason']})", str(c["person"]["doc_id"]))
               for c in candidates]

    def chosen(doc_id: str | None) -> None:
        if not doc_id:
            return
        person = next((c["person"] for c in candidates if str(c["person"]["doc_id"]) == doc_id), None)
        if person is None:
            app.notify("その人は今の連絡先の候補にいません（名簿が変わりました）", severity="warning")
            return
        fields = [Field("means", "方法 (電話・内線・携帯・メール)", value="電話", required=True),
                  Field("reached", "連絡がついた", "check", True),
                  Field("said", "伝えた内容・相手の返答", "multiline", required=True),
                  Field("when", "いつ", "time", "今")]

        def log(values):  # raises when the record refuses: the form stays open with the text
            rc.log_call(store, incident_id, operator=app.operator, person=person, party=party,
                        means=values["means"], reached=bool(values["reached"]), said=values["said"],
                        occurred_at=values.get("when_iso"))
            app.notify("通話を記録しました", markup=False)
            if after is not None:
                try:
                    after(person, values)
                except (DomainError, OSError) as err:  # the call is on the record; what followed is not
                    app.notify(f"通話は記録しました。続きを記録できませんでした: {err}", severity="error",
                               markup=False)

        # the numbers to dial stay in sight while the call is written (they went with the list)
        dial = f"電話: {numbers_of(person)}" if numbers_of(person) else ""
        app.push_screen(FormScreen(("【訓練】" if drill_note else "") + f"通話の記録: {person.get('name', '')} ({label})",
                                   fields, save=log, intro="\n".join(x for x in (dial, drill_note) if x),
                                   draft=DraftKey("form", incident_id, f"call:{party}:{doc_id}", screen)))

    if person_id is not None:
        chosen(person_id)
        return
    # wide: a person and their numbers on one line, the title whole (in the 40-cell box at 80x24 each
    # person took three lines and the title read 「CSIRT管理者: 今だれに電話するか (」)
    app.push_screen(PickerScreen(choices, ("【訓練】" if drill_note else "") + f"{label}: 今だれに電話するか (上から順に)",
                                 wide=True), chosen)


def flow(items: list[str], width: int, gap: str = "   ") -> str:
    """``items`` side by side in lines of at most ``width`` cells (a longer item on a line of its own)."""
    lines: list[str] = []
    for item in items:
        if lines and cell_len(lines[-1]) + len(gap) + cell_len(item) <= width:
            lines[-1] += gap + item
        else:
            lines.append(item)
    return "\n".join(lines)


class RosterScreen(StyledAtMount, Screen):
    KEYS_SCREEN = "roster"
    BINDINGS = bindings("roster")  # screens/commands.py
    AUTO_FOCUS = "#people"  # the list (Textual focused the search field first, then on_mount the list)

    def __init__(self, reopen: str | None = None) -> None:
        super().__init__()
        self.people: list[dict[str, Any]] = []
        self.shown: list[dict[str, Any]] = []
        self._reopen = reopen  # a form to open once shown (a draft chosen on the dashboard)

    def compose(self) -> ComposeResult:
        yield DeskHeader()
        yield Static("", id="roster-status", markup=False)
        with Horizontal(id="roster-search"):
            yield Label("検索 (/):", classes="label")
            yield SafeInput(id="roster-query", placeholder="氏名・かな・役割・所属", compact=True)
        yield DataTable(id="people", cursor_type="row", zebra_stripes=True)
        with Vertical(id="roster-detail"):
            yield Static("", id="who-result", markup=False)
            yield Static("", id="person-detail", markup=False)
        yield DeskFooter()

    def on_mount(self) -> None:
        self.query_one("#people", DataTable).add_column("名簿", key="row")
        self.reload()
        if self._reopen:
            self.call_after_refresh(self.reopen, self._reopen)

    def reopen(self, dialog: str) -> None:
        """Open the form a draft belongs to (the dashboard's list of drafts): it offers the text."""
        if dialog == "roster_add":
            self.action_add()
        elif dialog == "change_notice":
            self.action_change_notice()
        elif dialog.startswith("roster_edit:"):
            person = next((p for p in self.people if str(p["doc_id"]) == dialog.split(":", 1)[1]), None)
            if person is None:
                self.notify("その人は名簿にいません（削除されました）", severity="warning")
                return
            self._edit(person)

    # ------------------------------------------------------------ data
    def _role_label(self, role_id: str) -> str:
        profile = self.app.store.profile
        for item in (*profile.roles, *profile.outside_bodies):
            if item["id"] == role_id:
                return item["label"]
        return role_id or ""

    def reload(self) -> None:
        store = self.app.store
        self.people = rc.list_people(store)
        status = rc.review_status(store, self.app.now())
        last = status.get("last_reviewed")
        text = f"連絡先名簿 {len(self.people)} 人   最終見直し: {(last or '未記録')[:10]}"
        if status.get("overdue"):
            rule = store.profile.rule_for("roster")  # the store's own clause, or the desk's (issue 16)
            text += f"   ⚠ 見直しの時期を過ぎています ({narrow(rule['source'])}: {rule['label']})。v で見直し済みを記録"
        notice = rc.change_notice_text(store)
        if notice:  # 大崎 3条(2)
            text += f"\n⚠ {notice}。n で報告を記録"
        self.query_one("#roster-status", Static).update(printable(text))
        self._fill()

    def _fill(self) -> None:
        query = self.query_one("#roster-query", Input).value
        self.shown = rc.search(self.people, query, self.app.store.profile) if query.strip() else list(self.people)
        table = self.query_one("#people", DataTable)
        keep = table.cursor_row
        table.clear()
        for p in self.shown:
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append_text(pad(self._role_label(p.get("role", "")), 18, "dim"))
            line.append_text(pad(p.get("name", ""), 14, "bold"))
            # next to the name: at 80 columns the row ends at the extension (it came last, unseen)
            line.append_text(pad("不在" if p.get("absent") else "", 4, "bold red"))
            line.append_text(pad(p.get("section", ""), 20))  # 2 cells for 不在: the row fits 120 columns with a scroll bar
            line.append_text(pad(f"内線{p['extension']}" if p.get("extension") else "", 10))
            line.append_text(pad(p.get("phone", ""), 14))
            line.append_text(pad(p.get("mobile", ""), 14))
            marks = "".join(m for m, k in (("平", "weekday"), ("夜", "night"), ("休", "holiday")) if p.get(k))
            line.append(marks)
            table.add_row(line, key=str(p["doc_id"]))
        if self.shown:
            table.move_cursor(row=min(keep, len(self.shown) - 1))
        self._show_detail()

    @on(DataTable.RowHighlighted, "#people")
    def _show_detail(self, event=None) -> None:
        person = self._current(quiet=True)
        detail = self.query_one("#person-detail", Static)
        if person is None:
            detail.update("該当する人はいません。")
            return
        items = [printable(f"{rc.FIELD_LABELS.get(k, k)}: {self._value_text(k, person.get(k))}", keep_newlines=False)
                 for k in rc.PERSON_FIELDS if person.get(k) not in (None, "", False) or k in BOOL_FIELDS]
        # side by side as they fit (one per line, the detail took 15 of 24 lines and the list
        # showed one person: issue 15)
        detail.update(flow(items, max(detail.content_size.width or self.size.width - 2, 20)))

    def _value_text(self, key: str, value: Any) -> str:
        if key in BOOL_FIELDS:
            return "はい" if value else "いいえ"
        if key == "role":
            return self._role_label(value or "")
        return str(value or "")

    def _current(self, quiet: bool = False) -> dict[str, Any] | None:
        table = self.query_one("#people", DataTable)
        if not self.shown or not table.row_count:
            if not quiet:
                self.notify("選択できる人がいません", severity="warning")
            return None
        return self.shown[min(table.cursor_row, len(self.shown) - 1)]

    # ------------------------------------------------------------ search
    @on(Input.Changed, "#roster-query")
    def _query_changed(self) -> None:
        self._fill()

    @on(Input.Submitted, "#roster-query")
    def _query_done(self) -> None:
        self.query_one("#people", DataTable).focus()

    def action_search(self) -> None:
        self.query_one("#roster-query", Input).focus()

    def action_leave(self) -> None:
        query = self.query_one("#roster-query", Input)
        if query.has_focus and query.value:
            query.value = ""
            self.query_one("#people", DataTable).focus()
            return
        self.app.pop_screen()

    # ------------------------------------------------------------ who to call now
    def _roles(self) -> list[tuple[str, str]]:
        profile = self.app.store.profile
        return [(r["label"], r["id"]) for r in profile.roles] + [(b["label"], b["id"]) for b in profile.outside_bodies]

    def action_who(self) -> None:
        self.app.push_screen(PickerScreen(self._roles(), "どの役割に連絡しますか"), self._show_who)

    def _show_who(self, role_id: str | None) -> None:
        if not role_id:
            return
        now = self.app.now()
        candidates = rc.who_to_call(self.app.store.profile, self.people, role_id, now)
        lines = [f"今 ({now:%m/%d %H:%M}) {self._role_label(role_id)} に連絡するなら:"]
        for i, c in enumerate(candidates, 1):
            p = c["person"]
            numbers = " / ".join(x for x in (f"内線{p['extension']}" if p.get("extension") else "",
                                             p.get("phone", ""), p.get("mobile", "")) if x)
            lines.append(f"{i}. {p.get('name', '')} {numbers}  ({c['reason']})")
        if not candidates:
            lines.append("連絡がつく人が名簿にいません。")
        self.query_one("#who-result", Static).update(printable("\n".join(lines)))

    # ------------------------------------------------------------ editing
    def _fields(self, person: dict[str, Any] | None) -> list[Field]:
        person = person or {}
        fields = []
        for key in rc.PERSON_FIELDS:
            label = rc.FIELD_LABELS.get(key, key)
            value = person.get(key, False if key in BOOL_FIELDS else "")
            if key in BOOL_FIELDS:
                fields.append(Field(key, label, "check", bool(value)))
            elif key == "role":
                fields.append(Field(key, label, "select", value or "", self._roles(), required=True))
            elif key in ("contract_scope", "note"):
                fields.append(Field(key, label, "multiline", value))
            else:
                fields.append(Field(key, label, value=value, required=(key == "name")))
        return fields

    def action_add(self) -> None:
        self._edit(None)

    def action_edit(self) -> None:
        person = self._current()
        if person is not None:
            self._edit(person)

    def _edit(self, person: dict[str, Any] | None) -> None:
        """The person's form (a draft while typed); saved only when every field is valid: a
        refusal keeps the form open with what was typed and says what to fix."""
        title = "名簿に追加" if person is None else f"編集: {person.get('name', '')}"
        dialog = "roster_add" if person is None else f"roster_edit:{person['doc_id']}"
        self.app.push_screen(FormScreen(title, self._fields(person), save=lambda v: self._save(person, v),
                                        draft=DraftKey("form", None, dialog, "roster")))

    def _save(self, person: dict[str, Any] | None, values: dict[str, Any]) -> None:
        values = {k: v for k, v in values.items() if not k.endswith("_iso")}
        values = {k: ("" if v is None else v) for k, v in values.items()}
        try:
            if person is None:
                rc.add_person(self.app.store, values, operator=self.app.operator)
            else:
                changes = {k: v for k, v in values.items() if person.get(k, "" if k not in BOOL_FIELDS else False) != v}
                if changes:
                    rc.update_person(self.app.store, person["doc_id"], changes, operator=self.app.operator)
        except rc.RosterError as err:
            problems = getattr(err, "problems", None) or {}
            text = "\n".join(problems.values()) or str(err)  # each message names its field
            raise DomainError(text) from None
        self.notify("名簿を保存しました (変更履歴に記録)", markup=False)
        notice = rc.change_notice_text(self.app.store)
        if notice:  # 大崎 3条(2): the other bodies must be told quickly
            self.notify(f"{notice}。n で報告を記録します", title="連絡先の変更", severity="warning", timeout=20,
                        markup=False)
        self.reload()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """n (変更の報告) only where the profile has the rule (大崎 3条(2)): not in the footer elsewhere."""
        if action == "change_notice":
            return bool(self.app.store.profile.data.get("roster_change_notice"))
        return True

    def action_change_notice(self) -> None:
        """Record that the roster's contact changes were reported to another body (大崎 3条(2))."""
        store = self.app.store
        rule = store.profile.data.get("roster_change_notice")
        if not rule:
            self.notify("このプロファイルには名簿の変更を報告する定めがありません", severity="warning", markup=False)
            return
        pending = rc.change_notices(store)
        if not pending:
            self.notify("報告していない連絡先の変更はありません", markup=False)
            return
        lines = [f"{c['name']}: {'・'.join(c['fields'])}（{c['at'][:16].replace('T', ' ')}）"
                 for c in pending[0]["changes"]]
        fields = [Field("party", "報告先", "select", pending[0]["party"],
                        [(p["label"], p["party"]) for p in pending], required=True),
                  Field("means", "方法 (電話・メール・文書)", value="電話", required=True),
                  Field("person", "相手 (報告した先の担当者)", required=True),
                  Field("said", "報告した変更事項", "multiline", "\n".join(lines), required=True),
                  Field("when", "いつ", "time", "今")]

        def save(v):
            rc.record_change_notice(store, v["party"], operator=self.app.operator, means=v["means"],
                                    person=v["person"], said=v["said"], occurred_at=v.get("when_iso"))

        self.app.push_screen(FormScreen(f"連絡先の変更の報告（{rule['source']}）", fields, save=save,
                                        intro=rule["text"], draft=DraftKey("form", None, "change_notice", "roster")),
                             lambda _: self.reload())

    def action_absent(self) -> None:
        person = self._current()
        if person is None:
            return
        try:
            rc.update_person(self.app.store, person["doc_id"], {"absent": not person.get("absent")},
                             operator=self.app.operator)
        except (DomainError, OSError) as err:
            self.notify(plain_problem(err), severity="error", markup=False)
            return
        # one key changes who is called: said, with the key that puts it back (it was silent)
        now = "在席" if person.get("absent") else "不在"
        self.notify(f"{person.get('name', '')}: {now}にしました（変更履歴に記録。x でもとに戻せます）", markup=False)
        self.reload()

    def action_reviewed(self) -> None:
        try:
            rc.mark_reviewed(self.app.store, operator=self.app.operator)
        except (DomainError, OSError) as err:  # another window's import holds the store: said, nothing lost
            self.notify(f"名簿の見直しを記録できませんでした: {plain_problem(err)}", severity="error", markup=False)
            return
        self.notify("名簿の見直しを記録しました", markup=False)
        self.reload()

    # ------------------------------------------------------------ CSV
    def action_export_csv(self) -> None:
        default = str(Path.home() / "csirt-roster.csv")
        self.app.push_screen(FormScreen("CSV に出力 (Excel で開けます: UTF-8 BOM 付き)",
                                        [Field("path", "保存先", value=default, required=True),
                                         Field("overwrite", "既にあれば上書きする", "check", False)],
                                        saves_as="書き出す"),
                             self._export)

    def _export(self, values: dict[str, Any] | None) -> None:
        if not values:
            return
        from csirt_tui.errors import DomainError
        from csirt_tui.fileout import write_private

        try:  # atomic, 0600, binary, waits out Excel holding the old file
            path = write_private(values["path"], rc.export_csv(self.people), "csv",
                                 store_root=self.app.store.root, force=bool(values.get("overwrite")))
        except DomainError as err:
            self.notify(f"書き出せませんでした: {err}", severity="error", markup=False)
            return
        self.notify(f"{len(self.people)} 人を {path} に書き出しました", markup=False)

    def action_import_csv(self) -> None:
        self.app.push_screen(FormScreen("CSV から取り込む", [
            Field("path", "CSV ファイル", required=True),
            Field("good_only", "誤りのない行だけ取り込む (既定: 誤りがあれば何も取り込まない)", "check", False)],
            saves_as="取り込む"), self._import)

    def _import(self, values: dict[str, Any] | None) -> None:
        if not values:
            return
        path = Path(values["path"]).expanduser()
        try:
            data = path.read_bytes()
        except OSError as err:
            self.notify(f"読めませんでした: {err}", severity="error", markup=False)
            return
        result = rc.import_csv(self.app.store.profile, data, good_rows_only=bool(values.get("good_only")))
        if result.errors:
            lines = [f"{line}行目: " + "、".join(problems.values()) for line, problems in result.errors[:12]]
            self.notify("CSV に誤りがあります:\n" + "\n".join(lines), severity="error", timeout=15, markup=False)
            if not result.people:
                return
        try:
            rc.apply_import(self.app.store, result, operator=self.app.operator)
        except (DomainError, OSError) as err:
            self.notify(f"名簿に取り込めませんでした（何も変えていません）: {plain_problem(err)}", severity="error",
                        timeout=15, markup=False)
            return
        self.notify(f"{len(result.people)} 人を取り込みました", markup=False)
        self.reload()

"""トリアージ: from the report to a level, a priority and who must be told.

A guided sequence, every step visible and changeable: 1 事実確認, 2 種別
(with the exclusions offered), 3 レベル (the profile's table: tick what
matches; context that raises severity), 4 判断 (incident or not, level,
priority with its reasons), 5 what it sets in motion (notifications, first
steps) or, at level 0, the not-an-incident path. Ctrl+S records it all.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import (Checkbox, Footer, Header, Input, Label, RadioButton, RadioSet, Select,
                             SelectionList, Static)

from csirt_tui import triage as core
from csirt_tui.errors import DomainError
from csirt_tui.textsafe import one_line, printable
from csirt_tui.timeparse import TimeParseError, format_preview, parse_time, to_iso
from csirt_tui.views import short_time
from screens.form import SafeInput

NO_SELECTION = getattr(Select, "NULL", None) or getattr(Select, "BLANK")
FACT_CHOICES = (("done", "確認済み"), ("pending", "確認中（保留のまま進める）"), ("not_needed", "不要"))
YES_NO = [(Text("あり"), "yes"), (Text("なし"), "no"), (Text("不明"), "unknown")]


def _sel(widget: Select) -> Any:
    return None if widget.is_blank() else widget.value


class TriageScreen(Screen):
    BINDINGS = [
        Binding("ctrl+s", "record", "記録", priority=True),
        Binding("escape", "leave", "戻る (記録しない)"),
    ]

    def __init__(self, incident_id: str) -> None:
        super().__init__()
        self.incident_id = incident_id

    # ------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        store = self.app.store
        profile = store.profile
        self.incident = store.incident(self.incident_id)
        previous = self._previous_answers()
        yield Header()
        yield Static(self._heading(), id="triage-heading", markup=False)
        with VerticalScroll(id="triage-form"):
            # 1 事実確認
            yield Label("1 事実確認", classes="step-title")
            yield Static(self._method_text(), id="fact-method", classes="method", markup=False)
            with RadioSet(id="fact"):
                for value, label in FACT_CHOICES:
                    yield RadioButton(label, value=(value == previous.get("fact_check", self._fact_default())),
                                      name=value)
            yield SafeInput(previous.get("fact_check_note", ""), id="fact_note", placeholder="確認の結果・方法 (任意)",
                        compact=True)
            # 2 種別
            yield Label("2 種別", classes="step-title")
            with RadioSet(id="type"):
                for t in profile.incident_types:
                    yield RadioButton(Text(t["label"]), name=f"type:{t['id']}",
                                      value=(previous.get("type_id") == t["id"] and not previous.get("exclusion")))
                for t in profile.incident_types:
                    for ex in t.get("exclusions", []):
                        yield RadioButton(Text(f"対象外: {ex['label']}"), name=f"excl:{t['id']}:{ex['id']}",
                                          value=(previous.get("exclusion") == ex["id"]))
            yield Static("", id="type-def", classes="method", markup=False)
            # 3 レベル
            yield Label("3 レベル (該当する事例を Space で選ぶ。最も高いレベルが提案されます)", classes="step-title")
            yield Static("", id="level-criteria", classes="method", markup=False)
            yield SelectionList(id="examples")
            with Vertical(id="fault-box"):
                yield Label("障害の種類と確認事項", classes="sub-title")
                yield Select([(Text(f["label"]), f["id"]) for f in profile.fault_types] if profile.fault_types else [],
                             id="fault_type", prompt="障害の種類", compact=True)
                yield SelectionList(id="fault_checks")
            yield Label("重大度を上げる事情", classes="sub-title")
            ctx = profile.context or {}
            with Horizontal(classes="row"):
                yield Select([(Text(p["label"]), p["id"]) for p in ctx.get("personal_data", [])], id="personal_data",
                             prompt="個人情報", compact=True)
                yield Select(YES_NO, id="encrypted", prompt="暗号化", compact=True)
                yield Select([(Text(s["label"]), s["id"]) for s in ctx.get("segments", [])], id="segment",
                             prompt="ネットワーク区分", compact=True)
            classes = ctx.get("asset_classes", {})
            with Horizontal(classes="row"):
                for key, prompt in (("confidentiality", "機密性"), ("integrity", "完全性"), ("availability", "可用性")):
                    yield Select([(Text(c["label"]), c["id"]) for c in classes.get(key, [])], id=f"ac-{key}",
                                 prompt=prompt, compact=True)
            with Horizontal(classes="row"):
                yield Checkbox("外部に向けた攻撃", id="outward_attack", compact=True)
                yield Checkbox("犯罪の可能性 (警察)", id="crime", compact=True)
                yield SafeInput(id="stop_hours", placeholder="想定停止時間 (時間)", compact=True, classes="short")
            with Horizontal(classes="row"):
                yield Select([], id="override", prompt="レベルを変更する (任意)", compact=True)
                yield SafeInput(id="override_reason", placeholder="変更する理由 (変更時は必須)", compact=True)
            # 4 レベル0・対象外: インシデントではない
            with Vertical(id="not-incident-box"):
                yield Label("4 インシデントではない (つくば 4(2)②(III)): 報告と通報者への連絡", classes="step-title")
                yield Select([(Text(r["label"]), r["id"]) for r in profile.roles], id="reported_to",
                             prompt="報告先 (CSIRT管理者)", compact=True,
                             value=core.report_to_default(profile) or NO_SELECTION)
                with Horizontal(classes="row"):
                    yield SafeInput(id="reply_who", placeholder="通報者へ連絡した人", compact=True)
                    yield SafeInput("今", id="reply_when", placeholder="いつ (例: 今 / 14:30)", compact=True,
                                classes="short")
                    yield SafeInput(id="reply_how", placeholder="方法 (電話・メール等)", compact=True)
                yield Static("", id="reply_when-preview", classes="preview", markup=False)
                yield SafeInput(id="warning", placeholder="職員への注意喚起 (任意)", compact=True)
        # Always in view: the suggestion, the decision and what it sets in motion.
        yield Static("", id="triage-summary", markup=False)
        yield Footer()

    def _heading(self) -> str:
        it = self.incident.intake
        return printable(f"トリアージ {self.incident_id}  受付 {short_time(self.incident.received_at)}  "
                         f"{one_line(it.get('what', ''), 70)}")

    def _fact_default(self) -> str:
        cb = self.incident.intake.get("callback") or {}
        return "done" if cb.get("confirmed_at") else "pending"

    def _previous_answers(self) -> dict[str, Any]:
        for record in reversed(self.incident.classifications):
            if isinstance(record.get("answers"), dict):
                return record["answers"]
        return {}

    def _method_text(self) -> str:
        profile = self.app.store.profile
        it = self.incident.intake
        source = it.get("reporter_type")
        if not source:
            return "通報の種類が受付で記録されていません。"
        try:
            src = profile.report_source(source)
        except KeyError:
            return f"通報の種類: {source}"
        cb = it.get("callback") or {}
        done = f"  折り返し確認済み {short_time(cb['confirmed_at'])}" if cb.get("confirmed_at") else ""
        return f"{src['label']}: {src.get('method', '')}{done}"

    def on_mount(self) -> None:
        prev = self._previous_answers()
        if prev:
            self._restore(prev)
        self._type_changed()
        self._update()
        self.query_one("#fact", RadioSet).focus()

    def _restore(self, prev: dict[str, Any]) -> None:
        ctx = prev.get("context") or {}
        for wid, value in (("personal_data", ctx.get("personal_data")), ("segment", ctx.get("segment")),
                           ("encrypted", {True: "yes", False: "no"}.get(ctx.get("encrypted"))),
                           *((f"ac-{k}", v) for k, v in (ctx.get("asset_classes") or {}).items())):
            if value:
                try:
                    self.query_one(f"#{wid}", Select).value = value
                except Exception:
                    pass
        self.query_one("#outward_attack", Checkbox).value = bool(ctx.get("outward_attack"))
        self.query_one("#crime", Checkbox).value = bool(ctx.get("crime"))
        if ctx.get("stop_hours") is not None:
            self.query_one("#stop_hours", Input).value = str(ctx["stop_hours"])
        self._restore_ticked = set(prev.get("ticked") or [])
        self._restore_fault = (prev.get("fault_type"), set(prev.get("fault_checks") or []))

    _restore_ticked: set[str] = set()
    _restore_fault: tuple = (None, set())

    # ------------------------------------------------------------ reading the form
    def _type_choice(self) -> tuple[str | None, str | None]:
        button = self.query_one("#type", RadioSet).pressed_button
        if button is None or not button.name:
            return None, None
        parts = button.name.split(":")
        if parts[0] == "type":
            return parts[1], None
        return parts[1], parts[2]

    def answers(self) -> core.Triage:
        fact = self.query_one("#fact", RadioSet).pressed_button
        type_id, exclusion = self._type_choice()
        enc = _sel(self.query_one("#encrypted", Select))
        stop = self.query_one("#stop_hours", Input).value.strip()
        try:
            stop_hours = float(stop) if stop else None
        except ValueError:
            stop_hours = None
        classes = {k: _sel(self.query_one(f"#ac-{k}", Select)) for k in ("confidentiality", "integrity", "availability")}
        context = core.TriageContext(
            personal_data=_sel(self.query_one("#personal_data", Select)),
            encrypted={"yes": True, "no": False}.get(enc),
            segment=_sel(self.query_one("#segment", Select)),
            asset_classes={k: v for k, v in classes.items() if v},
            outward_attack=self.query_one("#outward_attack", Checkbox).value,
            crime=self.query_one("#crime", Checkbox).value,
            stop_hours=stop_hours,
        )
        override = _sel(self.query_one("#override", Select))
        return core.Triage(
            fact_check=fact.name if fact is not None else "pending",
            fact_check_note=self.query_one("#fact_note", Input).value,
            type_id=type_id,
            exclusion=exclusion,
            ticked=list(self.query_one("#examples", SelectionList).selected),
            fault_type=_sel(self.query_one("#fault_type", Select)),
            fault_checks=list(self.query_one("#fault_checks", SelectionList).selected),
            context=context,
            level_override=int(override) if override is not None else None,
            override_reason=self.query_one("#override_reason", Input).value,
        )

    # ------------------------------------------------------------ live updates
    @on(RadioSet.Changed, "#fact")
    def _fact_chosen(self, event: RadioSet.Changed) -> None:
        if event.radio_set.has_focus:  # guided: a choice moves on to the next step
            self.query_one("#type", RadioSet).focus()

    @on(RadioSet.Changed, "#type")
    def _type_changed(self, event=None) -> None:
        profile = self.app.store.profile
        type_id, exclusion = self._type_choice()
        definition = self.query_one("#type-def", Static)
        examples = self.query_one("#examples", SelectionList)
        override = self.query_one("#override", Select)
        examples.clear_options()
        if type_id is None:
            definition.update("種別を選んでください (↑↓ で移動、Space で決定)。")
            override.set_options([])
        else:
            t = profile.incident_type(type_id)
            text = f"{t['label']}: {t.get('definition', '')}"
            if exclusion:
                ex = next(e for e in t.get("exclusions", []) if e["id"] == exclusion)
                text = f"対象外 — {ex.get('text', ex['label'])} → CSIRT では扱いません。"
            definition.update(text)
            table = profile.level_table_for(type_id)
            if table and not exclusion:
                criteria = []
                for lv in table["levels"]:
                    criteria.append(f"{lv['label']}: {lv['criterion']}"
                                    + (f" → {lv['consequence']}" if lv.get("consequence") else ""))
                self.query_one("#level-criteria", Static).update("\n".join(criteria))
                for key, level, text, group in core.level_examples(profile, type_id):
                    label = f"L{level} " + (f"({group}) " if group else "") + text
                    examples.add_option((Text(label), key, key in self._restore_ticked))
                override.set_options([(Text(lv["label"]), lv["level"]) for lv in table["levels"]])
            else:
                self.query_one("#level-criteria", Static).update(
                    "" if exclusion else "この種別にはレベル表がありません。")
                override.set_options([])
        if event is not None and event.radio_set.has_focus:
            nxt = self.query_one("#examples", SelectionList)
            if exclusion:
                nxt = self.query_one("#reply_who", Input)
            elif not nxt.option_count:
                nxt = self.query_one("#fault_type", Select)
            self.call_after_refresh(nxt.focus)
        fault_box = self.query_one("#fault-box")
        fault_box.display = bool(type_id and profile.incident_type(type_id).get("fault_checks") and not exclusion)
        if fault_box.display and self._restore_fault[0]:
            self.query_one("#fault_type", Select).value = self._restore_fault[0]
        self._update()

    @on(Select.Changed, "#fault_type")
    def _fault_changed(self) -> None:
        profile = self.app.store.profile
        checks = self.query_one("#fault_checks", SelectionList)
        checks.clear_options()
        fault = _sel(self.query_one("#fault_type", Select))
        for f in profile.fault_types or []:
            if f["id"] == fault:
                for item in f.get("checks", []):
                    checks.add_option((Text(item), item, item in self._restore_fault[1]))
        self._update()

    @on(RadioSet.Changed, "#fact")
    @on(SelectionList.SelectedChanged)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    @on(Input.Changed)
    def _changed(self, event=None) -> None:
        if isinstance(event, Input.Changed) and event.input.id == "reply_when":
            self._reply_preview()
        self._update()

    def _reply_preview(self) -> None:
        text = self.query_one("#reply_when", Input).value
        target = self.query_one("#reply_when-preview", Static)
        try:
            target.update("→ " + format_preview(parse_time(text, self.app.now())) if text.strip() else "")
        except TimeParseError as err:
            target.update("✘ " + one_line(str(err)))

    def _update(self) -> None:
        if not self.is_mounted:
            return
        profile = self.app.store.profile
        t = self.answers()
        panel = self.query_one("#triage-summary", Static)
        not_box = self.query_one("#not-incident-box")
        if t.type_id is None:
            panel.update("種別がまだ選ばれていません。")
            not_box.display = False
            return
        if t.exclusion:
            panel.update("対象外: CSIRT では扱いません (記録して閉じます)。通報者への連絡を 4 の欄に記録してください。")
            not_box.display = True
            return
        a = core.assess(profile, t)
        scale = "脅威度" if a.scale == "threat" else "レベル"
        lines = []
        if a.scale is not None:
            lines.append(f"提案される{scale}: " + ("—" if a.suggested_level is None else str(a.suggested_level))
                         + ("" if t.ticked else " (該当する事例を選んでください)")
                         + f"   {scale}: " + ("未決定" if a.level is None else str(a.level))
                         + (f" (変更: 提案 {a.suggested_level})" if t.level_override is not None else ""))
        if a.is_incident:
            lines.append(f"インシデント: はい   優先度: {a.priority}   理由: {' / '.join(a.priority_reasons) or '—'}")
        elif a.is_incident is False:
            lines.append("インシデントではない: CSIRT管理者に報告し、通報者へ結果を連絡して閉じます (4 の欄)。")
        lines.append("事実確認: " + dict(FACT_CHOICES).get(t.fact_check, t.fact_check))
        lines.extend(f"⚠ {p}" for p in a.problems)
        if a.is_incident:
            lines.append("通知する先: " + ("、".join(p["label"] for p, _rule in a.parties) or "なし"))
            lines.append("初動の手順: " + ("、".join(st["label"] for _ph, st in a.steps) or "なし"))
        panel.update("\n".join(lines))
        not_box.display = a.is_incident is False

    # ------------------------------------------------------------ actions
    def action_leave(self) -> None:
        self.app.pop_screen()

    def action_record(self) -> None:
        app = self.app
        store = app.store
        profile = store.profile
        t = self.answers()
        a = core.assess(profile, t)
        problems = list(a.problems)
        if t.type_id is None:
            problems.insert(0, "種別を選んでください")
        elif a.is_incident is None:
            problems.append("該当する事例を選ぶか、レベルを指定してください")
        if problems:
            self.notify("\n".join(problems), severity="error", timeout=8, markup=False)
            return
        try:
            if t.exclusion:
                core.exclusion_close(store, self.incident_id, t, operator=app.operator)
                self._record_exclusion_reply(store)
                message = f"{self.incident_id}: 対象外として記録しました"
            elif a.is_incident is False:
                reply = self._reply()
                reported_to = _sel(self.query_one("#reported_to", Select))
                if not (reply["who"].strip() and reply["how"].strip() and reported_to):
                    raise DomainError("報告先、通報者へ連絡した人と方法を入力してください")
                # the decision, the report, the reply and the closing in one go (nothing half-recorded)
                core.record_not_incident(store, self.incident_id, operator=app.operator, reported_to=reported_to,
                                         reply=reply, warning=self.query_one("#warning", Input).value, triage=t)
                message = f"{self.incident_id}: インシデントではないとして閉じました"
            else:
                core.record_triage(store, self.incident_id, t, operator=app.operator)
                message = f"{self.incident_id}: トリアージを記録しました (レベル{a.level}・優先度{a.priority})"
        except (DomainError, OSError) as err:
            self.notify(f"記録できませんでした: {one_line(str(err))}", severity="error", timeout=10, markup=False)
            return
        self.notify(message, markup=False)
        self.app.pop_screen()

    def _reply(self) -> dict[str, Any]:
        return {"who": self.query_one("#reply_who", Input).value,
                "when": self.query_one("#reply_when", Input).value,
                "how": self.query_one("#reply_how", Input).value}

    def _record_exclusion_reply(self, store) -> None:
        reply = self._reply()
        if not (reply["who"].strip() or reply["how"].strip()):
            return
        try:
            when = to_iso(parse_time(reply["when"], self.app.now())) if reply["when"].strip() else None
        except TimeParseError:
            when = None
        store.append(self.incident_id, "call",
                     f"通報者への回答: {reply['who']} {reply['how']} — CSIRT の対象外である旨を連絡",
                     operator=self.app.operator, occurred_at=when,
                     data={**reply, "when": when, "when_text": reply["when"], "purpose": "triage_reply"})

"""The response tracker: steps, order advice, closure, monitoring, the security
council, resuming operation, notifications and the crime flag.

Core logic of the tracker screen (no textual here). Every change is a NEW
timeline entry; nothing is edited. The state is folded from the entries:
``Incident`` (csirt_tui.model) gives the steps, notifications and status, and
:func:`response_state` folds what the model does not know (the crime flag,
council decisions, the monitoring period, resume confirmations).

Entries written here (kind → data):

    step          {phase, step, status, note, who, warnings}            set_step, record_resume
    close         {status: "closed", note, open_steps, open_notifications, warnings, forced}
    reopen        {reason}
    decision      {decision: "monitoring", monitoring: {start, start_text, period, end}, note}
                  {decision: "council", step, council: CouncilDecision.to_dict()}
                  {decision: "resume_condition", condition, step, note, who}
                  {decision: "resume", step, conditions, parties, note}
                  {decision: "crime", crime: true, keep_records: true, note}
                  {decision: "drill", drill: true | false, note}                   mark_drill
    notification  opening: {party, status: "todo", rule, reason, purpose, label?, due}
                  update:  {party, thread, status, means, person, said, why, purpose}

The procedure's order is advice, not a cage (issue 5): a step's
``warn_if_not_done`` in the profile makes :func:`check_order` warn, never
refuse, and the warnings go on the record with the step. Refusals are for
what the record needs (a note where the step asks for one, a reason for 対象外
or 不要) and for the conditions the seeds make hard (大崎 4条(8)/5条(8):
resume only after recovery, integrity and approval).

Sources: つくば 4(2)③～⑤, 大崎 4条(6)～(10)・5条(4)～(9), 水戸 6-3(2)・7-6(3).
Profile keys: docs/profile-format.md (warn_if_not_done, council_items, resume,
notification_due_hours, notification_rules[].due_hours).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from .errors import DomainError
from .model import STEP_STATUSES, Incident, TimelineEntry

__all__ = [
    "STEP_STATUSES",
    "NOTIFICATION_STATUSES",
    "NOTIFICATION_PURPOSES",
    "SYSTEM_STOP_LABELS",
    "COUNCIL_ITEMS",
    "COUNCIL_FIELD_LABELS",
    "ResponseError",
    "StepError",
    "CloseError",
    "MonitoringError",
    "CouncilError",
    "ResumeError",
    "NotificationError",
    "ResponseState",
    "CouncilDecision",
    "response_state",
    "applicable_steps",
    "step_states",
    "open_steps",
    "check_order",
    "ask_progress_report",
    "log_deadline",
    "log_deadline_text",
    "set_step",
    "close_incident",
    "release_rule",
    "release_low_threat",
    "reopen_incident",
    "parse_period",
    "set_monitoring",
    "monitoring_status",
    "council_step",
    "record_council",
    "resume_step",
    "resume_conditions",
    "resume_check",
    "resume_parties",
    "confirm_resume_condition",
    "record_resume",
    "notification_state",
    "overdue_count",
    "add_notification",
    "update_notification",
    "support_rule",
    "request_support",
    "crime_parties",
    "flag_crime",
    "mark_drill",
]

NOTIFICATION_STATUSES = {
    "todo": "未連絡",
    "done": "連絡済み",
    "na": "不要",
}

# Why a party is told. "" = the ordinary report/notification (triage, by hand);
# the same party may have one thread per purpose.
NOTIFICATION_PURPOSES = {
    "": "連絡・報告",
    "resume": "運用再開の連絡",
    "support": "技術的支援依頼",
    "progress": "対応状況の報告",
}

# 大崎 4条(6)・5条(6) システムの停止（内容は原文、"none" はデスクのラベル）
SYSTEM_STOP_LABELS = {
    "none": "停止しない",
    "full": "システムの完全停止",
    "partial": "機能の一部停止",
    "detach": "機器の一部切離し",
    "network": "ネットワークからの切離し",
}

# Council items (大崎 4条(6) 審議する項目 / 5条(6) 決定の項目, 項目 verbatim) and the
# CouncilDecision fields that record each. A council step's ``council_items`` in the
# profile says which items that council decides.
COUNCIL_ITEMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "system_stop": ("システムの停止", ("system_stop", "system_stop_note")),
    "contact": ("関係機関への連絡", ("contact", "contact_note")),
    "support": ("技術的支援依頼", ("support", "support_note")),
    "damage": ("詳細な被害状況・復旧作業の把握", ("damage_system", "damage_scope", "recovery_work")),
    "structure": ("緊急時体制の把握", ("structure",)),
    "residents": ("市民への対応", ("visitors", "enquiries")),
    "interim": ("代替措置の実施", ("interim",)),
    "verification": ("緊急措置の検証及び予防措置の立案",
                     ("progress", "additional_measures", "permanent_measures")),
    "resume": ("運用再開の決定", ("resume", "resume_note")),
}

# The 内容 column of the seeds' tables (verbatim) for the fields that have one.
COUNCIL_FIELD_LABELS = {
    "system_stop": "システムの停止",
    "system_stop_note": "停止の範囲・内容",
    "contact": "関係機関への連絡",
    "contact_note": "連絡の内容",
    "support": "技術的支援依頼",
    "support_note": "依頼の内容",
    "damage_system": "システムの具体的な被害状況",
    "damage_scope": "本人確認情報への侵害の度合い又は範囲",
    "recovery_work": "復旧に要する作業内容,期間等",
    "structure": "役割分担,指揮命令系統の確認",
    "visitors": "来庁者への対応",
    "enquiries": "問い合わせへの対応",
    "interim": "代替措置の実施",
    "progress": "復旧作業等緊急時対応の進捗状況の把握",
    "additional_measures": "追加措置の検討",
    "permanent_measures": "恒久対策の立案等",
    "resume": "運用再開の決定",
    "resume_note": "運用再開の決定の内容",
}

OPEN_STEP_STATUSES = ("todo", "doing")
SETTLED_STEP_STATUSES = ("done", "na")


# ---------------------------------------------------------------------------
# Errors


class ResponseError(DomainError):
    """A tracker action cannot be recorded; ``problems`` lists each (Japanese) and
    ``str(err)`` is one line. Nothing was written."""

    prefix = "記録できません"

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(f"{self.prefix}: " + " / ".join(self.problems))


class StepError(ResponseError):
    prefix = "手順の状態を記録できません"


class CloseError(ResponseError):
    """Closure refused. With ``needs_force`` the only reason is what is still
    open (``warnings``): confirm with the handler and call again with force=True."""

    prefix = "収束を記録できません"

    def __init__(self, problems: list[str] | str, *, warnings: list[str] | None = None,
                 open_steps: list[dict] | None = None) -> None:
        self.warnings = list(warnings or [])
        self.open_steps = list(open_steps or [])
        self.needs_force = bool(self.warnings) and not problems
        if self.needs_force:
            problems = ["未完了のものがあります（確認のうえ force=True で収束できます）", *self.warnings]
        super().__init__(problems)


class MonitoringError(ResponseError):
    prefix = "監視期間を記録できません"


class CouncilError(ResponseError):
    prefix = "セキュリティ会議の決定を記録できません"


class ResumeError(ResponseError):
    prefix = "運用再開を記録できません"


class NotificationError(ResponseError):
    prefix = "連絡を記録できません"


# ---------------------------------------------------------------------------
# Small helpers


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _blank(value: Any) -> bool:
    return not (isinstance(value, str) and value.strip())


def _first_line(text: str, width: int = 60) -> str:
    line = next((ln.strip() for ln in (text or "").splitlines() if ln.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


def _when(value: Any, now: datetime, what: str, problems: list[str], *,
          required: bool = False, planned: bool = False) -> tuple[str | None, str | None]:
    """(ISO time, the text as typed or None) of a time input: a tz-aware datetime,
    a date (00:00 local), or typed text (csirt_tui.timeparse; ``planned`` allows
    the future). Problems are appended, never raised."""
    from .timeparse import TimeParseError, parse_time, to_iso

    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(f"{what}を入力してください")
        return None, None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            problems.append(f"{what}: タイムゾーン付きの日時で指定してください")
            return None, None
        return to_iso(value.replace(microsecond=0)), None
    if isinstance(value, date):
        return to_iso(datetime.combine(value, time(0, 0), tzinfo=now.tzinfo)), None
    if isinstance(value, str):
        try:
            parsed = parse_time(value, now, future_tolerance=None) if planned else parse_time(value, now)
        except TimeParseError as err:
            problems.append(f"{what}: {err.reason}")
            return None, None
        return to_iso(parsed), value
    problems.append(f"{what}: 日時を指定してください（{type(value).__name__} は使えません）")
    return None, None


def _iso(value: str) -> datetime:
    from .timeparse import from_iso

    return from_iso(value)


def _require_open(inc: Incident, problems: list[str]) -> None:
    if inc.status == "closed":
        problems.append(f"インシデント {inc.id} は収束しています（再開してから記録してください）")
    elif inc.status == "not_incident":
        problems.append(f"インシデント {inc.id} はインシデントではないと判断されています（再トリアージしてください）")


def _party_label(profile, party_id: str, data: dict | None = None) -> str:
    try:
        return profile.party(party_id)["label"]
    except KeyError:
        return (data or {}).get("label") or party_id


# ---------------------------------------------------------------------------
# Folded state the model does not keep


@dataclass
class ResponseState:
    """What :func:`response_state` folds from the "decision", "close" and
    "reopen" entries (each record is the entry data plus seq, at, operator)."""

    crime: bool = False                      # flagged (flag_crime) or ticked at triage
    crime_records: list[dict[str, Any]] = field(default_factory=list)
    council: list[dict[str, Any]] = field(default_factory=list)
    monitoring: dict[str, Any] | None = None  # the latest monitoring decision
    confirmations: dict[str, dict[str, Any]] = field(default_factory=dict)  # condition id → latest since last resume
    resumes: list[dict[str, Any]] = field(default_factory=list)
    closures: list[dict[str, Any]] = field(default_factory=list)  # close and reopen records, in order


def response_state(incident: Incident) -> ResponseState:
    state = ResponseState()
    for e in incident.entries:
        d = e.data or {}
        rec = {"seq": e.seq, "at": e.when, "recorded_at": e.at, "operator": e.operator, **d}
        if e.kind in ("close", "reopen"):
            state.closures.append({"kind": e.kind, **rec})
            continue
        if e.kind != "decision":
            continue
        what = d.get("decision")
        if what == "crime" or d.get("crime") is True:
            state.crime_records.append(rec)
        elif what == "council":
            state.council.append(rec)
        elif what == "monitoring":
            state.monitoring = rec
        elif what == "resume_condition":
            state.confirmations[d.get("condition")] = rec
        elif what == "resume":
            state.resumes.append(rec)
            state.confirmations = {}  # a resume uses up the confirmations before it
    triage_crime = False
    if incident.classifications:
        ctx = (incident.classifications[-1].get("answers") or {}).get("context") or {}
        triage_crime = bool(ctx.get("crime"))
    state.crime = triage_crime or bool(state.crime_records)
    return state


# ---------------------------------------------------------------------------
# Steps


def applicable_steps(profile, incident: Incident) -> list[tuple[dict, dict]]:
    """(phase, step) of every step of the phases that apply to the incident's type."""
    return [(phase, step) for phase in profile.phases_for(incident.type_id) for step in phase["steps"]]


def _find_step(profile, incident: Incident, step_id: str) -> tuple[dict, dict] | None:
    for phase, step in applicable_steps(profile, incident):
        if step["id"] == step_id:
            return phase, step
    return None


def log_deadline(profile, incident: Incident) -> dict[str, Any] | None:
    """By when the logs behind the incident must be secured (水戸 7-1(6)ア: logs are kept
    about one month; ``Profile.logs_secure_by``): {date, months, text, source, step, since
    (ISO: when it was found, else when it was received)}; None when the profile keeps no
    ``log_retention`` or the incident has no time to count from."""
    from .timeparse import from_iso

    since = incident.intake.get("found_at") or incident.received_at
    if not since:
        return None
    try:
        when = from_iso(since)
    except (TypeError, ValueError):
        return None
    rule = profile.logs_secure_by(when)
    return None if rule is None else {**rule, "since": since}


def log_deadline_text(deadline: dict[str, Any], today: date | None = None) -> str:
    """「ログの確保: 2026年12月22日まで（発見から1か月。水戸 7-1(6)ア）」, with 「過ぎています」 after it."""
    day = deadline["date"]
    text = f"ログの確保: {day.year}年{day.month}月{day.day}日まで（発見から{deadline['months']}か月。{deadline['source']}）"
    if today is not None and today > day:
        text += " 過ぎています: 残っているログを確かめてください"
    return text


def step_states(profile, incident: Incident) -> list[dict[str, Any]]:
    """One row per applicable step, in profile order: the tracker's list.

    {phase, phase_label, step, label, text, points, note_required, status,
    status_label, note, who, at, operator, seq, warnings, log_deadline}. A step with no
    entry yet is 未着手 (status "todo", seq None). ``log_deadline`` (:func:`log_deadline`)
    is set on the step the profile's ``log_retention`` names (the evidence step), else None."""
    deadline = log_deadline(profile, incident)
    rows = []
    for phase, step in applicable_steps(profile, incident):
        rec = incident.steps.get(step["id"]) or {}
        status = rec.get("status", "todo")
        rows.append({
            "phase": phase["id"], "phase_label": phase["label"],
            "step": step["id"], "label": step["label"], "text": step["text"],
            "points": list(step.get("points", ())), "note_required": step["note_required"],
            "status": status, "status_label": STEP_STATUSES.get(status, status),
            "note": rec.get("note", ""), "who": rec.get("who", ""),
            "at": rec.get("at"), "operator": rec.get("operator"), "seq": rec.get("seq"),
            "warnings": list(rec.get("warnings") or []),
            "record_points": bool(step.get("record_points")), "choices": list(step.get("choices", ())),
            "answers": dict(rec.get("points") or {}), "choice": rec.get("choice"),
            "choice_detail": rec.get("choice_detail", ""),
            "log_deadline": deadline if deadline and deadline["step"] == step["id"] else None,
        })
    return rows


def open_steps(profile, incident: Incident) -> list[dict[str, Any]]:
    """The step rows still 未着手 or 対応中."""
    return [row for row in step_states(profile, incident) if row["status"] in OPEN_STEP_STATUSES]


def check_order(profile, incident: Incident, step_id: str, status: str) -> list[str]:
    """Order advice for starting (doing) or completing (done) a step: one warning
    per ``warn_if_not_done`` entry of the step whose step is neither 完了 nor
    対象外 on the incident. Never refuses; [] for todo / na, unknown steps, and
    prerequisite steps that do not apply to the incident's type."""
    if status not in ("doing", "done"):
        return []
    try:
        _, step = profile.step(step_id)
    except KeyError:
        return []
    applicable = {s["id"]: s for _, s in applicable_steps(profile, incident)}
    out = []
    for rule in step.get("warn_if_not_done", ()):
        before = applicable.get(rule["step"])
        if before is None:
            continue
        got = (incident.steps.get(rule["step"]) or {}).get("status", "todo")
        if got in SETTLED_STEP_STATUSES:
            continue
        out.append(f"{rule['message']}（「{before['label']}」は{STEP_STATUSES.get(got, got)}）")
    return out


def _step_text(phase: dict, step: dict, status: str, note: str, who: str, warnings: list[str],
               points: dict[str, str] | None = None, choice: dict | None = None, choice_detail: str = "") -> str:
    lines = [f"{phase['label']}: {step['label']}（{STEP_STATUSES[status]}）"]
    if who.strip():
        lines.append(f"担当: {who}")
    if choice is not None:
        lines.append(f"{choice['label']}: {choice['detail']}: {choice_detail}")
    for point, answer in (points or {}).items():
        lines.append(f"・{point}: {answer}")
    if note.strip():
        lines.append(f"メモ: {note}")
    lines.extend(f"注意: {w}" for w in warnings)
    return "\n".join(lines)


def _point_problems(step: dict, status: str, points: Any, choice: Any,
                    choice_detail: Any) -> tuple[list[str], list[str]]:
    """(problems, warnings) of the step's own points answered one by one (``record_points``) and
    its branch (``choices``). Like the order advice, what is left unanswered at 完了 is a warning
    on the record, not a refusal; a branch chosen without what it asks for is refused."""
    problems: list[str] = []
    warnings: list[str] = []
    if points is not None:
        if not isinstance(points, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                   for k, v in points.items()):
            return ["留意事項の記録は {項目: 文字列} で指定してください"], []
        unknown = [k for k in points if k not in step.get("points", ())]
        if unknown:
            problems.append("この手順の留意事項ではありません: " + "、".join(unknown))
    if status == "done" and step.get("record_points"):
        missing = [p for p in step.get("points", ()) if not ((points or {}).get(p) or "").strip()]
        if missing:
            warnings.append("留意事項の記録がありません: " + "、".join(missing))
    choices = {c["id"]: c for c in step.get("choices", ())}
    if choice is not None and choice not in choices:
        problems.append(f"「{step['label']}」の分岐が不明です: {choice!r}（{', '.join(choices)}）")
    if not isinstance(choice_detail, str):
        problems.append("分岐の記録は文字列で入力してください")
    elif choice in choices and status in ("doing", "done") and not choice_detail.strip():
        problems.append(f"{choices[choice]['label']}: {choices[choice]['detail']}を入力してください")
    elif status == "done" and choices and choice is None:
        warnings.append("どちらで復旧したかの記録がありません: " + "／".join(c["label"] for c in choices.values()))
    return problems, warnings


def ask_progress_report(store, incident_id: str, *, operator: str, why: str) -> list[TimelineEntry]:
    """つくば 4(2)④(I) (対応方針の変更及び対応状況の進捗等…適宜…報告する): open a 対応状況の報告
    thread (purpose "progress") for each party of the profile's ``progress_report`` that has none
    open; a recurring duty: asked again at each change of the policy or the level once the last
    one was made. Returns the entries appended ([] without the rule)."""
    profile = store.profile
    rule = profile.data.get("progress_report")
    if not rule:
        return []
    out = []
    with store.locked():
        inc = store.incident(incident_id)
        if inc.status != "open":
            return []
        open_ = {t["party"] for t in _threads(inc) if t["purpose"] == "progress" and t["status"] == "todo"}
        for party in rule["parties"]:
            if party not in open_:
                out.append(_open_notification(store, profile, incident_id, party, operator=operator,
                                              purpose="progress", rule=None,
                                              reason=f"{why}（{rule['source']}: 適宜報告する）"))
    return out


def _step_problems(profile, inc: Incident, step_id: str, status: str, note: str,
                   who: str) -> tuple[list[str], tuple[dict, dict] | None]:
    problems: list[str] = []
    _require_open(inc, problems)
    found = _find_step(profile, inc, step_id)
    if found is None:
        try:
            profile.step(step_id)
            problems.append(f"手順 {step_id!r} はこのインシデントの種類の手順ではありません")
        except KeyError:
            problems.append(f"手順が見つかりません: {step_id!r}")
    if status not in STEP_STATUSES:
        problems.append(f"手順の状態が不明です: {status!r}（{', '.join(STEP_STATUSES)}）")
    if not isinstance(note, str) or not isinstance(who, str):
        problems.append("メモ・担当は文字列で入力してください")
        return problems, found
    if found is not None and status in STEP_STATUSES:
        _, step = found
        if status == "na" and not note.strip():
            problems.append(f"「{step['label']}」を対象外にする理由をメモに入力してください")
        elif status == "done" and step["note_required"] and not note.strip():
            problems.append(f"「{step['label']}」を完了にするにはメモ（何をしたか）を入力してください")
        current = (inc.steps.get(step_id) or {}).get("status", "todo")
        if current == status and not note.strip() and not who.strip():
            problems.append(f"「{step['label']}」は既に{STEP_STATUSES[status]}です（変更がありません）")
    return problems, found


def set_step(store, incident_id: str, step_id: str, status: str, *, operator: str, note: str = "",
             who: str = "", occurred_at: Any = None, points: dict[str, str] | None = None,
             choice: str | None = None, choice_detail: str = "") -> tuple[TimelineEntry, list[str]]:
    """Record a step's status: "todo" 未着手 / "doing" 対応中 / "done" 完了 / "na" 対象外.

    Appends a "step" entry {phase, step, status, note, who, warnings}; note and
    who are kept as typed. ``occurred_at`` (datetime or typed text) is when it
    was done, if earlier than now. Refuses (:class:`StepError`) a step not in
    the incident's phases, a closed incident, 完了 without a note where the
    step has ``note_required``, 対象外 without a reason, and completing a
    運用再開 step (that is :func:`record_resume`). Returns the entry and the
    order warnings (:func:`check_order`), which are also in its data.

    ``points`` ({point: what was found}) answers the step's points one by one (required for
    完了 where the step has ``record_points``: つくば 4(2)③(I)(ア) the five points of the
    response policy); ``choice`` / ``choice_detail`` the branch of a step with ``choices``
    (required for 完了: 修復可能 with the check that the backup is clean, or 修復不可能 with
    the interim measure). A step with ``progress_report`` asks for a progress report
    (:func:`ask_progress_report`) when it is recorded 対応中 or 完了."""
    profile = store.profile
    with store.locked():
        inc = store.incident(incident_id)
        problems, found = _step_problems(profile, inc, step_id, status, note, who)
        if found is not None and status == "done" and found[1].get("resume"):
            problems.append(f"「{found[1]['label']}」の完了は運用再開の記録（record_resume）で行ってください"
                            "（条件の確認と関係機関への連絡が要ります）")
        when, _typed = _when(occurred_at, store.now(), "実施日時", problems)
        point_warnings: list[str] = []
        if found is not None and status in STEP_STATUSES:
            more, point_warnings = _point_problems(found[1], status, points, choice, choice_detail)
            problems += more
        if problems:
            raise StepError(problems)
        phase, step = found
        warnings = check_order(profile, inc, step_id, status) + point_warnings
        chosen = next((c for c in step.get("choices", ()) if c["id"] == choice), None)
        data = {"phase": phase["id"], "step": step_id, "status": status, "note": note, "who": who,
                "warnings": warnings}
        if points:
            data["points"] = {p: points[p] for p in step.get("points", ()) if p in points}
        if chosen is not None:
            data.update(choice=choice, choice_label=chosen["label"], choice_detail=choice_detail)
        entry = store.append(
            incident_id, "step", _step_text(phase, step, status, note, who, warnings, data.get("points"), chosen,
                                            choice_detail), operator=operator, occurred_at=when, data=data)
        if step.get("progress_report") and status in ("doing", "done"):
            ask_progress_report(store, incident_id, operator=operator,
                                why=f"対応方針（{step['label']}）を{STEP_STATUSES[status]}として記録")
    return entry, warnings


# ---------------------------------------------------------------------------
# The short path of a low threat level (大崎 5条(5))


def release_refusal(profile) -> str:
    """Why an incident cannot be released, citing the store's own rule (issue 16: never another
    organisation's clause): its ``threat_release`` source and level, or that it has none."""
    rule = profile.data.get("threat_release")
    if not rule:
        return "このプロファイルには緊急時対応の解除の定めがありません（収束で終えてください）"
    return f"緊急時対応の解除は、プロファイルの定める脅威度（{rule['source']}: レベル{rule['level']}）の不正行為だけです"


def release_rule(profile, incident: Incident) -> dict[str, Any] | None:
    """The profile's ``threat_release`` when it applies to ``incident`` (open, its type rated on
    the threat scale, at that level, the rule's step among its steps), else None."""
    rule = profile.data.get("threat_release")
    if not rule or incident.status != "open" or incident.level != rule["level"] or not incident.type_id:
        return None
    try:
        table = profile.level_table_for(incident.type_id)
    except KeyError:
        return None
    if not table or table.get("scale") != "threat" or _find_step(profile, incident, rule["step"]) is None:
        return None
    return rule


def release_low_threat(store, incident_id: str, *, operator: str, reported_to: str, reported: str,
                       note: str = "") -> list[TimelineEntry]:
    """脅威度1 (大崎 5条(5)「庁内で必要な報告を行い,緊急時対応を解除する」) as its own short path:
    the threat-level step 完了 (what was judged), a "decision" entry {decision: "release", level,
    reported_to (a role id), reported (what was reported inside), note, source}, every other
    open step 対象外 with the clause as reason, and the closure ("close"; notifications still
    未連絡 are listed on it as warnings). Refuses (:class:`ResponseError`) where the rule does
    not apply (another level, another profile, a closed incident) or without the report."""
    profile = store.profile
    with store.locked():
        inc = store.incident(incident_id)
        rule = release_rule(profile, inc)
        problems: list[str] = []
        _require_open(inc, problems)
        if rule is None and not problems:
            problems.append(release_refusal(profile))
        roles = {r["id"]: r for r in profile.roles}
        if reported_to not in roles:
            problems.append("庁内で報告した先（役割）を選んでください")
        for value, what in ((reported, "報告した内容"), (note, "メモ")):
            if not isinstance(value, str):
                problems.append(f"{what}は文字列で入力してください")
        if isinstance(reported, str) and not reported.strip():
            problems.append("庁内で報告した内容を入力してください")
        if problems:
            raise ResponseError(problems)
        reason = f"脅威度{rule['level']}: {rule['text']}（{rule['source']}）"
        out: list[TimelineEntry] = []
        phase, step = _find_step(profile, inc, rule["step"])
        if (inc.steps.get(step["id"]) or {}).get("status") != "done":
            judged = f"脅威度{rule['level']}と判定" + (f"。{note}" if note.strip() else "")
            out.append(store.append(incident_id, "step", _step_text(phase, step, "done", judged, "", []),
                                    operator=operator, data={"phase": phase["id"], "step": step["id"],
                                                             "status": "done", "note": judged, "who": "",
                                                             "warnings": []}))
        label = roles[reported_to]["label"]
        out.append(store.append(
            incident_id, "decision", f"緊急時対応の解除（{reason}）\n庁内の報告: {label}\n報告した内容: {reported}"
            + (f"\nメモ: {note}" if note.strip() else ""), operator=operator,
            data={"decision": "release", "level": rule["level"], "reported_to": reported_to, "reported": reported,
                  "note": note, "source": rule["source"]}))
        inc = store.incident(incident_id)
        for row in open_steps(profile, inc):
            ph, st = _find_step(profile, inc, row["step"])
            out.append(store.append(incident_id, "step", _step_text(ph, st, "na", reason, "", []), operator=operator,
                                    data={"phase": ph["id"], "step": st["id"], "status": "na", "note": reason,
                                          "who": "", "warnings": []}))
        entry, _warnings = close_incident(store, incident_id, operator=operator,
                                          note=f"緊急時対応を解除（{reason}）。庁内の報告: {label}", force=True)
        out.append(entry)
    return out


# ---------------------------------------------------------------------------
# Closure (収束) and reopening


def close_incident(store, incident_id: str, *, operator: str, note: str,
                   force: bool = False) -> tuple[TimelineEntry, list[str]]:
    """収束 (つくば 4(2)⑤(I)): record a "close" entry {status: "closed", note,
    open_steps, open_notifications, warnings, forced}.

    What is still open — steps 未着手/対応中, notifications 未連絡, a monitoring
    period not over — is listed as warnings. Without ``force`` such warnings
    refuse with :class:`CloseError` (``needs_force`` true, ``warnings`` and
    ``open_steps`` set) so the screen can ask; with ``force=True`` the closure
    is recorded with them. A note (what was confirmed) is required."""
    profile = store.profile
    with store.locked():
        inc = store.incident(incident_id)
        problems: list[str] = []
        _require_open(inc, problems)
        if not isinstance(note, str) or not note.strip():
            problems.append("収束の確認の内容をメモに入力してください")
        if problems:
            raise CloseError(problems)
        now = store.now()
        steps = open_steps(profile, inc)
        todo = [n for n in notification_state(profile, inc, now) if n["status"] == "todo"]
        warnings = [f"未完了の手順: {s['phase_label']}: {s['label']}（{s['status_label']}）" for s in steps]
        warnings += [f"未連絡: {n['label']}" + (f"（{n['purpose_label']}）" if n["purpose"] else "") for n in todo]
        mon = monitoring_status(inc, now)
        if mon is not None and not mon["ended"]:
            warnings.append(f"監視期間中です（{mon['end'].isoformat()} まで、残り{mon['days_left']}日）")
        if warnings and not force:
            raise CloseError([], warnings=warnings, open_steps=steps)
        lines = [f"収束: {_first_line(note)}", f"確認の内容: {note}"]
        lines.extend(f"注意: {w}" for w in warnings)
        entry = store.append(incident_id, "close", "\n".join(lines), operator=operator, data={
            "status": "closed", "note": note,
            "open_steps": [s["step"] for s in steps],
            "open_notifications": [n["party"] for n in todo],
            "warnings": warnings, "forced": bool(warnings)})
    return entry, warnings


def reopen_incident(store, incident_id: str, *, operator: str, reason: str) -> TimelineEntry:
    """Reopen a closed incident: a "reopen" entry {reason} (reason required, kept as typed)."""
    with store.locked():
        inc = store.incident(incident_id)
        problems = []
        if inc.status == "not_incident":
            problems.append("インシデントではないと判断した事案は再トリアージで再開します")
        elif inc.status != "closed":
            problems.append(f"インシデント {incident_id} は収束していません")
        if not isinstance(reason, str) or not reason.strip():
            problems.append("再開の理由を入力してください")
        if problems:
            raise ResponseError(problems)
        return store.append(incident_id, "reopen", f"再開: {reason}", operator=operator, data={"reason": reason})


# ---------------------------------------------------------------------------
# Monitoring (監視: つくば 4(2)③(II)(イ))

_KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_PERIOD_RE = re.compile(
    r"(?P<n>[0-9]+|[〇一二三四五六七八九十]+)\s*"
    r"(?P<unit>日間|日|週間|週|か月間|か月|ヶ月間|ヶ月|ケ月間|ケ月|カ月間|カ月|ヵ月間|ヵ月|箇月間|箇月|ヵ月|年間|年)")
MAX_PERIOD_DAYS = 3660  # about ten years


def _kanji_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if "十" not in text:
        if len(text) == 1:
            return _KANJI_DIGITS.get(text)
        return None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return None
    t = _KANJI_DIGITS.get(tens, None) if tens else 1
    o = _KANJI_DIGITS.get(ones, None) if ones else 0
    if t is None or o is None:
        return None
    return t * 10 + o


def parse_period(text: str):
    """A monitoring period as typed ("30日", "2週間", "1か月", "3ヶ月", "半年", "1年",
    full-width digits, kanji numerals up to 九十九) → dateutil ``relativedelta``.
    Months and years are calendar months and years (1/31 + 1か月 = 2/28 or 2/29).
    Raises :class:`MonitoringError`; a bare "3月" is refused (it reads as March)."""
    from dateutil.relativedelta import relativedelta

    if not isinstance(text, str) or not text.strip():
        raise MonitoringError("監視期間を入力してください（例: 30日、2週間、1か月、3か月）")
    s = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    if s in ("半年", "半年間"):
        return relativedelta(months=6)
    m = _PERIOD_RE.fullmatch(s)
    if m is None:
        hint = "（「3月」は月の名前と読めるため「3か月」と入力してください）" if re.fullmatch(r"\d+月間?", s) else ""
        raise MonitoringError(f"監視期間が読めません{hint}。例: 30日、2週間、1か月、3か月、1年")
    n = _kanji_number(m.group("n"))
    if not n:
        raise MonitoringError("監視期間は1以上の数で入力してください（例: 30日、1か月）")
    unit = m.group("unit").removesuffix("間")
    if unit == "日":
        delta = relativedelta(days=n)
    elif unit == "週":
        delta = relativedelta(weeks=n)
    elif unit == "年":
        delta = relativedelta(years=n)
    else:
        delta = relativedelta(months=n)
    probe = date(2000, 1, 1)
    if (probe + delta - probe).days > MAX_PERIOD_DAYS:
        raise MonitoringError("監視期間が長すぎます（10年まで）")
    return delta


def set_monitoring(store, incident_id: str, *, operator: str, start: Any, period: str,
                   note: str = "") -> TimelineEntry:
    """Record the monitoring period after recovery: a "decision" entry
    {decision: "monitoring", monitoring: {start, start_text, period, end}, note}.

    ``start`` is a date, a tz-aware datetime or typed text (a future date is
    allowed: a planned start); ``period`` is kept as typed and parsed with
    :func:`parse_period`; end = start + period. A later call replaces the period
    (the latest entry counts)."""
    from .timeparse import to_iso

    with store.locked():
        inc = store.incident(incident_id)
        problems: list[str] = []
        _require_open(inc, problems)
        start_iso, start_text = _when(start, store.now(), "監視の開始日", problems, required=True, planned=True)
        delta = None
        try:
            delta = parse_period(period)
        except MonitoringError as err:
            problems.extend(err.problems)
        if problems:
            raise MonitoringError(problems)
        begin = _iso(start_iso)
        end = begin + delta
        text = f"監視期間: {begin:%Y-%m-%d} から {period}（{end:%Y-%m-%d} まで）"
        if isinstance(note, str) and note.strip():
            text += f"\nメモ: {note}"
        return store.append(incident_id, "decision", text, operator=operator, data={
            "decision": "monitoring",
            "monitoring": {"start": start_iso, "start_text": start_text, "period": period, "end": to_iso(end)},
            "note": note if isinstance(note, str) else ""})


def monitoring_status(incident: Incident, now: datetime) -> dict[str, Any] | None:
    """The latest monitoring period: {start, end (dates in now's time zone), period
    (as typed), days_left (end − today in days; negative once past), ended
    (days_left ≤ 0), seq}; None when no period is recorded."""
    rec = response_state(incident).monitoring
    if rec is None:
        return None
    mon = rec.get("monitoring") or {}
    start = _iso(mon["start"]).astimezone(now.tzinfo).date()
    end = _iso(mon["end"]).astimezone(now.tzinfo).date()
    days_left = (end - now.date()).days
    return {"start": start, "end": end, "period": mon.get("period"), "days_left": days_left,
            "ended": days_left <= 0, "seq": rec["seq"]}


# ---------------------------------------------------------------------------
# Security council (大崎 4条(6) / 5条(6))


@dataclass
class CouncilDecision:
    """What a security council decided. Every item is optional (None / "" / []
    = not decided); the profile's ``council_items`` of the council step say
    which items this council decides. Text is kept as typed.

    system_stop: ids of :data:`SYSTEM_STOP_LABELS` ("none" alone = 停止しない);
    contact / support: party ids (roles or outside bodies) — each becomes a
    notification (support with purpose "support"); interim: [{business, measure}]
    (業務ごとに…措置); resume: True 運用再開を決定 / False 再開しない / None."""

    held_at: Any = None                      # 開催日時 (datetime or typed text; default now)
    system_stop: list[str] = field(default_factory=list)
    system_stop_note: str = ""
    contact: list[str] = field(default_factory=list)
    contact_note: str = ""
    support: list[str] = field(default_factory=list)
    support_note: str = ""
    damage_system: str = ""
    damage_scope: str = ""
    recovery_work: str = ""
    structure: str = ""
    visitors: str = ""
    enquiries: str = ""
    interim: list[dict[str, str]] = field(default_factory=list)
    progress: str = ""
    additional_measures: str = ""
    permanent_measures: str = ""
    resume: bool | None = None
    resume_note: str = ""
    text: str = ""                           # 議事・その他 (free text)

    def to_dict(self) -> dict[str, Any]:
        """The recorded items (held_at is the entry's occurred_at, not here)."""
        out: dict[str, Any] = {}
        for name in _COUNCIL_FIELDS:
            value = getattr(self, name)
            out[name] = [dict(v) for v in value] if name == "interim" else (
                list(value) if isinstance(value, list) else value)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "CouncilDecision":
        d = d or {}
        return cls(**{k: d[k] for k in (*_COUNCIL_FIELDS, "held_at") if k in d})

    def decided_items(self) -> list[str]:
        """The ids of :data:`COUNCIL_ITEMS` this decision says something about."""
        return [item for item, (_, fields) in COUNCIL_ITEMS.items()
                if any(_is_set(getattr(self, f)) for f in fields)]


_COUNCIL_FIELDS = tuple(f for _, fields in COUNCIL_ITEMS.values() for f in fields) + ("text",)


def _is_set(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, tuple, dict)):
        return bool(value)
    return True


def council_step(profile, incident: Incident) -> tuple[dict, dict] | None:
    """(phase, step) of the incident's security council step (``council_items``), or None."""
    for phase, step in applicable_steps(profile, incident):
        if step.get("council_items"):
            return phase, step
    return None


def _council_problems(profile, d: CouncilDecision, allowed: list[str], step: dict) -> list[str]:
    problems = []
    for name in (*_COUNCIL_FIELDS,):
        value = getattr(d, name)
        if name in ("system_stop", "contact", "support", "interim"):
            if not isinstance(value, list):
                problems.append(f"{COUNCIL_FIELD_LABELS[name]}: 一覧で指定してください")
        elif name == "resume":
            if value not in (None, True, False):
                problems.append("運用再開の決定は 決定した・しない・未決定 のいずれかです")
        elif not isinstance(value, str):
            problems.append(f"{COUNCIL_FIELD_LABELS.get(name, name)}: 文字列で入力してください")
    if problems:
        return problems
    unknown = [s for s in d.system_stop if s not in SYSTEM_STOP_LABELS]
    if unknown:
        problems.append(f"システムの停止の区分が不明です: {', '.join(map(repr, unknown))}"
                        f"（{', '.join(SYSTEM_STOP_LABELS)}）")
    if "none" in d.system_stop and len(d.system_stop) > 1:
        problems.append("「停止しない」と停止の区分は同時に選べません")
    for name in ("contact", "support"):
        for pid in getattr(d, name):
            try:
                profile.party(pid)
            except (KeyError, TypeError):
                problems.append(f"{COUNCIL_FIELD_LABELS[name]}: 連絡先が不明です: {pid!r}")
    for i, row in enumerate(d.interim, 1):
        if not isinstance(row, dict) or _blank(row.get("business")) or _blank(row.get("measure")):
            problems.append(f"代替措置 {i}: 業務と措置の両方を入力してください")
    decided = d.decided_items()
    if not decided and _blank(d.text):
        problems.append("決定した項目を1つ以上入力してください")
    outside = [i for i in decided if i not in allowed]
    if outside:
        problems.append("「" + "」「".join(COUNCIL_ITEMS[i][0] for i in outside)
                        + f"」は「{step['label']}」の項目にありません")
    return problems


def _council_text(profile, step: dict, d: CouncilDecision) -> str:
    lines = [f"{step['label']}: 決定の記録"]
    if d.system_stop:
        stop = "・".join(SYSTEM_STOP_LABELS[s] for s in d.system_stop)
        lines.append(f"システムの停止: {stop}" + (f"（{d.system_stop_note}）" if d.system_stop_note.strip() else ""))
    elif d.system_stop_note.strip():
        lines.append(f"システムの停止: {d.system_stop_note}")
    for name, item in (("contact", "関係機関への連絡"), ("support", "技術的支援依頼")):
        ids = getattr(d, name)
        extra = getattr(d, f"{name}_note")
        if ids or extra.strip():
            who = "、".join(_party_label(profile, p) for p in ids)
            lines.append(f"{item}: {who}" + (f"（{extra}）" if extra.strip() else ""))
    for name in ("damage_system", "damage_scope", "recovery_work", "structure", "visitors", "enquiries",
                 "progress", "additional_measures", "permanent_measures"):
        value = getattr(d, name)
        if value.strip():
            lines.append(f"{COUNCIL_FIELD_LABELS[name]}: {value}")
    for row in d.interim:
        lines.append(f"代替措置（{row['business']}）: {row['measure']}")
    if d.resume is not None or d.resume_note.strip():
        verdict = {True: "運用再開を決定", False: "運用再開しない", None: "未決定"}[d.resume]
        lines.append(f"運用再開の決定: {verdict}" + (f"（{d.resume_note}）" if d.resume_note.strip() else ""))
    if d.text.strip():
        lines.append(f"その他: {d.text}")
    return "\n".join(lines)


def record_council(store, incident_id: str, decision: CouncilDecision, *,
                   operator: str) -> list[TimelineEntry]:
    """Record a security council's decision (大崎 4条(6) 審議 / 5条(6) 決定): a
    "decision" entry {decision: "council", step, council: {...}} at ``held_at``,
    then a notification (status "todo") for each body to contact that has no
    ordinary notification yet, and for each body asked for technical support
    (purpose "support") that has no open one. Refuses (:class:`CouncilError`)
    when the incident's procedure has no council step, an item is not one of
    that council's items, or an id is unknown. Returns the entries appended."""
    profile = store.profile
    if not isinstance(decision, CouncilDecision):
        raise CouncilError("決定は CouncilDecision で指定してください")
    with store.locked():
        inc = store.incident(incident_id)
        problems: list[str] = []
        _require_open(inc, problems)
        found = council_step(profile, inc)
        if found is None:
            problems.append("このインシデントの手順にセキュリティ会議はありません")
        else:
            problems += _council_problems(profile, decision, found[1]["council_items"], found[1])
        held, _ = _when(decision.held_at, store.now(), "会議の日時", problems)
        if problems:
            raise CouncilError(problems)
        phase, step = found
        source = step.get("source") or phase["source"]
        out = [store.append(incident_id, "decision", _council_text(profile, step, decision), operator=operator,
                            occurred_at=held,
                            data={"decision": "council", "step": step["id"], "council": decision.to_dict()})]
        threads = _threads(inc)
        for pid in decision.contact:
            if any(t["party"] == pid and t["purpose"] == "" for t in threads):
                continue
            reason = f"{source}: セキュリティ会議の決定（関係機関への連絡）"
            out.append(_open_notification(store, profile, incident_id, pid, operator=operator, purpose="",
                                          rule="council", reason=reason))
            threads.append({"party": pid, "purpose": "", "status": "todo"})
        for pid in decision.support:
            if any(t["party"] == pid and t["purpose"] == "support" and t["status"] == "todo" for t in threads):
                continue
            reason = f"{source}: セキュリティ会議の決定（技術的支援依頼）"
            out.append(_open_notification(store, profile, incident_id, pid, operator=operator,
                                          purpose="support", rule="council", reason=reason))
            threads.append({"party": pid, "purpose": "support", "status": "todo"})
    return out


# ---------------------------------------------------------------------------
# Resuming operation (大崎 4条(8)(9) / 5条(8))


def resume_step(profile, incident: Incident) -> tuple[dict, dict] | None:
    """(phase, step) of the incident's 運用再開 step (one with ``resume``), or None."""
    for phase, step in applicable_steps(profile, incident):
        if step.get("resume"):
            return phase, step
    return None


def _approval(state: ResponseState) -> tuple[bool, str, bool]:
    """(met, how, council_needed) for an "approval" condition: the council's
    運用再開の決定 is required once a council decided to stop the system (the
    ただし clause); otherwise a confirmation (the chief's approval) or a council
    resume decision will do. Only decisions after the last resume count."""
    since = state.resumes[-1]["seq"] if state.resumes else 0
    councils = [c for c in state.council if c["seq"] > since]
    stops = [c["seq"] for c in councils
             if [s for s in (c.get("council") or {}).get("system_stop") or [] if s != "none"]]
    last_stop = max(stops, default=0)
    verdicts = [c for c in councils if c["seq"] >= last_stop
                and (c.get("council") or {}).get("resume") is not None]
    council_yes = bool(verdicts) and verdicts[-1]["council"]["resume"] is True
    if stops:
        return council_yes, ("セキュリティ会議の運用再開の決定" if council_yes else ""), True
    if council_yes:
        return True, "セキュリティ会議の運用再開の決定", False
    conf = state.confirmations.get("approval")
    return conf is not None, ("承認の記録" if conf else ""), False


def resume_conditions(profile, incident: Incident) -> list[dict[str, Any]]:
    """The resume conditions of the incident's 運用再開 step with their state:
    {id, label, kind, text, met, how, record}. [] when there is no such step.

    kind "step": the named step is 完了; "confirm": a confirmation was recorded
    (:func:`confirm_resume_condition`) since the last resume; "approval": see
    the ただし clause (a council stop needs the council's resume decision)."""
    found = resume_step(profile, incident)
    if found is None:
        return []
    state = response_state(incident)
    out = []
    for cond in found[1]["resume"]["conditions"]:
        row = {"id": cond["id"], "label": cond["label"], "kind": cond["kind"], "text": cond["text"],
               "met": False, "how": "", "record": None}
        if cond["kind"] == "step":
            rec = incident.steps.get(cond["step"]) or {}
            row["met"] = rec.get("status") == "done"
            row["how"] = "手順の完了" if row["met"] else ""
            row["record"] = rec or None
        elif cond["kind"] == "confirm":
            rec = state.confirmations.get(cond["id"])
            row["met"], row["how"], row["record"] = rec is not None, ("確認の記録" if rec else ""), rec
        else:
            met, how, council_needed = _approval(state)
            row["met"], row["how"] = met, how
            row["council_needed"] = council_needed
            row["record"] = state.confirmations.get(cond["id"])
        out.append(row)
    return out


def resume_check(profile, incident: Incident) -> list[str]:
    """What is still missing before operation may resume (Japanese, one per
    condition); [] when it may. A procedure without a 運用再開 step gives one
    problem saying so."""
    if resume_step(profile, incident) is None:
        return ["このインシデントの手順に運用再開はありません"]
    out = []
    for row in resume_conditions(profile, incident):
        if row["met"]:
            continue
        if row["kind"] == "approval" and row.get("council_needed"):
            out.append(f"{row['label']}: セキュリティ会議でシステム停止を決定したため、"
                       "会議の運用再開の決定（record_council の resume）が必要です")
        elif row["kind"] == "step":
            out.append(f"{row['label']}: 手順が完了していません")
        else:
            out.append(f"{row['label']}: 記録がありません")
    return out


def resume_parties(profile, incident: Incident) -> list[dict]:
    """The bodies to tell that operation resumed (the step's ``resume.parties``)."""
    found = resume_step(profile, incident)
    if found is None:
        return []
    return [profile.party(pid) for pid in found[1]["resume"]["parties"]]


def confirm_resume_condition(store, incident_id: str, condition_id: str, *, operator: str, note: str,
                             who: str = "", occurred_at: Any = None) -> TimelineEntry:
    """Record that a "confirm" or "approval" resume condition holds (e.g. 本人確認情報の
    整合性を確認した, セキュリティ統括責任者の承認): a "decision" entry
    {decision: "resume_condition", condition, step, note, who}. ``note`` says
    what was confirmed (required), ``who`` by whom. A "step" condition is met by
    completing its step instead."""
    profile = store.profile
    with store.locked():
        inc = store.incident(incident_id)
        problems: list[str] = []
        _require_open(inc, problems)
        found = resume_step(profile, inc)
        cond = None
        if found is None:
            problems.append("このインシデントの手順に運用再開はありません")
        else:
            cond = next((c for c in found[1]["resume"]["conditions"] if c["id"] == condition_id), None)
            if cond is None:
                known = ", ".join(c["id"] for c in found[1]["resume"]["conditions"])
                problems.append(f"運用再開の条件が不明です: {condition_id!r}（{known}）")
            elif cond["kind"] == "step":
                _, st = profile.step(cond["step"])
                problems.append(f"「{cond['label']}」は手順「{st['label']}」の完了で満たします")
        if not isinstance(note, str) or not note.strip():
            problems.append("確認した内容をメモに入力してください")
        if not isinstance(who, str):
            problems.append("確認した人は文字列で入力してください")
        when, _ = _when(occurred_at, store.now(), "確認の日時", problems)
        if problems:
            raise ResumeError(problems)
        text = f"運用再開の条件: {cond['label']}（確認）\nメモ: {note}"
        if who.strip():
            text += f"\n確認: {who}"
        return store.append(incident_id, "decision", text, operator=operator, occurred_at=when, data={
            "decision": "resume_condition", "condition": condition_id, "step": found[1]["id"],
            "note": note, "who": who})


def record_resume(store, incident_id: str, *, operator: str, note: str, who: str = "",
                  occurred_at: Any = None) -> list[TimelineEntry]:
    """Resume operation (大崎 4条(8)(9) / 5条(8)). Refuses (:class:`ResumeError`,
    ``problems`` = :func:`resume_check`) while a condition is missing. Then
    appends, in one go: a "decision" {decision: "resume", step, conditions,
    parties, note}, the 運用再開 step as 完了 (with the note), and one
    notification (status "todo", purpose "resume") per body to tell that
    operation resumed (関係機関に運用再開の連絡), skipping a body that already has
    an open one. Returns the entries appended."""
    profile = store.profile
    with store.locked():
        inc = store.incident(incident_id)
        problems: list[str] = []
        _require_open(inc, problems)
        problems += resume_check(profile, inc)
        found = resume_step(profile, inc)
        if found is not None:
            _, step = found
            if step["note_required"] and (not isinstance(note, str) or not note.strip()):
                problems.append(f"「{step['label']}」のメモ（再開の内容）を入力してください")
        if not isinstance(who, str):
            problems.append("担当は文字列で入力してください")
        when, _ = _when(occurred_at, store.now(), "運用再開の日時", problems)
        if problems:
            raise ResumeError(problems)
        phase, step = found
        spec = step["resume"]
        conditions = resume_conditions(profile, inc)
        note = note if isinstance(note, str) else ""
        met = "、".join(f"{c['label']}（{c['how']}）" for c in conditions)
        parties = list(spec["parties"])
        labels = "、".join(_party_label(profile, p) for p in parties)
        out = [store.append(
            incident_id, "decision", f"運用再開: {_first_line(note) or step['label']}\n条件: {met}\n連絡先: {labels}",
            operator=operator, occurred_at=when,
            data={"decision": "resume", "step": step["id"], "conditions": [c["id"] for c in conditions],
                  "parties": parties, "note": note})]
        warnings = check_order(profile, inc, step["id"], "done")
        out.append(store.append(
            incident_id, "step", _step_text(phase, step, "done", note, who, warnings), operator=operator,
            occurred_at=when,
            data={"phase": phase["id"], "step": step["id"], "status": "done", "note": note, "who": who,
                  "warnings": warnings}))
        notice = None
        if spec.get("notice_step"):
            try:
                notice = profile.step(spec["notice_step"])[1]
            except KeyError:  # pragma: no cover - the profile schema checks the reference
                notice = None
        reason = f"{spec['source']}: " + (notice["text"] if notice else "関係機関に運用再開の連絡をする。")
        open_resume = {t["party"] for t in _threads(inc) if t["purpose"] == "resume" and t["status"] == "todo"}
        for pid in parties:
            if pid in open_resume:
                continue
            out.append(_open_notification(store, profile, incident_id, pid, operator=operator, purpose="resume",
                                          rule="resume", reason=reason))
    return out


# ---------------------------------------------------------------------------
# Notifications


def _threads(incident: Incident) -> list[dict[str, Any]]:
    """Notification threads folded from the "notification" entries: an entry
    without ``thread`` opens one (triage, add_notification, …); an entry with
    ``thread`` (the seq of the opening entry) updates it."""
    threads: dict[int, dict[str, Any]] = {}
    order: list[int] = []
    for n in incident.notifications:
        ref = n.get("thread")
        if isinstance(ref, int) and ref in threads:
            t = threads[ref]
            t["history"].append(n)
            t["status"] = n.get("status", t["status"])
            continue
        threads[n["seq"]] = {"thread": n["seq"], "party": n.get("party"), "purpose": n.get("purpose") or "",
                             "status": n.get("status", "todo"), "opening": n, "history": [n]}
        order.append(n["seq"])
    return [threads[s] for s in order]


def _due(profile, opening: dict[str, Any]) -> str | None:
    from .timeparse import to_iso

    if opening.get("due"):
        return opening["due"]
    hours = None
    rule_id = opening.get("rule")
    if rule_id:
        rule = next((r for r in profile.notification_rules if r["id"] == rule_id), None)
        if rule is not None:
            hours = rule.get("due_hours")
    if hours is None:
        hours = profile.notification_due_hours
    try:
        opened = _iso(opening["at"])
    except (KeyError, TypeError, ValueError):
        return None
    return to_iso(opened + timedelta(hours=hours))


def notification_state(profile, incident: Incident, now: datetime | None = None) -> list[dict[str, Any]]:
    """One row per notification thread, in the order they were opened:

    {thread (seq of the opening entry), party, label, purpose, purpose_label,
    status, status_label, rule, reason, opened_at, due (ISO), overdue, at (time
    of the latest entry), means, person, said, why (of the latest entry),
    history (every entry's data, oldest first)}.

    ``due``: the time stored when the thread was opened, else opened_at plus the
    rule's ``due_hours`` or the profile's ``notification_due_hours``.
    ``overdue``: still 未連絡 after ``due`` (False when ``now`` is None)."""
    rows = []
    for t in _threads(incident):
        opening, last = t["opening"], t["history"][-1]
        due = _due(profile, opening)
        status = t["status"]
        overdue = bool(now is not None and status == "todo" and due and now > _iso(due))
        rows.append({
            "thread": t["thread"], "party": t["party"], "label": _party_label(profile, t["party"], opening),
            "purpose": t["purpose"], "purpose_label": NOTIFICATION_PURPOSES.get(t["purpose"], t["purpose"]),
            "status": status, "status_label": NOTIFICATION_STATUSES.get(status, status),
            "rule": opening.get("rule"), "reason": opening.get("reason", ""),
            "opened_at": opening.get("at"), "due": due, "overdue": overdue, "at": last.get("at"),
            "means": last.get("means", ""), "person": last.get("person", ""),
            "said": last.get("said", ""), "why": last.get("why", ""),
            "permitted_by": last.get("permitted_by", ""),
            "history": [dict(h) for h in t["history"]],
        })
    return rows


def overdue_count(profile, incident: Incident, now: datetime) -> int:
    """How many notifications are still 未連絡 after their deadline."""
    return sum(1 for row in notification_state(profile, incident, now) if row["overdue"])


def _open_notification(store, profile, incident_id: str, party: str, *, operator: str, purpose: str,
                       rule: str | None, reason: str, label: str | None = None,
                       due: str | None = None) -> TimelineEntry:
    """Append the opening "notification" entry of a thread (status todo), with its deadline."""
    from .timeparse import to_iso

    if due is None:
        hours = profile.notification_due_hours
        if rule:
            r = next((x for x in profile.notification_rules if x["id"] == rule), None)
            if r is not None and r.get("due_hours") is not None:
                hours = r["due_hours"]
        due = to_iso(store.now() + timedelta(hours=hours))
    shown = label or _party_label(profile, party)
    what = NOTIFICATION_PURPOSES.get(purpose, purpose) if purpose else "連絡"
    data = {"party": party, "status": "todo", "rule": rule, "reason": reason, "purpose": purpose, "due": due}
    if label:
        data["label"] = label
    return store.append(incident_id, "notification", f"{shown}への{what}（未連絡）: {reason}",
                        operator=operator, data=data)


def add_notification(store, incident_id: str, party: str, *, operator: str, reason: str,
                     purpose: str = "", due: Any = None) -> TimelineEntry:
    """Add a party to tell, by hand: a "notification" entry {party, status:
    "todo", rule: None, reason, purpose, due, label?}. ``party`` is a profile
    role/outside-body id, or the name of anyone else as typed (kept as label).
    ``reason`` is required; ``due`` (datetime or typed text, the future allowed)
    defaults to now + the profile's ``notification_due_hours``. Refuses a party
    that already has an open (未連絡) notification for the same purpose."""
    profile = store.profile
    with store.locked():
        inc = store.incident(incident_id)
        problems: list[str] = []
        _require_open(inc, problems)
        if _blank(party):
            problems.append("連絡先を入力してください")
        if not isinstance(reason, str) or not reason.strip():
            problems.append("連絡する理由を入力してください")
        if purpose not in NOTIFICATION_PURPOSES:
            problems.append(f"連絡の種類が不明です: {purpose!r}（{', '.join(map(repr, NOTIFICATION_PURPOSES))}）")
        due_iso, _ = _when(due, store.now(), "連絡の期限", problems, planned=True)
        label = None
        if not _blank(party):
            try:
                profile.party(party)
            except KeyError:
                label = party  # someone outside the profile: the name as typed
            if any(t["party"] == party and t["purpose"] == purpose and t["status"] == "todo"
                   for t in _threads(inc)):
                problems.append(f"{_party_label(profile, party)}への連絡は既に未連絡の一覧にあります")
        if problems:
            raise NotificationError(problems)
        return _open_notification(store, profile, incident_id, party, operator=operator, purpose=purpose,
                                  rule=None, reason=reason, label=label, due=due_iso)


def support_rule(profile) -> dict[str, Any] | None:
    """The profile's ``triage_support`` ({parties, reasons}) or None."""
    return profile.data.get("triage_support")


def request_support(store, incident_id: str, party: str, *, operator: str, reason: str, note: str,
                    means: str = "", person: str = "", occurred_at: Any = None) -> list[TimelineEntry]:
    """Ask a vendor or an expert for help already during triage (つくば 4(2)②(I) ログ等の検査及び分析,
    (II) 優先順位の判断が困難): a "notification" thread of purpose "support" {party, status: "todo",
    rule: None, reason (the clause's label and what is asked), purpose: "support", stage: "triage",
    support_reason, source, due}; with ``person`` (who took the request) and ``means`` it is
    marked 連絡済み at once (:func:`update_notification`). ``party`` is one of the profile's
    ``triage_support.parties``; ``reason`` one of its reasons. Returns the entries appended."""
    from .timeparse import to_iso

    profile = store.profile
    rule = support_rule(profile)
    problems: list[str] = []
    if rule is None:
        raise NotificationError("このプロファイルにはトリアージでの支援依頼の定めがありません")
    reasons = {r["id"]: r for r in rule["reasons"]}
    if party not in rule["parties"]:
        problems.append("依頼先を選んでください（" + "、".join(_party_label(profile, p) for p in rule["parties"]) + "）")
    if reason not in reasons:
        problems.append("依頼の理由を選んでください（" + "、".join(r["label"] for r in rule["reasons"]) + "）")
    for value, what in ((note, "依頼の内容"), (means, "方法"), (person, "相手")):
        if not isinstance(value, str):
            problems.append(f"{what}は文字列で入力してください")
    if not problems and not note.strip():
        problems.append("依頼の内容（何を見てほしいか）を入力してください")
    if not problems and person.strip() and not means.strip():
        problems.append("依頼した方法（電話・メール等）を入力してください")
    with store.locked():
        inc = store.incident(incident_id)
        _require_open(inc, problems)
        if not problems and any(t["party"] == party and t["purpose"] == "support" and t["status"] == "todo"
                                for t in _threads(inc)):
            problems.append(f"{_party_label(profile, party)}への技術的支援依頼は既に未連絡の一覧にあります")
        if problems:
            raise NotificationError(problems)
        r = reasons[reason]
        due = to_iso(store.now() + timedelta(hours=profile.notification_due_hours))
        label = _party_label(profile, party)
        text = f"{label}への技術的支援依頼（トリアージ、{r['source']} {r['label']}）\n依頼の内容: {note}"
        out = [store.append(incident_id, "notification", text, operator=operator, data={
            "party": party, "status": "todo", "rule": None, "reason": f"{r['label']}（{r['source']}）: {note}",
            "purpose": "support", "due": due, "stage": "triage", "support_reason": reason, "source": r["source"]})]
    if person.strip():
        out.append(update_notification(store, incident_id, party, "done", operator=operator, means=means,
                                       person=person, said=note, occurred_at=occurred_at, purpose="support"))
    return out


def _pick_thread(profile, inc: Incident, party: str, purpose: str | None,
                 problems: list[str]) -> dict[str, Any] | None:
    threads = [t for t in _threads(inc) if t["party"] == party
               and (purpose is None or t["purpose"] == purpose)]
    if not threads:
        problems.append(f"{_party_label(profile, party)}への連絡は一覧にありません（先に追加してください）")
        return None
    open_ = [t for t in threads if t["status"] == "todo"]
    if len(open_) == 1:
        return open_[0]
    purposes = {t["purpose"] for t in (open_ or threads)}
    if len(purposes) > 1 and purpose is None:
        names = "、".join(NOTIFICATION_PURPOSES.get(p, p) for p in sorted(purposes))
        problems.append(f"{_party_label(profile, party)}への連絡が複数あります（{names}）: 種類を指定してください")
        return None
    return (open_ or threads)[-1]


def update_notification(store, incident_id: str, party: str, status: str, *, operator: str,
                        means: str = "", person: str = "", said: str = "", why: str = "",
                        occurred_at: Any = None, purpose: str | None = None,
                        permitted_by: str = "") -> TimelineEntry:
    """Record a call or a decision about a notification: "done" 連絡済み (means:
    how — 電話・メール…, person: who was reached, said: what was said; all
    required), "na" 不要 (why required), or "todo" 未連絡 (an attempt that did
    not get through: what happened in ``said``). ``occurred_at`` is when
    (datetime or typed text; default now). The thread is the party's open one
    (or the one of ``purpose``). Appends a "notification" entry {party, thread,
    status, means, person, said, why, purpose, permitted_by?}; text kept as typed.
    ``permitted_by``: who permitted giving the material to an outside body; required
    for "done" to an outside body where the profile's ``outside_permission`` applies
    to the incident's class (水戸 3(2)ケ(イ), csirt_tui.outside)."""
    profile = store.profile
    with store.locked():
        inc = store.incident(incident_id)
        problems: list[str] = []
        _require_open(inc, problems)
        if status not in NOTIFICATION_STATUSES:
            problems.append(f"連絡の状態が不明です: {status!r}（{', '.join(NOTIFICATION_STATUSES)}）")
        for name, value in (("means", means), ("person", person), ("said", said), ("why", why)):
            if not isinstance(value, str):
                problems.append(f"{name}: 文字列で入力してください")
        if not problems:
            if status == "done":
                if not means.strip():
                    problems.append("連絡の手段（電話・メール等）を入力してください")
                if not person.strip():
                    problems.append("連絡がついた相手を入力してください")
                if not said.strip():
                    problems.append("伝えた内容を入力してください")
            elif status == "na" and not why.strip():
                problems.append("連絡が不要な理由を入力してください")
            elif status == "todo" and not (said.strip() or why.strip()):
                problems.append("未連絡のままにする経緯（不在・折り返し待ち等）を入力してください")
        if not isinstance(permitted_by, str):
            problems.append("permitted_by: 文字列で入力してください")
        elif status == "done" and isinstance(party, str) and party in {b["id"] for b in profile.outside_bodies}:
            from .outside import problem as outside_problem

            refused = outside_problem(profile, inc, permitted_by)
            if refused:
                problems.append(refused)
        thread = _pick_thread(profile, inc, party, purpose, problems) if isinstance(party, str) else None
        if not isinstance(party, str):
            problems.append("連絡先を指定してください")
        when, _ = _when(occurred_at, store.now(), "連絡の日時", problems)
        if problems:
            raise NotificationError(problems)
        label = _party_label(profile, party, thread["opening"])
        head = f"{label}への連絡: {NOTIFICATION_STATUSES[status]}"
        if thread["purpose"]:
            head += f"（{NOTIFICATION_PURPOSES.get(thread['purpose'], thread['purpose'])}）"
        lines = [head]
        if status == "done" or means.strip() or person.strip():
            lines.append(f"手段: {means}　相手: {person}")
        if said.strip():
            lines.append(f"内容: {said}")
        if why.strip():
            lines.append(f"理由: {why}")
        data = {"party": party, "thread": thread["thread"], "status": status, "means": means,
                "person": person, "said": said, "why": why, "purpose": thread["purpose"]}
        if permitted_by.strip():
            lines.append(f"外部への提供の許可: {permitted_by}")
            data["permitted_by"] = permitted_by
        return store.append(incident_id, "notification", "\n".join(lines), operator=operator, occurred_at=when,
                            data=data)


# ---------------------------------------------------------------------------
# Possible crime (水戸 7-6(3))


def crime_parties(profile) -> list[tuple[dict, dict | None]]:
    """(police body, the notification rule naming it for crime or None) for each
    outside body of kind "police"."""
    rules = [r for r in profile.notification_rules if r["when"].get("crime") is True]
    out = []
    for body in profile.outside_bodies:
        if body["kind"] != "police":
            continue
        rule = next((r for r in rules if body["id"] in r["parties"]), None)
        out.append((body, rule))
    return out


def flag_crime(store, incident_id: str, *, operator: str, note: str) -> list[TimelineEntry]:
    """Possible crime (水戸 7-6(3): 不正アクセス禁止法違反等の犯罪の可能性がある場合には、
    攻撃の記録を保存するとともに、警察及び関係機関との緊密な連携に努めなければならない):
    a "decision" entry {decision: "crime", crime: true, keep_records: true, note}
    (note: why, required), then a notification (status "todo") for the
    profile's police body unless the incident already has one. Returns the
    entries appended; a profile without a police body adds none."""
    profile = store.profile
    with store.locked():
        inc = store.incident(incident_id)
        problems: list[str] = []
        _require_open(inc, problems)
        if not isinstance(note, str) or not note.strip():
            problems.append("犯罪の可能性があると判断した理由を入力してください")
        if problems:
            raise ResponseError(problems)
        police = crime_parties(profile)
        text = ("犯罪の可能性あり（攻撃の記録を保存し、警察との連携に努める）\n"
                f"理由: {note}")
        if not police:
            text += "\n注意: このプロファイルに警察の連絡先がありません（手で追加してください）"
        out = [store.append(incident_id, "decision", text, operator=operator,
                            data={"decision": "crime", "crime": True, "keep_records": True, "note": note})]
        have = {t["party"] for t in _threads(inc)}
        for body, rule in police:
            if body["id"] in have:
                continue
            reason = rule["reason"] if rule else "犯罪の可能性（不正アクセス禁止法違反等）"
            out.append(_open_notification(store, profile, incident_id, body["id"], operator=operator, purpose="",
                                          rule=rule["id"] if rule else None, reason=reason))
    return out


# ---------------------------------------------------------------------------
# Drills (訓練)


def mark_drill(store, incident_id: str, *, operator: str, drill: bool = True, note: str = "") -> TimelineEntry:
    """Mark an incident as a drill (訓練), or take the mark back (``drill=False``):
    a "decision" entry {decision: "drill", drill, note}; the latest one wins
    (``Incident.drill``, the index row's ``drill``). Drills are counted apart
    in the committee summary (csirt_tui.report.summary). Any status may be
    marked (a drill is often recognised as one after it is closed). ``note``
    (why, who ordered the drill …) is optional and kept as typed. Refuses
    (:class:`ResponseError`) when it would change nothing."""
    if not isinstance(note, str):
        raise ResponseError("メモは文字列で指定してください")
    drill = bool(drill)
    with store.locked():
        inc = store.incident(incident_id)
        if inc.drill == drill:
            raise ResponseError(f"インシデント {incident_id} は既に訓練として記録されています" if drill
                                else f"インシデント {incident_id} は訓練として記録されていません")
        text = "訓練として記録" if drill else "訓練の指定を取り消し"
        if note.strip():
            text += f"\n{note}"
        return store.append(incident_id, "decision", text, operator=operator,
                            data={"decision": "drill", "drill": drill, "note": note})

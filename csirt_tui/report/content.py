"""What goes into 報告様式1, taken from the record (no ReportLab here, so the
TUI can show and edit the parts without loading the PDF machinery).

Each section is filled from the record where it holds the answer; what the
record lacks stays empty (``Part.empty``) and is printed as a blank line to
fill by hand, never invented. The handler may write the free-text parts
(:data:`REPORT_FIELDS`) before export; each such text is a new "report"
entry on the record (:func:`set_report_text`), the latest one is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import DomainError
from ..model import KINDS, STATUS_LABELS, STEP_STATUSES, Incident, TimelineEntry
from ..textsafe import one_line
from ..timeparse import from_iso, to_wareki
from ..views import UNREAD_TIME

# The parts the handler may write (id → label shown in the dialog and the record).
REPORT_FIELDS: dict[str, str] = {
    "summary": "冒頭の事案名（「業務において〇〇〇〇〇の事案が発生した」）",
    "service": "2 事案が発生したサービスの概要及び影響並びに情報システムの概要",
    "cause": "3 事案が発生した原因（及び原因として想定される行為）",
    "damage": "4 確認した被害状況及び影響範囲（損害規模）",
    "first_response": "5 初動対応",
    "recovery": "5 復旧状況",
    "outlook": "5 復旧の見込み",
    "cost": "5 復旧に要する額",
    "measures": "6 再発防止策（恒久対策）",
    "external": "7 対外的な対応",
    "other": "8 その他",
}

VARIANTS: dict[str, str] = {
    "occurrence": "発生報告",
    "closure": "収束報告",
}

BLANK_NOTE = "（記録にありません。手書きで記入してください）"


class ReportContentError(DomainError):
    pass


@dataclass
class Part:
    """One fillable part of a section: lines from the record, then the
    handler's text (if written). Empty → printed as blank lines."""

    label: str | None
    auto: list[str] = field(default_factory=list)
    edited: str | None = None
    field: str | None = None       # the REPORT_FIELDS id the handler can write

    @property
    def empty(self) -> bool:
        return not self.auto and not (self.edited or "").strip()


@dataclass
class Section:
    no: str
    label: str
    fill: str
    parts: list[Part]


@dataclass
class RecordRow:
    seq: int
    when: str
    operator: str
    kind: str
    text: str


@dataclass
class Form1:
    incident_id: str
    variant: str
    date: str                  # 和暦, e.g. 令和8年11月22日
    addressee: str
    sender: str
    sender_note: str
    title: str
    opening_before: str        # the opening sentence around {summary}
    summary: str | None        # None → blank to fill by hand
    opening_after: str
    sections: list[Section]
    record: list[RecordRow]
    classification: str
    encryption_required: bool
    status: str
    # the newest entry when the report was made: its seq and hash anchor the
    # record on paper (csirt-desk verify checks the store against the same chain)
    head_seq: int = 0
    head_hash: str = ""
    drill: bool = False        # a drill (訓練): 【訓練】 on the title and on every page


# ---------------------------------------------------------------------------
# Small look-ups


def _label(items: list[dict], ident: Any, default: str | None = None) -> str | None:
    for item in items or ():
        if item.get("id") == ident:
            return item.get("label", ident)
    return default if default is not None else (str(ident) if ident else None)


def _time(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        dt = from_iso(iso)
    except (ValueError, TypeError):
        return str(iso)
    return f"{to_wareki(dt)} {dt.hour}時{dt.minute:02d}分"


def record_time(iso: str | None) -> str:
    """A compact, unambiguous time for the record table: 2026-11-22 10:30."""
    if not iso:
        return ""
    try:
        dt = from_iso(iso)
    except (ValueError, TypeError):
        return str(iso)
    return dt.strftime("%Y-%m-%d %H:%M")


def latest_answers(incident: Incident) -> dict[str, Any]:
    if not incident.classifications:
        return {}
    return incident.classifications[-1].get("answers") or {}


def report_edits(incident: Incident) -> dict[str, dict[str, Any]]:
    """The latest text the handler wrote for each part: {field: {text, seq, at, operator}}."""
    out: dict[str, dict[str, Any]] = {}
    for e in incident.entries:
        d = e.data or {}
        if e.kind == "report" and d.get("field") in REPORT_FIELDS and isinstance(d.get("text"), str):
            out[d["field"]] = {"text": d["text"], "seq": e.seq, "at": e.when, "operator": e.operator}
    return out


def set_report_text(store, incident_id: str, field_id: str, text: str, *, operator: str) -> TimelineEntry | None:
    """Put the handler's text for one part of 報告様式1 on the record (a new
    "report" entry; the text is kept verbatim). Returns None when the text is
    the same as the current one (nothing to record)."""
    if field_id not in REPORT_FIELDS:
        raise ReportContentError(f"報告書の項目が不正です: {field_id!r}（{', '.join(REPORT_FIELDS)}）")
    if not isinstance(text, str):
        raise ReportContentError("記載は文字列で指定してください")
    with store.locked():
        inc = store.incident(incident_id)
        current = report_edits(inc).get(field_id)
        if current is not None and current["text"] == text:
            return None
        if current is None and not text.strip():
            return None
        label = REPORT_FIELDS[field_id]
        return store.append(incident_id, "report", f"報告様式1の記載「{label}」:\n{text}", operator=operator,
                            data={"report": "form1", "field": field_id, "text": text})


def threat_choice(profile, incident: Incident) -> dict[str, Any] | None:
    """The kind of threat chosen for the cause (the latest "report" entry with field
    "threat"): {threat (id or None), label, text, source, seq, at, operator}; None when
    none was ever chosen or the choice was taken back."""
    chosen = None
    for e in incident.entries:
        d = e.data or {}
        if e.kind == "report" and d.get("field") == "threat":
            chosen = {**d, "seq": e.seq, "at": e.when, "operator": e.operator}
    if not chosen or not chosen.get("threat"):
        return None
    known = next((t for t in profile.threats if t["id"] == chosen["threat"]), None)
    if known is not None:
        chosen.update(label=known["label"], text=known["text"], source=known["source"])
    return chosen


def threat_line(choice: dict[str, Any] | None) -> list[str]:
    """The chosen kind of threat as printed in section 3 (the rule's own words)."""
    if not choice:
        return []
    return [f"脅威の種類: {choice.get('label', '')}（{choice.get('source', '')}）\n　{choice.get('text', '')}"]


def set_threat(store, incident_id: str, threat_id: str | None, *, operator: str) -> TimelineEntry | None:
    """Record the kind of threat behind the cause of 報告様式1 section 3 (むつ ポリシー
    「対象とする脅威」): a "report" entry {report: "form1", field: "threat", threat, label,
    text, source}; ``None`` takes the choice back (a new entry). Returns None when it
    changes nothing. Refuses an id the profile does not name."""
    profile = store.profile
    known = {t["id"]: t for t in profile.threats}
    if threat_id is not None and threat_id not in known:
        names = "、".join(f"{k}（{t['label']}）" for k, t in known.items()) or "このプロファイルに脅威の種類はありません"
        raise ReportContentError(f"脅威の種類が不明です: {threat_id!r}（{names}）")
    with store.locked():
        inc = store.incident(incident_id)
        current = threat_choice(profile, inc)
        if (current or {}).get("threat") == threat_id:
            return None
        if threat_id is None:
            return store.append(incident_id, "report", "報告様式1の記載「3 原因」: 脅威の種類の指定を取り消し",
                                operator=operator, data={"report": "form1", "field": "threat", "threat": None})
        t = known[threat_id]
        return store.append(
            incident_id, "report", f"報告様式1の記載「3 原因」: 脅威の種類 {t['label']}（{t['source']}）\n{t['text']}",
            operator=operator, data={"report": "form1", "field": "threat", "threat": threat_id, "label": t["label"],
                                     "text": t["text"], "source": t["source"]})


# ---------------------------------------------------------------------------
# Classification (水戸 3(1)–(2))


def confidentiality_classes(profile) -> list[dict]:
    return ((profile.context.get("asset_classes") or {}).get("confidentiality")) or []


def classification_of(profile, incident: Incident | None) -> tuple[str, bool]:
    """(the mark to print, encryption required). The confidentiality class the
    handler chose at triage, else the form's default; required when the class
    is 機密性2 or above (the list runs from the highest class down)."""
    classes = confidentiality_classes(profile)
    chosen = None
    if incident is not None:
        cid = ((latest_answers(incident).get("context") or {}).get("asset_classes") or {}).get("confidentiality")
        chosen = next((c for c in classes if c["id"] == cid), None)
    label = chosen["label"] if chosen else profile.report_form["classification_default"]
    return label, requires_encryption(profile, label)


def requires_encryption(profile, label: str) -> bool:
    """Is ``label`` 機密性2 or above? (Mito 3(2)キ: 機密性2以上の情報を送信する者は … 暗号化)"""
    labels = [c["label"] for c in confidentiality_classes(profile)]
    if label not in labels:
        return True  # an unknown mark: be careful
    threshold = labels.index("機密性2") if "機密性2" in labels else len(labels) - 1
    return labels.index(label) <= threshold


# ---------------------------------------------------------------------------
# Sections


def _level_lines(profile, incident: Incident, answers: dict) -> list[str]:
    from ..triage import _level_entry, _table, level_examples

    lines: list[str] = []
    type_id = incident.type_id
    table = _table(profile, type_id)
    entry = _level_entry(table, incident.level)
    if entry is not None:
        prefix = "脅威度 " if table["scale"] == "threat" else ""
        lines.append(f"影響度: {prefix}{entry['label']}（{entry['criterion']}）"
                     + (f"　※{table['title']}" if table.get("title") else ""))
    ticked = set(answers.get("ticked") or [])
    for key, _level, text, group in level_examples(profile, type_id):
        if key in ticked:
            lines.append(f"該当する事例: {(group + ' ') if group else ''}{text}")
    return lines


def _context_lines(profile, answers: dict, which: str) -> list[str]:
    ctx = answers.get("context") or {}
    pc = profile.context
    lines: list[str] = []
    if which == "service":
        if ctx.get("segment"):
            lines.append(f"ネットワークの区分: {_label(pc.get('segments') or [], ctx['segment'])}")
        classes = ctx.get("asset_classes") or {}
        names = {"confidentiality": "機密性", "integrity": "完全性", "availability": "可用性"}
        shown = [_label((pc.get("asset_classes") or {}).get(k) or [], v) for k, v in classes.items()
                 if k in names and v]
        if shown:
            lines.append("情報資産の分類: " + "・".join(s for s in shown if s))
        if answers.get("fault_type"):
            lines.append(f"障害の種類: {_label(profile.fault_types, answers['fault_type'])}")
            if answers.get("fault_checks"):
                lines.append("確認した事項: " + "、".join(answers["fault_checks"]))
        if ctx.get("stop_hours") is not None:
            lines.append(f"想定される停止時間: {ctx['stop_hours']:g} 時間")
        if ctx.get("long_stop"):
            lines.append("長期間の停止: あり")
    else:  # damage
        if ctx.get("personal_data"):
            lines.append(f"個人情報: {_label(pc.get('personal_data') or [], ctx['personal_data'])}")
        if ctx.get("encrypted") is not None:
            lines.append("暗号化: " + ("されている" if ctx["encrypted"] else "されていない"))
        if ctx.get("outward_attack"):
            lines.append("外部に向けた攻撃: あり")
        if ctx.get("crime"):
            lines.append("犯罪の可能性: あり")
    return lines


def _step_lines(profile, incident: Incident, part: str) -> list[str]:
    """Steps someone has worked on, of the phases whose ``report`` is ``part``, in profile order."""
    lines: list[str] = []
    for phase in profile.phases_for(incident.type_id):
        if phase.get("report") != part:
            continue
        for step in phase["steps"]:
            rec = incident.steps.get(step["id"])
            if not rec or rec.get("status") == "todo":
                continue
            status = STEP_STATUSES.get(rec.get("status"), rec.get("status"))
            line = f"{step['label']}: {status}（{_time(rec.get('at'))} {rec.get('operator', '')}）"
            if rec.get("choice_label"):
                line += f"\n　{rec['choice_label']}: {(rec.get('choice_detail') or '').strip()}"
            for point, answer in (rec.get("points") or {}).items():
                line += f"\n　{point}: {answer.strip()}"
            note = (rec.get("note") or "").strip()
            if note:
                line += f"\n　{note}"
            lines.append(line)
    return lines


def _notification_lines(profile, incident: Incident, outside: bool) -> list[str]:
    from ..response import notification_state

    bodies = {b["id"] for b in profile.outside_bodies}
    lines = []
    for n in notification_state(profile, incident):
        if (n["party"] in bodies) != outside:
            continue
        line = f"{n['label']}: {n['status_label']}（{_time(n['at'])}"
        if n.get("means"):
            line += f"、{n['means']}"
        if n.get("person"):
            line += f"、相手 {n['person']}"
        line += "）"
        if (n.get("permitted_by") or "").strip():
            line += f"\n　外部への提供の許可: {n['permitted_by'].strip()}"
        if (n.get("said") or "").strip():
            line += f"\n　{n['said'].strip()}"
        lines.append(line)
    return lines


def _closure_lines(incident: Incident) -> list[str]:
    from ..response import response_state

    lines = []
    state = response_state(incident)
    if state.monitoring:
        m = state.monitoring.get("monitoring") or {}
        lines.append(f"監視期間: {_time(m.get('start'))} から {m.get('period', '')}"
                     + (f"（{_time(m.get('end'))} まで）" if m.get("end") else ""))
    for c in state.closures:
        if c["kind"] == "close":
            line = f"収束: {STATUS_LABELS.get(c.get('status', 'closed'), '収束')}（{_time(c.get('at'))} {c.get('operator', '')}）"
            if (c.get("note") or "").strip():
                line += f"\n　{c['note'].strip()}"
        else:
            line = f"再開（{_time(c.get('at'))} {c.get('operator', '')}）"
            if (c.get("reason") or "").strip():
                line += f"\n　{c['reason'].strip()}"
        lines.append(line)
    return lines


def _part(label: str | None, auto: list[str], edits: dict, field_id: str | None) -> Part:
    edited = edits.get(field_id, {}).get("text") if field_id else None
    return Part(label=label, auto=auto, edited=edited, field=field_id)


def _situation(profile, incident: Incident, items: list[str]) -> list[Part]:
    it = incident.intake
    type_line = []
    if incident.type_id:
        type_line.append(_label(profile.incident_types, incident.type_id) or "")
    found = []
    if it.get("found_at"):
        found.append(_time(it["found_at"]) + "頃")
    if (it.get("found_at_text") or "").strip():
        found.append(f"（受付時の聴取: {it['found_at_text']}）")
    found_line = ["".join(found)] if found else []
    unread = (it.get("time_errors") or {}).get("found_at")
    if unread and found_line:  # typed, kept as typed, not a time (「今朝9時」 at 04:29): said under it
        found_line.append(f"（{UNREAD_TIME}: {one_line(str(unread)).rstrip('。')}）")
    place = [it["place"]] if (it.get("place") or "").strip() else []
    what = [it["what"]] if (it.get("what") or "").strip() else []
    values = [type_line, found_line, place, what]
    labels = list(items) + [None] * (4 - len(items))
    return [Part(label=labels[i], auto=values[i]) for i in range(4)] + [
        Part(label=label, auto=[]) for label in items[4:]]


def form1_content(profile, incident: Incident, now: datetime, variant: str = "occurrence") -> Form1:
    """Everything printed on 報告様式1 for ``incident`` at ``now``."""
    if variant not in VARIANTS:
        raise ReportContentError(f"報告の種類が不正です: {variant!r}（{', '.join(VARIANTS)}）")
    form = profile.report_form
    edits = report_edits(incident)
    answers = latest_answers(incident)
    sections: list[Section] = []
    for sec in form["sections"]:
        fill = sec["fill"]
        if fill == "situation":
            parts = _situation(profile, incident, list(sec.get("items") or []))
        elif fill == "service":
            parts = [_part(None, _context_lines(profile, answers, "service"), edits, "service")]
        elif fill == "cause":
            parts = [_part(None, threat_line(threat_choice(profile, incident)), edits, "cause")]
        elif fill == "damage":
            parts = [_part(None, _level_lines(profile, incident, answers)
                           + _context_lines(profile, answers, "damage"), edits, "damage")]
        elif fill == "response":
            parts = [
                _part("初動対応", _step_lines(profile, incident, "first_response"), edits, "first_response"),
                _part("復旧状況", _step_lines(profile, incident, "recovery"), edits, "recovery"),
                _part("復旧の見込み", [], edits, "outlook"),
                _part("復旧に要する額", [], edits, "cost"),
            ]
            closing = _step_lines(profile, incident, "closure") + _closure_lines(incident)
            if closing or variant == "closure":
                parts.append(Part(label="収束の確認", auto=closing))
        elif fill == "measures":
            parts = [_part(None, _step_lines(profile, incident, "measures"), edits, "measures")]
        elif fill == "external":
            from ..outside import permission_lines

            parts = [_part(None, _notification_lines(profile, incident, outside=True)
                           + permission_lines(profile, incident)
                           + _step_lines(profile, incident, "external"), edits, "external")]
        else:  # record
            parts = [_part(None, [], edits, "other")]
        sections.append(Section(no=sec["no"], label=sec["label"], fill=fill, parts=parts))
    before, _, after = form["opening"].partition("{summary}")
    summary = edits.get("summary", {}).get("text")
    if not (summary or "").strip():
        summary = _label(profile.incident_types, incident.type_id) if incident.type_id else None
    mark, required = classification_of(profile, incident)
    return Form1(
        incident_id=incident.id, variant=variant, date=to_wareki(now), addressee=form["addressee"],
        sender=form["sender"], sender_note=form.get("sender_note", ""), title=form["title"],
        opening_before=before, summary=summary, opening_after=after, sections=sections,
        record=record_rows(incident), classification=mark, encryption_required=required,
        status=STATUS_LABELS.get(incident.status, incident.status),
        head_seq=incident.entries[-1].seq if incident.entries else 0,
        head_hash=incident.entries[-1].hash if incident.entries else "",
        drill=incident.drill,
    )


def record_rows(incident: Incident) -> list[RecordRow]:
    """The whole record, in time order (the order it was written; an entry with an
    earlier 'occurred' time shows both times)."""
    rows = []
    for e in incident.entries:
        when = record_time(e.when)
        if e.occurred_at and e.occurred_at != e.at:
            when += f"\n（記録 {record_time(e.at)}）"
        kind = f"#{e.seq} {KINDS.get(e.kind, e.kind)}"
        if e.corrects:
            kind += f"\n#{e.corrects} の訂正"
        rows.append(RecordRow(seq=e.seq, when=when, operator=e.operator, kind=kind, text=e.text))
    return rows

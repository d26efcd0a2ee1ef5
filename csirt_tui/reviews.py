"""手順の評価・見直し: the periodic evaluation and review of the procedures themselves
(as opposed to one incident's evaluation).

Sources: むつ 2条(2)ウ「インシデントの対応に関する手順等の定期的な評価及び見直し」; つくば 5(3)
「自己点検を行い、訓練や演習等の結果等と併せ定期的に評価及び見直しを行う」; 水戸 8-3(4)
「CISO は、…必要に応じて緊急時対応計画の見直しを行わなければならない」 (10-3: 毎年度).

A review is one row of ``reviews.json`` in the store (``Store.add_review``), never
changed: who reviewed, when, what was reviewed, what changes were decided, and the
evaluations of closed incidents it drew on (each incident's evaluation as it read
then, つくば 4(2)⑤(II)). A correction is a new row naming the row it corrects.
How often a review is due is the profile's ``procedure_review.months``
(:func:`review_due`); a profile without it sets no period (nothing is due).

Core module: no textual here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .errors import DomainError
from .model import summary_line

__all__ = ["ReviewError", "closed_evaluations", "record_review", "list_reviews", "review_due", "review_text", "due_line"]

MAX_OFFERED = 50  # closed incidents offered to a review, newest first


class ReviewError(DomainError):
    """A review cannot be recorded; ``problems`` lists each (Japanese). Nothing was written."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("手順の評価・見直しを記録できません: " + " / ".join(self.problems))


def _blank(value: Any) -> bool:
    return not (isinstance(value, str) and value.strip())


def evaluation_of(profile, incident) -> str:
    """The incident's own evaluation (the note of the profile's ``evaluation_step``), or ""."""
    rule = profile.procedure_review or {}
    step = rule.get("evaluation_step")
    if not step:
        return ""
    return (incident.steps.get(step) or {}).get("note", "") or ""


def closed_evaluations(store, *, limit: int = MAX_OFFERED) -> list[dict[str, Any]]:
    """The closed incidents a review may draw on, newest first (drills left out): {id,
    received_at, summary, evaluation (the evaluation step's note, "" when none)}."""
    rows = [r for r in store.list_incidents(status="closed") if not r.get("drill")]
    rows.sort(key=lambda r: r.get("received_at") or "", reverse=True)
    out = []
    for row in rows[:limit]:
        inc = store.incident(row["id"])
        out.append({"id": inc.id, "received_at": inc.received_at, "summary": inc.summary,
                    "evaluation": evaluation_of(store.profile, inc)})
    return out


def _review_day(value: Any, now: datetime, problems: list[str]) -> tuple[str | None, str | None]:
    """The day of a review: a datetime, a date, or typed text; a day typed without a time
    (「今日」「11/20」) is that day at 0:00."""
    from .response import _when
    from .timeparse import TimeParseError, parse_time, to_iso

    if isinstance(value, str) and value.strip():
        try:
            parse_time(value, now)
        except TimeParseError:
            try:
                return to_iso(parse_time(value.strip() + " 0:00", now)), value
            except TimeParseError:
                pass
    return _when(value, now, "評価・見直しの日", problems, required=True)


def record_review(store, *, operator: str, reviewer: str, reviewed_at: Any, subject: str, changes: str,
                  incidents: list[str] | tuple[str, ...] = (), note: str = "",
                  corrects: int | None = None) -> dict[str, Any]:
    """Record a review of the procedures: ``reviewer`` (who reviewed: a name or a role, as
    typed), ``reviewed_at`` (when: datetime or typed text, csirt_tui.timeparse), ``subject``
    (what was reviewed), ``changes`` (what changes were decided; 「変更なし」 is an answer),
    ``incidents`` (ids of closed incidents whose evaluations it drew on: each is kept with
    its evaluation as it reads now), ``note``; ``corrects``: the number of an earlier row
    this one corrects. Text is kept as typed. Returns the row (with ``no``)."""
    from .response import _when
    from .store import normalize_incident_id

    problems: list[str] = []
    for name, value in (("reviewer", reviewer), ("subject", subject), ("changes", changes), ("note", note),
                        ("operator", operator)):
        if not isinstance(value, str):
            problems.append(f"{name}: 文字列で入力してください")
    if not problems:
        if _blank(operator):
            problems.append("操作者を指定してください")
        if _blank(reviewer):
            problems.append("評価・見直しを行った者を入力してください")
        if _blank(subject):
            problems.append("評価・見直しの対象（手順・計画のどこを）を入力してください")
        if _blank(changes):
            problems.append("見直しの内容（変更すること。変更がなければ「変更なし」）を入力してください")
    when, typed = _review_day(reviewed_at, store.now(), problems)
    known = {r["no"] for r in store.list_reviews()}
    if corrects is not None and (not isinstance(corrects, int) or corrects not in known):
        problems.append(f"訂正する見直しの記録が見つかりません: {corrects!r}")
    drew_on: list[dict[str, Any]] = []
    if isinstance(incidents, str):
        incidents = [incidents]
    seen: set[str] = set()
    for raw in incidents or ():
        try:
            incident_id = normalize_incident_id(str(raw))
            inc = store.incident(incident_id)
        except (DomainError, KeyError, ValueError) as err:
            problems.append(f"インシデント {raw}: {err}")
            continue
        if inc.id in seen:
            continue
        seen.add(inc.id)
        if inc.status != "closed":
            problems.append(f"インシデント {inc.id} は収束していません（収束したインシデントの評価を使います）")
            continue
        drew_on.append({"id": inc.id, "summary": inc.summary, "evaluation": evaluation_of(store.profile, inc)})
    if problems:
        raise ReviewError(problems)
    rule = store.profile.procedure_review or {}
    row: dict[str, Any] = {
        "reviewer": reviewer, "reviewed_at": when, "reviewed_at_text": typed, "subject": subject,
        "changes": changes, "incidents": drew_on, "note": note, "operator": operator,
        "recorded_at": store.now().isoformat(timespec="seconds"), "profile": store.profile.id,
        "source": rule.get("source", ""),
    }
    if corrects is not None:
        row["corrects"] = corrects
    number = store.add_review(row)
    return dict(row, no=number)


def list_reviews(store) -> list[dict[str, Any]]:
    """Every review row, oldest first; a row corrected by a later one has ``corrected_by``."""
    rows = store.list_reviews()
    by_no = {r["no"]: r for r in rows}
    for r in rows:
        target = by_no.get(r.get("corrects"))
        if target is not None:
            target["corrected_by"] = r["no"]
    return rows


def review_due(store, now: datetime) -> dict[str, Any] | None:
    """When the next review is due: {months, text, source, last (ISO of the latest review or
    None), last_by, due (ISO or None), overdue, days_left}; None when the profile sets no
    period. Never reviewed: the first is due a period after the store was created."""
    from dateutil.relativedelta import relativedelta

    from .timeparse import from_iso

    rule = store.profile.procedure_review
    if not rule:
        return None
    rows = [r for r in store.list_reviews() if r.get("reviewed_at")]
    last = max(rows, key=lambda r: r["reviewed_at"], default=None)
    out = {"months": rule["months"], "text": rule["text"], "source": rule["source"],
           "last": last["reviewed_at"] if last else None, "last_by": last["reviewer"] if last else None,
           "due": None, "overdue": True, "days_left": None}
    since = last["reviewed_at"] if last else store.meta.get("created_at")
    if isinstance(since, str) and since:
        due = from_iso(since) + relativedelta(months=rule["months"])
        out["due"] = due.isoformat(timespec="seconds")
        out["overdue"] = now >= due
        out["days_left"] = (due - now).days
    return out


SCREEN_CHARS = 2_000  # a review's text on the screen: the rest is said to be in `csirt-desk review list`


def _at_most(text: str, chars: int | None) -> str:
    if chars is None or len(text) <= chars:
        return text
    return (f"{text[:chars]}\n……以下 {len(text) - chars:,} 文字は画面では省略しました"
            "（全文: csirt-desk review list）")


def review_text(row: dict[str, Any], tz=None, chars: int | None = None) -> str:
    """A review as lines of plain text (the screen, the CLI). ``chars``: each text at most that
    long (the screen: a review pasted 800,000 characters long froze the desk for 17 s)."""
    from .timeparse import from_iso

    when = from_iso(row["reviewed_at"])
    if tz is not None:
        when = when.astimezone(tz)
    row = dict(row, **{k: _at_most(row.get(k) or "", chars) for k in ("reviewer", "subject", "changes", "note")})
    lines = [f"No.{row['no']}  {when:%Y-%m-%d}  {row['reviewer']}"
             + (f"  （No.{row['corrects']} の訂正）" if row.get("corrects") else "")
             + (f"  （No.{row['corrected_by']} で訂正）" if row.get("corrected_by") else ""),
             f"対象: {row['subject']}", f"見直しの内容: {row['changes']}"]
    for inc in row.get("incidents") or ():
        lines.append(f"評価: {inc['id']} {summary_line(inc.get('summary', ''), 40)}"
                     + (f" / {summary_line(inc['evaluation'], 60)}" if inc.get("evaluation") else " / （評価の記録なし）"))
    if row.get("note", "").strip():
        lines.append(f"メモ: {row['note']}")
    return "\n".join(lines)


def due_line(due: dict[str, Any] | None) -> str:
    """One line on when the next review is due (the screen, the CLI, the dashboard)."""
    if due is None:
        return "見直しの周期: このプロファイルの規程に定めがありません"
    period = f"{due['months']}か月ごと（{due['source']}）"
    when = (due["due"] or "")[:10]
    if due["last"] is None:
        if due["overdue"] or not when:
            return f"手順の評価・見直しの時期です: まだ記録がありません（{period}）"
        return f"最初の手順の評価・見直し: {when} まで（まだ記録がありません。{period}）"
    if due["overdue"]:
        return f"手順の評価・見直しの時期です: {when} が期限でした（前回 {due['last'][:10]}、{period}）"
    return f"次の手順の評価・見直し: {when} まで（前回 {due['last'][:10]}、{period}）"

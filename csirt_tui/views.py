"""Plain-text views of incidents, shared by the CLI and the TUI.

Returned strings are user text as stored; callers make them safe for
their medium (``textsafe`` for terminals, ``Content``/``markup=False`` in
Textual, escaping for ReportLab).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from .cells import narrow, narrow_labels
from .model import INTAKE_ITEMS, STATUS_LABELS, Incident, missing_items
from .textsafe import one_line

ITEM_SHORT = {"found_at": "①いつ", "place": "②どこで", "what": "③何が", "reporter": "④誰が"}

DASHBOARD_COLUMNS = ("番号", "受付日時", "経過", "優先度", "種別", "レベル", "フェーズ", "概要")


def short_time(iso: str | None) -> str:
    if not iso:
        return "-"  # not 「—」: ambiguous width, two cells in a Japanese terminal (issue 15)
    dt = datetime.fromisoformat(iso)
    return dt.strftime("%m/%d %H:%M")


def recorded_apart(e) -> str:
    """「 (記録 12/05 09:00)」 when an entry was recorded at another minute than the time it gives
    (a note about 14:10 written at 14:40); nothing when the two read the same: a state recorded
    with 「今」 is written some seconds after the form opened, and every such row said the same
    minute twice (19 of 80 columns, its text cut)."""
    if not e.occurred_at or e.occurred_at == e.at or short_time(e.when) == short_time(e.at):
        return ""
    return f" (記録 {short_time(e.at)})"


def span_text(minutes: int) -> str:
    """A span of time whole, as the desk says it: 25分, 3時間10分, 2日4時間 (a drill's review)."""
    days, rest = divmod(max(minutes, 0), 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}日{hours}時間"
    if hours:
        return f"{hours}時間{mins:02d}分"
    return f"{mins}分"


ELAPSED_CELLS = 9  # the dashboard's 経過 column at 80 columns (10 at 120)


def elapsed(since_iso: str | None, now: datetime) -> str:
    """Elapsed time since receipt, for the dashboard's 経過 column: at most ELAPSED_CELLS cells,
    one unit less as it grows (25分, 3時間10分, 13時間, 2日4時間, 12日, 1687日). The whole span
    (「1687日2時間」, 「13時間05分」) was cut at 80 columns to 「1687日2...」: the minutes of a case open
    half a day, or the hours of one open for weeks, are not what the operator reads there."""
    if not since_iso:
        return "-"  # not 「—」 (ambiguous width), as short_time
    minutes = max(int((now - datetime.fromisoformat(since_iso)).total_seconds() // 60), 0)
    days, hours = minutes // (24 * 60), minutes // 60
    if days >= 10:
        return f"{days}日"
    if not days and hours >= 10:
        return f"{hours}時間"
    return span_text(minutes)


def type_label(profile, type_id: str | None) -> str:
    if not type_id:
        return "未分類"
    try:
        return profile.incident_type(type_id)["label"]
    except KeyError:
        return type_id


def level_label(level: Any) -> str:
    """「レベル2」; 「-」 before triage, as short_time says an empty time (not 「—」: ambiguous
    width, two cells in a Japanese terminal font; the response tracker's heading drew it so)."""
    return "-" if level is None else f"レベル{level}"


def phase_label(profile, phase_id: str | None, status: str | None = None) -> str:
    if status and status != "open":
        return STATUS_LABELS.get(status, status)
    if not phase_id:
        return "トリアージ前"
    for phase in profile.phases:
        if phase["id"] == phase_id:
            return phase["label"]
    return phase_id


def phase_column(profile, phase_id: str | None, status: str | None = None) -> str:
    """The phase as a list's column says it: without the type a phase is named after (大崎:
    「不正行為: 脅威度の判定」 → 「脅威度の判定」), which the 種別 column beside it says. Cut to the
    dashboard's 10 to 14 cells, every 不正行為 row read 「不正行為: ...」."""
    label = phase_label(profile, phase_id, status)
    head, colon, rest = label.partition(": ")
    return rest if colon and rest and head in {t["label"] for t in profile.incident_types} else label


def incident_row_cells(profile, row: dict[str, Any], now: datetime) -> list[str]:
    """The dashboard columns of one index row."""
    summary = row.get("summary") or ""
    missing = row.get("missing") or []
    if missing:
        summary = "【未記入: " + "・".join(ITEM_SHORT.get(m, m) for m in missing) + "】" + summary
    due = row.get("notify_due")
    if due and row.get("status") == "open" and datetime.fromisoformat(due) < now:
        summary = "【連絡期限超過】" + summary
    if row.get("drill"):
        summary = "【訓練】" + summary
    return [
        row["id"],
        short_time(row.get("received_at")),
        elapsed(row.get("received_at"), now),
        row.get("priority") or "—",
        type_label(profile, row.get("type")),
        level_label(row.get("level")),
        phase_column(profile, row.get("phase"), row.get("status")),
        summary,
    ]


def summary_cell(text: str, summary: str) -> str:
    """The 概要 cell as drawn: the desk's marks before the summary (【未記入: ②どこで・④誰が】) with
    one-width characters, and the index's short form (cut at 60 characters with …,
    csirt_tui.model.summary_line) ending in "..." instead; the typed summary otherwise as it is."""
    from .cells import narrow

    head, body = (text[: len(text) - len(summary)], summary) if summary and text.endswith(summary) else (text, "")
    if len(body) == 60 and body.endswith("…"):
        body = body[:-1] + "..."
    return narrow(head) + body


def plain_row_cells(profile, row: dict[str, Any], now: datetime) -> list[str]:
    """:func:`incident_row_cells` as a line of text shows them (``csirt-desk list``), as the
    dashboard draws them: the desk's columns with one-width characters (an empty priority or
    level 「-」 as short_time says an empty time, not 「—」: two cells in a cp932 console and in
    a Japanese terminal font, the columns after it moved), the 概要 cell by :func:`summary_cell`."""
    from .cells import narrow

    cells = incident_row_cells(profile, row, now)
    return [narrow(c) for c in cells[:-1]] + [summary_cell(cells[-1], row.get("summary") or "")]


PRIORITY_RANK = {"高": 1, "中": 2, "低": 3}


def dashboard_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Open incidents first: not yet triaged, then priority 高 / 中 / 低, the oldest
    first within each (the longest waiting); then the others, newest first."""
    open_rows = [r for r in rows if r.get("status") == "open"]
    other = [r for r in rows if r.get("status") != "open"]

    def rank(r):
        if not r.get("type"):
            return 0
        return PRIORITY_RANK.get(r.get("priority"), 4)

    open_rows.sort(key=lambda r: (rank(r), r.get("received_at") or "", r["id"]))
    # (received_at, id), newest first, in two stable passes: a string key per row, not a
    # tuple (全件 of 200,000 rows: 200,000 tuples made the garbage collector walk them)
    other.sort(key=lambda r: r["id"], reverse=True)
    other.sort(key=lambda r: r.get("received_at") or "", reverse=True)
    return open_rows + other


def _fold(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", text or "").casefold()


class RowFilter:
    """Incremental filter over dashboard rows (kept in their order).

    Every space-separated word of the query must appear in the row (NFKC,
    case-insensitive) among: number, the number at another desk that took it, date, summary, place, reporter, type,
    level, priority, phase, 未記入, 訓練. The text searched is built once per row;
    a query that extends an earlier one only searches that one's matches, and
    the matches of the queries typed on the way are kept, so that erasing back
    to one of them (Backspace) costs no search at all.
    """

    def __init__(self, profile, rows: list[dict[str, Any]], desks: dict[str, str] | None = None,
                 kept: "RowFilter | None" = None) -> None:
        self.rows = rows
        self._profile = profile
        self._desks = desks or {}  # store id -> desk name: 「2026-0003@隔離端末1」 is found as typed
        self._hay: list[str] | None = None
        # ``kept``: the filter of an earlier read; the text of a row that is the same object
        # (the store's kept rows: Store.list_incidents' keep) is taken from it, not built
        # again (200,000 rows: ~2.5 s)
        self._kept = kept if kept is not None and kept._desks == self._desks else None
        # (folded query, indices of its matches), each query extending the one before
        self._chain: list[tuple[str, list[int]]] = []

    def _build(self) -> list[str]:
        profile = self._profile
        types = {t["id"]: t["label"] for t in profile.incident_types}
        phases = {p["id"]: p["label"] for p in profile.phases}
        hay = []
        kept, self._kept = self._kept, None
        if kept is not None:
            kept.prepare()
            kept_rows, kept_hay = kept.rows, kept._hay
            at = {id(r): i for i, r in enumerate(kept_rows)}  # ints, no tuple per row: no work for the gc
        else:
            at = {}
        for r in self.rows:
            i = at.get(id(r))
            if i is not None and kept_rows[i] is r:
                hay.append(kept_hay[i])
                continue
            received = r.get("received_at") or ""
            hay.append(_fold(" ".join((
                r.get("id") or "", self._alias(r.get("alias")), received[5:10].replace("-", "/"), received[:10],
                r.get("summary") or "", r.get("place") or "", r.get("reporter") or "",
                types.get(r.get("type"), "未分類"), level_label(r.get("level")), r.get("priority") or "",
                phases.get(r.get("phase"), "") if r.get("status") == "open" else STATUS_LABELS.get(r.get("status"), ""),
                "未記入" if r.get("missing") else "",
                "訓練" if r.get("drill") else "",
            ))))
        return hay

    def _alias(self, alias: str | None) -> str:
        if not alias:
            return ""
        number, _, store_id = alias.partition("@")
        return f"{alias} {number}@{self._desks[store_id]}" if store_id in self._desks else alias

    def prepare(self) -> None:
        """Build the searched text now (e.g. right after the dashboard is drawn)."""
        if self._hay is None:
            self._hay = self._build()

    def apply(self, query: str) -> list[dict[str, Any]]:
        folded = _fold(query).strip()
        if not folded:
            self._chain = []
            return self.rows
        if self._hay is None:
            self._hay = self._build()
        chain = self._chain
        # a query that extends an earlier one matches a subset of that one's matches
        while chain and not folded.startswith(chain[-1][0]):
            chain.pop()
        if chain and chain[-1][0] == folded:
            idx = chain[-1][1]
        else:
            idx = chain[-1][1] if chain else range(len(self.rows))
            hay = self._hay
            for word in folded.split():  # one plain pass per word: several times faster than all(...)
                idx = [i for i in idx if word in hay[i]]
            chain.append((folded, idx))
        rows = self.rows
        return [rows[i] for i in idx]


def row_matches(profile, row: dict[str, Any], query: str) -> bool:
    """Does one row match (see RowFilter)?"""
    return bool(RowFilter(profile, [row]).apply(query))


def _label(items: list[dict[str, Any]], ident: str | None) -> str:
    for item in items:
        if item.get("id") == ident:
            return item.get("label", ident)
    return ident or "—"


# what a time kept as typed is called where it is said (build_intake's time_errors: its keys)
TIME_WORDS = {"found_at": ITEM_SHORT["found_at"], "received_at": "受付日時", "callback.confirmed_at": "折り返し確認"}
UNREAD_TIME = "日時として読めないため、入力のまま記録しました"


def unread_time_lines(profile, time_errors: dict[str, Any] | None) -> list[str]:
    """One line for each time of an intake typed but not readable as a time (「今朝9時」 at 04:29: kept
    as typed, build_intake's ``time_errors``): 「①いつ は日時として読めないため、入力のまま記録しました:
    未来の日時は指定できません（…）」. The 受付番号 screen, the incident screen and ``show`` say it so."""
    extra = {i["key"]: i.get("label", i["key"]) for i in profile.poc.get("extra_items", [])}
    return [f"{TIME_WORDS.get(key) or extra.get(key, key)} は{UNREAD_TIME}: {one_line(str(reason))}"
            for key, reason in (time_errors or {}).items()]


def incident_text_lines(profile, inc: Incident, exchange: tuple[str | None, list[str]] = (None, [])) -> list[str]:
    """The incident and its whole time-ordered record as text lines. ``exchange``: what
    csirt_tui.merge.exchange_lines says of other desks (its number there, the decisions apart:
    under the title and under the triage line)."""
    it = inc.intake
    rep = it.get("reporter") or {}
    items = {i["key"]: i["label"] for i in profile.poc.get("items", [])}
    lines = [
        f"インシデント {inc.id}  [{STATUS_LABELS.get(inc.status, inc.status)}]" + ("  【訓練】" if inc.drill else ""),
        f"受付日時: {short_time(inc.received_at)}   受付方法: {_label(profile.channels, it.get('channel'))}"
        f"   通報の種類: {_label(profile.report_sources, it.get('reporter_type'))}",
        f"種別: {type_label(profile, inc.type_id)}   {level_label(inc.level)}"
        f"   フェーズ: {phase_label(profile, inc.phase, inc.status)}",
        f"{items.get('found_at', '①いつ')}: {it.get('found_at_text') or '—'}"
        + (f" (→ {short_time(it.get('found_at'))})" if it.get("found_at") else ""),
        f"{items.get('place', '②どこで')}: {it.get('place') or '—'}",
        f"{items.get('what', '③何が')}: {it.get('what') or '—'}",
        f"{items.get('reporter', '④誰が')}: " + (" / ".join(v for v in (rep.get('name'), rep.get('section'), rep.get('contact')) if v) or "—"),
    ]
    for extra in profile.poc.get("extra_items", []):
        value = (it.get("extras") or {}).get(extra["key"])
        if value:
            lines.append(f"{extra['label']}: {value}")
    # a time typed but not readable (shown on the 受付番号 screen only, at Ctrl+S): under ①いつ
    lines[4:4] = ["  " + line for line in unread_time_lines(profile, it.get("time_errors"))]
    if inc.drill:
        title = it.get("drill_title")
        lines.append("【訓練】" + (f"訓練シナリオ: {title}" if title else "訓練として記録されています")
                     + "  (k: 取り消す / v: 講評 PDF)")
    alias, apart = exchange
    lines[3:3] = apart
    if alias:
        lines.insert(1, alias)
    if inc.missing:
        lines.append("未記入: " + "・".join(ITEM_SHORT.get(m, m) for m in inc.missing))
    lines.append("")
    lines.append("時系列の記録:")
    for e in inc.entries:
        when = short_time(e.when)
        extra = recorded_apart(e)
        corr = f" ← #{e.corrects} の訂正" if e.corrects else ""
        lines.append(f"#{e.seq:<3} {when}{extra}  {e.operator}  [{e.kind_label}]{corr}  {e.text}")
    return lines


__all__ = ["DASHBOARD_COLUMNS", "INTAKE_ITEMS", "incident_row_cells", "incident_text_lines", "elapsed"]


def intake_labels(profile) -> tuple[str, ...]:
    """The labels the 受付 entry's text starts its lines with (:func:`intake_entry_text`): the
    profile's PoC items and extra items, and the desk's own when the profile has no items."""
    items = tuple(i["label"] for i in profile.poc.get("items", []))
    extras = tuple(x["label"] for x in profile.poc.get("extra_items", []))
    return items + tuple(lb for lb in _INTAKE_DEFAULT_LABELS.values() if lb not in items) + extras


# the 受付 entry's label of an item the profile's PoC card does not name
_INTAKE_DEFAULT_LABELS = {"found_at": "①いつ", "place": "②どこで", "what": "③何が", "reporter": "④誰が"}


def intake_entry_text(profile, intake: dict[str, Any]) -> str:
    """The 受付 entry's text: every item as the operator typed it, one per line."""
    items = {i["key"]: i["label"] for i in profile.poc.get("items", [])}
    rep = intake.get("reporter") or {}
    lines = [
        "受付: " + " / ".join(x for x in (_label(profile.channels, intake.get("channel")) if intake.get("channel") else "",
                                          _label(profile.report_sources, intake.get("reporter_type"))
                                          if intake.get("reporter_type") else "") if x),
        f"{items.get('found_at', _INTAKE_DEFAULT_LABELS['found_at'])}: {intake.get('found_at_text') or ''}",
        f"{items.get('place', _INTAKE_DEFAULT_LABELS['place'])}: {intake.get('place') or ''}",
        f"{items.get('what', _INTAKE_DEFAULT_LABELS['what'])}: {intake.get('what') or ''}",
        # 氏名 / 所属 / 連絡先 in their places (「太郎 /  / 内線2301」 says which is missing); none typed,
        # nothing (「(4)発見者の氏名・連絡先:  /  /」 on the record, its 未記入 line below saying so)
        f"{items.get('reporter', _INTAKE_DEFAULT_LABELS['reporter'])}: "
        + (" / ".join(parts) if any((parts := [rep.get(k) or "" for k in ("name", "section", "contact")])) else ""),
    ]
    for extra in profile.poc.get("extra_items", []):
        lines.append(f"{extra['label']}: {(intake.get('extras') or {}).get(extra['key'], '')}")
    cb = intake.get("callback") or {}
    if cb.get("number") or cb.get("confirmed_at"):
        mark = f" 折り返し確認済み {short_time(cb['confirmed_at'])}" if cb.get("confirmed_at") else " (折り返し未確認)"
        lines.append(f"折り返し先: {cb.get('number') or ''}{mark}")
    if intake.get("memo"):
        lines.append(f"メモ: {intake['memo']}")
    if intake.get("received_at_text"):  # unreadable, so stamped with the save time (build_intake)
        lines.append(f"受付日時（読めない入力のまま）: {intake['received_at_text']}")
    missing = missing_items(intake)
    if missing:
        lines.append("未記入: " + "・".join(ITEM_SHORT.get(m, m) for m in missing))
    return "\n".join(lines)


_EMPTY_MARK = re.compile(r"(?:(?<=: )|(?<=   ))—(?=   |$)")


def chrome_lines(lines: list[str], labels: tuple[str, ...] = ()) -> list[str]:
    """:func:`incident_text_lines` as drawn (the incident screen) and printed (``csirt-desk show``):
    the desk's labels (the profile's ①いつ), its 「—」 for an empty item, 「(→ 11/19 07:52)」 and 「← #3 の訂正」 with one-width characters
    (csirt_tui/cells.py); what was typed and what the record says stay as they are. ``labels``:
    the profile's PoC item labels, which the 受付 entry's text starts its lines with (「①事象を発見
    した日時（いつ）: 」): there they are the desk's words too, drawn narrowed."""
    out, record = [], False
    for line in lines:
        if record:  # "#12  11/19 08:35  operator  [kind] ← #3 の訂正  text"
            head, sep, rest = line.partition("]")
            if sep and rest.startswith(" ← #"):
                rest = " <- #" + rest[len(" ← #"):]
            out.append(narrow_labels(head + sep + rest, labels))  # an entry's text keeps its line breaks
            continue
        if line == "時系列の記録:":
            record = True
            out.append(line)
            continue
        # 「—」 standing for an empty value in the header's joined items (「通報の種類: —」 of an
        # intake that chose none, 「未分類   —」 before triage) is the desk's, drawn as "-"
        line = _EMPTY_MARK.sub("-", line)
        if line.startswith("未記入: "):
            line = narrow(line)
        else:
            label, sep, value = line.partition(": ")
            if sep and label[:1] in "①②③④⑤⑥⑦⑧⑨" or narrow(label) != label:
                value = "-" if value == "—" else value
                value = value.replace(" (→ ", " (-> ") if value.endswith(")") else value
                line = narrow(label) + sep + value
        out.append(line)
    return out

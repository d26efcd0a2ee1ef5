"""The summary for the 情報セキュリティ委員会 (issue 7; つくば 4(2)⑤(Ⅲ): CISO は
委員会を開催し、インシデントの発生から収束までの一連の過程及び再発防止策等を報告する).

For a period of receipt dates: counts by incident type, level, month and
status; reports judged not to be an incident and drills (訓練) counted apart
(drills are in no other count); the median time from receipt to triage, to
containment and to closure; one line per incident.

:func:`summary_stats` reads the store and computes the figures (plain data,
no ReportLab); :func:`build_summary` lays them out (tables and a bar chart
drawn with ``reportlab.graphics``); :func:`export_summary` writes the file,
encrypted when the mark requires it, and logs the export in the store
(``reports.json``, never the password).
"""

from __future__ import annotations

import hashlib
import os
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable

from ..model import STATUS_LABELS, Incident, summary_line
from ..timeparse import from_iso, to_wareki, wareki_year

TITLE = "情報セキュリティインシデントの対応状況について（報告）"
ADDRESSEE = "情報セキュリティ委員会"
UNCLASSIFIED = "未分類"
UNRATED = "未判定"
MAX_MONTHS = 120          # a longer period is refused (a typo such as 2206 for 2026)
SUMMARY_WIDTH = 80        # characters of the summary's first line in the list

# The medians, in the order printed: key → label.
MEDIANS: dict[str, str] = {
    "triage": "受付からトリアージまで",
    "containment": "受付から封じ込めまで",
    "closure": "受付から収束まで",
}


# ---------------------------------------------------------------------------
# The figures (no ReportLab)


@dataclass(frozen=True)
class Count:
    label: str
    count: int


@dataclass(frozen=True)
class MonthCount:
    year: int
    month: int
    label: str             # 和暦: 令和8年11月
    incidents: int         # incidents (not drills, not 「インシデントではない」)
    not_incident: int
    drills: int


@dataclass(frozen=True)
class Median:
    key: str               # triage | containment | closure
    label: str
    hours: float | None    # None when no incident of the period has reached it
    n: int                 # incidents that have reached it
    of: int                # incidents counted


@dataclass(frozen=True)
class IncidentLine:
    id: str
    received_at: str       # ISO 8601 as stored
    received: str          # 2026-11-22 14:30 (the profile's time zone)
    type: str
    level: str
    status: str
    summary: str           # the first line of ③何が, as typed
    drill: bool
    not_incident: bool


@dataclass
class SummaryStats:
    start: date
    end: date
    profile_id: str
    profile_name: str
    generated_at: datetime
    classification: str           # the mark printed on every page: the highest class among what it lists
    encryption_required: bool
    addressee: str
    sender: str
    incidents: int                # counted incidents (no drills, no 「インシデントではない」)
    not_incident: int             # reports judged not to be an incident (counted apart)
    drills: int                   # drills (counted apart, in no other count)
    by_type: list[Count]
    by_level: list[Count]
    by_status: list[Count]
    by_month: list[MonthCount]
    medians: list[Median]
    lines: list[IncidentLine]     # incidents and 「インシデントではない」, in receipt order
    drill_lines: list[IncidentLine]
    containment_steps: list[str] = field(default_factory=list)  # labels of the milestone steps
    # the incidents (listed or drills) whose class is the mark, when it is above the form's default
    classification_from: list[str] = field(default_factory=list)
    classification_default: str = ""
    classification_rule: str = ""  # why the highest: the profile's rule (水戸 3(2)オ(ウ)「…」) or the desk's
    # 手順の評価・見直し (csirt_tui.reviews) dated in the period, and when the next one is due
    reviews: list[dict[str, Any]] = field(default_factory=list)
    review_rule: dict[str, Any] | None = None
    review_due: str = ""
    # the roster's contact changes reported to the bodies the profile names (大崎 3条(2);
    # csirt_tui.roster), dated in the period, and who must still be told now
    change_notice_rule: dict[str, Any] | None = None
    change_notices: list[dict[str, Any]] = field(default_factory=list)
    change_pending: str = ""

    @property
    def received(self) -> int:
        """Every report received in the period except drills."""
        return self.incidents + self.not_incident

    @property
    def period(self) -> str:
        return f"{to_wareki(self.start)}～{to_wareki(self.end)}"

    def median(self, key: str) -> Median:
        return next(m for m in self.medians if m.key == key)

    def type_counts(self) -> dict[str, int]:
        return {c.label: c.count for c in self.by_type}

    def level_counts(self) -> dict[str, int]:
        return {c.label: c.count for c in self.by_level}

    def status_counts(self) -> dict[str, int]:
        return {c.label: c.count for c in self.by_status}

    def month_counts(self) -> dict[str, int]:
        return {m.label: m.incidents for m in self.by_month}


def _report_error(message: str):
    from .pdfkit import ReportError

    return ReportError(message)


def _as_date(value: Any, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _report_error(f"{what}は日付（例: 2026-11-01）で指定してください: {value!r}")


def check_period(start: Any, end: Any) -> tuple[date, date]:
    """The period as two dates; refuses an end before the start and a period
    of more than :data:`MAX_MONTHS` months, in plain words."""
    start = _as_date(start, "期間の初日")
    end = _as_date(end, "期間の末日")
    if end < start:
        raise _report_error(f"期間の末日（{to_wareki(end)}）が初日（{to_wareki(start)}）より前です。"
                            "初日と末日を確かめてください")
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if months > MAX_MONTHS:
        raise _report_error(f"期間が長すぎます（{months}か月）。{MAX_MONTHS // 12}年以内で指定してください")
    return start, end


def _months(start: date, end: date) -> list[tuple[int, int]]:
    out = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def month_label(year: int, month: int) -> str:
    """令和8年11月 (the era of the month's first day)."""
    return f"{wareki_year(date(year, month, 1))}{month}月"


def type_label(profile, type_id: str | None) -> str:
    if not type_id:
        return UNCLASSIFIED
    try:
        return profile.incident_type(type_id)["label"]
    except KeyError:
        return str(type_id)


def _level(profile, inc: Incident) -> tuple[tuple, str]:
    """(sort key, label): レベル2, 脅威度 レベル3 (大崎), 未判定."""
    from ..triage import _level_entry, _table

    if inc.level is None:
        return (2, 0, ""), UNRATED
    table = _table(profile, inc.type_id)
    entry = _level_entry(table, inc.level)
    label = entry["label"] if entry else f"レベル{inc.level}"
    if table is not None and table.get("scale") == "threat":
        return (1, inc.level, label), f"脅威度 {label}"
    return (0, inc.level, label), label


def milestone_steps(profile, milestone: str = "containment") -> dict[str, str]:
    """{step id: label} of the steps the profile marks with ``milestone``."""
    return {s["id"]: s["label"] for p in profile.phases for s in p["steps"] if s.get("milestone") == milestone}


def _hours(received: datetime, when: str | None) -> float | None:
    if not when:
        return None
    delta = (from_iso(when) - received).total_seconds() / 3600
    return max(delta, 0.0)  # an event written as before the receipt counts as at once


def incident_times(inc: Incident, containment: set[str]) -> dict[str, float | None]:
    """Hours from receipt to the first triage/classification entry, to the first
    time a containment step was set to 対応中 or 完了, and to the first closure
    (a "close" entry that is not 「インシデントではない」). The event time is the
    entry's ``when`` (the time it happened, if the operator said so)."""
    out: dict[str, float | None] = {k: None for k in MEDIANS}
    if not inc.received_at:
        return out
    received = from_iso(inc.received_at)
    for e in inc.entries:
        d = e.data or {}
        if out["triage"] is None and e.kind in ("triage", "classification"):
            out["triage"] = _hours(received, e.when)
        elif (out["containment"] is None and e.kind == "step" and d.get("step") in containment
              and d.get("status") in ("doing", "done")):
            out["containment"] = _hours(received, e.when)
        elif out["closure"] is None and e.kind == "close" and d.get("status", "closed") != "not_incident":
            out["closure"] = _hours(received, e.when)
    return out


def _mixed_rule(profile) -> str:
    """The rule the summary's mark follows, as its note cites it: the clause and its words where the
    profile's rules have one (「水戸 3(2)オ(ウ)「最高度の分類に従って」」), else 「デスクの既定」."""
    rule = profile.rule_for("mixed")
    return f"{rule['source']}「{rule['label']}」" if rule["text"] else rule["source"]


def highest_class(profile, labels) -> str:
    """The highest of ``labels`` and the report form's default (Mito 3(2)オ(ウ): 分類が異なる情報が
    複数記録されている場合、最高度の分類に従って). The classes run from the highest down; a
    label the profile does not know counts as the highest (be careful, as requires_encryption)."""
    from .content import confidentiality_classes

    order = [c["label"] for c in confidentiality_classes(profile)]
    best = profile.report_form["classification_default"]

    def rank(label: str) -> int:
        return order.index(label) if label in order else -1

    for label in labels:
        if rank(label) < rank(best):
            best = label
    return best


def summary_stats(store, start: date, end: date) -> SummaryStats:
    """The committee summary's figures for the incidents received (受付日時, in the
    profile's time zone) from ``start`` to ``end``, both days included."""
    from .content import classification_of, requires_encryption

    start, end = check_period(start, end)
    profile = store.profile
    tz = profile.timezone
    picked: list[tuple[datetime, str]] = []
    for row in store.list_incidents(sort=False):
        if not row.get("received_at"):
            continue
        received = from_iso(row["received_at"]).astimezone(tz)
        if start <= received.date() <= end:
            picked.append((received, row["id"]))
    picked.sort()

    containment = milestone_steps(profile)
    months = _months(start, end)
    month_rows = {ym: {"incidents": 0, "not_incident": 0, "drills": 0} for ym in months}
    types: dict[str, int] = {type_label(profile, t["id"]): 0 for t in profile.incident_types}
    levels: dict[str, tuple[tuple, int]] = {}
    statuses: dict[str, int] = {STATUS_LABELS["open"]: 0, STATUS_LABELS["closed"]: 0}
    times: dict[str, list[float]] = {k: [] for k in MEDIANS}
    lines: list[IncidentLine] = []
    drill_lines: list[IncidentLine] = []
    counted = not_incident = drills = 0
    classes: dict[str, str] = {}  # incident id: its class (what the summary lists)

    for received, incident_id in picked:
        inc = store.incident(incident_id)
        classes[inc.id] = classification_of(profile, inc)[0]
        tlabel = type_label(profile, inc.type_id)
        lkey, llabel = _level(profile, inc)
        status = STATUS_LABELS.get(inc.status, inc.status)
        line = IncidentLine(
            id=inc.id, received_at=inc.received_at or "", received=received.strftime("%Y-%m-%d %H:%M"),
            type=tlabel, level=llabel, status=status,
            summary=summary_line(inc.intake.get("what", ""), SUMMARY_WIDTH),
            drill=inc.drill, not_incident=inc.status == "not_incident")
        bucket = month_rows[(received.year, received.month)]
        if inc.drill:
            drills += 1
            bucket["drills"] += 1
            drill_lines.append(line)
            continue
        lines.append(line)
        if inc.status == "not_incident":
            not_incident += 1
            bucket["not_incident"] += 1
            continue
        counted += 1
        bucket["incidents"] += 1
        types[tlabel] = types.get(tlabel, 0) + 1
        levels[llabel] = (lkey, levels.get(llabel, (lkey, 0))[1] + 1)
        statuses[status] = statuses.get(status, 0) + 1
        for key, hours in incident_times(inc, set(containment)).items():
            if hours is not None:
                times[key].append(hours)

    if types.get(UNCLASSIFIED) == 0:
        del types[UNCLASSIFIED]
    medians = [Median(key=k, label=label, hours=statistics.median(times[k]) if times[k] else None,
                      n=len(times[k]), of=counted) for k, label in MEDIANS.items()]
    from ..reviews import due_line, list_reviews, review_due

    reviews = []
    for row in list_reviews(store):
        day = from_iso(row["reviewed_at"]).astimezone(tz).date()
        if start <= day <= end:
            reviews.append(dict(row, day=day))
    notice_rule, notices, pending = _change_notices(store, start, end, tz)
    default = profile.report_form["classification_default"]
    mark = highest_class(profile, classes.values())
    form = profile.report_form
    return SummaryStats(
        start=start, end=end, profile_id=profile.id, profile_name=profile.name, generated_at=store.now(),
        classification=mark, encryption_required=requires_encryption(profile, mark),
        addressee=form.get("summary_addressee") or ADDRESSEE, sender=form.get("sender", "") + form.get("sender_note", ""),
        incidents=counted, not_incident=not_incident, drills=drills,
        by_type=[Count(k, v) for k, v in types.items()],
        by_level=[Count(label, n) for label, (_, n) in sorted(levels.items(), key=lambda kv: kv[1][0])],
        by_status=[Count(k, v) for k, v in statuses.items()],
        by_month=[MonthCount(y, m, month_label(y, m), **month_rows[(y, m)]) for y, m in months],
        medians=medians, lines=lines, drill_lines=drill_lines,
        containment_steps=list(containment.values()),
        classification_from=[i for i, c in classes.items() if c == mark] if mark != default else [],
        classification_default=default, classification_rule=_mixed_rule(profile),
        reviews=reviews, review_rule=profile.procedure_review,
        review_due=due_line(review_due(store, store.now())),
        change_notice_rule=notice_rule, change_notices=notices, change_pending=pending,
    )


def _change_notices(store, start: date, end: date, tz) -> tuple[dict[str, Any] | None, list[dict[str, Any]], str]:
    """(the profile's roster_change_notice rule, the reports recorded in the period, each with its
    day and the body's label, the line saying who must still be told); nothing without the rule."""
    from .. import roster as rc

    rule = store.profile.data.get("roster_change_notice")
    if not rule:
        return None, [], ""
    labels = {r["id"]: r["label"] for r in (*store.profile.roles, *store.profile.outside_bodies)}
    out = []
    for no, doc in sorted((store.read_roster().get("notices") or {}).items(), key=lambda kv: int(kv[0])):
        day = from_iso(doc.get("occurred_at") or doc["at"]).astimezone(tz).date()
        if start <= day <= end:
            out.append(dict(doc, no=int(no), day=day, label=labels.get(doc["party"], doc["party"])))
    return rule, out, rc.change_notice_text(store) or "未報告の連絡先の変更はありません（出力時点）"


def format_hours(hours: float | None) -> str:
    """15分, 3時間30分, 52時間06分（約2.2日）; — when there is none."""
    if hours is None:
        return "—"
    minutes = round(hours * 60)
    if minutes < 60:
        return f"{minutes}分"
    text = f"{minutes // 60}時間{minutes % 60:02d}分"
    if hours >= 24:
        text += f"（約{hours / 24:.1f}日）"
    return text


# ---------------------------------------------------------------------------
# Layout (ReportLab)


def _chart(stats: SummaryStats, font_name: str, width: float):
    """Bars of incidents and of 「インシデントではない」 per month (drills left out)."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors
    from reportlab.lib.units import mm

    rotated = len(stats.by_month) > 18   # many months: labels written upwards, one line each
    bottom = 24 * mm if rotated else 14 * mm
    height = 48 * mm + bottom
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 12 * mm, bottom
    chart.width, chart.height = width - 50 * mm, height - bottom - 8 * mm
    incidents = [m.incidents for m in stats.by_month]
    others = [m.not_incident for m in stats.by_month]
    chart.data = [incidents, others]
    top = max(incidents + others + [1])
    step = max(1, -(-top // 5))
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = step * -(-top // step)
    chart.valueAxis.valueStep = step
    chart.valueAxis.labels.fontName = font_name
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = "%d"
    chart.valueAxis.visibleGrid = 1
    chart.valueAxis.gridStrokeColor = colors.HexColor("#cccccc")
    names = []
    for i, m in enumerate(stats.by_month):
        year = wareki_year(date(m.year, m.month, 1)) + ("" if rotated else "\n")
        if i == 0 or m.month == 1:
            names.append(f"{year}{m.month}月")
        else:
            names.append(f"{m.month}月" if len(stats.by_month) <= 36 else "")  # years only when crowded
    chart.categoryAxis.categoryNames = names
    chart.categoryAxis.labels.fontName = font_name
    chart.categoryAxis.labels.fontSize = 7 if not rotated else 6
    chart.categoryAxis.labels.boxAnchor = "n"
    chart.categoryAxis.labels.textAnchor = "middle"
    chart.categoryAxis.labels.dy = -2
    if rotated:
        chart.categoryAxis.labels.angle = 90
        chart.categoryAxis.labels.boxAnchor = "e"
        chart.categoryAxis.labels.textAnchor = "end"
    chart.bars[0].fillColor = colors.HexColor("#2f5d8a")
    chart.bars[1].fillColor = colors.HexColor("#b9c7d6")
    chart.barSpacing = 1
    chart.groupSpacing = 4
    chart.barLabelFormat = lambda v: str(int(v)) if v else ""
    chart.barLabels.fontName = font_name
    chart.barLabels.fontSize = 6
    chart.barLabels.nudge = 5
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = width - 35 * mm, height - 10 * mm
    legend.fontName = font_name
    legend.fontSize = 8
    legend.boxAnchor = "nw"
    legend.columnMaximum = 4
    legend.alignment = "right"  # the colour box left of its name
    legend.dx = legend.dy = 7
    legend.colorNamePairs = [(chart.bars[0].fillColor, "インシデント"),
                             (chart.bars[1].fillColor, "インシデントではない")]
    drawing.add(legend)
    drawing.add(String(0, height - 4 * mm, "（件）", fontName=font_name, fontSize=7))
    return drawing


def _count_table(st, head: list[str], rows: list[list[Any]], widths: list[float], total: list[Any] | None = None):
    """A small table: a label column, then figures aligned right; ``total`` as a shaded last row."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Table

    from .pdfkit import fixed, para, table_style_commands

    right = ParagraphStyle("cell_right", parent=st.cell, alignment=TA_RIGHT)
    indents = [ParagraphStyle(f"cell_indent{i}", parent=st.cell, leftIndent=12 * i) for i in range(3)]
    data: list[list[Any]] = [[fixed(h, st.cell_head) for h in head]]
    for row in rows:
        label, depth = row[0] if isinstance(row[0], tuple) else (row[0], 0)
        data.append([para(label, indents[depth])] + [para(v, right) for v in row[1:]])
    if total is not None:
        data.append([para(total[0], st.cell)] + [para(v, right) for v in total[1:]])
    table = Table(data, colWidths=widths, hAlign="LEFT", repeatRows=1)
    cmds = table_style_commands()
    if total is not None:
        cmds.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#eeeeee")))
    table.setStyle(cmds)
    return table


def _list_table(st, lines: list[IncidentLine], width: float):
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable

    from .pdfkit import fixed, para, table_style_commands

    cols = (("番号", 22 * mm), ("受付日時", 22 * mm), ("種類", 27 * mm), ("レベル", 17 * mm), ("状況", 22 * mm))
    data: list[list[Any]] = [[fixed(h, st.cell_head) for h, _ in cols] + [fixed("概要（③何が の1行目）", st.cell_head)]]
    for line in lines:
        data.append([para(line.id, st.cell), para(line.received, st.cell), para(line.type, st.cell),
                     para(line.level, st.cell), para(line.status, st.cell),
                     para(("【訓練】" if line.drill else "") + line.summary, st.cell)])
    # Rows are short (one summary line of at most SUMMARY_WIDTH characters), so a row never needs
    # splitting: splitInRow stays 0. With splitInRow=1 ReportLab may cut a row at a page foot and put
    # the repeated header above the remainder (see the form1 tests); a whole row moves to the next page.
    table = LongTable(data, colWidths=[w for _, w in cols] + [width - sum(w for _, w in cols)],
                      repeatRows=1, splitInRow=0)
    table.setStyle(table_style_commands())
    return table


def summary_story(stats: SummaryStats, st) -> list:
    from reportlab.lib.units import mm
    from reportlab.platypus import CondPageBreak, KeepTogether, Spacer

    from .pdfkit import MARGIN_X, PAGE, fixed, para

    width = PAGE[0] - 2 * MARGIN_X
    story: list = [
        para(to_wareki(stats.generated_at), st.right), Spacer(1, 6),
        para(stats.addressee, st.body), Spacer(1, 6),
    ]
    if stats.sender:
        story.append(para(stats.sender, st.right))
    story += [Spacer(1, 8), para(TITLE, st.title),
              para(f"{stats.period}に受け付けた情報セキュリティインシデントの対応状況について、"
                   "下記のとおり報告します。", st.body),
              Spacer(1, 4), para("記", st.center)]
    if stats.classification_from:  # why the mark is above the default, and which incidents make it so
        shown = "、".join(stats.classification_from[:10]) + (
            f" ほか{len(stats.classification_from) - 10}件" if len(stats.classification_from) > 10 else "")
        story.append(para(f"この集計の分類: {stats.classification}（一覧のうち最も高い分類。{shown}。"
                          f"{stats.classification_rule or 'デスクの既定'}）", st.small))

    def heading(text: str) -> Any:
        return para(text, st.heading)

    # 1 概況
    story.append(heading("1　対象期間と件数"))
    story.append(para(f"対象期間: {stats.period}（受付日による）", st.item))
    rows: list[list[Any]] = [["受け付けた通報・報告（訓練を除く）", f"{stats.received} 件"],
                             [("うちインシデント", 1), f"{stats.incidents} 件"]]
    rows += [[(f"うち{c.label}", 2), f"{c.count} 件"] for c in stats.by_status]
    rows += [[("うちインシデントではないと判断したもの", 1), f"{stats.not_incident} 件"],
             ["訓練（別掲。上の件数及び以下の集計に含めない）", f"{stats.drills} 件"]]
    story.append(_count_table(st, ["区分", "件数"], rows, [110 * mm, 30 * mm]))

    # 2 月別
    story.append(CondPageBreak(95 * mm))
    story.append(heading("2　月別の件数（受付月）"))
    story.append(_chart(stats, st.font.name, width))
    rows = [[m.label, f"{m.incidents}", f"{m.not_incident}", f"{m.drills}"] for m in stats.by_month]
    total = ["計", f"{stats.incidents}", f"{stats.not_incident}", f"{stats.drills}"]
    story.append(_count_table(st, ["月", "インシデント", "インシデントではない", "訓練（別掲）"], rows,
                              [40 * mm, 30 * mm, 36 * mm, 30 * mm], total))

    # 3 種類別・レベル別
    rows = [[c.label, f"{c.count}"] for c in stats.by_type]
    story.append(KeepTogether([heading("3　インシデントの種類別の件数"),
                               _count_table(st, ["種類", "件数"], rows, [90 * mm, 30 * mm],
                                            ["計", f"{stats.incidents}"])]))
    rows = [[c.label, f"{c.count}"] for c in stats.by_level] or [["（該当なし）", "0"]]
    story.append(KeepTogether([heading("4　影響度（レベル）別の件数"),
                               _count_table(st, ["レベル", "件数"], rows, [90 * mm, 30 * mm],
                                            ["計", f"{stats.incidents}"])]))

    # 5 所要時間
    rows = [[m.label, format_hours(m.hours), f"{m.n} / {m.of} 件"] for m in stats.medians]
    steps = "・".join(f"「{s}」" for s in stats.containment_steps) or "（プロファイルに指定なし）"
    notes = [
        "受付日時から、最初のトリアージの記録、封じ込めの手順（" + steps + "）が対応中又は完了になった最初の時点、"
        "最初の収束の記録までの時間の中央値。",
        "件数は、その時点に至ったインシデントの数 / 集計したインシデントの数。訓練及びインシデントではないと"
        "判断したものは含めない。",
    ]
    story.append(KeepTogether([heading("5　対応に要した時間（中央値）"),
                               _count_table(st, ["区分", "中央値", "件数"], rows, [60 * mm, 50 * mm, 30 * mm]),
                               Spacer(1, 3)] + [para(n, st.small) for n in notes]))

    # 6 一覧
    story.append(CondPageBreak(40 * mm))
    story.append(heading("6　インシデントの一覧（受付順。インシデントではないと判断したものを含む）"))
    if stats.lines:
        story.append(_list_table(st, stats.lines, width))
    else:
        story.append(para("（該当なし）", st.item))
    story.append(CondPageBreak(30 * mm))
    story.append(heading("7　訓練（別掲）"))
    if stats.drill_lines:
        story.append(_list_table(st, stats.drill_lines, width))
    else:
        story.append(para("（該当なし）", st.item))
    # 8 手順の評価・見直し, 9 連絡先の変更の報告 (大崎 3条(2); only where the profile has the rule)
    parts = [("8　手順の評価・見直し", stats.review_rule, stats.reviews, _review_table,
              "（対象期間に記録された評価・見直しはありません）", stats.review_due)]
    if stats.change_notice_rule:
        parts.append(("9　連絡先の変更の報告", stats.change_notice_rule, stats.change_notices, _notice_table,
                      "（対象期間に記録された報告はありません）", stats.change_pending))
    for title, rule, rows, table, nothing, after in parts:
        story.append(CondPageBreak(30 * mm))
        story.append(heading(title + (f"（{rule['source']}）" if rule else "")))
        if rule:
            story.append(para(f"「{rule['text']}」", st.small))
        story.append(table(st, rows, width) if rows else para(nothing, st.item))
        story.append(para(after, st.item))
    story.append(Spacer(1, 10))
    story.append(fixed("以上", st.right))
    return story


REVIEW_NAME_CHARS = 120


def _review_cell(text: str, chars: int | None = None) -> str:
    """A review's typed text for its table cell (pdfkit.cut_for_cell)."""
    from .pdfkit import CELL_CHARS, cut_for_cell

    return cut_for_cell(text, "csirt-desk review list", chars or CELL_CHARS)


def _review_table(st, reviews: list[dict[str, Any]], width: float):
    """One row per review of the procedures: the day, who, what, the changes, the evaluations used."""
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable

    from .pdfkit import fixed, para, table_style_commands

    widths = [26 * mm, 28 * mm, 40 * mm, 0, 26 * mm]
    widths[3] = width - sum(widths)
    head = ("番号・日付", "実施者", "対象", "見直しの内容", "使った評価")
    data: list[list[Any]] = [[fixed(h, st.cell_head) for h in head]]
    for row in reviews:
        changes = row["changes"]
        if row.get("corrects"):
            changes = f"（No.{row['corrects']} の訂正）{changes}"
        if row.get("corrected_by"):
            changes = f"（No.{row['corrected_by']} で訂正）{changes}"
        used = "、".join(i["id"] for i in row.get("incidents") or ()) or "なし"
        data.append([para(f"No.{row['no']}\n{row['day']:%Y-%m-%d}", st.cell),
                     para(_review_cell(row["reviewer"], REVIEW_NAME_CHARS), st.cell),
                     para(_review_cell(row["subject"]), st.cell), para(_review_cell(changes), st.cell),
                     para(_review_cell(used), st.cell)])
    table = LongTable(data, colWidths=widths, repeatRows=1, splitInRow=1)
    table.setStyle(table_style_commands())
    return table


def _notice_table(st, notices: list[dict[str, Any]], width: float):
    """One row per report of the roster's changes: the day, to whom, how, who took it, what was said."""
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable

    from .pdfkit import CELL_CHARS, cut_for_cell, fixed, para, table_style_commands

    def cell(text: str, chars: int = CELL_CHARS):
        return para(cut_for_cell(text, "csirt-desk の連絡先名簿 (Ctrl+R)", chars), st.cell)

    widths = [26 * mm, 32 * mm, 22 * mm, 32 * mm, 0]
    widths[4] = width - sum(widths)
    head = ("番号・日付", "報告先", "方法", "相手", "報告した変更事項")
    data: list[list[Any]] = [[fixed(h, st.cell_head) for h in head]]
    for row in notices:
        data.append([para(f"No.{row['no']}\n{row['day']:%Y-%m-%d}", st.cell), para(row["label"], st.cell),
                     cell(row["means"], REVIEW_NAME_CHARS), cell(row["person"], REVIEW_NAME_CHARS), cell(row["said"])])
    table = LongTable(data, colWidths=widths, repeatRows=1, splitInRow=1)
    table.setStyle(table_style_commands())
    return table


def build_summary(stats: SummaryStats, font, *, on_progress: Callable[[str], Any] | None = None) -> bytes:
    """The committee summary as PDF bytes (A4, unencrypted, in memory). ``font``
    is a :class:`~csirt_tui.report.pdfkit.FontChoice` (see ``find_font``)."""
    from .pdfkit import build_pdf, make_styles

    st = make_styles(font)
    return build_pdf(
        summary_story(stats, st), title=f"{TITLE} {stats.period}",
        header_left=f"{stats.addressee}への報告  {stats.period}",
        mark=stats.classification, footer_left=f"インシデント対応状況 {stats.period}",
        font=font, on_progress=on_progress)


# ---------------------------------------------------------------------------
# Export


def summary_label(profile) -> str:
    """What the summary is called for this profile, after its addressee: 「委員会向け集計」 where it
    goes to the 情報セキュリティ委員会 (つくば 4(2)⑤(III)), 「CISO向け集計」 (むつ, 水戸: no such
    committee in their rules), 「セキュリティ統括責任者向け集計」 (大崎)."""
    addressee = profile.report_form.get("summary_addressee") or ADDRESSEE
    base, _, rest = addressee.partition("（")
    short = rest.rstrip("）") if rest else base
    if short == ADDRESSEE:
        short = "委員会"
    return f"{short}向け集計"


def summary_filename(start: date, end: date, now: datetime, profile=None) -> str:
    label = summary_label(profile) if profile is not None else "委員会向け集計"
    return f"{label}_{start:%Y%m%d}-{end:%Y%m%d}_{now:%Y%m%d-%H%M}.pdf"


def export_summary(store, path: str | os.PathLike, *, start: date, end: date, operator: str,
                   password: str | None = None, waive_reason: str = "", font: str | None = None,
                   on_progress: Callable[[str], Any] | None = None, force: bool = False):
    """Write the committee summary for ``start``–``end`` to ``path`` and log the
    export in the store (``Store.log_export``: period, path, pages, mark,
    encrypted or the reason it is not, SHA-256, the incidents included; never
    the password). The mark is the highest class among the incidents it lists
    (:func:`highest_class`; at least the report form's ``classification_default``);
    機密性2 and above needs ``password`` or ``waive_reason``. Returns an
    :class:`~csirt_tui.report.export.ExportResult` (``entry`` None)."""
    from .export import ExportResult, _finish, encryption_problem
    from .pdfkit import ReportError, check_target, find_font

    start, end = check_period(start, end)
    target = check_target(path, store_root=store.root, force=force)
    stats = summary_stats(store, start, end)
    problem = encryption_problem(stats.encryption_required, password, waive_reason, stats.classification,
                                 store.profile)
    if problem:
        raise ReportError(problem)
    chosen = find_font(font)
    pdf = build_summary(stats, chosen, on_progress=on_progress)
    # the export log says so before the file exists (a crash leaves the log naming it)
    label = summary_label(store.profile)
    store.log_export({"report": "summary", "label": label, "state": "started", "path": str(target),
                      "at": store.now().isoformat(timespec="seconds"), "operator": operator,
                      "from": start.isoformat(), "to": end.isoformat()})
    try:
        payload, pages = _finish(pdf, target, password, store_root=store.root, force=force)
    except ReportError as err:
        store.log_export({"report": "summary", "label": label, "state": "failed", "path": str(target),
                          "at": store.now().isoformat(timespec="seconds"), "operator": operator,
                          "problem": str(err)})
        raise
    digest = hashlib.sha256(payload).hexdigest()
    doc: dict[str, Any] = {
        "report": "summary", "label": label, "at": store.now().isoformat(timespec="seconds"),
        "operator": operator, "from": start.isoformat(), "to": end.isoformat(), "path": str(target),
        "pages": pages, "size": len(payload), "sha256": digest, "classification": stats.classification,
        "encrypted": bool(password), "font_embedded": chosen.embedded,
        "counts": {"incidents": stats.incidents, "not_incident": stats.not_incident, "drills": stats.drills},
        "incident_ids": [line.id for line in stats.lines], "drill_ids": [line.id for line in stats.drill_lines],
        "state": "written",
    }
    if not password and (waive_reason or "").strip():
        doc["encryption_waived"] = waive_reason
    store.log_export(doc)
    return ExportResult(path=target, pages=pages, encrypted=bool(password), size=len(payload), sha256=digest,
                        font=chosen, classification=stats.classification, entry=None)

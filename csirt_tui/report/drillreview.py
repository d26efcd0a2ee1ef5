"""訓練の講評 (the review of a drill) on paper: what the scenario expected beside what the
record holds, and the times from receipt (csirt_tui.drill.review), laid out with ReportLab in
the same font, escaping and page frame as the other reports; 【訓練】 on every page.

The export is recorded on the drill's record like 報告様式1's: an entry 「出力を開始」 before the
file is written, then the outcome (path, pages, SHA-256, encrypted or why not)."""

from __future__ import annotations

import hashlib
import os
from typing import Any, Callable

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, HRFlowable, KeepTogether, LongTable, Spacer

from ..drill import DRILL_MARK, DrillReview, duration_text, review
from ..timeparse import to_wareki
from .content import classification_of, record_time
from .export import ExportResult, _finish, encryption_problem
from .pdfkit import (MARGIN_X, PAGE, FontChoice, ReportError, build_pdf, check_target, cut_for_cell, find_font,
                     fixed, make_styles, para, table_style_commands)

TITLE = "訓練の講評"
KIND = "drill_review"


def _table(st, head: list[tuple[str, float]], rows: list[list[str]], where: str = "") -> LongTable:
    width = PAGE[0] - 2 * MARGIN_X
    widths = [w for _, w in head]
    rest = width - sum(w for w in widths if w)
    widths = [w or rest for w in widths]
    data: list[list[Any]] = [[fixed(h, st.cell_head) for h, _ in head]]
    for row in rows:
        data.append([para(cut_for_cell(cell, where) if where else cell, st.cell) for cell in row])
    table = LongTable(data, colWidths=widths, repeatRows=1, splitInRow=1)
    table.setStyle(table_style_commands())
    return table


def review_story(rv: DrillReview, st, now, card: list[tuple[str, str]] | None = None) -> list:
    story: list = [para(to_wareki(now), st.right), Spacer(1, 4)]
    story.append(para(f"{DRILL_MARK}{TITLE}", st.title))
    story.append(para("この文書は訓練の記録です。実際のインシデントの報告ではありません。", st.center))
    story.append(Spacer(1, 6))
    sc = rv.scenario
    facts = [f"インシデント番号: {rv.incident_id}（訓練）", f"受付日時: {record_time(rv.received_at)}"]
    if sc is not None:
        facts[1:1] = [f"訓練シナリオ: {sc.title}（{sc.id}）", f"根拠: {sc.source}"]
    elif rv.scenario_id:
        facts.insert(1, f"訓練シナリオ: {rv.scenario_id}（このプロファイルにはありません）")
    else:
        facts.insert(1, "訓練シナリオ: なし（受付のあとで訓練として記録したもの）")
    for line in facts:
        story.append(para(line, st.body))
    if card:  # the PoC the drill's call came to (むつ 別表第1)
        story.append(para("PoC（窓口）: " + "  ".join(value if label == "PoC" else f"{label} {value}"
                                                   for label, value in card if label not in ("確認項目", "出典")),
                          st.body))
    if sc is not None:
        story.append(para(f"ねらい: {sc.purpose}", st.body))
        story.append(Spacer(1, 4))
        story.append(para("通報者が話した内容（シナリオ）", st.heading))
        story.append(para(sc.says, st.item))
        if sc.fact_check:
            story.append(para(f"事実関係の確認で期待すること: {sc.fact_check}", st.item))
    # the two text columns share what is left
    width = PAGE[0] - 2 * MARGIN_X - 56 * mm
    head = [("項目", 38 * mm), ("シナリオの期待", width / 2), ("記録", width / 2), ("評価", 18 * mm)]
    for no, (title, rows) in enumerate((("受付（確認項目）", rv.intake), ("トリアージ（種別・レベル）", rv.classification),
                                        ("初動対応の手順", rv.steps), ("連絡・通知", rv.notifications)), start=1):
        story.append(CondPageBreak(30 * mm))
        story.append(para(f"{no}　{title}", st.heading))
        if rows:
            table_rows = [[r.item, r.expected + (f"\n（{r.note}）" if r.note else ""), r.recorded, r.verdict]
                          for r in rows]
            story.append(_table(st, head, table_rows, f"csirt-desk show {rv.incident_id}"))
        else:
            story.append(para("（記録なし）", st.item))
    story.append(CondPageBreak(30 * mm))
    story.append(para("5　時間（受付から）", st.heading))
    story.append(_table(st, [("区間", 55 * mm), ("開始", 40 * mm), ("終了", 40 * mm), ("所要", 0)],
                        [[t.label, record_time(t.start) if t.start else "-", record_time(t.end) if t.end else "記録なし",
                          duration_text(t.minutes)] for t in rv.times]))
    story.append(Spacer(1, 6))
    story.append(KeepTogether([para("6　所見（記録から）", st.heading)] + [para(s, st.item) for s in rv.summary]))
    line = dict(width="100%", thickness=0.5, spaceBefore=16, spaceAfter=0)
    story.append(KeepTogether([para("7　講評（手書き）", st.heading)] + [HRFlowable(**line) for _ in range(5)]))
    story.append(Spacer(1, 10))
    story.append(fixed("以上", st.right))
    return story


def build_review(rv: DrillReview, font: FontChoice, now, mark: str, *,
                 on_progress: Callable[[str], Any] | None = None, card: list[tuple[str, str]] | None = None) -> bytes:
    st = make_styles(font)
    return build_pdf(review_story(rv, st, now, card), title=f"{DRILL_MARK}{TITLE} {rv.incident_id}",
                     header_left=f"{DRILL_MARK}{TITLE}  インシデント {rv.incident_id}（訓練）",
                     mark=mark, footer_left=f"{DRILL_MARK}訓練の記録（実際の報告ではありません）",
                     font=font, on_progress=on_progress)


def export_review(store, incident_id: str, path: str | os.PathLike, *, operator: str,
                  password: str | None = None, waive_reason: str = "", font: str | None = None,
                  on_progress: Callable[[str], Any] | None = None, force: bool = False) -> ExportResult:
    """Write the review PDF of drill ``incident_id`` and record the export on its record (never the
    password). Refuses a real incident, and a 機密性2+ record without a password or a reason."""
    target = check_target(path, store_root=store.root, force=force)
    profile = store.profile
    inc = store.incident(incident_id)
    rv = review(profile, inc)
    mark, required = classification_of(profile, inc)
    problem = encryption_problem(required, password, waive_reason, mark, profile)
    if problem:
        raise ReportError(problem)
    chosen = find_font(font)
    now = store.now()
    from ..poc import poc_card

    pdf = build_review(rv, chosen, now, mark, on_progress=on_progress, card=poc_card(profile))
    label = f"{DRILL_MARK}{TITLE}"
    up_to = inc.entries[-1].seq
    started = store.append(incident_id, "report", f"{label}の出力を開始: {target}", operator=operator,
                           data={"report": KIND, "path": str(target), "state": "started", "up_to_seq": up_to})
    try:
        payload, pages = _finish(pdf, target, password, store_root=store.root, force=force)
    except ReportError as err:
        store.append(incident_id, "report", f"{label}を出力できませんでした: {err}", operator=operator,
                     data={"report": KIND, "path": str(target), "state": "failed", "started": started.seq,
                           "problem": str(err)})
        raise
    digest = hashlib.sha256(payload).hexdigest()
    how = "暗号化あり（AES-256）" if password else (
        f"暗号化なし（理由: {waive_reason}）" if (waive_reason or "").strip() else "暗号化なし")
    text = f"{label}を出力: {target}\n{pages} ページ、{mark}、{how}\n記録 #{up_to} までを収録"
    data = {"report": KIND, "path": str(target), "pages": pages, "encrypted": bool(password),
            "classification": mark, "sha256": digest, "up_to_seq": up_to, "font_embedded": chosen.embedded,
            "state": "written", "started": started.seq}
    if not password and (waive_reason or "").strip():
        data["encryption_waived"] = waive_reason
    entry = store.append(incident_id, "report", text, operator=operator, data=data)
    return ExportResult(path=target, pages=pages, encrypted=bool(password), size=len(payload), sha256=digest,
                        font=chosen, classification=mark, entry=entry)

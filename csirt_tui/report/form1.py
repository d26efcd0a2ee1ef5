"""報告様式1 (つくば 別添) laid out with ReportLab: the dated letter to the
CISO, sections 1–8, and the whole time-ordered record as a table whose
header repeats on every page."""

from __future__ import annotations

import re
from typing import Any, Callable

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, HRFlowable, KeepTogether, LongTable, Spacer

from .content import BLANK_NOTE, VARIANTS, Form1, Part, RecordRow
from .pdfkit import (MARGIN_BOTTOM, MARGIN_TOP, PAGE, MARGIN_X, FontChoice, Styles, build_pdf, chunks, fixed,
                     make_styles, para, table_style_commands)

# An entry longer than this is split over several rows of the record table
# (each row must fit on a page); beyond RECORD_TEXT_LIMIT characters or
# RECORD_LINE_LIMIT lines the rest is left out of the PDF with a note (the
# store keeps every character).
ROW_CHARS = 1500
RECORD_TEXT_LIMIT = 60_000
RECORD_LINE_LIMIT = 1_000   # lines of one entry (24,000 blank lines made 500 blank pages)

# A text in sections 1–8 (e.g. a pasted log in ③何が) is printed in paragraphs of
# at most ROW_CHARS characters / PART_LINES lines: ReportLab lays a paragraph out
# again for every page break it crosses (one of 100,000 characters took a minute,
# a 1 MB paste never finished). Beyond PART_TEXT_LIMIT characters or
# PART_LINE_LIMIT lines the rest is left out of the PDF with a note pointing to
# the record (the store keeps every character).
PART_LINES = 40
PART_TEXT_LIMIT = 10_000
PART_LINE_LIMIT = 200

from ..drill import DRILL_MARK

# Under the title of a drill's report (a drill is never sent as a real report).
DRILL_NOTE = "この報告書は訓練の記録です。実際の報告として送付しないでください。"

COLUMNS = (("日時", 28 * mm), ("担当者", 22 * mm), ("種類", 24 * mm))

# No row is split inside (a split row puts a repeated header in the middle of a
# page): a text taller than this is cut into several rows, so every row fits on
# a page under the header.
MAX_CELL_HEIGHT = (PAGE[1] - MARGIN_TOP - MARGIN_BOTTOM) * 0.75


def _text_cells(text: str, st: Styles, width: float) -> list:
    """The 内容 cells of one entry: pieces of ROW_CHARS, and a piece with many
    lines cut where it reaches MAX_CELL_HEIGHT."""
    out: list = []
    for piece in list(chunks(text, ROW_CHARS)) or [""]:
        cell = para(piece, st.cell)
        if len(piece) > 200 or piece.count("\n") > 20:  # only these can be that tall
            while cell.wrap(width, 1e9)[1] > MAX_CELL_HEIGHT:
                first, cell = cell.split(width, MAX_CELL_HEIGHT)[:2]
                out.append(first)
        out.append(cell)
    return out


_BREAK = re.compile(r"\r\n|\r|\n")


def _lines_of(text: str) -> list[str]:
    return _BREAK.split(text)


def _cut(text: str, chars: int, lines: int) -> tuple[str, int]:
    """(``text`` up to ``chars`` characters and ``lines`` lines, how many characters were left out)."""
    kept = text[:chars]
    for n, m in enumerate(_BREAK.finditer(kept), start=1):
        if n >= lines:
            kept = kept[: m.start()]
            break
    return kept, len(text) - len(kept)


def _long_text(text: str, style, incident_id: str) -> list:
    """Paragraphs for a text of any length (see PART_TEXT_LIMIT): line breaks and
    runs of blank lines are kept; a line longer than ROW_CHARS goes on in the next
    paragraph."""
    if len(text) <= ROW_CHARS and text.count("\n") + text.count("\r") < PART_LINES:
        return [para(text, style)]
    text, left_out = _cut(text, PART_TEXT_LIMIT, PART_LINE_LIMIT)
    out: list = []
    group: list[str] = []
    size = 0
    for line in _lines_of(text):
        for piece in list(chunks(line, ROW_CHARS)) or [""]:
            if group and (size + len(piece) > ROW_CHARS or len(group) >= PART_LINES):
                out.append(para("\n".join(group), style))
                group, size = [], 0
            group.append(piece)
            size += len(piece) + 1
    if group:
        out.append(para("\n".join(group), style))
    if left_out:
        out.append(para(f"……以下 {left_out:,} 文字は報告書では省略しました。全文は記録に保存されています"
                        f"（csirt-desk show {incident_id} で表示）。", style))
    return out


NAME_CHARS = 60


def _name(text: str) -> str:
    """An operator's name for the narrow 担当者 column: one line, at most NAME_CHARS
    characters (a name of thousands of characters made a row taller than a page)."""
    one = " ".join(_lines_of(text or ""))
    return one if len(one) <= NAME_CHARS else one[: NAME_CHARS - 1] + "…"


def _blank(st: Styles) -> list:
    line = dict(width="100%", thickness=0.5, color=colors.HexColor("#777777"), spaceBefore=14, spaceAfter=0)
    return [para(BLANK_NOTE, st.blank), HRFlowable(**line), HRFlowable(**line), Spacer(1, 4)]


def _part_flowables(part: Part, st: Styles, index: int | None, incident_id: str) -> list:
    out: list = []
    if part.label:
        head = f"({index}) {part.label}" if index is not None else part.label
        out.append(para(head, st.item))
    if part.empty:
        out.extend(_blank(st))
        return out
    indent = st.item
    for line in part.auto:
        out.extend(_long_text(line, indent, incident_id))
    if (part.edited or "").strip():
        out.extend(_long_text(part.edited, indent, incident_id))
    return out


def _record_table(rows: list[RecordRow], st: Styles, incident_id: str) -> LongTable:
    width = PAGE[0] - 2 * MARGIN_X
    text_width = width - sum(w for _, w in COLUMNS)
    data: list[list[Any]] = [[fixed(h, st.cell_head) for h, _ in COLUMNS] + [fixed("内容", st.cell_head)]]
    for row in rows:
        text = row.text or ""
        text, left_out = _cut(text, RECORD_TEXT_LIMIT, RECORD_LINE_LIMIT)
        for i, cell in enumerate(_text_cells(text, st, text_width - 14)):  # the cell's padding (3 + 11)
            cells = [para(row.when, st.cell), para(_name(row.operator), st.cell), para(row.kind, st.cell)]
            if i:
                cells = [para(f"（#{row.seq} の続き）", st.cell), para("", st.cell), para("", st.cell)]
            data.append(cells + [cell])
        if left_out:
            data.append([para(f"（#{row.seq} の続き）", st.cell), para("", st.cell), para("", st.cell),
                         para(f"……以下 {left_out:,} 文字は報告書では省略しました。全文は記録 #{row.seq} に"
                              f"保存されています（csirt-desk show {incident_id} で表示）。", st.cell)])
    table = LongTable(data, colWidths=[w for _, w in COLUMNS] + [text_width], repeatRows=1)
    table.setStyle(table_style_commands())
    return table


def form1_story(form: Form1, st: Styles) -> list:
    story: list = []
    story.append(para(form.date, st.right))
    story.append(Spacer(1, 6))
    story.append(para(form.addressee, st.body))
    story.append(Spacer(1, 6))
    story.append(para(form.sender, st.right))
    if form.sender_note:
        story.append(para(form.sender_note, st.right))
    story.append(Spacer(1, 8))
    story.append(para(DRILL_MARK + form.title if form.drill else form.title, st.title))
    if form.drill:
        story.append(para(DRILL_NOTE, st.center))
    if form.summary:
        summary = form.summary
        if len(summary) > ROW_CHARS:  # one paragraph: see PART_TEXT_LIMIT (the whole text is in the record)
            summary = summary[:ROW_CHARS] + f"……（以下 {len(summary) - ROW_CHARS:,} 文字省略）"
        opening = para(form.opening_before + summary + form.opening_after, st.body)
    else:
        opening = para(form.opening_before + "＿＿＿＿＿＿＿＿" + form.opening_after, st.body)
    story.append(opening)
    story.append(Spacer(1, 6))
    story.append(para("記", st.center))
    for sec in form.sections:
        heading = para(f"{sec.no}　{sec.label}", st.heading)
        numbered = sec.fill == "situation" or len(sec.parts) > 1
        body: list = []
        for i, part in enumerate(sec.parts, start=1):
            body.extend(_part_flowables(part, st, i if numbered else None, form.incident_id))
        if sec.fill == "record":
            story.append(CondPageBreak(40 * mm))
            story.append(heading)
            story.extend(body if not sec.parts[0].empty else [])
            story.append(para(f"時系列の対応記録（全 {len(form.record)} 件、記録の順）", st.item))
            if form.head_hash:  # the record on paper, anchored: verify checks the store up to this value
                story.append(para(f"最新の記録 #{form.head_seq} のハッシュ (SHA-256): {form.head_hash}", st.item))
            story.append(Spacer(1, 3))
            story.append(_record_table(form.record, st, form.incident_id))
        else:
            story.append(KeepTogether([heading] + body[:3]))
            story.extend(body[3:])
    return story


def build_form1(form: Form1, font: FontChoice, *, on_progress: Callable[[str], Any] | None = None) -> bytes:
    """報告様式1 as PDF bytes (unencrypted, in memory)."""
    st = make_styles(font)
    variant = VARIANTS.get(form.variant, form.variant)
    drill = DRILL_MARK if form.drill else ""
    return build_pdf(
        form1_story(form, st), title=f"{drill}{form.title}（{variant}） {form.incident_id}",
        header_left=f"{drill}報告様式1（{variant}）  インシデント {form.incident_id}",
        mark=form.classification,
        footer_left=f"{drill}インシデント {form.incident_id}" + (
            f"  記録 #{form.head_seq} {form.head_hash[:16]}" if form.head_hash else ""),
        font=font, on_progress=on_progress)

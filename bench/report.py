"""報告様式1 (PDF) build time against the size of the record.

usage: python bench/report.py [--sizes 10,500,5000] [--runs 3] [--font PATH]

For an incident with N timeline entries (built with Store.bulk_create in a
temp store), prints the median of --runs runs of:
  - form1: form1_content + build_form1 (the whole form, laid out, PDF bytes in
    memory; goal for 500 entries ≤ 1 s);
  - export: export_form1 with a password (the same, plus AES-256 with pypdf,
    the atomic 0600 write and the "report" entry on the record);
  - bare ReportLab: the same record rows as Paragraphs in a LongTable with the
    same font, column widths, cell style and table style, on plain A4 pages
    (no letter, sections, page frame, n / N or mark): what ReportLab itself
    costs for the table.
and the page counts. Figures only; no goal is asserted here.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402,F401  (puts the repository on sys.path)

from csirt_tui.report.content import form1_content, record_rows  # noqa: E402
from csirt_tui.report.export import export_form1  # noqa: E402
from csirt_tui.report.form1 import COLUMNS, build_form1  # noqa: E402
from csirt_tui.report.pdfkit import (MARGIN_BOTTOM, MARGIN_TOP, MARGIN_X, PAGE, ReportError,  # noqa: E402
                                     find_font, make_styles, para, table_style_commands)
from csirt_tui.store import Store  # noqa: E402
from csirt_tui.timeparse import to_iso  # noqa: E402

NOW = datetime(2026, 11, 22, 14, 35, tzinfo=ZoneInfo("Asia/Tokyo"))
TEXTS = (
    "経過メモ: サーバ室で機器の状態を確認した。ベンダーに連絡済み。",
    "税務課の端末をネットワークから切り離した（LAN ケーブルを抜いた）",
    "総務省へ第一報\n手段: 電話 相手: 担当者\n内容: 発生の概要と初動",
    "FW のログ（11/20〜11/22）を USB-1 に保全した。ハッシュ値は台帳に記載。" * 2,
    "確認中",
)


def make_incident(store: Store, entries: int) -> str:
    start = NOW - timedelta(days=30)
    specs = [{"kind": "note", "text": f"{i + 2}: {TEXTS[i % len(TEXTS)]}", "operator": "bench",
              "at": to_iso(start + timedelta(minutes=5 * i))} for i in range(entries - 1)]
    intake = {"received_at": to_iso(start), "what": "ベンチマーク用の大きな記録", "place": "本庁舎"}
    (incident_id,) = store.bulk_create([(intake, specs)])
    return incident_id


def page_count(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def bare_table(rows, font) -> bytes:
    from reportlab.platypus import LongTable, SimpleDocTemplate

    st = make_styles(font)
    width = PAGE[0] - 2 * MARGIN_X
    widths = [w for _, w in COLUMNS] + [width - sum(w for _, w in COLUMNS)]
    data = [[para(h, st.cell_head) for h, _ in COLUMNS] + [para("内容", st.cell_head)]]
    data += [[para(r.when, st.cell), para(r.operator, st.cell), para(r.kind, st.cell), para(r.text, st.cell)]
             for r in rows]
    table = LongTable(data, colWidths=widths, repeatRows=1, splitInRow=1)
    table.setStyle(table_style_commands())
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=PAGE, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
                      bottomMargin=MARGIN_BOTTOM, invariant=1).build([table])
    return buf.getvalue()


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10,500,5000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--font", default=None, help="font file (default: as the desk finds it)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    root = Path(tempfile.mkdtemp(prefix="csirt-bench-report-"))
    store = Store.open(root / "s", clock=lambda: NOW)
    font = find_font(args.font)
    font_note = font.path if font.embedded else f"{font.name} (not embedded)"
    print(f"報告様式1 build time, median of {args.runs} runs, seconds (font {font_note}; dir {root})")
    print(f"{'entries':>8} | {'form1':>7} {'pages':>5} | {'export+AES':>10} | {'bare ReportLab':>14} {'pages':>5}"
          f" | {'form1/bare':>10}")
    failures: list[str] = []
    for n in sizes:
        incident_id = make_incident(store, n)
        incident = store.incident(incident_id)
        form_s, pdf = timed(lambda: build_form1(form1_content(store.profile, incident, NOW), font), args.runs)
        try:
            export_s, _ = timed(lambda: export_form1(store, incident_id, root / f"{incident_id}.pdf",
                                                     operator="bench", password="bench-password", font=args.font),
                                args.runs)
            export_cell = f"{export_s:>10.2f}"
        except ReportError as err:  # the record grows by one "report" entry per export
            export_cell = f"{'failed':>10}"
            failures.append(f"{n} entries, export: {err}")
        rows = record_rows(incident)
        bare_s, bare = timed(lambda: bare_table(rows, font), args.runs)
        print(f"{n:>8} | {form_s:>7.2f} {page_count(pdf):>5} | {export_cell} | {bare_s:>14.2f}"
              f" {page_count(bare):>5} | {form_s / bare_s:>10.2f}", flush=True)
    for failure in failures:
        print(f"failed: {failure}")


if __name__ == "__main__":
    main()

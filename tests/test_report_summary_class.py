"""The committee summary takes the highest class among what it lists (Mito 3(2)オ(ウ):
分類が異なる情報が複数記録されている場合、最高度の分類に従って), not always 機密性2."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from csirt_tui.report.pdfkit import ReportError
from csirt_tui.report.summary import build_summary, export_summary, highest_class, summary_stats
from csirt_tui.response import mark_drill
from csirt_tui.triage import Triage, TriageContext, record_triage
from test_report_summary import OP, PASSWORD, at, need_font, new, pdf_text

START, END = date(2026, 11, 1), date(2026, 11, 30)


def classified(store, clock, when, confidentiality: str | None, what: str) -> str:
    iid = new(store, clock, when, what=what)
    clock.now = when.replace(minute=30)
    ctx = TriageContext(asset_classes={"confidentiality": confidentiality} if confidentiality else {})
    record_triage(store, iid, Triage(fact_check="done", type_id="cyber", ticked=["L1.1"], context=ctx), operator=OP)
    return iid


def test_highest_class_order():
    from csirt_tui.profiles import load_profile

    mutsu = load_profile("mutsu")  # classes 機密性3A … 機密性1 (水戸 3(1)), default 機密性2
    assert highest_class(mutsu, []) == "機密性2"
    assert highest_class(mutsu, ["機密性1", "機密性2"]) == "機密性2"  # never below the form's default
    assert highest_class(mutsu, ["機密性2", "機密性3B", "機密性3C"]) == "機密性3B"
    assert highest_class(mutsu, ["機密性3A", "機密性3B"]) == "機密性3A"
    assert highest_class(mutsu, ["機密性3C", "不明な分類"]) == "不明な分類"  # unknown: treated as the highest


def test_summary_listing_a_3b_incident_is_marked_3b(store, clock):
    low = classified(store, clock, at(11, 2, 9), "c1", "掲示物の誤り")
    mid = classified(store, clock, at(11, 3, 9), None, "不審メール")
    high = classified(store, clock, at(11, 4, 9), "c3b", "住民情報を含むUSBの紛失")
    clock.now = at(11, 22, 10)
    stats = summary_stats(store, START, END)
    assert [line.id for line in stats.lines] == [low, mid, high]
    assert stats.classification == "機密性3B" and stats.encryption_required
    assert stats.classification_from == [high] and stats.classification_default == "機密性2"


def test_a_drill_listed_apart_counts_too(store, clock):
    classified(store, clock, at(11, 2, 9), "c2", "不審メール")
    drill = classified(store, clock, at(11, 5, 9), "c3a", "訓練: 秘密文書の漏えい")
    mark_drill(store, drill, operator=OP, note="年次訓練")
    clock.now = at(11, 22, 10)
    stats = summary_stats(store, START, END)
    assert [line.id for line in stats.drill_lines] == [drill]
    assert stats.classification == "機密性3A" and stats.classification_from == [drill]


def test_nothing_above_the_default_keeps_the_default_and_says_nothing(store, clock):
    classified(store, clock, at(11, 2, 9), "c1", "掲示物の誤り")
    clock.now = at(11, 22, 10)
    stats = summary_stats(store, START, END)
    assert stats.classification == "機密性2" and stats.classification_from == []
    font = need_font()
    assert "この集計の分類" not in pdf_text(build_summary(stats, font))


def test_the_pdf_is_marked_on_every_page_and_says_why(store, clock, tmp_path):
    font = need_font()
    high = classified(store, clock, at(11, 4, 9), "c3b", "住民情報を含むUSBの紛失")
    for day in range(5, 25):  # enough incidents for a second page
        classified(store, clock, at(11, day, 9), "c2", f"事案 {day}")
    clock.now = at(11, 25, 10)
    stats = summary_stats(store, START, END)
    data = build_summary(stats, font)
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]
    assert len(pages) >= 2
    for text in pages:
        assert "機密性3B" in text
    assert f"この集計の分類:機密性3B（一覧のうち最も高い分類。{high}。" in "".join(pages[0].split())
    # exported: the log says the same mark; unencrypted needs a reason, as for any 機密性2 and above
    with pytest.raises(ReportError):
        export_summary(store, tmp_path / "s.pdf", start=START, end=END, operator=OP)
    result = export_summary(store, tmp_path / "s.pdf", start=START, end=END, operator=OP, password=PASSWORD)
    assert result.classification == "機密性3B"
    assert store.list_exports()[-1]["classification"] == "機密性3B"
    assert "機密性3B" in pdf_text((tmp_path / "s.pdf").read_bytes(), PASSWORD)


@pytest.mark.parametrize("pid, cited", [("mito", "水戸3(2)オ(ウ)「最高度の分類に従って」"), ("mutsu", "デスクの既定"),
                                        ("tsukuba", "デスクの既定"), ("osaki", "デスクの既定")])
def test_the_mark_cites_the_stores_own_rule(tmp_path, clock, pid, cited):
    """The note under the title cited 「水戸 3(2)オ(ウ)「最高度の分類に従って」」 for every desk (issue 16:
    an operator is never told another organisation's names): only Mito's rules say so; elsewhere
    the desk's rule, citing no one."""
    from csirt_tui.store import Store

    store = Store.open(tmp_path / pid, profile=pid, clock=clock)
    iid = new(store, clock, at(11, 4, 9), what="住民情報を含むUSBの紛失")
    clock.now = at(11, 4, 9).replace(minute=30)
    from csirt_tui.triage import level_examples

    kind = store.profile.incident_types[0]["id"]
    ticked = [k for k, level, _text, _ in level_examples(store.profile, kind) if level >= 1][:1]
    ctx = TriageContext(asset_classes={"confidentiality": "c3b"})
    record_triage(store, iid, Triage(fact_check="done", type_id=kind, ticked=ticked, context=ctx), operator=OP)
    clock.now = at(11, 22, 10)
    stats = summary_stats(store, START, END)
    assert stats.classification == "機密性3B"
    text = "".join(pdf_text(build_summary(stats, need_font())).split())
    assert f"この集計の分類:機密性3B（一覧のうち最も高い分類。{iid}。{cited}）" in text
    if pid != "mito":
        assert "水戸" not in text

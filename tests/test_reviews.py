"""手順の評価・見直し (issue 16): the review record, its reminder, the CLI, the committee summary."""

from __future__ import annotations

import pytest

from conftest import sample_intake
from csirt_tui.reviews import ReviewError, closed_evaluations, list_reviews, record_review, review_due
from csirt_tui.response import close_incident, set_step
from csirt_tui.store import Store
from csirt_tui.triage import Triage, record_triage

OP = "試験 花子"


def closed_incident(store, evaluation: str = "") -> str:
    inc = store.create_incident(sample_intake(), operator=OP)
    record_triage(store, inc.id, Triage(fact_check="done", type_id="cyber", ticked=["L2.5"]), operator=OP)
    if evaluation:
        set_step(store, inc.id, "evaluation", "done", operator=OP, note=evaluation)
    close_incident(store, inc.id, operator=OP, note="収束を確認", force=True)
    return inc.id


def test_review_is_kept_with_the_evaluations_it_drew_on(store):
    done = closed_incident(store, "初動の連絡が遅れた。夜間の連絡先を名簿に加える")
    other = closed_incident(store)
    offered = closed_evaluations(store)
    assert [o["id"] for o in offered] == [other, done] or {o["id"] for o in offered} == {other, done}
    assert next(o for o in offered if o["id"] == done)["evaluation"].startswith("初動の連絡が遅れた")
    row = record_review(store, operator=OP, reviewer="CSIRT責任者 総務部長", reviewed_at="11/20",
                        subject="緊急時対応計画 4(2)③ 初動対応", changes="夜間の連絡手順を追加する",
                        incidents=[done, other], note="[bold]x[/]")
    assert row["no"] == 1
    rows = list_reviews(store)
    assert len(rows) == 1
    got = rows[0]
    assert got["reviewer"] == "CSIRT責任者 総務部長"
    assert got["reviewed_at"].startswith("2026-11-20")
    assert got["subject"] == "緊急時対応計画 4(2)③ 初動対応"
    assert got["changes"] == "夜間の連絡手順を追加する"
    assert got["note"] == "[bold]x[/]"  # kept verbatim
    assert [i["id"] for i in got["incidents"]] == [done, other]
    assert got["incidents"][0]["evaluation"] == "初動の連絡が遅れた。夜間の連絡先を名簿に加える"
    assert got["incidents"][1]["evaluation"] == ""
    assert got["operator"] == OP and got["source"] == "むつ 2条(2)ウ"
    assert store.verify().ok


def test_review_refuses_what_the_record_needs(store):
    open_one = store.create_incident(sample_intake(), operator=OP).id
    with pytest.raises(ReviewError) as err:
        record_review(store, operator=OP, reviewer=" ", reviewed_at="", subject="", changes="",
                      incidents=[open_one, "2026-9999"])
    text = str(err.value)
    for part in ("行った者", "評価・見直しの日", "対象", "見直しの内容", "収束していません", "2026-9999"):
        assert part in text
    assert list_reviews(store) == []


def test_a_correction_is_a_new_row(store):
    record_review(store, operator=OP, reviewer="A", reviewed_at="11/20", subject="計画", changes="変更なし")
    record_review(store, operator=OP, reviewer="B", reviewed_at="11/21", subject="計画", changes="手順を追加",
                  corrects=1)
    rows = list_reviews(store)
    assert [r["reviewer"] for r in rows] == ["A", "B"]
    assert rows[0]["corrected_by"] == 2 and rows[1]["corrects"] == 1
    with pytest.raises(ReviewError):
        record_review(store, operator=OP, reviewer="C", reviewed_at="11/21", subject="x", changes="y", corrects=9)


def test_reminder_uses_the_profile_period(store, clock, tmp_path):
    due = review_due(store, clock())
    assert not due["overdue"] and due["last"] is None and due["months"] == 12
    assert due["due"].startswith("2027-11-22")  # a period after the store was created
    clock.advance(days=366)
    assert review_due(store, clock())["overdue"]
    clock.advance(days=-366)
    record_review(store, operator=OP, reviewer="A", reviewed_at="2026-11-01", subject="計画", changes="変更なし")
    due = review_due(store, clock())
    assert not due["overdue"] and due["due"].startswith("2027-11-01")
    clock.advance(days=365)
    assert review_due(store, clock())["overdue"]
    # a profile whose rules set no period (大崎) reminds of nothing
    osaki = Store.open(tmp_path / "osaki", profile="osaki", clock=clock)
    assert review_due(osaki, clock()) is None


def test_cli_review_add_and_list(tmp_path, capsys, monkeypatch):
    from conftest import cli_runner

    run = cli_runner(tmp_path, capsys, monkeypatch)
    assert run("demo")[0] == 0
    code, out, err = run("review", "add", "--who", "CSIRT責任者", "--on", "2026-11-20", "--subject", "初動対応の手順",
                         "--changes", "変更なし", "--note", "\x1b[31m赤")
    assert code == 0, err
    assert "No.1" in out
    code, out, err = run("review", "list")
    assert code == 0, err
    assert "初動対応の手順" in out and "次の手順の評価・見直し" in out and "\x1b" not in out
    code, out, err = run("review", "add", "--who", "x", "--on", "2026-11-20", "--subject", "s", "--changes", "c",
                         "--incident", "2026-9999")
    assert code == 1 and "2026-9999" in err


def test_committee_summary_lists_the_reviews_of_its_period(store):
    from datetime import date

    from test_report_summary import need_font, pdf_text

    from csirt_tui.report.summary import build_summary, summary_stats

    done = closed_incident(store, "評価の記録")
    record_review(store, operator=OP, reviewer="CSIRT責任者", reviewed_at="2026-11-20", subject="<b>初動</b>の手順",
                  changes="連絡順を変える", incidents=[done])
    record_review(store, operator=OP, reviewer="前年の者", reviewed_at="2025-11-20", subject="前年", changes="なし")
    stats = summary_stats(store, date(2026, 11, 1), date(2026, 11, 30))
    assert [r["subject"] for r in stats.reviews] == ["<b>初動</b>の手順"]
    assert stats.review_rule["source"] == "むつ 2条(2)ウ"
    assert stats.review_due.startswith("次の手順の評価・見直し: 2027-11-20")
    text = pdf_text(build_summary(stats, need_font()))
    flat = "".join(text.split())
    assert "8手順の評価・見直し（むつ2条(2)ウ）" in flat
    assert "<b>初動</b>の手順" in flat and "連絡順を変える" in flat and done in flat
    assert "前年" not in flat


def test_a_pasted_review_of_any_length_prints_in_the_summary_cut_with_a_note(store):
    """A review's subject of 300,000 characters (a paste): the summary prints the start of it and
    says the rest is in the record (before, ReportLab laid the table cell out for more than ten
    minutes with such a text); the store keeps it whole."""
    from datetime import date

    from test_report_summary import need_font, pdf_text

    from csirt_tui.report.pdfkit import CELL_CHARS as REVIEW_CELL_CHARS
    from csirt_tui.report.summary import _review_cell, build_summary, summary_stats

    long = "見直した手順の本文<b>" * 30_000
    record_review(store, operator=OP, reviewer="名" * 5_000, reviewed_at="2026-11-20", subject=long,
                  changes="行\n" * 5_000)
    assert list_reviews(store)[0]["subject"] == long  # kept whole
    cell = _review_cell(long)
    assert cell.startswith(long[:REVIEW_CELL_CHARS]) and len(cell) < REVIEW_CELL_CHARS + 100
    assert f"以下 {len(long) - REVIEW_CELL_CHARS:,} 文字は省略しました" in cell
    stats = summary_stats(store, date(2026, 11, 1), date(2026, 11, 30))
    flat = "".join(pdf_text(build_summary(stats, need_font())).split())
    assert flat.count("文字は省略しました。全文は記録にあります（csirt-desk") == 3  # who, subject, changes

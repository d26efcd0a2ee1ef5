"""The security-committee summary (issue 7): figures, drills kept apart, the PDF,
encryption, the export log; and the drill mark and containment milestone it uses."""

from __future__ import annotations

import io
import os
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from conftest import TZ, sample_intake
from csirt_tui.errors import DomainError
from csirt_tui.profiles import ProfileError, load_profile
from csirt_tui.report.pdfkit import ReportError, find_font
from csirt_tui.report.summary import (
    MEDIANS,
    build_summary,
    export_summary,
    format_hours,
    milestone_steps,
    month_label,
    summary_stats,
)
from csirt_tui.resources import profiles_dir
from csirt_tui.response import ResponseError, close_incident, mark_drill, set_step
from csirt_tui.store import Store
from csirt_tui.triage import Triage, record_not_incident, record_triage
from csirt_tui.views import incident_row_cells, incident_text_lines, row_matches

OP = "試験 花子"
HOSTILE = "<b>x</b> & </font> [bold]"
PASSWORD = "S3cret-委員会-pw"
START, END = date(2026, 9, 1), date(2026, 11, 30)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


def need_font():
    """The embedded TrueType font, or skip (fail with CSIRT_DESK_REQUIRE_FONT=1)."""
    font = find_font()
    if not font.embedded:
        if os.environ.get("CSIRT_DESK_REQUIRE_FONT") == "1":
            pytest.fail("日本語 TrueType フォントがありません (CSIRT_DESK_REQUIRE_FONT=1)")
        pytest.skip("no embeddable Japanese TrueType font on this machine")
    return font


def pdf_text(data: bytes, password: str | None = None) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if password is not None:
        assert reader.decrypt(password)
    return "\n".join(page.extract_text() for page in reader.pages)


def new(store, clock, when: datetime, **intake) -> str:
    clock.now = when
    return store.create_incident(sample_intake(received_at=when.isoformat(), **intake), operator=OP).id


def triage(store, clock, iid: str, when: datetime, type_id: str, ticked: str) -> None:
    clock.now = when
    record_triage(store, iid, Triage(fact_check="done", type_id=type_id, ticked=[ticked]), operator=OP)


@pytest.fixture
def period(store, clock) -> dict[str, str]:
    """Incidents over three months (October empty), a not-an-incident, a drill,
    one just inside and one just outside the period."""
    ids: dict[str, str] = {}
    # just outside: 2026-08-31 23:59 JST
    ids["before"] = new(store, clock, at(8, 31, 23, 59), what="期間外の事案")
    triage(store, clock, ids["before"], at(9, 1, 0, 5), "cyber", "L2.1")
    # A: cyber level 2; triage 0.5 h, containment started at 2 h (done later), closed at 48 h
    ids["A"] = new(store, clock, at(9, 10, 9), what="Webサーバの改ざん\n二行目は一覧に出ない")
    triage(store, clock, ids["A"], at(9, 10, 9, 30), "cyber", "L2.1")
    clock.now = at(9, 10, 11)
    set_step(store, ids["A"], "containment", "doing", operator=OP)
    clock.now = at(9, 10, 12)
    set_step(store, ids["A"], "containment", "done", operator=OP, note="ネットワークから切り離した")
    clock.now = at(9, 12, 9)
    close_incident(store, ids["A"], operator=OP, note="復旧を確認", force=True)
    # H: received 00:30 JST on 9/1, written in UTC (still inside the period); theft level 1, not triaged in time
    clock.now = at(9, 1, 0, 40)
    ids["H"] = store.create_incident(sample_intake(received_at="2026-08-31T15:30:00+00:00", what="USBメモリの紛失"),
                                     operator=OP).id
    triage(store, clock, ids["H"], at(9, 1, 3, 30), "theft", "L1.1")
    # B: cyber level 1; triage 1 h; containment done at 4 h, recorded the next day (occurred_at)
    ids["B"] = new(store, clock, at(9, 20, 10), what="不審なメールの添付ファイルを開いた")
    triage(store, clock, ids["B"], at(9, 20, 11), "cyber", "L1.1")
    clock.now = at(9, 21, 9)
    set_step(store, ids["B"], "containment", "done", operator=OP, note="端末を隔離", occurred_at=at(9, 20, 14))
    # C: system stop level 1; triage 2 h; no containment; closed at 24 h
    ids["C"] = new(store, clock, at(11, 5, 8), what="基幹系システムが停止")
    triage(store, clock, ids["C"], at(11, 5, 10), "system_stop", "L1.1")
    clock.now = at(11, 6, 8)
    close_incident(store, ids["C"], operator=OP, note="再起動で復旧", force=True)
    # D: not an incident (triage after 0.5 h would lower the median if it were counted)
    ids["D"] = new(store, clock, at(11, 10, 13), what="ウイルス対策ソフトが駆除したと表示された")
    triage(store, clock, ids["D"], at(11, 10, 13, 30), "cyber", "L0.1")
    clock.now = at(11, 10, 14)
    record_not_incident(store, ids["D"], operator=OP, reported_to="csirt_manager",
                        reply={"who": "CSIRT管理者", "when": "13:50", "how": "内線電話"})
    # E: a drill (triage after 0.25 h would lower the median if it were counted)
    ids["E"] = new(store, clock, at(11, 12, 9), what="標的型メール訓練")
    triage(store, clock, ids["E"], at(11, 12, 9, 15), "cyber", "L2.1")
    clock.now = at(11, 12, 9, 20)
    mark_drill(store, ids["E"], operator=OP, note="年次訓練（総務課主催）")
    # F: not triaged yet, a summary that looks like markup
    ids["F"] = new(store, clock, at(11, 20, 16), what=HOSTILE + "\n続き")
    clock.now = at(11, 22, 14, 35)
    return ids


# ---------------------------------------------------------------------------
# The figures


def test_counts_by_type_level_month_status(store, period):
    stats = summary_stats(store, START, END)
    assert stats.incidents == 5 and stats.not_incident == 1 and stats.drills == 1 and stats.received == 6
    assert stats.type_counts() == {"情報システムの停止等": 1, "外部からのサイバー攻撃": 2, "盗難・紛失": 1, "未分類": 1}
    assert [c.label for c in stats.by_type][-1] == "未分類"
    assert stats.level_counts() == {"レベル1": 3, "レベル2": 1, "未判定": 1}
    assert [c.label for c in stats.by_level] == ["レベル1", "レベル2", "未判定"]
    assert stats.status_counts() == {"対応中": 3, "収束": 2}
    # every month of the period, October with none
    assert stats.month_counts() == {"令和8年9月": 3, "令和8年10月": 0, "令和8年11月": 2}
    nov = stats.by_month[-1]
    assert (nov.incidents, nov.not_incident, nov.drills) == (2, 1, 1)
    assert stats.period == "令和8年9月1日～令和8年11月30日"


def test_drill_and_not_incident_are_apart(store, period):
    stats = summary_stats(store, START, END)
    listed = [line.id for line in stats.lines]
    assert listed == [period[k] for k in ("H", "A", "B", "C", "D", "F")]  # receipt order
    assert period["before"] not in listed
    assert [line.id for line in stats.drill_lines] == [period["E"]]
    drill = stats.drill_lines[0]
    assert drill.drill and drill.level == "レベル2"
    d = next(line for line in stats.lines if line.id == period["D"])
    assert d.not_incident and d.status == "インシデントではない"
    f = next(line for line in stats.lines if line.id == period["F"])
    assert f.summary == HOSTILE and f.type == "未分類" and f.level == "未判定"
    a = next(line for line in stats.lines if line.id == period["A"])
    assert a.summary == "Webサーバの改ざん" and a.received == "2026-09-10 09:00"
    h = next(line for line in stats.lines if line.id == period["H"])
    assert h.received == "2026-09-01 00:30"  # shown in the profile's time zone


def test_medians_exact(store, period):
    stats = summary_stats(store, START, END)
    # triage: A 0.5, H 3, B 1, C 2 (D 0.5 and drill E 0.25 left out) → 1.5
    assert stats.median("triage").hours == 1.5 and stats.median("triage").n == 4
    # containment: A 2 (first 対応中), B 4 (occurred_at) → 3
    assert stats.median("containment").hours == 3.0 and stats.median("containment").n == 2
    # closure: A 48, C 24 → 36
    assert stats.median("closure").hours == 36.0 and stats.median("closure").n == 2
    assert {m.of for m in stats.medians} == {5}
    assert [m.key for m in stats.medians] == list(MEDIANS)


def test_period_edges_and_empty_period(store, period):
    stats = summary_stats(store, date(2026, 8, 31), date(2026, 8, 31))
    assert [line.id for line in stats.lines] == [period["before"]]
    empty = summary_stats(store, date(2026, 10, 1), date(2026, 10, 31))
    assert empty.incidents == 0 and empty.lines == [] and empty.month_counts() == {"令和8年10月": 0}
    assert all(m.hours is None and m.n == 0 for m in empty.medians)


def test_end_before_start_is_refused_in_plain_japanese(store, tmp_path):
    with pytest.raises(ReportError) as info:
        summary_stats(store, date(2026, 11, 30), date(2026, 9, 1))
    assert "末日" in str(info.value) and "初日" in str(info.value)
    target = tmp_path / "out.pdf"
    with pytest.raises(ReportError):
        export_summary(store, target, start=date(2026, 11, 30), end=date(2026, 9, 1), operator=OP,
                       password=PASSWORD)
    assert not target.exists() and store.list_exports() == []
    with pytest.raises(ReportError, match="長すぎ"):
        summary_stats(store, date(2016, 1, 1), date(2026, 11, 30))


def test_small_helpers():
    assert month_label(2019, 4) == "平成31年4月" and month_label(2019, 5) == "令和元年5月"
    assert format_hours(None) == "—" and format_hours(0.25) == "15分" and format_hours(1.5) == "1時間30分"
    assert format_hours(36) == "36時間00分（約1.5日）"


# ---------------------------------------------------------------------------
# The PDF


def test_pdf_says_title_period_ids_and_text_verbatim(store, period):
    font = need_font()
    pdf = build_summary(summary_stats(store, START, END), font)
    text = pdf_text(pdf)
    assert "情報セキュリティインシデントの対応状況について（報告）" in text
    # むつ市 has no 情報セキュリティ委員会 (つくば 4(2)⑤(III)): its summary goes to its CISO (むつ 2条(1)エ)
    assert "最高情報セキュリティ責任者（CISO）" in text and "情報セキュリティ委員会" not in text
    assert "令和8年9月1日～令和8年11月30日" in text
    assert "機密性2" in text
    for key in ("A", "B", "C", "D", "E", "F", "H"):
        assert period[key] in text
    assert period["before"] not in text
    assert HOSTILE in text
    assert "Webサーバの改ざん" in text and "二行目は一覧に出ない" not in text
    assert "訓練" in text and "1時間30分" in text and "36時間00分" in text
    assert b"/FontFile2" in pdf  # the TrueType font is embedded


def test_pdf_has_a_bar_chart_and_repeats_the_list_header(store, clock):
    font = need_font()
    for i in range(70):  # a list long enough to run over several pages
        new(store, clock, at(9 + i % 3, 1 + i % 28, 9), what=f"事案 {i:02d} " + "長い説明" * 10)
    pdf = build_summary(summary_stats(store, START, END), font)
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 3
    pages = [p.extract_text() for p in reader.pages]
    assert "インシデントではない" in pages[0]  # the chart's legend
    with_list = [p for p in pages if "事案 " in p]
    assert len(with_list) >= 2 and all("受付日時" in p for p in with_list)
    assert all(f"{n} / {len(pages)}" in p for n, p in enumerate(pages, start=1))


# ---------------------------------------------------------------------------
# Export: encryption, password never stored, the log


def test_export_refused_without_password_or_reason(store, period, tmp_path):
    target = tmp_path / "sum.pdf"
    with pytest.raises(ReportError) as info:
        export_summary(store, target, start=START, end=END, operator=OP)
    assert "機密性2" in str(info.value) and "パスワード" in str(info.value)
    with pytest.raises(ReportError):
        export_summary(store, target, start=START, end=END, operator=OP, waive_reason="   ")
    assert not target.exists() and store.list_exports() == []


def test_export_encrypted_and_logged(store, period, tmp_path):
    font = need_font()
    target = tmp_path / "out" / "委員会.pdf"
    target.parent.mkdir()
    result = export_summary(store, target, start=START, end=END, operator=OP, password=PASSWORD)
    assert result.encrypted and result.entry is None and result.classification == "機密性2"
    assert result.path == target and result.pages >= 1 and result.font == font
    data = target.read_bytes()
    assert len(data) == result.size
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    assert reader.is_encrypted
    assert not reader.decrypt("wrong password")
    with pytest.raises(Exception):
        reader.pages[0].extract_text()
    text = pdf_text(data, PASSWORD)
    assert HOSTILE in text and period["A"] in text
    assert "情報セキュリティインシデントの対応状況について（報告）".encode() not in data
    # the password is in no file: not the store, not the PDF, not a backup
    store.backup("test")
    needle = PASSWORD.encode("utf-8")
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert needle not in path.read_bytes(), path
    started, row = store.list_exports()  # logged before the file is written, then its outcome
    assert started["state"] == "started" and started["path"] == str(target) and row["state"] == "written"
    assert row["report"] == "summary" and row["operator"] == OP
    assert row["from"] == "2026-09-01" and row["to"] == "2026-11-30"
    assert row["path"] == str(target) and row["encrypted"] is True and row["classification"] == "機密性2"
    assert row["sha256"] == result.sha256 and row["pages"] == result.pages
    assert row["counts"] == {"incidents": 5, "not_incident": 1, "drills": 1}
    assert row["drill_ids"] == [period["E"]] and period["F"] in row["incident_ids"]
    assert "encryption_waived" not in row and "password" not in row
    assert store.verify().ok


def test_export_waived_records_the_reason(store, period, tmp_path):
    target = tmp_path / "plain.pdf"
    result = export_summary(store, target, start=START, end=END, operator=OP,
                            waive_reason="委員会の席上で配付し回収する")
    assert not result.encrypted and target.read_bytes().startswith(b"%PDF")
    _, row = store.list_exports()
    assert row["encrypted"] is False and row["encryption_waived"] == "委員会の席上で配付し回収する"
    report = store.verify()
    assert report.ok, report.problems


def test_export_refuses_a_folder_target(store, period, tmp_path):
    with pytest.raises(ReportError, match="フォルダ"):
        export_summary(store, tmp_path, start=START, end=END, operator=OP, password=PASSWORD)
    assert store.list_exports() == []


def test_unknown_mark_requires_encryption(tmp_path, clock):
    # つくば has no confidentiality classes: its default mark is unknown, so encryption is required
    tsukuba = Store.open(tmp_path / "tsukuba", profile="tsukuba", clock=clock)
    stats = summary_stats(tsukuba, START, END)
    assert stats.classification == "機密性2" and stats.encryption_required


# ---------------------------------------------------------------------------
# Store: the export log (reports.json)


def test_log_export_file_is_verified_backed_up_and_restored(store, clock):
    store.log_export({"report": "summary", "note": "一つ目", "password": "never"})
    store.log_export({"report": "summary", "note": "二つ目\ud83d\ude00"})
    rows = store.list_exports()
    assert [r["doc_id"] for r in rows] == [1, 2] and [r["note"] for r in rows] == ["一つ目", "二つ目😀"]
    assert "password" not in rows[0] and rows[0]["logged_at"] == clock.now.isoformat()
    path = store.root / "reports.json"
    assert b"never" not in path.read_bytes()
    from csirt_tui.store import store_files

    assert path in list(store_files(store.root))
    assert store.verify().ok
    backup = store.backup("test")
    assert (backup / "reports.json").read_bytes() == path.read_bytes()
    store.log_export({"report": "summary", "note": "三つ目"})
    Store.restore(store.root, backup.name, clock=clock)
    assert [r["note"] for r in Store.open(store.root, clock=clock).list_exports()] == ["一つ目", "二つ目😀"]
    path.write_bytes(b'{"exports":{"1":')  # damaged
    problems = Store.open(store.root, clock=clock).verify().problems
    assert any("reports.json" in p for p in problems)


# ---------------------------------------------------------------------------
# Drills


def test_mark_drill_folds_indexes_and_can_be_undone(store, clock):
    iid = new(store, clock, at(11, 22, 9), what="訓練の通報")
    assert store.incident(iid).drill is False
    assert store.list_incidents()[0]["drill"] is False
    clock.now = at(11, 22, 10)
    entry = mark_drill(store, iid, operator=OP, note="防災訓練に合わせた\n想定訓練")
    assert entry.kind == "decision"
    assert entry.data == {"decision": "drill", "drill": True, "note": "防災訓練に合わせた\n想定訓練"}
    assert entry.text.startswith("訓練として記録") and "想定訓練" in entry.text
    inc = store.incident(iid)
    assert inc.drill is True and inc.index_doc()["drill"] is True
    row = store.list_incidents()[0]
    assert row["drill"] is True
    assert incident_row_cells(store.profile, row, clock.now)[-1].startswith("【訓練】")
    assert row_matches(store.profile, row, "訓練")
    assert "【訓練】" in incident_text_lines(store.profile, inc)[0]
    with pytest.raises(ResponseError, match="既に訓練"):
        mark_drill(store, iid, operator=OP)
    undo = mark_drill(store, iid, operator=OP, drill=False, note="実際の事案だった")
    assert undo.text.startswith("訓練の指定を取り消し")
    assert store.incident(iid).drill is False and store.list_incidents()[0]["drill"] is False
    with pytest.raises(ResponseError, match="記録されていません"):
        mark_drill(store, iid, operator=OP, drill=False)
    assert [e.kind for e in store.timeline(iid)] == ["intake", "decision", "decision"]  # append-only
    assert store.verify().ok


def test_mark_drill_works_on_a_closed_incident(store, clock, period):
    mark_drill(store, period["A"], operator=OP)
    stats = summary_stats(store, START, END)
    assert stats.drills == 2 and stats.incidents == 4
    assert stats.median("closure").hours == 24.0  # only C left


def test_mark_drill_unknown_incident(store):
    with pytest.raises(DomainError):
        mark_drill(store, "2026-0999", operator=OP)


# ---------------------------------------------------------------------------
# Containment milestone (profiles)


def test_containment_milestones_in_the_shipped_profiles():
    assert milestone_steps(load_profile("tsukuba")) == {"containment": "封じ込め"}
    assert milestone_steps(load_profile("mito")) == {"containment": "封じ込め"}
    assert milestone_steps(load_profile("mutsu")) == {"containment": "封じ込め"}  # shared from つくば
    assert milestone_steps(load_profile("osaki")) == {"fault_stop": "システム停止時間の把握",
                                                      "fraud_emergency": "緊急措置"}
    root = Path(__file__).resolve().parents[1]
    for doc in (root / "docs" / "profile-format.md", root / "README.md"):
        assert "`milestone`" in doc.read_text(encoding="utf-8"), doc


def test_milestone_value_is_checked(tmp_path):
    for path in profiles_dir().glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    target = tmp_path / "tsukuba.toml"
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace('milestone = "containment"', 'milestone = "closure"', 1), encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile(target)
    assert "milestone" in str(info.value) and "closure" in str(info.value)


def test_osaki_threat_levels_and_emergency_step(tmp_path, clock):
    osaki = Store.open(tmp_path / "osaki", profile="osaki", clock=clock)
    iid = new(osaki, clock, at(11, 20, 9), what="CS への不正アクセスの形跡")
    triage(osaki, clock, iid, at(11, 20, 9, 30), "fraud", "L3.2.1")
    clock.now = at(11, 20, 10, 30)
    set_step(osaki, iid, "fraud_emergency", "doing", operator=OP)
    clock.now = at(11, 22, 14, 35)
    stats = summary_stats(osaki, date(2026, 11, 1), date(2026, 11, 30))
    assert stats.level_counts() == {"脅威度 レベル3": 1}
    assert stats.median("containment").hours == 1.5
    assert stats.containment_steps == ["システム停止時間の把握", "緊急措置"]

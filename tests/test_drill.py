"""訓練・演習 (issue 16): scenarios shipped per profile, a drill marked at intake or later
(reversible only by a new entry), never counted with real incidents, and its review (講評).
Core only (csirt_tui/drill.py); the screens: tests/test_drill_screen.py."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from conftest import sample_intake
from csirt_tui import drill
from csirt_tui.profiles import _read, load_profile, name_findings
from csirt_tui.resources import profiles_dir
from csirt_tui.response import close_incident, mark_drill, set_step, update_notification, ResponseError
from csirt_tui.triage import Triage, record_triage

OP = "試験 操作者"
PROFILES = ["mutsu", "tsukuba", "mito", "osaki"]


@pytest.mark.parametrize("pid", PROFILES)
def test_every_profile_ships_a_sound_scenario_in_its_own_words(pid):
    profile = load_profile(pid)
    scenarios = drill.load_scenarios(profile)
    assert scenarios, f"{pid}: no drill scenario shipped"
    for sc in scenarios:
        assert drill.check_scenario(profile, sc) == []
        assert sc.says.strip() and sc.steps and sc.notify and sc.type
        # the caller says the four PoC items
        raw = drill.caller_intake(sc)
        assert all((raw.get(k) or "").strip() for k in ("found_at", "place", "what"))
        assert (raw["reporter"].get("name") or "").strip()
    # the names in the scenarios are this organisation's own (the profile name check)
    texts = [s for sc in scenarios for s in (sc.title, sc.purpose, sc.says, sc.fact_check, sc.type_note,
                                              sc.level_note, sc.notify_note, *(x.expect for x in sc.steps))]
    data = dict(profile.data)
    data["report_form"] = {"drill_texts": texts}
    others = {profiles_dir() / f"{o}.toml": _read(profiles_dir() / f"{o}.toml") for o in PROFILES if o != pid}
    assert name_findings(data, others) == []


def test_a_scenario_naming_what_the_profile_lacks_is_refused(tmp_path):
    profile = load_profile("mutsu")
    text = drill.scenario_file(profile).read_text(encoding="utf-8")
    bad = tmp_path / "mutsu.toml"
    bad.write_text(text.replace('"soumusho", "aomori"]', '"soumusho", "miyagi"]', 1), encoding="utf-8")
    with pytest.raises(drill.DrillError, match="miyagi"):
        drill.load_scenarios(profile, bad)
    bad.write_text(text.replace('step = "containment"', 'step = "fraud_collect"', 1), encoding="utf-8")
    with pytest.raises(drill.DrillError, match="fraud_collect"):
        drill.load_scenarios(profile, bad)


def test_a_drill_started_from_a_scenario_is_one_from_its_first_entry(store):
    profile = store.profile
    sc = drill.find_scenario(profile, "mutsu-ransom")
    inc = drill.start_drill(store, drill.caller_intake(sc), operator=OP, scenario=sc)
    assert inc.drill and len(inc.entries) == 1
    assert inc.entries[0].text.startswith("【訓練】")
    assert drill.scenario_of(store.incident(inc.id)) == "mutsu-ransom"
    row = next(r for r in store.list_incidents() if r["id"] == inc.id)
    assert row["drill"] is True
    # a real incident next to it is not a drill
    real = store.create_incident(sample_intake(), operator=OP)
    assert not real.drill


def test_marking_later_and_taking_it_back_are_new_entries(store):
    inc = store.create_incident(sample_intake(), operator=OP)
    mark_drill(store, inc.id, operator=OP, note="机上訓練")
    mark_drill(store, inc.id, operator=OP, drill=False, note="誤り: 実際の通報")
    got = store.incident(inc.id)
    assert not got.drill and [e.kind for e in got.entries] == ["intake", "decision", "decision"]
    with pytest.raises(ResponseError):
        mark_drill(store, inc.id, operator=OP, drill=False)


def _run_mutsu_drill(store, clock, *, skip_containment=False, policy_note="税務課の2台と共有フォルダ"):
    profile = store.profile
    sc = drill.find_scenario(profile, "mutsu-ransom")
    raw = drill.caller_intake(sc)
    raw["reporter"] = {"name": "佐藤 花子", "section": "税務課", "contact": ""}
    inc = drill.start_drill(store, raw, operator=OP, scenario=sc)
    clock.advance(minutes=12)
    level2 = next(k for k, lv, _t, _g in __import__("csirt_tui.triage", fromlist=["x"]).level_examples(profile, "cyber")
                  if lv == 2)
    record_triage(store, inc.id, Triage(fact_check="done", type_id="cyber", ticked=[level2]), operator=OP)
    clock.advance(minutes=8)
    set_step(store, inc.id, "policy", "done", operator=OP, note=policy_note)
    set_step(store, inc.id, "evidence", "done", operator=OP, note="画面の写真、端末ログ")
    if not skip_containment:
        set_step(store, inc.id, "containment", "done", operator=OP, note="LAN から切り離し")
    update_notification(store, inc.id, "csirt_manager", "done", operator=OP, means="内線", person="管理 太郎",
                        said="レベル2")
    update_notification(store, inc.id, "soumusho", "done", operator=OP, means="電話（訓練: 模擬）",
                        person="（訓練のため連絡せず）", said="訓練")
    clock.advance(hours=2)
    close_incident(store, inc.id, operator=OP, note="訓練終了", force=True)
    return store.incident(inc.id), sc


def test_the_review_sets_what_was_expected_beside_what_was_recorded(store, clock):
    inc, sc = _run_mutsu_drill(store, clock, skip_containment=True)
    rv = drill.review(store.profile, inc)
    assert rv.scenario is not None and rv.scenario.id == sc.id
    by = {(r.item, r.verdict) for r in rv.all_rows}
    assert ("種別", "一致") in by and ("レベル", "一致") in by
    steps = {r.item: r.verdict for r in rv.steps}
    assert steps["対応方針の検討"] == "実施" and steps["証拠保全"] == "実施"
    assert [v for k, v in steps.items() if "封じ込め" in k] == ["未実施"]
    notes = {r.item: r.verdict for r in rv.notifications}
    assert notes["CSIRT管理者"] == "実施" and notes["総務省"] == "実施" and notes["青森県"] == "未実施"
    # the reporter's contact was not taken down: item (4) is still 記録あり (a name), the rest checked
    times = {t.label: t.minutes for t in rv.times}
    assert times == {"受付からトリアージまで": 12, "受付から初動対応の開始まで": 20, "受付から収束まで": 140}
    text = "\n".join(drill.review_text_lines(rv))
    assert "【訓練】" in text and "2時間20分" in text and "封じ込め" in text


def test_no_review_of_a_real_incident(store):
    inc = store.create_incident(sample_intake(), operator=OP)
    with pytest.raises(drill.DrillError):
        drill.review(store.profile, store.incident(inc.id))


def test_outside_bodies_are_said_not_to_be_called_for_real():
    profile = load_profile("mutsu")
    said = drill.outside_warning(profile, "soumusho")
    assert "【訓練】" in said and "総務省" in said and "実際に連絡しない" in said


# ---------------------------------------------------------------------------
# On paper: 【訓練】 on every page of the drill's reports; the summary lists it apart


def _pages(path) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text() for p in PdfReader(str(path)).pages]


def test_review_pdf_has_the_mark_on_every_page_and_is_on_the_record(store, clock, tmp_path):
    from csirt_tui.report.drillreview import export_review

    # hostile text typed during the drill is printed as typed, never as markup
    inc, _sc = _run_mutsu_drill(store, clock, policy_note='<para><b>x</b> <img src="/etc/passwd"/>')
    out = tmp_path / "review.pdf"
    result = export_review(store, inc.id, out, operator=OP, waive_reason="訓練のため")
    pages = _pages(out)
    assert result.pages == len(pages) >= 2
    assert all("【訓練】" in p for p in pages)
    text = "\n".join(pages)
    assert "封じ込め" in text and "2時間20分" in text
    assert "総務部総合情報課" in text and "0175-22-1111 内線2141" in text  # the PoC card on paper
    assert '<img src="/etc/passwd"/>' in text.replace("\n", "")
    last = store.incident(inc.id).entries[-1]
    assert last.kind == "report" and last.data["report"] == "drill_review" and last.data["state"] == "written"


def test_form1_of_a_drill_is_marked_on_every_page(store, clock, tmp_path):
    from csirt_tui.report.export import export_form1

    inc, _sc = _run_mutsu_drill(store, clock)
    for i in range(60):  # a record long enough for several pages
        store.append(inc.id, "note", f"訓練中のメモ {i} " + "あ" * 200, operator=OP)
    out = tmp_path / "f1.pdf"
    export_form1(store, inc.id, out, operator=OP, waive_reason="訓練")
    pages = _pages(out)
    assert len(pages) >= 3 and all("【訓練】" in p for p in pages)
    assert "実際の報告として送付しないでください" in pages[0]


def test_form1_of_a_drill_keeps_its_footer_apart_from_the_page_number(store, clock, tmp_path):
    """The footer of a drill's 報告様式1 (【訓練】, the number, the record's seq and hash) is longer
    than a real one's: it ran under the centred 「1 / 4」 (seen at pdftoppm -r 70: 「…fb9<1/4>2」).
    Every word of the footer line ends before the next begins."""
    from csirt_tui.report.export import export_form1
    from test_report_form1 import pdftotext_words

    inc, _sc = _run_mutsu_drill(store, clock)
    out = tmp_path / "f1.pdf"
    export_form1(store, inc.id, out, operator=OP, waive_reason="訓練")
    words = pdftotext_words(out)
    if words is None:
        pytest.skip("pdftotext not installed")
    bottom = max(w[1] for w in words)
    lines, last_x = [], None  # the footer line of each page (x starts again on the next page)
    for w in words:
        if abs(w[1] - bottom) < 1:
            if last_x is None or w[0] < last_x:
                lines.append([])
            lines[-1].append(w)
            last_x = w[0]
    assert len(lines) >= 2 and all(any(w[4].startswith("【訓練】") for w in line) for line in lines), lines
    for line in lines:
        for a, b in zip(line, line[1:]):
            assert a[2] <= b[0] + 0.5, f"{a[4]!r} runs into {b[4]!r}: {line}"


def test_the_summary_lists_a_drill_apart_and_marked(store, clock):
    from csirt_tui.report.summary import build_summary, summary_stats
    from csirt_tui.report.pdfkit import find_font
    import io
    from pypdf import PdfReader

    inc, _sc = _run_mutsu_drill(store, clock)
    real = store.create_incident(sample_intake(), operator=OP)
    day = clock.now.date()
    stats = summary_stats(store, day - timedelta(days=30), day)
    assert [x.id for x in stats.lines] == [real.id] and [x.id for x in stats.drill_lines] == [inc.id]
    assert stats.incidents == 1 and stats.drills == 1
    pdf = build_summary(stats, find_font())
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "【訓練】" in text.split("7　訓練")[-1]


# ---------------------------------------------------------------------------
# CLI


@pytest.fixture
def run(tmp_path, capsys, monkeypatch):
    from conftest import cli_runner

    return cli_runner(tmp_path, capsys, monkeypatch)


def test_cli_drill_from_start_to_review(run, tmp_path):
    code, out, _ = run("drill", "list")
    assert code == 0 and "mutsu-ransom" in out and "mutsu-usb-lost" in out
    code, out, _ = run("drill", "show", "mutsu-ransom")
    assert code == 0 and "税務課の佐藤です" in out and "総務省" in out
    code, out, _ = run("drill", "start", "mutsu-ransom")
    assert code == 0
    iid = out.strip()
    code, out, _ = run("list")
    assert "【訓練】" in out
    code, out, _ = run("drill", "review", iid)
    assert code == 0 and "【訓練】訓練の講評" in out and "受付からトリアージまで: 記録なし" in out
    pdf = tmp_path / "rv.pdf"
    code, out, err = run("drill", "review", iid, "--pdf", str(pdf), "--waive-reason", "訓練")
    assert code == 0, err
    assert all("【訓練】" in p for p in _pages(pdf))
    # a real incident: marked later, taken back with a reason, each a new entry
    code, out, _ = run("intake", "--json", "-", stdin=json.dumps({"place": "本庁舎", "what": "不審メール"}))
    real = out.strip()
    code, _, err = run("drill", "review", real)
    assert code == 1 and "訓練として記録されていません" in err
    assert run("drill", "mark", real, "--note", "机上訓練")[0] == 0
    with pytest.raises(SystemExit) as refused:  # the reason is required
        run("drill", "unmark", real)
    assert refused.value.code == 2
    assert run("drill", "unmark", real, "--note", "実際の通報だった")[0] == 0
    code, out, _ = run("show", real, "--json")
    kinds = [e["kind"] for e in json.loads(out)["timeline"]]
    assert kinds == ["intake", "decision", "decision"]


def test_cli_intake_drill_flag_and_poc_card(run):
    code, out, _ = run("intake", "--json", "-", "--drill", stdin=json.dumps({"place": "本庁舎", "what": "訓練の通報"}))
    assert code == 0
    code, out, _ = run("show", out.strip(), "--json")
    assert json.loads(out)["drill"] is True
    code, out, _ = run("poc")
    assert code == 0
    for want in ("総務部総合情報課", "青森県むつ市中央一丁目8番1号", "0175-22-1111 内線2141", "joho@city.mutsu.lg.jp"):
        assert want in out


def test_review_pdf_of_a_drill_with_a_pasted_call_of_any_length(store, clock, tmp_path):
    """The call's text pasted 300,000 characters long: the review prints its start and says the
    rest is in the record (before, ReportLab laid the table cell out for minutes: the export hung);
    the record keeps it whole."""
    from csirt_tui.report.drillreview import export_review
    from csirt_tui.report.pdfkit import CELL_CHARS

    sc = drill.find_scenario(store.profile, "mutsu-ransom")
    raw = drill.caller_intake(sc)
    long = "画面いっぱいに英語の文章<b>" * 20_000
    raw["what"] = long
    inc = drill.start_drill(store, raw, operator=OP, scenario=sc)
    assert store.incident(inc.id).intake["what"] == long
    out = tmp_path / "review.pdf"
    export_review(store, inc.id, out, operator=OP, waive_reason="訓練のため")
    flat = "".join("".join(_pages(out)).split())
    assert f"以下{len(long) - CELL_CHARS:,}文字は省略しました。全文は記録にあります（csirt-deskshow{inc.id}）" in flat

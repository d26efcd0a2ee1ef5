"""The response tracker core (csirt_tui.response) and its profile data."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta

from conftest import TZ, sample_intake
from csirt_tui.errors import DomainError
from csirt_tui.profiles import ProfileError, load_profile
from csirt_tui.resources import profiles_dir
from csirt_tui.response import (
    NOTIFICATION_STATUSES,
    STEP_STATUSES,
    CloseError,
    CouncilDecision,
    CouncilError,
    MonitoringError,
    NotificationError,
    ResponseError,
    ResumeError,
    StepError,
    add_notification,
    check_order,
    close_incident,
    confirm_resume_condition,
    council_step,
    flag_crime,
    monitoring_status,
    notification_state,
    open_steps,
    overdue_count,
    parse_period,
    record_council,
    record_resume,
    reopen_incident,
    resume_check,
    resume_conditions,
    resume_parties,
    response_state,
    set_monitoring,
    set_step,
    step_states,
    update_notification,
)
from csirt_tui.store import Store
from csirt_tui.triage import Triage, TriageContext, record_triage

OP = "試験 花子"
CONTAIN_WARNING = "証拠保全の前に封じ込めを行うと証拠を損なうおそれ"


def verified(store) -> None:
    report = store.verify()
    assert report.ok, report.problems


def mutsu_incident(store, *, crime: bool = False) -> str:
    """A cyber incident (level 2) in first response, triaged with the mutsu profile."""
    inc = store.create_incident(sample_intake(), operator=OP)
    record_triage(store, inc.id, Triage(fact_check="done", type_id="cyber", ticked=["L2.5"],
                                        context=TriageContext(crime=crime)), operator=OP)
    return inc.id


@pytest.fixture
def osaki(tmp_path, clock):
    return Store.open(tmp_path / "osaki", profile="osaki", clock=clock)


def osaki_fault(store) -> str:
    inc = store.create_incident(sample_intake(what="CS が起動しない"), operator=OP)
    record_triage(store, inc.id, Triage(type_id="fault", fault_type="hardware",
                                        fault_checks=["電源スイッチ・コンセントの確認"]), operator=OP)
    return inc.id


def osaki_fraud(store, ticked: str = "L3.2.1") -> str:
    inc = store.create_incident(sample_intake(what="CS への不正アクセスの形跡"), operator=OP)
    record_triage(store, inc.id, Triage(type_id="fraud", ticked=[ticked]), operator=OP)
    return inc.id


def count(store, incident_id: str) -> int:
    return len(store.timeline(incident_id))


def seg_path(store, incident_id: str) -> Path:
    return store.root / "incidents" / incident_id[:4] / incident_id / "timeline-0000.json"


# ---------------------------------------------------------------------------
# Steps: statuses and required notes


def test_step_statuses_are_the_four_of_the_issue():
    assert STEP_STATUSES == {"todo": "未着手", "doing": "対応中", "done": "完了", "na": "対象外"}


def test_set_step_records_status_note_and_who(store):
    iid = mutsu_incident(store)
    entry, warnings = set_step(store, iid, "policy", "doing", operator=OP, who="情報 太郎")
    assert warnings == []
    assert entry.kind == "step"
    assert entry.data == {"phase": "initial", "step": "policy", "status": "doing", "note": "",
                          "who": "情報 太郎", "warnings": []}
    assert "対応方針の検討（対応中）" in entry.text
    entry, _ = set_step(store, iid, "policy", "done", operator=OP, note="  影響範囲: 税務課端末1台\n予算: 不要  ")
    inc = store.incident(iid)
    assert inc.steps["policy"]["status"] == "done"
    assert inc.steps["policy"]["note"] == "  影響範囲: 税務課端末1台\n予算: 不要  "  # verbatim
    assert inc.steps["policy"]["seq"] == entry.seq
    verified(store)


def test_done_needs_a_note_where_the_step_says_so(store):
    iid = mutsu_incident(store)
    before = count(store, iid)
    with pytest.raises(StepError) as info:
        set_step(store, iid, "evidence", "done", operator=OP, note="   ")
    assert "「証拠保全」を完了にするにはメモ" in str(info.value)
    assert isinstance(info.value, DomainError) and "\n" not in str(info.value)
    assert count(store, iid) == before  # nothing written
    # a step without note_required may be completed without one
    set_step(store, iid, "outsource", "done", operator=OP)
    assert store.incident(iid).steps["outsource"]["status"] == "done"
    set_step(store, iid, "evidence", "done", operator=OP, note="FW ログ 11/20-22 を USB-1 に取得")
    verified(store)


def test_not_applicable_always_needs_a_reason(store):
    iid = mutsu_incident(store)
    with pytest.raises(StepError) as info:
        set_step(store, iid, "outsource", "na", operator=OP)
    assert "「外部委託事業者・外部の専門家への依頼」を対象外にする理由" in str(info.value)
    entry, _ = set_step(store, iid, "outsource", "na", operator=OP, note="庁内で対応可能")
    assert entry.data["status"] == "na" and entry.data["note"] == "庁内で対応可能"


def test_bad_status_unknown_step_and_no_change_are_refused(store, tmp_path, clock):
    iid = mutsu_incident(store)
    with pytest.raises(StepError, match="手順の状態が不明です"):
        set_step(store, iid, "policy", "finished", operator=OP)
    with pytest.raises(StepError, match="手順が見つかりません"):
        set_step(store, iid, "no_such_step", "doing", operator=OP)
    with pytest.raises(StepError, match="既に未着手です"):
        set_step(store, iid, "policy", "todo", operator=OP)
    osaki = Store.open(tmp_path / "o", profile="osaki", clock=clock)
    fid = osaki_fault(osaki)
    with pytest.raises(StepError, match="このインシデントの種類の手順ではありません"):
        set_step(osaki, fid, "fraud_cause", "doing", operator=OP)


def test_step_time_can_be_earlier_and_keeps_both_times(store, clock):
    iid = mutsu_incident(store)
    entry, _ = set_step(store, iid, "outsource", "done", operator=OP, occurred_at="14:00")
    assert entry.occurred_at == "2026-11-22T14:00:00+09:00"
    assert entry.at == clock.now.isoformat()
    with pytest.raises(StepError, match="実施日時"):
        set_step(store, iid, "outsource", "doing", operator=OP, occurred_at="あさって")


def test_step_states_lists_every_step_of_the_type(store):
    iid = mutsu_incident(store)
    set_step(store, iid, "evidence", "doing", operator=OP)
    rows = step_states(store.profile, store.incident(iid))
    ids = [r["step"] for r in rows]
    assert ids[:5] == ["policy", "outsource", "evidence", "containment", "eradication"]
    assert "monitor" in ids and "committee" in ids
    row = next(r for r in rows if r["step"] == "evidence")
    assert (row["status"], row["status_label"], row["note_required"]) == ("doing", "対応中", True)
    later = next(r for r in rows if r["step"] == "monitor")
    assert (later["status"], later["seq"]) == ("todo", None)


# ---------------------------------------------------------------------------
# Order: warn, never block


def test_containment_before_evidence_warns_and_is_recorded(store):
    iid = mutsu_incident(store)
    entry, warnings = set_step(store, iid, "containment", "doing", operator=OP)
    assert len(warnings) == 1 and warnings[0].startswith(CONTAIN_WARNING)
    assert "「証拠保全」は未着手" in warnings[0]
    assert entry.data["warnings"] == warnings  # the record shows it was done knowingly
    assert "注意: " + CONTAIN_WARNING in entry.text
    assert store.incident(iid).steps["containment"]["status"] == "doing"  # not blocked
    entry, warnings = set_step(store, iid, "containment", "done", operator=OP, note="LAN ケーブルを抜いた")
    assert warnings and entry.data["status"] == "done"
    verified(store)


def test_no_warning_once_evidence_is_done_or_not_applicable(store):
    iid = mutsu_incident(store)
    set_step(store, iid, "evidence", "done", operator=OP, note="端末のイベントログを取得")
    assert set_step(store, iid, "containment", "done", operator=OP, note="隔離した")[1] == []
    iid2 = mutsu_incident(store)
    set_step(store, iid2, "evidence", "na", operator=OP, note="保全対象なし（紛失事案）")
    assert set_step(store, iid2, "containment", "doing", operator=OP)[1] == []


def test_check_order_is_advice_only_for_doing_and_done(store):
    iid = mutsu_incident(store)
    profile, inc = store.profile, store.incident(iid)
    assert check_order(profile, inc, "containment", "todo") == []
    assert check_order(profile, inc, "containment", "na") == []
    assert check_order(profile, inc, "no_such_step", "done") == []
    erad = check_order(profile, inc, "eradication", "done")
    assert len(erad) == 2 and "証拠保全の前に根絶" in erad[0] and "封じ込めの前に根絶" in erad[1]
    assert check_order(profile, inc, "monitor", "doing")[0].startswith("復旧の前に監視")


def test_order_warnings_are_profile_data_quoting_the_seed():
    for pid in ("tsukuba", "mutsu", "mito"):
        _, step = load_profile(pid).step("containment")
        rule = step["warn_if_not_done"][0]
        assert rule["step"] == "evidence"
        assert rule["message"].startswith(CONTAIN_WARNING)
        assert "その際、証拠保全の作業に影響が出ないよう留意する。" in rule["message"]
        assert "その際、証拠保全の作業に影響が出ないよう留意する。" in step["text"]


# ---------------------------------------------------------------------------
# Closure and reopening


def test_close_with_open_steps_lists_them_and_needs_force(store):
    iid = mutsu_incident(store)
    set_step(store, iid, "policy", "done", operator=OP, note="方針決定")
    set_step(store, iid, "evidence", "doing", operator=OP)
    before = count(store, iid)
    with pytest.raises(CloseError) as info:
        close_incident(store, iid, operator=OP, note="再発なし")
    err = info.value
    assert err.needs_force
    assert any("証拠保全（対応中）" in w for w in err.warnings)
    assert any("封じ込め（未着手）" in w for w in err.warnings)
    assert not any("対応方針の検討" in w for w in err.warnings)
    assert "evidence" in [s["step"] for s in err.open_steps]
    assert count(store, iid) == before
    entry, warnings = close_incident(store, iid, operator=OP, note="再発なし", force=True)
    assert entry.kind == "close" and entry.data["status"] == "closed" and entry.data["forced"] is True
    assert "evidence" in entry.data["open_steps"] and "containment" in entry.data["open_steps"]
    assert "policy" not in entry.data["open_steps"]
    assert entry.data["open_notifications"]  # the parties from triage are still 未連絡
    assert warnings == entry.data["warnings"]
    inc = store.incident(iid)
    assert inc.status == "closed"
    assert store.list_incidents(status="closed")[0]["id"] == iid
    with pytest.raises(StepError, match="収束しています"):
        set_step(store, iid, "evidence", "done", operator=OP, note="x")
    with pytest.raises(CloseError, match="収束しています"):
        close_incident(store, iid, operator=OP, note="again", force=True)
    verified(store)


def test_close_needs_a_note_and_reopen_needs_a_reason(store):
    iid = mutsu_incident(store)
    with pytest.raises(CloseError) as info:
        close_incident(store, iid, operator=OP, note=" ", force=True)
    assert not info.value.needs_force and "収束の確認の内容" in str(info.value)
    with pytest.raises(ResponseError, match="収束していません"):
        reopen_incident(store, iid, operator=OP, reason="再発")
    close_incident(store, iid, operator=OP, note="収束を確認", force=True)
    with pytest.raises(ResponseError, match="再開の理由"):
        reopen_incident(store, iid, operator=OP, reason="")
    entry = reopen_incident(store, iid, operator=OP, reason="同じ端末で再発")
    assert entry.kind == "reopen" and entry.data == {"reason": "同じ端末で再発"}
    assert store.incident(iid).status == "open"
    state = response_state(store.incident(iid))
    assert [c["kind"] for c in state.closures] == ["close", "reopen"]
    verified(store)


def test_close_without_anything_open_needs_no_force(store):
    iid = mutsu_incident(store)
    profile = store.profile
    for row in step_states(profile, store.incident(iid)):
        set_step(store, iid, row["step"], "na", operator=OP, note="演習のため対象外")
    for row in notification_state(profile, store.incident(iid)):
        update_notification(store, iid, row["party"], "na", operator=OP, why="演習")
    assert open_steps(profile, store.incident(iid)) == []
    entry, warnings = close_incident(store, iid, operator=OP, note="収束を確認した")
    assert warnings == [] and entry.data["open_steps"] == [] and entry.data["forced"] is False
    verified(store)


# ---------------------------------------------------------------------------
# Monitoring


@pytest.mark.parametrize("text, delta", [
    ("30日", relativedelta(days=30)),
    ("30日間", relativedelta(days=30)),
    ("2週間", relativedelta(weeks=2)),
    ("1か月", relativedelta(months=1)),
    ("1ヶ月", relativedelta(months=1)),
    ("1カ月", relativedelta(months=1)),
    ("３か月", relativedelta(months=3)),
    ("三か月", relativedelta(months=3)),
    ("十四日", relativedelta(days=14)),
    ("半年", relativedelta(months=6)),
    ("1年", relativedelta(years=1)),
])
def test_parse_period(text, delta):
    assert parse_period(text) == delta


@pytest.mark.parametrize("text, message", [
    ("", "監視期間を入力してください"),
    ("3月", "「3か月」と入力してください"),
    ("しばらく", "監視期間が読めません"),
    ("0日", "1以上"),
    ("20年", "長すぎます"),
])
def test_parse_period_refuses(text, message):
    with pytest.raises(MonitoringError, match=message):
        parse_period(text)


def test_one_month_from_january_31_ends_at_the_end_of_february(store):
    iid = mutsu_incident(store)
    entry = set_monitoring(store, iid, operator=OP, start=date(2027, 1, 31), period="1か月")
    assert entry.kind == "decision" and entry.data["decision"] == "monitoring"
    assert entry.data["monitoring"]["period"] == "1か月"
    assert entry.data["monitoring"]["end"].startswith("2027-02-28")
    inc = store.incident(iid)
    mon = monitoring_status(inc, datetime(2027, 2, 10, 9, 0, tzinfo=TZ))
    assert (mon["start"], mon["end"], mon["days_left"], mon["ended"]) == (
        date(2027, 1, 31), date(2027, 2, 28), 18, False)
    last = monitoring_status(inc, datetime(2027, 2, 28, 9, 0, tzinfo=TZ))
    assert last["days_left"] == 0 and last["ended"]
    assert monitoring_status(inc, datetime(2027, 3, 2, tzinfo=TZ))["days_left"] == -2
    # a leap year: 2028-01-31 + 1か月 = 2028-02-29; the latest period counts
    set_monitoring(store, iid, operator=OP, start="2028/1/31", period="1か月")
    mon = monitoring_status(store.incident(iid), datetime(2028, 2, 1, tzinfo=TZ))
    assert mon["end"] == date(2028, 2, 29) and mon["days_left"] == 28
    verified(store)


def test_monitoring_from_now_and_refusals(store, clock):
    iid = mutsu_incident(store)
    assert monitoring_status(store.incident(iid), clock.now) is None
    set_monitoring(store, iid, operator=OP, start="今", period="2週間")
    mon = monitoring_status(store.incident(iid), clock.now)
    assert mon["start"] == date(2026, 11, 22) and mon["end"] == date(2026, 12, 6) and mon["days_left"] == 14
    with pytest.raises(MonitoringError) as info:
        set_monitoring(store, iid, operator=OP, start="", period="しばらく")
    assert len(info.value.problems) == 2
    # closing during the period warns
    with pytest.raises(CloseError) as info:
        close_incident(store, iid, operator=OP, note="x")
    assert any("監視期間中です" in w and "残り14日" in w for w in info.value.warnings)


# ---------------------------------------------------------------------------
# Osaki: security council


def test_council_decision_is_stored_with_its_items(osaki):
    iid = osaki_fraud(osaki)
    decision = CouncilDecision(
        held_at="14:00",
        system_stop=["detach", "network"], system_stop_note="CS を LAN から切り離す",
        contact=["miyagi", "jlis"],
        support=["vendor"], support_note="ログ解析の支援",
        damage_scope="本人確認情報への侵害なし（調査中）",
        visitors="窓口で住民票の写しの交付停止を案内", enquiries="市民課で電話対応",
        interim=[{"business": "住民票の写しの広域交付", "measure": "受付を停止し後日交付"}],
        resume=None, text="次回 17時に再開催")
    entries = record_council(osaki, iid, decision, operator=OP)
    first = entries[0]
    assert first.kind == "decision" and first.occurred_at == "2026-11-22T14:00:00+09:00"
    assert first.data["decision"] == "council" and first.data["step"] == "fraud_council"
    stored = first.data["council"]
    assert stored["system_stop"] == ["detach", "network"]
    assert stored["contact"] == ["miyagi", "jlis"] and stored["support"] == ["vendor"]
    assert stored["visitors"] == "窓口で住民票の写しの交付停止を案内"
    assert stored["interim"] == [{"business": "住民票の写しの広域交付", "measure": "受付を停止し後日交付"}]
    assert stored["resume"] is None and stored["text"] == "次回 17時に再開催"
    for label in ("機器の一部切離し", "ネットワークからの切離し", "来庁者への対応", "問い合わせへの対応",
                  "本人確認情報への侵害の度合い又は範囲", "宮城県", "指定情報処理機関", "保守委託事業者"):
        assert label in first.text, label
    # miyagi/jlis were already due from triage (threat level 3): only the support request is new
    added = [(e.data["party"], e.data["purpose"]) for e in entries[1:]]
    assert added == [("vendor", "support")]
    state = response_state(osaki.incident(iid))
    assert state.council[0]["council"]["system_stop"] == ["detach", "network"]
    verified(osaki)


def test_council_items_follow_the_seed(osaki, store):
    fid = osaki_fault(osaki)
    _, step = council_step(osaki.profile, osaki.incident(fid))
    assert step["id"] == "fault_council"
    # 4条(6) has no 詳細な被害状況 item (5条(6) has)
    with pytest.raises(CouncilError, match="「詳細な被害状況・復旧作業の把握」は"):
        record_council(osaki, fid, CouncilDecision(damage_system="CS のディスク故障"), operator=OP)
    with pytest.raises(CouncilError, match="同時に選べません"):
        record_council(osaki, fid, CouncilDecision(system_stop=["none", "full"]), operator=OP)
    with pytest.raises(CouncilError, match="連絡先が不明です"):
        record_council(osaki, fid, CouncilDecision(contact=["miyagi_pref"]), operator=OP)
    with pytest.raises(CouncilError, match="決定した項目を1つ以上"):
        record_council(osaki, fid, CouncilDecision(), operator=OP)
    with pytest.raises(CouncilError, match="業務と措置の両方"):
        record_council(osaki, fid, CouncilDecision(interim=[{"business": "転入届", "measure": ""}]), operator=OP)
    entries = record_council(osaki, fid, CouncilDecision(system_stop=["full"], contact=["miyagi"]), operator=OP)
    assert [e.kind for e in entries] == ["decision", "notification"]
    assert entries[1].data["party"] == "miyagi" and entries[1].data["rule"] == "council"
    # no council in the Tsukuba-style procedure
    iid = mutsu_incident(store)
    with pytest.raises(CouncilError, match="セキュリティ会議はありません"):
        record_council(store, iid, CouncilDecision(text="x"), operator=OP)


# ---------------------------------------------------------------------------
# Osaki: resuming operation


def test_resume_is_refused_until_conditions_are_recorded_then_tells_the_bodies(osaki):
    iid = osaki_fault(osaki)
    profile = osaki.profile
    missing = resume_check(profile, osaki.incident(iid))
    assert len(missing) == 3
    assert any("障害の復旧" in m for m in missing)
    assert any("本人確認情報の整合性" in m for m in missing)
    assert any("承認" in m for m in missing)
    before = count(osaki, iid)
    with pytest.raises(ResumeError) as info:
        record_resume(osaki, iid, operator=OP, note="運用を再開した")
    assert "運用再開を記録できません" in str(info.value) and len(info.value.problems) == 3
    assert count(osaki, iid) == before
    # completing the resume step directly is not a way around it
    with pytest.raises(StepError, match="record_resume"):
        set_step(osaki, iid, "fault_resume", "done", operator=OP, note="再開")

    set_step(osaki, iid, "fault_repair", "done", operator=OP, note="保守委託事業者がディスクを交換")
    assert len(resume_check(profile, osaki.incident(iid))) == 2
    with pytest.raises(ResumeError, match="手順「修理・復旧」の完了で満たします"):
        confirm_resume_condition(osaki, iid, "recovered", operator=OP, note="x")
    with pytest.raises(ResumeError, match="確認した内容"):
        confirm_resume_condition(osaki, iid, "integrity", operator=OP, note="")
    confirm_resume_condition(osaki, iid, "integrity", operator=OP, note="件数照合で一致", who="セキュリティ責任者")
    assert resume_check(profile, osaki.incident(iid)) == [
        m for m in missing if "承認" in m]
    confirm_resume_condition(osaki, iid, "approval", operator=OP, note="統括責任者が承認", who="副市長")
    assert resume_check(profile, osaki.incident(iid)) == []
    assert [p["id"] for p in resume_parties(profile, osaki.incident(iid))] == ["miyagi", "jlis"]

    entries = record_resume(osaki, iid, operator=OP, note="9:00 に運用を再開")
    assert [e.kind for e in entries] == ["decision", "step", "notification", "notification"]
    assert entries[0].data["decision"] == "resume"
    assert entries[0].data["conditions"] == ["recovered", "integrity", "approval"]
    assert entries[1].data["step"] == "fault_resume" and entries[1].data["status"] == "done"
    told = [(e.data["party"], e.data["purpose"], e.data["status"]) for e in entries[2:]]
    assert told == [("miyagi", "resume", "todo"), ("jlis", "resume", "todo")]
    assert "関係機関にシステム運用再開の連絡をする。" in entries[2].data["reason"]
    rows = {(r["party"], r["purpose"]): r for r in notification_state(profile, osaki.incident(iid))}
    assert rows[("miyagi", "resume")]["purpose_label"] == "運用再開の連絡"
    # the confirmations were used up by this resume
    assert "本人確認情報の整合性" in " ".join(resume_check(profile, osaki.incident(iid)))
    verified(osaki)


def test_a_council_stop_needs_the_councils_resume_decision(osaki):
    iid = osaki_fraud(osaki)
    profile = osaki.profile
    ids = [c["id"] for c in resume_conditions(profile, osaki.incident(iid))]
    assert ids == ["recovered", "integrity", "access_reset", "approval"]
    record_council(osaki, iid, CouncilDecision(system_stop=["network"]), operator=OP)
    set_step(osaki, iid, "fraud_cause", "done", operator=OP, note="不正アクセスの経路を遮断し復旧")
    confirm_resume_condition(osaki, iid, "integrity", operator=OP, note="整合性を確認し修復")
    confirm_resume_condition(osaki, iid, "access_reset", operator=OP, note="照合IDを再登録")
    confirm_resume_condition(osaki, iid, "approval", operator=OP, note="統括責任者の承認")
    missing = resume_check(profile, osaki.incident(iid))
    assert len(missing) == 1 and "会議の運用再開の決定" in missing[0]
    with pytest.raises(ResumeError):
        record_resume(osaki, iid, operator=OP, note="再開")
    record_council(osaki, iid, CouncilDecision(resume=True, resume_note="整合性の報告を受け決定"), operator=OP)
    assert resume_check(profile, osaki.incident(iid)) == []
    entries = record_resume(osaki, iid, operator=OP, note="業務の停止解除")
    assert entries[1].data["step"] == "fraud_resume"
    verified(osaki)


def test_resume_does_not_apply_without_the_step(store):
    iid = mutsu_incident(store)
    assert resume_check(store.profile, store.incident(iid)) == ["このインシデントの手順に運用再開はありません"]
    with pytest.raises(ResumeError):
        record_resume(store, iid, operator=OP, note="x")


# ---------------------------------------------------------------------------
# Notifications


def test_notification_statuses():
    assert NOTIFICATION_STATUSES == {"todo": "未連絡", "done": "連絡済み", "na": "不要"}


def test_done_needs_means_person_and_what_was_said(store, clock):
    iid = mutsu_incident(store)
    rows = notification_state(store.profile, store.incident(iid))
    assert [r["party"] for r in rows][:2] == ["csirt_manager", "csirt_chief"]
    assert rows[0]["label"] == "CSIRT管理者" and rows[0]["status_label"] == "未連絡"
    before = count(store, iid)
    with pytest.raises(NotificationError) as info:
        update_notification(store, iid, "csirt_manager", "done", operator=OP)
    assert len(info.value.problems) == 3
    assert count(store, iid) == before
    clock.advance(minutes=20)
    entry = update_notification(store, iid, "csirt_manager", "done", operator=OP, means="内線電話",
                                person="管理者 本人", said="税務課端末の身代金画面について報告", occurred_at="14:50")
    assert entry.occurred_at == "2026-11-22T14:50:00+09:00"
    assert entry.data["thread"] == rows[0]["thread"]
    row = notification_state(store.profile, store.incident(iid))[0]
    assert (row["status"], row["means"], row["person"]) == ("done", "内線電話", "管理者 本人")
    assert len(row["history"]) == 2 and row["history"][0]["status"] == "todo"
    verified(store)


def test_not_needed_needs_why_and_an_attempt_stays_todo(store):
    iid = mutsu_incident(store)
    with pytest.raises(NotificationError, match="不要な理由"):
        update_notification(store, iid, "ciso", "na", operator=OP)
    update_notification(store, iid, "ciso", "na", operator=OP, why="責任者から報告済み")
    update_notification(store, iid, "csirt_chief", "todo", operator=OP, means="内線", said="不在、15時に折り返し")
    rows = {r["party"]: r for r in notification_state(store.profile, store.incident(iid))}
    assert rows["ciso"]["status"] == "na" and rows["ciso"]["why"] == "責任者から報告済み"
    assert rows["csirt_chief"]["status"] == "todo" and len(rows["csirt_chief"]["history"]) == 2
    with pytest.raises(NotificationError, match="一覧にありません"):
        update_notification(store, iid, "press", "na", operator=OP, why="x")
    with pytest.raises(NotificationError, match="連絡の状態が不明です"):
        update_notification(store, iid, "ciso", "called", operator=OP)


def test_add_notification_by_hand(store):
    iid = mutsu_incident(store)
    entry = add_notification(store, iid, "press", operator=OP, reason="報道機関から問い合わせ")
    assert entry.data["party"] == "press" and entry.data["status"] == "todo" and entry.data["rule"] is None
    assert entry.data["due"] == "2026-11-23T14:35:00+09:00"  # the profile's notification_due_hours
    with pytest.raises(NotificationError, match="既に未連絡の一覧にあります"):
        add_notification(store, iid, "press", operator=OP, reason="again")
    with pytest.raises(NotificationError, match="理由"):
        add_notification(store, iid, "nisc", operator=OP, reason=" ")
    other = add_notification(store, iid, "〇〇システム保守センター（山田様）", operator=OP, reason="ログ提供の依頼",
                             due="17:00")
    assert other.data["label"] == "〇〇システム保守センター（山田様）"
    assert other.data["due"] == "2026-11-22T17:00:00+09:00"
    rows = notification_state(store.profile, store.incident(iid))
    assert rows[-1]["label"] == "〇〇システム保守センター（山田様）"
    update_notification(store, iid, "〇〇システム保守センター（山田様）", "done", operator=OP, means="外線",
                        person="山田様", said="FW ログの提供を依頼")
    verified(store)


def test_overdue_with_a_fixed_clock(store, clock, tmp_path):
    iid = mutsu_incident(store)
    profile = store.profile
    n = len(notification_state(profile, store.incident(iid)))
    assert n >= 3
    inc = store.incident(iid)
    assert overdue_count(profile, inc, clock.now) == 0
    assert overdue_count(profile, inc, clock.now + timedelta(hours=23, minutes=59)) == 0
    later = clock.now + timedelta(hours=24, minutes=1)
    assert overdue_count(profile, inc, later) == n
    assert notification_state(profile, inc, later)[0]["due"] == "2026-11-23T14:35:00+09:00"
    update_notification(store, iid, "csirt_manager", "done", operator=OP, means="電話", person="本人", said="報告")
    assert overdue_count(profile, store.incident(iid), later) == n - 1
    # a rule's own due_hours: 水戸 6-3(1) 速やかに → 1 hour
    mito = Store.open(tmp_path / "mito", profile="mito", clock=clock)
    mid = mito.create_incident(sample_intake(), operator=OP).id
    record_triage(mito, mid, Triage(type_id="cyber", ticked=["L1.1"]), operator=OP)
    rows = notification_state(mito.profile, mito.incident(mid), clock.now + timedelta(hours=2))
    assert {r["party"] for r in rows if r["overdue"]} == {"sec_manager", "dx_division", "ciso", "sec_chief",
                                                           "sys_manager"}


# ---------------------------------------------------------------------------
# Possible crime


def test_crime_flag_adds_the_police_once(store):
    iid = mutsu_incident(store)
    assert not response_state(store.incident(iid)).crime
    with pytest.raises(ResponseError, match="理由"):
        flag_crime(store, iid, operator=OP, note="")
    entries = flag_crime(store, iid, operator=OP, note="外部から管理者権限で不正ログイン")
    assert entries[0].kind == "decision"
    assert entries[0].data == {"decision": "crime", "crime": True, "keep_records": True,
                               "note": "外部から管理者権限で不正ログイン"}
    assert [(e.data["party"], e.data["rule"]) for e in entries[1:]] == [("police", "crime")]
    again = flag_crime(store, iid, operator=OP, note="続報: 同じ手口")
    assert [e.kind for e in again] == ["decision"]
    parties = [r["party"] for r in notification_state(store.profile, store.incident(iid))]
    assert parties.count("police") == 1
    assert response_state(store.incident(iid)).crime
    # crime ticked at triage: police is already there, the flag adds none
    iid2 = mutsu_incident(store, crime=True)
    assert response_state(store.incident(iid2)).crime
    assert [e.kind for e in flag_crime(store, iid2, operator=OP, note="確認")] == ["decision"]
    verified(store)


@pytest.mark.parametrize("pid", ["mutsu", "tsukuba", "mito", "osaki"])
def test_every_profile_has_a_police_body_for_the_crime_flag(pid, tmp_path, clock):
    store = Store.open(tmp_path / pid, profile=pid, clock=clock)
    iid = store.create_incident(sample_intake(), operator=OP).id
    entries = flag_crime(store, iid, operator=OP, note="不正アクセス禁止法違反の疑い")
    assert [e.data.get("party") for e in entries[1:]] == ["police"]


def test_mito_checks_other_systems():
    """水戸 6-3(2)ウ 横展開 is a step of the Mito procedure."""
    _, step = load_profile("mito").step("lateral")
    assert "別の情報システムにおいても発生している可能性を検討" in step["text"]
    assert step["note_required"]


# ---------------------------------------------------------------------------
# Record integrity


def test_a_whole_response_verifies_and_a_one_byte_edit_is_named(store, clock):
    iid = mutsu_incident(store)
    set_step(store, iid, "containment", "doing", operator=OP)
    set_step(store, iid, "evidence", "done", operator=OP, note="USB-1 に保全")
    clock.advance(minutes=5)
    set_monitoring(store, iid, operator=OP, start="今", period="30日")
    flag_crime(store, iid, operator=OP, note="不正ログイン")
    update_notification(store, iid, "police", "done", operator=OP, means="電話", person="生活安全課", said="相談")
    close_incident(store, iid, operator=OP, note="収束", force=True)
    reopen_incident(store, iid, operator=OP, reason="再発")
    verified(store)
    path = seg_path(store, iid)
    raw = path.read_bytes()
    assert raw.count(b"USB-1") == 2  # the entry's text and its data
    seq = next(e.seq for e in store.timeline(iid) if e.kind == "step" and "USB-1" in e.data["note"])
    path.write_bytes(raw.replace(b"USB-1", b"USB-2", 1))
    report = store.verify()
    assert not report.ok
    assert f"{iid}#{seq}" in report.problems[0] and "改ざん" in report.problems[0]


def test_several_incidents_stay_independent(store):
    a, b = mutsu_incident(store), mutsu_incident(store)
    set_step(store, a, "evidence", "done", operator=OP, note="a のログ")
    flag_crime(store, b, operator=OP, note="b だけ")
    ia, ib = store.incident(a), store.incident(b)
    assert ia.steps["evidence"]["status"] == "done" and ib.steps["evidence"]["status"] == "todo"
    assert not response_state(ia).crime and response_state(ib).crime
    verified(store)


# ---------------------------------------------------------------------------
# Profile schema for the tracker


def test_the_tracker_keys_are_loaded_with_defaults():
    tsukuba, osaki = load_profile("tsukuba"), load_profile("osaki")
    assert tsukuba.notification_due_hours == 24
    assert tsukuba.step("policy")[1]["warn_if_not_done"] == []
    assert tsukuba.step("policy")[1]["council_items"] == []
    assert "resume" not in tsukuba.step("policy")[1]
    assert osaki.step("fraud_council")[1]["council_items"][-1] == "resume"
    rule = next(r for r in osaki.notification_rules if r["id"] == "first_report")
    assert rule["due_hours"] == 1


def _tree(tmp_path):
    import shutil

    for path in profiles_dir().glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


SCHEMA_BROKEN = [
    ("tsukuba.toml", '{ step = "restore", message', '{ step = "restor", message', "tsukuba",
     "warn_if_not_done[0].step", "expected the id of a step in phases"),
    ("tsukuba.toml", '{ step = "restore", message', '{ step = "monitor", message', "tsukuba",
     "warn_if_not_done[0].step", "expected the id of another step"),
    ("osaki.toml", '"interim", "resume"]', '"interim", "resumes"]', "osaki",
     "council_items[5]", "expected one of 'system_stop'"),
    ("osaki.toml", 'kind = "step"\nstep = "fault_repair"\n', 'kind = "step"\n', "osaki",
     "resume.conditions[0].step", 'kind = "step" needs one'),
    ("osaki.toml", 'id = "integrity"', 'id = "recovered"', "osaki",
     "resume.conditions[1].id", "a condition id not already in the list"),
    ("osaki.toml", "due_hours = 1", "due_hours = 0", "osaki",
     "notification_rules[0].due_hours", "expected a number greater than 0"),
    ("mutsu.toml", "notification_due_hours = 24", 'notification_due_hours = "1日"', "mutsu",
     "notification_due_hours", "expected a number greater than 0"),
]


@pytest.mark.parametrize("case", SCHEMA_BROKEN, ids=[c[4] for c in SCHEMA_BROKEN])
def test_broken_tracker_keys_are_named(tmp_path, case):
    name, old, new, load, key, expected = case
    tree = _tree(tmp_path)
    text = (tree / name).read_text(encoding="utf-8")
    assert old in text
    (tree / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile(load, tree)
    message = str(info.value)
    assert message.startswith(str(tree / name) + ": ") and key in message and expected in message, message


def test_core_modules_do_not_import_textual():
    code = ("import sys, csirt_tui.response, csirt_tui.evidence; "
            "print(','.join(m for m in sys.modules if m.split('.')[0] == 'textual'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8",
                         check=True, cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == ""

"""Guided triage core (csirt_tui.triage) and the profiles' [priority] rule."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import sample_intake
from csirt_tui.errors import DomainError
from csirt_tui.model import STATUS_LABELS
from csirt_tui.profiles import ProfileError, list_profiles, load_profile
from csirt_tui.resources import profiles_dir
from csirt_tui.store import Store
from csirt_tui.triage import (
    DECISION_REASON_MESSAGE,
    OVERRIDE_REASON_MESSAGE,
    Triage,
    TriageContext,
    TriageError,
    assess,
    compute_priority,
    example_key,
    exclusion_close,
    fault_options,
    final_level,
    first_steps,
    is_incident,
    level_examples,
    long_stop_of,
    parties,
    record_not_incident,
    record_triage,
    report_to_default,
    suggested_level,
    validate,
)
from csirt_tui.views import phase_label

OP = "試験 花子"


# ---------------------------------------------------------------------------
# Every example of every level table of every shipped profile, built here at
# import time straight from the profile data (not through level_examples), so
# that the profiles and the logic cannot drift apart.


def _table_examples(profile, type_id):
    """(key, level, text, group) read directly from the table."""
    table = profile.level_table_for(type_id)
    out = []
    for entry in table["levels"]:
        for i, text in enumerate(entry.get("examples", [])):
            out.append((f"L{entry['level']}.{i + 1}", entry["level"], text, None))
        for g, group in enumerate(entry.get("example_groups", [])):
            for i, text in enumerate(group["examples"]):
                out.append((f"L{entry['level']}.{g + 1}.{i + 1}", entry["level"], text, group["group"]))
    return out


def _example_cases():
    cases = []
    for info in list_profiles():
        profile = load_profile(info.id)
        for itype in profile.incident_types:
            if not itype.get("level_table"):
                continue
            for key, level, text, group in _table_examples(profile, itype["id"]):
                cases.append(pytest.param(info.id, itype["id"], key, level, text,
                                          id=f"{info.id}-{itype['id']}-{key}"))
    return cases


EXAMPLE_CASES = _example_cases()


def test_example_cases_cover_every_profile_and_table():
    covered = {(c.values[0], c.values[1]) for c in EXAMPLE_CASES}
    for info in list_profiles():
        profile = load_profile(info.id)
        for itype in profile.incident_types:
            if itype.get("level_table"):
                assert (info.id, itype["id"]) in covered
    # Osaki's threat table is written as example_groups: those are covered too
    assert any(c.values[0] == "osaki" and c.values[2].count(".") == 2 for c in EXAMPLE_CASES)
    assert len(EXAMPLE_CASES) >= 100


@pytest.mark.parametrize("pid, type_id, key, level, text", EXAMPLE_CASES)
def test_ticking_one_example_suggests_its_level(pid, type_id, key, level, text):
    profile = load_profile(pid)
    assert suggested_level(profile, type_id, [key]) == level
    triage = Triage(type_id=type_id, ticked=[key])
    assert final_level(profile, triage) == level
    # the screen lists it under that key, with the seed's text
    listed = {k: (lv, t) for k, lv, t, _ in level_examples(profile, type_id)}
    assert listed[key] == (level, text)
    assert validate(profile, triage) == []
    entry = next(e for e in profile.level_table_for(type_id)["levels"] if e["level"] == level)
    assert is_incident(profile, triage) is entry["incident"]


@pytest.mark.parametrize("pid", [i.id for i in list_profiles()])
def test_level_examples_match_the_tables(pid):
    profile = load_profile(pid)
    for itype in profile.incident_types:
        listed = level_examples(profile, itype["id"])
        if not itype.get("level_table"):
            assert listed == []
            continue
        assert listed == _table_examples(profile, itype["id"])
        keys = [k for k, _, _, _ in listed]
        assert len(keys) == len(set(keys))


def test_example_key():
    assert example_key(2, 0) == "L2.1"
    assert example_key(0, 3) == "L0.4"
    assert example_key(3, 1, 0) == "L3.1.2"
    assert example_key(2, 0, 1) == "L2.2.1"


def test_osaki_groups_keep_their_names():
    osaki = load_profile("osaki")
    listed = level_examples(osaki, "fraud")
    assert ("L3.2.1", 3, "ファイアウォールを通過した不正アクセス", "電子的侵入") in listed
    assert ("L1.1.1", 1, "住基ネットの業務に直接関係のない場所への無権限者の侵入", "物理的侵入") in listed
    assert level_examples(osaki, "fault") == []


# ---------------------------------------------------------------------------
# Level: highest ticked, override and its reason


def test_highest_ticked_wins():
    mutsu = load_profile("mutsu")
    assert suggested_level(mutsu, "cyber", ["L0.1", "L2.5", "L1.2"]) == 2
    assert suggested_level(mutsu, "cyber", ["L1.2", "L0.1"]) == 1
    assert suggested_level(mutsu, "cyber", []) is None
    assert suggested_level(mutsu, "cyber", ["L9.1"]) is None
    # a key that is not in the table is reported, not silently used
    problems = validate(mutsu, Triage(type_id="cyber", ticked=["L1.1", "L9.1"]))
    assert any("L9.1" in p for p in problems)
    osaki = load_profile("osaki")
    assert suggested_level(osaki, "fraud", ["L1.1.1", "L3.2.3", "L2.2.2"]) == 3


def test_override_needs_a_reason(store):
    mutsu = store.profile
    inc = store.create_incident(sample_intake(), operator=OP)
    triage = Triage(fact_check="done", type_id="cyber", ticked=["L1.1"], level_override=2)
    assert OVERRIDE_REASON_MESSAGE == "レベルを変更する理由を入力してください"
    assert OVERRIDE_REASON_MESSAGE in validate(mutsu, triage)
    triage.override_reason = "   "
    assert OVERRIDE_REASON_MESSAGE in validate(mutsu, triage)
    before = len(store.timeline(inc.id))
    with pytest.raises(DomainError) as info:
        record_triage(store, inc.id, triage, operator=OP)
    assert isinstance(info.value, TriageError)
    assert OVERRIDE_REASON_MESSAGE in str(info.value)
    assert "\n" not in str(info.value)
    assert len(store.timeline(inc.id)) == before
    # choosing the level the examples suggest is not an override
    same = Triage(type_id="cyber", ticked=["L1.1"], level_override=1)
    assert validate(mutsu, same) == []
    # an override outside the table is refused whatever the reason
    bad = Triage(type_id="cyber", ticked=["L1.1"], level_override=5, override_reason="念のため")
    assert any("レベル 5" in p for p in validate(mutsu, bad))
    assert final_level(mutsu, bad) == 1


def test_override_is_recorded_with_its_reason(store):
    inc = store.create_incident(sample_intake(), operator=OP)
    triage = Triage(fact_check="done", fact_check_note="通報者に折り返し確認", type_id="cyber",
                    ticked=["L1.3"], level_override=2, override_reason="同じ媒体を複数の課で使っていた")
    entries = record_triage(store, inc.id, triage, operator=OP)
    first = entries[0]
    assert first.kind == "triage"
    assert first.data["level"] == 2
    assert first.data["suggested_level"] == 1
    assert first.data["answers"]["level_override"] == 2
    assert first.data["answers"]["override_reason"] == "同じ媒体を複数の課で使っていた"
    assert Triage.from_dict(first.data["answers"]) == triage
    assert "同じ媒体を複数の課で使っていた" in first.text
    assert "レベル2" in first.text and "事実確認: 確認済み" in first.text
    state = store.incident(inc.id)
    assert state.level == 2 and state.type_id == "cyber" and state.priority == "高"


def test_not_incident_against_the_level_needs_a_reason():
    mutsu = load_profile("mutsu")
    t = Triage(type_id="cyber", ticked=["L0.1"], is_incident=True)
    assert DECISION_REASON_MESSAGE in validate(mutsu, t)
    t.override_reason = "同じ端末で再び検知された"
    assert validate(mutsu, t) == []
    assert is_incident(mutsu, t) is True
    # no type at all (a hoax found by the fact check): only as not an incident, with a reason
    hoax = Triage(fact_check="done", is_incident=False)
    assert validate(mutsu, hoax) == ["種類を決めずにインシデントではないとする理由を入力してください"]
    hoax.override_reason = "折り返し電話で虚偽の通報と確認"
    assert validate(mutsu, hoax) == []
    assert "インシデントの種類を選んでください" in validate(mutsu, Triage())
    # a type with a table needs a level to be an incident
    assert "該当する事例にチェックを入れるか、レベルを選んでください" in validate(mutsu, Triage(type_id="theft"))


def test_retriage_keeps_the_history(store, clock):
    inc = store.create_incident(sample_intake(), operator=OP)
    record_triage(store, inc.id, Triage(type_id="cyber", ticked=["L1.4"]), operator=OP)
    clock.advance(minutes=40)
    entries = record_triage(store, inc.id, Triage(type_id="cyber", ticked=["L1.4", "L2.3"],
                                                  context=TriageContext(crime=True)), operator="試験 次郎")
    assert entries[0].kind == "classification"
    state = store.incident(inc.id)
    kinds = [e.kind for e in state.entries]
    assert kinds.count("triage") == 1 and kinds.count("classification") == 1
    assert [c["level"] for c in state.classifications] == [1, 2]
    assert [c["operator"] for c in state.classifications] == [OP, "試験 次郎"]
    assert state.classifications[0]["at"] < state.classifications[1]["at"]
    assert state.level == 2 and state.priority == "高"
    row = next(r for r in store.list_incidents() if r["id"] == inc.id)
    assert (row["level"], row["priority"]) == (2, "高")
    # notifications: manager/chief once; level 2 adds CISO and the others; crime adds police
    told = [n["party"] for n in state.notifications]
    assert sorted(told) == sorted(set(told))
    assert told[:2] == ["csirt_manager", "csirt_chief"]
    assert {"ciso", "soumusho", "aomori", "police"} <= set(told)
    # steps of the first phase once each
    steps = [e.data["step"] for e in state.entries if e.kind == "step"]
    assert steps == [s["id"] for _, s in first_steps(store.profile, "cyber")]
    # the same answers again add a classification and nothing else
    again = record_triage(store, inc.id, Triage(type_id="cyber", ticked=["L2.3"],
                                                context=TriageContext(crime=True)), operator=OP)
    assert [e.kind for e in again] == ["classification"]
    assert store.verify().ok


# ---------------------------------------------------------------------------
# Who must be told


def ids(pairs):
    return [party["id"] for party, _ in pairs]


def test_cyber_level2_with_personal_data_tells_the_personal_information_body(store):
    mutsu = store.profile
    body = mutsu.outside_body("ppc")
    assert body["label"] == "個人情報保護委員会"
    ctx = TriageContext(personal_data="personal", encrypted=False)
    assert "ppc" in ids(parties(mutsu, 2, "cyber", ctx))
    # 未確認 and "none" do not count
    assert "ppc" not in ids(parties(mutsu, 2, "cyber", TriageContext()))
    assert "ppc" not in ids(parties(mutsu, 2, "cyber", TriageContext(personal_data="none")))
    assert "ppc" in ids(parties(mutsu, 2, "cyber", TriageContext(personal_data="specific_personal")))
    inc = store.create_incident(sample_intake(), operator=OP)
    entries = record_triage(store, inc.id, Triage(type_id="cyber", ticked=["L2.5"], context=ctx), operator=OP)
    notes = [e for e in entries if e.kind == "notification"]
    ppc = next(e for e in notes if e.data["party"] == "ppc")
    assert ppc.data["status"] == "todo"
    assert ppc.data["rule"] == "personal_data"
    assert ppc.data["reason"] == next(r for r in mutsu.notification_rules if r["id"] == "personal_data")["reason"]
    assert "個人情報保護委員会" in ppc.text
    assert [n["party"] for n in store.incident(inc.id).notifications] == [e.data["party"] for e in notes]


def test_mito_personal_data_tells_its_own_committee():
    mito = load_profile("mito")
    told = ids(parties(mito, 1, "theft", TriageContext(personal_data="personal")))
    assert "privacy_committee" in told


def test_crime_tells_the_police():
    for pid in ("mutsu", "tsukuba", "mito"):
        profile = load_profile(pid)
        assert "police" in ids(parties(profile, 1, "cyber", TriageContext(crime=True))), pid
        assert "police" not in ids(parties(profile, 1, "cyber", TriageContext())), pid


def test_level1_tells_manager_and_chief_only():
    mutsu = load_profile("mutsu")
    assert ids(parties(mutsu, 1, "cyber", TriageContext())) == ["csirt_manager", "csirt_chief"]
    assert ids(parties(mutsu, 1, "system_stop", TriageContext(segment="lgwan"))) == ["csirt_manager", "csirt_chief"]
    assert "ciso" in ids(parties(mutsu, 2, "cyber", TriageContext()))


def test_osaki_threat_levels_tell_the_prefecture_and_jlis(tmp_path, clock):
    store = Store.open(tmp_path / "osaki", profile="osaki", clock=clock)
    osaki = store.profile
    assert osaki.outside_body("jlis")["label"] == "指定情報処理機関"
    assert osaki.outside_body("miyagi")["label"] == "宮城県"
    assert not {"miyagi", "jlis"} & set(ids(parties(osaki, 1, "fraud", TriageContext())))
    for level in (2, 3):
        assert {"miyagi", "jlis", "sec_chief"} <= set(ids(parties(osaki, level, "fraud", TriageContext())))
    assert "council" in ids(parties(osaki, 3, "fraud", TriageContext()))
    inc = store.create_incident(sample_intake(), operator=OP)
    a = assess(osaki, Triage(type_id="fraud", ticked=["L2.2.1"]))
    assert (a.scale, a.level, a.is_incident, a.priority) == ("threat", 2, True, "中")
    entries = record_triage(store, inc.id, Triage(type_id="fraud", ticked=["L2.2.1"]), operator=OP)
    told = [e.data["party"] for e in entries if e.kind == "notification"]
    assert told == ["sec_officer", "sys_admin", "miyagi", "jlis", "sec_chief"]
    rules = {e.data["party"]: e.data["rule"] for e in entries if e.kind == "notification"}
    assert rules["jlis"] == "threat_agencies"
    state = store.incident(inc.id)
    assert state.phase == "fraud_initial"
    assert "脅威度 レベル2" in entries[0].text


def test_osaki_long_fault_stop_calls_the_council():
    osaki = load_profile("osaki")
    hours = osaki.priority["long_stop_hours"]
    short = TriageContext(stop_hours=hours - 1)
    long = TriageContext(stop_hours=hours)
    assert not long_stop_of(osaki, short) and long_stop_of(osaki, long)
    assert long_stop_of(osaki, TriageContext(long_stop=True))
    assert "council" not in ids(parties(osaki, None, "fault", short))
    assert {"council", "miyagi", "jlis"} <= set(ids(parties(osaki, None, "fault", long)))


def test_report_to_default():
    assert report_to_default(load_profile("mutsu"), "cyber") == "csirt_manager"
    assert report_to_default(load_profile("tsukuba"), "cyber") == "csirt_manager"
    assert report_to_default(load_profile("mito"), "cyber") == "sec_manager"
    assert report_to_default(load_profile("osaki"), "fraud") == "sec_officer"


# ---------------------------------------------------------------------------
# Priority


@pytest.mark.parametrize("pid", ["mutsu", "tsukuba", "mito"])
def test_priority_base_by_level(pid):
    profile = load_profile(pid)
    for level, expected in ((0, "低"), (1, "中"), (2, "高")):
        label, reasons = compute_priority(profile, level, "cyber", TriageContext())
        assert label == expected
        assert len(reasons) == 1 and reasons[0].startswith(f"レベル{level}（") and reasons[0].endswith(expected)


def test_priority_raised_by_context_with_reasons():
    mutsu = load_profile("mutsu")
    rules = {tuple(sorted(r["when"])): r["reason"] for r in mutsu.priority["raise"]}
    label, reasons = compute_priority(mutsu, 1, "theft", TriageContext(personal_data="personal", encrypted=True))
    assert label == "高"
    assert reasons[1] == f"{rules[('personal_data',)]}: 中→高"
    label, reasons = compute_priority(mutsu, 0, "system_stop", TriageContext(segment="mynumber"))
    assert (label, reasons[1]) == ("中", f"{rules[('segment',)]}: 低→中")
    label, _ = compute_priority(mutsu, 0, "system_stop", TriageContext(segment="internet"))
    assert label == "低"
    # asset classes 機密性3A/3B, 完全性2, 可用性2 raise; 機密性2 does not
    assert compute_priority(mutsu, 0, "cyber", TriageContext(asset_classes={"integrity": "i2"}))[0] == "中"
    assert compute_priority(mutsu, 0, "cyber", TriageContext(asset_classes={"confidentiality": "c2"}))[0] == "低"
    # unencrypted (or unknown) personal data raises twice: 低 → 中 → 高
    label, reasons = compute_priority(mutsu, 0, "theft", TriageContext(personal_data="personal"))
    assert label == "高" and len(reasons) == 3
    assert reasons[2] == f"{rules[('encrypted', 'personal_data')]}: 中→高"
    # outward attack, crime, long stop (by hours or ticked)
    assert compute_priority(mutsu, 1, "cyber", TriageContext(outward_attack=True))[0] == "高"
    assert compute_priority(mutsu, 0, "cyber", TriageContext(crime=True))[0] == "中"
    assert compute_priority(mutsu, 0, "system_stop", TriageContext(stop_hours=24))[0] == "中"
    assert compute_priority(mutsu, 0, "system_stop", TriageContext(stop_hours=23.5))[0] == "低"
    assert compute_priority(mutsu, 0, "system_stop", TriageContext(long_stop=True))[0] == "中"


def test_priority_is_capped_at_high():
    mutsu = load_profile("mutsu")
    everything = TriageContext(personal_data="specific_personal", encrypted=False, segment="mynumber",
                               asset_classes={"confidentiality": "c3a"}, outward_attack=True, crime=True,
                               stop_hours=100)
    label, reasons = compute_priority(mutsu, 0, "cyber", everything)
    assert label == "高"
    assert len(reasons) == 1 + len(mutsu.priority["raise"])
    assert reasons[-1].endswith("高のまま（上限）")
    label, reasons = compute_priority(mutsu, 2, "cyber", TriageContext(crime=True))
    assert label == "高" and reasons[1].endswith(": 高のまま（上限）")


def test_priority_osaki_threat_levels_and_faults():
    osaki = load_profile("osaki")
    for level, expected in ((1, "低"), (2, "中"), (3, "高")):
        label, reasons = compute_priority(osaki, level, "fraud", TriageContext())
        assert label == expected
        assert reasons[0].startswith(f"脅威度 レベル{level}（")
    label, reasons = compute_priority(osaki, None, "fault", TriageContext())
    assert label == "中" and reasons == ["レベルの定めのない種類（障害）: 中"]
    hours = osaki.priority["long_stop_hours"]
    assert compute_priority(osaki, None, "fault", TriageContext(stop_hours=hours))[0] == "高"
    assert compute_priority(osaki, None, "fault", TriageContext(stop_hours=hours - 0.5))[0] == "中"


def test_priority_labels_are_exactly_the_dashboard_ones():
    from csirt_tui.views import PRIORITY_RANK

    for info in list_profiles():
        profile = load_profile(info.id)
        rule = profile.priority
        for mapping in (rule.get("by_level") or {}, rule.get("by_threat") or {}):
            assert set(mapping.values()) <= set(PRIORITY_RANK)
        for itype in profile.incident_types:
            table = profile.level_table_for(itype["id"])
            for level in ([e["level"] for e in table["levels"]] if table else [None]):
                for ctx in (TriageContext(), TriageContext(personal_data="personal", crime=True)):
                    assert compute_priority(profile, level, itype["id"], ctx)[0] in PRIORITY_RANK


def test_priority_rule_is_shared_and_documented():
    mutsu, mito, osaki = load_profile("mutsu"), load_profile("mito"), load_profile("osaki")
    assert mutsu.shared_from["priority"] == "tsukuba"
    assert mutsu.origin("priority").name == "tsukuba.toml"
    assert mito.priority == load_profile("tsukuba").priority
    assert osaki.origin("priority").name == "osaki.toml"
    assert "by_level" not in osaki.priority and osaki.priority["by_threat"] == {"1": "低", "2": "中", "3": "高"}
    assert "4(2)②(II)" in mutsu.priority["source"]
    doc = (Path(__file__).resolve().parents[1] / "docs" / "profile-format.md").read_text(encoding="utf-8")
    for word in ("[priority]", "by_level", "by_threat", "unrated", "long_stop_hours", "priority.raise"):
        assert word in doc, word


# ---------------------------------------------------------------------------
# Level 0: not an incident (つくば 4(2)②(III))


def test_level0_is_closed_as_not_an_incident(store, clock):
    inc = store.create_incident(sample_intake(what="ウイルス対策ソフトが駆除したと表示された"), operator=OP)
    triage = Triage(fact_check="done", type_id="cyber", ticked=["L0.1"])
    a = assess(store.profile, triage)
    assert a.is_incident is False and a.parties == [] and a.steps == [] and a.priority is None
    entries = record_triage(store, inc.id, triage, operator=OP)
    assert [e.kind for e in entries] == ["triage"]
    assert entries[0].data["not_incident"] is True
    assert "phase" not in entries[0].data
    assert "インシデントではない" in entries[0].text
    state = store.incident(inc.id)
    assert state.status == "not_incident" and state.notifications == [] and state.steps == {}
    clock.advance(minutes=20)
    closing = record_not_incident(
        store, inc.id, operator=OP, reported_to=report_to_default(store.profile, "cyber"),
        reply={"who": "CSIRT管理者 山田", "when": "14:50", "how": "内線電話"},
        warning="不審なメールの添付ファイルを開かないよう全職員に周知")
    assert [e.kind for e in closing] == ["report", "call", "note", "close"]
    report, call, note, close = closing
    assert report.data["to"] == "csirt_manager" and "CSIRT管理者" in report.text
    assert call.data["who"] == "CSIRT管理者 山田"
    assert call.data["how"] == "内線電話"
    assert call.data["when"] == "2026-11-22T14:50:00+09:00"
    assert call.occurred_at == call.data["when"]
    assert call.data["to"] == "試験 一郎"
    assert "全職員に周知" in note.text
    assert close.data == {"status": "not_incident"}
    state = store.incident(inc.id)
    assert state.status == "not_incident"
    found = store.list_incidents(status="not_incident")
    assert [r["id"] for r in found] == [inc.id]
    assert phase_label(store.profile, found[0]["phase"], found[0]["status"]) == STATUS_LABELS["not_incident"]
    assert store.verify().ok
    # closing twice is refused
    with pytest.raises(DomainError, match="既に収束"):
        record_not_incident(store, inc.id, operator=OP, reported_to="csirt_manager",
                            reply={"who": "山田", "when": "14:55", "how": "電話"})


def test_not_incident_needs_the_decision_and_a_full_reply(store):
    inc = store.create_incident(sample_intake(), operator=OP)
    with pytest.raises(DomainError, match="トリアージ"):
        record_not_incident(store, inc.id, operator=OP, reported_to="csirt_manager",
                            reply={"who": "山田", "when": "14:50", "how": "電話"})
    record_triage(store, inc.id, Triage(type_id="cyber", ticked=["L0.1"]), operator=OP)
    n = len(store.timeline(inc.id))
    for reply, message in (({"when": "14:50", "how": "電話"}, "だれが"),
                           ({"who": "山田", "how": "電話"}, "いつ"),
                           ({"who": "山田", "when": "14:50"}, "方法"),
                           ({"who": "山田", "when": "あした", "how": "電話"}, "日時"),
                           ({"who": "山田", "when": "14:50", "how": "電話", "whom": "x"}, "不明な項目")):
        with pytest.raises(DomainError, match=message):
            record_not_incident(store, inc.id, operator=OP, reported_to="csirt_manager", reply=reply)
    with pytest.raises(DomainError, match="報告先"):
        record_not_incident(store, inc.id, operator=OP, reported_to="nobody",
                            reply={"who": "山田", "when": "14:50", "how": "電話"})
    assert len(store.timeline(inc.id)) == n  # nothing half-written
    # no warning: no note
    kinds = [e.kind for e in record_not_incident(store, inc.id, operator=OP, reported_to="csirt_manager",
                                                 reply={"who": "山田", "when": "14:50", "how": "電話"})]
    assert kinds == ["report", "call", "close"]


def test_not_incident_in_one_go_writes_nothing_on_a_bad_reply(store):
    inc = store.create_incident(sample_intake(), operator=OP)
    triage = Triage(fact_check="done", type_id="theft", ticked=["L0.1"])
    with pytest.raises(DomainError, match="日時"):
        record_not_incident(store, inc.id, operator=OP, reported_to="csirt_manager", triage=triage,
                            reply={"who": "山田", "when": "あした", "how": "電話"})
    with pytest.raises(DomainError, match="インシデントではない"):
        record_not_incident(store, inc.id, operator=OP, reported_to="csirt_manager",
                            triage=Triage(type_id="theft", ticked=["L1.1"]),
                            reply={"who": "山田", "when": "14:50", "how": "電話"})
    assert [e.kind for e in store.timeline(inc.id)] == ["intake"]
    entries = record_not_incident(store, inc.id, operator=OP, reported_to="csirt_manager", triage=triage,
                                  reply={"who": "山田", "when": "14:50", "how": "電話", "note": "了解とのこと"})
    assert [e.kind for e in entries] == ["triage", "report", "call", "close"]
    assert entries[2].data["note"] == "了解とのこと"
    assert store.incident(inc.id).status == "not_incident"
    with pytest.raises(DomainError, match="既に収束"):
        record_not_incident(store, inc.id, operator=OP, reported_to="csirt_manager", triage=triage,
                            reply={"who": "山田", "when": "14:50", "how": "電話"})
    assert len(store.timeline(inc.id)) == 5


def test_hoax_without_a_type_is_closed_with_its_reason(store):
    inc = store.create_incident(sample_intake(channel="gaisen"), operator=OP)
    hoax = Triage(fact_check="done", fact_check_note="折り返しの番号が使われていない",
                  is_incident=False, override_reason="折り返し電話で虚偽の通報と確認")
    entries = record_triage(store, inc.id, hoax, operator=OP)
    assert [e.kind for e in entries] == ["triage"]
    assert entries[0].data["not_incident"] is True and entries[0].data["type"] is None
    assert "虚偽の通報" in entries[0].text
    record_not_incident(store, inc.id, operator=OP, reported_to="csirt_manager",
                        reply={"who": "山田", "when": "さっき", "how": "外線電話"})
    assert store.incident(inc.id).status == "not_incident"
    assert store.verify().ok


def test_retriage_as_incident_reopens(store):
    inc = store.create_incident(sample_intake(), operator=OP)
    record_triage(store, inc.id, Triage(type_id="cyber", ticked=["L0.1"]), operator=OP)
    assert store.incident(inc.id).status == "not_incident"
    entries = record_triage(store, inc.id, Triage(type_id="cyber", ticked=["L1.2"]), operator=OP)
    assert [e.kind for e in entries[:2]] == ["reopen", "classification"]
    state = store.incident(inc.id)
    assert state.status == "open" and state.level == 1 and state.priority == "中"
    assert state.phase == "initial"
    assert store.verify().ok


# ---------------------------------------------------------------------------
# Exclusions: 対象外 (not handled by the CSIRT)


def test_planned_maintenance_is_closed_as_excluded(store):
    inc = store.create_incident(sample_intake(what="基幹系システムが使えない（夜間の計画停止）"), operator=OP)
    triage = Triage(fact_check="done", type_id="system_stop", exclusion="planned_stop")
    assert validate(store.profile, triage) == []
    assert is_incident(store.profile, triage) is False
    entries = exclusion_close(store, inc.id, triage, operator=OP)
    assert [e.kind for e in entries] == ["triage", "close"]
    assert entries[0].data["not_incident"] is True
    assert entries[0].data["exclusion"] == "planned_stop"
    assert entries[1].data == {"status": "not_incident", "exclusion": "planned_stop"}
    assert "メンテナンス等による計画停止" in entries[1].text
    state = store.incident(inc.id)
    assert state.status == "not_incident" and state.notifications == [] and state.steps == {}
    assert [r["id"] for r in store.list_incidents(status="not_incident")] == [inc.id]
    assert store.verify().ok


def test_exclusion_must_belong_to_the_type(store):
    mutsu = store.profile
    problems = validate(mutsu, Triage(type_id="system_stop", exclusion="paper"))
    assert any("paper" in p and "情報システムの停止等" in p for p in problems)
    assert validate(mutsu, Triage(type_id="theft", exclusion="paper")) == []
    assert any("インシデントとして扱えません" in p
               for p in validate(mutsu, Triage(type_id="theft", exclusion="paper", is_incident=True)))
    inc = store.create_incident(sample_intake(), operator=OP)
    with pytest.raises(TriageError):
        exclusion_close(store, inc.id, Triage(type_id="cyber", ticked=["L1.1"]), operator=OP)
    with pytest.raises(TriageError):
        exclusion_close(store, inc.id, Triage(type_id="cyber", exclusion="planned_stop"), operator=OP)
    assert [e.kind for e in store.timeline(inc.id)] == ["intake"]


# ---------------------------------------------------------------------------
# Osaki 障害: fault types and their check items


def test_osaki_fault_checks_are_offered_and_recorded(tmp_path, clock):
    store = Store.open(tmp_path / "osaki", profile="osaki", clock=clock)
    osaki = store.profile
    options = {f["id"]: f for f in fault_options(osaki, "fault")}
    assert list(options) == ["hardware", "software", "network"]
    assert options["hardware"]["checks"] == ["電源スイッチ・コンセントの確認", "警告ランプの確認", "形状異常の確認等"]
    assert fault_options(osaki, "fraud") == []
    assert fault_options(load_profile("mutsu"), "system_stop") == []
    checks = ["電源スイッチ・コンセントの確認", "警告ランプの確認"]
    triage = Triage(fact_check="done", type_id="fault", fault_type="hardware", fault_checks=checks,
                    context=TriageContext(stop_hours=1))
    assert validate(osaki, triage) == []
    inc = store.create_incident(sample_intake(what="CS の警告ランプが点灯している"), operator=OP)
    entries = record_triage(store, inc.id, triage, operator=OP)
    data = entries[0].data
    assert data["answers"]["fault_type"] == "hardware"
    assert data["answers"]["fault_checks"] == checks
    assert data["level"] is None and data["scale"] is None and data["priority"] == "中"
    assert "ハードウェアの障害" in entries[0].text and "警告ランプの確認" in entries[0].text
    state = store.incident(inc.id)
    assert state.phase == "fault_initial"
    assert list(state.steps) == ["fault_identify", "fault_cause", "fault_report_chief", "fault_result"]
    assert [n["party"] for n in state.notifications] == ["sec_officer", "sys_admin"]


def test_fault_answers_are_checked():
    osaki = load_profile("osaki")
    problems = validate(osaki, Triage(type_id="fraud", ticked=["L1.1.1"], fault_type="hardware"))
    assert any("障害の種類は種類「不正行為」には使えません" in p for p in problems)
    problems = validate(osaki, Triage(type_id="fault", fault_type="hardware", fault_checks=["コマンドによる確認"]))
    assert any("コマンドによる確認" in p and "ハードウェアの障害" in p for p in problems)
    assert validate(osaki, Triage(type_id="fault", fault_type="network", fault_checks=["コマンドによる確認"])) == []
    assert any("障害の種類が不明" in p for p in validate(osaki, Triage(type_id="fault", fault_type="power")))
    assert any("障害の種類を選んでください" in p
               for p in validate(osaki, Triage(type_id="fault", fault_checks=["警告ランプの確認"])))
    assert any("レベルを選べません" in p for p in validate(osaki, Triage(type_id="fault", level_override=1,
                                                                      override_reason="x")))


# ---------------------------------------------------------------------------
# Validation of ids and the answers' round trip


def test_unknown_ids_are_reported_in_japanese():
    mutsu = load_profile("mutsu")
    assert any("種類が不明" in p for p in validate(mutsu, Triage(type_id="virus")))
    ctx = TriageContext(personal_data="maybe", segment="wan", asset_classes={"confidentiality": "c9", "secrecy": "1"},
                        stop_hours=-1)
    problems = validate(mutsu, Triage(type_id="cyber", ticked=["L1.1"], context=ctx))
    assert any("個人情報の区分が不明" in p and "maybe" in p for p in problems)
    assert any("ネットワーク区分が不明" in p and "mynumber" in p for p in problems)
    assert any("機密性の分類が不明" in p and "c9" in p for p in problems)
    assert any("観点が不明" in p and "secrecy" in p for p in problems)
    assert any("停止時間" in p for p in problems)
    assert any("事実確認" in p for p in validate(mutsu, Triage(fact_check="yes", type_id="cyber", ticked=["L1.1"])))


def test_answers_round_trip():
    triage = Triage(fact_check="not_needed", fact_check_note="アラートの機器を特定済み", type_id="theft",
                    ticked=["L1.5", "L2.4"], context=TriageContext(
                        personal_data="personal", encrypted=None, segment="lgwan",
                        asset_classes={"confidentiality": "c3b", "availability": "a1"},
                        outward_attack=False, crime=True, stop_hours=2.5, long_stop=False),
                    level_override=2, override_reason="理由", is_incident=True)
    d = triage.to_dict()
    assert Triage.from_dict(d) == triage
    assert Triage.from_dict(d).to_dict() == d
    assert Triage.from_dict({}) == Triage()
    # defaults are not shared between instances
    a, b = Triage(), Triage()
    a.ticked.append("L1.1")
    a.context.asset_classes["integrity"] = "i2"
    assert b.ticked == [] and b.context.asset_classes == {}


# ---------------------------------------------------------------------------
# The [priority] section is validated like the rest of the profile


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for path in profiles_dir().glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


CRIME_RAISE = 'when = { crime = true }\nreason = "犯罪の可能性（不正アクセス禁止法違反等）"'  # the last raise rule

PRIORITY_BROKEN = [
    ("bad_label", "tsukuba.toml", '"2" = "高" }', '"2" = "最高" }', "mutsu", "tsukuba.toml",
     "priority.by_level.2", "expected one of '高', '中', '低', got '最高'"),
    ("level_missing", "tsukuba.toml", ', "2" = "高" }', " }", "tsukuba", "tsukuba.toml",
     "priority.by_level", "expected a priority for level 2 (level_tables.system_stop.levels[2])"),
    ("level_unknown", "osaki.toml", '"3" = "高" }', '"3" = "高", "4" = "高" }', "osaki", "osaki.toml",
     "priority.by_threat.4", "expected a level of a scale = \"threat\" table (1, 2, 3), got '4'"),
    ("key_not_a_number", "osaki.toml", '"3" = "高" }', '"3" = "高", high = "高" }', "osaki", "osaki.toml",
     "priority.by_threat.high", "expected a level number as a key"),
    ("scale_without_map", "osaki.toml", 'by_threat = { "1" = "低", "2" = "中", "3" = "高" }\n', "", "osaki",
     "osaki.toml", "priority.by_threat", "expected a table of level = priority for the scale = \"threat\" table"),
    ("bad_segment_ref", "tsukuba.toml", 'segment = ["mynumber"]', 'segment = ["my_number"]', "mito",
     "tsukuba.toml", "priority.raise[2].when.segment[0]", "expected the id of a network segment"),
    ("bad_asset_class_ref", "tsukuba.toml", '"c3a", "c3b"', '"c3a", "3b"', "tsukuba", "tsukuba.toml",
     "priority.raise[3].when.asset_class[1]", "expected the id of an asset class"),
    ("unknown_condition", "tsukuba.toml", CRIME_RAISE, CRIME_RAISE.replace("crime", "police", 1), "tsukuba",
     "tsukuba.toml", "priority.raise[6].when.police", "unexpected key; expected one of: personal_data"),
    ("empty_when", "tsukuba.toml", CRIME_RAISE, CRIME_RAISE.replace("{ crime = true }", "{}"), "tsukuba",
     "tsukuba.toml", "priority.raise[6].when", "expected at least one condition"),
    ("no_reason", "osaki.toml", 'reason = "犯罪の可能性（不正アクセス禁止法違反等）"', "", "osaki",
     "osaki.toml", "priority.raise[2].reason", "expected a non-empty string, got nothing"),
    ("bad_hours", "osaki.toml", "long_stop_hours = 4", "long_stop_hours = 0", "osaki",
     "osaki.toml", "priority.long_stop_hours", "expected a number greater than 0, got 0"),
    ("bad_unrated", "osaki.toml", 'unrated = "中"', 'unrated = "普通"', "osaki",
     "osaki.toml", "priority.unrated", "expected one of '高', '中', '低'"),
    ("missing_section", "osaki.toml", "[priority]\n", "[priority_]\n", "osaki",
     "osaki.toml", "priority_", "unexpected key"),
    ("unknown_share", "mutsu.toml", 'priority = "tsukuba"', 'priority = "osaki"', "mutsu",
     "osaki.toml", "priority.by_level", "expected a table of level = priority for the scale = \"level\" table"),
]


@pytest.mark.parametrize("case", PRIORITY_BROKEN, ids=[c[0] for c in PRIORITY_BROKEN])
def test_broken_priority_section(tree, case):
    _, name, old, new, load, file_named, key, expected = case
    edit(tree / name, old, new)
    with pytest.raises(ProfileError) as info:
        load_profile(load, tree)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(tree / file_named) + ": "), message
    assert f": {key}: " in message, message
    assert expected in message, message


def test_priority_section_is_required(tree):
    text = (tree / "osaki.toml").read_text(encoding="utf-8")
    (tree / "osaki.toml").write_text(text[: text.index("[priority]")], encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile("osaki", tree)
    assert str(info.value) == f"{tree / 'osaki.toml'}: priority: expected a table, got nothing"


def test_triage_module_does_not_import_textual():
    code = "import sys, csirt_tui.triage; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8",
                         check=True, cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "False"


def test_an_expected_stop_is_read_in_the_words_a_handler_types():
    from csirt_tui.triage import parse_stop_hours

    assert parse_stop_hours("") is None and parse_stop_hours("  ") is None
    assert parse_stop_hours("3") == 3 and parse_stop_hours("1.5") == 1.5
    assert parse_stop_hours("３時間") == 3 and parse_stop_hours("約4時間くらい") == 4
    assert parse_stop_hours("2日") == 48 and parse_stop_hours("90分") == 1.5 and parse_stop_hours("3 h") == 3
    for word in ("三時間くらい", "半日", "-5", "nan", "inf", "1e3", "明日まで"):
        with pytest.raises(DomainError, match="想定停止時間は時間数で"):
            parse_stop_hours(word)


def test_an_expected_stop_too_long_to_hold_is_refused_not_recorded_as_infinity():
    """400 digits were read as inf hours (recorded as Infinity, shown 「inf」 when the triage is
    opened again, which the parser refuses); 1 followed by 23 zeros as 1e+23, the same."""
    from csirt_tui.triage import parse_stop_hours

    for typed in ("9" * 400, "1" + "0" * 23, "１" + "０" * 23, "0.00000001"):
        with pytest.raises(DomainError, match="想定停止時間"):
            parse_stop_hours(typed)
    assert parse_stop_hours("8760") == 8760 and parse_stop_hours("0.5分") == 0.5 / 60


def test_an_expected_stop_with_a_blank_inside_its_number_is_refused_not_joined():
    """「3 30」 (3 時間 30 分, perhaps) was read as 330 hours, 「1 5」 as 15: the blanks were taken out
    before the number was read. A blank between a number and its unit is still read (「2 日」)."""
    from csirt_tui.triage import parse_stop_hours

    for typed in ("3 30", "1 5", "３\u3000３０", "1 .5"):
        with pytest.raises(DomainError, match="想定停止時間"):
            parse_stop_hours(typed)
    assert parse_stop_hours("2 日") == 48 and parse_stop_hours(" 3 時間 ") == 3 and parse_stop_hours("1.5 h") == 1.5


def test_a_fact_check_left_pending_is_recorded_in_the_screens_words(store):
    """The handler chose 「確認中（保留のまま進める）」 and the record (the timeline, `show`, the report's
    table) said 「事実確認: 未了」, a word the screen never showed."""
    inc = store.create_incident(sample_intake(), operator=OP)
    entries = record_triage(store, inc.id, Triage(fact_check="pending", type_id="cyber", ticked=["L1.4"]),
                            operator=OP)
    assert "事実確認: 確認中（保留のまま進めた）" in entries[0].text.splitlines(), entries[0].text

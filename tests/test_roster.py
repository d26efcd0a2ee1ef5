"""The contact roster core: validation, audit, search, who to call now, CSV, review date, calls."""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta

from conftest import FIXED_NOW, TZ, sample_intake
from csirt_tui import roster as rc
from csirt_tui.profiles import load_profile

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"

WEEKDAY_DAY = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)      # Tuesday
WEEKDAY_NIGHT = datetime(2026, 11, 24, 21, 0, tzinfo=TZ)    # Tuesday evening
SATURDAY = datetime(2026, 11, 21, 10, 0, tzinfo=TZ)
HOLIDAY = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)          # Monday, 勤労感謝の日


@pytest.fixture(scope="module")
def mutsu():
    return load_profile("mutsu")


def demo_people(pid: str = "mutsu") -> list[dict]:
    with open(DEMO / f"{pid}-roster.toml", "rb") as fh:
        raw = tomllib.load(fh)["person"]
    return [dict(rc.normalise_person(p), doc_id=i) for i, p in enumerate(raw, 1)]


def person(name: str, people: list[dict]) -> dict:
    return next(p for p in people if p["name"] == name)


def names(candidates: list[dict]) -> list[str]:
    return [c["person"]["name"] for c in candidates]


GOOD = {"name": "試験 太郎", "kana": "しけん たろう", "role": "handler", "section": "総合情報課",
        "extension": "2141", "phone": "0175-22-1111", "mobile": "090-1234-5678", "mail": "taro@example.lg.jp",
        "weekday": True, "night": False, "holiday": False}


# ----------------------------------------------------------------- demo data


@pytest.mark.parametrize("pid", ["mutsu", "mito", "osaki", "tsukuba"])
def test_every_demo_roster_person_is_valid(pid):
    profile = load_profile(pid)
    people = demo_people(pid)
    assert people
    bad = {p["name"]: rc.validate_person(profile, p) for p in people if rc.validate_person(profile, p)}
    assert bad == {}


# ----------------------------------------------------------------- validation


@pytest.mark.parametrize("key,value", [
    ("extension", "2141"), ("extension", "214"), ("extension", "21411"), ("extension", "２１４１"),
    ("extension", ""),
    ("phone", "0175-22-1111"), ("phone", "03-1234-5678"), ("phone", "029-883-1312"),
    ("phone", "０１７５－２２－１１１１"), ("phone", "0175‐22‐1111"), ("phone", ""),
    ("mobile", "090-1234-5678"), ("mobile", "080-0000-0101"), ("mobile", "070-1111-2222"),
    ("mobile", "０９０－１２３４－５６７８"),
    ("mail", "taro@example.lg.jp"), ("mail", "a.b+c@city.mutsu.example.jp"), ("mail", ""),
])
def test_good_values_are_accepted(mutsu, key, value):
    assert rc.validate_person(mutsu, {**GOOD, key: value}) == {}


@pytest.mark.parametrize("key,value,words", [
    ("extension", "21", "内線"), ("extension", "214111", "内線"), ("extension", "21a1", "内線"),
    ("phone", "0175221111", "0175-22-1111 の形"), ("phone", "0175-22-111", "外線"),
    ("phone", "175-22-1111", "外線"), ("phone", "090-1234-5678", "携帯の番号"), ("phone", "電話なし", "外線"),
    ("mobile", "090-1234-567", "携帯"), ("mobile", "0175-22-1111", "携帯"), ("mobile", "060-1234-5678", "携帯"),
    ("mobile", "09012345678", "携帯"),
    ("mail", "taro", "メール"), ("mail", "taro@example", "メール"), ("mail", "taro@@example.jp", "メール"),
    ("mail", "taro＠example.lg.jp", "半角"), ("mail", "ta ro@example.jp", "メール"),
    ("name", "", "氏名"), ("name", "   ", "氏名"), ("role", "nobody", "役割"), ("role", "", "役割"),
    ("weekday", "はい", "平日"), ("night", 1, "夜間"), ("holiday", None or "true", "休日"),
    ("note", 3, "備考"),
])
def test_bad_values_are_named_in_japanese(mutsu, key, value, words):
    problems = rc.validate_person(mutsu, {**GOOD, key: value})
    assert list(problems) == [key]
    assert words in problems[key]


def test_outside_body_id_is_a_valid_role_and_unknown_keys_are_named(mutsu):
    assert rc.validate_person(mutsu, {**GOOD, "role": "police"}) == {}
    assert "foo" in rc.validate_person(mutsu, {**GOOD, "foo": "x"})


def test_normalise_touches_only_the_phone_fields():
    p = rc.normalise_person({"name": "ＡＢＣ　太郎", "extension": "２１４１", "phone": "０１７５ー２２ー１１１１",
                             "mobile": "090 1234 5678", "note": "ｶﾅ"})
    assert p["extension"] == "2141" and p["phone"] == "0175-22-1111" and p["mobile"] == "09012345678"
    assert p["name"] == "ＡＢＣ　太郎" and p["note"] == "ｶﾅ"  # text kept as typed
    assert p["weekday"] is False and p["deputy"] == "" and list(p) == list(rc.PERSON_FIELDS)


# ----------------------------------------------------------------- store operations


def test_add_update_remove_write_audit_rows(store, clock):
    doc_id = rc.add_person(store, GOOD, operator="受付 はるか")
    clock.advance(minutes=5)
    saved = rc.update_person(store, doc_id, {"mobile": "０８０－１１１１－２２２２", "night": True}, operator="検証 大輔")
    assert saved["mobile"] == "080-1111-2222" and saved["night"] is True
    clock.advance(minutes=5)
    rc.remove_person(store, doc_id, operator="検証 大輔")
    log = rc.audit_log(store, doc_id)
    assert [r["action"] for r in log] == ["add", "update", "remove"]
    assert [r["operator"] for r in log] == ["受付 はるか", "検証 大輔", "検証 大輔"]
    assert log[0]["after"]["name"] == "試験 太郎" and log[0]["before"] is None
    assert log[1]["before"] == {"mobile": "090-1234-5678", "night": False}
    assert log[1]["after"] == {"mobile": "080-1111-2222", "night": True}
    assert log[1]["at"] == "2026-11-22T14:40:00+09:00"
    assert log[2]["after"] is None and log[2]["before"]["name"] == "試験 太郎"
    # removed: out of the list, still in the file with the audit
    assert rc.list_people(store) == []
    gone = rc.list_people(store, include_removed=True)
    assert gone[0]["removed"] is True and gone[0]["removed_by"] == "検証 大輔"
    assert store.list_people() == []  # the intake banner never proposes a removed person
    with pytest.raises(rc.RosterError):
        rc.update_person(store, doc_id, {"night": False}, operator="x")
    assert store.verify().ok


def test_refused_update_leaves_the_store_unchanged(store):
    doc_id = rc.add_person(store, GOOD, operator="受付")
    path = store.root / "roster.json"
    before = path.read_bytes()
    with pytest.raises(rc.RosterError) as err:
        rc.update_person(store, doc_id, {"section": "新しい課", "mobile": "090-12-34", "mail": "bad"},
                         operator="受付")
    assert set(err.value.problems) == {"mobile", "mail"}
    assert "携帯" in err.value.problems["mobile"] and "携帯" in str(err.value)
    assert path.read_bytes() == before
    assert rc.list_people(store)[0]["section"] == "総合情報課"  # the valid part was not saved either
    assert len(rc.audit_log(store)) == 1


def test_refused_add_writes_nothing(store):
    with pytest.raises(rc.RosterError) as err:
        rc.add_person(store, {**GOOD, "phone": "12345"}, operator="受付")
    assert list(err.value.problems) == ["phone"]
    assert rc.list_people(store) == [] and rc.audit_log(store) == []
    assert not (store.root / "roster.json").exists()


def test_unchanged_update_writes_no_audit_row(store):
    doc_id = rc.add_person(store, GOOD, operator="受付")
    rc.update_person(store, doc_id, {"name": "試験 太郎"}, operator="受付")
    assert [r["action"] for r in rc.audit_log(store)] == ["add"]


def test_list_people_fills_every_field_of_a_demo_person(store):
    store.add_person({"name": "古い 記録", "role": "handler"}, operator="demo")  # as the demo builder adds
    p = rc.list_people(store)[0]
    assert p["absent"] is False and p["contract_scope"] == "" and p["doc_id"] == 1


# ----------------------------------------------------------------- search


def test_search_by_kana_in_katakana_and_hiragana(mutsu):
    people = demo_people()
    hira = rc.search(people, "みほん")
    assert {p["name"] for p in hira} == {"見本 道子", "見本 花子", "見本 網夫", "見本 広子"}
    assert rc.search(people, "ミホン") == hira
    assert rc.search(people, "ﾐﾎﾝ") == hira  # half-width katakana
    assert names_of(rc.search(people, "ミホン ハナコ")) == ["見本 花子"]
    assert names_of(rc.search(people, "みほんはなこ")) == ["見本 花子"]  # blank in the reading ignored
    assert names_of(rc.search(people, "見本 税務")) == ["見本 花子"]  # name + section, all words
    assert rc.search(people, "みほん 存在しない") == []
    assert names_of(rc.search(people, "csirt_deputy")) == ["見本 道子", "架空 浩二"]
    assert "見本 道子" in names_of(rc.search(people, "副責任者", profile=mutsu))
    assert rc.search(people, "") == people


def names_of(people):
    return [p["name"] for p in people]


# ----------------------------------------------------------------- who to call now


def test_who_to_call_weekday_daytime(mutsu):
    c = rc.who_to_call(mutsu, demo_people(), "csirt_manager", WEEKDAY_DAY)
    assert names(c) == ["模擬 聡", "見本 花子"]
    assert [x["reason"] for x in c] == ["平日の執務時間", "平日の執務時間"]


def test_who_to_call_weekday_night(mutsu):
    c = rc.who_to_call(mutsu, demo_people(), "csirt_manager", WEEKDAY_NIGHT)
    assert names(c) == ["模擬 聡"]  # 見本 花子 is not reachable at night
    assert c[0]["reason"] == "夜間"


def test_who_to_call_early_morning_is_night(mutsu):
    c = rc.who_to_call(mutsu, demo_people(), "csirt_staff", datetime(2026, 11, 24, 7, 0, tzinfo=TZ))
    assert names(c) == ["検証 大輔"] and c[0]["reason"] == "夜間"


def test_who_to_call_saturday(mutsu):
    c = rc.who_to_call(mutsu, demo_people(), "csirt_manager", SATURDAY)
    assert names(c) == ["模擬 聡", "見本 花子"]
    assert c[0]["reason"] == "休日（土曜日）"
    staff = rc.who_to_call(mutsu, demo_people(), "csirt_staff", SATURDAY)
    assert names(staff) == ["検証 大輔"]  # 受付 はるか works weekdays only


def test_who_to_call_public_holiday(mutsu):
    c = rc.who_to_call(mutsu, demo_people(), "handler", HOLIDAY)
    assert names(c) == ["架空 健一"]  # 仮名 彩 has holiday = false
    assert c[0]["reason"] == "休日（祝日）"
    # the same Monday one week later is an ordinary weekday
    assert rc.who_to_call(mutsu, demo_people(), "handler", datetime(2026, 11, 30, 10, 0, tzinfo=TZ))[0][
        "reason"] == "平日の執務時間"


def test_who_to_call_year_end_is_a_holiday(mutsu):
    c = rc.who_to_call(mutsu, demo_people(), "handler", datetime(2026, 12, 29, 10, 0, tzinfo=TZ))
    assert c[0]["reason"] == "休日（年末年始）"


def test_deputy_when_the_primary_is_absent(mutsu):
    people = demo_people()
    person("模擬 聡", people)["absent"] = True
    c = rc.who_to_call(mutsu, people, "csirt_manager", WEEKDAY_DAY)
    assert names(c) == ["見本 花子"]
    assert c[0]["reason"].startswith("代理（不在の模擬 聡に代わって）") and c[0]["kind"] == "deputy"
    # at night the deputy is not reachable either: nobody, rather than someone unreachable
    assert rc.who_to_call(mutsu, people, "csirt_manager", WEEKDAY_NIGHT) == []


def test_deputy_of_another_role_takes_the_absent_persons_place(mutsu):
    people = demo_people()
    person("試験 一樹", people)["absent"] = True
    c = rc.who_to_call(mutsu, people, "csirt_chief", WEEKDAY_NIGHT)
    assert names(c) == ["見本 道子"]  # named deputy; 架空 浩二 is not reachable at night
    assert "不在の試験 一樹に代わって" in c[0]["reason"]


def test_deputy_for_role_follows_when_nobody_of_the_role_is_reachable(mutsu):
    people = [p for p in demo_people() if p["name"] != "試験 一樹"]  # no CSIRT責任者 at all
    c = rc.who_to_call(mutsu, people, "csirt_chief", WEEKDAY_DAY)
    assert names(c) == ["見本 道子", "架空 浩二"]
    assert all(x["kind"] == "role_deputy" for x in c)
    assert "CSIRT副責任者" in c[0]["reason"] or "副責任者" in c[0]["reason"]
    # while the 責任者 is reachable, the 副責任者 role is not proposed on its own
    assert "架空 浩二" not in names(rc.who_to_call(mutsu, demo_people(), "csirt_chief", WEEKDAY_DAY))


def test_present_primary_comes_before_their_deputy(mutsu):
    c = rc.who_to_call(mutsu, demo_people(), "csirt_chief", WEEKDAY_DAY)
    assert names(c) == ["試験 一樹", "見本 道子"]
    assert c[0]["kind"] == "primary" and c[1]["kind"] == "deputy"


def test_removed_people_are_never_proposed_and_unknown_roles_refused(mutsu):
    people = demo_people()
    person("模擬 聡", people)["removed"] = True
    assert names(rc.who_to_call(mutsu, people, "csirt_manager", WEEKDAY_NIGHT)) == []
    with pytest.raises(rc.RosterError):
        rc.who_to_call(mutsu, people, "no_such_role", WEEKDAY_DAY)


# ----------------------------------------------------------------- CSV


def test_csv_round_trip_keeps_every_field(mutsu):
    people = demo_people()
    people[0]["note"] = "改行あり\n2行目, カンマと \"引用符\" も"
    people[1]["absent"] = True
    data = rc.export_csv(people)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0].split(",") == [rc.FIELD_LABELS[k] for k in rc.PERSON_FIELDS]
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "").replace("改行あり\n", "")
    result = rc.import_csv(mutsu, data)
    assert result.errors == [] and result.rows == len(people)
    strip = [{k: p[k] for k in rc.PERSON_FIELDS} for p in people]
    assert result.people == strip
    vendor = next(p for p in result.people if p["contract_ref"])
    assert "契約" in vendor["contract_ref"] and vendor["contract_scope"]


def test_csv_booleans_are_a_circle_or_empty():
    data = rc.export_csv([{**GOOD, "weekday": True, "night": False}])
    row = data.decode("utf-8-sig").splitlines()[1].split(",")
    assert row[rc.PERSON_FIELDS.index("weekday")] == "○"
    assert row[rc.PERSON_FIELDS.index("night")] == ""


def test_csv_import_without_bom_and_as_excel_shift_jis(mutsu):
    data = rc.export_csv([GOOD])
    plain = data[3:]
    assert rc.import_csv(mutsu, plain).people[0]["name"] == "試験 太郎"
    sjis = data.decode("utf-8-sig").encode("cp932")
    assert rc.import_csv(mutsu, sjis).people[0]["kana"] == "しけん たろう"


def _csv(*lines: str) -> bytes:
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


BAD_FILE = _csv(
    "氏名,よみがな,役割,内線,外線,携帯,メール,平日,夜間,休日",
    "試験 一郎,しけん いちろう,handler,2141,0175-22-1111,090-1234-5678,ichiro@example.lg.jp,○,,○",
    "見本 二郎,みほん じろう,handler,21,0175-22-1111,,jiro@example.lg.jp,○,,",
    "\"架空 三郎\",かくう さぶろう,nobody,2143,,,saburo,はい,いいえ,",
    "模擬 四郎,もぎ しろう,csirt_staff,2144,,080-1111-2222,,〇,×,",
    "例示 五郎,れいじ ごろう,handler,2145,,,,たぶん,,",
)


def test_csv_with_bad_rows_reports_each_line_and_imports_nothing(mutsu, store):
    result = rc.import_csv(mutsu, BAD_FILE)
    assert [line for line, _ in result.errors] == [3, 4, 6]
    assert set(result.errors[0][1]) == {"extension"}
    assert set(result.errors[1][1]) == {"role", "mail"}
    assert "平日" in result.errors[2][1]["weekday"]
    assert result.people == [] and not result.ok and result.rows == 5
    assert rc.apply_import(store, result, operator="受付") == []
    assert rc.list_people(store) == []


def test_csv_good_rows_only_imports_the_good_ones(mutsu, store):
    result = rc.import_csv(mutsu, BAD_FILE, good_rows_only=True)
    assert len(result.errors) == 3
    assert [p["name"] for p in result.people] == ["試験 一郎", "模擬 四郎"]
    ids = rc.apply_import(store, result, operator="受付")
    people = rc.list_people(store)
    assert [p["doc_id"] for p in people] == ids and [p["name"] for p in people] == ["試験 一郎", "模擬 四郎"]
    assert people[1]["weekday"] is True and people[1]["night"] is False
    assert [r["action"] for r in rc.audit_log(store)] == ["add", "add"]
    assert store.verify().ok


def test_csv_line_numbers_are_the_rows_excel_shows(mutsu):
    # a cell with a line break is still one row in Excel; an empty row still counts
    data = _csv("氏名,役割,備考,内線",
                "試験 一郎,handler,\"1行目\n2行目\",21",
                "",
                "見本 二郎,handler,,9")
    result = rc.import_csv(mutsu, data)
    assert [line for line, _ in result.errors] == [2, 4]


def test_csv_unknown_header_and_missing_column_are_line_one(mutsu):
    result = rc.import_csv(mutsu, _csv("氏名,電話番号", "試験 一郎,0175-22-1111"))
    assert result.errors and result.errors[0][0] == 1
    assert "role" in result.errors[0][1] and any("電話番号" in m for m in result.errors[0][1].values())
    assert result.people == []


# ----------------------------------------------------------------- review date


def test_review_status_overdue_after_three_months(store, clock):
    assert rc.review_status(store, clock())["overdue"] is False  # nothing to review yet
    rc.add_person(store, GOOD, operator="受付")
    status = rc.review_status(store, clock())
    assert status["last_reviewed"] is None and status["overdue"] is True  # never reviewed
    rc.mark_reviewed(store, operator="管理者")
    status = rc.review_status(store, clock())
    assert status == {"last_reviewed": "2026-11-22T14:35:00+09:00", "reviewed_by": "管理者",
                      "due": "2027-02-22T14:35:00+09:00", "overdue": False, "months": 3}
    almost = FIXED_NOW + relativedelta(months=3) - relativedelta(minutes=1)
    assert rc.review_status(store, almost)["overdue"] is False
    assert rc.review_status(store, FIXED_NOW + relativedelta(months=3))["overdue"] is True
    assert rc.review_status(store, FIXED_NOW + relativedelta(months=3), months=6)["overdue"] is False
    store.meta["roster_review_months"] = 6  # the store.json setting
    assert rc.review_status(store, FIXED_NOW + relativedelta(months=3))["overdue"] is False
    assert rc.review_status(store, FIXED_NOW + relativedelta(months=6))["overdue"] is True
    clock.advance(days=100)
    rc.mark_reviewed(store, operator="管理者")
    assert rc.review_status(store, clock())["overdue"] is False
    assert store.verify().ok


# ----------------------------------------------------------------- calls


def test_log_call_appends_a_call_entry(store, clock):
    inc = store.create_incident(sample_intake(), operator="受付")
    doc_id = rc.add_person(store, {**GOOD, "role": "csirt_manager", "name": "模擬 聡"}, operator="受付")
    who = rc.list_people(store)[0]
    clock.advance(minutes=3)
    entry = rc.log_call(store, inc.id, operator="ハンドラー", person=who, party="csirt_manager",
                        means="携帯", reached=True, said="端末をLANから外したと報告。登庁するとのこと")
    assert entry.kind == "call"
    assert entry.data["person"] == "模擬 聡" and entry.data["doc_id"] == doc_id
    assert entry.data["role"] == "csirt_manager" and entry.data["number"] == "090-1234-5678"
    assert entry.data["reached"] is True and entry.data["means"] == "携帯"
    assert "模擬 聡（CSIRT管理者）へ携帯（090-1234-5678）で連絡: つながった" in entry.text
    assert "登庁する" in entry.text
    # someone not on the roster, not reached, at a typed time
    e2 = rc.log_call(store, inc.id, operator="ハンドラー", person=None, party="police", means="外線",
                     number="０１７５－２２－０１１０", reached=False, said="", occurred_at="14:20")
    assert e2.data["party"] == "police" and e2.data["number"] == "0175-22-0110"
    assert "つながらなかった" in e2.text and e2.occurred_at == "2026-11-22T14:20:00+09:00"
    assert [e.kind for e in store.timeline(inc.id)][-2:] == ["call", "call"]
    assert store.verify().ok


def test_log_call_plain_phone_uses_the_mobile_out_of_hours(store):
    inc = store.create_incident(sample_intake(), operator="受付")  # Sunday afternoon
    rc.add_person(store, GOOD, operator="受付")
    entry = rc.log_call(store, inc.id, operator="h", person=rc.list_people(store)[0], party=None,
                        means="電話", reached=True, said="了解")
    assert entry.data["number"] == "090-1234-5678"


def test_log_call_refuses_without_a_party_and_writes_nothing(store):
    inc = store.create_incident(sample_intake(), operator="受付")
    with pytest.raises(rc.RosterError) as err:
        rc.log_call(store, inc.id, operator="h", person=None, party=None, means="", reached="yes", said="")
    assert set(err.value.problems) == {"person", "means", "reached"}
    assert len(store.timeline(inc.id)) == 1


def test_csv_export_guards_formulas_and_reads_them_back(mutsu):
    """A name or note starting with = + - @ would be run by a spreadsheet: it is
    written with a leading ' and read back as typed."""
    from csirt_tui.roster import export_csv, import_csv

    person = {**GOOD, "name": "=HYPERLINK(\"http://x\",\"押して\")", "note": "@SUM(A1) +1 -2"}
    data = export_csv([person])
    text = data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM" in text
    back = import_csv(mutsu, data)
    assert back.ok, back.errors
    assert back.people[0]["name"] == person["name"]
    assert back.people[0]["note"] == person["note"]

"""The profiles' ``contact = {weekday, night_holiday}`` (大崎 3条 通常業務時及び夜間・休日時の
担当者連絡先): the fallback of who_to_call when the roster has nobody for a role or body."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from csirt_tui import roster as rc
from csirt_tui.profiles import clear_cache, load_profile
from csirt_tui.resources import profiles_dir

TZ = ZoneInfo("Asia/Tokyo")
WEEKDAY_DAY = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)     # Tuesday
WEEKDAY_NIGHT = datetime(2026, 11, 24, 22, 0, tzinfo=TZ)
SUNDAY = datetime(2026, 11, 29, 10, 0, tzinfo=TZ)


@pytest.fixture
def osaki(tmp_path: Path):
    """The shipped profiles with 宮城県's two contacts filled in (the city's job)."""
    for path in profiles_dir().glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    path = tmp_path / "osaki.toml"
    text = path.read_text(encoding="utf-8")
    old = 'source = "大崎 3条、5条(2)"\ncontact = { weekday = "", night_holiday = "" }'
    assert text.count(old) == 1  # 宮城県 (指定情報処理機関 has its aliases line in between)
    text = text.replace(old, 'source = "大崎 3条、5条(2)"\n'
                        'contact = { weekday = "022-211-2111", night_holiday = "022-211-2000（宿直）" }', 1)
    path.write_text(text, encoding="utf-8")
    clear_cache()
    yield load_profile(path)
    clear_cache()


def test_profile_contact_by_time_slot(osaki):
    day = rc.profile_contact(osaki, "miyagi", WEEKDAY_DAY)
    assert day == {"doc_id": "profile:miyagi", "name": "宮城県", "role": "miyagi", "phone": "022-211-2111",
                   "note": "通常業務時", "source": "profile"}
    assert rc.profile_contact(osaki, "miyagi", WEEKDAY_NIGHT)["phone"] == "022-211-2000（宿直）"
    assert rc.profile_contact(osaki, "miyagi", SUNDAY)["note"] == "夜間・休日時"
    # "" is no contact: 指定情報処理機関 is still blank, a role without contact has none
    assert rc.profile_contact(osaki, "jlis", WEEKDAY_DAY) is None
    assert rc.profile_contact(osaki, "sec_chief", WEEKDAY_DAY) is None


def test_who_to_call_falls_back_to_the_profile_when_the_roster_has_nobody(osaki):
    c = rc.who_to_call(osaki, [], "miyagi", WEEKDAY_NIGHT)
    assert [(x["kind"], x["person"]["phone"]) for x in c] == [("profile", "022-211-2000（宿直）")]
    assert c[0]["reason"] == "名簿に候補がないためプロファイルの連絡先（夜間・休日時）・夜間"
    assert rc.who_to_call(osaki, [], "jlis", WEEKDAY_NIGHT) == []
    # someone on the roster comes first and alone
    person = {"doc_id": 7, "name": "県 担当", "role": "miyagi", "phone": "022-211-9999",
              "weekday": True, "night": True, "holiday": True}
    c = rc.who_to_call(osaki, [person], "miyagi", WEEKDAY_NIGHT)
    assert [x["person"]["name"] for x in c] == ["県 担当"]
    # a removed or unreachable one does not count
    assert rc.who_to_call(osaki, [dict(person, night=False)], "miyagi", WEEKDAY_NIGHT)[0]["kind"] == "profile"


def test_a_call_to_the_profile_contact_is_logged_with_its_number(osaki, store):
    from conftest import sample_intake

    store._profile = osaki
    iid = store.create_incident(sample_intake(), operator="試験").id
    person = rc.who_to_call(osaki, [], "miyagi", WEEKDAY_DAY)[0]["person"]
    entry = rc.log_call(store, iid, operator="試験", person=person, party="miyagi", means="電話", reached=True,
                        said="運用再開を連絡")
    assert entry.data["number"] == "022-211-2111"
    assert entry.data["role"] == "miyagi" and entry.data["doc_id"] == "profile:miyagi"
    assert entry.text.startswith("宮城県へ電話（022-211-2111）で連絡: つながった")

"""Mito 7-1(6)ア (logs kept about one month): the date by which an incident's logs
must be secured, computed in the core for the evidence step to show."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from csirt_tui.profiles import load_profile

TZ = ZoneInfo("Asia/Tokyo")


def test_mito_logs_secure_by_one_month_after():
    mito = load_profile("mito")
    got = mito.logs_secure_by(datetime(2026, 11, 22, 14, 10, tzinfo=TZ))
    assert got["date"] == date(2026, 12, 22) and got["months"] == 1
    assert got["source"] == "水戸 7-1(6)ア" and got["step"] == "evidence"
    assert got["text"].endswith("1か月程度保存しなければならない。")
    assert mito.step(got["step"])[1]["label"] == "証拠保全"


@pytest.mark.parametrize("since, expected", [
    (datetime(2026, 1, 31, 9, 0, tzinfo=TZ), date(2026, 2, 28)),      # no 2/31
    (datetime(2028, 1, 31, 9, 0, tzinfo=TZ), date(2028, 2, 29)),      # leap year
    (datetime(2026, 12, 15, 9, 0, tzinfo=TZ), date(2027, 1, 15)),     # over the year end
    (datetime(2026, 11, 30, 15, 30, tzinfo=timezone.utc), date(2027, 1, 1)),  # 12/1 00:30 JST
    (datetime(2026, 11, 22, 14, 10), date(2026, 12, 22)),            # naive = local
])
def test_month_arithmetic_in_local_time(since, expected):
    assert load_profile("mito").logs_secure_by(since)["date"] == expected


@pytest.mark.parametrize("pid", ["mutsu", "tsukuba", "osaki"])
def test_profiles_without_a_retention_rule_say_nothing(pid):
    assert load_profile(pid).logs_secure_by(datetime(2026, 11, 22, tzinfo=TZ)) is None

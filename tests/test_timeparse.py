"""Tests for csirt_tui.timeparse (operator time input, 和暦, ISO helpers)."""

from __future__ import annotations

import random
import time as _time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from csirt_tui.timeparse import (
    ACCEPTED_FORMS,
    MAX_INPUT_LENGTH,
    TimeParseError,
    format_preview,
    format_wareki_datetime,
    from_iso,
    parse_time,
    to_iso,
    to_wareki,
    wareki_year,
)

JST = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 22, 14, 35, 20, 123456, tzinfo=JST)  # a Sunday


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=JST)


def test_now_is_a_sunday() -> None:
    assert NOW.weekday() == 6


# --------------------------------------------------------------------------
# good inputs
# --------------------------------------------------------------------------

GOOD: list[tuple[str, datetime]] = [
    # time of day -> today, or yesterday if later than now + 5 min
    ("14:30", jst(2026, 11, 22, 14, 30)),
    ("9:05", jst(2026, 11, 22, 9, 5)),
    ("09:05", jst(2026, 11, 22, 9, 5)),
    ("１４：３０", jst(2026, 11, 22, 14, 30)),
    ("  14:30\u3000", jst(2026, 11, 22, 14, 30)),
    ("0:00", jst(2026, 11, 22, 0, 0)),
    ("14:30:15", jst(2026, 11, 22, 14, 30, 15)),
    ("14:40", jst(2026, 11, 22, 14, 40)),  # 4m40s ahead: within tolerance
    ("14:41", jst(2026, 11, 21, 14, 41)),  # beyond tolerance: yesterday
    ("15:00", jst(2026, 11, 21, 15, 0)),
    ("23:59", jst(2026, 11, 21, 23, 59)),
    ("14時", jst(2026, 11, 22, 14, 0)),
    ("14時30分", jst(2026, 11, 22, 14, 30)),
    ("14時5分", jst(2026, 11, 22, 14, 5)),
    ("14時半", jst(2026, 11, 22, 14, 30)),
    ("14時30分15秒", jst(2026, 11, 22, 14, 30, 15)),
    ("14時頃", jst(2026, 11, 22, 14, 0)),
    ("14:30ごろ", jst(2026, 11, 22, 14, 30)),
    ("午前9時", jst(2026, 11, 22, 9, 0)),
    ("午後2時", jst(2026, 11, 22, 14, 0)),
    ("午後2時半", jst(2026, 11, 22, 14, 30)),
    ("午後2時15分", jst(2026, 11, 22, 14, 15)),
    ("午後 2:15", jst(2026, 11, 22, 14, 15)),
    ("午後3時", jst(2026, 11, 21, 15, 0)),  # future today -> yesterday
    ("正午", jst(2026, 11, 22, 12, 0)),
    ("午後12時", jst(2026, 11, 22, 12, 0)),
    ("午前12時", jst(2026, 11, 22, 0, 0)),
    ("午前0時", jst(2026, 11, 22, 0, 0)),
    ("2:30 pm", jst(2026, 11, 22, 14, 30)),
    ("9am", jst(2026, 11, 22, 9, 0)),
    ("9pm", jst(2026, 11, 21, 21, 0)),
    # month/day and full dates
    ("11/21 9:05", jst(2026, 11, 21, 9, 5)),
    ("１１／２１　９：０５", jst(2026, 11, 21, 9, 5)),
    ("11/21", jst(2026, 11, 21, 0, 0)),  # date only -> 00:00
    ("11/22 14:00", jst(2026, 11, 22, 14, 0)),
    ("12/25", jst(2025, 12, 25, 0, 0)),  # not reached this year -> last year
    ("12/25 10:00", jst(2025, 12, 25, 10, 0)),
    ("11/21午後2時", jst(2026, 11, 21, 14, 0)),
    ("2026/11/21 14:30", jst(2026, 11, 21, 14, 30)),
    ("2026-11-21 14:30", jst(2026, 11, 21, 14, 30)),
    ("2026.11.21 14:30", jst(2026, 11, 21, 14, 30)),
    ("2026-11-21", jst(2026, 11, 21, 0, 0)),
    ("2026-11-21T14:30", jst(2026, 11, 21, 14, 30)),
    ("2026-11-21T14:30:00+09:00", jst(2026, 11, 21, 14, 30)),
    ("2026-11-21T14:30:45+09:00", jst(2026, 11, 21, 14, 30, 45)),
    ("2026-11-21T05:30:00Z", jst(2026, 11, 21, 14, 30)),
    ("2026-11-21T14:30:00+00:00", jst(2026, 11, 21, 23, 30)),
    ("2024/2/29 10:00", jst(2024, 2, 29, 10, 0)),
    # now / a moment ago / N ago
    ("今", jst(2026, 11, 22, 14, 35)),
    ("いま", jst(2026, 11, 22, 14, 35)),
    ("現在", jst(2026, 11, 22, 14, 35)),
    ("now", jst(2026, 11, 22, 14, 35)),
    ("NOW", jst(2026, 11, 22, 14, 35)),
    ("さっき", jst(2026, 11, 22, 14, 25)),
    ("先ほど", jst(2026, 11, 22, 14, 25)),
    ("さきほど", jst(2026, 11, 22, 14, 25)),
    ("30分前", jst(2026, 11, 22, 14, 5)),
    ("３０分前", jst(2026, 11, 22, 14, 5)),
    ("30 分前", jst(2026, 11, 22, 14, 5)),
    ("10分くらい前", jst(2026, 11, 22, 14, 25)),
    ("2時間前", jst(2026, 11, 22, 12, 35)),
    ("1時間半前", jst(2026, 11, 22, 13, 5)),
    ("1日前", jst(2026, 11, 21, 14, 35)),
    ("3日前", jst(2026, 11, 19, 14, 35)),
    # relative day words
    ("今朝9時", jst(2026, 11, 22, 9, 0)),
    ("今朝9時半", jst(2026, 11, 22, 9, 30)),
    ("今朝9:15", jst(2026, 11, 22, 9, 15)),
    ("今朝の午前8時", jst(2026, 11, 22, 8, 0)),
    ("今日14時", jst(2026, 11, 22, 14, 0)),
    ("本日14時", jst(2026, 11, 22, 14, 0)),
    ("昨日 14時半", jst(2026, 11, 21, 14, 30)),
    ("昨日14:05", jst(2026, 11, 21, 14, 5)),
    ("昨日の15時", jst(2026, 11, 21, 15, 0)),
    ("きのう 9:00", jst(2026, 11, 21, 9, 0)),
    ("昨夜23時", jst(2026, 11, 21, 23, 0)),
    ("昨夜11時", jst(2026, 11, 21, 23, 0)),  # bare evening hour read as p.m.
    ("昨夜5時", jst(2026, 11, 21, 17, 0)),
    ("昨晩22時30分", jst(2026, 11, 21, 22, 30)),
    ("昨晩午後8時", jst(2026, 11, 21, 20, 0)),
    ("おととい10時", jst(2026, 11, 20, 10, 0)),
    ("一昨日10時", jst(2026, 11, 20, 10, 0)),
    # Japanese dates and eras
    ("11月21日 10時", jst(2026, 11, 21, 10, 0)),
    ("11月21日10時", jst(2026, 11, 21, 10, 0)),
    ("2026年11月21日 10時30分", jst(2026, 11, 21, 10, 30)),
    ("令和8年11月21日 10時", jst(2026, 11, 21, 10, 0)),
    ("令和 8年 11月 21日 10時", jst(2026, 11, 21, 10, 0)),
    ("令和元年5月1日", jst(2019, 5, 1, 0, 0)),
    ("令和1年5月1日", jst(2019, 5, 1, 0, 0)),
    ("R8.11.21 10:00", jst(2026, 11, 21, 10, 0)),
    ("R8/11/21", jst(2026, 11, 21, 0, 0)),
    ("Ｒ８．１１．２１", jst(2026, 11, 21, 0, 0)),
    ("令和8.11.21 10:00", jst(2026, 11, 21, 10, 0)),
    ("平成31年4月30日", jst(2019, 4, 30, 0, 0)),
    ("H31.4.30", jst(2019, 4, 30, 0, 0)),
    ("平成元年1月8日", jst(1989, 1, 8, 0, 0)),
    ("昭和64年1月7日", jst(1989, 1, 7, 0, 0)),
    ("㋿8年11月21日", jst(2026, 11, 21, 0, 0)),  # era ligature, NFKC
    ("㍻31年4月30日", jst(2019, 4, 30, 0, 0)),
    # our own output parses back
    ("2026年11月22日(日) 14:30", jst(2026, 11, 22, 14, 30)),
    ("2026年11月21日（土） 9:05", jst(2026, 11, 21, 9, 5)),
    ("令和8年11月22日 14時30分", jst(2026, 11, 22, 14, 30)),
    # conservative dateutil fallback (English)
    ("Nov 21 2026 14:30", jst(2026, 11, 21, 14, 30)),
    ("21 November 2026", jst(2026, 11, 21, 0, 0)),
    ("Nov 21", jst(2026, 11, 21, 0, 0)),
    ("Dec 25", jst(2025, 12, 25, 0, 0)),
    ("Nov 21 2026 14:30 UTC", jst(2026, 11, 21, 23, 30)),
]


@pytest.mark.parametrize(("text", "expected"), GOOD, ids=[repr(t) for t, _ in GOOD])
def test_good_inputs(text: str, expected: datetime) -> None:
    result = parse_time(text, NOW)
    assert result == expected
    assert result.tzinfo is JST
    assert result.utcoffset() == timedelta(hours=9)
    assert result.microsecond == 0
    assert (result.year, result.month, result.day, result.hour, result.minute, result.second) == (
        expected.year, expected.month, expected.day,
        expected.hour, expected.minute, expected.second,
    )  # fmt: skip


# --------------------------------------------------------------------------
# bad inputs
# --------------------------------------------------------------------------

BAD: list[tuple[str, str]] = [
    ("", "入力"),
    ("   ", "入力"),
    ("\u3000", "入力"),
    ("あした", "時刻"),
    ("明日10時", "未来"),
    ("13/45", "存在しない日付"),
    ("25:00", "0時〜23時"),
    ("24:00", "0時〜23時"),
    ("14:60", "分"),
    ("11/31", "存在しない日付"),
    ("2/29", "存在しない日付"),  # 2026 is not a leap year
    ("2026-02-30", "存在しない日付"),
    ("2026年2月30日", "存在しない日付"),
    ("令和0年1月1日", "元年"),
    ("令和元年4月1日", "期間外"),
    ("平成31年5月1日", "期間外"),
    ("平成32年1月1日", "期間外"),
    ("昭和64年1月8日", "期間外"),
    ("abc", "読み取れ"),
    ("[bold]", "読み取れ"),
    ("[bold]14:30[/bold]", "読み取れ"),
    ("\x1b[31m", "使用できない文字"),
    ("\x1b[31m14:30", "使用できない文字"),
    ("x" * 10_000, "長すぎ"),
    ("1" * (MAX_INPUT_LENGTH + 1), "長すぎ"),
    ("2026-11-22 15:05", "未来の日時は指定できません"),  # 30 minutes ahead
    ("今日15:05", "未来の日時は指定できません"),
    ("11/22 15:05", "未来の日時は指定できません"),  # today's date is not moved a year back
    ("10000-01-01 00:00", "読み取れ"),
    ("10000/1/1", "読み取れ"),
    ("10000年1月1日", "読み取れ"),
    ("1899/12/31", "1900"),
    ("1", "読み取れ"),
    ("2026", "読み取れ"),
    ("14", "読み取れ"),
    ("今朝", "時刻"),
    ("昨夜", "時刻"),
    ("昨晩", "時刻"),
    ("昨日", "時刻"),
    ("今朝15時", "0時〜11時"),
    ("今朝午後1時", "0時〜11時"),
    ("昨夜3時", "17時〜23時"),
    ("昨夜4時", "17時〜23時"),
    ("昨夜12時", "17時〜23時"),
    ("昨夜午前2時", "17時〜23時"),
    ("午後13時", "0〜12時"),
    ("午前午後2時", "読み取れ"),
    ("11/219:05", "読み取れ"),
    ("2026年11月22日(月)", "曜日"),
    ("30分半前", "分半"),
    ("30分", "読み取れ"),
    ("Nov 2026", "月と日"),
    ("Monday 14:30", "読み取れ"),
    ("14:30 UTC", "年月日"),
    ("9" * 500, "長すぎ"),
    ("9" * 150, "読み取れ"),
    ("99999日前", "1900"),
]


@pytest.mark.parametrize(("text", "reason"), BAD, ids=[repr(t)[:40] for t, _ in BAD])
def test_bad_inputs(text: str, reason: str) -> None:
    with pytest.raises(TimeParseError) as info:
        parse_time(text, NOW)
    message = str(info.value)
    assert reason in info.value.reason
    assert message.startswith(info.value.reason)
    assert any(form in message for form in ACCEPTED_FORMS)
    assert len(message.splitlines()) <= 2


def test_error_message_lists_every_accepted_form() -> None:
    with pytest.raises(TimeParseError) as info:
        parse_time("abc", NOW)
    for form in ACCEPTED_FORMS:
        assert form in str(info.value)


def test_error_message_never_echoes_markup() -> None:
    with pytest.raises(TimeParseError) as info:
        parse_time("[red]x[/red]", NOW)
    assert "[red]" not in str(info.value)


def test_time_parse_error_is_value_error() -> None:
    assert issubclass(TimeParseError, ValueError)


# --------------------------------------------------------------------------
# future refusal, tolerance and the yesterday / last-year rules
# --------------------------------------------------------------------------


def test_future_refused_with_default_tolerance() -> None:
    with pytest.raises(TimeParseError) as info:
        parse_time("2026-11-22 15:05", NOW)
    assert str(info.value).startswith("未来の日時は指定できません")


def test_future_within_tolerance_accepted() -> None:
    assert parse_time("2026-11-22 14:40", NOW) == jst(2026, 11, 22, 14, 40)


def test_custom_tolerance() -> None:
    assert parse_time("今日15:05", NOW, future_tolerance=timedelta(hours=1)) == jst(
        2026, 11, 22, 15, 5
    )
    with pytest.raises(TimeParseError):
        parse_time("今日14:40", NOW, future_tolerance=timedelta(0))


def test_zero_tolerance_moves_time_only_input_to_yesterday() -> None:
    assert parse_time("14:40", NOW, future_tolerance=timedelta(0)) == jst(2026, 11, 21, 14, 40)
    assert parse_time("14:35", NOW, future_tolerance=timedelta(0)) == jst(2026, 11, 22, 14, 35)


def test_yesterday_rule_shows_in_preview() -> None:
    result = parse_time("15:00", NOW)
    assert result.date() == date(2026, 11, 21)
    assert format_preview(result) == "2026年11月21日(土) 15:00"


def test_tolerance_none_allows_planned_dates_and_moves_nothing() -> None:
    assert parse_time("明日10時", NOW, future_tolerance=None) == jst(2026, 11, 23, 10, 0)
    assert parse_time("15:00", NOW, future_tolerance=None) == jst(2026, 11, 22, 15, 0)
    assert parse_time("12/25", NOW, future_tolerance=None) == jst(2026, 12, 25, 0, 0)
    assert parse_time("2030-01-01 00:00", NOW, future_tolerance=None) == jst(2030, 1, 1, 0, 0)
    with pytest.raises(TimeParseError):
        parse_time("10000-01-01 00:00", NOW, future_tolerance=None)


def test_year_rollover_in_january() -> None:
    now = jst(2027, 1, 3, 8, 0)
    assert parse_time("12/31 23:00", now) == jst(2026, 12, 31, 23, 0)
    assert parse_time("1/2", now) == jst(2027, 1, 2, 0, 0)
    assert parse_time("9:00", now) == jst(2027, 1, 2, 9, 0)


def test_result_uses_the_timezone_of_now() -> None:
    now_utc = NOW.astimezone(timezone.utc)  # 05:35:20 UTC
    result = parse_time("2026-11-21T14:30:00+09:00", now_utc)
    assert result.tzinfo is timezone.utc
    assert (result.hour, result.minute) == (5, 30)
    assert parse_time("今", now_utc) == datetime(2026, 11, 22, 5, 35, tzinfo=timezone.utc)


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError) as info:
        parse_time("14:30", NOW.replace(tzinfo=None))
    assert not isinstance(info.value, TimeParseError)


# --------------------------------------------------------------------------
# nasty input never raises anything but TimeParseError, and fast
# --------------------------------------------------------------------------

NASTY = [
    "\x00",
    "14:30\x00",
    "\ud800",
    "14:30\ud800",
    "\udfff\ud800",
    "\u202e14:30",
    "\u200b14:30",
    "\ufeff14:30",
    "\u2028",
    "9" * 500,
    "9" * 200,
    "9" * 20 + ":" + "9" * 20,
    "99999999999999999999分前",
    "99999分前",
    "99999時間前",
    "99999日前",
    "9999-12-31T23:59:59-23:59",
    "9999-12-31T23:59:59+23:59",
    "1900-01-01T00:00:00+23:59",
    "1900-01-01T00:00:00-23:59",
    "2026-11-21T14:30:00+99:99",
    "令和99年12月31日",
    "昭和99年1月1日",
    "R99.99.99",
    "00/00",
    "0/0 0:0",
    "-1:30",
    "+14:30",
    "1e9",
    "inf",
    "nan",
    "Nov 99 9999",
    "Jan 1 0001",
    "Dec 31 9999 23:59 UTC",
    "Feb 30",
    "am pm",
    "pm 13:00",
    "%s%s%n",
    "{0}",
    "'; DROP TABLE incidents; --",
    "../../etc/passwd",
    "[",
    "]",
    "\\",
    "ﷺ" * 200,  # NFKC expands each character to 18
    "㍻" * 200,
    "１" * 200,
    "午後" * 100,
    "時" * 200,
    "1:" * 100,
    "1/" * 100,
    "１４：３０" * 40,
    "\t\n\r\x0b\x0c",
    "\x85",
    "🕐",
    "٣:٣٠",  # Arabic-Indic digits
    "𝟏𝟒:𝟑𝟎",  # mathematical digits (NFKC -> 14:30)
]


@pytest.mark.parametrize("text", NASTY, ids=[f"nasty{i}" for i in range(len(NASTY))])
def test_nasty_input_only_time_parse_error(text: str) -> None:
    for tolerance in (timedelta(minutes=5), None):
        try:
            result = parse_time(text, NOW, future_tolerance=tolerance)
        except TimeParseError as err:
            assert str(err)
        else:
            assert result.tzinfo is JST
            assert 1900 <= result.year <= 9999


def test_random_fuzz_only_time_parse_error() -> None:
    rng = random.Random(20261122)
    alphabet = list("0123456789:/-.T+Z 年月日時分秒半前午後正今朝昨夜元令和平成昭RHSamp()日月")
    alphabet += ["\x00", "\ud800", "\u202e", "\u3000", "１", "：", "／", "ﷺ"]
    accepted = 0
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        try:
            result = parse_time(text, NOW)
        except TimeParseError:
            continue
        accepted += 1
        assert result.tzinfo is JST
        assert result - NOW <= timedelta(minutes=5)
    assert accepted < 3000


def test_long_input_is_refused_fast() -> None:
    start = _time.perf_counter()
    for text in ("x" * 10_000, "9" * 1_000_000, "1:" * 100, "ﷺ" * 200, "午後" * 100):
        with pytest.raises(TimeParseError):
            parse_time(text, NOW)
    assert _time.perf_counter() - start < 1.0


# --------------------------------------------------------------------------
# 和暦
# --------------------------------------------------------------------------

WAREKI = [
    (date(2019, 4, 30), "平成31年4月30日"),
    (date(2019, 5, 1), "令和元年5月1日"),
    (date(2019, 12, 31), "令和元年12月31日"),
    (date(2020, 1, 1), "令和2年1月1日"),
    (date(2026, 11, 22), "令和8年11月22日"),
    (date(1989, 1, 7), "昭和64年1月7日"),
    (date(1989, 1, 8), "平成元年1月8日"),
    (date(1926, 12, 25), "昭和元年12月25日"),
    (date(1926, 12, 24), "1926年12月24日"),
    (date(1900, 1, 1), "1900年1月1日"),
    (datetime(2026, 11, 22, 23, 59, tzinfo=JST), "令和8年11月22日"),
]


@pytest.mark.parametrize(("d", "expected"), WAREKI, ids=[str(d) for d, _ in WAREKI])
def test_to_wareki(d: date, expected: str) -> None:
    assert to_wareki(d) == expected


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2026, 11, 22), "令和8年"),
        (date(2019, 5, 1), "令和元年"),
        (date(2019, 4, 30), "平成31年"),
        (date(1989, 1, 8), "平成元年"),
        (date(1989, 1, 7), "昭和64年"),
        (date(1900, 1, 1), "1900年"),
    ],
)
def test_wareki_year(d: date, expected: str) -> None:
    assert wareki_year(d) == expected


def test_wareki_rejects_non_dates() -> None:
    with pytest.raises(TypeError):
        to_wareki("2026-11-22")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("dt", "expected"),
    [
        (jst(2026, 11, 22, 14, 30), "令和8年11月22日 14時30分"),
        (jst(2019, 5, 1, 9, 5), "令和元年5月1日 9時5分"),
        (jst(2019, 4, 30, 0, 0), "平成31年4月30日 0時0分"),
    ],
)
def test_format_wareki_datetime(dt: datetime, expected: str) -> None:
    assert format_wareki_datetime(dt) == expected


def test_wareki_output_parses_back() -> None:
    for d in (jst(2026, 11, 22, 14, 30), jst(2019, 5, 1, 9, 5), jst(1989, 1, 8, 23, 59)):
        assert parse_time(format_wareki_datetime(d), NOW) == d


# --------------------------------------------------------------------------
# preview
# --------------------------------------------------------------------------

PREVIEW = [
    (jst(2026, 11, 22, 14, 30), "2026年11月22日(日) 14:30"),
    (jst(2026, 11, 23, 9, 5), "2026年11月23日(月) 09:05"),
    (jst(2026, 11, 24, 0, 0), "2026年11月24日(火) 00:00"),
    (jst(2026, 11, 25, 23, 59), "2026年11月25日(水) 23:59"),
    (jst(2026, 11, 26, 12, 0), "2026年11月26日(木) 12:00"),
    (jst(2026, 11, 27, 12, 0), "2026年11月27日(金) 12:00"),
    (jst(2026, 11, 28, 12, 0), "2026年11月28日(土) 12:00"),
    (jst(2026, 1, 2, 3, 4), "2026年1月2日(金) 03:04"),
    (jst(2026, 11, 22, 14, 30, 15), "2026年11月22日(日) 14:30:15"),
]


@pytest.mark.parametrize(("dt", "expected"), PREVIEW, ids=[e for _, e in PREVIEW])
def test_format_preview(dt: datetime, expected: str) -> None:
    assert format_preview(dt) == expected


@pytest.mark.parametrize("dt", [dt for dt, _ in PREVIEW if dt <= NOW])
def test_preview_parses_back(dt: datetime) -> None:
    assert parse_time(format_preview(dt), NOW) == dt


# --------------------------------------------------------------------------
# ISO 8601
# --------------------------------------------------------------------------


def test_to_iso() -> None:
    assert to_iso(jst(2026, 11, 22, 14, 30)) == "2026-11-22T14:30:00+09:00"
    assert to_iso(jst(2026, 11, 22, 14, 30, 5, 999999)) == "2026-11-22T14:30:05+09:00"
    utc = datetime(2026, 11, 22, 5, 30, tzinfo=timezone.utc)
    assert to_iso(utc) == "2026-11-22T05:30:00+00:00"


def test_to_iso_rejects_naive() -> None:
    with pytest.raises(ValueError):
        to_iso(datetime(2026, 11, 22, 14, 30))


@pytest.mark.parametrize(
    "dt",
    [
        jst(2026, 11, 22, 14, 30),
        jst(2019, 5, 1, 0, 0, 59),
        datetime(2026, 11, 22, 5, 30, tzinfo=timezone.utc),
        datetime(2026, 3, 8, 1, 59, tzinfo=ZoneInfo("America/New_York")),
    ],
)
def test_iso_round_trip(dt: datetime) -> None:
    text = to_iso(dt)
    back = from_iso(text)
    assert back == dt
    assert back.utcoffset() == dt.utcoffset()
    assert to_iso(back) == text


def test_from_iso() -> None:
    assert from_iso("2026-11-22T14:30:00+09:00") == jst(2026, 11, 22, 14, 30)
    assert from_iso("2026-11-22T05:30:00Z") == jst(2026, 11, 22, 14, 30)
    assert from_iso(" 2026-11-22T14:30:00+09:00 ").tzinfo is not None


@pytest.mark.parametrize("text", ["2026-11-22T14:30:00", "2026-11-22", "yesterday", ""])
def test_from_iso_refuses_naive_or_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        from_iso(text)


def test_parse_then_iso() -> None:
    assert to_iso(parse_time("昨日 14時半", NOW)) == "2026-11-21T14:30:00+09:00"


def test_module_does_not_import_textual() -> None:
    import csirt_tui.timeparse as mod

    source = open(mod.__file__, encoding="utf-8").read()
    assert "textual" not in source


def test_the_refusal_is_one_line_the_screens_draw_without_a_return_mark() -> None:
    """Under every time field and in every toast the desk drew 「存在しない日付です（2026年13月45日）。
    ⏎ 入力例: …」: the message had a line break, and the screens draw a message on one line
    (textsafe.one_line marks line breaks ⏎, as in user text)."""
    from csirt_tui.textsafe import one_line

    for text in ("2026-13-45 25:99", "昨日 25時", "朝礼の後"):
        with pytest.raises(TimeParseError) as caught:
            parse_time(text, NOW)
        shown = one_line(str(caught.value))
        assert "⏎" not in shown and "\n" not in str(caught.value), shown
        assert shown.startswith(caught.value.reason) and "。入力例: 14:30 / " in shown, shown


def test_a_day_is_read_with_day_words_and_refused_with_examples_of_days() -> None:
    """The summary's period (screen and `summary --from/--to`): 「今日」 was refused with 「「今日」には
    時刻も付けてください」 and every refusal gave examples of times (14:30 / さっき / 30分前)."""
    from datetime import date

    from csirt_tui.timeparse import DayParseError, parse_day

    now = datetime(2026, 12, 6, 7, 0, tzinfo=JST)
    assert parse_day("今日", now) == date(2026, 12, 6) and parse_day("昨日", now) == date(2026, 12, 5)
    assert parse_day("2026/4/1", now) == date(2026, 4, 1) and parse_day("R8.4.1", now) == date(2026, 4, 1)
    assert parse_day("2027/1/31", now) == date(2027, 1, 31)  # a period may end later than today
    for text in ("2026/13/1", "朝礼の後"):
        with pytest.raises(DayParseError) as caught:
            parse_day(text, now)
        message = str(caught.value)
        assert "入力例: 2026/4/1 / 4/1 / " in message and "さっき" not in message and "14:30" not in message, message

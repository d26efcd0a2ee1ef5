"""Parse the time an operator types while on the phone ("when was it found?").

The desk operator types free-form Japanese or numeric input; :func:`parse_time`
turns it into a timezone-aware :class:`~datetime.datetime` relative to a given
``now``, or raises :class:`TimeParseError` whose message (Japanese, for the
operator) says what went wrong and lists example inputs.

Normalisation
    The input is NFKC-normalised first, so full-width digits and punctuation
    (``１４：３０``, ``１１／２１``), the era ligatures ``㋿`` / ``㍻`` and full-width
    spaces all work.  Runs of whitespace collapse to one space.  Inputs longer
    than :data:`MAX_INPUT_LENGTH` characters, and inputs containing control,
    format (zero-width, bidi override), surrogate or unassigned characters are
    refused at once.

Accepted forms (``now`` = the reference time; results carry ``now.tzinfo``;
seconds are 0 unless typed; microseconds are always dropped)

* Now: ``今`` ``いま`` ``現在`` ``たった今`` ``ただいま`` ``now`` -> ``now``.
* A moment ago: ``さっき`` ``先ほど`` ``先程`` ``さきほど`` ``ついさっき`` ->
  ``now`` minus :data:`SAKKI_MINUTES` (10) minutes.
* Relative: ``N分前``, ``N時間前``, ``N日前`` (up to 5 digits), ``N時間半前``,
  ``N日半前``; ``ほど`` / ``くらい`` / ``ぐらい`` may precede ``前``.
* Time of day: ``14:30``, ``14:30:15``, ``14時``, ``14時30分``, ``14時半``,
  ``14時30分15秒``, ``午前9時``, ``午後2時半``, ``午後2:15``, ``正午``,
  ``2:30pm``, ``9pm``.  12-hour clock: ``午前12時`` = 0:00, ``午後12時`` = 12:00.
  A trailing ``頃`` / ``ごろ`` / ``くらい`` is ignored.  A time of day without a
  date means *today*, unless that is later than ``now + future_tolerance``, in
  which case it means the most recent past occurrence (*yesterday*).
* Date then optional time (space optional between them):

  - ``2026/11/21``, ``2026-11-21``, ``2026.11.21``
  - ``11/21`` (no year: the current year, or the previous year when that
    month/day has not come yet this year)
  - ``11月21日``, ``2026年11月21日``
  - ``令和8年11月21日``, ``令和元年5月1日``, ``平成31年4月30日``, ``昭和64年1月7日``
  - ``R8.11.21``, ``R8/11/21``, ``H31.4.30``, ``S64.1.7``, ``令和8.11.21``
  - an optional weekday in parentheses, checked against the date:
    ``2026年11月22日(日) 14:30`` (so :func:`format_preview` output parses back)

  A date typed without a time means 00:00 of that day.
* Relative day words, which always need a time: ``今日`` ``本日`` ``きょう``,
  ``昨日`` ``きのう``, ``一昨日`` ``おととい``, ``明日`` ``あした`` ``明後日`` (useful
  only with ``future_tolerance=None``), optionally followed by ``の``.
  ``今朝`` / ``けさ`` take a time 0:00-11:59 of today.  ``昨夜`` / ``昨晩`` /
  ``ゆうべ`` (and ``今夜`` / ``今晩`` for today) take an evening time 17:00-23:59;
  a bare hour 5-11 is read as p.m. (``昨夜11時`` = yesterday 23:00).
* ISO 8601: ``2026-11-21T14:30``, ``2026-11-21T14:30:00+09:00``,
  ``2026-11-21T05:30Z``; an explicit offset is converted to ``now.tzinfo``.
* Conservative fallback to :func:`dateutil.parser.parse` (not fuzzy) for ASCII
  input that contains an English month name, ``am``/``pm`` or ``UTC``/``GMT``
  (``Nov 21 2026 14:30``, ``2:30 pm``).  It must give a month together with a
  day, or a time only; the same today/yesterday and previous-year rules apply.

Refused: empty input, bare numbers (``1``, ``2026``), impossible dates or
times (``13/45``, ``11/31``, ``25:00``, ``24:00``), dates outside the era they
are written in (``令和元年4月1日``), years outside 1900-9999, anything later than
``now + future_tolerance`` (unless the tolerance is ``None``), and anything
else.  Messages never echo the raw input (it may contain markup).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from dateutil import parser as _dateutil_parser

__all__ = [
    "ACCEPTED_FORMS",
    "MAX_INPUT_LENGTH",
    "ACCEPTED_DAY_FORMS",
    "SAKKI_MINUTES",
    "TimeParseError",
    "DayParseError",
    "format_preview",
    "format_wareki_datetime",
    "from_iso",
    "parse_day",
    "parse_time",
    "to_iso",
    "to_wareki",
    "wareki_year",
]

#: Example inputs shown to the operator in every error message.
ACCEPTED_FORMS: tuple[str, ...] = (
    "14:30",
    "11/21 9:05",
    "2026-11-21 14:30",
    "今",
    "さっき",
    "今朝9時",
    "昨日 14時半",
    "午後2時",
    "令和8年11月21日 10時",
    "30分前",
)

#: Example inputs shown where a day is asked for (the summary's period).
ACCEPTED_DAY_FORMS: tuple[str, ...] = ("2026/4/1", "4/1", "2026-04-01", "令和8年4月1日", "R8.4.1", "今日", "昨日")

#: Longer inputs are refused before any other work is done.
MAX_INPUT_LENGTH = 200

#: "さっき" / "先ほど" is recorded as this many minutes before now.
SAKKI_MINUTES = 10

MIN_YEAR = 1900
MAX_YEAR = 9999

WEEKDAY_KANJI = "月火水木金土日"  # index = date.weekday()

_DEFAULT_TOLERANCE = timedelta(minutes=5)


class TimeParseError(ValueError):
    """The operator's input could not be accepted.

    ``str(err)`` is a short Japanese message for the operator, on one line: the
    reason, then the accepted forms (:data:`ACCEPTED_FORMS`). The reason alone is
    in :attr:`reason`. (Two lines were drawn 「…（2026年13月45日）。 ⏎ 入力例: …」 under
    every time field and in every toast: the screens show a message on one line
    with ⏎ for the line breaks of user text.)
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        end = "" if reason.endswith("。") else "。"
        super().__init__(f"{reason}{end}入力例: {' / '.join(ACCEPTED_FORMS)}")


class DayParseError(TimeParseError):
    """A day could not be read (:func:`parse_day`): the reason, then the forms of a day
    (:data:`ACCEPTED_DAY_FORMS`), not those of a time (「14:30 / さっき / 30分前」)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        end = "" if reason.endswith("。") else "。"
        ValueError.__init__(self, f"{reason}{end}入力例: {' / '.join(ACCEPTED_DAY_FORMS)}")


# --------------------------------------------------------------------------
# Japanese eras (和暦)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Era:
    name: str
    letter: str
    first: date
    last: date | None  # None: the current era

    def contains(self, d: date) -> bool:
        return d >= self.first and (self.last is None or d <= self.last)

    def span_text(self) -> str:
        first = f"{self.first.year}年{self.first.month}月{self.first.day}日"
        if self.last is None:
            return f"{first}〜"
        return f"{first}〜{self.last.year}年{self.last.month}月{self.last.day}日"


_ERAS: tuple[_Era, ...] = (  # newest first
    _Era("令和", "R", date(2019, 5, 1), None),
    _Era("平成", "H", date(1989, 1, 8), date(2019, 4, 30)),
    _Era("昭和", "S", date(1926, 12, 25), date(1989, 1, 7)),
)
_ERA_BY_KEY = {key: era for era in _ERAS for key in (era.name, era.letter)}


def _as_date(d: date | datetime) -> date:
    if isinstance(d, datetime):
        return d.date()
    if isinstance(d, date):
        return d
    raise TypeError(f"date or datetime expected, got {type(d).__name__}")


def _era_for(d: date) -> _Era | None:
    return next((era for era in _ERAS if era.contains(d)), None)


def wareki_year(d: date | datetime) -> str:
    """Return the Japanese-era year of ``d``: ``"令和8年"``, ``"令和元年"``.

    Dates before 昭和 (1926-12-25) give the Western year, e.g. ``"1900年"``.
    A datetime is taken at its own wall-clock date.
    """
    d = _as_date(d)
    era = _era_for(d)
    if era is None:
        return f"{d.year}年"
    n = d.year - era.first.year + 1
    return f"{era.name}{'元' if n == 1 else n}年"


def to_wareki(d: date | datetime) -> str:
    """Return ``d`` as a Japanese-era date: ``"令和8年11月22日"``, ``"令和元年5月1日"``.

    Supports 令和, 平成 (1989-01-08..2019-04-30) and 昭和 (1926-12-25..1989-01-07);
    earlier dates are written in the Western calendar (``"1900年1月1日"``).
    """
    d = _as_date(d)
    return f"{wareki_year(d)}{d.month}月{d.day}日"


def format_wareki_datetime(dt: datetime) -> str:
    """Return ``"令和8年11月22日 14時30分"`` (wall-clock time of ``dt``, no padding)."""
    return f"{to_wareki(dt)} {dt.hour}時{dt.minute}分"


def format_preview(dt: datetime) -> str:
    """Return the confirmation line shown under the input: ``"2026年11月22日(日) 14:30"``.

    Seconds are appended (``14:30:15``) only when they are not zero.
    """
    clock = f"{dt:%H:%M}" if dt.second == 0 else f"{dt:%H:%M:%S}"
    return f"{dt.year}年{dt.month}月{dt.day}日({WEEKDAY_KANJI[dt.weekday()]}) {clock}"


def to_iso(dt: datetime) -> str:
    """Return ``dt`` as ISO 8601 with offset, to the second: ``"2026-11-22T14:30:00+09:00"``.

    Raises ValueError for a naive datetime.
    """
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("to_iso() needs a timezone-aware datetime")
    return dt.isoformat(timespec="seconds")


def from_iso(s: str) -> datetime:
    """Inverse of :func:`to_iso`: parse an ISO 8601 string that carries an offset.

    Raises ValueError when the string is not ISO 8601 or has no offset.
    """
    dt = datetime.fromisoformat(s.strip())
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"ISO datetime without offset: {s!r}")
    return dt


# --------------------------------------------------------------------------
# Parsing: context and building blocks
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ctx:
    """What every handler needs to know about the moment of parsing."""

    now: datetime
    tolerance: timedelta | None

    @property
    def tz(self) -> tzinfo:
        return self.now.tzinfo  # type: ignore[return-value]  # checked aware

    @property
    def base(self) -> datetime:
        """``now`` without seconds: the reference for relative inputs."""
        return self.now.replace(second=0, microsecond=0)

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def rolls_back(self) -> bool:
        """Whether a year-less date / date-less time may move into the past.

        With ``future_tolerance=None`` (planned dates) nothing is moved.
        """
        return self.tolerance is not None

    def too_late(self, dt: datetime) -> bool:
        return self.tolerance is not None and dt - self.now > self.tolerance


@dataclass(frozen=True)
class _Day:
    day: date
    word: str | None = None  # the relative-day word typed, if any
    mode: str | None = None  # None, "morning" (今朝) or "evening" (昨夜)


@dataclass(frozen=True)
class _Clock:
    hour: int  # 0-23, meridiem already applied
    minute: int = 0
    second: int = 0
    meridiem: str | None = None  # "am", "pm" or None when not typed


def _make_date(year: int, month: int, day: int) -> date:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise TimeParseError(f"年は{MIN_YEAR}〜{MAX_YEAR}年の範囲で入力してください。")
    try:
        return date(year, month, day)
    except ValueError:
        raise TimeParseError(f"存在しない日付です（{year}年{month}月{day}日）。") from None


def _yearless_date(month: int, day: int, ctx: _Ctx) -> date:
    """Month/day without a year: this year, or last year if not reached yet."""
    try:
        date(2000, month, day)  # a leap year: is the month/day possible at all?
    except ValueError:
        raise TimeParseError(f"存在しない日付です（{month}月{day}日）。") from None
    year = ctx.today.year
    if ctx.rolls_back and (month, day) > (ctx.today.month, ctx.today.day):
        year -= 1
    return _make_date(year, month, day)


def _check_weekday(d: date, typed: str | None) -> date:
    if typed and WEEKDAY_KANJI[d.weekday()] != typed:
        actual = WEEKDAY_KANJI[d.weekday()]
        raise TimeParseError(
            f"曜日が日付と合いません（{d.year}年{d.month}月{d.day}日は{actual}曜日です）。"
        )
    return d


def _era_date(key: str, era_year: str, month: int, day: int) -> date:
    era = _ERA_BY_KEY[key.upper() if len(key) == 1 else key]
    n = 1 if era_year == "元" else int(era_year)
    if n < 1:
        raise TimeParseError(f"{era.name}0年はありません（1年目は「{era.name}元年」です）。")
    d = _make_date(era.first.year + n - 1, month, day)
    if not era.contains(d):
        label = f"{era.name}{'元' if n == 1 else n}年{month}月{day}日"
        raise TimeParseError(f"{label}は{era.name}の期間外です（{era.name}: {era.span_text()}）。")
    return d


def _clock(hour: int, minute: int, second: int, meridiem: str | None) -> _Clock:
    """Validate a typed time and apply 午前/午後 (12-hour clock when given)."""
    if meridiem is None:
        if not 0 <= hour <= 23:
            raise TimeParseError(f"時刻は0時〜23時で入力してください（{hour}時）。")
    else:
        if not 0 <= hour <= 12:
            raise TimeParseError(f"午前・午後を付けるときは0〜12時で入力してください（{hour}時）。")
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if not 0 <= minute <= 59:
        raise TimeParseError(f"分は0〜59で入力してください（{minute}分）。")
    if not 0 <= second <= 59:
        raise TimeParseError(f"秒は0〜59で入力してください（{second}秒）。")
    return _Clock(hour, minute, second, meridiem)


def _meridiem(*typed: str | None) -> str | None:
    given = [t for t in typed if t]
    if len(given) > 1:
        raise TimeParseError("午前・午後（am・pm）は一度だけ入力してください。")
    if not given:
        return None
    word = given[0].lower().replace(".", "")
    return "am" if word in ("午前", "am") else "pm"


def _combine(day: _Day | None, clock: _Clock | None, ctx: _Ctx) -> datetime:
    """Put a date part and a time part together, applying the day-word rules."""
    if day is None:
        assert clock is not None
        dt = datetime.combine(ctx.today, _time(clock), tzinfo=ctx.tz)
        if ctx.rolls_back and ctx.too_late(dt):
            dt = datetime.combine(ctx.today - timedelta(days=1), _time(clock), tzinfo=ctx.tz)
        return dt
    if clock is None:
        if day.word is not None:
            raise TimeParseError(f"「{day.word}」には時刻も付けてください（例: 昨日 14時半）。")
        return datetime.combine(day.day, time(0, 0), tzinfo=ctx.tz)
    if day.mode == "morning" and clock.hour >= 12:
        raise TimeParseError(f"「{day.word}」は0時〜11時台の時刻で入力してください。")
    if day.mode == "evening":
        if clock.meridiem is None and 5 <= clock.hour <= 11:
            clock = _Clock(clock.hour + 12, clock.minute, clock.second, "pm")
        if not 17 <= clock.hour <= 23:
            raise TimeParseError(
                f"「{day.word}」は17時〜23時台の時刻で入力してください"
                "（0時を過ぎていたら「今日 1時」のように入力してください）。"
            )
    return datetime.combine(day.day, _time(clock), tzinfo=ctx.tz)


def _time(clock: _Clock) -> time:
    return time(clock.hour, clock.minute, clock.second)


# --------------------------------------------------------------------------
# Parsing: pattern tables
# --------------------------------------------------------------------------

_FLAGS = re.ASCII | re.IGNORECASE  # \d, \s and case-folding stay ASCII-only
_S = r"\s*"
_N2 = r"[0-9]{1,2}"
_APPROX = r"(?:頃|ごろ|ころ|くらい|ぐらい)?"
_WEEKDAY = rf"(?:{_S}\((?P<wd>[{WEEKDAY_KANJI}])(?:曜日?)?\))?"
_MER_PREFIX = rf"(?:(?P<mer>午前|午後|am|pm){_S})?"
_AMPM = r"(?P<mer2>a\.?m\.?|p\.?m\.?)"
_MER_SUFFIX = rf"(?:{_S}{_AMPM})?"

_Handler = Callable[[re.Match[str], _Ctx], datetime]
_DayHandler = Callable[[re.Match[str], _Ctx], _Day]
_ClockHandler = Callable[[re.Match[str]], _Clock]


# ---- whole-input forms ----------------------------------------------------


def _h_now(m: re.Match[str], ctx: _Ctx) -> datetime:
    return ctx.base


def _h_moment_ago(m: re.Match[str], ctx: _Ctx) -> datetime:
    return ctx.base - timedelta(minutes=SAKKI_MINUTES)


_UNIT_MINUTES = {"分": 1, "時間": 60, "日": 24 * 60}


def _h_ago(m: re.Match[str], ctx: _Ctx) -> datetime:
    unit = m["unit"]
    if m["half"] and unit == "分":
        raise TimeParseError("「N分半前」は使えません（例: 30分前）。")
    minutes = int(m["n"]) * _UNIT_MINUTES[unit] + (_UNIT_MINUTES[unit] // 2 if m["half"] else 0)
    if unit == "日":  # calendar days: same wall-clock time
        return ctx.base - timedelta(minutes=minutes)
    # minutes/hours: elapsed time, also correct across a DST change
    elapsed = ctx.base.astimezone(timezone.utc) - timedelta(minutes=minutes)
    return elapsed.astimezone(ctx.tz)


def _h_iso(m: re.Match[str], ctx: _Ctx) -> datetime:
    d = _make_date(int(m["y"]), int(m["mo"]), int(m["d"]))
    c = _clock(int(m["h"]), int(m["mi"]), int(m["s"] or 0), None)
    if m["off"] is None:
        return datetime.combine(d, _time(c), tzinfo=ctx.tz)
    if m["off"].upper() == "Z":
        offset = timezone.utc
    else:
        sign = -1 if m["off"][0] == "-" else 1
        hh, mm = int(m["offh"]), int(m["offm"])
        if hh > 23 or mm > 59:
            raise TimeParseError("時差（+09:00 など）の指定が正しくありません。")
        offset = timezone(sign * timedelta(hours=hh, minutes=mm))
    return datetime.combine(d, _time(c), tzinfo=offset).astimezone(ctx.tz)


_WHOLE_FORMS: tuple[tuple[re.Pattern[str], _Handler], ...] = (
    (re.compile(r"今|いま|現在|たった今|ただいま|now", _FLAGS), _h_now),
    (re.compile(r"(?:つい)?(?:さっき|先ほど|先程|さきほど)", _FLAGS), _h_moment_ago),
    (
        re.compile(
            rf"(?P<n>[0-9]{{1,5}}){_S}(?P<unit>分|時間|日)(?P<half>半)?{_S}"
            rf"(?:ほど|くらい|ぐらい)?{_S}前",
            _FLAGS,
        ),
        _h_ago,
    ),
    (
        re.compile(
            r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})[T ]"
            r"(?P<h>[0-9]{2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?:\.[0-9]{1,6})?)?"
            r"(?P<off>Z|[+-](?P<offh>[0-9]{2}):?(?P<offm>[0-9]{2}))?",
            _FLAGS,
        ),
        _h_iso,
    ),
)


# ---- date parts (matched at the start of the input) ------------------------

_DAY_WORDS: dict[str, tuple[int, str | None]] = {
    "今日": (0, None), "本日": (0, None), "きょう": (0, None),
    "今朝": (0, "morning"), "けさ": (0, "morning"),
    "今夜": (0, "evening"), "今晩": (0, "evening"),
    "昨日": (-1, None), "きのう": (-1, None), "さくじつ": (-1, None),
    "昨夜": (-1, "evening"), "昨晩": (-1, "evening"), "ゆうべ": (-1, "evening"),
    "一昨日": (-2, None), "おととい": (-2, None), "おとつい": (-2, None),
    "明日": (1, None), "あした": (1, None),
    "明後日": (2, None), "あさって": (2, None),
}  # fmt: skip
_DAY_WORD_RE = "|".join(sorted(_DAY_WORDS, key=len, reverse=True))


def _d_word(m: re.Match[str], ctx: _Ctx) -> _Day:
    offset, mode = _DAY_WORDS[m["word"]]
    return _Day(ctx.today + timedelta(days=offset), word=m["word"], mode=mode)


def _d_full(m: re.Match[str], ctx: _Ctx) -> _Day:
    d = _make_date(int(m["y"]), int(m["mo"]), int(m["d"]))
    return _Day(_check_weekday(d, m["wd"]))


def _d_month_day(m: re.Match[str], ctx: _Ctx) -> _Day:
    if m.groupdict().get("y"):
        return _d_full(m, ctx)
    d = _yearless_date(int(m["mo"]), int(m["d"]), ctx)
    return _Day(_check_weekday(d, m["wd"]))


def _d_era(m: re.Match[str], ctx: _Ctx) -> _Day:
    d = _era_date(m["era"], m["ey"], int(m["mo"]), int(m["d"]))
    return _Day(_check_weekday(d, m["wd"]))


_DATE_FORMS: tuple[tuple[re.Pattern[str], _DayHandler], ...] = (
    (re.compile(rf"(?P<word>{_DAY_WORD_RE})(?:{_S}の)?", _FLAGS), _d_word),
    # 2026/11/21, 2026-11-21, 2026.11.21 (one separator throughout)
    (
        re.compile(
            rf"(?P<y>[0-9]{{4}}){_S}(?P<sep>[/.-]){_S}(?P<mo>{_N2}){_S}(?P=sep){_S}"
            rf"(?P<d>{_N2})(?![0-9]){_WEEKDAY}",
            _FLAGS,
        ),
        _d_full,
    ),
    # 11/21
    (
        re.compile(
            rf"(?P<mo>{_N2}){_S}/{_S}(?P<d>{_N2})(?![0-9]){_WEEKDAY}", _FLAGS
        ),
        _d_month_day,
    ),
    # 11月21日, 2026年11月21日
    (
        re.compile(
            rf"(?:(?P<y>[0-9]{{4}}){_S}年{_S})?(?P<mo>{_N2}){_S}月{_S}(?P<d>{_N2}){_S}日"
            rf"{_WEEKDAY}",
            _FLAGS,
        ),
        _d_month_day,
    ),
    # 令和8年11月21日, 令和元年5月1日
    (
        re.compile(
            rf"(?P<era>令和|平成|昭和){_S}(?P<ey>元|{_N2}){_S}年{_S}(?P<mo>{_N2}){_S}月"
            rf"{_S}(?P<d>{_N2}){_S}日{_WEEKDAY}",
            _FLAGS,
        ),
        _d_era,
    ),
    # R8.11.21, R8/11/21, 令和8.11.21
    (
        re.compile(
            rf"(?P<era>令和|平成|昭和|[RHS]){_S}(?P<ey>元|{_N2}){_S}(?P<sep>[/.-]){_S}"
            rf"(?P<mo>{_N2}){_S}(?P=sep){_S}(?P<d>{_N2})(?![0-9]){_WEEKDAY}",
            _FLAGS,
        ),
        _d_era,
    ),
)


# ---- time parts (the whole rest of the input) ------------------------------


def _c_colon(m: re.Match[str]) -> _Clock:
    mer = _meridiem(m["mer"], m["mer2"])
    return _clock(int(m["h"]), int(m["mi"]), int(m["s"] or 0), mer)


def _c_kanji(m: re.Match[str]) -> _Clock:
    minute = 30 if m["half"] else int(m["mi"] or 0)
    return _clock(int(m["h"]), minute, int(m["s"] or 0), _meridiem(m["mer"]))


def _c_hour_ampm(m: re.Match[str]) -> _Clock:
    return _clock(int(m["h"]), 0, 0, _meridiem(m["mer2"]))


def _c_noon(m: re.Match[str]) -> _Clock:
    return _Clock(12, 0, 0, "pm")


_TIME_FORMS: tuple[tuple[re.Pattern[str], _ClockHandler], ...] = (
    # 14:30, 14:30:15, 午後2:15, 2:30pm
    (
        re.compile(
            rf"{_MER_PREFIX}(?P<h>{_N2}){_S}:{_S}(?P<mi>[0-9]{{2}})"
            rf"(?:{_S}:{_S}(?P<s>[0-9]{{2}}))?{_MER_SUFFIX}{_S}{_APPROX}",
            _FLAGS,
        ),
        _c_colon,
    ),
    # 14時, 14時30分, 14時半, 午後2時15分, 14時30分15秒
    (
        re.compile(
            rf"{_MER_PREFIX}(?P<h>{_N2}){_S}時"
            rf"(?:{_S}(?:(?P<half>半)|(?P<mi>{_N2}){_S}分(?:{_S}(?P<s>{_N2}){_S}秒)?))?"
            rf"{_S}{_APPROX}",
            _FLAGS,
        ),
        _c_kanji,
    ),
    # 9pm
    (re.compile(rf"(?P<h>{_N2}){_S}{_AMPM}{_S}{_APPROX}", _FLAGS), _c_hour_ampm),
    # 正午
    (re.compile(rf"正午{_S}{_APPROX}", _FLAGS), _c_noon),
)


def _match_clock(text: str) -> _Clock | None:
    for pattern, handler in _TIME_FORMS:
        m = pattern.fullmatch(text)
        if m:
            return handler(m)
    return None


def _parse_date_time(s: str, ctx: _Ctx) -> datetime | None:
    """Try "[date part] [time part]" with the two tables above."""
    clock = _match_clock(s)
    if clock is not None:
        return _combine(None, clock, ctx)
    for pattern, handler in _DATE_FORMS:
        m = pattern.match(s)
        if not m:
            continue
        rest = s[m.end():].strip()
        clock = _match_clock(rest) if rest else None
        if rest and clock is None:
            continue
        return _combine(handler(m, ctx), clock, ctx)
    return None


# ---- conservative dateutil fallback ----------------------------------------

_FALLBACK_CHARS = re.compile(r"[A-Za-z0-9 :/.,+-]+")
_FALLBACK_WORDS = frozenset(
    """jan feb mar apr may jun jul aug sep sept oct nov dec january february march
    april june july august september october november december am pm utc gmt""".split()
)


def _fallback(s: str, ctx: _Ctx) -> datetime | None:
    """Let dateutil read English forms such as ``Nov 21 2026 14:30`` or ``2:30 pm``.

    Only ASCII input made of digits, separators and known words
    (:data:`_FALLBACK_WORDS`, at least one) is tried; purely numeric input is
    left to the tables above, so ``1`` or ``2026`` never get here.  Which
    fields were actually typed is found by parsing with two defaults that
    differ in every field; a month needs a day, a year needs a month/day.
    """
    if not _FALLBACK_CHARS.fullmatch(s) or not re.search("[0-9]", s):
        return None
    words = re.findall("[A-Za-z]+", s)
    if not words or any(w.lower() not in _FALLBACK_WORDS for w in words):
        return None
    today = datetime.combine(ctx.today, time(0, 0))
    other = datetime(
        today.year - 1 if today.year > MIN_YEAR else today.year + 1,
        2 if today.month == 1 else 1,
        2 if today.day == 1 else 1,
    )
    try:
        first = _dateutil_parser.parse(s, default=today, fuzzy=False)
        second = _dateutil_parser.parse(s, default=other, fuzzy=False)
    except (ValueError, OverflowError):
        return None
    has_year, has_month, has_day = (
        first.year == second.year, first.month == second.month, first.day == second.day
    )
    if first.tzinfo is not None:
        # an explicit zone ("UTC"): "today" would be ambiguous, so a full date is required
        if not (has_year and has_month and has_day):
            raise TimeParseError("タイムゾーンを付けるときは年月日も入力してください。")
        _make_date(first.year, first.month, first.day)
        return first.astimezone(ctx.tz)
    clock = _Clock(first.hour, first.minute, first.second)
    if not (has_month or has_day or has_year):
        return _combine(None, clock, ctx)
    if not (has_month and has_day):
        raise TimeParseError("月と日をそろえて入力してください（例: 11/21 9:05）。")
    d = (
        _make_date(first.year, first.month, first.day)
        if has_year
        else _yearless_date(first.month, first.day, ctx)
    )
    return datetime.combine(d, _time(clock), tzinfo=ctx.tz)


# --------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------


def _normalise(text: str) -> str:
    if len(text) > MAX_INPUT_LENGTH:
        raise TimeParseError(f"入力が長すぎます（{MAX_INPUT_LENGTH}文字まで）。")
    s = " ".join(unicodedata.normalize("NFKC", text).split())
    if not s:
        raise TimeParseError("日時を入力してください。")
    if len(s) > MAX_INPUT_LENGTH:
        raise TimeParseError(f"入力が長すぎます（{MAX_INPUT_LENGTH}文字まで）。")
    if any(unicodedata.category(ch).startswith("C") for ch in s):
        raise TimeParseError("使用できない文字（制御文字・見えない文字など）が含まれています。")
    return s


def _parse(s: str, ctx: _Ctx) -> datetime:
    for pattern, handler in _WHOLE_FORMS:
        m = pattern.fullmatch(s)
        if m:
            return handler(m, ctx)
    result = _parse_date_time(s, ctx) or _fallback(s, ctx)
    if result is None:
        raise TimeParseError("日時として読み取れませんでした。")
    return result


def parse_time(
    text: str,
    now: datetime,
    *,
    future_tolerance: timedelta | None = _DEFAULT_TOLERANCE,
) -> datetime:
    """Parse what the operator typed into a timezone-aware datetime.

    ``now`` must be timezone-aware; the result is in ``now.tzinfo``, with
    seconds 0 unless typed and microseconds always 0.  See the module
    docstring for every accepted form; in short:

    * ``今`` / ``いま`` / ``現在`` / ``now`` -> ``now`` (seconds dropped).
    * ``さっき`` / ``先ほど`` / ``さきほど`` -> ``now`` minus 10 minutes
      (:data:`SAKKI_MINUTES`).
    * ``N分前`` / ``N時間前`` / ``N日前`` -> ``now`` minus that.
    * A time without a date (``14:30``, ``午後2時``) is today, or yesterday if
      today's would be later than ``now + future_tolerance``.
    * A month/day without a year that has not come yet this year is last
      year's (a date of today with a future time is *not* moved; it is refused).
    * A date without a time (``11/21``, ``令和元年5月1日``) means 00:00 that day;
      the preview shows it, so the operator can add the time.

    ``future_tolerance``: a result later than ``now + future_tolerance``
    raises TimeParseError (``未来の日時は指定できません…``).  ``None`` turns the
    check off for planned dates (e.g. the end of a monitoring period); then
    nothing is moved into the past either: ``15:00`` is today's 15:00 and
    ``12/25`` this year's.

    Raises TimeParseError (a ValueError) for any input that is not accepted,
    and only that for any ``str``.  A naive ``now`` is a programming error
    and raises a plain ValueError.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("parse_time() needs a timezone-aware `now`")
    ctx = _Ctx(now, future_tolerance)
    s = _normalise(text)
    try:
        result = _parse(s, ctx).replace(microsecond=0)
    except TimeParseError:
        raise
    except (ValueError, OverflowError) as exc:  # date arithmetic at the edges of datetime
        raise TimeParseError("日時が扱える範囲を超えています。") from exc
    if not MIN_YEAR <= result.year <= MAX_YEAR:
        raise TimeParseError(f"年は{MIN_YEAR}〜{MAX_YEAR}年の範囲で入力してください。")
    if ctx.too_late(result):
        raise TimeParseError(f"未来の日時は指定できません（{format_preview(result)}）。")
    return result


def parse_day(text: str, now: datetime):
    """The day the operator typed (a period's first or last day): any form of :func:`parse_time`,
    no limit in the future, and a day word alone (「今日」「昨日」「一昨日」) is that day (parse_time
    asks it for a time: 「「今日」には時刻も付けてください」 was said under the summary's period).
    Raises :class:`DayParseError`, whose message gives examples of days."""
    try:
        return parse_time(text, now, future_tolerance=None).date()
    except TimeParseError as err:
        try:
            return parse_time(f"{text.strip()} 0時", now, future_tolerance=None).date()
        except TimeParseError:
            raise DayParseError(err.reason) from None

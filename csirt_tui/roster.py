"""The contact roster (連絡先名簿): people who fill the profile's roles and the
outside bodies, who to call now, CSV in and out, the review date, and the
calls made from an incident.

Sources: むつ 別表第3 (CSIRT roles), 2条(1)エ (CISO, 総務省, prefecture, NISC,
police), 水戸 2 / 6-3, 大崎 3条 (weekday and night/holiday contacts, kept up to
date), つくば 5(1)①③ (keep the list current; know what each vendor's contract
lets you ask).

Storage: ``roster.json`` in the store (a TinyDB file) with the tables

- ``people``: one doc per person, every field of :data:`PERSON_FIELDS`; a
  removed person stays, marked ``removed: true`` (+ ``removed_at``/``removed_by``);
- ``audit``: {at, operator, action: add|update|remove, person: doc_id, before, after};
- ``meta``: doc 1 = {last_reviewed (ISO), reviewed_by, reviews: [{at, operator}]}
  — the roster's review date (:func:`mark_reviewed`);
- ``notices``: the reports of contact changes to the other bodies (大崎 3条(2),
  :func:`record_change_notice`).

Every change is validated first and then written with its audit row in one
atomic write under the store lock: a person is never saved half-valid.

CSV (:func:`export_csv` / :func:`import_csv`): UTF-8 with BOM and CRLF so that
Excel on a Japanese Windows PC opens it; the header is the Japanese labels of
:data:`FIELD_LABELS`; yes/no columns are written ``○`` (yes) or an empty cell
(no), the way a Japanese paper roster marks them. Import also accepts 〇 ◯ はい
true 1 / × いいえ false 0, headers by label or field id, with or without BOM,
and a file saved by Excel as Shift_JIS (cp932).

This module does not import textual.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import DomainError

PERSON_FIELDS: tuple[str, ...] = (
    "name", "kana", "role", "section", "extension", "phone", "mobile", "mail",
    "weekday", "night", "holiday", "absent", "deputy", "contract_scope", "contract_ref", "note",
)

FIELD_LABELS: dict[str, str] = {
    "name": "氏名",
    "kana": "よみがな",
    "role": "役割",
    "section": "所属・役職",
    "extension": "内線",
    "phone": "外線",
    "mobile": "携帯",
    "mail": "メール",
    "weekday": "平日",
    "night": "夜間",
    "holiday": "休日",
    "absent": "不在",
    "deputy": "代理",
    "contract_scope": "契約範囲",
    "contract_ref": "契約根拠",
    "note": "備考",
}

BOOL_FIELDS: tuple[str, ...] = ("weekday", "night", "holiday", "absent")
PHONE_FIELDS: tuple[str, ...] = ("extension", "phone", "mobile")
TEXT_FIELDS: tuple[str, ...] = tuple(k for k in PERSON_FIELDS if k not in BOOL_FIELDS)
# Keys kept on a stored doc besides the person's fields.
INTERNAL_KEYS: tuple[str, ...] = ("doc_id", "removed", "removed_at", "removed_by")

DEFAULT_REVIEW_MONTHS = 3
SETTING_REVIEW_MONTHS = "roster_review_months"  # in store.json meta

CSV_TRUE = "○"
CSV_FALSE = ""
_TRUE_WORDS = {"○", "〇", "◯", "●", "はい", "有", "あり", "可", "true", "yes", "y", "1", "t"}
_FALSE_WORDS = {"", "×", "✕", "いいえ", "無", "なし", "不可", "false", "no", "n", "0", "f", "-", "ー"}

# Hyphen look-alikes NFKC leaves alone (typed by IMEs or pasted from Word/PDF).
_HYPHENS = dict.fromkeys(map(ord, "‐‑‒–—―−ーｰ－"), "-")

_EXTENSION_RE = re.compile(r"^\d{3,5}$")
_LANDLINE_RE = re.compile(r"^0\d{1,4}-\d{1,4}-\d{3,4}$")
_MOBILE_RE = re.compile(r"^0[789]0-\d{4}-\d{4}$")
_MAIL_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


class RosterError(DomainError):
    """A roster change was refused; ``problems`` = {field: Japanese problem}
    (field is a key of :data:`PERSON_FIELDS`, or another key such as "doc_id",
    "file", "means"). Nothing was written."""

    prefix = "名簿に保存できません"

    def __init__(self, problems: dict[str, str] | str) -> None:
        self.problems = {"_": problems} if isinstance(problems, str) else dict(problems)
        super().__init__(f"{self.prefix}: " + " / ".join(self.problems.values()))


class CallLogError(RosterError):
    """:func:`log_call` refused (``problems`` = {argument: problem})."""

    prefix = "連絡を記録できません"


# ---------------------------------------------------------------------------
# Normalising and validating


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def normalise_phone(value: Any) -> Any:
    """NFKC (full-width digits → ASCII), hyphen look-alikes → "-", blanks removed."""
    if not isinstance(value, str):
        return value
    return re.sub(r"\s+", "", _nfkc(value).translate(_HYPHENS))


def normalise_person(person: dict[str, Any]) -> dict[str, Any]:
    """A person dict with every field of :data:`PERSON_FIELDS` (missing text → "",
    missing yes/no → False), NFKC and hyphens normalised on the phone fields only
    (内線・外線・携帯), the mail address trimmed; other text kept as typed.
    ``doc_id`` and the removed marks are dropped; unknown keys are kept (so that
    :func:`validate_person` can name them)."""
    out: dict[str, Any] = {}
    for key in PERSON_FIELDS:
        value = person.get(key)
        if value is None:
            value = False if key in BOOL_FIELDS else ""
        if key in PHONE_FIELDS:
            value = normalise_phone(value)
        elif key == "mail" and isinstance(value, str):
            value = value.strip()
        out[key] = value
    for key, value in person.items():
        if key not in out and key not in INTERNAL_KEYS:
            out[key] = value
    return out


def _digits(value: str) -> int:
    return sum(ch.isdigit() for ch in value)


def validate_person(profile, person: dict[str, Any]) -> dict[str, str]:
    """{field: problem in Japanese} — empty when the person can be saved.
    Checks the (normalised) values: 氏名 required; 役割 a role or outside-body id
    of the profile; 内線 3–5 digits; 外線 a 10-digit number with hyphens
    (0175-22-1111, 03-1234-5678); 携帯 090/080/070-xxxx-xxxx; メール an
    address; yes/no fields booleans; text fields strings."""
    p = normalise_person(person)
    problems: dict[str, str] = {}
    for key in p:
        if key not in PERSON_FIELDS:
            problems[key] = f"{key}: 名簿にない項目です"
    for key in TEXT_FIELDS:
        if not isinstance(p[key], str):
            problems[key] = f"{FIELD_LABELS[key]}: 文字で入力してください（{type(p[key]).__name__} は使えません）"
    for key in BOOL_FIELDS:
        if not isinstance(p[key], bool):
            problems[key] = f"{FIELD_LABELS[key]}: はい／いいえ (true/false) で指定してください（{p[key]!r} は使えません）"
    if "name" not in problems and not p["name"].strip():
        problems["name"] = "氏名: 入力してください"
    if "role" not in problems:
        ids = [r["id"] for r in (*profile.roles, *profile.outside_bodies)]
        if not p["role"].strip():
            problems["role"] = "役割: 選んでください"
        elif p["role"] not in ids:
            problems["role"] = f"役割: {p['role']!r} はこのプロファイルの役割・外部の関係者にありません"
    ext = p["extension"]
    if "extension" not in problems and ext and not _EXTENSION_RE.match(ext):
        problems["extension"] = "内線: 3〜5桁の数字で入力してください（例: 2141）"
    phone = p["phone"]
    if "phone" not in problems and phone and not (_LANDLINE_RE.match(phone) and _digits(phone) == 10):
        hint = "（携帯の番号は「携帯」へ）" if _MOBILE_RE.match(phone) else ""
        problems["phone"] = f"外線: 0175-22-1111 の形で入力してください（市外局番から10桁、ハイフン区切り）{hint}"
    mobile = p["mobile"]
    if "mobile" not in problems and mobile and not _MOBILE_RE.match(mobile):
        problems["mobile"] = "携帯: 090-1234-5678 の形で入力してください（090/080/070 から11桁）"
    mail = p["mail"]
    if "mail" not in problems and mail and not (_MAIL_RE.match(mail) and ".." not in mail
                                                and not mail.startswith(".") and ".@" not in mail):
        problems["mail"] = "メール: name@example.lg.jp の形で、半角で入力してください"
    return problems


def _check(profile, person: dict[str, Any]) -> dict[str, Any]:
    problems = validate_person(profile, person)
    if problems:
        raise RosterError(problems)
    return normalise_person(person)


# ---------------------------------------------------------------------------
# Store-backed operations


def _now_iso(store) -> str:
    return store.now().isoformat(timespec="seconds")


def _audit(store, data: dict, action: str, doc_id: int, before: dict | None, after: dict | None,
           operator: str) -> None:
    audit = data.setdefault("audit", {})
    key = max((int(k) for k in audit), default=0) + 1
    audit[str(key)] = {"at": _now_iso(store), "operator": operator, "action": action, "person": doc_id,
                       "before": before, "after": after}


def _operator(operator: Any) -> str:
    if not isinstance(operator, str) or not operator.strip():
        raise RosterError({"operator": "操作者を指定してください"})
    return operator


def add_person(store, person: dict[str, Any], *, operator: str) -> int:
    """Validate and add a person (audit "add"); returns the new doc_id."""
    _operator(operator)
    doc = _check(store.profile, person)

    def change(data):
        people = data.setdefault("people", {})
        doc_id = max((int(k) for k in people), default=0) + 1
        people[str(doc_id)] = doc
        _audit(store, data, "add", doc_id, None, doc, operator)
        return doc_id

    return store.write_roster(change)


def _stored(data: dict, doc_id: Any) -> dict[str, Any]:
    try:
        doc = (data.get("people") or {})[str(int(doc_id))]
    except (KeyError, TypeError, ValueError):
        raise RosterError({"doc_id": f"名簿に番号 {doc_id!r} の人はいません"}) from None
    if doc.get("removed"):
        raise RosterError({"doc_id": f"{doc.get('name', doc_id)} は名簿から削除されています"})
    return doc


def update_person(store, doc_id: int, changes: dict[str, Any], *, operator: str) -> dict[str, Any]:
    """Apply ``changes`` (some fields) to a person; the whole result is validated
    before anything is written (a refused update leaves the store unchanged).
    Audit "update" with the before/after of the fields that changed. Returns the
    person as saved."""
    _operator(operator)
    if not isinstance(changes, dict):
        raise RosterError({"doc_id": "変更は {項目: 値} で指定してください"})
    profile = store.profile

    def change(data):
        old = _stored(data, doc_id)
        merged = {**normalise_person(old), **{k: v for k, v in changes.items() if k not in INTERNAL_KEYS}}
        new = _check(profile, merged)
        before = {k: old.get(k) for k in new if old.get(k) != new[k]}
        after = {k: new[k] for k in before}
        if not after:
            return new
        data["people"][str(int(doc_id))] = new
        _audit(store, data, "update", int(doc_id), before, after, operator)
        return new

    return dict(store.write_roster(change), doc_id=int(doc_id))


def remove_person(store, doc_id: int, *, operator: str) -> None:
    """Take a person off the roster: the doc stays, marked removed (with when
    and by whom), so the audit trail keeps pointing at it (audit "remove")."""
    _operator(operator)

    def change(data):
        old = _stored(data, doc_id)
        new = {**old, "removed": True, "removed_at": _now_iso(store), "removed_by": operator}
        data["people"][str(int(doc_id))] = new
        _audit(store, data, "remove", int(doc_id), old, None, operator)

    store.write_roster(change)


def list_people(store, include_removed: bool = False) -> list[dict[str, Any]]:
    """People in doc_id order, each with every field (:func:`normalise_person`),
    ``doc_id`` and, when removed, ``removed``/``removed_at``/``removed_by``."""
    out = []
    for doc in store.list_people(include_removed=include_removed):
        person = normalise_person(doc)
        person["doc_id"] = doc["doc_id"]
        for key in ("removed", "removed_at", "removed_by"):
            if key in doc:
                person[key] = doc[key]
        out.append(person)
    return out


def audit_log(store, doc_id: int | None = None) -> list[dict[str, Any]]:
    """Audit rows (oldest first), each {at, operator, action, person, before, after}
    plus ``seq``; only those of one person when ``doc_id`` is given."""
    audit = store.read_roster().get("audit", {})
    rows = [dict(audit[k], seq=int(k)) for k in sorted(audit, key=int)]
    if doc_id is not None:
        rows = [r for r in rows if r.get("person") == int(doc_id)]
    return rows


# ---------------------------------------------------------------------------
# Search


def _fold(text: Any) -> str:
    """NFKC, case-folded, katakana → hiragana: the form search compares."""
    if not isinstance(text, str):
        return ""
    text = _nfkc(text).casefold()
    return "".join(chr(ord(ch) - 0x60) if "ァ" <= ch <= "ヶ" else ch for ch in text)


def search(people: list[dict[str, Any]], query: str, profile=None) -> list[dict[str, Any]]:
    """People matching every word of ``query`` in their name, kana, role (id, and
    label when ``profile`` is given) or section. NFKC and case-insensitive;
    katakana matches hiragana; blanks inside a name or reading are ignored
    ("みほんはなこ" finds "みほん はなこ"). An empty query returns everyone."""
    words = _fold(query or "").split()
    labels = {}
    if profile is not None:
        labels = {r["id"]: r["label"] for r in (*profile.roles, *profile.outside_bodies)}
    found = []
    for p in people:
        parts = [p.get("name"), p.get("kana"), p.get("role"), labels.get(p.get("role")), p.get("section")]
        hay = "\n".join(_fold(x) for x in parts if x)
        hay += "\n" + re.sub(r"[ \t]+", "", hay)
        if all(w in hay for w in words):
            found.append(p)
    return found


# ---------------------------------------------------------------------------
# Who to call now


def _local(profile, now: datetime) -> datetime:
    return now if now.tzinfo is None else now.astimezone(profile.timezone)


def time_slot(profile, now: datetime) -> tuple[str, str]:
    """(field, Japanese reason) for ``now``: ("weekday", 平日の執務時間) during
    the PoC's hours, ("holiday", 休日（…）) on a weekend, public holiday or the
    year-end holidays, else ("night", 夜間)."""
    from .profiles import _is_public_holiday, _is_year_end, is_day_off

    if profile.in_hours(now):
        return "weekday", "平日の執務時間"
    day = _local(profile, now).date()
    if is_day_off(day):
        if _is_public_holiday(day):
            why = "祝日"
        elif _is_year_end(day):
            why = "年末年始"
        else:
            why = "土曜日" if day.weekday() == 5 else "日曜日"
        return "holiday", f"休日（{why}）"
    return "night", "夜間"


def _name_key(name: Any) -> str:
    return re.sub(r"\s+", "", _nfkc(name)) if isinstance(name, str) else ""


def who_to_call(profile, people: list[dict[str, Any]], role_id: str, now: datetime) -> list[dict[str, Any]]:
    """Ordered candidates to call for ``role_id`` (a role or outside-body id) at ``now``:
    [{person, reason, kind}] (kind: "primary" | "deputy" | "role_deputy").

    1. the role's people reachable in the time slot (weekday / night / holiday,
       see :func:`time_slot`), in roster order; a person marked absent is
       skipped and their deputy (by name; the deputy's deputy when that one is
       absent or unreachable too) takes their place, reason
       「代理（不在の○○に代わって）」;
    2. then the deputies of the role's other people (present but unreachable
       now, or to try when the first does not answer), 「代理（○○の代理）」;
    3. when nobody of the role itself is reachable: the people of any role with
       ``deputy_for`` = this role (CSIRT副責任者 for the CSIRT責任者),
       「代理（○○に代わって副…）」;
    4. when the roster has nobody at all to call: the contact the profile itself
       gives the role or body for the time slot (:func:`profile_contact`, 大崎 3条
       「通常業務時及び夜間・休日時の担当者連絡先」), kind "profile", as a person
       whose ``doc_id`` is ``"profile:<id>"`` (it can be logged with :func:`log_call`).
    Removed people are never proposed."""
    try:
        profile.party(role_id)
    except KeyError:
        raise RosterError({"role": f"役割: {role_id!r} はこのプロファイルにありません"}) from None
    slot, slot_reason = time_slot(profile, now)
    live = [p for p in people if not p.get("removed")]
    by_name = {}
    for p in live:
        by_name.setdefault(_name_key(p.get("name")), p)
    labels = {r["id"]: r["label"] for r in (*profile.roles, *profile.outside_bodies)}
    out: list[dict[str, Any]] = []
    seen: set = set()

    def ident(p):
        return p.get("doc_id", id(p))

    def usable(p):
        return p.get(slot) and not p.get("absent") and ident(p) not in seen

    def add(p, reason, kind):
        seen.add(ident(p))
        out.append({"person": p, "reason": reason, "kind": kind})

    def deputy_of(p):
        """The first usable person down p's deputy chain."""
        visited = {ident(p)}
        cur = by_name.get(_name_key(p.get("deputy")))
        while cur is not None and ident(cur) not in visited:
            if usable(cur):
                return cur
            visited.add(ident(cur))
            cur = by_name.get(_name_key(cur.get("deputy")))
        return None

    members = [p for p in live if p.get("role") == role_id]
    for p in members:
        if p.get("absent"):
            d = deputy_of(p)
            if d is not None:
                add(d, f"代理（不在の{p.get('name', '')}に代わって）・{slot_reason}", "deputy")
        elif usable(p):
            add(p, slot_reason, "primary")
    direct = any(o["kind"] == "primary" for o in out)
    for p in members:
        if not p.get("absent"):
            d = deputy_of(p)
            if d is not None:
                add(d, f"代理（{p.get('name', '')}の代理）・{slot_reason}", "deputy")
    if not direct:
        for role in profile.roles:
            if role.get("deputy_for") != role_id:
                continue
            for p in live:
                if p.get("role") == role["id"] and usable(p):
                    add(p, f"代理（{labels.get(role_id, role_id)}に連絡がつかないため{role['label']}）・{slot_reason}",
                        "role_deputy")
    if not out:
        fallback = profile_contact(profile, role_id, now)
        if fallback is not None:
            out.append({"person": fallback, "reason": f"名簿に候補がないためプロファイルの連絡先（{fallback['note']}）"
                        f"・{slot_reason}", "kind": "profile"})
    return out


# The profile's ``contact`` key for each time slot of :func:`time_slot`.
CONTACT_SLOTS: dict[str, tuple[str, str]] = {
    "weekday": ("weekday", "通常業務時"),
    "night": ("night_holiday", "夜間・休日時"),
    "holiday": ("night_holiday", "夜間・休日時"),
}


def profile_contact(profile, party_id: str, now: datetime) -> dict[str, Any] | None:
    """The contact the profile gives a role or outside body (``contact =
    {weekday, night_holiday}``) for the time slot of ``now``, as a person-like
    dict {doc_id: "profile:<id>", name: its label, role, phone: the text,
    note: 通常業務時 | 夜間・休日時, source: "profile"}; None when the profile
    gives none for that slot (the shipped values are "": the city fills them in)."""
    party = profile.party(party_id)
    slot, _reason = time_slot(profile, now)
    key, when = CONTACT_SLOTS[slot]
    text = ((party.get("contact") or {}).get(key) or "").strip()
    if not text:
        return None
    return {"doc_id": f"profile:{party_id}", "name": party["label"], "role": party_id, "phone": text,
            "note": when, "source": "profile"}


# ---------------------------------------------------------------------------
# CSV


@dataclass
class ImportResult:
    """What :func:`import_csv` read: ``people`` to add (empty when there are
    errors, unless good_rows_only), ``errors`` = [(line number, {field: problem})]
    (the row number as Excel shows it; 1 is the header), ``rows`` = data rows read."""

    people: list[dict[str, Any]] = field(default_factory=list)
    errors: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def _csv_cell(key: str, value: Any) -> str:
    from .csvexport import guard

    if key in BOOL_FIELDS:
        return CSV_TRUE if value else CSV_FALSE
    return guard(value)  # a leading = + - @ would be run as a formula by a spreadsheet


def export_csv(people: list[dict[str, Any]]) -> bytes:
    """The people as CSV bytes: UTF-8 with BOM, CRLF line ends, header = the
    Japanese labels in :data:`PERSON_FIELDS` order, yes/no as ○ or empty.
    Text (notes with line breaks included) is quoted as needed."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([FIELD_LABELS[k] for k in PERSON_FIELDS])
    for p in people:
        writer.writerow([_csv_cell(k, p.get(k)) for k in PERSON_FIELDS])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp932")  # Excel's 「CSV (コンマ区切り)」 on a Japanese PC


def _header_key(cell: str) -> str | None:
    text = _nfkc(cell or "").strip().lstrip("\ufeff").strip()
    for key, label in FIELD_LABELS.items():
        if text == label or text.casefold() == key:
            return key
    return None


def _parse_bool(cell: str) -> bool | None:
    text = _nfkc(cell or "").strip().casefold()
    if text in {_nfkc(w).casefold() for w in _TRUE_WORDS}:
        return True
    if text in {_nfkc(w).casefold() for w in _FALSE_WORDS}:
        return False
    return None


def import_csv(profile, data: bytes, *, good_rows_only: bool = False) -> ImportResult:
    """Read a roster CSV (with or without BOM; UTF-8, or cp932 as Excel saves it).
    The header row names the columns by Japanese label (or field id), in any
    order; 氏名 and 役割 columns are required. Each data row is validated like
    :func:`validate_person`; bad rows are reported with their line number in
    the file — the row number Excel shows (header = 1; equal to the text line
    unless a cell above holds a line break). With errors, ``people`` is empty (nothing to import until the file
    is fixed) unless ``good_rows_only``."""
    from .csvexport import unguard

    result = ImportResult()
    try:
        text = _decode(data)
    except UnicodeDecodeError:
        result.errors.append((1, {"file": "文字コードが読めません（UTF-8 で保存してください）"}))
        return result
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as err:
        result.errors.append((1, {"file": f"CSV として読めません: {err}"}))
        return result
    if not header:
        result.errors.append((1, {"file": "見出しの行がありません"}))
        return result
    keys: list[str | None] = []
    problems: dict[str, str] = {}
    for i, cell in enumerate(header, 1):
        key = _header_key(cell)
        if key is None and cell.strip():
            problems[f"column{i}"] = f"{i}列目の見出し {cell!r} は名簿の項目にありません"
        elif key is not None and key in keys:
            problems[key] = f"{FIELD_LABELS[key]}: 見出しが2回あります"
        keys.append(key)
    for must in ("name", "role"):
        if must not in keys:
            problems[must] = f"{FIELD_LABELS[must]}: 見出しの列がありません"
    if problems:
        result.errors.append((1, problems))
        return result
    good: list[dict[str, Any]] = []
    line = 1
    while True:
        line += 1  # the row number Excel shows (a cell with a line break stays one row)
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            result.errors.append((line, {"file": f"CSV として読めません: {err}"}))
            break
        start = line
        if not any(cell.strip() for cell in row):
            continue
        result.rows += 1
        row_problems: dict[str, str] = {}
        if len(row) > len(keys) and any(c.strip() for c in row[len(keys):]):
            row_problems["file"] = f"列が見出しより多くあります（{len(row)}列、見出しは{len(keys)}列）"
        person: dict[str, Any] = {}
        for key, cell in zip(keys, row):
            if key is None:
                continue
            if key in BOOL_FIELDS:
                value = _parse_bool(cell)
                if value is None:
                    row_problems[key] = f"{FIELD_LABELS[key]}: ○ または空欄で入力してください（{cell!r}）"
                    continue
                person[key] = value
            else:
                person[key] = unguard(cell)  # our own export's guard against spreadsheet formulas
        row_problems = {**validate_person(profile, person), **row_problems}
        if row_problems:
            result.errors.append((start, row_problems))
        else:
            good.append(normalise_person(person))
    if not result.errors or good_rows_only:
        result.people = good
    return result


def apply_import(store, result: ImportResult, *, operator: str) -> list[int]:
    """Add the people of an :class:`ImportResult` (each with an audit "add"), all
    in one write. Every person is validated again first: all or nothing."""
    _operator(operator)
    profile = store.profile
    docs = []
    for i, person in enumerate(result.people):
        problems = validate_person(profile, person)
        if problems:
            raise RosterError({k: f"{i + 1}人目 {m}" for k, m in problems.items()})
        docs.append(normalise_person(person))

    def change(data):
        people = data.setdefault("people", {})
        ids = []
        for doc in docs:
            doc_id = max((int(k) for k in people), default=0) + 1
            people[str(doc_id)] = doc
            _audit(store, data, "add", doc_id, None, doc, operator)
            ids.append(doc_id)
        return ids

    return store.write_roster(change) if docs else []


# ---------------------------------------------------------------------------
# Review date (つくば 5(1)① 連絡先を最新の状態に)


def mark_reviewed(store, *, operator: str) -> str:
    """Record that the roster was reviewed now (roster.json table "meta", doc 1:
    last_reviewed, reviewed_by, and the list of reviews). Returns the ISO time."""
    _operator(operator)
    at = _now_iso(store)

    def change(data):
        meta = data.setdefault("meta", {})
        doc = dict(meta.get("1") or {})
        doc["last_reviewed"] = at
        doc["reviewed_by"] = operator
        doc["reviews"] = [*(doc.get("reviews") or []), {"at": at, "operator": operator}]
        meta["1"] = doc

    store.write_roster(change)
    return at


def review_months(store, months: int | None = None) -> int:
    """The review period: ``months`` if given, else store.json's
    ``roster_review_months`` when it is a positive integer, else 3."""
    if months is not None:
        return int(months)
    value = store.meta.get(SETTING_REVIEW_MONTHS)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return DEFAULT_REVIEW_MONTHS


def review_status(store, now: datetime, months: int | None = None) -> dict[str, Any]:
    """{last_reviewed (ISO or None), reviewed_by, due (ISO or None), overdue, months}.
    due = last review + ``months`` (calendar months, dateutil.relativedelta);
    overdue when now >= due. A roster never reviewed is overdue as soon as it
    holds anyone (an empty roster is not: there is nothing to review yet)."""
    from dateutil.relativedelta import relativedelta

    period = review_months(store, months)
    data = store.read_roster()
    meta = (data.get("meta") or {}).get("1") or {}
    last = meta.get("last_reviewed")
    if last:
        due_dt = datetime.fromisoformat(last) + relativedelta(months=period)
        due = due_dt.isoformat(timespec="seconds")
        overdue = now >= due_dt
    else:
        due = None
        overdue = any(not p.get("removed") for p in (data.get("people") or {}).values())
    return {"last_reviewed": last, "reviewed_by": meta.get("reviewed_by"), "due": due,
            "overdue": overdue, "months": period}


# ---------------------------------------------------------------------------
# Telling the other bodies when the contacts change (大崎 3条(2))

# The fields of 「住基ネット担当者名並びに通常業務時及び夜間・休日時の担当者連絡先」 (大崎 3条(1)).
NOTICE_FIELDS: tuple[str, ...] = ("name", "extension", "phone", "mobile", "mail", "weekday", "night", "holiday")


def _typed_time(store, occurred_at: Any, what: str, problems: dict[str, str]) -> str | None:
    """ISO of a typed or given time (now when none); a problem goes to ``problems["occurred_at"]``."""
    from .response import _when

    found: list[str] = []
    when, _ = _when(occurred_at, store.now(), what, found)
    if found:
        problems["occurred_at"] = " / ".join(found)
    return when


def _notice_rule(store) -> dict[str, Any] | None:
    return store.profile.data.get("roster_change_notice")


def _reportable(rule: dict[str, Any], row: dict[str, Any], person: dict[str, Any]) -> list[str]:
    """The contact fields an audit row changed, for a person of the rule's roles ([] if none).
    An "update" row holds only the fields that changed: ``person`` (the stored doc) gives the role."""
    before, after = row.get("before") or {}, row.get("after") or {}
    roles = set(rule.get("roles") or ())
    if roles and not ({before.get("role"), after.get("role"), person.get("role")} & roles):
        return []
    if row.get("action") in ("add", "remove"):
        return ["name"] if (before or after).get("name") else list(NOTICE_FIELDS)
    changed = [k for k in NOTICE_FIELDS if k in after and before.get(k) != after.get(k)]
    if "role" in after and before.get("role") != after.get("role") and "name" not in changed:
        changed.insert(0, "name")  # someone became (or stopped being) the 担当者
    return changed


def change_notices(store) -> list[dict[str, Any]]:
    """What must still be reported, per party of the profile's ``roster_change_notice``:
    [{party, label, changes: [{audit, at, action, name, fields (labels)}]}], only the parties
    that have changes not yet reported (the audit rows after the last report to them)."""
    rule = _notice_rule(store)
    if not rule:
        return []
    data = store.read_roster()
    audit = sorted(((int(k), v) for k, v in (data.get("audit") or {}).items()), key=lambda kv: kv[0])
    people = data.get("people") or {}
    reported: dict[str, int] = {}
    for doc in (data.get("notices") or {}).values():
        reported[doc["party"]] = max(reported.get(doc["party"], 0), int(doc.get("upto") or 0))
    labels = {r["id"]: r["label"] for r in (*store.profile.roles, *store.profile.outside_bodies)}
    out = []
    for party in rule["parties"]:
        changes = []
        for no, row in audit:
            if no <= reported.get(party, 0):
                continue
            person = people.get(str(row.get("person")), {})
            fields = _reportable(rule, row, person)
            if fields:
                who = person.get("name") or (row.get("after") or row.get("before") or {}).get("name", "")
                changes.append({"audit": no, "at": row.get("at"), "action": row.get("action"), "name": who,
                                "fields": [FIELD_LABELS[f] for f in fields]})
        if changes:
            out.append({"party": party, "label": labels.get(party, party), "changes": changes})
    return out


def record_change_notice(store, party: str, *, operator: str, means: str, person: str, said: str,
                         occurred_at: Any = None) -> dict[str, Any]:
    """Record that the changes were reported to ``party`` (roster.json table "notices": {at,
    occurred_at, operator, party, means, person, said, upto (the last audit row reported),
    source}); the changes up to now are then reported to that party. Text kept as typed."""
    _operator(operator)
    rule = _notice_rule(store)
    problems: dict[str, str] = {}
    if not rule or party not in rule["parties"]:
        problems["party"] = "この連絡先への名簿の変更の報告はプロファイルにありません"
    for key, value, label in (("means", means, "方法（電話・メール等）"), ("person", person, "相手"),
                              ("said", said, "報告した内容")):
        if not isinstance(value, str) or not value.strip():
            problems[key] = f"{label}を入力してください"
    when = _typed_time(store, occurred_at, "報告の日時", problems)
    if problems:
        raise RosterError(problems)

    def change(data):
        audit = data.get("audit") or {}
        notices = data.setdefault("notices", {})
        doc = {"at": _now_iso(store), "occurred_at": when, "operator": operator, "party": party, "means": means,
               "person": person, "said": said, "upto": max((int(k) for k in audit), default=0),
               "source": rule["source"]}
        notices[str(max((int(k) for k in notices), default=0) + 1)] = doc
        return doc

    return store.write_roster(change)


def change_notice_text(store, pending: list[dict[str, Any]] | None = None) -> str:
    """One line for the roster's status: who must still be told, with the clause."""
    rule = _notice_rule(store)
    pending = change_notices(store) if pending is None else pending
    if not rule or not pending:
        return ""
    names = "・".join(p["label"] for p in pending)
    return f"連絡先の変更を{names}へ報告してください（{rule['source']}「速やかに変更事項を報告する」）"


# ---------------------------------------------------------------------------
# Calls from an incident

MEANS_FIELDS: dict[str, str] = {"extension": "内線", "phone": "外線", "mobile": "携帯", "mail": "メール"}


def _number_for(profile, person: dict[str, Any], means: str, when: datetime) -> str:
    text = _nfkc(means).casefold()
    for key, label in MEANS_FIELDS.items():
        if text == key or label in text:
            return person.get(key) or ""
    if "fax" in text or "訪問" in text or "面談" in text:
        return ""
    # a plain 電話: the 内線 in office hours, the mobile out of hours
    order = ("extension", "phone", "mobile") if profile.in_hours(when) else ("mobile", "phone", "extension")
    return next((person.get(k) for k in order if person.get(k)), "")


def log_call(store, incident_id: str, *, operator: str, person: dict[str, Any] | None = None,
             party: str | None = None, means: str, reached: bool, said: str,
             occurred_at: Any = None, number: str | None = None):
    """Log a call made for an incident: a "call" timeline entry, data {person
    (name), doc_id, role, party, number, means, reached, said, purpose:
    "roster_call"}. ``person`` is a roster person (as from :func:`list_people`);
    ``party`` a role/outside-body id or the name of whoever was called when
    they are not on the roster (one of the two is required). ``means`` is
    free text (電話, 内線, 携帯, メール, FAX …); the number used is ``number``
    or taken from the person by the means. ``occurred_at``: datetime, ISO or
    typed time ("15:10", "さっき"); default now. Returns the entry."""
    profile = store.profile
    problems: dict[str, str] = {}
    if person is not None and not isinstance(person, dict):
        problems["person"] = "相手は名簿の人で指定してください"
        person = None
    if not person and not (isinstance(party, str) and party.strip()):
        problems["person"] = "だれに連絡したか（名簿の人または連絡先）を指定してください"
    if not isinstance(means, str) or not means.strip():
        problems["means"] = "方法（電話・メール等）を入力してください"
    if not isinstance(reached, bool):
        problems["reached"] = "連絡がついたか（はい／いいえ）を指定してください"
    if not isinstance(said, str):
        problems["said"] = "伝えた内容は文字で入力してください"
    if not isinstance(operator, str) or not operator.strip():
        problems["operator"] = "操作者を指定してください"
    when = _typed_time(store, occurred_at, "連絡の日時", problems)
    if problems:
        raise CallLogError(problems)
    labels = {r["id"]: r["label"] for r in (*profile.roles, *profile.outside_bodies)}
    means = means.strip()
    said = said.strip()
    person = person or {}
    name = person.get("name") or ""
    role = person.get("role") or (party if party in labels else None)
    from .timeparse import from_iso

    at = from_iso(when) if when else store.now()
    used = number if isinstance(number, str) and number.strip() else (
        _number_for(profile, person, means, at) if person else "")
    used = normalise_phone(used) if used and "@" not in used else used
    party_text = party.strip() if isinstance(party, str) and party.strip() else None
    who = name or labels.get(party_text, party_text) or ""
    role_label = labels.get(role) if role else None
    target = f"{who}（{role_label}）" if role_label and role_label != who else who
    via = f"{means}（{used}）" if used else means
    text = f"{target}へ{via}で連絡: {'つながった' if reached else 'つながらなかった'}"
    if said:
        text += f"\n{said}"
    data = {"person": name or None, "doc_id": person.get("doc_id"), "role": role, "party": party_text,
            "number": used, "means": means, "reached": reached, "said": said, "purpose": "roster_call"}
    return store.append(incident_id, "call", text, operator=operator, occurred_at=when, data=data)

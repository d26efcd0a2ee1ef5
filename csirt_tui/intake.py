"""Building an intake (受付) record from what the operator or a script gives.

Shared by the CLI (``csirt-desk intake --json``) and the intake screen.
What was typed is kept verbatim (``found_at_text``); the parsed time is
stored beside it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .errors import DomainError
from .timeparse import TimeParseError, parse_time, to_iso

TEXT_KEYS = ("place", "what", "memo")
REPORTER_KEYS = ("name", "section", "contact")


def _text(value: Any, key: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DomainError(f"{key}: 文字列で指定してください (got {type(value).__name__})")
    return value


def build_intake(profile, raw: dict[str, Any], now: datetime, *, strict: bool = True,
                 typed_at: datetime | None = None) -> dict[str, Any]:
    """Validate and normalise an intake dict; raises DomainError naming the key.

    ``strict=False`` (the intake screen: a call may be cut at any moment)
    keeps a time the parser cannot read as the text typed, with the parsed
    value None and the reason in ``time_errors``, instead of refusing.

    ``typed_at``: when the times heard on the call (found_at, the profile's time
    items) were typed, if earlier than ``now``: their relative words (「さっき」,
    「30分前」, 「14:30」) are counted from then. A draft resumed an hour later
    recorded 「さっき」 typed at 10:00 as 10:50, after the call was received."""
    heard_at = typed_at if typed_at is not None and typed_at < now else now
    if not isinstance(raw, dict):
        raise DomainError("受付データは JSON オブジェクトで指定してください")
    known = {"channel", "reporter_type", "found_at", "received_at", "reporter", "extras", "callback",
             *TEXT_KEYS, *(i["key"] for i in profile.poc.get("extra_items", []))}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise DomainError(f"不明な項目: {', '.join(unknown)}")
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def _time(text: str, key: str, at: datetime = now) -> str | None:
        try:
            return to_iso(parse_time(text, at))
        except TimeParseError as err:
            if strict:
                raise DomainError(f"{key}: {err}") from None
            errors[key] = err.reason if hasattr(err, "reason") else str(err)
            return None

    channel = _text(raw.get("channel"), "channel")
    if channel:
        ids = [c["id"] for c in profile.channels]
        if channel not in ids:
            raise DomainError(f"channel: {channel!r} は使えません ({', '.join(ids)})")
    out["channel"] = channel or None
    source = _text(raw.get("reporter_type"), "reporter_type")
    if source:
        ids = [s["id"] for s in profile.report_sources]
        if source not in ids:
            raise DomainError(f"reporter_type: {source!r} は使えません ({', '.join(ids)})")
    out["reporter_type"] = source or None
    received = _text(raw.get("received_at"), "received_at")
    out["received_at"] = (_time(received, "received_at") if received else None) or to_iso(now)
    if "received_at" in errors:
        # stamped with the save time, and what was typed stays on the record
        out["received_at_text"] = received
    found_text = _text(raw.get("found_at"), "found_at")
    out["found_at_text"] = found_text
    out["found_at"] = _time(found_text, "found_at", heard_at) if found_text.strip() else None
    for key in TEXT_KEYS:
        out[key] = _text(raw.get(key), key)
    reporter = raw.get("reporter") or {}
    if isinstance(reporter, str):
        reporter = {"name": reporter}
    if not isinstance(reporter, dict):
        raise DomainError("reporter: {name, section, contact} のオブジェクトで指定してください")
    bad = sorted(set(reporter) - set(REPORTER_KEYS))
    if bad:
        raise DomainError(f"reporter: 不明な項目: {', '.join(bad)}")
    out["reporter"] = {k: _text(reporter.get(k), f"reporter.{k}") for k in REPORTER_KEYS}
    extras: dict[str, Any] = {}
    for item in profile.poc.get("extra_items", []):
        key = item["key"]
        value = raw.get(key, (raw.get("extras") or {}).get(key))
        value = _text(value, key)
        if item.get("kind") == "time" and value.strip():
            extras[key] = value
            extras[f"{key}_iso"] = _time(value, key, heard_at)
        else:
            extras[key] = value
    out["extras"] = extras
    callback = raw.get("callback") or {}
    if not isinstance(callback, dict):
        raise DomainError("callback: {number, confirmed_at} のオブジェクトで指定してください")
    bad = sorted(set(callback) - {"number", "confirmed_at"})
    if bad:
        raise DomainError(f"callback: 不明な項目: {', '.join(bad)}")
    if callback:
        confirmed = _text(callback.get("confirmed_at"), "callback.confirmed_at")
        out["callback"] = {"number": _text(callback.get("number"), "callback.number"),
                           "confirmed_at": (_time(confirmed, "callback.confirmed_at") if confirmed else None)}
    if errors:
        out["time_errors"] = errors
    return out


def duty_contacts(profile, people: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Roster people of the profile's duty roles who can be reached now
    (night or holiday), in the profile's role order: for the out-of-hours banner."""
    from .profiles import is_day_off

    holiday = is_day_off(now.date())
    order = {r["id"]: i for i, r in enumerate(profile.roles) if r.get("duty")}
    found = []
    for person in people:
        role = person.get("role")
        if role not in order:
            continue
        if person.get("holiday" if holiday else "night"):
            found.append(person)
    found.sort(key=lambda p: order[p["role"]])
    return found

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


def build_intake(profile, raw: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Validate and normalise an intake dict; raises DomainError naming the key."""
    if not isinstance(raw, dict):
        raise DomainError("受付データは JSON オブジェクトで指定してください")
    known = {"channel", "reporter_type", "found_at", "received_at", "reporter", "extras",
             *TEXT_KEYS, *(i["key"] for i in profile.poc.get("extra_items", []))}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise DomainError(f"不明な項目: {', '.join(unknown)}")
    out: dict[str, Any] = {}
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
    out["received_at"] = _time(received, now, "received_at") if received else to_iso(now)
    found_text = _text(raw.get("found_at"), "found_at")
    out["found_at_text"] = found_text
    out["found_at"] = _time(found_text, now, "found_at") if found_text.strip() else None
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
            extras[f"{key}_iso"] = _time(value, now, key)
        else:
            extras[key] = value
    out["extras"] = extras
    return out


def _time(text: str, now: datetime, key: str) -> str:
    try:
        return to_iso(parse_time(text, now))
    except TimeParseError as err:
        raise DomainError(f"{key}: {err}") from None

"""CSV for spreadsheets (Excel opens UTF-8 with BOM and CRLF).

A cell that starts with ``= + - @`` (or a tab / carriage return before one)
would be run as a formula by a spreadsheet (CSV injection): such a cell is
written with a leading ``'``, the usual guard, and :func:`unguard` takes it
off again when csirt-desk reads its own CSV back. Nothing else is changed:
the text is what was typed.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

INCIDENT_COLUMNS = (
    ("id", "番号"), ("received_at", "受付日時"), ("status", "状態"), ("drill", "訓練"),
    ("type", "種別"), ("level", "レベル"), ("priority", "優先度"), ("phase", "フェーズ"),
    ("place", "発生場所"), ("reporter", "報告者"), ("summary", "概要"),
)


def guard(value: Any) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def unguard(text: str) -> str:
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text


def to_csv(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([guard(h) for h in header])
    for row in rows:
        writer.writerow([guard(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _safe(text: str) -> str:
    # a lone surrogate (kept verbatim in the store) cannot be written as UTF-8
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace") if any(
        "\ud800" <= ch <= "\udfff" for ch in text) else text


def incidents_csv(profile, rows: list[dict[str, Any]]) -> bytes:
    """The incident list (index rows) as CSV: labels in Japanese, text as typed."""
    from .model import STATUS_LABELS
    from .views import level_label, phase_label, type_label

    def cells(r: dict[str, Any]) -> list[str]:
        return [
            r.get("id", ""), r.get("received_at") or "", STATUS_LABELS.get(r.get("status"), r.get("status") or ""),
            "○" if r.get("drill") else "", type_label(profile, r.get("type")) if r.get("type") else "",
            level_label(r.get("level")) if r.get("level") is not None else "", r.get("priority") or "",
            phase_label(profile, r.get("phase"), r.get("status")), r.get("place") or "",
            r.get("reporter") or "", r.get("summary") or "",
        ]

    return to_csv([label for _, label in INCIDENT_COLUMNS],
                  ([_safe(str(c)) for c in cells(r)] for r in rows))

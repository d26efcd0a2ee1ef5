"""CSV for spreadsheets (Excel opens UTF-8 with BOM and CRLF).

A cell that starts with ``= + - @`` (or a tab / carriage return before one)
would be run as a formula by a spreadsheet (CSV injection): such a cell is
written with a leading ``'``, the usual guard, and :func:`unguard` takes it
off again when csirt-desk reads its own CSV back. Nothing else is changed:
the text is what was typed.

What counts is what the spreadsheet sees after it drops what it ignores: a
leading NUL or other control character, a zero-width or direction mark (ZWSP,
RLO, BOM, tag characters), spaces; and a full-width ``＝ ＋ － ＠`` (or another
compatibility form of them) is the formula character to a Japanese spreadsheet.
So ``"\x00=1+1"`` and ``"＝1+1"`` are guarded as ``"=1+1"`` is.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

INCIDENT_COLUMNS = (
    ("id", "番号"), ("received_at", "受付日時"), ("status", "状態"), ("drill", "訓練"),
    ("type", "種別"), ("level", "レベル"), ("priority", "優先度"), ("phase", "フェーズ"),
    ("place", "発生場所"), ("reporter", "報告者"), ("summary", "概要"),
)


# Characters a spreadsheet drops or does not show before a cell's first character.
_IGNORED_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Cs", "Co", "Cn"})
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def _would_run(text: str) -> bool:
    """Would a spreadsheet take ``text`` as a formula?"""
    if text.startswith(FORMULA_START):
        return True
    for ch in text:
        if unicodedata.category(ch) in _IGNORED_CATEGORIES or _VARIATION_SELECTORS.match(ch):
            continue
        return unicodedata.normalize("NFKC", ch).startswith(FORMULA_START) or ch == "\u2212"
    return False


def guard(value: Any) -> str:
    """The cell text for ``value``: a leading ``'`` when a spreadsheet would run it.
    Text that already starts with ``'`` before a formula character (``'=1``) gets one
    too, so that :func:`unguard` gives back exactly what was typed (and the
    spreadsheet shows it)."""
    text = "" if value is None else str(value)
    if _would_run(text.lstrip("'")):
        return "'" + text
    return text


def unguard(text: str) -> str:
    if text.startswith("'") and _would_run(text.lstrip("'")):
        return text[1:]
    return text


def to_csv(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> bytes:
    return b"".join(csv_chunks(header, rows))


def csv_chunks(header: Iterable[str], rows: Iterable[Iterable[Any]], size: int = 1 << 16) -> Iterator[bytes]:
    """:func:`to_csv`'s bytes, about ``size`` at a time, as ``rows`` are taken (a long list
    is never held whole)."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    buf.write("\ufeff")
    writer.writerow([guard(h) for h in header])
    for row in rows:
        writer.writerow([guard(v) for v in row])
        if buf.tell() >= size:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _safe(text: str) -> str:
    # a lone surrogate (kept verbatim in the store) cannot be written as UTF-8: one U+FFFD each
    return _SURROGATE.sub("\ufffd", text)


def incidents_csv(profile, rows: Iterable[dict[str, Any]], *, clean: Callable[[str], str] | None = None) -> bytes:
    return b"".join(incidents_csv_chunks(profile, rows, clean=clean))


def incidents_csv_chunks(profile, rows: Iterable[dict[str, Any]], *,
                         clean: Callable[[str], str] | None = None) -> Iterator[bytes]:
    """The incident list (index rows) as CSV: labels in Japanese, text as typed.

    ``clean`` is applied to every cell first (e.g. ``textsafe.printable`` when the
    CSV goes to a terminal rather than to a file); by default nothing is changed
    but lone surrogates, which UTF-8 cannot hold (written as U+FFFD)."""
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

    fix = (lambda c: _safe(clean(c))) if clean else _safe
    return csv_chunks([label for _, label in INCIDENT_COLUMNS],
                      ([fix(str(c)) for c in cells(r)] for r in rows))


def write_csv(path: str | os.PathLike, payload: bytes, *, store_root: str | os.PathLike | None = None,
              force: bool = False) -> Path:
    """Write a CSV file atomically (the old file or the new one, never half), mode 0600
    (it holds what callers reported). Problems are a DomainError in plain words; an
    existing file is written over only with ``force``, the store's own never."""
    from .fileout import write_private

    return write_private(path, payload, "csv", store_root=store_root, force=force)

"""The evidence register and its chain of custody (証拠保全: つくば 4(2)③(I)(ウ)).

Core logic (no textual here). Every item and every hand-over is a new
"evidence" entry on the incident's timeline; nothing is edited:

    evidence  {item, source_device, collected_by, collected_at, collected_at_text,
               location, path, sha256, note}                         add_evidence
    evidence  {custody_of: seq, from, to, when, when_text, why, location, warnings}   hand_over

Typed text is stored verbatim (only checked for being non-empty). For a file,
:func:`sha256_file` streams it in chunks with a progress callback so that the
screen can run it in a worker; the digest then goes into the item.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from .errors import DomainError
from .model import Incident, TimelineEntry

__all__ = [
    "EvidenceError",
    "FileHashError",
    "EvidenceItem",
    "sha256_file",
    "add_evidence",
    "hand_over",
    "evidence_items",
    "custody_chain",
]

_SHA256_RE = re.compile(r"[0-9a-fA-F]{64}")


class EvidenceError(DomainError):
    """Evidence cannot be recorded; ``problems`` lists each (Japanese), ``str(err)`` is one line."""

    prefix = "証拠を記録できません"

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(f"{self.prefix}: " + " / ".join(self.problems))


class FileHashError(EvidenceError):
    """A file cannot be hashed (missing, a folder, not a regular file, unreadable)."""

    prefix = "ハッシュ値を計算できません"


@dataclass
class EvidenceItem:
    """One item of evidence, as the handler typed it.

    item: what it is (ログ、端末、USBメモリ…; required); source_device: the
    device it came from (取得元の機器); collected_by: who collected it
    (required); collected_at: when (datetime or typed text; required);
    location: where it is kept (保管場所; required); path: the file, if it is
    one (optional); sha256: its SHA-256 (optional; from :func:`sha256_file`);
    note: anything else."""

    item: str
    collected_by: str
    collected_at: Any
    location: str
    source_device: str = ""
    path: str = ""
    sha256: str = ""
    note: str = ""


def sha256_file(path: str | os.PathLike, progress: Callable[[int, int], Any] | None = None,
                chunk: int = 1 << 20) -> str:
    """The SHA-256 (lower-case hex) of a regular file, read in ``chunk``-byte pieces.

    ``progress(done, total)`` is called once before reading (0, size) and after
    every chunk (bytes read so far, the size when opened); to cancel, raise from
    it (the exception propagates). A folder, a device, a FIFO or anything but a
    regular file is refused without being read (a symbolic link to a regular
    file is followed); missing or unreadable files raise :class:`FileHashError`
    naming the path."""
    if not isinstance(chunk, int) or chunk <= 0:
        raise ValueError("chunk must be a positive integer")
    p = os.fspath(path)
    if not p:
        raise FileHashError("ファイルのパスを入力してください")
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise FileHashError(f"{p}: ファイルがありません") from None
    except PermissionError:
        raise FileHashError(f"{p}: 読み取りの権限がありません") from None
    except OSError as err:
        raise FileHashError(f"{p}: 読み取れません（{err.strerror or err}）") from None
    if stat.S_ISDIR(st.st_mode):
        raise FileHashError(f"{p}: フォルダです（ファイルを1つ指定してください）")
    if not stat.S_ISREG(st.st_mode):
        raise FileHashError(f"{p}: 通常のファイルではありません（デバイス・パイプ等は読みません）")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(p, flags)
    except FileNotFoundError:
        raise FileHashError(f"{p}: ファイルがありません") from None
    except PermissionError:
        raise FileHashError(f"{p}: 読み取りの権限がありません") from None
    except OSError as err:
        raise FileHashError(f"{p}: 開けません（{err.strerror or err}）") from None
    digest = hashlib.sha256()
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # replaced between the checks
            raise FileHashError(f"{p}: 通常のファイルではありません")
        total = st.st_size
        done = 0
        if progress is not None:
            progress(0, total)
        with os.fdopen(fd, "rb", buffering=0, closefd=True) as fh:
            fd = -1
            while True:
                try:
                    block = fh.read(chunk)
                except OSError as err:
                    raise FileHashError(f"{p}: 読み取り中にエラーが発生しました（{err.strerror or err}）") from None
                if not block:
                    break
                digest.update(block)
                done += len(block)
                if progress is not None:
                    progress(done, total)
    finally:
        if fd >= 0:
            os.close(fd)
    return digest.hexdigest()


def _when(value: Any, now: datetime, what: str, problems: list[str]) -> tuple[str | None, str | None]:
    from .response import _when as when

    return when(value, now, what, problems, required=True)


def _str_problems(item: EvidenceItem) -> list[str]:
    problems = []
    for name in ("item", "collected_by", "location", "source_device", "path", "sha256", "note"):
        if not isinstance(getattr(item, name), str):
            problems.append(f"{name}: 文字列で入力してください")
    return problems


def add_evidence(store, incident_id: str, item: EvidenceItem, *, operator: str) -> TimelineEntry:
    """Put an item in the register: an "evidence" entry {item, source_device,
    collected_by, collected_at (ISO), collected_at_text (as typed, or None),
    location, path, sha256 (lower case, or ""), note}. The item's text is
    stored as typed. Refuses (:class:`EvidenceError`) a missing item, collector,
    time or storage location and a malformed SHA-256. Allowed on a closed
    incident too (evidence found afterwards still goes on the record)."""
    if not isinstance(item, EvidenceItem):
        raise EvidenceError("証拠は EvidenceItem で指定してください")
    problems = _str_problems(item)
    if problems:
        raise EvidenceError(problems)
    if not item.item.strip():
        problems.append("証拠の品目（何か）を入力してください")
    if not item.collected_by.strip():
        problems.append("収集した人を入力してください")
    if not item.location.strip():
        problems.append("保管場所を入力してください")
    digest = item.sha256.strip()
    if digest and not _SHA256_RE.fullmatch(digest):
        problems.append("SHA-256 は16進数64桁です")
    with store.locked():
        store.incident(incident_id)  # the incident must exist
        collected_at, typed = _when(item.collected_at, store.now(), "収集日時", problems)
        if problems:
            raise EvidenceError(problems)
        from .timeparse import format_preview, from_iso

        # the time as people read it (the ISO form, 「2026-12-06T06:49:00+09:00」, stood in the timeline,
        # `show` and the report's table); the ISO time is in the data
        lines = [f"証拠: {item.item}", f"収集: {item.collected_by}（{format_preview(from_iso(collected_at))}）",
                 f"保管場所: {item.location}"]
        if item.source_device.strip():
            lines.append(f"取得元の機器: {item.source_device}")
        if item.path.strip():
            lines.append(f"ファイル: {item.path}")
        if digest:
            lines.append(f"SHA-256: {digest.lower()}")
        if item.note.strip():
            lines.append(f"メモ: {item.note}")
        return store.append(incident_id, "evidence", "\n".join(lines), operator=operator, data={
            "item": item.item, "source_device": item.source_device, "collected_by": item.collected_by,
            "collected_at": collected_at, "collected_at_text": typed, "location": item.location,
            "path": item.path, "sha256": digest.lower(), "note": item.note})


def _before(a: str | None, b: str | None) -> bool:
    from .timeparse import from_iso

    try:
        return bool(a and b) and from_iso(a) < from_iso(b)
    except ValueError:
        return False


def _is_item(rec: dict[str, Any]) -> bool:
    return "custody_of" not in rec and "item" in rec


def evidence_items(incident: Incident) -> list[dict[str, Any]]:
    """The register: one row per item in record order, the item's data plus seq,
    ``holder`` (who has it now: the last hand-over's ``to``, else collected_by),
    ``current_location`` and ``handovers`` (how many)."""
    items: dict[int, dict[str, Any]] = {}
    for rec in incident.evidence:
        if _is_item(rec):
            items[rec["seq"]] = {**rec, "holder": rec.get("collected_by", ""),
                                 "current_location": rec.get("location", ""), "handovers": 0}
        elif rec.get("custody_of") in items:
            row = items[rec["custody_of"]]
            row["holder"] = rec.get("to", row["holder"])
            if (rec.get("location") or "").strip():
                row["current_location"] = rec["location"]
            row["handovers"] += 1
    return list(items.values())


def custody_chain(incident: Incident, evidence_seq: int) -> list[dict[str, Any]]:
    """The chain of custody of one item, in record order: first the collection
    {seq, event: "collected", to: collected_by, when: collected_at, location},
    then each hand-over {seq, event: "handover", from, to, when, why, location,
    operator}. Raises :class:`EvidenceError` for a seq that is not an item."""
    chain: list[dict[str, Any]] = []
    for rec in incident.evidence:
        if rec["seq"] == evidence_seq and _is_item(rec):
            chain.append({"seq": rec["seq"], "event": "collected", "from": None, "to": rec.get("collected_by"),
                          "when": rec.get("collected_at"), "why": "", "location": rec.get("location", ""),
                          "operator": rec.get("operator")})
        elif chain and rec.get("custody_of") == evidence_seq:
            chain.append({"seq": rec["seq"], "event": "handover", "from": rec.get("from"), "to": rec.get("to"),
                          "when": rec.get("when"), "why": rec.get("why", ""),
                          "location": rec.get("location", ""), "operator": rec.get("operator")})
    if not chain:
        raise EvidenceError(f"証拠 #{evidence_seq} は登録されていません")
    return chain


def hand_over(store, incident_id: str, evidence_seq: int, *, from_: str, to: str, when: Any, why: str,
              operator: str, location: str = "") -> tuple[TimelineEntry, list[str]]:
    """Record a hand-over of an item (chain of custody): an "evidence" entry
    {custody_of: seq, from, to, when (ISO), when_text, why, location (new storage
    place, optional), warnings}; occurred_at = when. from, to, when and why
    are required. When ``from_`` is not the current holder the hand-over is
    still recorded, with a warning (names are often typed differently).
    Returns the entry and the warnings."""
    problems: list[str] = []
    for name, value in (("from", from_), ("to", to), ("why", why), ("location", location)):
        if not isinstance(value, str):
            problems.append(f"{name}: 文字列で入力してください")
    if problems:
        raise EvidenceError(problems)
    if not from_.strip():
        problems.append("引き渡した人を入力してください")
    if not to.strip():
        problems.append("受け取った人を入力してください")
    if not why.strip():
        problems.append("引き渡しの理由を入力してください")
    with store.locked():
        inc = store.incident(incident_id)
        row = next((r for r in evidence_items(inc) if r["seq"] == evidence_seq), None)
        if row is None:
            problems.append(f"証拠 #{evidence_seq} は登録されていません")
        when_iso, typed = _when(when, store.now(), "引き渡しの日時", problems)
        if problems:
            raise EvidenceError(problems)
        warnings = []
        if from_.strip() != (row["holder"] or "").strip():
            warnings.append(f"引き渡した人（{from_}）が記録上の保管者（{row['holder']}）と違います")
        if _before(when_iso, row.get("collected_at")):
            warnings.append("引き渡しの日時が収集日時より前です")
        lines = [f"証拠の引き渡し: #{evidence_seq} {row['item']}", f"{from_} → {to}", f"理由: {why}"]
        if location.strip():
            lines.append(f"保管場所: {location}")
        lines.extend(f"注意: {w}" for w in warnings)
        entry = store.append(incident_id, "evidence", "\n".join(lines), operator=operator, occurred_at=when_iso,
                             data={"custody_of": evidence_seq, "from": from_, "to": to, "when": when_iso,
                                   "when_text": typed, "why": why, "location": location, "warnings": warnings})
    return entry, warnings

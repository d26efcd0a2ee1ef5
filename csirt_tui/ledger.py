"""The store's ledger: each incident's head anchored outside its own segments.

Every entry written to any incident is first announced here: one record
(incident, seq, entry hash, the hash of the entry before it), chained to the
record before it by SHA-256 like the entries of a timeline, in segments
``ledger/ledger-NNNN.json`` of 128 records (the append rewrites one small file).

What it lets ``verify`` see, that the timelines alone cannot:
- the newest entries of an incident deleted, or a segment rolled back to an
  older copy: the timeline's head is behind its last record here;
- a whole chain rewritten consistently: the head's hash differs from the record;
- an incident made outside csirt-desk, with a valid chain: it has no record here.

The record is written *before* the entry (intent first), under the store lock.
A write killed between the two leaves one record whose entry does not exist:
the ledger's last record. The next write finds that, and closes it with a
record that anchors the incident's real head again, marked ``closes``; verify
lists such closings (a crash, or the newest entry of the whole store deleted,
the one thing this ledger cannot tell apart) and otherwise requires every
incident's head to be exactly its last record. Someone who rewrites the
ledger and the timelines together is not caught by any file in the store: the
head hash printed on every 報告様式1 anchors the record on paper.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Callable, Iterable

from .errors import StoreCorruptError
from .jsonfile import atomic_write, decode, encode, make_dirs, read_bytes, splice_append
from .model import canonical

SEGMENT = 128
FIELDS = ("n", "incident", "seq", "hash", "after", "closes", "prev")
GENESIS = hashlib.sha256(b"csirt-desk:ledger").hexdigest()
_SEG_RE = re.compile(r"^ledger-(\d{4,})\.json$")


def record_hash(rec: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({k: rec.get(k) for k in FIELDS})).hexdigest()


class Ledger:
    def __init__(self, root: Path) -> None:
        self.dir = Path(root) / "ledger"

    def segments(self) -> list[Path]:
        if not self.dir.is_dir():
            return []
        segs = [p for p in self.dir.iterdir() if _SEG_RE.match(p.name)]
        return sorted(segs, key=lambda p: int(_SEG_RE.match(p.name).group(1)))

    def _tail(self) -> tuple[Path | None, bytes, dict[str, Any], dict[str, Any] | None]:
        segs = self.segments()
        if not segs:
            return None, b"", {}, None
        raw = read_bytes(segs[-1])
        data = decode(segs[-1], raw)
        rows = data.get("ledger") or {}
        if not rows:
            raise StoreCorruptError(segs[-1], "台帳が空です (empty ledger segment)")
        return segs[-1], raw, data, rows[max(rows, key=int)]

    def last(self) -> dict[str, Any] | None:
        return self._tail()[3]

    def anchor(self, items: Iterable[tuple[str, int, str, str]], *, closes: int | None = None,
               durable: bool = True) -> list[dict[str, Any]]:
        """Append one record per (incident, seq, hash, hash of the entry before).
        The caller holds the store lock."""
        seg, raw, data, last = self._tail()
        n = last["n"] if last else 0
        prev = last["rhash"] if last else GENESIS
        records = []
        for incident, seq, entry_hash_, after in items:
            n += 1
            rec = {"n": n, "incident": incident, "seq": seq, "hash": entry_hash_, "after": after,
                   "closes": closes, "prev": prev}
            rec["rhash"] = prev = record_hash(rec)
            records.append(rec)
        if not records:
            return []
        make_dirs(self.dir)
        by_seg: dict[int, list[dict[str, Any]]] = {}
        for rec in records:
            by_seg.setdefault((rec["n"] - 1) // SEGMENT, []).append(rec)
        for seg_no, recs in by_seg.items():
            path = self.dir / f"ledger-{seg_no:04d}.json"
            if seg is not None and path == seg and len(recs) == 1:
                payload = splice_append(raw, data, "ledger", recs[0]["n"], recs[0])
            else:
                rows = dict(data.get("ledger") or {}) if seg is not None and path == seg else {}
                rows.update({str(r["n"]): r for r in recs})
                payload = encode({"ledger": rows})
            atomic_write(path, payload, durable=durable)
        return records

    def close_unfinished(self, head_of: Callable[[str], tuple[int, str] | None]) -> dict[str, Any] | None:
        """If the last record announces an entry that was never written (a write
        killed half-way), anchor that incident's real head again. ``head_of(id)``
        gives (seq, hash) of an incident's newest entry, or None if it has none."""
        last = self.last()
        if last is None:
            return None
        head = head_of(last["incident"])
        if head is not None and head[0] >= last["seq"]:
            return None  # written (or more): nothing unfinished
        seq, hash_ = head if head is not None else (0, "")
        return self.anchor([(last["incident"], seq, hash_, "")], closes=last["n"])[0]

    def walk(self, problems: list[str]) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
        """Check the whole chain; (last record per incident, the closing records).
        Problems name the file and record; the walk stops at the first break."""
        heads: dict[str, dict[str, Any]] = {}
        closings: list[dict[str, Any]] = []
        prev, expect = GENESIS, 1
        for index, seg in enumerate(self.segments()):
            if int(_SEG_RE.match(seg.name).group(1)) != index:
                problems.append(f"{self.dir / f'ledger-{index:04d}.json'}: 台帳の区分ファイルがありません (missing)")
                return heads, closings
            try:
                data = decode(seg, read_bytes(seg))
            except StoreCorruptError as err:
                problems.append(f"{err.path}: {err.problem}")
                return heads, closings
            if set(data) != {"ledger"}:
                problems.append(f"{seg}: 台帳の形式が不正です")
                return heads, closings
            rows = data["ledger"]
            for key in sorted(rows, key=int):
                rec = rows[key]
                where = f"{seg}: 台帳 #{key}"
                if not isinstance(rec, dict) or set(rec) != {*FIELDS, "rhash"}:
                    problems.append(f"{where}: 台帳の項目が不正です")
                    return heads, closings
                if int(key) != expect or rec["n"] != expect or (expect - 1) // SEGMENT != index:
                    problems.append(f"{where}: 番号が連続していません (期待 {expect})")
                    return heads, closings
                if rec["prev"] != prev:
                    problems.append(f"{where}: 直前の台帳記録のハッシュと一致しません (削除・改ざん)")
                    return heads, closings
                if record_hash(rec) != rec["rhash"]:
                    problems.append(f"{where}: ハッシュが一致しません (改ざん)")
                    return heads, closings
                if rec["closes"] is not None:
                    closings.append(rec)
                heads[rec["incident"]] = rec
                prev, expect = rec["rhash"], expect + 1
        return heads, closings

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
record that anchors the incident's real head again, marked ``closes``/``why``;
a write refused in plain words (a full disk) is closed at once. Each
incident's records must follow on from one another (seq + 1, and ``after`` the
hash the record before named), so a rewrite or a deletion stays visible after
later writes. verify lists the closings (a crash, or the newest entry of the
whole store deleted, the one thing this ledger cannot tell apart) and
otherwise requires every incident's head to be exactly its last record. Someone who rewrites the
ledger and the timelines together is not caught by any file in the store: the
head hash printed on every 報告様式1 anchors the record on paper.

Each incident's newest record, without reading the ledger (``verify ID``, issue 18):
``ledger/heads/upto.json`` says through which segment the ledger has been folded
into ``ledger/heads/YYYY-NNN.json`` (the incidents YYYY-NNN000..NNN999: for each,
the number and hash of its newest record in those segments). The writer folds a
segment when it is full (once per 128 records, into the few files its incidents
fall in), and any segment a killed write left unfolded with it. The newest record
of an incident is then the newest one that names it in the segments after
``upto`` (a byte search, usually of one segment), or else the one its heads file
names, read back and checked (its hash, its incident): a heads file that names
another record is a problem said, never a silent pass. The full ``verify`` checks
every heads file against its walk of the whole ledger and makes them when a store
has none (an older store; ``reindex`` too).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterable

from .errors import StoreCorruptError
from .jsonfile import atomic_write, decode, encode, make_dirs, read_bytes, read_file, seal, splice_append
from .model import canonical

SEGMENT = 128
FIELDS = ("n", "incident", "seq", "hash", "after", "closes", "why", "prev")
GENESIS = hashlib.sha256(b"csirt-desk:ledger").hexdigest()
_SEG_RE = re.compile(r"^ledger-(\d{4,})\.json$")
HEADS = "heads"  # the folder of the index of each incident's newest record
HEADS_SPAN = 1000  # incidents per heads file
_ID = re.compile(r"^(\d{4})-(\d{4,6})$")
_HEADS_RE = re.compile(r"^(\d{4})-(\d{3,})\.json$")


def heads_key(incident: str) -> tuple[str, str] | None:
    """(heads file name, key in it) of an incident id, None for an id of no known form."""
    m = _ID.match(incident)
    if not m:
        return None
    number = int(m.group(2))
    return f"{m.group(1)}-{number // HEADS_SPAN:03d}.json", str(number)

# ``why`` of a record: None for an entry announced; for a closing record (``closes`` =
# the n of the record it closes) "crash" (found unwritten by a later write) or
# "refused" (the write failed in plain words, e.g. a full disk, and was closed at
# once); "baseline" for the records the schema 3 migration wrote (each incident's
# head as the store held it, with nothing before it in the ledger).
CLOSING = ("crash", "refused")


def record_hash(rec: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({k: rec.get(k) for k in FIELDS})).hexdigest()


class Ledger:
    def __init__(self, root: Path) -> None:
        self.dir = Path(root) / "ledger"
        self._tail_no: int | None = None  # number of the newest segment, once known

    def segments(self) -> list[Path]:
        if not self.dir.is_dir():
            return []
        segs = [p for p in self.dir.iterdir() if _SEG_RE.match(p.name)]
        return sorted(segs, key=lambda p: int(_SEG_RE.match(p.name).group(1)))

    def _path(self, no: int) -> Path:
        return self.dir / f"ledger-{no:04d}.json"

    def _tail_path(self) -> Path | None:
        """The newest segment: the folder is listed once, then only the one after the
        known newest is looked for (an append costs the same however long the ledger)."""
        if self._tail_no is None or not self._path(self._tail_no).exists():
            # the names alone (no Path per segment, no sort): ~1 ms at 600,000 records
            try:
                names = os.listdir(self.dir)
            except FileNotFoundError:
                names = []
            numbers = [int(n[7:-5]) for n in names
                       if n.startswith("ledger-") and n.endswith(".json") and n[7:-5].isascii() and n[7:-5].isdigit()
                       and len(n) >= 16]
            if not numbers:
                self._tail_no = None
                return None
            self._tail_no = max(numbers)
        while self._path(self._tail_no + 1).exists():  # another process began a new one
            self._tail_no += 1
        return self._path(self._tail_no)

    def _tail(self) -> tuple[Path | None, bytes, dict[str, Any], dict[str, Any] | None]:
        seg = self._tail_path()
        if seg is None:
            return None, b"", {}, None
        raw = read_bytes(seg)
        data = decode(seg, raw)
        rows = data.get("ledger") or {}
        if not rows:
            raise StoreCorruptError(seg, "台帳が空です (empty ledger segment)")
        return seg, raw, data, rows[max(rows, key=int)]

    def last(self) -> dict[str, Any] | None:
        return self._tail()[3]

    def anchor(self, items: Iterable[tuple[str, int, str, str]], *, closes: int | None = None,
               why: str | None = None, durable: bool = True,
               tail: tuple | None = None) -> list[dict[str, Any]]:
        """Append one record per (incident, seq, hash, hash of the entry before).
        The caller holds the store lock. ``tail``: what :meth:`_tail` gave, if the
        caller has just read it."""
        seg, raw, data, last = tail if tail is not None else self._tail()
        n = last["n"] if last else 0
        prev = last["rhash"] if last else GENESIS
        records = []
        for incident, seq, entry_hash_, after in items:
            n += 1
            rec = {"n": n, "incident": incident, "seq": seq, "hash": entry_hash_, "after": after,
                   "closes": closes, "why": why, "prev": prev}
            rec["rhash"] = prev = record_hash(rec)
            records.append(rec)
        if not records:
            return []
        make_dirs(self.dir)
        by_seg: dict[int, list[dict[str, Any]]] = {}
        for rec in records:
            by_seg.setdefault((rec["n"] - 1) // SEGMENT, []).append(rec)
        full: dict[int, dict[str, Any]] = {}  # the segments this write filled: all their rows
        for seg_no, recs in by_seg.items():
            path = self._path(seg_no)
            old_rows = (data.get("ledger") or {}) if seg is not None and path == seg else {}
            if seg is not None and path == seg and len(recs) == 1:
                payload = splice_append(raw, data, "ledger", recs[0]["n"], recs[0])
                rows = {**old_rows, str(recs[0]["n"]): recs[0]}
            else:
                rows = dict(old_rows)
                rows.update({str(r["n"]): r for r in recs})
                payload = encode({"ledger": rows})
            atomic_write(path, payload, durable=durable)
            self._tail_no = max(self._tail_no or 0, seg_no)
            if recs[-1]["n"] % SEGMENT == 0:
                full[seg_no] = rows
        if full:
            self.fold(max(full), full, durable=durable)
        return records

    # ------------------------------------------------- heads (each incident's newest record)
    @property
    def heads_dir(self) -> Path:
        return self.dir / HEADS

    def _upto_path(self) -> Path:
        return self.heads_dir / "upto.json"

    def folded(self) -> int | None:
        """Through which segment the heads files hold the ledger (-1: none yet), None when
        the store has no heads files (or they cannot be read: then the ledger is read)."""
        try:
            rec = ((read_file(self._upto_path()) or {}).get("upto") or {}).get("1")
        except (StoreCorruptError, OSError):
            return None
        if not isinstance(rec, dict) or not isinstance(rec.get("segment"), int):
            return None
        return rec["segment"]

    def _read_heads(self, name: str) -> dict[str, Any]:
        return (read_file(self.heads_dir / name) or {}).get("heads") or {}

    def _write_heads(self, heads: dict[str, dict[str, Any]], upto: int, *, durable: bool,
                     replace_all: bool = False) -> None:
        """Merge ``heads`` (incident → its newest record's n and rhash) into the heads files
        (``replace_all``: they are the whole index: every file is written anew), then note
        ``upto``. A write killed between leaves files ahead of upto.json: harmless (the
        next fold takes the newer of the two)."""
        make_dirs(self.heads_dir)
        by_file: dict[str, dict[str, dict[str, Any]]] = {}
        for incident, rec in heads.items():
            where = heads_key(incident)
            if where is not None:
                by_file.setdefault(where[0], {})[where[1]] = {"n": rec["n"], "rhash": rec["rhash"]}
        if replace_all:
            for name in os.listdir(self.heads_dir):
                if _HEADS_RE.match(name) and name not in by_file:
                    os.unlink(self.heads_dir / name)
        for name, new in sorted(by_file.items()):
            rows = {} if replace_all else dict(self._read_heads(name))
            for key, rec in new.items():
                if key not in rows or rows[key].get("n", 0) < rec["n"]:
                    rows[key] = rec
            atomic_write(self.heads_dir / name, seal({"heads": dict(sorted(rows.items(), key=lambda kv: int(kv[0])))}),
                         durable=durable)
        atomic_write(self._upto_path(), seal({"upto": {"1": {"segment": upto}}}), durable=durable)

    def fold(self, through: int, known: dict[int, dict[str, Any]] | None = None, *, durable: bool = True) -> None:
        """Fold the segments after upto.json's through ``through`` into the heads files
        (``known``: rows of some of them, as just written). Nothing on a store without
        heads files; a segment or heads file that cannot be read leaves upto.json where it
        was (the ledger is then read further back; verify names the damaged file): the
        write goes on."""
        upto = self.folded()
        if upto is None or upto >= through:
            return
        try:
            heads: dict[str, dict[str, Any]] = {}
            for no in range(upto + 1, through + 1):
                rows = (known or {}).get(no)
                if rows is None:
                    path = self._path(no)
                    rows = decode(path, read_bytes(path)).get("ledger") or {}
                for key in sorted(rows, key=int):
                    heads[rows[key]["incident"]] = rows[key]
            self._write_heads(heads, through, durable=durable)
        except (StoreCorruptError, OSError, KeyError, TypeError, ValueError):
            return

    def start_heads(self, *, durable: bool = True) -> None:
        """A new store's (empty) heads files: from now on the writer keeps them."""
        if self.folded() is None and not self.segments():
            self._write_heads({}, -1, durable=durable, replace_all=True)

    def build_heads(self, heads: dict[str, dict[str, Any]], through: int) -> None:
        """Write the whole heads index: ``heads`` = each incident's newest record in the
        segments through ``through`` (what a walk of the ledger found). The caller holds
        the store lock."""
        self._write_heads(heads, through, durable=True, replace_all=True)

    def heads_problems(self, folded: dict[str, dict[str, Any]], upto: int,
                       after: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str]]:
        """What is wrong with the heads files, against a walk of the ledger: ``folded`` =
        each incident's newest record in the segments through ``upto`` (upto.json's),
        ``after`` = each incident's records after those. A heads file must name exactly
        that record, or one of the records after (a fold killed before upto.json).
        (incident, problem) pairs."""
        problems: list[tuple[str, str]] = []
        seen: set[str] = set()
        try:
            names = sorted(n for n in os.listdir(self.heads_dir) if _HEADS_RE.match(n))
        except FileNotFoundError:
            names = []
        for name in names:
            try:
                rows = self._read_heads(name)
            except StoreCorruptError:
                continue  # the files pass names it
            year, block = _HEADS_RE.match(name).groups()
            for key, ref in rows.items():
                incident = f"{year}-{int(key):04d}" if key.isdigit() else key
                where = heads_key(incident)
                seen.add(incident)
                if where is None or where[0] != name:
                    problems.append((incident, f"{self.heads_dir / name}: {key}: 台帳の索引の番号が不正です"))
                    continue
                want = folded.get(incident)
                ok = isinstance(ref, dict) and (
                    (want is not None and ref.get("n") == want["n"] and ref.get("rhash") == want["rhash"])
                    or any(ref.get("n") == r["n"] and ref.get("rhash") == r["rhash"] for r in after.get(incident, ())))
                if not ok:
                    problems.append((incident, f"{self.heads_dir / name}: {incident}: 台帳の索引が台帳の記録と一致しません"
                                               f" (台帳: #{want['n'] if want else 'なし'}。csirt-desk reindex で作り直せます)"))
        for incident in sorted(set(folded) - seen):
            where = heads_key(incident)
            if where is not None:
                problems.append((incident, f"{self.heads_dir / where[0]}: {incident}: 台帳の索引に行がありません"
                                           f" (台帳 #{folded[incident]['n']}。csirt-desk reindex で作り直せます)"))
        return problems

    def close(self, rec: dict[str, Any], head: tuple[int, str] | None, why: str) -> dict[str, Any]:
        """Close ``rec``, an announced entry that was not written: anchor its incident's
        real head again (seq 0 when the incident was never created)."""
        seq, hash_ = head if head is not None else (0, "")
        return self.anchor([(rec["incident"], seq, hash_, "")], closes=rec["n"], why=why)[0]

    def close_unfinished(self, head_of: Callable[[str], tuple[int, str] | None]) -> dict[str, Any] | None:
        """If the last record announces an entry that was never written (a write
        killed half-way), close it. Only that exact pattern: the incident's newest
        entry is the one the record said it follows (or, for a creation, there is no
        incident). Anything else (entries missing beyond that) is not a crash and is
        left for verify to report."""
        tail = self._tail()
        last = tail[3]
        if last is None or last["why"] in CLOSING:
            return None
        head = head_of(last["incident"])
        if head is not None and head[0] >= last["seq"]:
            return None  # written (or more): nothing unfinished
        if head is None and last["seq"] == 1 or head is not None and head == (last["seq"] - 1, last["after"]):
            return self.close(last, head, "crash")
        return None

    def walk(self, problems: list[str], *, start: tuple[int, str] | None = None,
             firsts: dict[str, dict[str, Any]] | None = None,
             folded: tuple[int, dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]]] | None = None,
             at: tuple[int, dict[str, dict[str, Any]]] | None = None,
             progress: Callable[[int, int], None] | None = None,
             ) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
        """Check the whole chain, and that each incident's records follow on from
        one another; (last record per incident, the closing records). Problems name
        the file and record; the walk stops at the first break of the chain.

        ``start`` (n, rhash): only the records after record n, which must still be
        there with that hash (verify --changed). An incident's first record after it
        cannot be checked against the ones before (not read): it goes in ``firsts``,
        for the caller to check against the incident's timeline.

        ``folded`` (upto, newest, after): each incident's newest record in the segments
        through upto goes in ``newest``, its records after them in ``after`` (to check
        the heads files against, :meth:`heads_problems`). ``at`` (n, newest): each
        incident's newest record up to record n (the newest backup's checkpoint).
        ``progress(done, total)``: called after each segment read."""
        from .model import genesis_hash

        heads: dict[str, dict[str, Any]] = {}
        state: dict[str, tuple[int, str]] = {}  # incident → (seq, hash) its next record must follow
        closings: list[dict[str, Any]] = []
        prev, expect = GENESIS, 1
        segs = self.segments()
        skip = 0
        if start is not None and start[0]:
            skip = (start[0] - 1) // SEGMENT
            path = self._path(skip)
            try:
                rec = (decode(path, read_bytes(path)).get("ledger") or {}).get(str(start[0]))
            except (FileNotFoundError, StoreCorruptError):
                rec = None
            if not isinstance(rec, dict) or rec.get("rhash") != start[1] or record_hash(rec) != start[1]:
                problems.append(f"{path}: 台帳 #{start[0]}: 前回の検査の時点の記録と一致しません (その後の書き換え・削除)")
                return heads, closings
            prev, expect = start[1], start[0] + 1
        segs = [seg for seg in segs if int(_SEG_RE.match(seg.name).group(1)) >= skip]
        for index, seg in enumerate(segs, start=skip):
            if progress is not None:
                progress(index - skip + 1, len(segs))
            if int(_SEG_RE.match(seg.name).group(1)) != index:
                problems.append(f"{self._path(index)}: 台帳の区分ファイルがありません (missing)")
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
                if start is not None and key.isdigit() and int(key) < expect:
                    continue  # up to the checkpoint (checked then)
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
                incident, before = rec["incident"], heads.get(rec["incident"])
                if start is not None and before is None:
                    ok = True  # its records before the checkpoint are not read: the caller checks this one
                    if firsts is not None:
                        firsts[incident] = rec
                    if rec["why"] in CLOSING:
                        closings.append(rec)
                elif rec["why"] in CLOSING:
                    ok = (before is not None and rec["closes"] == before["n"] and rec["seq"] == before["seq"] - 1
                          and (rec["hash"] == before["after"] if rec["seq"] else rec["hash"] == ""))
                    closings.append(rec)
                elif rec["why"] == "baseline":
                    ok = before is None
                else:
                    last_seq, last_hash = state.get(incident, (0, genesis_hash(incident)))
                    ok = rec["seq"] == last_seq + 1 and rec["after"] == last_hash
                if not ok:
                    problems.append(f"{where}: {incident} の記録の続きになっていません"
                                    " (その前の記録の書き換え・削除、または番号の使い回し)")
                heads[incident] = rec
                if at is not None and rec["n"] <= at[0]:
                    at[1][incident] = rec
                if folded is not None:
                    if index <= folded[0]:
                        folded[1][incident] = rec
                    else:
                        folded[2].setdefault(incident, []).append(rec)
                state[incident] = (rec["seq"], rec["hash"]) if rec["seq"] else (0, genesis_hash(incident))
                prev, expect = rec["rhash"], expect + 1
        return heads, closings

    def last_for(self, incident: str, *, scan: bool = False) -> dict[str, Any] | None:
        """The newest record of one incident: the segments after the heads files' upto
        are searched from the newest back, then the record the heads file names is read
        back and checked (StoreCorruptError when it is not that incident's, or its hash is
        wrong: the heads file or the ledger was changed). A store without heads files: the
        whole ledger from the newest segment back (the full chain is checked by
        :meth:`walk`); ``scan``: that, whatever the heads files say. A segment is decoded only if its bytes name the incident (a record
        is one canonical line: ``"incident":"ID"`` stands in it as is)."""
        tail_path = self._tail_path()
        if tail_path is None:
            return None
        where = heads_key(incident)
        upto = self.folded() if where is not None and not scan else None
        needle = b'"incident":' + json.dumps(incident, ensure_ascii=False).encode("utf-8") + b","
        for no in range(int(_SEG_RE.match(tail_path.name).group(1)), (upto if upto is not None else -1), -1):
            path = self._path(no)
            try:
                raw = read_bytes(path)
            except FileNotFoundError:
                continue
            if needle not in raw:
                continue
            rows = decode(path, raw).get("ledger") or {}
            for key in sorted(rows, key=int, reverse=True):
                if rows[key].get("incident") == incident:
                    return self._checked(path, rows[key])
        if upto is None:
            return None
        heads_path = self.heads_dir / where[0]
        ref = self._read_heads(where[0]).get(where[1]) if heads_path.exists() else None
        if ref is None:
            return None
        if not isinstance(ref, dict) or not isinstance(ref.get("n"), int) or ref["n"] < 1:
            raise StoreCorruptError(heads_path, f"{incident}: 台帳の索引の行が不正です")
        path = self._path((ref["n"] - 1) // SEGMENT)
        try:
            rec = (decode(path, read_bytes(path)).get("ledger") or {}).get(str(ref["n"]))
        except FileNotFoundError:
            rec = None
        if not isinstance(rec, dict) or rec.get("incident") != incident or rec.get("rhash") != ref.get("rhash"):
            raise StoreCorruptError(heads_path, f"{incident}: 台帳の索引が台帳の記録と一致しません (台帳 #{ref['n']}。"
                                                "台帳か索引の書き換え。csirt-desk verify で確かめてください)")
        return self._checked(path, rec)

    @staticmethod
    def _checked(path: Path, rec: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(rec, dict) or set(rec) != {*FIELDS, "rhash"} or record_hash(rec) != rec["rhash"]:
            raise StoreCorruptError(path, f"台帳 #{rec.get('n') if isinstance(rec, dict) else '?'}: "
                                          "ハッシュが一致しません (改ざん)")
        return rec

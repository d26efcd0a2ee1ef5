"""The durable store: TinyDB JSON files on the local disk.

Layout of a store directory (every file a TinyDB JSON file)::

    store.json                      schema version, profile, settings
    index/open.json                 the dashboard rows of the open incidents; per year:
                                    its count, highest number and its file's digest
    index/2026.json                 the rows of that year's incidents no longer open
    incidents/2026/2026-0007/
        timeline-0000.json          entries 1..128 of the incident
        timeline-0001.json          entries 129..256, …
    ledger/ledger-0000.json         the ledger (csirt_tui/ledger.py): every entry announced, chained
    ledger/heads/2026-000.json      each incident's newest ledger record (verify ID), upto.json
    drafts/<id>.json                intake drafts (autosaved while typing)
    roster.json                     contacts and their audit trail
    reports.json                    log of exported reports (committee summary …)
    reviews.json                    the periodic evaluation and review of the procedures (csirt_tui.reviews)
    backups/<time>-<reason>/        rotated copies of all of the above
    .lock                           the inter-process lock
    .drafts.lock                    the drafts' own lock (a draft never waits for an import)

Why sharded: single-file TinyDB rewrites the whole database on every
insert, so a write costs more the bigger the store grows. Here a timeline
append writes only the newest segment of one incident (at most 128
entries), whatever the number of incidents or entries: a flat cost. The
new entry is spliced onto the segment's bytes as one more line, after the
whole segment has been parsed (a damaged file is never written to); the
files stay ordinary TinyDB files that TinyDB itself reads. The
index (one small row per incident) is rewritten only when a dashboard
column changes (intake, triage, phase, closure), never for a note; and
while an incident is open only open.json is (small whatever the store
holds); its year's file once, when it closes. Opening the store, a note,
``show``, ``list`` and the desk's first rows read open.json and the last
bytes of each year file, nothing that grows with the closed incidents.

Every read-modify-write runs under one inter-process file lock, so two
app instances or a CLI script never lose each other's writes; readers need
no lock because each file is replaced atomically. Drafts (one file each) have
a lock of their own, so that an operator's autosave never waits for an import
that holds the store's lock for minutes (Store._with_draft_lock). Timeline entries form a
SHA-256 hash chain per incident; ``verify`` checks every chain and file.
"""

from __future__ import annotations

import bisect
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .errors import (
    DomainError,
    StoreBusyError,
    StoreCorruptError,
    StoreError,
    UnknownIncidentError,
)
from .jsonfile import (
    AtomicJSONStorage,
    FILE_MODE,
    atomic_write,
    decode,
    doc_line,
    encode,
    fsync_dir,
    is_canonical,
    make_dirs,
    read_bytes,
    read_file,
    replace,
    retry_busy,
    seal,
    splice_append,
    watching_writes,
    write_new,
)
from .ledger import Ledger, heads_key
from .textsafe import one_line
from . import peers, uids
from .model import (
    KINDS,
    Incident,
    TimelineEntry,
    clean_text,
    entry_hash,
    genesis_hash,
)

SCHEMA_VERSION = 4
IMPORT_DIR = ".import"  # an import under way: its journal and the files as they were (docs/exchange.md, 5)
HOLDER_FILE = "holder.json"  # in IMPORT_DIR: what holds the store, since when, by whom (Store.holder)
SEGMENT_SIZE = 128
BULK_INDEX = 20  # an import that makes this many incidents writes their index rows together
DEFAULT_BACKUP_KEEP = 10
ENV_STORE = "CSIRT_DESK_STORE"

# Kinds that change a dashboard column: the index row is refreshed after them.
INDEX_KINDS = frozenset({"intake", "triage", "classification", "step", "decision", "correction", "close", "reopen",
                         "notification"})

# Migration hook: MIGRATIONS[n] upgrades a store of schema n to n + 1 in place
# (called under the lock, after a backup). Version 1 is the first schema.
def _rebuild_index(root: Path) -> None:
    """1 → 2: index rows gained ``drill``. The index is derived from the timelines:
    drop it; Store.open finds no index/open.json and builds the index from the record."""
    for path in (Path(root) / "index").glob("*.json"):
        path.unlink()


def _is_chained(path: Path) -> bool:
    """Timeline and ledger segments: their records carry their own hash chain
    (and stay unsealed so that an append is one line, not a new digest)."""
    return bool(_SEGMENT_RE.match(path.name)) or path.parent.name == "ledger"


def _seal_files(root: Path) -> None:
    """2 → 3: every file but the timeline segments carries a seal (jsonfile.SEAL)."""
    for path in store_files(root):
        if not _is_chained(path):
            data = read_file(path)
            if data is not None:
                atomic_write(path, seal(data))


def _seal_and_anchor(root: Path) -> None:
    """2 → 3: every file but the segments is sealed (jsonfile.SEAL), and the
    ledger starts by anchoring each incident's head as the store holds it now."""
    _seal_files(root)
    store = Store(root, {}, None, 0)
    items = []
    for idir in store._incident_dirs():
        segs = store._segments(idir)
        rows = ((read_file(segs[-1]) or {}).get("timeline") or {}) if segs else {}
        if rows:
            last = rows[max(rows, key=int)]
            items.append((idir.name, last["seq"], last["hash"], last["prev_hash"]))
    Ledger(root).anchor(items, why="baseline")


def new_store_id() -> str:
    return secrets.token_hex(8)


def _identify(root: Path) -> None:
    """3 → 4: the store gets its identity for exchanges with other desks (docs/exchange.md):
    its own id, the family it belongs to (its own: it began one) and a desk name (empty)."""
    path = root / "store.json"
    data = read_file(path) or {"meta": {"1": {}}}
    meta = data["meta"]["1"]
    store_id = meta.get("store_id") or new_store_id()
    meta.update(store_id=store_id, family=meta.get("family") or store_id, desk=meta.get("desk") or "")
    atomic_write(path, seal(data))


MIGRATIONS: dict[int, Callable[["Path"], None]] = {1: _rebuild_index, 2: _seal_and_anchor, 3: _identify}

_ID_RE = re.compile(r"^([0-9]{4})-([0-9]{4,6})$")  # ASCII digits only (\d takes ０-９, ٠-٩ …)
_SEGMENT_RE = re.compile(r"^timeline-(\d{4,})\.json$")
DRAFTS_LOCK = ".drafts.lock"
_SKIP = {"backups", ".lock", DRAFTS_LOCK}

# ----------------------------------------------------------------- index files
# index/open.json: the rows of the open incidents (table "incidents", key YYYYNNNNNN) and,
# per year (table "years"), how many incidents it has, its highest number and the seal
# digest of its file index/<year>.json, which holds the rows of that year's incidents that
# are no longer open (収束, インシデントではない). The desk, `list` and a new report read
# open.json alone, and check each year file by its last bytes only (its seal digest must
# be the one recorded): nothing there grows with the number of closed incidents.
OPEN_INDEX = "open.json"
VERIFIED = "verified.json"  # where the ledger stood at the last check that found nothing (verify --changed)
_YEAR_FILE = re.compile(r"^([0-9]{4})\.json$")
_YEAR_HEAD = b'{\n"incidents":{'
_SEAL_TAIL = re.compile(rb',\n"_seal":\{\n"1":\{"sha256":"([0-9a-f]{64})"\}\n\}\n\}\n\Z')
_TAIL_BYTES = 128


_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(value: Any) -> Any:
    """clean_text(value), made only when it would change something: clean_text changes
    only strings holding surrogates, which one C-speed dump of the value finds (keys too)."""
    return clean_text(value) if _SURROGATE.search(json.dumps(value, ensure_ascii=False, default=str)) else value


def _open_key(year: int, number: int) -> str:
    return f"{year:04d}{number:06d}"


def _read_tail(path: Path, size: int = _TAIL_BYTES) -> bytes:
    def read() -> bytes:
        with open(path, "rb") as fh:
            end = fh.seek(0, os.SEEK_END)
            fh.seek(max(end - size, 0))
            return fh.read()

    return retry_busy(read, path)


def _tail_digest(path: Path) -> str | None:
    """The seal digest a sealed file ends with (read from its last bytes only), or None
    when it does not end as csirt-desk seals a file (damaged, truncated, unsealed)."""
    m = _SEAL_TAIL.search(_read_tail(path))
    return m.group(1).decode() if m else None


def _stage(progress: Callable[[str, int, int], None] | None, stage: str) -> Callable[[int, int], None] | None:
    """verify's ``progress`` for one stage, as a (done, total) callback."""
    if progress is None:
        return None
    return lambda done, total: progress(stage, done, total)


def _stat_of(path: Path) -> dict[str, int]:
    """A file's size and modification time (ns), as verify --changed notes them."""
    st = os.stat(path)
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _year_key(path: Path, digest: str | None) -> tuple | None:
    """What a year index file is, for rows kept from an earlier read (Store.list_incidents'
    ``keep``): the seal digest open.json records for it (checked against the file's last
    bytes before any read) with the file's size, modification time and inode. Every write
    is a new file put in place (jsonfile.atomic_write): a change from csirt-desk moves them
    all. None (read it again) when the file cannot be looked at or has no digest."""
    if not digest:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return digest, st.st_size, st.st_mtime_ns, st.st_ino


def _year_payload(lines: list[bytes]) -> tuple[bytes, str]:
    """The sealed bytes of a year index file of these row lines (``doc_line`` of each
    row, as :func:`jsonfile.seal` writes them) and its digest, made without encoding
    every row again."""
    body = _YEAR_HEAD + (b"\n" + b",\n".join(lines) + b"\n}\n}\n" if lines else b"}\n}\n")
    digest = hashlib.sha256(body).hexdigest()
    return body[:-3] + b',\n"_seal":{\n"1":{"sha256":"' + digest.encode() + b'"}\n}\n}\n', digest


def _year_sealed(raw: bytes) -> int | None:
    """Whether a year index file's bytes are exactly what :func:`_year_payload` writes, its
    seal checked by hashing (no JSON decode, no row split: the hash runs without the GIL,
    so the desk's check after its first paint leaves the screen free): the end of its rows'
    block, 0 for a file of no rows, or None."""
    m = _SEAL_TAIL.search(raw[-_TAIL_BYTES:])
    if not m:
        return None
    cut = len(raw) - len(m.group(0))
    h = hashlib.sha256(memoryview(raw)[:cut])
    h.update(b"\n}\n")
    if h.hexdigest() != m.group(1).decode():
        return None
    if cut == len(_YEAR_HEAD) + 1 and raw.startswith(_YEAR_HEAD + b"}"):
        return 0
    if not raw.startswith(_YEAR_HEAD + b"\n") or raw[cut - 2:cut] != b"\n}":
        return None
    return cut


def year_index_path(path: str | os.PathLike) -> bool:
    """``path`` is a year index file (STORE/index/YYYY.json)."""
    path = Path(path)
    return path.parent.name == "index" and bool(_YEAR_FILE.match(path.name))


def year_file_problem(path: Path, raw: bytes) -> str | None:
    """What is wrong with a year index file whose bytes are ``raw`` (None: csirt-desk's own
    bytes, sealed): truncated, not JSON, its seal not holding, written by something else."""
    if _year_sealed(raw) is not None:
        return None
    try:
        ok, problem = is_canonical(path, sealed=True)
    except StoreCorruptError as err:
        return err.problem
    except FileNotFoundError:
        return None  # replaced (moved) by another desk's write since: that one is read next time
    return None if ok else problem


def _year_lines(raw: bytes) -> list[bytes] | None:
    """The row lines of a year index file whose bytes are exactly what
    :func:`_year_payload` writes, its seal checked by hashing (no JSON decode); None
    for anything else (then it is decoded, which names what is wrong). The rows are
    joined by ",\\n" (a row is one line: :func:`jsonfile.doc_line`), split once with no
    copy of the file's bytes between."""
    cut = _year_sealed(raw)
    if not cut:
        return None if cut is None else []
    return raw[len(_YEAR_HEAD) + 1:cut - 2].split(b",\n")


def default_store_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("csirt-desk", appauthor=False)) / "store"


def resolve_store_dir(arg: str | os.PathLike | None = None) -> Path:
    """``--store`` beats ``$CSIRT_DESK_STORE`` beats the platform's user data dir."""
    if arg:
        return Path(arg).expanduser()
    env = os.environ.get(ENV_STORE)
    if env:
        return Path(env).expanduser()
    return default_store_dir()


def parse_incident_id(incident_id: str) -> tuple[int, int]:
    """(year, number) of an id in its one written form (``2026-0007``); any other
    form is an unknown id, never a lookup that could look like store damage."""
    m = _ID_RE.match(incident_id) if isinstance(incident_id, str) else None
    if not m or format_incident_id(int(m.group(1)), int(m.group(2))) != incident_id:
        shown = incident_id if not isinstance(incident_id, str) or len(incident_id) <= 40 else incident_id[:40] + "…"
        raise UnknownIncidentError(f"インシデント番号の形式が違います: {shown!r} (例: 2026-0007)")
    return int(m.group(1)), int(m.group(2))


def normalize_incident_id(text: str) -> str:
    """An id as an operator may type it (full-width ２０２６－０００７, spaces, extra
    leading zeros 2026-00007) in its written form; anything else unchanged (then
    refused by parse_incident_id as not an id)."""
    import unicodedata

    t = unicodedata.normalize("NFKC", str(text)).strip()
    m = re.fullmatch(r"([0-9]{4})\s*[-‐‑–—―ー－]\s*0*([0-9]{1,6})", t)
    return format_incident_id(int(m.group(1)), int(m.group(2))) if m else str(text)


def _anchor_problem(incident_id: str, head: tuple[int, str] | None, rec: dict[str, Any] | None,
                    tail: dict[str, Any] | None) -> str | None:
    """What is wrong between an incident's newest entry (seq, hash) and its newest
    ledger record, or None: they must be the same entry; or the record is the ledger's
    very last and announces the entry right after the head (a write cut off by a
    crash before its entry was written: the next write closes it)."""
    if head is None:
        return f"{incident_id}: 記録がありません"
    seq, hash_ = head
    if rec is None:
        return f"{incident_id}: 台帳 (ledger) に記録がありません (csirt-desk の外で作られた記録、または台帳の削除)"
    if rec["seq"] == seq and rec["hash"] == hash_:
        return None
    if tail is not None and rec["n"] == tail["n"] and rec["seq"] == seq + 1 and rec["after"] == hash_:
        return None
    if rec["seq"] > seq:
        return (f"{incident_id}: 最新の記録がありません (台帳 #{rec['n']}: 記録 #{rec['seq']} まで、"
                f"ファイル: #{seq} まで。最新の記録の削除・巻き戻し)")
    return (f"{incident_id}#{seq}: 台帳 (ledger) の記録と一致しません"
            f" (台帳 #{rec['n']}: 記録 #{rec['seq']} {rec['hash'][:12]}…。書き換え)")


# What store.json's one record holds: every key csirt-desk reads, and its type.
_META_TYPES: dict[str, type] = {"app": str, "schema": int, "profile": str, "created_at": str, "backup_keep": int}
_META_SINCE_4: dict[str, type] = {"store_id": str, "family": str, "desk": str}  # the store's identity


def _check_meta(path: Path, meta: Any) -> None:
    """Refuse a store.json whose record csirt-desk cannot use (StoreCorruptError):
    better one clear message at open than a KeyError in every command."""
    if not isinstance(meta, dict) or meta.get("app") != "csirt-desk":
        raise StoreCorruptError(path, "csirt-desk のストアではありません (no meta record)")
    schema = meta.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise StoreCorruptError(path, f"スキーマ版数が不正です: {schema!r}")
    if schema > SCHEMA_VERSION:
        raise StoreCorruptError(
            path, f"スキーマ版数 {schema} はこの版 (対応: {SCHEMA_VERSION}) より新しいです。csirt-desk を更新してください")
    types = {**_META_TYPES, **(_META_SINCE_4 if schema >= 4 else {})}
    for key, kind in types.items():
        if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool):
            raise StoreCorruptError(path, f"項目 {key!r} がないか、型が不正です ({type(meta.get(key)).__name__})")
    for key in ("store_id", "family"):
        if key in meta and not (isinstance(meta[key], str) and re.fullmatch(r"[0-9a-f]{16}", meta[key])):
            raise StoreCorruptError(path, f"項目 {key!r} が不正です ({str(meta[key])[:40]!r})")
    unknown = sorted(set(meta) - set(_META_TYPES) - set(_META_SINCE_4))  # an older store may have them already
    if unknown:
        raise StoreCorruptError(path, f"知らない項目があります: {', '.join(map(repr, unknown))}")
    if meta["backup_keep"] < 1:
        raise StoreCorruptError(
            path, f"backup_keep は 1 以上にしてください ({meta['backup_keep']} では次のバックアップが全部を消します)")


def _oldest_first(row: dict[str, Any]) -> str:
    """The order of :func:`_newest_first` (ascending) as one string: a row's receipt time, NUL,
    its number (NUL sorts before any character of either). No tuple per row: the rows kept
    for the desk's 全件 (Store.list_incidents' keep) are 200,000, and tuples are objects the
    garbage collector walks, holding the interpreter's lock (bench/dashboard_stall.py)."""
    return f"{row.get('received_at') or ''}\0{row['id']}"


def _newest_first(row: dict[str, Any]) -> tuple[str, str]:
    return row.get("received_at") or "", row["id"]


def format_incident_id(year: int, number: int) -> str:
    return f"{year}-{number:04d}"


def newest_backup(root: Path) -> Path | None:
    backups = list_backup_dirs(root)
    return backups[0] if backups else None


def list_backup_dirs(root: Path) -> list[Path]:
    bdir = Path(root) / "backups"
    if not bdir.is_dir():
        return []
    from .backup import is_restore_point

    dirs = [p for p in bdir.iterdir() if p.is_dir() and not p.name.startswith(".") and is_restore_point(p)]
    return sorted(dirs, key=lambda p: p.name, reverse=True)


def store_files(root: Path) -> Iterator[Path]:
    """Every data file of a store (not backups, lock or temp files), sorted."""
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        if rel == Path("."):
            dirnames[:] = [d for d in dirnames if d not in _SKIP]
        # hidden folders are unfinished work (e.g. an incident being created)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(".json") and not name.startswith("."):
                yield Path(dirpath) / name


@dataclass
class VerifyReport:
    files: int = 0
    incidents: int = 0
    entries: int = 0
    problems: list[str] = field(default_factory=list)
    # writes cut off by a crash and closed in the ledger ("ID#seq" of the entry never written)
    closings: list[str] = field(default_factory=list)
    full: bool = False  # verify --changed found no earlier check and did the whole one

    @property
    def ok(self) -> bool:
        return not self.problems


class Store:
    """One store directory. Open it with :meth:`Store.open`."""

    def __init__(self, root: Path, meta: dict[str, Any], clock: Callable[[], datetime] | None,
                 lock_timeout: float) -> None:
        from filelock import FileLock

        self.root = root
        self.meta = meta
        self._clock = clock
        self._lock = FileLock(str(root / ".lock"), timeout=lock_timeout, mode=FILE_MODE)
        # Drafts have their own lock: the store's is held for minutes by a large import (or a
        # backup, a reindex), and the autosave of what an operator types must not wait for that.
        self._drafts_lock = FileLock(str(root / DRAFTS_LOCK), timeout=lock_timeout, mode=FILE_MODE)
        self._profile = None
        self.readonly = False
        self.set_aside: list[tuple[Path, str]] = []
        self.notices: list[str] = []  # what opening or reading found and did (a stale index made again)
        self._ledger = Ledger(root)
        self._confirmed: str | None = None  # the ledger record whose entry this Store wrote last
        self._pending: dict[str, Any] | None = None  # the record of the entry being written
        self._row_checked: str | None = None  # the ledger record whose incident's index row was last looked at
        self._importing = False  # within import_all (its journal is this Store's own)
        self._import_thread: int | None = None  # the thread running it (the desk's draft writers are others)
        self._brief: dict[int, float] = {}  # thread -> seconds it waits for the store's lock (wait_briefly)
        self._drafts_writer: int | None = None  # the thread of this process that holds the drafts' lock
        self._backup_give_way: threading.Event | None = None  # set: this process's backup running gives way
        self._announce: Callable[[list[Path]], None] | None = None  # import_all's journal, for a batch
        # the newest backup's damaged files, left out of it (backup.make): "file: problem" each
        self.backup_damaged: list[str] = []

    # ------------------------------------------------------------------ open
    @classmethod
    def open(cls, root: str | os.PathLike, *, profile: str | None = None, create: bool = True,
             clock: Callable[[], datetime] | None = None, lock_timeout: float = 15.0,
             check_index: bool = True) -> "Store":
        """Open (or create) a store; refuses corrupt files and unknown schema versions.
        ``check_index=False``: a damaged year index file is not refused (nor a stale index
        made again): for ``backup``, which saves what is intact and names what is not."""
        root = Path(root)
        meta_path = root / "store.json"
        store = cls(root, {}, clock, lock_timeout)
        if (root / RESTORE_JOURNAL).exists() or (not meta_path.exists() and root.is_dir()):
            # a restore under way waits for its lock; one killed half-way is finished now
            with store.locked():
                _finish_restore(root)
        if not meta_path.exists():
            if list_backup_dirs(root):
                raise StoreError(f"{root}: store.json がありません。バックアップがあるので、新しいストアは作りません。"
                                 "csirt-desk restore --list で確かめて csirt-desk restore で戻してください")
            if not create:
                raise StoreError(f"{root}: ストアがありません (store.json not found)")
            if root.exists() and any(p.name not in _SKIP for p in root.iterdir()):
                raise StoreError(f"{root}: store.json がなく、空でもないフォルダです。ストアとして使えません")
            make_dirs(root)
        try:
            store._acquire()
        except OSError as err:  # the lock file cannot be made: a read-only store (a CD, a mounted backup)
            if err.errno not in (errno.EROFS, errno.EACCES, errno.EPERM) or not meta_path.exists():
                raise
            return store._open_read_only(profile)
        try:
            # again under the lock: a restore may have run (or died) while this waited for it
            if (root / RESTORE_JOURNAL).exists():
                _finish_restore(root)
            if (root / IMPORT_DIR).exists():  # an import killed half-way: the store as it was before it
                _undo_import(root)
            if not meta_path.exists() and (list_backup_dirs(root) or not create):
                raise StoreError(f"{root}: store.json がありません。バックアップがあるので、新しいストアは作りません。"
                                 "csirt-desk restore --list で確かめて csirt-desk restore で戻してください")
            meta = store._read_meta(create=create, profile=profile)
            store.meta = meta
            if meta["schema"] < SCHEMA_VERSION:
                store._migrate(meta["schema"])
                store.meta = store._read_meta(create=False, profile=None)
            # open.json, and each year file's last bytes (its digest): refuses a damaged
            # index now, before any write, and makes a stale one again (nothing read grows
            # with the closed incidents; the whole check is verify's)
            if check_index:
                store._check_index(repair=True)
            uids.ensure(store)  # index/uids.json: incidents of other desks (csirt_tui/uids.py)
            store._refresh_last_row()
        finally:
            store._lock.release()
        if profile and profile != store.meta["profile"]:
            raise StoreError(
                f"{root}: このストアのプロファイルは {store.meta['profile']!r} です"
                f" (--profile {profile} とは違います)")
        return store

    def _read(self, path: Path) -> dict[str, dict[str, Any]] | None:
        try:
            return read_file(path)
        except StoreCorruptError as err:
            raise StoreCorruptError(err.path, err.problem, newest_backup(self.root)) from None

    def _read_meta(self, *, create: bool, profile: str | None) -> dict[str, Any]:
        path = self.root / "store.json"
        data = self._read(path)
        if data is None:
            if not create:
                raise StoreError(f"{self.root}: ストアがありません")
            from .profiles import DEFAULT_PROFILE_ID, load_profile

            pid = profile or DEFAULT_PROFILE_ID
            load_profile(pid)  # unknown profile: fail before creating anything
            store_id = new_store_id()
            meta = {
                "schema": SCHEMA_VERSION,
                "profile": pid,
                "created_at": self.now().isoformat(timespec="seconds"),
                "backup_keep": DEFAULT_BACKUP_KEEP,
                "app": "csirt-desk",
                "store_id": store_id,
                "family": store_id,
                "desk": "",
            }
            atomic_write(path, seal({"meta": {"1": meta}}))
            self._ledger.start_heads()  # each incident's newest ledger record, kept from the first write
            return meta
        meta = (data.get("meta") or {}).get("1")
        try:
            _check_meta(path, meta)
        except StoreCorruptError as err:
            raise StoreCorruptError(path, err.problem, newest_backup(self.root)) from None
        return meta

    def _migrate(self, version: int) -> None:
        self._backup_locked(f"before-migration-v{version}")
        while version < SCHEMA_VERSION:
            step = MIGRATIONS.get(version)
            if step is None:
                raise StoreError(f"{self.root}: スキーマ {version} からの移行手順がありません")
            step(self.root)
            version += 1
            data = self._read(self.root / "store.json") or {"meta": {"1": {}}}
            data["meta"]["1"]["schema"] = version
            atomic_write(self.root / "store.json", seal(data))

    # ------------------------------------------------------------- basics
    @property
    def profile(self):
        if self._profile is None:
            from .profiles import load_profile

            self._profile = load_profile(self.meta["profile"])
        return self._profile

    def now(self) -> datetime:
        if self._clock is not None:
            return self._clock()
        if self.meta.get("profile"):
            tz = self.profile.timezone
        else:
            from zoneinfo import ZoneInfo

            tz = ZoneInfo("Asia/Tokyo")
        return datetime.now(tz).replace(microsecond=0)

    def _open_read_only(self, profile: str | None) -> "Store":
        """A store that cannot be written (read-only medium or folder): it can be
        listed, shown, exported from and verified; every write is refused in one line."""
        self.readonly = True
        self.meta = self._read_meta(create=False, profile=None)
        if self.meta["schema"] < SCHEMA_VERSION:
            raise StoreError(f"{self.root}: 古い版のストアで、更新が必要ですが読み取り専用です。"
                             "書き込める場所にコピーしてから開いてください")
        self._check_index(repair=False)
        if profile and profile != self.meta["profile"]:
            raise StoreError(f"{self.root}: このストアのプロファイルは {self.meta['profile']!r} です"
                             f" (--profile {profile} とは違います)")
        return self

    def wait_briefly(self, seconds: float | None) -> None:
        """On the calling thread, every wait for the store's lock that has no timeout of its own
        lasts ``seconds`` at most, then StoreBusyError (None: the store's own timeout again). The
        desk's screen thread: a save while a large import holds the store (minutes) said so
        within a fraction of a second; it froze every key for the 15 s of the store's timeout."""
        ident = threading.get_ident()
        if seconds is None:
            self._brief.pop(ident, None)
        else:
            self._brief[ident] = seconds

    def brief_wait(self) -> float | None:
        """The seconds the calling thread waits for a lock (wait_briefly), None: no brief wait."""
        return self._brief.get(threading.get_ident())

    # A brief wait that finds this process's own backup holding the lock: the backup gives way
    # (stopped before its next file, BackupStopped; made again later) and the wait lasts this long
    OWN_BACKUP_WAIT = 2.0

    def _acquire(self, timeout: float | None = None) -> None:
        from filelock import Timeout

        if timeout is None:
            timeout = self._brief.get(threading.get_ident())
            give_way = self._backup_give_way
            if timeout is not None and give_way is not None:
                # the desk's own backup (a whole copy of a large store: 42 s here) holds it: a save
                # on the screen's thread was refused as if another window held the store
                give_way.set()
                timeout = max(timeout, self.OWN_BACKUP_WAIT)
        try:
            self._lock.acquire(timeout=timeout)
        except Timeout:
            holder = self.holder()
            said = f": {holder_text(holder)}" if holder else ""
            raise StoreBusyError(f"{self.root}: 他のプロセスがストアを使用中です{said} (lock timeout)",
                                 holder) from None

    def lock_free(self) -> bool:
        """The store's lock and the drafts' lock can be taken now (each tried without waiting,
        and let go at once)."""
        from filelock import Timeout

        if self.readonly:
            return False
        for lock in (self._lock, self._drafts_lock):
            try:
                lock.acquire(timeout=0)
            except (Timeout, OSError):
                return False
            lock.release()
        return True

    def holder(self) -> dict[str, Any] | None:
        """What the store says holds its lock for long, read without the lock: an import (its
        HOLDER_FILE: ``what``, ``started``, ``by``, ``host``, ``pid``) or a restore under way.
        None: it says nothing (a backup, a reindex, another desk's write)."""
        if (self.root / RESTORE_JOURNAL).exists():
            return {"what": "restore"}
        jdir = self.root / IMPORT_DIR
        try:
            doc = json.loads(read_bytes(jdir / HOLDER_FILE).decode("utf-8"))
        except (OSError, ValueError):
            return {"what": "import"} if (jdir / "journal.json").exists() else None
        return doc if isinstance(doc, dict) else {"what": "import"}

    def _writable(self) -> None:
        if self.readonly:
            raise StoreError(f"{self.root}: 読み取り専用のストアです (書き込めない場所)。記録の追加・変更はできません。"
                             "書き込める場所にコピーしてください")

    @contextmanager
    def locked(self, timeout: float | None = None) -> Iterator[None]:
        """The store's lock (``timeout``: seconds to wait for it, None: the store's own)."""
        self._writable()
        self._acquire(timeout)
        try:
            if not self._importing and (self.root / IMPORT_DIR / "journal.json").exists():
                # an import that died (or could not be undone) since: undone before anything is
                # written on top of it, or the write is refused (an undo later would erase it)
                _undo_import(self.root)
                self._ledger, self._confirmed = Ledger(self.root), None
            yield
        finally:
            self._lock.release()

    def _db(self, path: Path):
        from tinydb import TinyDB

        return TinyDB(path, storage=AtomicJSONStorage)

    # ----------------------------------------------------------- incidents
    def _incident_dir(self, incident_id: str) -> Path:
        year, _ = parse_incident_id(incident_id)
        return self.root / "incidents" / str(year) / incident_id

    def _segments(self, idir: Path) -> list[Path]:
        if not idir.is_dir():
            return []
        segs = [p for p in idir.iterdir() if _SEGMENT_RE.match(p.name)]
        return sorted(segs, key=lambda p: int(_SEGMENT_RE.match(p.name).group(1)))

    def _record_segments(self, incident_id: str, idir: Path) -> list[Path]:
        """The segments of a recorded incident, refusing a record with a file missing:
        numbered 0, 1, 2, … without a gap, and at least the first one."""
        segs = self._segments(idir)
        for expect, seg in enumerate(segs):
            if int(_SEGMENT_RE.match(seg.name).group(1)) != expect:
                raise StoreCorruptError(idir / f"timeline-{expect:04d}.json",
                                        "記録の区分ファイルがありません (missing)", newest_backup(self.root))
        if not segs:
            if idir.is_dir() or self._indexed(incident_id):
                raise StoreCorruptError(idir / "timeline-0000.json",
                                        "記録の区分ファイルがありません (missing)", newest_backup(self.root))
            raise UnknownIncidentError(f"インシデント {incident_id} はありません")
        return segs

    def _indexed(self, incident_id: str) -> bool:
        try:
            return self._row_of(incident_id) is not None
        except StoreCorruptError:
            return False

    def _read_segment(self, path: Path) -> list[dict[str, Any]]:
        data = self._read(path) or {}
        docs = data.get("timeline", {})
        return [docs[k] for k in sorted(docs, key=int)]

    def incident_stamp(self, incident_id: str) -> tuple:
        """A cheap fingerprint of one incident's record files: changes when any process appends."""
        try:
            segs = self._segments(self._incident_dir(incident_id))
        except UnknownIncidentError:
            return ()
        stamp = []
        for seg in segs:
            try:
                st = seg.stat()
            except OSError:
                continue
            stamp.append((seg.name, st.st_mtime_ns, st.st_size))
        return tuple(stamp)

    def exists(self, incident_id: str) -> bool:
        try:
            return bool(self._segments(self._incident_dir(incident_id)))
        except UnknownIncidentError:
            return False

    def timeline(self, incident_id: str) -> list[TimelineEntry]:
        self._not_restoring()
        segs = self._record_segments(incident_id, self._incident_dir(incident_id))
        entries = [TimelineEntry.from_dict(doc) for seg in segs for doc in self._read_segment(seg)]
        self._not_restoring()
        return entries

    def timeline_tail(self, incident_id: str, count: int) -> tuple[list[TimelineEntry], int]:
        """The newest ``count`` entries (reading only the last segments) and the total number."""
        segs = self._record_segments(incident_id, self._incident_dir(incident_id))
        docs: list[dict[str, Any]] = []
        for seg in reversed(segs):
            docs[:0] = self._read_segment(seg)
            if len(docs) >= count:
                break
        total = docs[-1]["seq"] if docs else 0
        return [TimelineEntry.from_dict(d) for d in docs[-count:]], total

    def incident(self, incident_id: str) -> Incident:
        return Incident.from_entries(incident_id, self.timeline(incident_id), store_id=self.store_id)

    @property
    def store_id(self) -> str:
        """This store's id among the desks it exchanges with (docs/exchange.md)."""
        return self.meta.get("store_id", "")

    @property
    def family(self) -> str:
        return self.meta.get("family", "")

    @property
    def desk(self) -> str:
        return self.meta.get("desk", "")

    def create_incident(self, intake: dict[str, Any], *, operator: str, text: str | None = None) -> Incident:
        """Record a report: a new incident whose first entry is the 受付 (intake)."""
        intake = clean_text(dict(intake))
        now = self.now()
        received = intake.get("received_at") or now.isoformat(timespec="seconds")
        intake["received_at"] = received
        year = datetime.fromisoformat(received).astimezone(now.tzinfo).year
        with self.locked():
            inc = self._create_locked(year, text or "受付", intake, operator, now)
            self._update_index(inc, new=True)
        return inc

    def _create_locked(self, year: int, text: str, intake: dict[str, Any], operator: str, now: datetime, *,
                       at: str | None = None, occurred_at: str | None = None,
                       origin: dict[str, Any] | None = None) -> Incident:
        """A new incident of ``year`` (the next number) whose first entry is the intake."""
        number = self._last_number(year) + 1
        while (self.root / "incidents" / str(year) / format_incident_id(year, number)).exists():
            number += 1  # a shard left by a crash before its index row
        incident_id = format_incident_id(year, number)
        # The incident appears at once with its first entry: written in a
        # hidden folder, then renamed into place (a crash leaves no empty shard).
        idir = self._incident_dir(incident_id)
        tmp = idir.with_name(f".new-{incident_id}-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        make_dirs(tmp)
        entry = self._append_locked(incident_id, tmp, "intake", text, intake, operator, occurred_at, None, now,
                                    at=at, origin=origin)
        try:
            replace(tmp, idir)
        except Exception:
            self._refused(self._pending)  # the folder is not in place: the intake is not recorded
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._confirmed = self._pending["rhash"]
        fsync_dir(idir.parent)
        return Incident.from_entries(incident_id, [entry], store_id=self.store_id)

    def _last_number(self, year: int) -> int:
        """The highest number taken in ``year``, as open.json records it (a number a crash
        took without its row is skipped by the caller: its folder exists)."""
        doc = self._read_open_index()
        if doc is None:
            return 0
        return (doc["years"].get(str(year)) or {}).get("last", 0)

    def take_notices(self) -> list[str]:
        """What opening or reading the store found and did since the last call
        (a stale index made again from the record, or one that could not be)."""
        taken, self.notices = self.notices, []
        return taken

    def append(self, incident_id: str, kind: str, text: str, *, operator: str,
               data: dict[str, Any] | None = None, occurred_at: str | None = None,
               corrects: int | None = None) -> TimelineEntry:
        """Append one entry to an incident's record (never edits an old one)."""
        if kind not in KINDS or kind == "intake":
            raise DomainError(f"記録の種類が不正です: {kind!r}")
        idir = self._incident_dir(incident_id)
        with self.locked():
            entry = self._append_locked(incident_id, idir, kind, text, data or {}, operator,
                                        occurred_at, corrects, self.now())
            if kind in INDEX_KINDS:
                self._update_index(self.incident(incident_id))
        return entry

    def _append_locked(self, incident_id, idir, kind, text, data, operator, occurred_at,
                       corrects, now, *, at: str | None = None, origin: dict[str, Any] | None = None
                       ) -> TimelineEntry:
        """Write one entry (the lock held). ``at`` and ``origin``: an entry another desk wrote,
        appended here with its own recorded time and where it came from (docs/exchange.md)."""
        segs = self._segments(idir) if kind == "intake" else self._record_segments(incident_id, idir)
        raw = b""
        seg_data: dict[str, Any] = {}
        last = None
        if segs:
            # Parsing the whole segment validates it: a corrupt file is never written to.
            raw = read_bytes(segs[-1])
            try:
                seg_data = decode(segs[-1], raw)
            except StoreCorruptError as err:
                raise StoreCorruptError(err.path, err.problem, newest_backup(self.root)) from None
            rows = seg_data.get("timeline") or {}
            if not rows:
                raise StoreCorruptError(segs[-1], "記録がありません (empty timeline)", newest_backup(self.root))
            last = rows[max(rows, key=int)]
        seq = last["seq"] + 1 if last else 1
        if corrects is not None and not (isinstance(corrects, int) and 1 <= corrects < seq):
            raise DomainError(f"訂正対象の記録 #{corrects} はありません")
        entry = clean_text({
            "incident": incident_id,
            "seq": seq,
            "at": at or now.isoformat(timespec="seconds"),
            "occurred_at": occurred_at,
            "operator": operator,
            "kind": kind,
            "text": text,
            "data": data,
            "corrects": corrects,
            "prev_hash": last["hash"] if last else genesis_hash(incident_id),
        })
        if origin is not None:
            entry["origin"] = clean_text(origin)
        entry["hash"] = entry_hash(entry)
        # the ledger announces the entry before it is written (csirt_tui/ledger.py)
        self._pending = self._anchor_locked([(incident_id, seq, entry["hash"], entry["prev_hash"])])
        seg_no = (seq - 1) // SEGMENT_SIZE
        path = idir / f"timeline-{seg_no:04d}.json"
        if segs and path == segs[-1]:
            if str(seq) in seg_data.get("timeline", {}):  # append-only: never replace an entry
                raise StoreCorruptError(path, f"記録 #{seq} が既にあります", newest_backup(self.root))
            payload = splice_append(raw, seg_data, "timeline", seq, entry)
        else:
            payload = encode({"timeline": {str(seq): entry}})
        try:
            atomic_write(path, payload)
        except Exception:
            # refused in plain words (a full disk, a held file): close the ledger's record now,
            # so that verify does not take it for a crash later
            self._refused(self._pending, (last["seq"], last["hash"]) if last else None)
            raise
        if kind != "intake":  # an intake is confirmed once its folder is in place
            self._confirmed = self._pending["rhash"]
        return TimelineEntry.from_dict(entry)

    # -------------------------------------------------------------- import (docs/exchange.md)
    def import_all(self, work: Callable[[], Any], *, by: str = "") -> Any:
        """Run ``work`` as one import: every file it changes is journaled first (IMPORT_DIR), so
        that a failure (a full disk) or a kill anywhere in it leaves the store as it was before
        (undone at once, or by the next open). ``work`` uses the ``imported_*`` methods below.
        ``by``: the operator, said (with when it started) to a desk that finds the store busy."""
        with self.locked():
            jdir = self.root / IMPORT_DIR
            if jdir.exists():
                _undo_import(self.root)
            make_dirs(jdir / "saved")
            import socket

            atomic_write(jdir / HOLDER_FILE, json.dumps(
                {"what": "import", "started": self.now().isoformat(timespec="seconds"), "by": by,
                 "host": socket.gethostname(), "pid": os.getpid()}, ensure_ascii=False).encode("utf-8"))
            journal: dict[str, list] = {"saved": [], "created": []}
            touched: set[Path] = set()

            def write_journal() -> None:
                atomic_write(jdir / "journal.json", json.dumps(journal, ensure_ascii=False).encode("utf-8"))

            def before(path: Path) -> None:
                if path in touched or path == jdir or jdir in path.parents:
                    return
                touched.add(path)
                rel = path.relative_to(self.root).as_posix()
                if path.is_file():
                    n = len(journal["saved"])
                    write_new(jdir / "saved" / str(n), read_bytes(path))
                    journal["saved"].append([rel, n])
                elif not path.exists():
                    journal["created"].append(rel)
                write_journal()  # on disk before the file is replaced

            write_journal()

            def announce(paths: list[Path]) -> None:
                """Many folders about to be put in place (a batch of incidents): one journal write."""
                fresh = [p for p in paths if p not in touched and not p.exists()]
                touched.update(fresh)
                journal["created"].extend(p.relative_to(self.root).as_posix() for p in fresh)
                if fresh:
                    write_journal()

            self._announce = announce
            self._importing = True
            self._import_thread = threading.get_ident()
            try:
                with watching_writes(before):
                    result = work()
            except BaseException as err:
                try:
                    _undo_import(self.root)
                except Exception as undo_err:  # a full disk: the journal stays; the next write undoes it first
                    raise StoreError(f"{self.root}: 取り込みを途中でやめましたが、まだ元に戻せていません"
                                     f" ({undo_err})。ディスクの空きができれば、次の記録の前に自動で元に戻します"
                                     ) from err
                raise
            finally:
                self._importing = False
                self._import_thread = None
                self._announce = None
                self._ledger, self._confirmed = Ledger(self.root), None  # its cached tail may be undone
            os.unlink(jdir / "journal.json")  # the import is complete from here on
            fsync_dir(jdir)
            shutil.rmtree(jdir, ignore_errors=True)
            return result

    def join_family(self, family: str, desk: str | None = None) -> None:
        """A new store (no incident yet, its own family) joins another desk's family: the
        terminal set up from the desk's first bundle (docs/exchange.md, 1)."""
        if not re.fullmatch(r"[0-9a-f]{16}", family):
            raise DomainError(f"family が不正です: {family[:40]!r}")
        with self.locked():
            if family == self.family and desk is None:
                return
            if family != self.family and (self.family != self.store_id or self._has_incidents()):
                raise StoreError(f"{self.root}: このストアは既に別のデスクとつながっています。"
                                 "新しい空のストアで取り込んでください")
            path = self.root / "store.json"
            data = self._read(path)
            meta = data["meta"]["1"]
            meta["family"] = family
            if desk is not None:
                meta["desk"] = desk
            atomic_write(path, seal(data))
            self.meta = meta

    def _whole_entries(self, incident_id: str, specs: list[dict[str, Any]]
                       ) -> tuple[list[TimelineEntry], dict[int, dict[str, Any]]]:
        """The entries :meth:`append` would write for ``specs`` (another desk's, in order) in a new
        incident ``incident_id``, and its segments' rows."""
        segments: dict[int, dict[str, Any]] = {}
        return self._chain_imported(incident_id, specs, 1, genesis_hash(incident_id), segments), segments

    @staticmethod
    def _chain_imported(incident_id: str, specs: list[dict[str, Any]], seq: int, prev: str,
                        segments: dict[int, dict[str, Any]]) -> list[TimelineEntry]:
        """Entries another desk wrote (``specs``, in order) as this desk appends them from number
        ``seq`` after the entry whose hash is ``prev``; each put in its segment's rows."""
        entries = []
        for seq, spec in enumerate(specs, start=seq):
            if spec["kind"] not in KINDS or (spec["kind"] == "intake") != (seq == 1):
                raise DomainError(f"記録の種類が不正です: {spec['kind']!r}")
            corrects = spec["corrects"]
            if corrects is not None and not (isinstance(corrects, int) and 1 <= corrects < seq):
                raise DomainError(f"訂正対象の記録 #{corrects} はありません")
            entry = _clean({  # clean_text only where it changes something (a surrogate): a dump, not a walk
                "incident": incident_id, "seq": seq, "at": spec["at"], "occurred_at": spec["occurred_at"],
                "operator": spec["operator"], "kind": spec["kind"], "text": spec["text"], "data": spec["data"],
                "corrects": corrects, "prev_hash": prev, "origin": spec["origin"],
            })
            entry["hash"] = prev = entry_hash(entry)
            segments.setdefault((seq - 1) // SEGMENT_SIZE, {})[str(seq)] = entry
            entries.append(TimelineEntry.from_dict(entry))
        return entries

    def _import_year(self, specs: list[dict[str, Any]]) -> int:
        received = specs[0]["data"].get("received_at") or specs[0]["at"]
        return datetime.fromisoformat(received).astimezone(self.now().tzinfo).year

    def _write_hidden(self, incident_id: str, segments: dict[int, dict[str, Any]]) -> tuple[Path, Path]:
        """An incident's segments in a hidden folder beside where it goes; (folder, its place)."""
        idir = self._incident_dir(incident_id)
        tmp = idir.with_name(f".new-{incident_id}-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        if not idir.parent.is_dir():
            make_dirs(idir.parent)
        os.mkdir(tmp, 0o700)  # durable once renamed: its parent is fsynced after the rename
        for seg_no, docs in segments.items():
            write_new(tmp / f"timeline-{seg_no:04d}.json", encode({"timeline": docs}))
        fsync_dir(tmp)
        return tmp, idir

    def imported_many(self, batch: list[list[dict[str, Any]]]) -> list[Incident]:
        """New incidents here that arrive whole (each its intake and every later entry another
        desk wrote; within :meth:`import_all`). Their entries are those :meth:`append` would
        write one by one (chain, hashes, ledger records: the same bytes), at a fraction of the
        writes (a terminal's first whole import took 120 s for 50,000 entries entry by entry):
        every incident's segments written into a hidden folder, all the folders journaled in one
        write, every entry announced in the ledger in one write, then the folders renamed into
        place (a kill before the journal is gone undoes them with the rest). Their index rows
        are :meth:`imported_indexed`'s (once, after every batch)."""
        if not batch:
            return []
        doc = self._read_open_index() or self._empty_index()
        last_no = {int(y): rec["last"] for y, rec in doc["years"].items()}
        made: list[tuple[Path, Path, list[TimelineEntry]]] = []
        try:
            for specs in batch:
                year = self._import_year(specs)
                number = last_no.get(year, 0) + 1
                while (self.root / "incidents" / str(year) / format_incident_id(year, number)).exists():
                    number += 1  # a shard left by a crash before its index row
                last_no[year] = number
                incident_id = format_incident_id(year, number)
                entries, segments = self._whole_entries(incident_id, specs)
                made.append((*self._write_hidden(incident_id, segments), entries))
            if self._announce is not None:
                self._announce([idir for _, idir, _ in made])
            last = self._anchor_locked([(e.incident, e.seq, e.hash, e.prev_hash) for _, _, es in made for e in es])
            for tmp, idir, _ in made:
                replace(tmp, idir)
        except BaseException:
            for tmp, _, _ in made:
                shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._confirmed = last["rhash"]
        for parent in {idir.parent for _, idir, _ in made}:
            fsync_dir(parent)
        return [Incident.from_entries(idir.name, entries, store_id=self.store_id) for _, idir, entries in made]

    def imported_indexed(self, rows: list[tuple[str, dict[str, Any]]]) -> None:
        """The index rows (number, :meth:`index_row`) of the incidents :meth:`imported_many`
        made (within :meth:`import_all`; the rows, not the incidents, so that a whole store's
        entries are not held until the last batch): a few, row by row; many, put in together
        (each year file and open.json written once, as bulk_create does)."""
        if len(rows) < BULK_INDEX:
            for incident_id, row in rows:
                self._put_row(incident_id, row, new=True)
            return
        doc = self._read_open_index()
        if doc is None or self._stale_years(doc):
            self._rebuild_index(None)  # (reads every incident: the rows below are then there already)
            return
        lines: dict[int, list[bytes]] = {}
        counts: dict[int, int] = {}
        last: dict[int, int] = {}
        for incident_id, row in rows:
            year, number = parse_incident_id(incident_id)
            if row["status"] == "open":
                doc["incidents"][_open_key(year, number)] = row
            else:
                lines.setdefault(year, []).append(doc_line(number, row).encode("utf-8"))
            counts[year] = counts.get(year, 0) + 1
            last[year] = max(last.get(year, 0), number)
        for year in sorted(counts):  # each year's file once (its old rows, then the new closed ones)
            rec = doc["years"].get(str(year))
            have = self._year_file_lines(year)[1] if rec is not None else []
            payload, digest = _year_payload(have + lines.get(year, []))
            make_dirs(self._index_path(year).parent)
            atomic_write(self._index_path(year), payload)
            doc["years"][str(year)] = {"year": year, "count": (rec["count"] if rec else 0) + counts[year],
                                       "last": max(rec["last"] if rec else 0, last[year]), "sha256": digest}
        self._write_open_index(doc)

    def imported_entry(self, incident_id: str, spec: dict[str, Any]) -> TimelineEntry:
        """An entry another desk wrote, appended here (within :meth:`import_all`)."""
        if spec["kind"] not in KINDS or spec["kind"] == "intake":
            raise DomainError(f"記録の種類が不正です: {spec['kind']!r}")
        return self._append_locked(incident_id, self._incident_dir(incident_id), spec["kind"], spec["text"],
                                   spec["data"], spec["operator"], spec["occurred_at"], spec["corrects"], self.now(),
                                   at=spec["at"], origin=spec["origin"])

    def imported_entries(self, incident_id: str, specs: list[dict[str, Any]]) -> list[TimelineEntry]:
        """Entries another desk wrote, appended here all at once (within :meth:`import_all`): the
        entries :meth:`imported_entry` would write one by one (the same bytes), announced in the
        ledger in one write and each segment written once (10 entries: 60 fsyncs one by one)."""
        idir = self._incident_dir(incident_id)
        segs = self._record_segments(incident_id, idir)
        raw = read_bytes(segs[-1])
        try:
            rows = dict(decode(segs[-1], raw).get("timeline") or {})
        except StoreCorruptError as err:
            raise StoreCorruptError(err.path, err.problem, newest_backup(self.root)) from None
        if not rows:
            raise StoreCorruptError(segs[-1], "記録がありません (empty timeline)", newest_backup(self.root))
        last = rows[max(rows, key=int)]
        segments: dict[int, dict[str, Any]] = {(last["seq"] - 1) // SEGMENT_SIZE: rows}
        entries = self._chain_imported(incident_id, specs, last["seq"] + 1, last["hash"], segments)
        if not entries:
            return []
        last_rec = self._anchor_locked([(e.incident, e.seq, e.hash, e.prev_hash) for e in entries])
        for seg_no in sorted({(e.seq - 1) // SEGMENT_SIZE for e in entries}):  # the segments that grew
            atomic_write(idir / f"timeline-{seg_no:04d}.json", encode({"timeline": segments[seg_no]}))
        self._confirmed = last_rec["rhash"]
        return entries

    def imported_done(self, incident_id: str) -> None:
        """The incident's index row after its imported entries (within :meth:`import_all`)."""
        self._update_index(self.incident(incident_id))

    # -------------------------------------------------------------- ledger
    def _head(self, incident_id: str) -> tuple[int, str] | None:
        """(seq, hash) of an incident's newest entry, None when it has no record."""
        try:
            segs = self._segments(self._incident_dir(incident_id))
        except DomainError:
            return None
        if not segs:
            return None
        rows = (self._read(segs[-1]) or {}).get("timeline") or {}
        if not rows:
            return None
        last = rows[max(rows, key=int)]
        return last["seq"], last["hash"]

    def _anchor_locked(self, items: list[tuple[str, int, str, str]], *,
                       durable: bool = True) -> dict[str, Any] | None:
        """Announce entries in the ledger (before they are written); returns the last
        record. The ledger's last record is checked first, unless this Store wrote it
        and its entry: a write killed half-way leaves a record whose entry is not there."""
        try:
            tail = self._ledger._tail()
            if tail[3] is not None and tail[3]["rhash"] != self._confirmed:
                last = tail[3]
                if self._ledger.close_unfinished(self._head) is not None:
                    tail = None  # read again: the closing record is the tail now
                # another desk wrote last (or was killed between its entry and its index row):
                # that incident's row, as Store.open looks at it
                self._refresh_last_row(last)
            records = self._ledger.anchor(items, durable=durable, tail=tail)
        except StoreCorruptError as err:
            raise StoreCorruptError(err.path, err.problem, newest_backup(self.root)) from None
        self._confirmed = None  # until the caller has the entry on disk
        return records[-1] if records else None

    def _refused(self, rec: dict[str, Any] | None, head: tuple[int, str] | None = None) -> None:
        """The entry ``rec`` announced was not written (the write failed and said so)."""
        if rec is None:
            return
        try:
            closing = self._ledger.close(rec, head, "refused")
            self._confirmed = closing["rhash"]
        except Exception:  # the disk is still full: the next write closes it ("crash")
            pass

    def bulk_create(self, items: Iterable[tuple[dict[str, Any], list[dict[str, Any]]]], *,
                    durable: bool = False, chunk: int = 500) -> list[str]:
        """Create many incidents at once, each from an intake and a list of entry
        specs ({kind, text, operator, at, data, occurred_at, corrects}); ``items`` may
        be a generator (a large store is never held in memory whole).

        For demo and benchmark stores. Entries are chained and hashed exactly as
        :meth:`append` writes them, each announced in the ledger before its incident's
        folder is renamed into place, and each incident's index row is the one
        :meth:`index_row` makes; but per ``chunk`` incidents there is one ledger write
        per ledger segment (not one per entry), and one write of each year's index file
        once that year is done. ``durable=False`` (benchmarks) also skips the fsyncs:
        a power cut may lose the store being built, never a store that was there."""
        created: list[str] = []
        with self.locked():
            doc = self._read_open_index()
            if doc is None or self._stale_years(doc):
                self._rebuild_index(None)
                doc = self._read_open_index() or self._empty_index()
            pending: list[tuple[Path, Path, list[TimelineEntry]]] = []
            lines: dict[int, list[bytes]] = {}   # year → rows of closed incidents not yet in its file
            counts: dict[int, int] = {}
            last_no = {int(y): rec["last"] for y, rec in doc["years"].items()}

            def flush() -> None:
                if not pending:
                    return
                anchored = self._anchor_locked([(e.incident, e.seq, e.hash, e.prev_hash)
                                                for _, _, entries in pending for e in entries], durable=durable)
                for tmp, idir, _ in pending:
                    replace(tmp, idir)
                self._confirmed = anchored["rhash"]
                pending.clear()

            def write_year(year: int) -> None:
                """The year's rows into its file (its folders are all in place by now), then open.json."""
                flush()
                rec = doc["years"].get(str(year))
                path = self._index_path(year)
                have = self._year_file_lines(year)[1] if rec is not None else []
                payload, digest = _year_payload(have + lines.pop(year, []))
                make_dirs(path.parent)
                atomic_write(path, payload, durable=durable)
                doc["years"][str(year)] = {"year": year, "count": (rec["count"] if rec else 0) + counts.pop(year, 0),
                                           "last": last_no[year], "sha256": digest}
                self._write_open_index(doc)

            for intake, specs in items:
                intake = _clean(dict(intake))
                year = datetime.fromisoformat(intake["received_at"]).year
                for done in [y for y in lines if y != year]:
                    write_year(done)  # receipt order: that year is done
                number = last_no.get(year, 0) + 1
                while (self.root / "incidents" / str(year) / format_incident_id(year, number)).exists():
                    number += 1
                last_no[year] = number
                incident_id = format_incident_id(year, number)
                idir = self._incident_dir(incident_id)
                tmp = idir.with_name(f".new-{incident_id}-{os.getpid()}")
                if durable or not idir.parent.is_dir():
                    make_dirs(tmp)
                else:  # a benchmark store: no fsync of the year folder for each incident
                    os.mkdir(tmp, 0o700)
                prev = genesis_hash(incident_id)
                first = {"kind": "intake", "text": "受付", "operator": _clean(specs[0]["operator"]) if specs else "demo",
                         "at": intake["received_at"], "data": intake}
                segments: dict[int, dict[str, Any]] = {}
                entries = []
                for seq, spec in enumerate([first, *specs], start=1):
                    if spec is not first:  # (the intake is clean already: clean_text is idempotent)
                        spec = _clean(spec)
                    entry = {  # the entry append() writes (clean_text of it: the same dict)
                        "incident": incident_id, "seq": seq, "at": spec["at"],
                        "occurred_at": spec.get("occurred_at"), "operator": spec["operator"],
                        "kind": spec["kind"], "text": spec["text"], "data": spec.get("data") or {},
                        "corrects": spec.get("corrects"), "prev_hash": prev,
                    }
                    entry["hash"] = prev = entry_hash(entry)
                    segments.setdefault((seq - 1) // SEGMENT_SIZE, {})[str(seq)] = entry
                    entries.append(TimelineEntry.from_dict(entry))
                for seg_no, docs in segments.items():
                    atomic_write(tmp / f"timeline-{seg_no:04d}.json", encode({"timeline": docs}),
                                 durable=durable)
                pending.append((tmp, idir, entries))
                row = self.index_row(Incident.from_entries(incident_id, entries, store_id=self.store_id))
                if row["status"] == "open":
                    doc["incidents"][_open_key(year, number)] = row
                else:
                    lines.setdefault(year, []).append(doc_line(number, row).encode("utf-8"))
                counts[year] = counts.get(year, 0) + 1
                created.append(incident_id)
                if len(pending) >= chunk:
                    flush()
            flush()
            for year in sorted({*lines, *counts}):
                write_year(year)
        return created

    # --------------------------------------------------------------- index
    def _index_path(self, year: int) -> Path:
        return self.root / "index" / f"{year}.json"

    def index_row(self, inc: Incident) -> dict[str, Any]:
        """The dashboard row of an incident: its summary plus ``notify_due``, the
        earliest deadline among notifications still 未連絡 (overdue ones stand out)."""
        row = inc.index_doc()
        due = None
        if inc.notifications:
            from .response import notification_state

            dues = [n["due"] for n in notification_state(self.profile, inc) if n["status"] == "todo" and n["due"]]
            due = min(dues) if dues else None
        row["notify_due"] = due
        return row

    # The index (see OPEN_INDEX): open.json for the open incidents and each year's count,
    # highest number and file digest; index/<year>.json for the incidents no longer open.
    def _open_index_path(self) -> Path:
        return self.root / "index" / OPEN_INDEX

    @staticmethod
    def _empty_index() -> dict[str, dict[str, Any]]:
        return {"incidents": {}, "years": {}}

    def _read_open_index(self) -> dict[str, dict[str, Any]] | None:
        """open.json, its seal and shape checked (None when there is none)."""
        path = self._open_index_path()
        data = self._read(path)
        if data is None:
            return None
        doc = {"incidents": data.get("incidents") or {}, "years": data.get("years") or {}}
        ok = set(data) <= {"incidents", "years"} and all(
            isinstance(r.get("id"), str) and isinstance(r.get("status"), str) for r in doc["incidents"].values())
        for year, rec in doc["years"].items():
            ok = ok and set(rec) == {"year", "count", "last", "sha256"} and rec["year"] == int(year) \
                and all(isinstance(rec[k], int) and not isinstance(rec[k], bool) for k in ("count", "last")) \
                and isinstance(rec["sha256"], str)
        if not ok:
            raise StoreCorruptError(path, "索引の形式が不正です", newest_backup(self.root))
        return doc

    def _write_open_index(self, doc: dict[str, dict[str, Any]]) -> None:
        path = self._open_index_path()
        make_dirs(path.parent)
        atomic_write(path, seal({"incidents": dict(sorted(doc["incidents"].items())),
                                 "years": dict(sorted(doc["years"].items()))}))

    def _year_files(self) -> list[int]:
        try:
            names = os.listdir(self.root / "index")
        except FileNotFoundError:
            return []
        return sorted(int(m.group(1)) for m in map(_YEAR_FILE.match, names) if m)

    def _has_incidents(self) -> bool:
        """Any incident folder (not a hidden one being made): O(years), the first year with one ends it."""
        base = self.root / "incidents"
        return base.is_dir() and any(p.is_dir() and p.name.isdigit() and any(map(_ID_RE.match, os.listdir(p)))
                                     for p in base.iterdir())

    def _stale_years(self, doc: dict[str, dict[str, Any]], only: int | None = None) -> list[int]:
        """The years whose file is not the one open.json records (missing, unrecorded, or
        another digest: a write cut off between the two files, or a change from outside).
        Reads each year file's last bytes only; one whose digest there is not the one recorded
        is read whole, which refuses it if its own seal does not hold (StoreCorruptError, file
        and backup named): a damaged file is never taken for a stale one and rebuilt over."""
        stale = []
        years = {int(y) for y in doc["years"]} | set(self._year_files()) if only is None else {only}
        for year in sorted(years):
            path = self._index_path(year)
            try:
                digest = _tail_digest(path)
            except FileNotFoundError:
                digest = None
                present = False
            else:
                present = True
            rec = doc["years"].get(str(year))
            if rec is None or digest is None or rec["sha256"] != digest:
                if present:  # damaged, not stale: refused here, named (a crash leaves csirt-desk's own bytes)
                    try:
                        ok, problem = is_canonical(path, sealed=True)
                    except StoreCorruptError as err:
                        raise StoreCorruptError(err.path, err.problem, newest_backup(self.root)) from None
                    if not ok:
                        raise StoreCorruptError(path, problem, newest_backup(self.root))
                stale.append(year)
        return stale

    def _check_index(self, *, repair: bool) -> None:
        """Store.open's look at the index: open.json (small) and the last bytes of each
        year file. A stale index is made again from the record of the years concerned
        (``repair``, under the lock) or, read-only, said; either way it is in :attr:`notices`."""
        doc = self._read_open_index()
        if doc is None:
            if self._has_incidents() or self._year_files():
                self._index_stale(None, f"{self._open_index_path()}: 対応中のインシデントの索引がありません", repair)
            return
        stale = self._stale_years(doc)
        if stale:
            names = ", ".join(str(self._index_path(y)) for y in stale)
            self._index_stale(stale, f"{names}: 索引が open.json の記録と一致しません"
                                     " (書き込みの途中で止まった、または外から変更された)", repair)

    def check_after_open(self) -> list[str]:
        """What :meth:`open` leaves unread, for a pass after the desk's first paint: each
        year index file whole (the open reads only its last bytes, so a change inside it is
        found only where it is read, or by verify). Problems name the file; nothing is
        written or repaired (``reindex`` makes the index again from the record)."""
        problems: list[str] = []
        for year in self._year_files():
            path = self._index_path(year)
            try:
                problem = year_file_problem(path, read_bytes(path))
            except FileNotFoundError:
                continue  # moved by another desk's write meanwhile: its next open looks again
            if problem:
                problems.append(f"{path}: {problem}")
        return problems

    def _index_stale(self, years: list[int] | None, why: str, repair: bool) -> None:
        if not repair:
            self.notices.append(f"{why}。一覧が記録と違うことがあります (書き込める場所で csirt-desk reindex)")
            return
        self._rebuild_index(years)
        self.notices.append(f"{why}。記録から作り直しました")

    def _index_for_read(self) -> dict[str, dict[str, Any]]:
        """open.json checked against the year files, for a reader (no lock). A mismatch is
        looked at again under the lock (another desk may be between its two writes) and,
        if it stays, repaired there. Read-only and without open.json (a store of the
        older layout, whose year files hold every row): ``legacy``."""
        doc = self._read_open_index()
        if doc is not None and not self._stale_years(doc):
            return doc
        if doc is None and not self._has_incidents() and not self._year_files():
            return self._empty_index()
        if self.readonly:
            self._check_index(repair=False)
            return doc if doc is not None else {**self._empty_index(), "legacy": {}}
        with self.locked():
            self._check_index(repair=True)
            return self._read_open_index() or self._empty_index()

    def _year_edit(self, year: int, number: int, row: dict[str, Any] | None) -> tuple[str | None, bool]:
        """Set (``row``) or take out (None) one row of a year file, under the lock; returns
        (the file's digest now, whether the row was there). The file's bytes are hashed,
        not decoded, and one line is changed: a year of closed incidents costs a hash and
        a write, not a JSON decode and encode of every row. A file that is not exactly
        what csirt-desk wrote is decoded, which refuses a damaged one."""
        path = self._index_path(year)
        exists, lines = self._year_file_lines(year)
        prefix = b'"%d":' % number
        at = next((i for i, line in enumerate(lines) if line.startswith(prefix)), None)
        if row is None:
            if at is None:
                return (_year_payload(lines)[1] if exists else None), False
            del lines[at]
        else:
            line = doc_line(number, row).encode("utf-8")
            if at is None:
                lines.append(line)
            else:
                lines[at] = line
        payload, digest = _year_payload(lines)
        make_dirs(path.parent)
        atomic_write(path, payload)
        return digest, at is not None

    def _year_file_lines(self, year: int) -> tuple[bool, list[bytes]]:
        """(whether index/<year>.json exists, its row lines), its seal checked by hashing
        (:func:`_year_lines`); a file not exactly as csirt-desk writes it is decoded whole,
        which refuses a damaged one (StoreCorruptError, file and backup named)."""
        path = self._index_path(year)
        try:
            raw = read_bytes(path)
        except FileNotFoundError:
            return False, []
        lines = _year_lines(raw)
        if lines is None:
            del raw
            lines = [doc_line(k, v).encode("utf-8") for k, v in ((self._read(path) or {}).get("incidents") or {}).items()]
        return True, lines

    def _update_index(self, inc: Incident, *, new: bool = False) -> None:
        """Put an incident's row where it belongs, under the lock: in open.json while it
        is open (a small file), in its year's file once it is not. ``new``: a number just
        taken (no row of it can exist). The year file is written only when a row goes into
        it or out of it (closing, reopening); open.json after it, with the file's digest."""
        self._put_row(inc.id, self.index_row(inc), new=new)

    def _put_row(self, incident_id: str, row: dict[str, Any], *, new: bool = False) -> None:
        """:meth:`_update_index` of a row made already (an import's: its entries not kept)."""
        year, number = parse_incident_id(incident_id)
        key = _open_key(year, number)
        doc = self._read_open_index()
        if doc is None or self._stale_years(doc, year):
            # no open.json, or this year's file is not the one it records: made again first
            self._rebuild_index(None if doc is None else [year])
            doc = self._read_open_index() or self._empty_index()
        rec = doc["years"].get(str(year))  # None: the year has no file yet
        existed = key in doc["incidents"]
        if row["status"] == "open":
            digest = rec["sha256"] if rec else None
            if rec is None:
                payload, digest = _year_payload([])
                make_dirs(self._index_path(year).parent)
                atomic_write(self._index_path(year), payload)
            elif not existed and not new:
                digest, existed = self._year_edit(year, number, None)  # reopened: out of its year's file
            doc["incidents"][key] = row
        else:
            digest, found = self._year_edit(year, number, row)
            existed = existed or found
            doc["incidents"].pop(key, None)
        doc["years"][str(year)] = {"year": year, "count": (rec["count"] if rec else 0) + (0 if existed else 1),
                                   "last": max(rec["last"] if rec else 0, number), "sha256": digest}
        self._write_open_index(doc)

    def _row_of(self, incident_id: str) -> dict[str, Any] | None:
        """The index row of one incident as stored (open.json, or the line of its year file)."""
        year, number = parse_incident_id(incident_id)
        doc = self._read_open_index() or self._empty_index()
        row = doc["incidents"].get(_open_key(year, number))
        return row if row is not None else self._row_of_year(incident_id)

    def _row_of_year(self, incident_id: str) -> dict[str, Any] | None:
        """The row of one incident in its year's file (its line found, not the file decoded)."""
        year, number = parse_incident_id(incident_id)
        try:
            raw = read_bytes(self._index_path(year))
        except FileNotFoundError:
            return None
        prefix = b'\n"%d":' % number
        at = raw.find(prefix)
        if at < 0:
            return None
        end = raw.find(b"\n", at + 1)
        line = raw[at + len(prefix):end].rstrip(b",")
        try:
            return json.loads(line)
        except ValueError:
            return None

    def _refresh_last_row(self, tail: dict[str, Any] | None = None) -> None:
        """A crash between an entry and its index row leaves the row stale or missing (the
        dashboard shows 対応中 for a closed incident, or not at all): the only incident that
        can be is the one of the ledger's newest record (``tail``, or read now). Its row is
        made again if it differs. At open, and before a write that follows another desk's
        (which may have been killed, and no Store.open since). Under the lock."""
        try:
            tail = tail if tail is not None else self._ledger.last()
            if tail is None or not tail["seq"] or tail["rhash"] == self._row_checked \
                    or not self.exists(tail["incident"]):
                return
            self._row_checked = tail["rhash"]
            segs = self._segments(self._incident_dir(tail["incident"]))
            rows = (self._read(segs[-1]) or {}).get("timeline") or {}
            if not rows or rows[max(rows, key=int)].get("kind") not in INDEX_KINDS:
                return  # the last write was a note or the like: it does not change the row (one segment read)
            inc = self.incident(tail["incident"])
            if self._row_of(inc.id) != self.index_row(inc):
                self._update_index(inc)
        except DomainError:
            return  # verify names what is wrong; opening the store is not the place

    def _rebuild_index(self, years: list[int] | None) -> int:
        """Index rows made again from the timelines, for ``years`` (None: all, open.json
        not read). Each year file is built in memory and replaces the old one in one
        atomic write, open.json last: a failure (a full disk) leaves the old files whole.
        A year's highest number never goes down (a lost incident's number is not reused)."""
        try:
            old = self._read_open_index() or self._empty_index()
        except StoreCorruptError:
            if years is not None:
                raise
            old = self._empty_index()
        doc = self._empty_index() if years is None else old
        base = self.root / "incidents"
        on_disk = sorted(int(p.name) for p in base.iterdir() if p.is_dir() and p.name.isdigit()) \
            if base.is_dir() else []
        targets = sorted(set(on_disk) | set(self._year_files()) | {int(y) for y in old["years"]}) \
            if years is None else sorted(set(years))
        total = 0
        for year in targets:
            closed: dict[int, dict[str, Any]] = {}
            opened: dict[str, dict[str, Any]] = {}
            ydir = base / str(year)
            names = sorted(os.listdir(ydir)) if ydir.is_dir() else []
            for name in names:
                m = _ID_RE.match(name)
                if not m or int(m.group(1)) != year or not (ydir / name).is_dir():
                    continue
                row = self.index_row(self.incident(name))
                number = int(m.group(2))
                if row["status"] == "open":
                    opened[_open_key(year, number)] = row
                else:
                    closed[number] = row
            doc["incidents"] = {k: v for k, v in doc["incidents"].items() if not k.startswith(f"{year:04d}")}
            count = len(closed) + len(opened)
            last = max([int(k[4:]) for k in opened] + list(closed) + [(old["years"].get(str(year)) or {})
                                                                        .get("last", 0)])
            path = self._index_path(year)
            if count or last:
                payload, digest = _year_payload([doc_line(n, closed[n]).encode("utf-8") for n in sorted(closed)])
                make_dirs(path.parent)
                atomic_write(path, payload)
                doc["incidents"].update(opened)
                doc["years"][str(year)] = {"year": year, "count": count, "last": last, "sha256": digest}
            else:
                doc["years"].pop(str(year), None)
            total += count
        self._write_open_index(doc)
        for year in targets:
            if str(year) not in doc["years"] and self._index_path(year).exists():
                self._index_path(year).unlink()
        return total

    def _not_restoring(self) -> None:
        """Reads take no lock: a read that overlaps a restore (its journal exists
        from before anything moves until all is in place) is refused, not shown half."""
        if (self.root / RESTORE_JOURNAL).exists():
            raise StoreBusyError(f"{self.root}: 復元中です。しばらくしてからもう一度開いてください")

    def _rows_by_year(self, status: str | None, *, lazy: bool,
                      keep: dict[int, tuple] | None = None) -> Iterator[Iterable[dict[str, Any]]]:
        """Index rows with ``status`` (None: all), one year at a time, the newest year
        first, each year's newest receipt first. ``status`` "open": open.json alone.
        ``lazy``: a year file's rows decoded one by one as they are taken (its bytes, and
        one sort key per row, in memory; not every row's dict). ``keep``: see
        :meth:`list_incidents`."""
        self._not_restoring()
        doc = self._index_for_read()
        legacy = "legacy" in doc
        by_year: dict[int, dict[str, dict[str, Any]]] = {}
        for key, row in doc["incidents"].items():
            by_year.setdefault(int(key[:4]), {})[row["id"]] = row
        years = set(by_year) | {int(y) for y in doc["years"]} | (set(self._year_files()) if legacy else set())
        for year in sorted(years, reverse=True):
            opened = by_year.get(year, {}) if status in (None, "open") else {}
            if status != "open" or legacy:
                rec = None if legacy else doc["years"].get(str(year))
                yield self._year_rows(year, status, opened, lazy=lazy,
                                      keep=keep if rec is not None else None, digest=rec and rec["sha256"])
            else:
                yield sorted(opened.values(), key=_newest_first, reverse=True)
            self._not_restoring()

    def _year_rows(self, year: int, status: str | None, opened: dict[str, dict[str, Any]], *,
                   lazy: bool, keep: dict[int, tuple] | None = None,
                   digest: str | None = None) -> Iterator[dict[str, Any]]:
        """One year's rows with ``status``: those of its file and ``opened`` (its open
        rows; a row in both moved meanwhile: the file's is the newer), newest receipt
        first. The file's seal is checked by hashing its bytes (:func:`_year_lines`); a
        file not exactly as csirt-desk writes it is decoded whole (refused if damaged).
        ``keep`` (not lazy): the file's rows as read last time, taken again while the
        file is the same one (:func:`_year_key`), read and kept otherwise."""
        path = self._index_path(year)
        if keep is not None and not lazy:
            yield from self._kept_year_rows(year, status, opened, keep, _year_key(path, digest))
            return
        keyed: list[tuple[str, str, Any]] = []
        seen: set[str] = set()
        lines = self._year_file_lines(year)[1]
        rows = ((at, self._line_row(path, line)) for at, line in enumerate(lines))
        for at, row in rows:
            seen.add(row["id"])
            if status is None or row.get("status") == status:
                keyed.append((row.get("received_at") or "", row["id"], at if lazy else row))
        keyed.extend((row.get("received_at") or "", rid, row) for rid, row in opened.items() if rid not in seen)
        keyed.sort(key=lambda k: (k[0], k[1]), reverse=True)
        for _, _, where in keyed:
            yield self._line_row(path, lines[where]) if isinstance(where, int) else where

    def _kept_year_rows(self, year: int, status: str | None, opened: dict[str, dict[str, Any]],
                        keep: dict[int, tuple], key: tuple | None) -> Iterator[dict[str, Any]]:
        """:meth:`_year_rows` with ``keep``: the year file's rows, their sort keys (oldest
        first) and ids, as read when the file was ``key``; read again if it is not. The
        rows of ``opened`` not in the file go in by bisection: no sort, no row decoded."""
        kept = keep.get(year)
        if kept is None or key is None or kept[0] != key:
            path = self._index_path(year)
            rows = [self._line_row(path, line) for line in self._year_file_lines(year)[1]]
            rows.sort(key=_oldest_first)
            kept = (key, rows, [_oldest_first(r) for r in rows], {r["id"] for r in rows})
            keep[year] = kept
        _, rows, keys, ids = kept
        extra = [row for rid, row in opened.items() if rid not in ids]
        if extra:
            rows, keys = rows.copy(), keys.copy()
            for row in extra:
                at = bisect.bisect(keys, _oldest_first(row))
                keys.insert(at, _oldest_first(row))
                rows.insert(at, row)
        return (row for row in reversed(rows) if status is None or row.get("status") == status)

    def _line_row(self, path: Path, line: bytes) -> dict[str, Any]:
        key, _, body = line.partition(b":")
        try:
            row = json.loads(body)
        except ValueError:
            row = None
        if not (key[1:-1].isdigit() and isinstance(row, dict) and isinstance(row.get("id"), str)):
            raise StoreCorruptError(path, "索引の行が読めません", newest_backup(self.root))
        return row

    def list_incidents(self, *, status: str | None = None, sort: bool = True,
                       keep: dict[int, tuple] | None = None) -> list[dict[str, Any]]:
        """Dashboard rows, newest receipt first (``sort=False``: in file order, for callers
        that re-order). ``status="open"`` reads only the open incidents' file.

        ``keep``: a dict the caller holds from one call to the next (the desk's 全件): the
        rows of each year file as read, with what that file was (:func:`_year_key`). A year
        file that is still the same one is not read again: a new incident or a step of an
        open one (open.json alone) reads no year file, a close reads its year's alone. At
        200,000 incidents reading every year again took ~7 s. The rows kept are the
        caller's to show, never to change."""
        rows = [row for year in self._rows_by_year(status, lazy=False, keep=keep) for row in year]
        if sort:
            rows.sort(key=_newest_first, reverse=True)
        return rows

    def iter_incidents(self, *, status: str | None = None) -> Iterator[dict[str, Any]]:
        """The rows of :meth:`list_incidents`, newest receipt first, without holding them all:
        one year file's bytes in memory at a time, its rows decoded as they are taken
        (``list --all`` of a large store)."""
        for rows in self._rows_by_year(status, lazy=True):
            yield from rows

    def count_incidents(self) -> int:
        """How many incidents the store has (from open.json: no year file is read)."""
        doc = self._index_for_read()
        if "legacy" in doc:
            return sum(1 for rows in self._rows_by_year(None, lazy=True) for _ in rows)
        return sum(rec["count"] for rec in doc["years"].values())

    def reindex(self) -> int:
        """Rebuild every index row from the timelines. Each year's index is built in
        memory and replaces the old one in one atomic write: on a full disk (or any
        failure) the old index stays whole, it is never emptied."""
        with self.locked():
            n = self._rebuild_index(None)
            uids.rebuild(self)
            self._rebuild_heads()
            self._sweep_temp()
        return n

    def _rebuild_heads(self, walked: tuple[dict[str, dict[str, Any]], int] | None = None) -> bool:
        """Make the ledger's heads files (each incident's newest record) from a walk of the
        whole ledger (``walked``: (newest record per incident, the last record's n) of a walk
        just made); the caller holds the lock. A ledger whose walk finds a problem gets
        none (verify ID then reads the ledger itself): False."""
        if walked is None:
            problems: list[str] = []
            heads, _ = self._ledger.walk(problems)
            if problems:
                try:
                    os.unlink(self._ledger._upto_path())
                except FileNotFoundError:
                    pass
                return False
            last = max((r["n"] for r in heads.values()), default=0)
        else:
            heads, last = walked
        self._ledger.build_heads(heads, last // SEGMENT_SIZE - 1)
        return True

    def _incident_dirs(self, progress: Callable[[int, int], None] | None = None) -> list[Path]:
        """Every incident's folder, in order (``progress(done, total)``: after each year's)."""
        base = self.root / "incidents"
        if not base.is_dir():
            return []
        years = [y for y in sorted(base.iterdir()) if y.is_dir()]
        out: list[Path] = []
        for done, y in enumerate(years, start=1):
            out += [d for d in sorted(y.iterdir()) if d.is_dir() and _ID_RE.match(d.name)]
            if progress is not None:
                progress(done, len(years))
        return out

    # -------------------------------------------------------------- drafts
    def _draft_path(self, draft_id: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", draft_id or ""):
            raise DomainError(f"下書きIDが不正です: {draft_id!r}")
        return self.root / "drafts" / f"{draft_id}.json"

    def save_draft(self, draft_id: str, data: dict[str, Any], *, operator: str, kind: str = "intake",
                   incident: str | None = None, updated_at: str | None = None,
                   origin: dict[str, Any] | None = None, wait: bool | float = True) -> str:
        """Persist a draft as typed (atomic, under the drafts' own lock, not the store's). ``kind`` "intake" is a
        report not yet saved; any other kind (e.g. "note", "form") is text typed into a dialog
        for ``incident``, kept until it is on the record or discarded. Drafts without a kind
        (older stores) are intakes. ``updated_at`` and ``origin``: a draft another desk typed,
        carried in a bundle. Returns the id the text was written under.

        A draft closed meanwhile (the CLI's ``drafts discard`` or another desk discarded it, or
        saved it as an incident) is never reopened: the close stays recorded as it is. Text that
        differs from what the closed draft holds is written as a new open draft (``continues``:
        the closed draft's id, status, who closed it and when), so nothing typed is lost and the
        lists say whose continuation it is; the same text is not written again (it is in the
        closed draft). The check and the write are one step under the drafts' lock, as discard_draft's.

        ``wait``: False on the desk's own thread (a key's handler): the drafts' lock is waited for
        as long as the thread's brief wait (wait_briefly; not at all without one), or ``wait``
        seconds when it is a number (what is left of the key's own brief wait); a draft that needs
        the store's lock while another process holds it is refused at once. Either way: StoreBusyError."""
        path = self._draft_path(draft_id)
        typed = clean_text(data)

        def write() -> str:
            return self._save_draft(path, draft_id, typed, operator, kind, incident, updated_at, origin)

        return self._with_draft_lock(path, write, wait)

    @contextmanager
    def _drafts_locked(self, timeout: float | None = None) -> Iterator[None]:
        """The drafts' lock (``timeout``: seconds to wait for it; None: as long as this thread
        waits for the store's lock, wait_briefly's on the desk's screen thread, else the store's
        own). A restore finishing in another window holds it for its whole copy: close_draft and
        discard_draft on the screen thread (Esc Esc on a dialog, 破棄して新しく書く, y on 破棄しますか)
        froze every key for the 15 s of the store's timeout, then failed all the same."""
        from filelock import Timeout

        self._writable()
        if timeout is None:
            timeout = self._brief.get(threading.get_ident())
        try:
            self._drafts_lock.acquire(timeout=timeout)
        except Timeout:
            holder = self.holder()
            said = f": {holder_text(holder)}" if holder else ""
            raise StoreBusyError(f"{self.root}: 他のプロセスが下書きを使用中です{said} (lock timeout)",
                                 holder) from None
        held, self._drafts_writer = self._drafts_writer, threading.get_ident()
        try:
            yield
        finally:
            self._drafts_writer = held
            self._drafts_lock.release()

    def drafts_written_here(self) -> bool:
        """A thread of this process holds the drafts' lock now: a draft of this desk is being
        written (a slow disk), not the store used by another window. A wait of the screen thread
        that runs out then is said as what it is, not as 「ストアを使用中の処理があります」."""
        return self._drafts_writer is not None

    def _with_draft_lock(self, path: Path, write: Callable[[], Any], wait: bool | float = True) -> Any:
        """Run ``write`` (a read-check-write of the draft file ``path``) under the drafts' lock,
        not the store's: an import, a backup or a reindex may hold that one for minutes, and the
        autosave of an operator's typing must not wait for it (nor the desk's keys, on Esc or
        Ctrl+Q). The store's lock is taken as well only when a write under it could be undone
        over this one: a restore under way (or killed: its journal), or an import (under way, or
        killed) whose journal holds this very file (a draft that came in a bundle), whose undo
        would put back the file as it was before it.

        ``wait`` (save_draft's): False or a number of seconds, the desk's screen thread: the
        drafts' lock waited for that long at most (False: the thread's brief wait), the store's not
        at all. It waited 2 s for the drafts' lock, every key frozen, while a restore held it."""
        if wait is True:
            brief = store_wait = None
        else:
            brief = max(0.0, self._brief.get(threading.get_ident(), 0.0) if wait is False else float(wait))
            store_wait = 0
            until = time.monotonic() + brief  # one wait in all: the drafts' lock may be waited for twice
        with self._drafts_locked(brief):
            if not self._draft_needs_store_lock(path):
                return write()
        with self.locked(store_wait):
            with self._drafts_locked(None if brief is None else max(0.0, until - time.monotonic())):
                return write()

    def _draft_needs_store_lock(self, path: Path) -> bool:
        if self._importing and self._import_thread == threading.get_ident():
            return False  # the import's own write (it holds the store's lock); not the desk's
            # autosave on another thread while the desk's 取り込み runs with this same Store
        if (self.root / RESTORE_JOURNAL).exists():
            return True
        jpath = self.root / IMPORT_DIR / "journal.json"
        try:
            journal = json.loads(read_bytes(jpath).decode("utf-8"))
        except FileNotFoundError:
            return False  # no import, or one not yet begun or already complete (its journal gone)
        except (OSError, ValueError):
            return True  # being written, or damaged: the store's lock (whose holder mends it) decides
        rel = path.relative_to(self.root).as_posix()
        return rel in {r for r, _ in journal.get("saved", [])} or rel in journal.get("created", [])

    def _save_draft(self, path: Path, draft_id: str, typed: dict[str, Any], operator: str, kind: str,
                    incident: str | None, updated_at: str | None, origin: dict[str, Any] | None) -> str:
        prior = self._draft_on_disk(path)
        continues = None
        if prior is not None and prior.get("status", "open") != "open":
            if prior.get("data") == typed:
                return draft_id
            continues = {k: prior.get(k) for k in ("id", "status", "closed_by", "closed_at")}
            draft_id, path = self._continuation(draft_id)
        elif prior is not None:
            continues = prior.get("continues")  # still the continuation of the closed one
        make_dirs(path.parent)
        doc = {"id": draft_id, "operator": operator, "status": "open",
               "updated_at": updated_at or self.now().isoformat(timespec="seconds"), "data": typed}
        if kind != "intake":
            doc.update(kind=kind, incident=incident)
        if origin is not None:
            doc["origin"] = clean_text(origin)
        if isinstance(continues, dict):
            doc["continues"] = clean_text(continues)
        atomic_write(path, seal({"draft": {"1": doc}}))
        return draft_id

    def _draft_on_disk(self, path: Path) -> dict[str, Any] | None:
        """The draft in ``path`` as it is now (None: none yet). A damaged file is set aside (as
        list_drafts does: what it held is kept) and the draft is written anew."""
        try:
            doc = (self._read(path) or {}).get("draft", {}).get("1")
        except StoreCorruptError as err:
            self._set_aside_draft(path, err.problem)
            return None
        return doc if isinstance(doc, dict) else None

    def _continuation(self, draft_id: str) -> tuple[str, Path]:
        """A new draft id (and its file) for the text typed into closed draft ``draft_id``."""
        while True:
            new_id = f"{draft_id[:56]}-c{secrets.token_hex(2)}"
            path = self._draft_path(new_id)
            if not path.exists():
                return new_id, path

    def exists_draft(self, draft_id: str) -> bool:
        return self._draft_path(draft_id).exists()

    def load_draft(self, draft_id: str) -> dict[str, Any]:
        data = self._read(self._draft_path(draft_id))
        if not data:
            raise DomainError(f"下書き {draft_id} はありません")
        return data["draft"]["1"]

    def list_drafts(self, *, status: str = "open", kind: str | None = "intake") -> list[dict[str, Any]]:
        """The drafts with ``status``, newest first. A damaged draft does not stop
        the desk: it is set aside as it is (renamed ``….json.damaged-<time>``, so
        nothing it held is lost) and named in :meth:`take_set_aside`."""
        drafts = []
        for path in sorted((self.root / "drafts").glob("*.json")):
            try:
                doc = (self._read(path) or {}).get("draft", {}).get("1")
            except StoreCorruptError as err:
                self._set_aside_draft(path, err.problem)
                continue
            if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
                self._set_aside_draft(path, "下書きの形式が不正です")
                continue
            if doc.get("status") == status and (kind is None or doc.get("kind", "intake") == kind):
                drafts.append(doc)
        drafts.sort(key=lambda d: d.get("updated_at", ""), reverse=True)
        return drafts

    def _set_aside_draft(self, path: Path, problem: str) -> None:
        aside = path.with_name(f"{path.name}.damaged-{self.now().strftime('%Y%m%dT%H%M%S')}")
        try:
            replace(path, aside)
        except FileNotFoundError:
            return  # another desk set it aside first
        except OSError:
            aside = path  # cannot move it (read-only store): still say so, still go on
        self.set_aside.append((aside, problem))

    def take_set_aside(self) -> list[tuple[Path, str]]:
        """Damaged files set aside since the last call: (where it is now, what was wrong)."""
        taken, self.set_aside = self.set_aside, []
        return taken

    def close_draft(self, draft_id: str, *, status: str = "saved", incident_id: str | None = None,
                    operator: str | None = None, wait: bool | float = True) -> None:
        """Mark a draft saved (it became an incident) or discarded; the text is kept, and who
        closed it when (``closed_by``, ``closed_at``). Read and written under the drafts' lock,
        as save_draft (``wait`` too): the TUI and the CLI may close the same draft at once."""
        self._with_draft_lock(self._draft_path(draft_id),
                              lambda: self._close_draft(draft_id, status, incident_id, operator), wait)

    def _close_draft(self, draft_id: str, status: str, incident_id: str | None, operator: str | None) -> None:
        doc = self.load_draft(draft_id)
        doc.update(status=status, incident=incident_id, closed_at=self.now().isoformat(timespec="seconds"))
        if operator is not None:
            doc["closed_by"] = operator
        atomic_write(self._draft_path(draft_id), seal({"draft": {"1": doc}}))

    def discard_draft(self, draft_id: str, *, operator: str) -> dict[str, Any]:
        """Discard an open draft (a stray intake, a note given up): it leaves the lists of open
        drafts and the offer at start, and stays in its file with what it held, marked
        ``discarded`` with who discarded it and when (``list_drafts(status="discarded")``).
        Refused for a draft already saved or discarded. Returns the draft as it is now.

        The check and the write are one step under the drafts' lock (as every other draft write):
        the TUI and the CLI (``drafts discard``) discarding or saving the same draft at once could
        both see it open, and the later write replaced the earlier one's 「誰が・いつ」."""
        def discard() -> dict[str, Any]:
            doc = self.load_draft(draft_id)
            if doc.get("status") != "open":
                said = {"saved": "保存済み", "discarded": "破棄済み"}.get(doc.get("status"), str(doc.get("status")))
                raise DomainError(f"下書き {draft_id} はすでに{said}です")
            self._close_draft(draft_id, "discarded", doc.get("incident"), operator)
            return self.load_draft(draft_id)

        return self._with_draft_lock(self._draft_path(draft_id), discard)

    # -------------------------------------------------------------- roster
    def _roster(self):
        return self._db(self.root / "roster.json")

    def list_people(self, include_removed: bool = False) -> list[dict[str, Any]]:
        """Roster people as stored, with ``doc_id``, in doc_id order. People marked
        removed (``removed: true``, see csirt_tui.roster.remove_person) are left out
        unless ``include_removed``."""
        data = self.read_roster()
        people = [dict(doc, doc_id=int(k)) for k, doc in data.get("people", {}).items()]
        people.sort(key=lambda p: p["doc_id"])
        return [p for p in people if include_removed or not p.get("removed")]

    def add_person(self, person: dict[str, Any], *, operator: str) -> int:
        """Add a person as given (no validation: see csirt_tui.roster.add_person)."""
        person = clean_text(dict(person))
        with self.locked():
            db = self._roster()
            doc_id = db.table("people").insert(person)
            db.table("audit").insert({"at": self.now().isoformat(timespec="seconds"), "operator": operator,
                                      "action": "add", "person": doc_id, "before": None, "after": person})
        return doc_id

    def read_roster(self) -> dict[str, dict[str, Any]]:
        """roster.json as {table: {doc_id (str): doc}} (empty when there is none)."""
        return self._read(self.root / "roster.json") or {}

    def write_roster(self, change: Callable[[dict[str, dict[str, Any]]], Any]) -> Any:
        """Read-modify-write roster.json in ONE atomic write, under the lock:
        ``change(data)`` edits the tables in place (people, audit, meta …) and may
        raise to write nothing. Returns what ``change`` returns."""
        path = self.root / "roster.json"
        with self.locked():
            data = self._read(path) or {}
            result = change(data)
            atomic_write(path, seal(clean_text(data)))
        return result

    # ------------------------------------------------------------- reports
    def log_export(self, doc: dict[str, Any]) -> None:
        """Append one row to the ``exports`` table of reports.json (reports that
        belong to no single incident, e.g. the committee summary): what was
        written, where, encrypted or why not. Under the lock, one atomic write.
        A ``password`` key is never stored (dropped if a caller passes one)."""
        row = clean_text({k: v for k, v in dict(doc).items() if k != "password"})
        row.setdefault("logged_at", self.now().isoformat(timespec="seconds"))
        path = self.root / "reports.json"
        with self.locked():
            data = self._read(path) or {}
            rows = data.setdefault("exports", {})
            rows[str(max((int(k) for k in rows), default=0) + 1)] = row
            atomic_write(path, seal(data))

    def list_exports(self) -> list[dict[str, Any]]:
        """The rows of :meth:`log_export`, oldest first, each with ``doc_id``."""
        rows = (self._read(self.root / "reports.json") or {}).get("exports", {})
        return [dict(rows[k], doc_id=int(k)) for k in sorted(rows, key=int)]

    # ------------------------------------------------------------- reviews
    def add_review(self, row: dict[str, Any]) -> int:
        """Append one row to the ``reviews`` table of reviews.json (the periodic
        evaluation and review of the procedures, csirt_tui.reviews): under the lock,
        one atomic write. Rows are never changed; a correction is a new row. Returns
        its number."""
        row = clean_text(dict(row))
        path = self.root / "reviews.json"
        with self.locked():
            data = self._read(path) or {}
            rows = data.setdefault("reviews", {})
            number = max((int(k) for k in rows), default=0) + 1
            rows[str(number)] = row
            atomic_write(path, seal(data))
        return number

    def list_reviews(self) -> list[dict[str, Any]]:
        """The rows of :meth:`add_review`, oldest first, each with ``no``."""
        rows = (self._read(self.root / "reviews.json") or {}).get("reviews", {})
        return [dict(rows[k], no=int(k)) for k in sorted(rows, key=int)]

    # ------------------------------------------------------------- backups
    def backup(self, reason: str = "manual", *, durable: bool = True, stop=None) -> Path:
        """A backup (csirt_tui/backup.py: what changed since the last one). ``durable=False``
        skips the fsyncs: only for benchmark stores (bench/scale.py), as bulk_create.
        ``stop`` (a threading.Event): set, the copy is given up before its next file
        (backup.BackupStopped; nothing of it left, the store's lock released)."""
        with self.locked():
            return self._backup_locked(reason, durable=durable, stop=stop)

    def _backup_locked(self, reason: str, *, durable: bool = True, stop=None) -> Path:
        reason = re.sub(r"[^A-Za-z0-9_-]", "_", reason)[:40] or "manual"
        bdir = self.root / "backups"
        make_dirs(bdir)
        stamp = self.now().strftime("%Y%m%dT%H%M%S")
        name = f"{stamp}-{reason}"
        n = 1
        while (bdir / name).exists():
            n += 1
            name = f"{stamp}-{reason}-{n}"
        tmp = bdir / f".tmp-{name}"
        from . import backup

        self._backup_give_way = threading.Event()  # (_acquire: a save on the screen's thread comes first)
        try:
            written, damaged = backup.make(self, tmp, reason, durable=durable, stop=stop,
                                           give_way=self._backup_give_way)  # what changed since the newest backup
        except BaseException:  # stopped, Ctrl+C, a full disk: the half-made copy is not left for the sweep
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            self._backup_give_way = None
        self.backup_damaged = damaged
        replace(tmp, bdir / name)
        fsync_dir(bdir)
        self._prune_backups()
        # temp files of writes killed since: in the folders written since the last backup
        # (and those outside incidents/), not a walk over every incident's folder
        self._sweep_temp(None if written is None else [
            *[self.root / d for d in ("index", "drafts", "ledger", "backups")], *sorted(set(written))])
        return bdir / name

    # A temp file of an atomic write (".name.pid.tid.tmp", ".name.pid.probe.tmp"), an
    # incident folder being created (".new-ID-pid") or a backup being copied
    # (backups/.tmp-NAME): left behind only by a process killed mid-write (or a full
    # disk). Swept once it is an hour old: no live write takes that long, and a full
    # disk is not kept full by them.
    _TEMP = re.compile(r"^\..+\.tmp$|^\.new-.+-\d+$|^\.tmp-.+$")
    TEMP_AGE = 3600.0

    def _sweep_temp(self, only: list[Path] | None = None) -> list[Path]:
        """Remove temp files an hour old: anywhere in the store, or in the top folder and
        the folders ``only`` (and what they hold)."""
        import itertools
        import time

        now = time.time()
        gone: list[Path] = []
        if only is None:
            walks = os.walk(self.root)
        else:
            top = next(os.walk(self.root), None)
            walks = itertools.chain([(top[0], [], [*top[1], *top[2]])] if top else [],
                                    *(os.walk(d) for d in only if d.is_dir()))
        for dirpath, dirnames, filenames in walks:
            here = Path(dirpath)
            if here.parent == self.root / "backups":
                dirnames[:] = []  # inside a finished backup: its files are not temp files
                continue
            for name in [*filenames, *dirnames]:
                if not self._TEMP.match(name) or name == RESTORE_JOURNAL:
                    continue
                path = here / name
                try:
                    if now - path.lstat().st_mtime < self.TEMP_AGE:
                        continue
                    if path.is_dir() and not path.is_symlink():
                        shutil.rmtree(path)
                    else:
                        path.unlink()
                except OSError:
                    continue  # held (Windows) or already gone: the next sweep
                gone.append(path)
            dirnames[:] = [d for d in dirnames if (here / d) not in gone]
        return gone

    def _prune_backups(self) -> None:
        from .backup import prune

        try:
            prune(self, int(self.meta.get("backup_keep", DEFAULT_BACKUP_KEEP)))
        except (OSError, StoreError):
            pass  # the backup is made; a merge cut off is finished by the next one

    def list_backups(self) -> list[Path]:
        return list_backup_dirs(self.root)

    @staticmethod
    def restore(root: str | os.PathLike, name: str | None = None,
                clock: Callable[[], datetime] | None = None) -> Path:
        """Put a backup back in place. The current files are moved aside to
        ``backups/<time>-before-restore`` first: nothing is deleted.

        Crash-safe: a journal (``.restore.json``) is written before anything
        moves and removed when the backup is wholly in place; a restore killed
        in between is finished by the next :meth:`Store.open` (under the lock,
        which the restore holds throughout), so every reader sees the old store
        or the restored one, never a mix, and never a folder without store.json. A
        Store opened before (another desk's) reads without the lock: its reads are
        refused as 復元中 while the journal exists (Store._not_restoring)."""
        from filelock import FileLock, Timeout

        root = Path(root)
        backups = list_backup_dirs(root)
        if not backups:
            raise StoreError(f"{root}: バックアップがありません")
        src = backups[0] if not name else root / "backups" / name
        if not src.is_dir() or src.parent != root / "backups" or src.name.startswith("."):
            raise StoreError(f"バックアップ {name!r} はありません (一覧: {', '.join(p.name for p in backups[:5])})")
        from .backup import snapshot

        for path in snapshot(root, src).values():
            decode(path, read_bytes(path))  # never restore a broken backup (nor one whose chain is not whole)
        if not (src / "store.json").is_file():
            raise StoreError(f"{src}: store.json がないバックアップは復元できません")
        stamp = _restore_clock(root, clock).strftime("%Y%m%dT%H%M%S")
        aside = root / "backups" / f"{stamp}-before-restore"
        n = 1
        while aside.exists():
            n += 1
            aside = root / "backups" / f"{stamp}-before-restore-{n}"
        try:
            with FileLock(str(root / ".lock"), timeout=15, mode=FILE_MODE):
                _finish_restore(root)  # an earlier restore killed half-way comes first
                if not (src / "store.json").is_file():  # pruned by another desk's backup meanwhile
                    raise StoreError(f"バックアップ {src.name} はなくなりました (別のデスクのバックアップで整理された?)。"
                                     "csirt-desk restore --list で確かめてください")
                _write_journal(root, {"src": src.name, "aside": aside.name, "phase": "aside"})
                _finish_restore(root)
        except Timeout:
            raise StoreBusyError(f"{root}: 他のプロセスがストアを使用中です (lock timeout)") from None
        # The restored state becomes the newest backup, so that verify compares against it.
        Store.open(root, create=False, clock=clock).backup("restored")
        return src

    # -------------------------------------------------------------- verify
    def verify(self, progress: Callable[[str, int, int], None] | None = None, *,
               mark: bool = False) -> VerifyReport:
        """Check every file, every hash chain and the index; problems name the file or entry.
        ``progress(stage, done, total)``, if given, is called as the check goes: stage
        "files" (the files other than segments; total 0: not counted beforehand), "index"
        (the year index files read whole), "ledger" (its segments, the whole chain),
        "folders" (the incidents' folders listed, a year at a time), then "incidents" (each
        one's segments and chain), then "backup" (its checkpoint).
        ``mark``: when nothing is wrong, note where the ledger stood (verified.json), from
        where :meth:`verify_changed` goes on."""
        report = VerifyReport()
        start = self._ledger_tail_or_none()
        self._verify_files(report, store_files(self.root), progress)
        index = self._verify_index_load(report, progress)
        upto = self._ledger.folded()
        folded: tuple = (upto if upto is not None else 1 << 62, {}, {})
        backed = self._backup_checkpoint(report)  # (backup, its ledger record) or None
        at: tuple = (backed[1]["n"] if backed else 0, {})
        anchors, closings = self._ledger.walk(report.problems, folded=folded, at=at,
                                              progress=_stage(progress, "ledger"))
        walk_ok = not report.problems
        if upto is not None and walk_ok:
            for incident_id, problem in self._ledger.heads_problems(folded[1], upto, folded[2]):
                if self._recheck_heads(incident_id):
                    report.problems.append(problem)
        elif walk_ok and anchors and mark and not self.readonly:
            # an older store: its heads files, from this walk (verify ID reads no more than them since)
            try:
                with self.locked():
                    if self._ledger.folded() is None:
                        self._rebuild_heads((dict(folded[1]), max(r["n"] for r in folded[1].values())))
            except (StoreBusyError, OSError):
                pass
        try:
            tail = self._ledger.last()
        except StoreCorruptError:
            tail = None  # reported by the walk
        report.closings = [f"{c['incident']}#{c['seq'] + 1}" for c in closings if c["why"] == "crash"]
        dirs = self._incident_dirs(_stage(progress, "folders"))
        foreign: dict[tuple[str, str], str] = {}  # uid -> number here, for csirt_tui/uids.py
        for done, idir in enumerate(dirs, start=1):
            if progress is not None:
                progress("incidents", done, len(dirs))
            report.incidents += 1
            entries = self._verify_chain(idir, report)
            if entries is None:
                anchors.pop(idir.name, None)
                for rows in index["rows"]:
                    rows.pop(idir.name, None)
                continue
            if entries[0].origin:
                foreign[(entries[0].origin["store"], entries[0].origin["incident"])] = idir.name
            head = (entries[-1].seq, entries[-1].hash)
            then = at[1].pop(idir.name, None)  # its newest record when the newest backup was made
            if then is not None and then["seq"] >= 1 and not any(c["closes"] == then["n"] for c in closings) \
                    and (then != tail or self._backup_holds(backed[0], idir.name, then["seq"])):
                # (the ledger's last record may announce an entry a crash left unwritten: then the
                # backup's copy tells whether it was there)
                where = idir / f"timeline-{(then['seq'] - 1) // SEGMENT_SIZE:04d}.json"
                if then["seq"] > len(entries):
                    report.problems.append(f"{where}: {idir.name}#{then['seq']}: バックアップ {backed[0].name}"
                                           f" にある記録がありません (台帳 #{then['n']}。削除・巻き戻し)")
                elif then["hash"] != entries[then["seq"] - 1].hash:
                    report.problems.append(f"{where}: {idir.name}#{then['seq']}: バックアップ {backed[0].name} の時点の記録"
                                           f" (台帳 #{then['n']}) と一致しません (その後の書き換え)")
            problem = _anchor_problem(idir.name, head, anchors.pop(idir.name, None), tail)
            if problem:
                problem = self._recheck_anchor(idir.name, problem)
            if problem:
                report.problems.append(problem)
            problem = self._row_problem(idir.name, self.index_row(Incident.from_entries(idir.name, entries, store_id=self.store_id)), index)
            if problem:
                problem = self._recheck_row(idir.name, problem)
            if problem:
                report.problems.append(problem)
        for missing in sorted({i for rows in index["rows"] for i in rows if i}):
            report.problems.append(f"{missing}: 索引にありますが記録 (incidents/) がありません")
        self._verify_years(index, report)
        report.problems += uids.problems(self, foreign, whole=True) + peers.problems(self)
        for incident_id, rec in sorted(anchors.items()):
            if rec["seq"] == 0 or (rec == tail and rec["seq"] == 1):
                continue  # a creation that never finished (closed, or the last write of all)
            report.problems.append(f"{incident_id}: 台帳 (ledger) にありますが記録 (incidents/) がありません"
                                   f" (台帳 #{rec['n']}: 記録 #{rec['seq']}。削除?)")
        if progress is not None and backed is not None:
            progress("backup", 1, 1)
        if report.ok and mark:
            self._mark_verified(start)
        return report

    def _ledger_tail_or_none(self) -> dict[str, Any] | None:
        try:
            return self._ledger.last()
        except StoreCorruptError:
            return None  # the walk reports it

    def _verify_files(self, report: VerifyReport, paths: Iterable[Path],
                      progress: Callable[[str, int, int], None] | None) -> None:
        """The files pass: each of ``paths`` (but the incidents' segments, read with their
        chains) is csirt-desk's own bytes, sealed where it must be."""
        incidents = self.root / "incidents"
        for path in paths:
            if _SEGMENT_RE.match(path.name) and path.parent.parent.parent == incidents \
                    and _ID_RE.match(path.parent.name):
                continue  # a timeline segment: read once, with its chain (_verify_chain)
            report.files += 1
            if progress is not None:
                progress("files", report.files, 0)
            try:
                ok, problem = is_canonical(path, sealed=not _is_chained(path))
                if ok and path == self.root / "store.json":
                    _check_meta(path, ((read_file(path) or {}).get("meta") or {}).get("1"))
            except FileNotFoundError:
                report.files -= 1  # a draft set aside by another desk while this one listed the folder
                continue
            except StoreCorruptError as err:
                report.problems.append(str(err.path) + ": " + err.problem)
                continue
            if not ok:
                report.problems.append(f"{path}: {problem}")

    # verify --changed: the newest ledger record and the year files' digests when the
    # last check found nothing (a full verify, or verify --changed itself)
    def _mark_verified(self, start: dict[str, Any] | None) -> None:
        """Note where the ledger stood when a check that found nothing began (its records
        up to there, and every incident, were checked). Not on a read-only store; a check
        another desk's lock keeps waiting is simply not noted."""
        if self.readonly or start is None:
            return
        years = {}
        for y in ((self._read_open_index() or {}).get("years") or {}):
            path = self._index_path(int(y))
            try:
                years[y] = {"sha256": _tail_digest(path), **_stat_of(path)}
            except FileNotFoundError:
                continue
        doc = {"checkpoint": {"1": {"at": self.now().isoformat(timespec="seconds"), "n": start["n"],
                                    "rhash": start["rhash"]}}, "years": years}
        try:
            with self.locked():
                atomic_write(self.root / VERIFIED, seal(doc))
        except (StoreBusyError, OSError):
            pass

    def _verified(self) -> dict[str, Any] | None:
        """The last check's mark (see :meth:`_mark_verified`), or None (none, or unusable)."""
        try:
            data = self._read(self.root / VERIFIED)
        except StoreCorruptError:
            return None  # the files pass names it
        mark = ((data or {}).get("checkpoint") or {}).get("1")
        if not isinstance(mark, dict) or not isinstance(mark.get("n"), int) or not isinstance(mark.get("rhash"), str):
            return None
        years = {y: v for y, v in ((data or {}).get("years") or {}).items() if isinstance(v, dict)}
        return {**mark, "years": years}

    def verify_changed(self, progress: Callable[[str, int, int], None] | None = None) -> VerifyReport:
        """What changed since the last check that found nothing (a full :meth:`verify`, or
        this), at a cost that grows with what changed, not with the store. Without such a
        check: the full verify (``report.full``).

        It proves: every file of the store's top folder, index/, drafts/ and ledger/ (but the
        ledger segments before the mark, and the year files unchanged since: the seal digest
        at their end, their size and time as the mark noted) is csirt-desk's own bytes;
        the ledger record the mark names is still there with its hash and every record after
        it chains onto it; each incident with a record since has its whole chain, its head
        as its newest record, its first record since following on from its timeline, and
        its index row where and as it should be; each year file is the one open.json records.
        It does not re-read the incidents without a ledger record since, nor the ledger
        before the mark, nor compare with the newest backup: an edit made there outside
        csirt-desk (with the file's time set back) is found by the next full verify."""
        mark = self._verified()
        if mark is None:
            report = self.verify(progress, mark=True)
            report.full = True
            return report
        report = VerifyReport()
        start = self._ledger_tail_or_none()
        mark_seg = (mark["n"] - 1) // SEGMENT_SIZE if mark["n"] else 0

        def changed_files() -> Iterator[Path]:
            """The store's own files but the incidents' (no walk over their folders): the ledger
            from the mark's segment, the year files whose digest moved, all the others."""
            for folder in (self.root, self.root / "index", self.root / "drafts", self._ledger.dir):
                try:
                    names = sorted(n for n in os.listdir(folder) if n.endswith(".json") and not n.startswith("."))
                except FileNotFoundError:
                    continue
                for name in names:
                    path = folder / name
                    m = _YEAR_FILE.match(name)
                    if folder == self._ledger.dir:
                        if int(re.sub(r"\D", "", name) or 0) < mark_seg:
                            continue
                    elif folder == self.root / "index" and m and self._year_unchanged(path, mark["years"].get(m.group(1))):
                        continue
                    yield path

        self._verify_files(report, changed_files(), progress)
        firsts: dict[str, dict[str, Any]] = {}
        anchors, closings = self._ledger.walk(report.problems, start=(mark["n"], mark["rhash"]), firsts=firsts,
                                              progress=_stage(progress, "ledger"))
        tail = self._ledger_tail_or_none()
        report.closings = [f"{c['incident']}#{c['seq'] + 1}" for c in closings if c["why"] == "crash"]
        touched = sorted(anchors)
        foreign: dict[tuple[str, str], str] = {}
        with_heads = self._ledger.folded() is not None
        if with_heads:  # the heads files the records since fall in (each incident's newest record)
            names = sorted({w[0] for w in map(heads_key, touched) if w} | {"upto.json"})
            self._verify_files(report, [p for p in (self._ledger.heads_dir / n for n in names) if p.exists()], progress)
        for done, incident_id in enumerate(touched, start=1):
            if progress is not None:
                progress("incidents", done, len(touched))
            rec = anchors[incident_id]
            idir = self._incident_dir(incident_id)
            if not idir.is_dir():
                if not (rec["seq"] == 0 or (rec == tail and rec["seq"] == 1)):
                    report.problems.append(f"{incident_id}: 台帳 (ledger) にありますが記録 (incidents/) がありません"
                                           f" (台帳 #{rec['n']}: 記録 #{rec['seq']}。削除?)")
                continue
            report.incidents += 1
            entries = self._verify_chain(idir, report)
            if entries is None:
                continue
            if entries[0].origin:
                foreign[(entries[0].origin["store"], entries[0].origin["incident"])] = incident_id
            problem = _anchor_problem(incident_id, (entries[-1].seq, entries[-1].hash), rec, tail)
            if not problem and with_heads:  # what verify ID reads must be that record too
                try:
                    if self._ledger.last_for(incident_id) != rec:
                        problem = f"{incident_id}: 台帳の索引 (ledger/heads) が台帳の最新の記録 #{rec['n']} と一致しません"
                except StoreCorruptError as err:
                    problem = f"{err.path}: {err.problem}"
            first = firsts.get(incident_id)
            if not problem and first is not None and first["why"] is None and first["seq"] >= 1:
                before = entries[first["seq"] - 2].hash if first["seq"] >= 2 else genesis_hash(incident_id)
                if first["seq"] > len(entries) + 1 or first["after"] != before:
                    problem = (f"{incident_id}: 台帳 #{first['n']} が記録の続きになっていません"
                               " (その前の記録の書き換え・削除、または番号の使い回し)")
            if problem:
                problem = self._recheck_anchor(incident_id, problem)
            if problem:
                report.problems.append(problem)
            problem = self._row_check(incident_id)
            if problem:
                problem = self._recheck_row(incident_id, problem)
            if problem:
                report.problems.append(problem)
        try:
            doc = self._read_open_index()
            stale = self._stale_years(doc) if doc is not None else []
        except StoreCorruptError:
            stale = []  # the files pass names it
        for year in stale:
            report.problems.append(f"{self._index_path(year)}: open.json が記録した索引と違います (古い写し・書きかけ)")
        report.problems += uids.problems(self, foreign, whole=False) + peers.problems(self)
        if report.ok:
            self._mark_verified(start)
        return report

    @staticmethod
    def _year_unchanged(path: Path, seen: dict[str, Any] | None) -> bool:
        """Whether a year index file is the one the last check saw: the seal digest at its
        end and its size and time as noted then. The digest alone is not enough: a change
        inside the file that leaves its last bytes as they were keeps it (the open reads only
        those bytes, so this check is the one that must read the file)."""
        if not seen:
            return False
        try:
            return _tail_digest(path) == seen.get("sha256") and _stat_of(path) == {
                "size": seen.get("size"), "mtime_ns": seen.get("mtime_ns")}
        except FileNotFoundError:
            return False

    def _verify_index_load(self, report: VerifyReport,
                           progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
        """The index as stored, for verify: the open rows, the closed rows, the years table
        (files that do not decode are reported by the files pass). ``progress``: stage
        "index", after each year file."""
        opened: dict[str, dict[str, Any]] = {}
        closed: dict[str, dict[str, Any]] = {}
        per_year: dict[int, int] = {}
        years: dict[str, dict[str, Any]] | None = None
        try:
            doc = self._read_open_index()
        except StoreCorruptError as err:
            if "形式" in err.problem:
                report.problems.append(f"{err.path}: {err.problem}")
            doc = None  # a damaged file is already reported
        else:
            if doc is None and (self._has_incidents() or self._year_files()):
                report.problems.append(f"{self._open_index_path()}: 対応中のインシデントの索引がありません"
                                       " (csirt-desk reindex で作り直せます)")
        if doc is not None:
            years = doc["years"]
            for key, row in doc["incidents"].items():
                if not _ID_RE.match(row["id"]) or key != _open_key(*parse_incident_id(row["id"])):
                    report.problems.append(f"{self._open_index_path()}: 索引の行 {key} の番号が不正です")
                    continue
                opened[row["id"]] = row
                per_year[int(key[:4])] = per_year.get(int(key[:4]), 0) + 1
        year_files = self._year_files()
        for done, year in enumerate(year_files, start=1):
            if progress is not None:
                progress("index", done, len(year_files))
            try:
                rows = ((read_file(self._index_path(year)) or {}).get("incidents") or {})
            except StoreCorruptError:
                continue  # already reported
            for key, row in rows.items():
                closed[row.get("id")] = row
                per_year[year] = per_year.get(year, 0) + 1
        return {"rows": (opened, closed), "per_year": per_year, "years": years}

    @staticmethod
    def _row_problem(incident_id: str, expect: dict[str, Any], index: dict[str, Any]) -> str | None:
        """What is wrong with an incident's index row (taken out of ``index``), or None: an
        open incident's row is in open.json, any other's in its year file, as the record says."""
        opened, closed = index["rows"]
        here, there = (opened, closed) if expect["status"] == "open" else (closed, opened)
        row, elsewhere = here.pop(incident_id, None), there.pop(incident_id, None)
        if row is None and elsewhere is None:
            return f"{incident_id}: 索引 (index) に行がありません"
        if row != expect:
            return f"{incident_id}: 索引 (index) の行が記録と一致しません"
        if elsewhere is not None:
            return f"{incident_id}: 索引 (index) の行が対応中と収束の両方にあります"
        return None

    def _recheck_row(self, incident_id: str, problem: str) -> str | None:
        """verify reads without the lock: another desk closing an incident moves its row
        between two files. Look again under the lock; only what is still wrong is a problem."""
        if self.readonly:
            return problem
        try:
            with self.locked():
                return self._row_check(incident_id)
        except (StoreBusyError, DomainError):
            return problem

    def _row_check(self, incident_id: str) -> str | None:
        """:meth:`_row_problem` for one incident, its row read from open.json or its year file's line."""
        year, number = parse_incident_id(incident_id)
        expect = self.index_row(self.incident(incident_id))
        doc = self._read_open_index() or self._empty_index()
        opened = doc["incidents"].get(_open_key(year, number))
        closed = None if opened is not None and expect["status"] == "open" else self._row_of_year(incident_id)
        index = {"rows": ({incident_id: opened} if opened else {}, {incident_id: closed} if closed else {})}
        return self._row_problem(incident_id, expect, index)

    def _verify_years(self, index: dict[str, Any], report: VerifyReport) -> None:
        """open.json's table of years: each year's file, with the digest it records, as
        many rows as it counts, and no number above its highest."""
        years = index["years"]
        if years is None:
            return
        files = set(self._year_files())
        path = self._open_index_path()
        for year in sorted({int(y) for y in years} | files | set(index["per_year"])):
            rec = years.get(str(year))
            if rec is None:
                report.problems.append(f"{path}: {year} 年の索引の記録がありません")
                continue
            if year not in files:
                report.problems.append(f"{self._index_path(year)}: 索引のファイルがありません")
            elif _tail_digest(self._index_path(year)) != rec["sha256"]:
                report.problems.append(f"{self._index_path(year)}: open.json が記録した索引と違います (古い写し・書きかけ)")
            if rec["count"] != index["per_year"].get(year, 0):
                report.problems.append(f"{path}: {year} 年の件数 {rec['count']} が索引の行数"
                                       f" {index['per_year'].get(year, 0)} と一致しません")
            ydir = self.root / "incidents" / str(year)
            numbers = [int(m.group(2)) for m in map(_ID_RE.match, os.listdir(ydir)) if m] if ydir.is_dir() else []
            if numbers and max(numbers) > rec["last"]:
                report.problems.append(f"{path}: {year} 年の最大の番号 {rec['last']} より大きい番号"
                                       f" {max(numbers)} の記録があります")

    def _recheck_anchor(self, incident_id: str, problem: str) -> str | None:
        """verify reads without the lock: another desk's append between reading the
        ledger and the record looks like a mismatch. Look again under the lock (the
        incident's head, its newest ledger record, the ledger's tail): only what is
        still wrong then is a problem."""
        if self.readonly:
            return problem
        try:
            with self.locked():
                return _anchor_problem(incident_id, self._head(incident_id),
                                       self._ledger.last_for(incident_id), self._ledger.last())
        except (StoreBusyError, StoreCorruptError):
            return problem

    def _recheck_heads(self, incident_id: str) -> bool:
        """verify reads without the lock: a write that filled a ledger segment meanwhile
        moves the heads files on. Under the lock: is the record the heads files give for
        the incident still not its newest in the whole ledger?"""
        if self.readonly:
            return True
        try:
            with self.locked():
                return self._ledger.last_for(incident_id) != self._ledger.last_for(incident_id, scan=True)
        except StoreCorruptError:
            return True
        except StoreBusyError:
            return True

    def verify_incident(self, incident_id: str) -> VerifyReport:
        """The checks of :meth:`verify` for one incident: its files, its hash chain
        and its head against the ledger."""
        report = VerifyReport(incidents=1)
        idir = self._incident_dir(incident_id)
        entries = self._verify_chain(idir, report)  # its files too (each read once)
        if entries is not None:
            # its newest ledger record, read back from the tail (the whole ledger's chain is verify's)
            try:
                problem = _anchor_problem(incident_id, (entries[-1].seq, entries[-1].hash),
                                          self._ledger.last_for(incident_id), self._ledger.last())
            except StoreCorruptError as err:
                problem = f"{err.path}: {err.problem}"
            if problem:
                problem = self._recheck_anchor(incident_id, problem)
            if problem:
                report.problems.append(problem)
        return report

    def _verify_chain(self, idir: Path, report: VerifyReport) -> list[TimelineEntry] | None:
        """One incident's segments (each read once: its bytes as csirt-desk writes them)
        and its hash chain; the entries, or None after a problem (reported)."""
        incident_id = idir.name
        prev = genesis_hash(incident_id)
        expect = 1
        out: list[TimelineEntry] = []
        decoded: list[dict[str, Any] | None] = []
        for seg in self._segments(idir):
            report.files += 1
            try:
                raw = read_bytes(seg)
                data = decode(seg, raw)
            except StoreCorruptError as err:
                report.problems.append(f"{err.path}: {err.problem}")
                decoded.append(None)
                continue
            if encode(data) != raw and seal(data) != raw:
                report.problems.append(f"{seg}: csirt-desk 以外で書き換えられています (not in canonical form)")
            decoded.append(data)
        for seg_index, (seg, data) in enumerate(zip(self._segments(idir), decoded)):
            seg_no = int(_SEGMENT_RE.match(seg.name).group(1))
            if seg_no != seg_index:
                report.problems.append(f"{idir / f'timeline-{seg_index:04d}.json'}: 記録の区分ファイルがありません (missing)")
                return None
            if data is None:
                return None  # the file problem is already reported
            docs = data.get("timeline", {})
            for key in sorted(docs, key=int):
                doc = docs[key]
                where = f"{seg}: {incident_id}#{key}"
                try:
                    entry = TimelineEntry.from_dict(doc)
                except TypeError:
                    report.problems.append(f"{where}: 記録の形式が不正です")
                    return None
                problem = None
                if set(doc) != {*entry.to_dict()}:
                    problem = "記録の項目が不正です"
                elif int(key) != expect or entry.seq != expect:
                    problem = f"番号が連続していません (期待 {expect}, 実際 {key}/{entry.seq})"
                elif (expect - 1) // SEGMENT_SIZE != seg_no:
                    problem = "記録が別の区分ファイルにあります"
                elif entry.incident != incident_id:
                    problem = f"別のインシデント ({entry.incident!r}) の記録です"
                elif entry.prev_hash != prev:
                    problem = "直前の記録のハッシュと一致しません (前の記録の削除・改ざん)"
                elif entry_hash(doc) != entry.hash:
                    problem = "ハッシュが一致しません (改ざん)"
                elif entry.origin is not None and origin_problem(doc):
                    problem = f"取り込んだ記録が元のデスクの記録と一致しません ({origin_problem(doc)})"
                if problem:
                    report.problems.append(f"{where}: {problem}")
                    return None
                out.append(entry)
                report.entries += 1
                prev = entry.hash
                expect += 1
        if not out:
            report.problems.append(f"{idir}: 記録がありません")
            return None
        return out

    def _backup_holds(self, bdir: Path, incident_id: str, seq: int) -> bool:
        from .backup import held

        year = incident_id[:4]
        try:
            path = held(self.root, bdir, f"incidents/{year}/{incident_id}/timeline-{(seq - 1) // SEGMENT_SIZE:04d}.json")
            return path is not None and str(seq) in ((read_file(path) or {}).get("timeline") or {})
        except (StoreCorruptError, StoreError):
            return True

    def _backup_checkpoint(self, report: VerifyReport) -> tuple[Path, dict[str, Any]] | None:
        """The newest backup's ledger checkpoint (its manifest's, or an older backup's own
        ledger tail), which must still be in the ledger with its hash: then the walk of the
        ledger and every incident's chain prove that all the backup held is still here (each
        incident's entry at its newest record up to there is checked, see verify). Reads
        nothing that grows with the store (before: every segment of the backup)."""
        from .backup import manifest

        regular = [p for p in list_backup_dirs(self.root) if "before-" not in p.name]
        if not regular:
            return None
        bdir = regular[0]
        try:
            doc = manifest(bdir)
            if doc is not None:
                mark = doc.get("ledger")
            else:
                tail = Ledger(bdir)._tail()[3]
                mark = {"n": tail["n"], "rhash": tail["rhash"]} if tail else None
        except (StoreCorruptError, KeyError, TypeError) as err:
            report.problems.append(f"{bdir}: バックアップの台帳が読めません ({getattr(err, 'problem', err)})")
            return None
        if not mark or not mark.get("n"):
            return None
        path = self._ledger._path((mark["n"] - 1) // SEGMENT_SIZE)
        try:
            rec = (decode(path, read_bytes(path)).get("ledger") or {}).get(str(mark["n"]))
        except (FileNotFoundError, StoreCorruptError):
            rec = None
        if not isinstance(rec, dict) or rec.get("rhash") != mark["rhash"]:
            report.problems.append(f"{path}: 台帳 #{mark['n']}: バックアップ {bdir.name} の時点の台帳の記録がないか変わっています"
                                   " (その後の書き換え・削除・巻き戻し)")
            return None
        return bdir, rec


def _restore_clock(root: Path, clock: Callable[[], datetime] | None) -> datetime:
    """Now, on the clock backups are named with (the store's profile's time zone),
    so that ``…-before-restore`` sorts among them; the store may be too damaged
    to open (that is why it is being restored): then Japan time, as Store.now."""
    if clock is not None:
        return clock()
    try:  # read only: no index repair, no lock, nothing written before the restore
        meta = (read_file(root / "store.json") or {}).get("meta", {}).get("1") or {}
        return Store(root, {"profile": meta.get("profile")}, None, 0).now()
    except Exception:
        from zoneinfo import ZoneInfo

        return datetime.now(ZoneInfo("Asia/Tokyo")).replace(microsecond=0)


# ------------------------------------------------------------------ restore
RESTORE_JOURNAL = ".restore.json"
_BACKUP_NAME = re.compile(r"[0-9A-Za-z_-]+")  # what _backup_locked names a backup


def holder_text(holder: dict[str, Any], *, who: bool = True) -> str:
    """Store.holder in words: 「取り込み（11:02 から、受付 花子、pc-desk2）」, 「復元」.
    ``who``: with by whom and where (not for this desk's own)."""
    what = {"import": "取り込み", "restore": "復元"}.get(str(holder.get("what")), "ほかの処理")
    parts = []
    try:
        parts.append(f"{datetime.fromisoformat(str(holder['started'])):%H:%M} から")
    except (KeyError, ValueError):
        pass
    if who:
        parts += [x for x in (one_line(str(holder.get("by") or "")), one_line(str(holder.get("host") or ""))) if x]
    return what + (f"（{'、'.join(parts)}）" if parts else "")


def _write_journal(root: Path, doc: dict[str, Any]) -> None:
    atomic_write(root / RESTORE_JOURNAL, seal({"restore": {"1": doc}}))


def _store_entries(root: Path) -> list[Path]:
    """What a restore moves aside: the store's own files and folders (hidden
    ones are the lock, the cache, temp files and unfinished work)."""
    # reports/ is not in any backup (the PDFs the record names): it stays where it is
    return [e for e in sorted(root.iterdir())
            if e.name not in _SKIP and e.name != "reports" and not e.name.startswith(".")]


def origin_problem(doc: dict[str, Any]) -> str | None:
    """Why an entry that came from another desk is not what that desk wrote (None: it is): the
    entry as its origin numbered it must hash to the origin's hash (docs/exchange.md, 2)."""
    o = doc.get("origin")
    if not isinstance(o, dict) or not {"store", "incident", "seq", "prev_hash", "hash", "corrects"} <= set(o):
        return "origin の形式"
    original = {**doc, "incident": o["incident"], "seq": o["seq"], "prev_hash": o["prev_hash"],
                "corrects": o["corrects"], "data": o.get("data", doc.get("data"))}
    original.pop("origin")
    return None if entry_hash(original) == o["hash"] else "hash"


def _undo_import(root: Path) -> None:
    """Put back every file an unfinished import changed and remove what it made (the lock
    held). An import whose journal is gone was complete: only its leftovers are removed."""
    jdir = root / IMPORT_DIR
    jpath = jdir / "journal.json"
    if jpath.exists():
        journal = json.loads(read_bytes(jpath).decode("utf-8"))
        for rel, n in journal["saved"]:
            atomic_write(root / rel, read_bytes(jdir / "saved" / str(n)))
        for rel in reversed(journal["created"]):
            path = root / rel
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        os.unlink(jpath)
        fsync_dir(jdir)
    shutil.rmtree(jdir, ignore_errors=True)


RESTORE_DRAFTS_WAIT = 15.0  # seconds a restore's finish waits for a draft being written


def _finish_restore(root: Path) -> bool:
    """:func:`_finish_restore_held` under the drafts' lock too: drafts are written under that
    lock alone (Store.save_draft), and none may be written while the store is being replaced."""
    if not (root / RESTORE_JOURNAL).exists():
        return False
    from filelock import FileLock, Timeout

    try:
        with FileLock(str(root / DRAFTS_LOCK), timeout=RESTORE_DRAFTS_WAIT, mode=FILE_MODE):
            return _finish_restore_held(root)
    except Timeout:  # said as every busy store is (a traceback before)
        raise StoreBusyError(f"{root}: 他のプロセスが下書きを使用中です (lock timeout)") from None


def _finish_restore_held(root: Path) -> bool:
    """Carry out the restore the journal describes, from wherever it stopped
    (the caller holds the store lock and the drafts' lock). Every step can be repeated: phase
    "aside" moves what is still in place to the aside folder (none of it is
    restored yet); phase "copy" writes the backup's files in place (over any
    half-written copy). False when there is no journal."""
    path = root / RESTORE_JOURNAL
    data = read_file(path)
    if data is None:
        return False
    doc = (data.get("restore") or {}).get("1") or {}
    src_name, aside_name = str(doc.get("src", "")), str(doc.get("aside", ""))
    src, aside = root / "backups" / src_name, root / "backups" / aside_name
    if not (_BACKUP_NAME.fullmatch(src_name) and re.fullmatch(r"\d{8}T\d{6}-before-restore(-\d+)?", aside_name)):
        raise StoreCorruptError(path, "復元の記録が不正です (backup or aside folder not found)")
    if not (src / "store.json").is_file():
        if doc.get("phase") == "aside" and not aside.exists():
            os.unlink(path)  # nothing was moved yet: the store is as it was
            raise StoreError(f"バックアップ {src_name} がないため、復元しませんでした (ストアは元のままです)")
        raise StoreCorruptError(path, f"復元の途中ですが、バックアップ {src_name} がありません。"
                                      f"元のファイルは {aside} にあります")
    if doc.get("phase") == "aside":
        for entry in _store_entries(root):
            make_dirs(aside)
            dest = aside / entry.name
            n = 1
            while dest.exists():  # e.g. a file a desk made in the moment the store was away
                n += 1
                dest = aside / f"{entry.name}.{n}"
            replace(entry, dest)
        _write_journal(root, {**doc, "phase": "copy"})
    # phase "copy": every file of the backup, store.json last (its presence
    # is what tells a reader the store is whole)
    from .backup import snapshot

    files = snapshot(root, src)  # the backup's store: its files and those of the backups it builds on
    for rel in [r for r in sorted(files) if r != "store.json"] + ["store.json"]:
        dst = root / rel
        make_dirs(dst.parent)
        atomic_write(dst, read_bytes(files[rel]))
    os.unlink(path)
    fsync_dir(root)
    return True

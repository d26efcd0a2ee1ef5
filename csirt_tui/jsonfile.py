"""Crash-safe JSON files for TinyDB.

Every store file is a TinyDB document file (``{table: {doc_id: doc}}``)
written in one canonical layout: one table header per line, one document
per line, compact JSON, UTF-8 (Japanese stays readable in any editor).

Writes go to a temporary file in the same directory, are fsynced, renamed
over the old file with ``os.replace`` and the directory is fsynced: a crash
at any instant leaves the old or the new file, never a mix.

Reading refuses anything csirt-desk did not write (empty, truncated,
non-JSON, wrong shape) with :class:`StoreCorruptError`; nothing is ever
written over such a file because every write path reads first.

Windows: :func:`atomic_write` is the one writer of every file csirt-desk makes
(store, drafts, cache, PDF, CSV). Its descriptor is opened with ``O_BINARY``:
without it a Windows descriptor is in text mode and turns every LF into CRLF,
which breaks canonical JSON, PDF streams and CSV rows alike. On Windows a
rename over a file that another program holds open (a second desk reading the
index, an antivirus scan, Excel holding a CSV, Acrobat holding a PDF) fails with
a sharing violation: :func:`retry_busy` retries it with backoff for about 3 s,
then raises :class:`FileBusyError`, which says which file another program holds.
The code path is the same on every platform (a sharing violation is recognised
by its ``winerror``), so the tests on Linux exercise it with injected errors.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import os
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from tinydb.storages import Storage

from .errors import StoreCorruptError

FILE_MODE = 0o600
DIR_MODE = 0o700

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")



def write_flags() -> int:
    """Flags of a new file to write: binary (``O_BINARY`` exists only on Windows,
    where a descriptor without it is in text mode and writes LF as CRLF)."""
    return os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)


# Windows error codes of a file another process holds open:
# ERROR_ACCESS_DENIED (a rename over a file open without FILE_SHARE_DELETE, or a
# file in "delete pending"), ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION.
SHARING_WINERRORS = frozenset({5, 32, 33})
# Waits between tries (seconds): about 3 s in all, what an antivirus scan of a
# small file or a reader's open() takes, short enough for a person waiting.
RETRY_DELAYS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.5)

T = TypeVar("T")


class FileBusyError(PermissionError):
    """A file stayed held by another program through every retry."""

    def __init__(self, err: OSError, path: str | os.PathLike) -> None:
        super().__init__(err.errno, err.strerror, str(path))
        self.winerror = getattr(err, "winerror", None)
        self.path = Path(path)

    def __str__(self) -> str:
        return plain_busy(self.path, self.winerror)


def plain_busy(path: Path, winerror: int | None = None) -> str:
    if winerror == 5:  # ERROR_ACCESS_DENIED: held open, or the file is read-only (copied off a CD …)
        return (f"{path}: 別のプログラムが開いているか、読み取り専用のファイルです（Excel・Acrobat・ウイルス対策"
                "ソフト・別のデスクなど）。閉じるか読み取り専用を外してから、もう一度試してください")
    return (f"{path}: 別のプログラムが開いています（Excel・Acrobat・ウイルス対策ソフト・別のデスクなど）。"
            "そのファイルを閉じてから、もう一度試してください")


def is_sharing_violation(err: BaseException) -> bool:
    """True for the errors Windows gives when another process holds the file."""
    return isinstance(err, OSError) and getattr(err, "winerror", None) in SHARING_WINERRORS


def retry_busy(action: Callable[[], T], path: str | os.PathLike,
               delays: tuple[float, ...] | None = None) -> T:
    """Run ``action``; while it fails with a sharing violation, wait and retry.
    After the last try raise :class:`FileBusyError` naming ``path``."""
    for delay in (RETRY_DELAYS if delays is None else delays):
        try:
            return action()
        except OSError as err:
            if not is_sharing_violation(err):
                raise
        time.sleep(delay)
    try:
        return action()
    except OSError as err:
        if is_sharing_violation(err):
            raise FileBusyError(err, path) from None
        raise


_WATCH: contextvars.ContextVar[Callable[[Path], None] | None] = contextvars.ContextVar("write_watch", default=None)


@contextmanager
def watching_writes(before: Callable[[Path], None]):
    """Within the block, ``before(path)`` is called before any file or folder is put in place
    at ``path`` (every store write ends in :func:`replace`): an import journals what it is
    about to change (csirt_tui/store.py, Store.import_entries)."""
    token = _WATCH.set(before)
    try:
        yield
    finally:
        _WATCH.reset(token)


def replace(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """``os.replace`` (file or folder) that waits out another program's hold on Windows."""
    before = _WATCH.get()
    if before is not None:
        before(Path(dst))
    retry_busy(lambda: os.replace(src, dst), dst)


def read_bytes(path: Path) -> bytes:
    """The bytes of ``path``, open only for the read itself (a held handle blocks
    other desks' renames on Windows); waits out a sharing violation."""
    return retry_busy(path.read_bytes, path)


def _dump(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    # A lone surrogate (possible in pasted text) cannot be encoded as UTF-8:
    # keep it as a JSON escape so the text is stored verbatim.
    return _LONE_SURROGATE.sub(lambda m: "\\u%04x" % ord(m.group()), text)


def encode(data: dict[str, dict[str, Any]]) -> bytes:
    """The canonical bytes of a TinyDB data dict."""
    tables = []
    for name, docs in data.items():
        rows = ",\n".join(doc_line(k, v) for k, v in docs.items())
        tables.append(f"{_dump(name)}:{{\n{rows}\n}}" if rows else f"{_dump(name)}:{{}}")
    return ("{\n" + ",\n".join(tables) + "\n}\n").encode("utf-8")


def doc_line(key: int | str, doc: dict[str, Any]) -> str:
    return f"{_dump(str(key))}:{_dump(doc)}"


_TAIL = b"\n}\n}\n"


def splice_append(raw: bytes, data: dict[str, dict[str, Any]], table: str, key: int,
                  doc: dict[str, Any]) -> bytes:
    """The canonical bytes of ``data`` with ``doc`` added as the last row of
    ``table``, made by appending one line to ``raw`` (the file's current
    canonical bytes) instead of re-encoding every row: the append costs the
    same whatever the file holds. Falls back to a full encode when the table
    is not the file's only, non-empty table."""
    if list(data) == [table] and data[table] and raw.endswith(_TAIL):
        return raw[: -len(_TAIL)] + b",\n" + doc_line(key, doc).encode("utf-8") + _TAIL
    data = {**data, table: {**data.get(table, {}), str(key): doc}}
    return encode(data)


# Every store file but the timeline segments (whose entries carry their own hash
# chain) ends with this table: the SHA-256 of the canonical bytes of the rest.
# Any edit of the file outside csirt-desk then shows, even one that leaves valid
# JSON in canonical form (a digit changed, a key renamed).
SEAL = "_seal"


def seal(data: dict[str, dict[str, Any]]) -> bytes:
    """The canonical bytes of ``data`` with its seal as the last table."""
    body = {k: v for k, v in data.items() if k != SEAL}
    digest = hashlib.sha256(encode(body)).hexdigest()
    return encode({**body, SEAL: {"1": {"sha256": digest}}})


def decode(path: Path, raw: bytes) -> dict[str, dict[str, Any]]:
    """Parse, check the shape and the seal of a store file (the seal is taken
    off: callers see their own tables), or raise StoreCorruptError."""
    data = _parse(path, raw)
    check = data.pop(SEAL, None)
    if check is not None:
        digest = (check.get("1") or {}).get("sha256") if isinstance(check, dict) else None
        if list(check) != ["1"] or set(check["1"]) != {"sha256"} \
                or digest != hashlib.sha256(encode(data)).hexdigest():
            raise StoreCorruptError(path, "内容が書き換えられています (seal mismatch)")
    return data


def _parse(path: Path, raw: bytes) -> dict[str, dict[str, Any]]:
    if not raw:
        raise StoreCorruptError(path, "空のファイルです (empty file)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise StoreCorruptError(path, f"UTF-8 として読めません (byte {err.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise StoreCorruptError(
            path, f"JSON として読めません: 行 {err.lineno} 列 {err.colno}: {err.msg}"
            + (" (途中で切れています)" if err.pos >= len(text.rstrip()) else "")
        ) from None
    if not isinstance(data, dict):
        raise StoreCorruptError(path, "TinyDB のファイルではありません (top level is not an object)")
    for name, docs in data.items():
        if not isinstance(docs, dict):
            raise StoreCorruptError(path, f"テーブル {name!r} がオブジェクトではありません")
        for key, doc in docs.items():
            if not key.isdigit() or not isinstance(doc, dict):
                raise StoreCorruptError(path, f"テーブル {name!r} の文書 {key!r} が不正です")
    return data


def read_file(path: Path) -> dict[str, dict[str, Any]] | None:
    """Data of a store file; None if it does not exist."""
    try:
        raw = read_bytes(path)
    except FileNotFoundError:
        return None
    return decode(path, raw)


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def make_dirs(path: Path) -> None:
    """Create a directory (and parents) with mode 0700, durably."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        _chmod(d, DIR_MODE)
        fsync_dir(d.parent)


def _chmod(path: Path, mode: int) -> None:
    try:
        os.chmod(path, mode)
    except OSError:  # pragma: no cover - e.g. filesystems without modes
        pass


def atomic_write(path: Path, payload: bytes | Iterable[bytes], *, durable: bool = True) -> None:
    """Write ``payload`` to ``path`` so that a crash leaves old or new, never a mix.
    ``payload``: the bytes, or an iterable of them written as they come (a long CSV
    never held whole).

    ``durable=False`` skips the fsyncs (still atomic): only for bulk-building
    benchmark stores, never for what an operator typed."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, write_flags(), FILE_MODE)
    try:
        try:
            for chunk in ((payload,) if isinstance(payload, (bytes, bytearray, memoryview)) else payload):
                view = memoryview(chunk)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        replace(tmp, path)
    except BaseException as err:
        # e.g. disk full: the old file is untouched; do not leave the temp file behind
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(err, OSError) and not isinstance(err, FileBusyError) and err.filename in (None, str(tmp)):
            # name the file the user knows, not the hidden temp file
            raise type(err)(err.errno, err.strerror, str(path)) from None
        raise
    if durable:
        fsync_dir(path.parent)


def write_new(path: Path, payload: bytes, *, durable: bool = True) -> None:
    """Write a new file durably (binary, 0600, fsynced) but not atomically: for the
    files of a folder that is renamed into place whole once they are all written
    (a backup being made). The caller fsyncs the folders."""
    fd = os.open(path, write_flags(), FILE_MODE)
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view):]
        if durable:  # (False: only for benchmark stores, as atomic_write's)
            os.fsync(fd)
    finally:
        os.close(fd)


class AtomicJSONStorage(Storage):
    """TinyDB storage: canonical JSON, sealed, atomic durable writes, strict reads."""

    def __init__(self, path: str | os.PathLike, **_ignored: Any) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, dict[str, Any]] | None:
        return read_file(self.path)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        atomic_write(self.path, seal(data))

    def close(self) -> None:
        pass


def is_canonical(path: Path, *, sealed: bool = False) -> tuple[bool, str]:
    """(ok, problem) — a file is canonical when its bytes are what csirt-desk
    writes; ``sealed``: and it must carry its seal."""
    raw = read_bytes(path)
    data = decode(path, raw)  # checks the seal if there is one
    if seal(data) == raw:
        return True, ""
    if encode(data) == raw:
        return (False, "封印 (seal) がありません (csirt-desk 以外で書かれたか、古い形式です)") if sealed else (True, "")
    return False, "csirt-desk 以外で書き換えられています (not in canonical form)"

"""Backups that cost what changed since the last one, not the store's size (issue 18).

A backup is a folder ``backups/<time>-<reason>/`` holding store files at their paths,
and ``.backup.json`` (hidden: never taken for a store file), sealed:

- ``base``: the backup it builds on (None: it holds every file, a *full* backup);
- ``ledger``: the ledger's last record (n, rhash) when it was made: the checkpoint;
- ``files``: every file of the store outside ``incidents/`` and the ledger's segments,
  with its (inode, size, mtime_ns) then: which of them the backup holds, and which
  changed since (every store write replaces a file: a new inode);
- ``segments``: how many ledger segments the store had.

An *incremental* backup (any backup but the first, one after a restore to an older
state, a schema change, or ``before-...``) copies only: the files of ``files`` whose
stat moved since its base, the ledger segments from its base's checkpoint on, and the
timeline segments of the incidents with a ledger record after that checkpoint, from
the segment of their first new entry on. Every write to an incident is announced in
the ledger first, so nothing else of ``incidents/`` can have changed through csirt-desk.

The backup's store, for ``restore``: each file from the newest folder of its chain
(itself, its base, the base's base ... down to a full one) that holds it, limited to
the ``files`` and ``segments`` it names (a draft closed since its base is not brought
back). Backups beyond ``backup_keep`` go: one that a kept backup builds on is merged
with the next (that backup's few files moved into it; it takes the next one's name),
so the newest ones never need a full copy again. A merge killed half-way is finished
by the next backup; until then the folder being merged is no restore point.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path
from typing import Any, Iterator

from .errors import StoreCorruptError, StoreError
from .jsonfile import decode, fsync_dir, make_dirs, read_bytes, read_file, replace, seal, write_new

MANIFEST = ".backup.json"
_LEDGER_SEG = re.compile(r"^ledger/ledger-(\d{4,})\.json$")
_TIMELINE = re.compile(r"^timeline-(\d{4,})\.json$")
_YEAR_INDEX = re.compile(r"^index/[0-9]{4}\.json$")
SEGMENT = 128


def manifest(bdir: Path) -> dict[str, Any] | None:
    """The backup's manifest, None for a backup made before them (a full one)."""
    path = bdir / MANIFEST
    if not path.exists():
        return None
    doc = ((read_file(path) or {}).get("backup") or {}).get("1")
    if not isinstance(doc, dict):
        raise StoreCorruptError(path, "バックアップの記録が不正です")
    return doc


def _write_manifest(bdir: Path, doc: dict[str, Any]) -> None:
    from .jsonfile import atomic_write

    atomic_write(bdir / MANIFEST, seal({"backup": {"1": doc}}))


def is_restore_point(bdir: Path) -> bool:
    """Not a folder half-way through a merge (see the module's text)."""
    try:
        doc = manifest(bdir)
    except StoreCorruptError:
        return True  # said when it is used
    if doc is None:
        return True
    return not doc.get("merging_into") and doc.get("name", bdir.name) == bdir.name


def find(root: Path, name: str) -> Path | None:
    """The backup folder called ``name`` or, a merge cut off before its last rename, the
    one whose manifest says it now holds ``name``."""
    bdir = Path(root) / "backups"
    if (bdir / name).is_dir():
        return bdir / name
    try:
        others = sorted(p for p in bdir.iterdir() if p.is_dir() and not p.name.startswith("."))
    except FileNotFoundError:
        return None
    for p in others:
        try:
            if (manifest(p) or {}).get("name") == name:
                return p
        except StoreCorruptError:
            continue
    return None


def chain(root: Path, bdir: Path) -> list[Path]:
    """``bdir`` and the backups it builds on, down to a full one."""
    out = [bdir]
    while True:
        base = (manifest(out[-1]) or {}).get("base")
        if not base:
            return out
        found = find(root, base)
        if found is None:
            raise StoreError(f"バックアップ {bdir.name} のもとになるバックアップ {base} がありません")
        if found in out:
            raise StoreError(f"バックアップ {bdir.name} のつながりが循環しています")
        out.append(found)


def held(root: Path, bdir: Path, rel: str) -> Path | None:
    """The file that holds ``rel`` in the backup's store (incidents/ only), or None."""
    for d in chain(root, bdir):
        if (d / rel).is_file():
            return d / rel
    return None


def _files_in(d: Path) -> Iterator[tuple[str, Path]]:
    from .store import store_files

    for p in store_files(d):
        yield p.relative_to(d).as_posix(), p


def snapshot(root: Path, bdir: Path) -> dict[str, Path]:
    """The store the backup holds: relative path → the file that holds it."""
    doc = manifest(bdir)
    out: dict[str, Path] = {}
    for d in chain(root, bdir):
        for rel, p in _files_in(d):
            out.setdefault(rel, p)
    if doc is None:
        return out
    files, segments = set(doc.get("files") or {}), int(doc.get("segments") or 0)
    kept: dict[str, Path] = {}
    for rel, p in out.items():
        m = _LEDGER_SEG.match(rel)
        if rel.startswith("incidents/") or (int(m.group(1)) < segments if m else rel in files):
            kept[rel] = p
    missing = sorted(f for f in files if f not in kept)
    missing += [f"ledger/ledger-{n:04d}.json" for n in range(segments) if f"ledger/ledger-{n:04d}.json" not in kept]
    if missing:
        raise StoreError(f"バックアップ {bdir.name} のファイル {missing[0]} が、どのもとのバックアップにもありません")
    return kept


def _stat(p: Path) -> list[int]:
    st = os.stat(p)
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def _outside_incidents(root: Path) -> tuple[dict[str, list[int]], int]:
    """The store's files outside incidents/ but the ledger's segments, each with its
    stat; and the number of ledger segments (their names alone are listed)."""
    from .store import store_files

    files: dict[str, list[int]] = {}
    segments = 0
    for entry in sorted(os.listdir(root)):
        path = root / entry
        if entry in ("incidents", "backups") or entry.startswith("."):
            continue
        if entry == "ledger" and path.is_dir():
            others: list[Path] = []
            for name in os.listdir(path):  # the segments by their names alone (no Path, no stat each)
                if name.startswith("ledger-") and re.fullmatch(r"ledger-\d{4,}\.json", name):
                    segments = max(segments, int(name[7:-5]) + 1)
                elif name.endswith(".json") and not name.startswith("."):
                    others.append(path / name)
                elif (path / name).is_dir() and not name.startswith("."):
                    others.extend(store_files(path / name))  # heads/
            paths: Iterator[Path] = iter(others)
        elif path.is_dir():
            paths = store_files(path)
        elif entry.endswith(".json"):
            paths = iter([path])
        else:
            continue
        for p in paths:
            try:
                files[p.relative_to(root).as_posix()] = _stat(p)
            except FileNotFoundError:
                continue  # a draft set aside meanwhile
    return files, segments


def usable_base(store, tail: dict[str, Any] | None) -> tuple[Path, dict[str, Any]] | None:
    """The newest regular backup an incremental one can build on: with a manifest of this
    schema, whose checkpoint is still the ledger's record (not a store restored to an older
    state, nor a ledger rewritten), whose chain is whole, and whose increments have not yet
    grown as large as their full backup (then a full one is made again)."""
    from .store import list_backup_dirs

    if tail is None:
        return None
    for bdir in list_backup_dirs(store.root):
        if "before-" in bdir.name:
            continue
        try:
            doc = manifest(bdir)
            if doc is None or not doc.get("ledger") or doc.get("schema") != store.meta.get("schema"):
                return None
            mark = doc["ledger"]
            if mark["n"] > tail["n"]:
                return None
            path = store._ledger._path((mark["n"] - 1) // SEGMENT)
            rec = (decode(path, read_bytes(path)).get("ledger") or {}).get(str(mark["n"]))
            if not isinstance(rec, dict) or rec.get("rhash") != mark["rhash"]:
                return None
            if doc.get("chain_bytes", 0) >= max(doc.get("full_bytes", 0), 1 << 20):
                return None
            chain(store.root, bdir)
        except (StoreCorruptError, StoreError, OSError, KeyError, TypeError, ValueError):
            return None
        return bdir, doc
    return None


def _changed_incidents(store, since: int) -> dict[str, int]:
    """Incident → the first timeline segment it may have changed in, from the ledger
    records after record ``since`` (a closing record: from its first segment)."""
    out: dict[str, int] = {}
    ledger = store._ledger
    tail = ledger._tail_path()
    if tail is None:
        return out
    for no in range((since - 1) // SEGMENT if since else 0, int(tail.name[7:-5]) + 1):
        path = ledger._path(no)
        rows = decode(path, read_bytes(path)).get("ledger") or {}
        for key, rec in rows.items():
            if int(key) <= since:
                continue
            seg = (rec["seq"] - 1) // SEGMENT if rec.get("seq", 0) >= 1 and not rec.get("why") else 0
            out[rec["incident"]] = min(out.get(rec["incident"], seg), seg)
    return out


class BackupStopped(Exception):
    """The desk is closing while its backup is being copied: the copy is given up between two
    files (its temp folder removed by the caller); the next backup makes it again."""


def make(store, tmp: Path, reason: str, *, durable: bool = True, stop: threading.Event | None = None,
         give_way: threading.Event | None = None) -> tuple[list[Path] | None, list[str]]:
    """Fill ``tmp`` (a new folder) with the backup and its manifest; the caller holds the
    lock, then renames ``tmp`` into place. ``durable=False``: no fsync (benchmark stores).
    Returns the incident folders written since the base backup (and the year folder of one
    whose creation did not finish), where a write killed since may have left a temp file
    (None for a full backup: anywhere); and the damaged files found, "file: problem" each.

    A year index file (index/YYYY.json) is checked whole as it is copied (Store.open reads
    only its last bytes): a damaged one (cut short, not JSON, its seal not holding) is not
    taken into the backup's store, which stays one that restores (the index is made again
    from the record there, as after any stale index); its bytes are kept beside it as
    ``index/YYYY.json.damaged`` (no store file: never restored) and the manifest names it
    (``damaged``). The caller says so: the rest of the store is saved all the same.

    ``stop`` set (the desk closing), or ``give_way`` (a save of the desk waits for the lock):
    :class:`BackupStopped` before the next file is copied."""
    from .store import store_files, year_file_problem

    root = store.root
    try:
        tail = store._ledger.last()
    except StoreCorruptError:
        tail = None
    base = None if "before-" in reason else usable_base(store, tail)
    files, segments = _outside_incidents(root)  # stat before the copy: a change meanwhile is copied next time
    copied = 0
    folders = {tmp}
    damaged: list[dict[str, str]] = []

    def copy(src: Path, rel: str) -> None:
        nonlocal copied
        if (stop is not None and stop.is_set()) or (give_way is not None and give_way.is_set()):
            raise BackupStopped()
        dst = tmp / rel
        make_dirs(dst.parent)
        try:
            payload = read_bytes(src)
        except FileNotFoundError:
            return  # a draft (written without the lock) set aside or renamed meanwhile
        if _YEAR_INDEX.match(rel):
            problem = year_file_problem(src, payload)
            if problem:
                damaged.append({"file": rel, "problem": problem, "kept_as": f"{rel}.damaged"})
                files.pop(rel, None)  # not in the backup's store: copied again by the next backup
                dst = dst.with_name(f"{dst.name}.damaged")
        write_new(dst, payload, durable=durable)  # fsynced: a power cut must not leave a damaged newest backup
        copied += len(payload)
        folders.add(dst.parent)

    make_dirs(tmp)
    written: list[Path] | None = []
    if base is None:
        written = None
        for src in store_files(root):
            copy(src, src.relative_to(root).as_posix())
        doc = {"base": None, "full_bytes": copied, "chain_bytes": 0}
    else:
        bdir, bdoc = base
        before = bdoc.get("files") or {}
        for rel, st in files.items():
            if before.get(rel) != st or rel == "store.json":  # (always: it tells a backup is there)
                copy(root / rel, rel)
        mark = bdoc["ledger"]["n"]
        for no in range(max(mark - 1, 0) // SEGMENT, segments):
            copy(store._ledger._path(no), f"ledger/ledger-{no:04d}.json")
        for incident, first in sorted(_changed_incidents(store, mark).items()):
            try:
                idir = store._incident_dir(incident)
            except Exception:
                continue
            if not idir.is_dir():
                written.append(idir.parent)
                continue  # a creation that did not finish
            written.append(idir)
            for seg in sorted(idir.iterdir()):
                m = _TIMELINE.match(seg.name)
                if m and int(m.group(1)) >= first:
                    copy(seg, seg.relative_to(root).as_posix())
        doc = {"base": bdir.name, "full_bytes": bdoc.get("full_bytes", 0),
               "chain_bytes": bdoc.get("chain_bytes", 0) + copied}
    if damaged:
        doc["damaged"] = damaged
    doc.update({"ledger": {"n": tail["n"], "rhash": tail["rhash"]} if tail else None, "files": files,
                "segments": segments, "schema": store.meta.get("schema"), "bytes": copied, "reason": reason})
    _write_manifest(tmp, doc)
    for folder in folders if durable else ():
        fsync_dir(folder)
    return written, [f"{root / d['file']}: {d['problem']}" for d in damaged]


# ------------------------------------------------------------------ pruning
def _move_into(src: Path, dst: Path) -> None:
    """Every file under ``src`` to the same place under ``dst`` (replacing), the manifest aside."""
    for dirpath, _, names in os.walk(src):
        for name in names:
            if name == MANIFEST and Path(dirpath) == src:
                continue
            s = Path(dirpath) / name
            d = dst / s.relative_to(src)
            make_dirs(d.parent)
            replace(s, d)


def merge(root: Path, older: Path, newer: Path) -> Path:
    """Fold ``newer`` (an increment on ``older``) into ``older``, which then takes its
    name: the one restore point ``newer`` was, made of one folder. Each step can be cut
    off and done again (:func:`finish_merges`)."""
    bdir = Path(root) / "backups"
    odoc = manifest(older) or {"base": None}
    ndoc = manifest(newer)
    if ndoc is None or ndoc.get("base") not in (older.name, odoc.get("name")):
        raise StoreError(f"バックアップ {newer.name} は {older.name} をもとにしていません")
    if odoc.get("merging_into") != newer.name and odoc.get("name") != newer.name:
        _write_manifest(older, {**odoc, "merging_into": newer.name})  # no restore point from here on
    _move_into(newer, older)
    keep = set(ndoc.get("files") or {})
    for rel in list(odoc.get("files") or {}):
        if rel not in keep:
            (older / rel).unlink(missing_ok=True)  # a file of the older state only (a closed draft)
    for seg in (older / "ledger").glob("ledger-*.json"):
        if int(seg.name[7:-5]) >= int(ndoc.get("segments") or 0):
            seg.unlink()
    merged = {**ndoc, "base": None, "name": newer.name}
    _write_manifest(older, merged)
    return _finish_rename(bdir, older, newer.name)


def _finish_rename(bdir: Path, merged: Path, name: str) -> Path:
    target = bdir / name
    if target.exists() and target != merged:
        gone = bdir / f".tmp-merged-{name}"
        shutil.rmtree(gone, ignore_errors=True)
        replace(target, gone)
        shutil.rmtree(gone, ignore_errors=True)
    if merged != target:
        replace(merged, target)
    doc = manifest(target) or {}
    doc.pop("name", None)
    _write_manifest(target, doc)
    fsync_dir(bdir)
    return target


def finish_merges(root: Path) -> None:
    """Finish any merge cut off half-way (the store lock held)."""
    bdir = Path(root) / "backups"
    if not bdir.is_dir():
        return
    for p in sorted(q for q in bdir.iterdir() if q.is_dir() and not q.name.startswith(".")):
        try:
            doc = manifest(p)
        except StoreCorruptError:
            continue
        if not doc:
            continue
        if doc.get("merging_into"):
            newer = bdir / doc["merging_into"]
            if newer.is_dir():
                merge(root, p, newer)
            else:  # the newer one is gone already (moved aside): nothing of it was lost, it was renamed
                _write_manifest(p, {k: v for k, v in doc.items() if k != "merging_into"})
        elif doc.get("name") and doc["name"] != p.name:
            _finish_rename(bdir, p, doc["name"])


def prune(store, keep: int) -> None:
    """Keep the newest ``keep`` regular backups as restore points; an older one that a
    kept one builds on is merged into the next, any other older one removed."""
    from .store import list_backup_dirs

    root = store.root
    finish_merges(root)
    while True:
        rotating = [p for p in list_backup_dirs(root) if "before-" not in p.name]
        if len(rotating) <= keep:
            return
        oldest, nxt = rotating[-1], rotating[-2]
        try:
            ndoc = manifest(nxt)
        except StoreCorruptError:
            return  # left as it is: verify and restore name it
        if ndoc is not None and ndoc.get("base") == oldest.name:
            merge(root, oldest, nxt)
        else:
            shutil.rmtree(oldest, ignore_errors=True)

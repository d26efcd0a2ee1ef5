"""The index of incidents that came from another desk (docs/exchange.md, 1 and 7).

An incident's uid is (the desk that took the report, its number there). For an incident this
desk took, that number is its number here: nothing to look up. An incident that arrived in a
bundle got the next local number; ``index/uids.json`` maps its uid to that number, so that a
bundle's plan finds the incidents it touches without reading every incident of the store
(a 10-entry delta reads the one file and the incidents it names).

Like the other indexes it is derived from the record (each such incident's first entry
carries its origin): written by the import that makes the incident (inside Store.import_all,
journaled with it), made again by ``reindex`` and when it is missing at open, checked by
``verify`` (every incident of another desk has its row, every row its incident).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from .errors import StoreCorruptError
from .jsonfile import atomic_write, make_dirs, read_file, seal

TABLE = "uids"


def path_of(store) -> Path:
    return store.root / "index" / "uids.json"


def _key(store_id: str, incident: str) -> tuple[str, str]:
    return (store_id, incident)


def read(store) -> dict[tuple[str, str], str] | None:
    """uid → this desk's number for every incident of another desk; None: no file."""
    path = path_of(store)
    data = read_file(path)
    if data is None:
        return None
    rows = data.get(TABLE) or {}
    out: dict[tuple[str, str], str] = {}
    for row in rows.values():
        if not (isinstance(row, dict) and set(row) == {"store", "incident", "id"}
                and all(isinstance(row[k], str) for k in row)):
            raise StoreCorruptError(path, "索引 (uids) の形式が不正です")
        out[(row["store"], row["incident"])] = row["id"]
    if set(data) - {TABLE}:
        raise StoreCorruptError(path, "索引 (uids) の形式が不正です")
    return out


def _write(store, rows: dict[tuple[str, str], str]) -> None:
    path = path_of(store)
    make_dirs(path.parent)
    ordered = sorted(rows.items(), key=lambda kv: (kv[1], kv[0]))
    atomic_write(path, seal({TABLE: {str(n): {"store": s, "incident": i, "id": local}
                                     for n, ((s, i), local) in enumerate(ordered, 1)}}))


def first_origin(store, incident_id: str) -> dict[str, Any] | None:
    """The origin of an incident's intake (None: taken here). Reads its first segment only."""
    data = read_file(store._incident_dir(incident_id) / "timeline-0000.json") or {}
    first = (data.get("timeline") or {}).get("1") or {}
    return first.get("origin")


def scan(store) -> dict[tuple[str, str], str]:
    """The index as the record makes it (every incident's first segment read)."""
    out = {}
    for idir in store._incident_dirs():
        origin = first_origin(store, idir.name)
        if origin is not None:
            out[_key(origin["store"], origin["incident"])] = idir.name
    return out


def rebuild(store) -> int:
    """Made again from the record (under the store's lock); returns its rows."""
    rows = scan(store)
    _write(store, rows)
    return len(rows)


def ensure(store) -> None:
    """At open (under the lock): a store without the file (made before it existed, or its
    index folder dropped by a migration) gets it, from the record."""
    if not path_of(store).exists():
        rebuild(store)
        # A store made before this file existed took in bundles with index rows that had no
        # alias (「2026-0003@隔離端末1」, model.index_row): those rows are put again from the
        # record, once, here, or verify would call every imported incident's row damaged.
        for number in sorted(set((read(store) or {}).values())):
            inc = store.incident(number)
            if store._row_of(number) != store.index_row(inc):
                store._update_index(inc)


def add(store, pairs: Iterable[tuple[tuple[str, str], str]]) -> None:
    """Rows for incidents just made by an import (under the lock, inside Store.import_all)."""
    pairs = list(pairs)
    if not pairs:
        return
    rows = read(store)
    rows = scan(store) if rows is None else rows
    rows.update(pairs)
    _write(store, rows)


def lookup(store, wanted: Iterable[tuple[str, str]], own: str | None = None) -> dict[tuple[str, str], str]:
    """This desk's number of each uid in ``wanted`` that it holds. Its own incidents are
    their own numbers (checked by the caller against the incident's intake); the others
    come from the file (read once), or from the record when the file is missing (a
    read-only store of the older layout)."""
    own = store.store_id if own is None else own
    out: dict[tuple[str, str], str] = {}
    foreign = []
    for uid in wanted:
        if uid[0] == own:
            if store.exists(uid[1]):
                out[uid] = uid[1]
        else:
            foreign.append(uid)
    if foreign:
        rows = read(store)
        if rows is None:
            rows = scan(store)
        out.update((uid, rows[uid]) for uid in foreign if uid in rows)
    return out


def local_of(store, store_id: str, incident: str) -> str | None:
    """This desk's number of the incident ``incident`` of desk ``store_id`` (None: not here)."""
    return lookup(store, [(store_id, incident)]).get((store_id, incident))


def problems(store, found: dict[tuple[str, str], str], *, whole: bool) -> list[str]:
    """verify: the rows ``found`` (uid → number, from the incidents read) against the file.
    ``whole``: every incident was read (a full verify), so a row of none is a problem too."""
    path = path_of(store)
    try:
        rows = read(store)
    except StoreCorruptError as err:
        return [f"{err.path}: {err.problem}"] if "形式" in err.problem else []  # else: the files pass said it
    if rows is None:
        return [f"{path}: 他のデスクのインシデントの索引がありません (csirt-desk reindex で作り直せます)"] \
            if found else []
    out = []
    for uid, local in sorted(found.items(), key=lambda kv: kv[1]):
        if rows.get(uid) != local:
            out.append(f"{path}: {local} ({uid[1]}@{uid[0]}) の行が記録と違います (csirt-desk reindex で作り直せます)")
    if whole:
        for uid, local in sorted(rows.items(), key=lambda kv: kv[1]):
            if uid not in found:
                out.append(f"{path}: {local} ({uid[1]}@{uid[0]}) の行がありますが、記録にはありません")
    return out


def resolve(store, text: str) -> str:
    """This desk's number for 「2026-0003@隔離端末1」 (the number at the desk named after @: its
    name, its store id or the start of it; this desk's own name gives the number itself)."""
    from .errors import UnknownIncidentError
    from .peers import read as read_peers
    from .store import normalize_incident_id

    number, _, desk = text.partition("@")
    number, desk = normalize_incident_id(number.strip()), desk.strip()
    if desk in ("", store.desk, "このデスク") or store.store_id.startswith(desk.lower()) and len(desk) >= 4:
        return number
    peers = read_peers(store)
    stores = [sid for sid, row in peers.items() if row["desk"] == desk]
    if not stores and len(desk) >= 4:
        known = set(peers) | {uid[0] for uid in (read(store) or {})}
        stores = [sid for sid in known if sid.startswith(desk.lower())]
    if len(stores) != 1:
        raise UnknownIncidentError(f"{text}: デスク {desk!r} がわかりません" if not stores
                                   else f"{text}: デスク {desk!r} に当たるものが複数あります")
    local = local_of(store, stores[0], number)
    if local is None:
        raise UnknownIncidentError(f"{text}: この端末にはありません")
    return local

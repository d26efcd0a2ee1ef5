"""What this desk has sent to each desk it exchanges with, and what each has of it
(docs/exchange.md, 6).

A position is a record of this desk's ledger (csirt_tui/ledger.py: every entry written or
taken in here is announced there, in order): ``{"n", "rhash"}``. Everything this desk held up
to a position is everything the ledger announced up to it.

``exchange.json`` (sealed, one row per peer desk):

- ``desk``: the name that desk gives itself (shown, and accepted by ``--for``);
- ``sent``: the position up to which this desk has put into a bundle for that desk every
  entry that desk did not write (``bundle export --for``);
- ``acked``: the position up to which that desk says it holds this desk's record (a bundle of
  that desk carries it: what it took in from here, complete up to there);
- ``received``: the position of that desk's ledger up to which this desk took in a complete
  bundle of it (it goes back to that desk as its ``acked``).

``bundle export --for DESK`` carries the entries announced in the ledger after the later of
``sent`` and ``acked`` (the ledger's records from there, then those incidents only), leaving
out the entries that desk wrote: its cost grows with what changed, not with the store. A
position whose record is not in the ledger as it was (a store restored from a backup) counts
as none: everything is sent again (taking a bundle in twice changes nothing).
"""

from __future__ import annotations

import re
from typing import Any

from .errors import DomainError, StoreCorruptError
from .jsonfile import atomic_write, decode, read_bytes, read_file, seal
from .ledger import SEGMENT

FILE = "exchange.json"
TABLE = "peers"
_STORE_ID = re.compile(r"[0-9a-f]{16}")


def _path(store):
    return store.root / FILE


def _position_ok(pos: Any) -> bool:
    return (isinstance(pos, dict) and set(pos) == {"n", "rhash"} and isinstance(pos["n"], int)
            and not isinstance(pos["n"], bool) and pos["n"] >= 0 and isinstance(pos["rhash"], str))


def read(store) -> dict[str, dict[str, Any]]:
    """store id → {desk, sent, acked, received} for every desk this one exchanged with."""
    path = _path(store)
    data = read_file(path)
    if data is None:
        return {}
    out = {}
    for row in (data.get(TABLE) or {}).values():
        if not (isinstance(row, dict) and set(row) == {"store", "desk", "sent", "acked", "received"}
                and isinstance(row["store"], str) and _STORE_ID.fullmatch(row["store"])
                and isinstance(row["desk"], str)
                and all(row[k] is None or _position_ok(row[k]) for k in ("sent", "acked", "received"))):
            raise StoreCorruptError(path, "相手のデスクの記録 (exchange.json) の形式が不正です")
        out[row["store"]] = {k: row[k] for k in ("desk", "sent", "acked", "received")}
    if set(data) - {TABLE}:
        raise StoreCorruptError(path, "相手のデスクの記録 (exchange.json) の形式が不正です")
    return out


def _write(store, peers: dict[str, dict[str, Any]]) -> None:
    rows = {str(n): {"store": sid, **peers[sid]} for n, sid in enumerate(sorted(peers), 1)}
    atomic_write(_path(store), seal({TABLE: rows}))


def _blank(desk: str = "") -> dict[str, Any]:
    return {"desk": desk, "sent": None, "acked": None, "received": None}


def _later(a: dict | None, b: dict | None) -> dict | None:
    if a is None:
        return b
    if b is None:
        return a
    return b if b["n"] > a["n"] else a


def update(store, peer: str, **change: Any) -> None:
    """Change one peer's row (under the store's lock): positions only move forward. Nothing
    is written when nothing changes (a bundle taken in twice leaves the store byte-identical)."""
    peers = read(store)
    before = repr(peers)
    row = peers.setdefault(peer, _blank())
    for key, value in change.items():
        if value is None:
            continue
        row[key] = value if key == "desk" else _later(row[key], value)
    if repr(peers) != before:
        _write(store, peers)


def update_sent(store, peer: str, payload: dict[str, Any]) -> None:
    """A bundle of everything ``peer`` had not got (``bundle export --for``) is written: it
    has been sent up to the payload's ``as_of``."""
    if "as_of" in payload and payload.get("complete"):
        with store.locked():
            update(store, peer, sent=payload["as_of"])


def note_bundle(store, payload: dict[str, Any]) -> None:
    """What a bundle taken in (or found to bring nothing new) says (under the lock): the
    sender's name; up to where this desk now holds the sender's record (a complete bundle
    whose base this desk had); up to where the sender holds this desk's (its ack, if it is a
    record of this ledger)."""
    sender = payload["sender"]["store"]
    if sender == store.store_id:
        return
    before = read(store).get(sender) or _blank()
    received = None
    base = payload.get("base")
    if payload.get("complete") and "as_of" in payload and (
            base is None or before["received"] is not None and before["received"]["n"] >= base["n"]):
        received = payload["as_of"]
    ack = (payload.get("acks") or {}).get(store.store_id)
    if ack is not None and not holds(store, ack):
        ack = None  # not a record of this ledger (this store restored from an older backup)
    update(store, sender, desk=payload["sender"].get("desk") or None, received=received, acked=ack)


def gap(store, payload: dict[str, Any]) -> bool:
    """A delta made from a position of the sender's ledger this desk has not received up to
    (a bundle of that desk's that was never taken in here)."""
    base = payload.get("base")
    if base is None or payload["sender"]["store"] == store.store_id:
        return False
    received = (read(store).get(payload["sender"]["store"]) or _blank())["received"]
    return received is None or received["n"] < base["n"]


def find(store, name: str) -> str:
    """The store id of the peer called ``name`` (its desk name, or its id or the start of it)."""
    peers = read(store)
    name = name.strip()
    hits = [sid for sid, row in peers.items() if row["desk"] == name] or \
           [sid for sid in peers if name and sid.startswith(name.lower())]
    if len(hits) == 1:
        return hits[0]
    known = "、".join(f"{row['desk'] or '(名前なし)'} ({sid[:6]})" for sid, row in sorted(peers.items()))
    if not hits:
        raise DomainError(f"デスク {name!r} からバンドルを受け取ったことがありません"
                          + (f" (知っているデスク: {known})" if known else "")
                          + "。初めての相手には、すべてを書き出して渡してください")
    raise DomainError(f"デスク {name!r} に当たるものが複数あります ({known})。番号 (store id) で指定してください")


def desk_names(store) -> dict[str, str]:
    """store id → desk name, for the peers that gave one."""
    return {sid: row["desk"] for sid, row in read(store).items() if row["desk"]}


# ------------------------------------------------------------------ the ledger, from a position
def tail_position(store) -> dict[str, Any] | None:
    last = store._ledger.last()
    return {"n": last["n"], "rhash": last["rhash"]} if last else None


def _records_after(store, pos: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The ledger's records after ``pos``; None when the record at ``pos`` is not the one it
    was (then the position means nothing here any more)."""
    ledger = store._ledger
    tail = ledger._tail_path()
    if tail is None:
        return None if pos["n"] else []
    last_seg = int(tail.name[7:-5])
    out = []
    found = pos["n"] == 0
    first_seg = (pos["n"] - 1) // SEGMENT if pos["n"] else 0
    for no in range(first_seg, last_seg + 1):
        path = ledger._path(no)
        try:
            rows = decode(path, read_bytes(path)).get("ledger") or {}
        except FileNotFoundError:
            return None
        for key in sorted(rows, key=int):
            rec = rows[key]
            if rec["n"] == pos["n"]:
                if rec["rhash"] != pos["rhash"]:
                    return None
                found = True
            elif rec["n"] > pos["n"]:
                out.append(rec)
    if not found:
        return None
    return out


def holds(store, pos: dict[str, Any]) -> bool:
    """Whether ``pos`` is a record of this desk's ledger (the same n, the same hash)."""
    if pos["n"] == 0:
        return True
    path = store._ledger._path((pos["n"] - 1) // SEGMENT)
    try:
        rec = (decode(path, read_bytes(path)).get("ledger") or {}).get(str(pos["n"]))
    except FileNotFoundError:
        return False
    return isinstance(rec, dict) and rec.get("rhash") == pos["rhash"]


def changed_since(store, pos: dict[str, Any] | None) -> dict[str, int] | None:
    """incident → the lowest local seq announced after ``pos`` (None: ``pos`` is none or no
    longer this ledger's: everything)."""
    if pos is None:
        return None
    records = _records_after(store, pos)
    if records is None:
        return None
    out: dict[str, int] = {}
    for rec in records:
        if rec["why"] is None and rec["seq"] >= 1:
            out[rec["incident"]] = min(out.get(rec["incident"], rec["seq"]), rec["seq"])
    return out


def problems(store) -> list[str]:
    """verify: exchange.json's rows in their form (its seal is the files pass's)."""
    try:
        read(store)
    except StoreCorruptError as err:
        return [f"{err.path}: {err.problem}"] if "形式" in err.problem else []
    return []

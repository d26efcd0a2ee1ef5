"""Two desks (and three) that worked apart exchange bundles and end with the same record
(issue 17; docs/exchange.md)."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from conftest import Clock, sample_intake
from csirt_tui.bundle import BundleError, pack, read_bundle, unpack, wire_entry
from csirt_tui.exchange import apply_import, export_payload, incident_uid, plan_import
from csirt_tui.store import IMPORT_DIR, Store


def exchange(src: Store, dst: Store, tmp_path: Path, password: bytes | None = None) -> list[str]:
    """src → bundle file → dst, as the CLI does (the file checked whole, then planned, then applied)."""
    path = tmp_path / f"{src.store_id}-{random.random()}.bundle"
    path.write_bytes(pack(export_payload(src), password=password))
    payload = read_bundle(path, password=password)
    if not dst.store_id == src.store_id and dst.family != payload["family"]:
        dst.join_family(payload["family"])
    plan = plan_import(dst, payload, store_id=dst.store_id, family=dst.family)
    return apply_import(dst, plan, store_id=dst.store_id)


def record(store: Store) -> dict[tuple, list[dict]]:
    """Every incident by uid, with its entries in wire form (as their desks wrote them), as a set."""
    out = {}
    for row in store.iter_incidents(status=None):
        inc = store.incident(row["id"])
        by_seq = {e.seq: e for e in inc.entries}
        uid = incident_uid(inc, store.store_id)
        out[(uid["store"], uid["incident"])] = sorted(
            (tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in wire_entry(e, store.store_id, by_seq).items()))
             for e in inc.entries))
    return out


def state(store: Store) -> dict[tuple, tuple]:
    out = {}
    for row in store.iter_incidents(status=None):
        inc = store.incident(row["id"])
        uid = incident_uid(inc, store.store_id)
        out[(uid["store"], uid["incident"])] = (inc.status, inc.level, inc.type_id, inc.phase,
                                                 {k: v["status"] for k, v in inc.steps.items()})
    return out


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "backups" not in p.parts and p.name != ".lock"}


def work_apart(store: Store, rng: random.Random, shared: list[str], *, notes: int, new: int, who: str) -> None:
    for n in range(notes):
        target = rng.choice(shared)
        if rng.random() < 0.15:
            store.append(target, "correction", f"{who} の訂正 {n}", operator=who,
                         corrects=rng.randrange(1, store.incident(target).entries[-1].seq + 1))
        elif rng.random() < 0.1:
            store.append(target, "triage", f"{who} の判断", operator=who,
                         data={"type": "malware", "level": rng.randrange(0, 3), "priority": "中"})
        else:
            store.append(target, "note", f"{who} のメモ {n} 𩸽 <b>[bold]", operator=who)
    for n in range(new):
        inc = store.create_incident(sample_intake(what=f"{who} が受けた通報 {n}"), operator=who)
        store.append(inc.id, "note", f"{who} の初動 {n}", operator=who)


def two_desks(tmp_path, notes=60, new=3):
    clock = Clock()
    desk = Store.open(tmp_path / "desk", clock=clock)
    for n in range(4):
        inc = desk.create_incident(sample_intake(what=f"通報 {n}"), operator="受付 花子")
        desk.append(inc.id, "note", "メモ", operator="担当 太郎")
    terminal = Store.open(tmp_path / "terminal", clock=clock)
    exchange(desk, terminal, tmp_path)  # carried to the isolated terminal
    shared_d = [r["id"] for r in desk.iter_incidents(status=None)]
    shared_t = [r["id"] for r in terminal.iter_incidents(status=None)]
    rng = random.Random(17)
    work_apart(desk, rng, shared_d, notes=notes, new=new, who="デスク 花子")
    work_apart(terminal, rng, shared_t, notes=notes, new=new, who="端末 太郎")
    return desk, terminal


def test_after_one_exchange_each_way_both_desks_hold_the_same_record(tmp_path):
    desk, terminal = two_desks(tmp_path)
    before_d, before_t = record(desk), record(terminal)
    exchange(terminal, desk, tmp_path)
    exchange(desk, terminal, tmp_path, password=b"stick")
    after_d, after_t = record(desk), record(terminal)
    assert after_d == after_t  # the same incidents, the same entries (every field as written)
    assert len(after_d) == 4 + 3 + 3
    for uid, entries in before_d.items():  # nothing either side wrote lost or changed
        assert set(entries) <= set(after_d[uid])
    for uid, entries in before_t.items():
        assert set(entries) <= set(after_t[uid])
    assert sum(map(len, after_d.values())) == len({e for es in before_d.values() for e in es}
                                                  | {e for es in before_t.values() for e in es})
    assert state(desk) == state(terminal)  # one state on both
    assert desk.verify().ok and terminal.verify().ok
    # the numbers: each desk keeps its own; the other's new incidents got the next free ones here
    assert len({r["id"] for r in desk.iter_incidents(status=None)}) == 10


def test_a_second_import_of_either_bundle_changes_nothing(tmp_path):
    desk, terminal = two_desks(tmp_path, notes=20, new=2)
    to_desk = tmp_path / "to-desk.bundle"
    to_desk.write_bytes(pack(export_payload(terminal)))
    plan = plan_import(desk, read_bundle(to_desk), store_id=desk.store_id, family=desk.family)
    apply_import(desk, plan, store_id=desk.store_id)
    before = snapshot(desk.root)
    again = plan_import(desk, read_bundle(to_desk), store_id=desk.store_id, family=desk.family)
    assert again.changes_nothing
    assert apply_import(desk, again, store_id=desk.store_id) == []
    assert snapshot(desk.root) == before  # byte-identical


def test_three_desks_in_a_ring_converge(tmp_path):
    desk, terminal = two_desks(tmp_path, notes=30, new=2)
    second = Store.open(tmp_path / "second", clock=Clock())
    exchange(desk, second, tmp_path)
    rng = random.Random(5)
    work_apart(second, rng, [r["id"] for r in second.iter_incidents(status=None)], notes=30, new=2, who="端末2 次郎")
    for src, dst in ((desk, terminal), (terminal, second), (second, desk), (desk, terminal), (terminal, second)):
        exchange(src, dst, tmp_path)
    assert record(desk) == record(terminal) == record(second)
    assert state(desk) == state(terminal) == state(second)
    assert all(s.verify().ok for s in (desk, terminal, second))


def test_an_import_that_fails_half_way_leaves_the_store_as_it_was(tmp_path, monkeypatch):
    desk, terminal = two_desks(tmp_path, notes=20, new=2)
    payload = unpack(pack(export_payload(terminal)))
    plan = plan_import(desk, payload, store_id=desk.store_id, family=desk.family)
    before = snapshot(desk.root)
    real = desk.imported_entries  # (one call per incident that gains entries)
    calls = []

    def full_disk_later(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(desk, "imported_entries", full_disk_later)
    with pytest.raises(OSError):
        apply_import(desk, plan, store_id=desk.store_id)
    assert snapshot(desk.root) == before
    assert not (desk.root / IMPORT_DIR).exists()
    assert Store.open(desk.root).verify().ok


def test_a_killed_import_is_undone_when_the_store_is_next_opened(tmp_path, monkeypatch):
    desk, terminal = two_desks(tmp_path, notes=20, new=2)
    payload = unpack(pack(export_payload(terminal)))
    plan = plan_import(desk, payload, store_id=desk.store_id, family=desk.family)
    before = snapshot(desk.root)

    class Killed(BaseException):
        pass

    real = desk.imported_entries
    calls = []

    def killed(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            # as a kill -9 would leave it: the journal on disk, nothing undone
            raise Killed()
        return real(*args, **kwargs)

    import csirt_tui.store as store_mod

    monkeypatch.setattr(desk, "imported_entries", killed)
    monkeypatch.setattr(store_mod, "_undo_import", lambda root: None)  # the process dies: no undo
    with pytest.raises(Killed):
        apply_import(desk, plan, store_id=desk.store_id)
    assert (desk.root / IMPORT_DIR / "journal.json").exists() and snapshot(desk.root) != before
    monkeypatch.undo()
    desk._lock.release() if desk._lock.is_locked else None
    reopened = Store.open(desk.root)
    assert snapshot(desk.root) == before and reopened.verify().ok
    assert not (desk.root / IMPORT_DIR).exists()


def test_a_full_store_refuses_to_join_another_family(tmp_path):
    desk, terminal = two_desks(tmp_path, notes=1, new=1)
    other = Store.open(tmp_path / "other", clock=Clock())
    other.create_incident(sample_intake(), operator="x")
    with pytest.raises(Exception, match="既に別のデスク"):
        other.join_family(desk.family)
    with pytest.raises(BundleError, match="別のストアのバンドル"):
        plan_import(other, export_payload(desk), store_id=other.store_id, family=other.family)
    assert os.path.exists(other.root / "store.json")


def test_verify_sees_an_imported_entry_that_is_not_what_its_desk_wrote(tmp_path):
    """An imported entry's own hash covers its origin; and its origin hash must be that of the
    entry as its desk wrote it: re-sealing an edit with a fresh local hash is still caught."""
    from csirt_tui.jsonfile import encode, read_file
    from csirt_tui.model import entry_hash

    desk, terminal = two_desks(tmp_path, notes=5, new=1)
    exchange(terminal, desk, tmp_path)
    inc = next(desk.incident(r["id"]) for r in desk.iter_incidents(status=None)
               if any(e.origin for e in desk.incident(r["id"]).entries[1:]))
    seg = desk.root / "incidents" / inc.id[:4] / inc.id / "timeline-0000.json"
    data = read_file(seg)
    key = next(k for k, d in data["timeline"].items() if d.get("origin") and d["seq"] == len(data["timeline"]))
    doc = data["timeline"][key]
    doc["text"] = "書き換えた"
    doc["hash"] = entry_hash(doc)  # the local chain's last entry, re-hashed: the chain itself still holds
    seg.write_bytes(encode(data))
    problems = Store.open(desk.root).verify_incident(inc.id).problems + Store.open(desk.root).verify().problems
    assert any("元のデスクの記録と一致しません" in p for p in problems), problems


def test_a_schema_3_store_gets_its_identity_when_opened(tmp_path):
    import csirt_tui.store as store_mod
    from csirt_tui.jsonfile import read_file, seal

    s = Store.open(tmp_path / "old")
    s.create_incident(sample_intake(), operator="x")
    path = s.root / "store.json"
    data = read_file(path)
    for key in ("store_id", "family", "desk"):
        data["meta"]["1"].pop(key)
    data["meta"]["1"]["schema"] = 3
    path.write_bytes(seal(data))
    again = Store.open(s.root)
    assert again.meta["schema"] == store_mod.SCHEMA_VERSION == 4
    assert len(again.store_id) == 16 and again.family == again.store_id and again.desk == ""
    assert Store.open(s.root).store_id == again.store_id  # made once
    data = read_file(path)
    data["meta"]["1"]["store_id"] = "../../x"
    path.write_bytes(seal(data))
    with pytest.raises(Exception, match="store_id"):
        Store.open(s.root)


# --- found by review: clocks that disagree, a plan gone stale, a write after a killed import


def _xfer(src, dst):
    p = unpack(pack(export_payload(src)))
    if dst.family != p["family"] and not dst.count_incidents():
        dst.join_family(p["family"])
    return apply_import(dst, plan_import(dst, p, store_id=dst.store_id, family=dst.family), store_id=dst.store_id)


def test_desks_whose_clocks_disagree_keep_what_came_first_first(tmp_path):
    """The merge followed recorded time: a terminal 20 minutes slow lost its own correction of the
    intake at once, a correction dated before the entry it corrects could not be taken in by a
    third desk, and a new desk refused the incident as 'part of one'."""
    from datetime import timedelta

    real = Clock()
    a = Store.open(tmp_path / "A", clock=real)
    b = Store.open(tmp_path / "B", clock=lambda: real.now + timedelta(minutes=30))
    c = Store.open(tmp_path / "C", clock=lambda: real.now - timedelta(minutes=20))
    a.create_incident(sample_intake(what="通報", reporter={"name": "山田", "contact": "090"}), operator="受付")
    _xfer(a, b)
    _xfer(a, c)
    bid, cid = (next(r["id"] for r in s.iter_incidents(status=None)) for s in (b, c))
    real.advance(minutes=5)
    c.append(cid, "correction", "通報者名の訂正", operator="端末2",
             data={"intake": {"reporter": {"name": "山田 一郎", "contact": "090"}}})
    assert c.incident(cid).intake["reporter"]["name"] == "山田 一郎"
    real.advance(minutes=5)
    b.append(bid, "note", "感染端末は3台", operator="端末1")
    _xfer(b, c)
    real.advance(minutes=5)
    note = next(e for e in c.incident(cid).entries if e.text == "感染端末は3台")
    c.append(cid, "correction", "2台の誤り", operator="端末2", corrects=note.seq)
    assert _xfer(c, a)  # a correction recorded "before" the note it corrects (C's clock): taken in
    d = Store.open(tmp_path / "D", clock=real)
    assert _xfer(c, d)
    for s in (a, b, c, d):
        _xfer(s, a)
    for s in (b, c, d):
        _xfer(a, s)
    assert record(a) == record(b) == record(c) == record(d)
    assert state(a) == state(b) == state(c) == state(d)
    for s in (a, b, c, d):
        inc = s.incident(next(r["id"] for r in s.iter_incidents(status=None)))
        assert inc.intake["reporter"]["name"] == "山田 一郎"  # the correction stands everywhere
        corr = next(e for e in inc.entries if e.text == "2台の誤り")
        assert next(x for x in inc.entries if x.seq == corr.corrects).text == "感染端末は3台"
        assert s.verify().ok


def test_a_plan_taken_in_by_someone_else_meanwhile_is_not_taken_in_twice(tmp_path):
    desk, terminal = two_desks(tmp_path, notes=10, new=1)
    payload = unpack(pack(export_payload(terminal)))
    shown = plan_import(desk, payload, store_id=desk.store_id, family=desk.family)  # on the screen
    other = Store.open(desk.root)  # the CLI (or a second desk on the shared store) takes it in first
    apply_import(other, plan_import(other, payload, store_id=other.store_id, family=other.family),
                 store_id=other.store_id)
    before = snapshot(desk.root)
    assert apply_import(desk, shown, store_id=desk.store_id) == []  # planned again under the lock
    assert snapshot(desk.root) == before
    unpack(pack(export_payload(desk)))  # and the desk can still send everything


def test_a_write_after_a_killed_import_comes_after_its_undo_not_under_it(tmp_path, monkeypatch):
    """An import killed half-way, then the TUI (opened before) appends a note: the next open
    undid the import on top of the note and erased it, verify OK."""
    import csirt_tui.store as store_mod

    desk, terminal = two_desks(tmp_path, notes=20, new=1)
    payload = unpack(pack(export_payload(terminal)))
    tui = Store.open(desk.root)
    cli = Store.open(desk.root)
    plan = plan_import(cli, payload, store_id=cli.store_id, family=cli.family)

    class Killed(BaseException):
        pass

    real, calls = cli.imported_entries, []

    def killed(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise Killed()
        return real(*args, **kwargs)

    monkeypatch.setattr(cli, "imported_entries", killed)
    monkeypatch.setattr(store_mod, "_undo_import", lambda root: None)
    with pytest.raises(Killed):
        apply_import(cli, plan, store_id=cli.store_id)
    monkeypatch.undo()
    target = next(r["id"] for r in tui.iter_incidents(status=None))
    tui.append(target, "note", "オペレーターが打った大事なメモ", operator="花子")
    again = Store.open(desk.root)
    assert "オペレーターが打った大事なメモ" in [e.text for e in again.incident(target).entries]
    assert again.verify().ok


def test_an_entry_said_to_be_written_here_but_not_here_is_refused(tmp_path):
    import json as _json

    from csirt_tui.model import entry_hash

    desk, terminal = two_desks(tmp_path, notes=2, new=0)
    payload = _json.loads(_json.dumps(unpack(pack(export_payload(terminal)))))
    rec = payload["incidents"][0]
    forged = dict(rec["entries"][-1], store=desk.store_id, seq=999, kind="triage", text="CISO の判断",
                  data={"not_incident": True}, refs={}, seen={})
    forged["hash"] = entry_hash(forged)
    rec["entries"].append(forged)
    with pytest.raises(BundleError, match="この端末が書いたことになっていますが"):
        plan_import(desk, unpack(pack(payload)), store_id=desk.store_id, family=desk.family)

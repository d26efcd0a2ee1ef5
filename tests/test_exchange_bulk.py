"""A terminal's first whole import (issue 17): an incident new here is written whole (one
folder, its entries announced in the ledger in one write), not entry by entry (two fsynced
rewrites per entry: 120 s for 50,000 entries). The same bytes as entry by entry; atomic as
before (tests/test_exchange_kill.py)."""

from __future__ import annotations

import json
import os

from conftest import Clock, sample_intake
from csirt_tui.bundle import pack, unpack
from csirt_tui.exchange import apply_import, export_payload, plan_import
from csirt_tui.store import Store


def desk_store(tmp_path) -> Store:
    desk = Store.open(tmp_path / "desk", clock=Clock())
    for n in range(3):
        inc = desk.create_incident(sample_intake(what=f"通報 {n} 𩸽 [bold]"), operator="受付 花子")
        for k in range(140 if n == 0 else 6):  # the first one spans two segments (128 a segment)
            desk.append(inc.id, "note", f"メモ {k}", operator="担当 太郎")
        desk.append(inc.id, "correction", "訂正", operator="担当 太郎", corrects=3)
        desk.append(inc.id, "triage", "判断", operator="担当 太郎", data={"type": "malware", "level": 1})
    return desk


def take(dst: Store, payload: dict) -> None:
    payload = unpack(pack(payload))
    if dst.family != payload["family"]:
        dst.join_family(payload["family"])
    apply_import(dst, plan_import(dst, payload, store_id=dst.store_id, family=dst.family), store_id=dst.store_id)


def incident_files(root) -> dict[str, bytes]:
    base = root / "incidents"
    return {str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*.json"))}


def test_written_whole_it_is_what_entry_by_entry_writes(tmp_path, monkeypatch):
    desk = desk_store(tmp_path)
    whole = export_payload(desk)
    bulk = Store.open(tmp_path / "bulk", clock=Clock())
    take(bulk, whole)  # every incident new here: written whole
    intakes = json.loads(json.dumps(whole))
    for rec in intakes["incidents"]:
        rec["entries"] = rec["entries"][:1]
    batched = Store.open(tmp_path / "batched", clock=Clock())
    take(batched, intakes)  # the intakes first, then every other entry appended to them at once
    take(batched, whole)
    one_by_one = Store.open(tmp_path / "one", clock=Clock())
    take(one_by_one, intakes)
    monkeypatch.setattr(one_by_one, "imported_entries",  # then one by one, as an entry is appended
                        lambda incident_id, specs: [one_by_one.imported_entry(incident_id, s) for s in specs])
    take(one_by_one, whole)
    assert incident_files(bulk.root) == incident_files(batched.root) == incident_files(one_by_one.root)  # bytes
    assert bulk.verify().ok and batched.verify().ok and one_by_one.verify().ok
    assert bulk._row_of("2026-0001") == batched._row_of("2026-0001") == one_by_one._row_of("2026-0001")


def test_a_whole_import_costs_a_few_writes_per_incident_not_two_per_entry(tmp_path, monkeypatch):
    desk = desk_store(tmp_path)
    payload = unpack(pack(export_payload(desk)))
    entries = sum(len(i["entries"]) for i in payload["incidents"])
    term = Store.open(tmp_path / "term", clock=Clock())
    term.join_family(payload["family"])
    plan = plan_import(term, payload, store_id=term.store_id, family=term.family)
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    apply_import(term, plan, store_id=term.store_id)
    monkeypatch.undo()
    assert entries == 161 and len(synced) < entries // 2, len(synced)  # entry by entry: 2 or more each
    assert term.verify().ok


def test_many_new_incidents_get_the_index_rows_the_record_makes(tmp_path):
    desk = Store.open(tmp_path / "desk", clock=Clock())
    for n in range(30):  # more than Store.imported_indexed puts in row by row
        inc = desk.create_incident(sample_intake(what=f"通報 {n}"), operator="受付 花子")
        if n % 3 == 0:
            desk.append(inc.id, "close", "終結", operator="担当 太郎", data={"status": "closed"})
    fresh = Store.open(tmp_path / "fresh", clock=Clock())
    take(fresh, export_payload(desk))
    assert fresh.verify().ok
    index = {p.name: p.read_bytes() for p in sorted((fresh.root / "index").glob("*.json")) if p.name != "uids.json"}
    fresh.reindex()
    assert {p.name: p.read_bytes() for p in sorted((fresh.root / "index").glob("*.json"))
            if p.name != "uids.json"} == index
    assert len(fresh.list_incidents(status=None)) == 30 and len(fresh.list_incidents(status="open")) == 20


def test_the_progress_starts_at_nought_and_ends_at_the_whole(tmp_path, monkeypatch):
    """The screen's bar (screens/exchange.py) is told the whole at once: 0 of N before the first
    batch of incidents new here is written (it was "--%" until 200 incidents were in), then each
    step, to N of N."""
    import csirt_tui.exchange as exchange

    monkeypatch.setattr(exchange, "BATCH", 2)
    desk = desk_store(tmp_path)
    terminal = Store.open(tmp_path / "terminal", clock=Clock())
    payload = unpack(pack(export_payload(desk)))
    terminal.join_family(payload["family"])
    calls = []
    apply_import(terminal, plan_import(terminal, payload, store_id=terminal.store_id, family=terminal.family),
                 store_id=terminal.store_id, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 3), (2, 3), (3, 3)]
    terminal.append("2026-0001", "note", "端末で", operator="端末")
    desk.append("2026-0002", "note", "デスクで", operator="デスク")
    back = unpack(pack(export_payload(terminal)))
    calls.clear()
    apply_import(desk, plan_import(desk, back, store_id=desk.store_id, family=desk.family),
                 store_id=desk.store_id, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 1), (1, 1)]  # one incident with new entries, none new here


def test_a_whole_import_does_not_keep_every_incident_it_made(tmp_path, monkeypatch):
    """Issue 17 (a 1 GB bundle on an old PC): apply_import kept every incident new here (all its
    entries, as TimelineEntry objects: a second copy of the whole bundle) until its last batch,
    only to make their index rows. It keeps the rows now. Python's own allocations during the
    import (tracemalloc), beside the payload it takes in: 0.66 times the bundle's size now, in
    batches of 20 (what a batch holds is let go of); 2.36 times when every incident was kept."""
    import tracemalloc

    import csirt_tui.exchange as exchange
    from csirt_tui.demo import build_large
    from csirt_tui.exchange import take_in

    monkeypatch.setattr(exchange, "BATCH", 20)  # batches of 20 of the 240: what a batch holds is small

    desk = Store.open(tmp_path / "desk", clock=Clock())
    build_large(desk, incidents=240, entries=25)
    raw = pack(export_payload(desk))
    terminal = Store.open(tmp_path / "terminal", clock=Clock())
    payload = unpack(raw)
    plan = plan_import(terminal, payload, store_id=terminal.store_id, family=payload["family"])
    tracemalloc.start()
    try:
        take_in(terminal, plan, payload["family"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert terminal.count_incidents() == 240
    assert peak < 1.0 * len(raw), peak / len(raw)

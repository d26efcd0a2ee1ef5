"""The index of incidents from other desks (csirt_tui/uids.py, docs/exchange.md 7): a small
delta's plan and import read the incidents it names, not every incident of the store; the
index is kept by the import, checked by verify, made again by reindex and at open."""

from __future__ import annotations

import json

from conftest import Clock, sample_intake
from csirt_tui import uids
from csirt_tui.bundle import incident_record, make_payload, pack, unpack
from csirt_tui.exchange import apply_import, export_payload, plan_import
from csirt_tui.jsonfile import atomic_write, read_file, seal
from csirt_tui.store import Store
from test_exchange import exchange


def desk_and_terminal(tmp_path, incidents=12):
    clock = Clock()
    desk = Store.open(tmp_path / "desk", clock=clock)
    for n in range(incidents):
        inc = desk.create_incident(sample_intake(what=f"通報 {n}"), operator="受付 花子")
        desk.append(inc.id, "note", "メモ", operator="担当 太郎")
    terminal = Store.open(tmp_path / "terminal", clock=clock)
    exchange(desk, terminal, tmp_path)
    return desk, terminal


def delta(store: Store, incident_id: str, since: int) -> dict:
    rec = incident_record(store.incident(incident_id), store.store_id, since=since)
    return unpack(pack(make_payload([rec], family=store.family, store_id=store.store_id, desk=store.desk,
                                    profile=store.meta["profile"], schema=store.meta["schema"],
                                    created_at="2026-05-01T10:00:00+09:00")))


def counting_reads(monkeypatch) -> list[str]:
    read: list[str] = []
    original = Store.timeline

    def timeline(self, incident_id):
        read.append(incident_id)
        return original(self, incident_id)

    monkeypatch.setattr(Store, "timeline", timeline)
    return read


def test_the_import_keeps_a_row_per_incident_of_another_desk(tmp_path):
    desk, terminal = desk_and_terminal(tmp_path, incidents=5)
    rows = uids.read(terminal)
    assert len(rows) == 5
    for (store_id, there), here in rows.items():
        assert store_id == desk.store_id and terminal.incident(here).entries[0].origin["incident"] == there
    assert uids.read(desk) == {}  # every incident of the desk is its own: no row
    assert terminal.verify().ok and desk.verify().ok


def test_a_delta_reads_only_the_incidents_it_names_both_ways(tmp_path, monkeypatch):
    desk, terminal = desk_and_terminal(tmp_path)
    # the desk's delta to the terminal (an incident of the desk: a row of the terminal's index)
    target = next(r["id"] for r in desk.iter_incidents(status=None))
    seq = desk.incident(target).entries[-1].seq
    for k in range(3):
        desk.append(target, "note", f"デスクのメモ {k}", operator="デスク")
    payload = delta(desk, target, seq)
    read = counting_reads(monkeypatch)
    plan = plan_import(terminal, payload, store_id=terminal.store_id, family=terminal.family)
    assert plan.new_entries == 3
    apply_import(terminal, plan, store_id=terminal.store_id)
    here = uids.local_of(terminal, desk.store_id, target)
    assert set(read) == {here}, read  # 12 incidents in the store: the one it names was read
    # the terminal's delta back (the desk's own incident: its own number, no index needed)
    seq = terminal.incident(here).entries[-1].seq
    terminal.append(here, "note", "端末のメモ", operator="端末")
    read.clear()
    payload = delta(terminal, here, seq)
    plan = plan_import(desk, payload, store_id=desk.store_id, family=desk.family)
    apply_import(desk, plan, store_id=desk.store_id)
    assert set(read) == {target} and desk.incident(target).entries[-1].text == "端末のメモ"


def test_verify_names_a_row_that_is_not_the_records_and_reindex_makes_it_again(tmp_path):
    _, terminal = desk_and_terminal(tmp_path, incidents=3)
    path = uids.path_of(terminal)
    data = read_file(path)
    rows = data["uids"]
    first = rows["1"]
    rows["1"] = {**first, "id": rows["2"]["id"]}  # resealed: only verify's comparison with the record finds it
    atomic_write(path, seal(data))
    report = terminal.verify()
    assert not report.ok and any("uids.json" in p and "記録と違います" in p for p in report.problems), report.problems
    terminal.reindex()
    assert terminal.verify().ok
    assert uids.read(terminal)[(first["store"], first["incident"])] == first["id"]


def test_a_store_without_the_index_gets_it_at_open(tmp_path):
    desk, terminal = desk_and_terminal(tmp_path, incidents=3)
    expect = uids.read(terminal)
    uids.path_of(terminal).unlink()  # a store made before the index existed
    again = Store.open(terminal.root, clock=Clock())
    assert uids.read(again) == expect and again.verify().ok


def test_a_whole_export_taken_in_twice_adds_no_row(tmp_path):
    desk, terminal = desk_and_terminal(tmp_path, incidents=3)
    before = uids.path_of(terminal).read_bytes()
    payload = json.loads(json.dumps(export_payload(desk)))
    plan = plan_import(terminal, payload, store_id=terminal.store_id, family=terminal.family)
    assert plan.changes_nothing and not plan.new_incidents
    assert uids.path_of(terminal).read_bytes() == before


def test_a_store_that_took_in_bundles_before_the_alias_verifies_after_the_upgrade(tmp_path, monkeypatch):
    """A store that took in bundles with the version before index/uids.json had index rows with
    no alias: opened by this version, every imported incident's row was called damaged by verify
    (NG: 12 件の問題, seen on a store made with 0c4cd15). The first open puts those rows again."""
    from csirt_tui.model import Incident

    desk, terminal = desk_and_terminal(tmp_path, incidents=4)
    root = terminal.root
    # the terminal as the earlier version left it: rows without alias, no uids.json
    original = Incident.index_doc

    def without_alias(self):
        row = original(self)
        row.pop("alias", None)
        return row

    monkeypatch.setattr(Incident, "index_doc", without_alias)
    terminal.reindex()
    monkeypatch.setattr(Incident, "index_doc", original)
    uids.path_of(terminal).unlink()
    rows = (read_file(root / "index" / "open.json") or {})["incidents"].values()
    assert rows and not any("alias" in r for r in rows)

    upgraded = Store.open(root, clock=Clock())
    report = upgraded.verify()
    assert report.ok, report.problems[:3]
    assert sorted(r.get("alias", "") for r in upgraded.list_incidents()) == sorted(
        f"{r['id']}@{desk.store_id}" for r in desk.list_incidents())

"""verify ID reads the ledger's heads files, not the ledger after the incident's record
(issue 18): the writer keeps them, the full verify checks them against its walk, a store
without them is read as before and gets them from verify or reindex."""

from __future__ import annotations

import shutil

import pytest

from conftest import sample_intake
from csirt_tui import jsonfile, ledger as ledger_mod
from csirt_tui.ledger import SEGMENT
from csirt_tui.store import Store


@pytest.fixture
def long_ledger(store):
    """An old incident, then another with enough notes for two ledger segments after it."""
    old = store.create_incident(sample_intake(), operator="試験").id
    store.append(old, "note", "古いメモ", operator="試験")
    busy = store.create_incident(sample_intake(what="二件目"), operator="試験").id
    for i in range(2 * SEGMENT):
        store.append(busy, "note", f"メモ {i}", operator="試験")
    return store, old, busy


def _ledger_reads(monkeypatch):
    seen: list[str] = []
    real = ledger_mod.read_bytes

    def spy(path):
        if path.name.startswith("ledger-"):
            seen.append(path.name)
        return real(path)

    monkeypatch.setattr(ledger_mod, "read_bytes", spy)
    return seen


def test_verify_id_of_an_old_incident_reads_no_ledger_segment_after_its_record(long_ledger, monkeypatch):
    store, old, _ = long_ledger
    assert store._ledger.folded() == 1  # the writer folded each segment as it filled
    seen = _ledger_reads(monkeypatch)
    assert store.verify_incident(old).ok
    # the tail (not folded yet: 3 + 2 * 128 records) and the segment of its record
    assert sorted(set(seen)) == ["ledger-0000.json", "ledger-0002.json"], seen


def test_the_heads_files_and_the_ledger_agree_for_verify(long_ledger):
    store, old, busy = long_ledger
    report = store.verify()
    assert report.ok, report.problems
    assert store._ledger.last_for(old) == store._ledger.last_for(old, scan=True)
    assert store._ledger.last_for(busy) == store._ledger.last_for(busy, scan=True)


def _edit_heads(store, incident, change):
    path = store._ledger.heads_dir / ledger_mod.heads_key(incident)[0]
    data = jsonfile.decode(path, path.read_bytes())
    change(data["heads"][ledger_mod.heads_key(incident)[1]])
    path.write_bytes(jsonfile.seal(data))


def test_a_heads_file_naming_an_older_record_is_caught_by_verify(long_ledger):
    """The newest entry deleted and the heads file set back to the record before it:
    verify ID trusts the heads file (as it trusted the ledger's records), the full verify
    walks the ledger and names the heads file."""
    store, old, _ = long_ledger
    first = store._ledger.walk([])[0][old]
    older = [r for seg in store._ledger.segments()[:1]
             for r in jsonfile.decode(seg, seg.read_bytes())["ledger"].values()
             if r["incident"] == old and r["n"] < first["n"]][-1]
    _edit_heads(store, old, lambda ref: ref.update(n=older["n"], rhash=older["rhash"]))
    problems = Store.open(store.root, create=False).verify().problems
    assert any("heads" in p and old in p and "一致しません" in p for p in problems), problems


def test_a_heads_file_naming_another_incidents_record_is_caught_by_verify_id(long_ledger):
    store, old, busy = long_ledger
    other = store._ledger.walk([])[0][busy]
    _edit_heads(store, old, lambda ref: ref.update(n=other["n"], rhash=other["rhash"]))
    report = Store.open(store.root, create=False).verify_incident(old)
    assert any("台帳の索引が台帳の記録と一致しません" in p for p in report.problems), report.problems


def test_a_ledger_record_changed_without_its_hash_is_caught_by_verify_id(long_ledger):
    store, old, _ = long_ledger
    n = store._ledger.walk([])[0][old]["n"]
    seg = store._ledger._path((n - 1) // SEGMENT)
    data = jsonfile.decode(seg, seg.read_bytes())
    data["ledger"][str(n)]["after"] = "0" * 64
    seg.write_bytes(jsonfile.encode(data))
    report = Store.open(store.root, create=False).verify_incident(old)
    assert any("ハッシュが一致しません" in p for p in report.problems), report.problems


def test_a_store_without_heads_files_is_read_as_before_and_gets_them(long_ledger):
    store, old, busy = long_ledger
    shutil.rmtree(store._ledger.heads_dir)
    s = Store.open(store.root, create=False)
    assert s._ledger.folded() is None
    assert s.verify_incident(old).ok  # the whole ledger read back
    report = s.verify(mark=True)  # the CLI's verify: makes them from its walk
    assert report.ok, report.problems
    assert s._ledger.folded() == 1
    assert s.verify_incident(old).ok and s.verify().ok
    shutil.rmtree(store._ledger.heads_dir)
    s.reindex()
    assert s._ledger.folded() == 1 and s.verify().ok


def test_a_fold_cut_off_before_upto_is_caught_up_by_the_next(store, monkeypatch):
    """The heads files written, upto.json not (a write killed, a full disk): the append
    goes on, verify ID stays right, and the next full segment folds both."""
    a = store.create_incident(sample_intake(), operator="試験").id
    real = ledger_mod.atomic_write

    def refuse_upto(path, payload, **kw):
        if path.name == "upto.json":
            raise OSError(28, "No space left on device")
        return real(path, payload, **kw)

    monkeypatch.setattr(ledger_mod, "atomic_write", refuse_upto)
    for i in range(SEGMENT):
        store.append(a, "note", f"メモ {i}", operator="試験")
    assert store._ledger.folded() == -1
    monkeypatch.setattr(ledger_mod, "atomic_write", real)
    assert store.verify_incident(a).ok and store.verify().ok
    for i in range(SEGMENT):
        store.append(a, "note", f"続き {i}", operator="試験")
    assert store._ledger.folded() == 1
    report = store.verify()
    assert report.ok, report.problems


def test_verify_changed_checks_the_heads_of_what_it_reads(long_ledger):
    store, old, _ = long_ledger
    assert store.verify_changed().ok  # the mark (a full verify)
    while store._ledger.last()["n"] % SEGMENT:  # old's newest record ends a segment: folded
        store.append(old, "note", "後のメモ", operator="試験")
    assert store._ledger.folded() == (store._ledger.last()["n"] - 1) // SEGMENT
    newest = store._ledger.last()
    _edit_heads(store, old, lambda ref: ref.update(n=newest["n"] - 1, rhash=newest["prev"]))
    report = Store.open(store.root, create=False).verify_changed()
    assert any(old in p and "一致しません" in p for p in report.problems), report.problems

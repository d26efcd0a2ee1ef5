"""Issue 18: `verify --changed`: what was written since the last check that found nothing,
at a cost that grows with that, not with the store. What it proves and what it leaves to
the full verify is in Store.verify_changed's docstring; these check both sides."""

from __future__ import annotations

import pytest

from conftest import sample_intake
from csirt_tui import jsonfile
from csirt_tui.cli import main
from csirt_tui.model import entry_hash
from csirt_tui.store import Store


@pytest.fixture
def checked(store):
    """Three incidents, a full check noted (verified.json), then one incident written to."""
    ids = [store.create_incident(sample_intake(what=f"受付 {i}"), operator="op").id for i in range(3)]
    for i in range(5):
        store.append(ids[0], "note", f"メモ {i}", operator="op")
    assert store.verify(mark=True).ok
    assert (store.root / "verified.json").exists()
    store.append(ids[1], "note", "検査の後のメモ", operator="op")
    return store, ids


def _rewrite(store, incident_id, seq, text):
    """Rewrite one entry with a valid hash (the chain after it no longer follows)."""
    seg = store.root / "incidents" / incident_id[:4] / incident_id / "timeline-0000.json"
    data = jsonfile.decode(seg, seg.read_bytes())
    entry = data["timeline"][str(seq)]
    entry["text"] = text
    entry["hash"] = entry_hash(entry)
    seg.write_bytes(jsonfile.encode(data))


def test_it_reads_only_the_incidents_written_since(checked, monkeypatch):
    store, ids = checked
    seen = []
    real = Store._verify_chain

    def chain(self, idir, report):
        seen.append(idir.name)
        return real(self, idir, report)

    monkeypatch.setattr(Store, "_verify_chain", chain)
    report = store.verify_changed()
    assert report.ok and not report.full, report.problems
    assert seen == [ids[1]] and report.incidents == 1
    seen.clear()
    assert store.verify_changed().ok and seen == []  # the mark moved on: nothing since
    assert store.verify().ok and len(seen) == 3  # the full one reads all


def test_a_rewrite_of_an_incident_written_since_is_caught(checked):
    store, ids = checked
    _rewrite(store, ids[1], 2, "書き換えたメモ")
    problems = store.verify_changed().problems
    assert any(ids[1] in p for p in problems), problems


def test_a_rewrite_of_the_ledger_before_the_mark_is_caught(checked):
    store, ids = checked
    path = store.root / "ledger" / "ledger-0000.json"
    data = jsonfile.decode(path, path.read_bytes())
    rows = data["ledger"]
    mark = jsonfile.decode(store.root / "verified.json", (store.root / "verified.json").read_bytes())
    n = mark["checkpoint"]["1"]["n"]
    rows[str(n)]["seq"] += 1  # the record the mark names, changed
    path.write_bytes(jsonfile.encode(data))
    problems = store.verify_changed().problems
    assert any("前回の検査" in p for p in problems), problems


def test_what_it_leaves_to_the_full_verify(checked):
    """An incident not written since, rewritten outside csirt-desk: not re-read by
    --changed (said in its docstring and the README), found by the full verify."""
    store, ids = checked
    _rewrite(store, ids[2], 1, "書き換えた受付")
    assert store.verify_changed().ok
    assert not store.verify().ok


def test_without_a_mark_it_is_the_full_verify_and_says_so(store, capsys):
    store.create_incident(sample_intake(), operator="op")
    assert main(["--store", str(store.root), "verify", "--changed"]) == 0
    assert "全体を検査しました" in capsys.readouterr().err
    assert main(["--store", str(store.root), "verify", "--changed"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["--store", str(store.root), "verify", "2026-0001", "--changed"]) == 1


def test_it_walks_no_incident_folder(checked, monkeypatch):
    import csirt_tui.store as store_mod

    store, ids = checked

    def walked(*args, **kwargs):
        raise AssertionError("a walk over the whole store")

    monkeypatch.setattr(store_mod, "store_files", walked)
    monkeypatch.setattr(Store, "_incident_dirs", walked)
    report = store.verify_changed()
    assert report.ok and report.incidents == 1 and report.files >= 3, report


def test_list_all_decodes_a_years_rows_as_they_are_taken(store, monkeypatch):
    """iter_incidents holds a year file's bytes and one key per row, not every row's dict:
    the second decode of each row happens as the caller takes it."""
    from csirt_tui.response import close_incident

    for i in range(4):
        inc = store.create_incident(sample_intake(what=f"受付 {i}"), operator="op")
        close_incident(store, inc.id, operator="op", note="完了", force=True)
    calls = []
    real = Store._line_row
    monkeypatch.setattr(Store, "_line_row", lambda self, path, line: calls.append(1) or real(self, path, line))
    rows = store.iter_incidents()
    first = next(rows)
    assert len(calls) == 5  # 4 for the keys, then the first row taken
    assert [first["id"], *(r["id"] for r in rows)] == [r["id"] for r in store.list_incidents()]


def test_a_year_file_damaged_inside_since_the_mark_is_caught(store, clock):
    """A year index file changed inside after the last check (its last bytes, the seal
    digest the mark notes, left as they were): the open reads only those last bytes, so
    --changed must look at the file itself when it is not the one the check saw (its size
    or time moved), or it says OK over a damaged index."""
    from datetime import datetime

    from conftest import TZ
    from csirt_tui.response import close_incident

    at = datetime(2025, 3, 1, 10, tzinfo=TZ).isoformat()
    old = store.create_incident(sample_intake(received_at=at, found_at=at, what="端末の不具合"), operator="op")
    close_incident(store, old.id, operator="op", note="完了を確認", force=True)
    assert store.verify(mark=True).ok
    path = store.root / "index" / "2025.json"
    raw = path.read_bytes()
    bad = raw.replace("端末".encode(), "端未".encode(), 1)
    assert bad != raw and bad[-128:] == raw[-128:]
    path.write_bytes(bad)
    problems = store.verify_changed().problems
    assert any("2025.json" in p for p in problems), problems
    path.write_bytes(raw)
    assert store.verify_changed().ok  # the same bytes again: nothing said

"""What `verify` could not see before the ledger (issue 14, defect 9): the newest
entries deleted, a segment rolled back to its backed-up copy, a whole chain
rewritten consistently, a forged incident with a valid chain. And a write cut
off between its ledger record and its entry is no false alarm."""

from __future__ import annotations

import shutil

import pytest

from conftest import sample_intake
from csirt_tui import jsonfile
from csirt_tui.model import entry_hash, genesis_hash
from csirt_tui.store import SCHEMA_VERSION, Store


def _segments(store, incident_id):
    return sorted(store._incident_dir(incident_id).glob("timeline-*.json"))


def _problems(root):
    return Store.open(root, create=False).verify().problems


@pytest.fixture
def busy(store):
    a = store.create_incident(sample_intake(), operator="試験").id
    b = store.create_incident(sample_intake(what="二件目"), operator="試験").id
    for i in range(5):
        store.append(a, "note", f"メモ {i}", operator="試験")
    store.backup("manual")
    for i in range(3):
        store.append(a, "note", f"バックアップの後 {i}", operator="試験")
    assert store.verify().ok
    return store, a, b


def test_deleting_the_newest_entries_written_after_the_backup_is_caught(busy):
    store, a, _ = busy
    seg = _segments(store, a)[-1]
    data = jsonfile.decode(seg, seg.read_bytes())
    for key in ("9", "8"):
        del data["timeline"][key]
    seg.write_bytes(jsonfile.encode(data))  # canonical, and the chain that is left is valid
    problems = _problems(store.root)
    assert any(a in p and "最新の記録がありません" in p for p in problems), problems


def test_rolling_a_segment_back_to_its_backed_up_copy_is_caught(busy):
    store, a, _ = busy
    seg = _segments(store, a)[-1]
    backed_up = store.root / "backups" / store.list_backups()[0].name / seg.relative_to(store.root)
    shutil.copyfile(backed_up, seg)
    problems = _problems(store.root)
    assert any("最新の記録がありません" in p for p in problems), problems


def test_a_consistent_rewrite_of_a_whole_chain_is_caught(busy):
    store, a, _ = busy
    seg = _segments(store, a)[-1]
    data = jsonfile.decode(seg, seg.read_bytes())
    prev = genesis_hash(a)
    for key in sorted(data["timeline"], key=int):
        doc = data["timeline"][key]
        doc["text"] = doc["text"].replace("メモ", "書き換え")
        doc["prev_hash"] = prev
        doc["hash"] = prev = entry_hash(doc)
    seg.write_bytes(jsonfile.encode(data))
    problems = _problems(store.root)
    assert any("台帳 (ledger) の記録と一致しません" in p for p in problems), problems


def test_a_forged_incident_with_a_valid_chain_is_caught(busy, tmp_path):
    store, _, b = busy
    forged = "2026-0077"
    src = _segments(store, b)[0]
    data = jsonfile.decode(src, src.read_bytes())
    doc = data["timeline"]["1"]
    doc.update(incident=forged, prev_hash=genesis_hash(forged))
    doc["hash"] = entry_hash(doc)
    target = store.root / "incidents" / "2026" / forged
    target.mkdir()
    (target / "timeline-0000.json").write_bytes(jsonfile.encode(data))
    problems = _problems(store.root)
    assert any(forged in p and "台帳 (ledger) に記録がありません" in p for p in problems), problems


class Cut(BaseException):
    """A kill between the ledger record and the entry."""


def _cut_next_write(monkeypatch):
    import csirt_tui.store as store_mod

    real = store_mod.atomic_write

    def cut(path, payload, **kw):
        if path.name.startswith("timeline-"):
            monkeypatch.setattr(store_mod, "atomic_write", real)
            raise Cut()
        return real(path, payload, **kw)

    monkeypatch.setattr(store_mod, "atomic_write", cut)


def test_an_append_cut_off_after_its_ledger_record_is_no_false_alarm(busy, monkeypatch):
    store, a, b = busy
    _cut_next_write(monkeypatch)
    with pytest.raises(Cut):
        store.append(a, "note", "書けなかったメモ", operator="試験")
    assert store.verify().ok  # the ledger's last record has no entry: a cut-off write
    store.append(b, "note", "別のインシデントへ", operator="試験")  # the next write closes it
    report = store.verify()
    assert report.ok, report.problems
    assert report.closings == [f"{a}#10"]
    store.append(a, "note", "次のメモ", operator="試験")
    assert [e.text for e in store.timeline(a)][-2:] == ["バックアップの後 2", "次のメモ"]
    assert store.verify().ok


def test_a_creation_cut_off_after_its_ledger_record_is_no_false_alarm(busy, monkeypatch):
    store, a, _ = busy
    _cut_next_write(monkeypatch)
    with pytest.raises(Cut):
        store.create_incident(sample_intake(what="書けなかった受付"), operator="試験")
    assert store.verify().ok
    store.append(a, "note", "次の書き込み", operator="試験")
    report = store.verify()
    assert report.ok, report.problems and len(report.closings) == 1
    c = store.create_incident(sample_intake(what="次の受付"), operator="試験")
    assert c.id == "2026-0003" and store.verify().ok


def test_the_ledger_is_checked_record_by_record(busy):
    store, _, _ = busy
    seg = store.root / "ledger" / "ledger-0000.json"
    data = jsonfile.decode(seg, seg.read_bytes())
    del data["ledger"]["3"]
    seg.write_bytes(jsonfile.encode(data))
    problems = _problems(store.root)
    assert any("台帳 #4" in p and "番号が連続していません" in p for p in problems), problems


def test_verify_one_incident_checks_its_head_against_the_ledger(busy):
    store, a, b = busy
    seg = _segments(store, a)[-1]
    data = jsonfile.decode(seg, seg.read_bytes())
    del data["timeline"]["9"], data["timeline"]["8"]
    seg.write_bytes(jsonfile.encode(data))
    assert not store.verify_incident(a).ok
    assert store.verify_incident(b).ok


def test_a_schema_2_store_is_sealed_and_anchored_when_opened(store_dir, clock):
    """A store written before the seal and the ledger opens, is upgraded in place
    (after a backup), and verifies."""
    from csirt_tui.store import store_files

    s = Store.open(store_dir, clock=clock)
    inc = s.create_incident(sample_intake(), operator="op")
    s.append(inc.id, "note", "メモ", operator="op")
    s.save_draft("d1", {"what": "下書き"}, operator="op")
    for path in store_files(store_dir):  # as schema 2 wrote them: unsealed
        data = jsonfile.decode(path, path.read_bytes())
        if path.name == "store.json":
            data["meta"]["1"]["schema"] = 2
        path.write_bytes(jsonfile.encode(data))
    shutil.rmtree(store_dir / "ledger")
    s2 = Store.open(store_dir, clock=clock)
    assert s2.meta["schema"] == SCHEMA_VERSION == 4
    report = s2.verify()
    assert report.ok, report.problems
    assert any("before-migration-v2" in p.name for p in s2.list_backups())
    assert [e.text for e in s2.timeline(inc.id)] == ["受付", "メモ"]
    assert s2.load_draft("d1")["data"] == {"what": "下書き"}


def test_what_the_ledger_cannot_tell_from_a_crash(busy):
    """The one deletion the ledger cannot see (README says so): the newest entry of
    the whole store, which looks like a write cut off by a crash. The next write
    closes it and verify names it; the head hash on paper is the anchor for that."""
    store, a, b = busy
    seg = _segments(store, a)[-1]
    data = jsonfile.decode(seg, seg.read_bytes())
    del data["timeline"]["9"]
    seg.write_bytes(jsonfile.encode(data))
    assert store.verify().ok
    restarted = Store.open(store.root)  # another process, or the desk started again
    restarted.append(b, "note", "次の書き込み", operator="試験")
    report = restarted.verify()
    assert report.ok and report.closings == [f"{a}#9"]


def test_the_writer_that_wrote_the_newest_entry_sees_it_deleted(busy):
    """The process that wrote the newest entry knows its entry was written: if it is
    gone at its next write, the ledger is not closed over it and verify says so."""
    store, a, b = busy
    seg = _segments(store, a)[-1]
    data = jsonfile.decode(seg, seg.read_bytes())
    del data["timeline"]["9"]
    seg.write_bytes(jsonfile.encode(data))
    store.append(b, "note", "次の書き込み", operator="試験")
    assert any("最新の記録がありません" in p for p in store.verify().problems)


# ------------------------------------------------ from the review of the ledger (each failed before)
def _drop(store, incident_id, *keys):
    seg = _segments(store, incident_id)[-1]
    data = jsonfile.decode(seg, seg.read_bytes())
    for key in keys:
        del data["timeline"][key]
    seg.write_bytes(jsonfile.encode(data))


def test_deleted_entries_stay_visible_after_another_desks_write(busy):
    """The next write closed any gap as if it were a crash: three deleted entries
    then passed verify. Only the exact crash pattern is closed now."""
    store, a, b = busy
    _drop(store, a, "9", "8", "7")
    Store.open(store.root).append(b, "note", "別のデスクの書き込み", operator="試験")
    report = Store.open(store.root).verify()
    assert any("最新の記録がありません" in p for p in report.problems), report.problems
    assert report.closings == []


def test_a_rewrite_stays_visible_after_the_next_append_to_that_incident(busy):
    store, a, _ = busy
    seg = _segments(store, a)[-1]
    data = jsonfile.decode(seg, seg.read_bytes())
    prev = data["timeline"]["2"]["prev_hash"]
    for key in sorted(data["timeline"], key=int)[1:]:
        doc = data["timeline"][key]
        if key == "3":
            doc["text"] = "（書き換えた内容）"
        doc["prev_hash"] = prev
        doc["hash"] = prev = entry_hash(doc)
    seg.write_bytes(jsonfile.encode(data))
    Store.open(store.root).append(a, "note", "次のメモ", operator="試験")
    problems = Store.open(store.root).verify().problems
    assert any("記録の続きになっていません" in p for p in problems), problems


def test_a_number_used_twice_is_caught(busy):
    """The writer of the newest entry, after it was deleted, wrote the same incident
    again: the number was reused and verify said nothing."""
    store, a, _ = busy
    _drop(store, a, "9")
    store.append(a, "note", "同じ番号の次のメモ", operator="試験")
    problems = store.verify().problems
    assert any("記録の続きになっていません" in p for p in problems), problems


def test_a_write_refused_in_plain_words_is_not_reported_as_a_crash(busy, monkeypatch):
    import errno as errno_

    import csirt_tui.store as store_mod

    store, a, _ = busy
    real = store_mod.atomic_write

    def full(path, payload, **kw):
        if path.name.startswith("timeline-"):
            raise OSError(errno_.ENOSPC, "No space left on device", str(path))
        return real(path, payload, **kw)

    monkeypatch.setattr(store_mod, "atomic_write", full)
    with pytest.raises(OSError):
        store.append(a, "note", "書けなかったメモ", operator="試験")
    monkeypatch.undo()
    store.append(a, "note", "空きができてから", operator="試験")
    report = Store.open(store.root).verify()
    assert report.ok and report.closings == [], (report.problems, report.closings)


def test_verify_while_another_process_appends_reports_nothing_false(busy):
    import os
    import subprocess
    import sys
    from pathlib import Path

    store, a, _ = busy
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH")) if p))
    writer = subprocess.Popen([sys.executable, str(Path(__file__).with_name("writer_proc.py")), str(store.root),
                               a, "400", "W"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    false = []
    try:
        while writer.poll() is None:
            report = Store.open(store.root).verify_incident(a)
            false += report.problems
            full = Store.open(store.root).verify()
            false += full.problems
    finally:
        writer.communicate(timeout=120)
    assert false == []
    assert Store.open(store.root).verify().ok


def test_a_stale_index_row_after_a_crash_is_made_again_on_open(busy, monkeypatch):
    import csirt_tui.store as store_mod

    store, a, _ = busy

    class Cut(BaseException):
        pass

    def cut(self, inc):
        raise Cut()

    monkeypatch.setattr(store_mod.Store, "_update_index", cut)
    with pytest.raises(Cut):
        store.append(a, "close", "収束", operator="試験", data={})
    monkeypatch.undo()
    reopened = Store.open(store.root)
    assert reopened.verify().ok, reopened.verify().problems

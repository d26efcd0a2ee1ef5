"""The durable store: ids, append-only hash chain, verify, corruption, backups, files."""

from __future__ import annotations

import json
import os
import random
import shutil
import stat

import pytest

from conftest import posix_modes, sample_intake
from csirt_tui import jsonfile
from csirt_tui.errors import DomainError, StoreCorruptError, StoreError, UnknownIncidentError
from csirt_tui.store import SCHEMA_VERSION, SEGMENT_SIZE, Store


def _seg(store, incident_id, n=0):
    year = incident_id[:4]
    return store.root / "incidents" / year / incident_id / f"timeline-{n:04d}.json"


def test_ids_are_per_year_and_sequential(store):
    a = store.create_incident(sample_intake(), operator="op")
    b = store.create_incident(sample_intake(), operator="op")
    c = store.create_incident(sample_intake(received_at="2027-01-01T00:05:00+09:00"), operator="op")
    assert (a.id, b.id, c.id) == ("2026-0001", "2026-0002", "2027-0001")
    assert [r["id"] for r in store.list_incidents()] == ["2027-0001", "2026-0002", "2026-0001"]


def test_year_follows_the_profile_timezone(store):
    # 2026-12-31 23:30 UTC is 2027-01-01 08:30 in Tokyo
    inc = store.create_incident(sample_intake(received_at="2026-12-31T23:30:00+00:00"), operator="op")
    assert inc.id == "2027-0001"


def test_intake_is_the_first_entry_and_kept_verbatim(store):
    text = "[bold]赤[/] \x1b]8;;http://x\x07リンク <b>太字</b> \ud800 \u202e逆"
    inc = store.create_incident(sample_intake(what=text), operator="受付 花子")
    again = Store.open(store.root).incident(inc.id)
    assert again.intake["what"] == text
    first = again.entries[0]
    assert (first.seq, first.kind, first.operator) == (1, "intake", "受付 花子")


def test_append_keeps_time_order_and_chain(store, clock):
    inc = store.create_incident(sample_intake(), operator="op")
    for i in range(5):
        clock.advance(minutes=1)
        store.append(inc.id, "note", f"メモ{i}", operator="op")
    entries = store.timeline(inc.id)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5, 6]
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    for prev, cur in zip(entries, entries[1:]):
        assert cur.prev_hash == prev.hash
    report = store.verify()
    assert report.ok, report.problems
    assert (report.incidents, report.entries) == (1, 6)


def test_backdated_note_keeps_both_times(store, clock):
    inc = store.create_incident(sample_intake(), operator="op")
    e = store.append(inc.id, "note", "電話で報告を受けた", operator="op", occurred_at="2026-11-22T13:00:00+09:00")
    assert e.at == "2026-11-22T14:35:00+09:00"
    assert e.when == "2026-11-22T13:00:00+09:00"


def test_correction_is_a_new_entry_pointing_at_the_old(store):
    inc = store.create_incident(sample_intake(), operator="op")
    store.append(inc.id, "correction", "連絡先の訂正", operator="op", corrects=1,
                 data={"intake": {"reporter": {"name": "試験 一郎", "section": "税務課", "contact": "内線2310"}}})
    now = store.incident(inc.id)
    assert now.intake["reporter"]["contact"] == "内線2310"
    assert now.entries[0].data["reporter"]["contact"] == "内線2301"  # the original stays
    with pytest.raises(DomainError):
        store.append(inc.id, "correction", "x", operator="op", corrects=99)


def test_no_api_edits_or_deletes_entries():
    public = {n for n in dir(Store) if not n.startswith("_")}
    assert not {n for n in public if any(w in n for w in ("update", "delete", "remove", "edit"))}


def test_segments_bound_the_rewrite(store):
    inc = store.create_incident(sample_intake(), operator="op")
    for i in range(SEGMENT_SIZE + 10):
        store.append(inc.id, "note", f"n{i}", operator="op")
    assert _seg(store, inc.id, 0).exists() and _seg(store, inc.id, 1).exists()
    first = json.loads(_seg(store, inc.id, 0).read_text(encoding="utf-8"))["timeline"]
    assert len(first) == SEGMENT_SIZE
    assert len(store.timeline(inc.id)) == SEGMENT_SIZE + 11
    assert store.verify().ok


def test_unknown_incident_and_bad_kind(store):
    with pytest.raises(UnknownIncidentError):
        store.append("2026-0099", "note", "x", operator="op")
    with pytest.raises(UnknownIncidentError):
        store.incident("not-an-id")
    inc = store.create_incident(sample_intake(), operator="op")
    with pytest.raises(DomainError):
        store.append(inc.id, "intake", "x", operator="op")
    with pytest.raises(DomainError):
        store.append(inc.id, "nonsense", "x", operator="op")


def test_tamper_with_content_is_detected(store):
    inc = store.create_incident(sample_intake(), operator="op")
    store.append(inc.id, "note", "本当のメモ", operator="op")
    path = _seg(store, inc.id)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["timeline"]["2"]["text"] = "書き換えたメモ"
    path.write_bytes(jsonfile.encode(data))  # canonical bytes: only the hash can tell
    report = store.verify()
    assert not report.ok
    assert f"{inc.id}#2" in report.problems[0] and "改ざん" in report.problems[0]


def test_deleted_middle_entry_is_detected(store):
    inc = store.create_incident(sample_intake(), operator="op")
    for i in range(3):
        store.append(inc.id, "note", f"n{i}", operator="op")
    path = _seg(store, inc.id)
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["timeline"]["2"]
    path.write_bytes(jsonfile.encode(data))
    assert not store.verify().ok


def test_deleted_tail_is_detected_against_the_backup(store):
    inc = store.create_incident(sample_intake(), operator="op")
    store.append(inc.id, "note", "消される記録", operator="op")
    store.backup("test")
    path = _seg(store, inc.id)
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["timeline"]["2"]
    path.write_bytes(jsonfile.encode(data))
    report = store.verify()
    assert not report.ok and "バックアップ" in report.problems[0]


@pytest.mark.parametrize("edits", [30])
def test_random_single_byte_edits_are_all_caught(store, edits):
    _random_edits(store, edits, seed=1)


@pytest.mark.heavy
def test_random_single_byte_edits_are_all_caught_heavy(store):
    _random_edits(store, 100, seed=2)


def _random_edits(store, edits, seed):
    inc = store.create_incident(sample_intake(), operator="op")
    for i in range(8):
        store.append(inc.id, "note", f"経過メモ {i}: サーバ室を確認 abc", operator="操作 員")
    path = _seg(store, inc.id)
    original = path.read_bytes()
    rng = random.Random(seed)
    for _ in range(edits):
        pos = rng.randrange(len(original))
        new = rng.choice([b for b in range(256) if b != original[pos]])
        path.write_bytes(original[:pos] + bytes([new]) + original[pos + 1:])
        report = store.verify()
        assert not report.ok, f"edit at {pos} to {new:#x} not caught"
    path.write_bytes(original)
    assert store.verify().ok


CORRUPTIONS = {
    "truncated": lambda raw: raw[: len(raw) // 2],
    "not json": lambda raw: b"this is not json\n",
    "empty": lambda raw: b"",
    "wrong shape": lambda raw: b"[1, 2, 3]\n",
    "binary": lambda raw: b"\xff\xfe\x00garbage",
}


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corrupt_index_is_refused_and_left_alone(store_dir, clock, kind):
    store = Store.open(store_dir, clock=clock)
    store.create_incident(sample_intake(), operator="op")
    store.backup("good")
    path = store_dir / "index" / "2026.json"
    bad = CORRUPTIONS[kind](path.read_bytes())
    path.write_bytes(bad)
    with pytest.raises(StoreCorruptError) as err:
        Store.open(store_dir, clock=clock)
    msg = str(err.value)
    assert str(path) in msg and "good" in msg and "\n" not in msg
    assert path.read_bytes() == bad  # nothing overwritten


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corrupt_shard_refuses_writes(store, kind):
    inc = store.create_incident(sample_intake(), operator="op")
    path = _seg(store, inc.id)
    bad = CORRUPTIONS[kind](path.read_bytes())
    path.write_bytes(bad)
    with pytest.raises(StoreCorruptError) as err:
        store.append(inc.id, "note", "x", operator="op")
    assert str(path) in str(err.value)
    assert path.read_bytes() == bad
    assert not store.verify().ok


def test_newer_schema_is_refused(store_dir, clock):
    Store.open(store_dir, clock=clock)
    path = store_dir / "store.json"
    data = jsonfile.decode(path, path.read_bytes())
    data["meta"]["1"]["schema"] = 99
    path.write_bytes(jsonfile.seal(data))  # as a newer csirt-desk would write it
    before = path.read_bytes()
    with pytest.raises(StoreCorruptError, match="99"):
        Store.open(store_dir, clock=clock)
    assert path.read_bytes() == before


def test_migration_hook_runs_on_an_older_store(store_dir, clock, monkeypatch):
    from csirt_tui import store as store_mod

    s = Store.open(store_dir, clock=clock)
    s.create_incident(sample_intake(), operator="op")
    seen = []
    now = store_mod.SCHEMA_VERSION
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", now + 1)
    monkeypatch.setattr(store_mod, "MIGRATIONS", {now: lambda root: seen.append(root)})
    s2 = Store.open(store_dir, clock=clock)
    assert seen == [store_dir]
    assert s2.meta["schema"] == now + 1
    assert any(f"before-migration-v{now}" in p.name for p in s2.list_backups())
    assert s2.incident("2026-0001").intake["place"]


def test_foreign_folder_is_not_taken_over(tmp_path):
    (tmp_path / "mydocs").mkdir()
    (tmp_path / "mydocs" / "letter.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(StoreError):
        Store.open(tmp_path / "mydocs")


def test_store_remembers_its_profile(store_dir, clock):
    Store.open(store_dir, profile="osaki", clock=clock)
    assert Store.open(store_dir, clock=clock).meta["profile"] == "osaki"
    with pytest.raises(StoreError, match="osaki"):
        Store.open(store_dir, profile="mutsu", clock=clock)


def test_backup_rotation_and_restore(store, clock):
    store.meta["backup_keep"] = 3
    inc = store.create_incident(sample_intake(), operator="op")
    names = []
    for i in range(5):
        clock.advance(seconds=1)
        names.append(store.backup(f"b{i}").name)
    kept = [p.name for p in store.list_backups()]
    assert kept == list(reversed(names[-3:]))
    store.append(inc.id, "note", "バックアップ後のメモ", operator="op")
    clock.advance(seconds=1)
    Store.restore(store.root, names[-1], clock=clock)
    s2 = Store.open(store.root, clock=clock)
    assert len(s2.timeline(inc.id)) == 1
    assert s2.verify().ok
    aside = [p for p in s2.list_backups() if p.name.endswith("before-restore")]
    assert aside and (aside[0] / "incidents").is_dir()  # the newer state was kept aside


def test_index_is_repaired_from_the_timelines(store_dir, clock):
    s = Store.open(store_dir, clock=clock)
    inc = s.create_incident(sample_intake(), operator="op")
    (store_dir / "index" / "2026.json").unlink()  # as if a crash hit between the two writes
    s2 = Store.open(store_dir, clock=clock)
    assert [r["id"] for r in s2.list_incidents()] == [inc.id]
    assert s2.verify().ok


@posix_modes
def test_files_are_private(store):
    store.create_incident(sample_intake(), operator="op")
    store.save_draft("d1", {"what": "x"}, operator="op")
    store.backup("x")
    for dirpath, dirnames, filenames in os.walk(store.root):
        assert stat.S_IMODE(os.stat(dirpath).st_mode) == 0o700, dirpath
        for f in filenames:
            if f == ".lock":
                continue
            assert stat.S_IMODE(os.stat(os.path.join(dirpath, f)).st_mode) == 0o600, f


def test_drafts_are_kept_until_saved(store):
    store.save_draft("call-1", {"what": "途中まで"}, operator="op")
    store.save_draft("call-1", {"what": "途中まで入力した内容"}, operator="op")
    drafts = store.list_drafts()
    assert [d["data"]["what"] for d in drafts] == ["途中まで入力した内容"]
    store.close_draft("call-1", incident_id="2026-0001")
    assert store.list_drafts() == []
    assert store.load_draft("call-1")["incident"] == "2026-0001"  # kept, marked saved
    with pytest.raises(DomainError):
        store.save_draft("../escape", {}, operator="op")


def test_files_are_readable_json_with_japanese(store):
    inc = store.create_incident(sample_intake(), operator="受付 花子")
    text = _seg(store, inc.id).read_text(encoding="utf-8")
    assert "受付 花子" in text and "\\u" not in text
    assert json.loads(text)["timeline"]["1"]["kind"] == "intake"


def test_splice_append_gives_the_canonical_bytes():
    data = {"timeline": {"1": {"a": "受付", "n": 1}}}
    raw = jsonfile.encode(data)
    doc = {"a": "[bold]\x1b\ud800 <b>", "n": 2}
    spliced = jsonfile.splice_append(raw, data, "timeline", 2, doc)
    assert spliced == jsonfile.encode({"timeline": {"1": data["timeline"]["1"], "2": doc}})
    assert jsonfile.decode(None, spliced)["timeline"]["2"] == doc


def test_segments_are_plain_tinydb_files(store):
    from tinydb import TinyDB

    inc = store.create_incident(sample_intake(), operator="op")
    store.append(inc.id, "note", "TinyDB で読める", operator="op")
    # stock TinyDB JSONStorage (UTF-8 named: without it TinyDB reads in the locale's
    # encoding, cp932 on a Japanese Windows)
    with TinyDB(_seg(store, inc.id), encoding="utf-8") as db:
        docs = db.table("timeline").all()
    assert [d.doc_id for d in docs] == [1, 2] and docs[1]["text"] == "TinyDB で読める"


def test_failed_write_leaves_the_old_file_and_no_temp(store, monkeypatch):
    inc = store.create_incident(sample_intake(), operator="op")
    path = _seg(store, inc.id)
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        store.append(inc.id, "note", "書けないメモ", operator="op")
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert store.append(inc.id, "note", "書けたメモ", operator="op").seq == 2


def test_verify_incident_checks_one_chain(store):
    a = store.create_incident(sample_intake(), operator="op")
    b = store.create_incident(sample_intake(), operator="op")
    store.append(b.id, "note", "正しい記録", operator="op")
    path = _seg(store, b.id)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["timeline"]["2"]["operator"] = "別人"
    path.write_bytes(jsonfile.encode(data))
    assert store.verify_incident(a.id).ok
    report = store.verify_incident(b.id)
    assert not report.ok and f"{b.id}#2" in report.problems[0]


def test_timeline_tail_reads_the_newest_entries(store):
    inc = store.create_incident(sample_intake(), operator="op")
    for i in range(SEGMENT_SIZE + 5):
        store.append(inc.id, "note", f"n{i}", operator="op")
    tail, total = store.timeline_tail(inc.id, 10)
    assert total == SEGMENT_SIZE + 6
    assert [e.seq for e in tail] == list(range(total - 9, total + 1))
    assert store.timeline_tail(inc.id, 10_000)[0] == store.timeline(inc.id)


def test_a_schema_1_store_gets_its_index_rebuilt(store_dir, clock):
    """Schema 1 index rows had no ``drill``: opening the store rebuilds them, verify passes."""
    s = Store.open(store_dir, clock=clock)
    s.create_incident(sample_intake(), operator="op")
    index = next((store_dir / "index").glob("*.json"))
    data = jsonfile.decode(index, index.read_bytes())
    for row in data["incidents"].values():
        row.pop("drill", None)
    index.write_bytes(jsonfile.encode(data))  # schema 1 files had no seal, and no ledger
    meta = jsonfile.decode(store_dir / "store.json", (store_dir / "store.json").read_bytes())
    meta["meta"]["1"]["schema"] = 1
    (store_dir / "store.json").write_bytes(jsonfile.encode(meta))
    shutil.rmtree(store_dir / "ledger")
    s2 = Store.open(store_dir, clock=clock)
    assert s2.meta["schema"] == SCHEMA_VERSION
    assert s2.list_incidents()[0]["drill"] is False
    assert s2.verify().ok


PASSWORD = "秘密のパスワード-7f3a"


def _a_whole_session(store_dir, clock):
    """A whole working session: incident, note, draft, roster, both PDFs (encrypted with
    PASSWORD), a backup and a restore."""
    from datetime import date

    from csirt_tui import roster
    from csirt_tui.report.export import default_report_path, export_form1
    from csirt_tui.report.summary import export_summary

    s = Store.open(store_dir, clock=clock)
    inc = s.create_incident(sample_intake(), operator="op")
    s.append(inc.id, "note", "メモ", operator="op")
    s.save_draft("d1", {"what": "x"}, operator="op")
    roster.add_person(s, {"name": "試験 花子", "role": "handler", "extension": "1234"}, operator="op")
    export_form1(s, inc.id, default_report_path(s, inc.id), operator="op", password=PASSWORD)
    export_summary(s, s.root / "reports" / "summary.pdf", start=date(2026, 11, 1),
                   end=date(2026, 11, 30), operator="op", password=PASSWORD)
    s.backup("x")
    clock.advance(seconds=1)
    Store.restore(store_dir, clock=clock)


@posix_modes
def test_every_file_of_a_used_store_is_private_even_with_umask_0(store_dir, clock):
    """A whole working session under the most permissive umask: every folder 0700 and
    every file 0600, the lock, backups, drafts, roster, export log and reports included."""
    old = os.umask(0)
    try:
        _a_whole_session(store_dir, clock)
    finally:
        os.umask(old)
    seen = 0
    for dirpath, dirnames, filenames in os.walk(store_dir):
        assert stat.S_IMODE(os.stat(dirpath).st_mode) == 0o700, dirpath
        for f in filenames:
            path = os.path.join(dirpath, f)
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
            seen += 1
    assert seen > 20


def test_the_report_password_is_in_no_file_of_a_used_store(store_dir, clock):
    _a_whole_session(store_dir, clock)
    seen = 0
    for dirpath, dirnames, filenames in os.walk(store_dir):
        for f in filenames:
            with open(os.path.join(dirpath, f), "rb") as fh:
                data = fh.read()
            assert PASSWORD.encode() not in data, f
            seen += 1
    assert seen > 20

"""The smaller defects of issue 14 (item 11): odd incident ids, raw errno texts,
read-only stores, temp files left by killed writes, reindex on a full disk, and
a note longer than the command line can carry."""

from __future__ import annotations

import errno
import json
import os
import time

import pytest

from conftest import cli_runner, sample_intake
from csirt_tui.errors import UnknownIncidentError
from csirt_tui.store import Store, normalize_incident_id


@pytest.fixture
def run(tmp_path, capsys, monkeypatch):
    return cli_runner(tmp_path, capsys, monkeypatch)


@pytest.fixture
def incident(run):
    code, out, err = run("intake", "--json", "-", stdin=json.dumps({"what": "不審なメール", "place": "本庁舎"}))
    assert code == 0, err
    return out.strip()


@pytest.mark.parametrize("typed", ["2026-00001", "２０２６－０００１", " 2026-0001 ", "2026 - 1", "2026ー0001"])
def test_an_id_typed_another_way_is_the_same_incident(run, incident, typed):
    assert incident == "2026-0001"
    code, out, err = run("show", typed)
    assert code == 0, err
    assert out.startswith("インシデント 2026-0001")
    assert normalize_incident_id(typed) == "2026-0001"


@pytest.mark.parametrize("typed", ["٢٠٢٦-٠٠٠١", "2026-" + "9" * 5000, "2026-1234567", "x", ""])
def test_a_malformed_id_is_an_unknown_id_not_store_damage(run, incident, typed):
    code, out, err = run("show", typed)
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "形式が違います" in err and "区分ファイル" not in err and "restore" not in err
    assert len(err) < 300  # a 5,000-digit id is not echoed whole
    with pytest.raises(UnknownIncidentError):
        Store.open(run.store).incident(typed)


def test_a_full_disk_is_said_in_plain_words_naming_the_store_file(run, incident, monkeypatch):
    from csirt_tui import jsonfile

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(jsonfile.os, "write", full)
    code, out, err = run("log", incident, "書けないメモ")
    assert code == 1
    assert "ディスクの空きが足りない" in err and "[Errno" not in err and ".tmp" not in err
    monkeypatch.undo()
    assert [e.text for e in Store.open(run.store).timeline(incident)] == ["受付"]


def test_a_read_only_store_can_be_listed_shown_and_verified(run, incident, monkeypatch):
    """A mounted backup or a CD: the lock file cannot be made."""
    import filelock

    def read_only(self, *a, **kw):
        raise OSError(errno.EROFS, "Read-only file system", str(run.store / ".lock"))

    monkeypatch.setattr(filelock.BaseFileLock, "acquire", read_only)
    assert run("list")[0] == 0
    code, out, err = run("show", incident)
    assert code == 0 and "不審なメール" in out
    code, out, err = run("verify")
    assert code == 0, err
    code, out, err = run("log", incident, "メモ")
    assert code == 1 and "読み取り専用" in err and len(err.strip().splitlines()) == 1
    assert Store.open(run.store).readonly


def _old(path, hours=2.0):
    t = time.time() - hours * 3600
    os.utime(path, (t, t))


def test_temp_files_left_by_killed_writes_are_swept(store):
    inc = store.create_incident(sample_intake(), operator="試験")
    idir = store._incident_dir(inc.id)
    old_tmp = idir / ".timeline-0000.json.4242.1.tmp"
    old_tmp.write_bytes(b"x" * 1000)
    _old(old_tmp)
    fresh = idir / ".timeline-0000.json.4243.1.tmp"  # a write under way in another process
    fresh.write_bytes(b"x")
    new_dir = idir.parent / ".new-2026-0099-4242"
    new_dir.mkdir()
    (new_dir / "timeline-0000.json").write_bytes(b"{}")
    _old(new_dir)
    (store.root / "backups").mkdir(exist_ok=True)
    half = store.root / "backups" / ".tmp-20261122T143500-manual"
    half.mkdir()
    (half / "store.json").write_bytes(b"x" * 1000)
    _old(half)
    store.backup("manual")
    assert not old_tmp.exists() and not new_dir.exists() and not half.exists()
    assert fresh.exists()
    assert store.verify().ok


def test_reindex_on_a_full_disk_leaves_the_index_whole(store, monkeypatch):
    import csirt_tui.store as store_mod

    for _ in range(3):
        store.create_incident(sample_intake(), operator="試験")
    index = store.root / "index" / "2026.json"
    before = index.read_bytes()
    real = store_mod.atomic_write

    def full(path, payload, **kw):
        if path.parent.name == "index":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, payload, **kw)

    monkeypatch.setattr(store_mod, "atomic_write", full)
    with pytest.raises(OSError):
        store.reindex()
    monkeypatch.undo()
    assert index.read_bytes() == before
    assert len(store.list_incidents()) == 3
    assert store.reindex() == 3 and store.verify().ok


def test_a_note_longer_than_the_command_line_goes_in_by_file_or_stdin(run, incident, tmp_path):
    big = ("ログ行 " + "x" * 120 + "\n") * 20_000  # ~2.6 MB: beyond any OS's argv limit
    code, out, err = run("log", incident, "--file", "-", stdin=big)
    assert code == 0, err
    note = tmp_path / "note.txt"
    note.write_text("ファイルのメモ\r\n二行目", encoding="utf-8", newline="")
    assert run("log", incident, "--file", str(note))[0] == 0
    texts = [e.text for e in Store.open(run.store).timeline(incident)]
    assert texts[1] == big and texts[2] == "ファイルのメモ\r\n二行目"
    code, out, err = run("log", incident, "両方", "--file", str(note))
    assert code == 1 and "どちらか一方" in err


def test_verify_one_incident_from_the_cli(run, incident):
    code, out, err = run("verify", incident)
    assert code == 0 and out.startswith("OK: ") and "1 件" in out, err
    code, out, err = run("verify", "2026-0999")
    assert code == 1 and "ありません" in err and "Traceback" not in err
    seg = Store.open(run.store)._incident_dir(incident) / "timeline-0000.json"
    seg.write_bytes(seg.read_bytes().replace("不審なメール".encode(), "書き換えた".encode()))
    code, out, err = run("verify", incident)
    assert code == 1 and "NG" in err

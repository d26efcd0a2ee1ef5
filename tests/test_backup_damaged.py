"""A backup of a store whose year index file is damaged says so (issue 17, reliability).

Store.open reads only a year index file's last bytes, so a change inside it (one byte, a
row made bad JSON) passed the open and ``csirt-desk backup`` copied the damaged file with
exit 0: a backup that looked good. A file cut short was refused by the open: no backup at
all. Now the backup saves every intact file, leaves the damaged index file out of the
backup's store (kept beside it as ``index/YYYY.json.damaged``, never restored), names it
in one line on stderr and exits 1; restoring that backup makes the index again from the
record.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from conftest import cli_runner, sample_intake, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.response import close_incident
from csirt_tui.store import Store, list_backup_dirs


@pytest.fixture
def run(tmp_path, capsys, monkeypatch):
    return cli_runner(tmp_path, capsys, monkeypatch)


def damage(raw: bytes, how: str) -> bytes:
    if how == "one character inside":  # its last bytes (the seal) intact: the open does not see it
        return raw.replace("端末".encode(), "端未".encode(), 1)
    if how == "cut short":
        return raw[: len(raw) // 2]
    assert how == "not JSON"
    return raw.replace(b'\n"', b'\n{"', 1)


def desk(store_dir, clock) -> Store:
    store = Store.open(store_dir, clock=clock)
    for n in range(3):
        inc = store.create_incident(sample_intake(what=f"端末の不具合 {n}"), operator="op")
        close_incident(store, inc.id, operator="op", note="完了を確認", force=True)
    store.create_incident(sample_intake(what="対応中の件"), operator="op")
    return store


@pytest.mark.parametrize("how", ["one character inside", "cut short", "not JSON"])
def test_backup_saves_the_rest_names_the_damaged_index_file_and_exits_1(run, clock, how):
    desk(run.store, clock)
    path = run.store / "index" / "2026.json"
    bad = damage(path.read_bytes(), how)
    path.write_bytes(bad)

    code, out, err = run("backup")
    assert code == 1, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "壊れた索引ファイルはバックアップに入れていません" in lines[0] and str(path) in lines[0], err
    assert "csirt-desk reindex" in lines[0]
    (bdir,) = list_backup_dirs(run.store)
    assert out.strip() == str(bdir)
    assert not (bdir / "index" / "2026.json").exists()  # not in the backup's store
    assert (bdir / "index" / "2026.json.damaged").read_bytes() == bad  # its bytes kept beside it
    assert (bdir / "index" / "open.json").is_file() and (bdir / "store.json").is_file()
    assert list(bdir.glob("incidents/2026/*/timeline-0000.json"))  # the record
    manifest = json.loads((bdir / ".backup.json").read_text(encoding="utf-8"))["backup"]["1"]
    assert [d["file"] for d in manifest["damaged"]] == ["index/2026.json"]
    assert path.read_bytes() == bad  # the store's own file untouched

    # the backup restores, and the index is made again from the record
    assert run("restore", bdir.name)[0] == 0
    code, out, _ = run("list", "--all", "--json")
    assert code == 0 and len(json.loads(out)) == 4
    assert run("verify")[0] == 0


def test_an_intact_store_is_backed_up_whole_and_quietly(run, clock):
    desk(run.store, clock)
    code, out, err = run("backup")
    assert (code, err) == (0, "")
    (bdir,) = list_backup_dirs(run.store)
    assert (bdir / "index" / "2026.json").read_bytes() == (run.store / "index" / "2026.json").read_bytes()
    assert not list(bdir.glob("index/*.damaged"))


def test_the_desks_backup_says_the_index_file_it_left_out(store_dir, clock):
    """The palette's バックアップ (the same Store.backup): said on screen, kept there."""
    desk(store_dir, clock)
    path = store_dir / "index" / "2026.json"
    path.write_bytes(damage(path.read_bytes(), "one character inside"))
    seen = {}

    async def scenario():
        app = CsirtDeskApp(Store.open(store_dir, clock=clock), operator="試験", clock=clock, backups=False)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            app._notifications.clear()  # the check after the first paint says it too
            app.action_backup()
            await wait_until(pilot, lambda: len(app._notifications) > 0)
            seen["notes"] = [(n.title, n.message, n.severity) for n in app._notifications]

    asyncio.run(scenario())
    (note,) = seen["notes"]
    assert note[0] == "ストアの破損" and note[2] == "error", note
    assert "壊れた索引ファイルは入れていません" in note[1] and str(path) in note[1], note
    assert len(list_backup_dirs(store_dir)) == 1

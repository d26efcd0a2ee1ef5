"""A desk closing while its backup is being copied is not kept waiting for it.

The desk makes a backup after its first paint. On a large store whose backup is a whole copy
(10,000 incidents: 42 s here), Ctrl+Q or SIGTERM during it gave the terminal back and then left
the process running, silent, until the copy had ended (asyncio waits for the worker's thread at
exit), holding the store's lock all that time. Closing now gives the copy up between two files:
nothing of it is left, the lock is free, the next start makes it again.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

import csirt_tui.backup as backup_module
from conftest import sample_intake
from csirt_tui.app import CsirtDeskApp
from csirt_tui.backup import BackupStopped
from csirt_tui.store import Store


def _leftovers(store_dir) -> list[str]:
    bdir = store_dir / "backups"
    return sorted(p.name for p in bdir.iterdir()) if bdir.is_dir() else []


def test_a_stopped_backup_leaves_nothing_and_frees_the_lock(store, store_dir, monkeypatch):
    for n in range(4):
        store.create_incident(sample_intake(what=f"件 {n}"), operator="試験")
    stop = threading.Event()
    real = backup_module.write_new
    copied = []

    def write_new(path, payload, **kwargs):
        copied.append(path.name)
        if len(copied) == 3:
            stop.set()  # the desk closes while the third file is being copied
        return real(path, payload, **kwargs)

    monkeypatch.setattr(backup_module, "write_new", write_new)
    with pytest.raises(BackupStopped):
        store.backup("open", stop=stop)
    assert len(copied) == 3  # given up at the next file, not copied to the end
    assert _leftovers(store_dir) == []  # no backup, no .tmp- folder left for the hourly sweep
    monkeypatch.setattr(backup_module, "write_new", real)
    made = Store.open(store_dir).backup("manual")  # the lock is free, the next backup whole
    assert _leftovers(store_dir) == [made.name]


def test_ctrl_q_during_the_backup_at_start_gives_it_up(store_dir, monkeypatch):
    store = Store.open(store_dir)
    for n in range(4):
        store.create_incident(sample_intake(what=f"件 {n}"), operator="試験")
    started, go_on = threading.Event(), threading.Event()
    real = backup_module.write_new
    ended: list[object] = []

    def write_new(path, payload, **kwargs):
        started.set()
        go_on.wait(20)  # the copy is held at its first file until the desk has closed
        return real(path, payload, **kwargs)

    real_backup = Store.backup

    def backup(self, *args, **kwargs):
        try:
            result = real_backup(self, *args, **kwargs)
            ended.append(result)
            return result
        except BaseException as err:
            ended.append(err)
            raise

    monkeypatch.setattr(backup_module, "write_new", write_new)
    monkeypatch.setattr(Store, "backup", backup)

    async def scenario():
        app = CsirtDeskApp(store, operator="受付 花子", backups=True)
        async with app.run_test(size=(80, 24)) as pilot:
            while not started.is_set():
                await pilot.pause(0.05)
            await pilot.press("ctrl+q")
            await pilot.pause()
            go_on.set()  # the desk has closed: the copy goes on from its first file

    asyncio.run(scenario())  # (returns once the backup's thread has ended)
    assert ended and isinstance(ended[0], BackupStopped), ended  # before: the copy went on to its end
    assert _leftovers(store_dir) == []


def _run_app(store_dir, monkeypatch, return_code: int) -> int:
    from csirt_tui.app import run_app

    def run(self, *args, **kwargs):
        self._return_code = return_code  # the desk closed this way (Ctrl+Q: 0; SIGTERM: 143)

    monkeypatch.setattr(CsirtDeskApp, "run", run)
    return run_app(store_dir=str(store_dir), profile=None, operator="受付 花子")


def test_the_close_backup_is_said_before_it_is_made(store_dir, monkeypatch, capsys):
    Store.open(store_dir).create_incident(sample_intake(), operator="試験")
    assert _run_app(store_dir, monkeypatch, 0) == 0
    assert "終了時のバックアップを作成しています" in capsys.readouterr().err
    assert [n for n in _leftovers(store_dir) if n.endswith("-close")]


def test_ctrl_c_during_the_close_backup_gives_it_up(store_dir, monkeypatch, capsys):
    Store.open(store_dir).create_incident(sample_intake(), operator="試験")
    real = backup_module.write_new
    copied = []

    def write_new(path, payload, **kwargs):
        copied.append(path.name)
        if len(copied) == 2:
            raise KeyboardInterrupt  # Ctrl+C in the shell the desk has given back
        return real(path, payload, **kwargs)

    monkeypatch.setattr(backup_module, "write_new", write_new)
    assert _run_app(store_dir, monkeypatch, 0) == 130
    assert "終了時のバックアップを中止しました" in capsys.readouterr().err
    assert _leftovers(store_dir) == []  # (before: a traceback, and the .tmp- folder left for an hour)


def test_a_desk_closed_by_a_signal_closes_at_once(store_dir, monkeypatch, capsys):
    Store.open(store_dir).create_incident(sample_intake(), operator="試験")
    assert _run_app(store_dir, monkeypatch, 143) == 143  # SIGTERM: a shutdown will not wait for a copy
    assert "終了時のバックアップは作っていません" in capsys.readouterr().err
    assert _leftovers(store_dir) == []


def test_a_save_on_the_screen_thread_comes_before_the_desks_own_backup(store, store_dir, monkeypatch):
    """The desk's own backup (a whole copy of a large store: 42 s) holds the store's lock on a
    worker's thread; a save on the screen's thread (a brief wait, 0.4 s) was refused as if another
    window held the store. The backup now gives way: stopped before its next file, the save goes
    through, the backup is made again later."""
    for n in range(4):
        store.create_incident(sample_intake(what=f"件 {n}"), operator="試験")
    real = backup_module.write_new
    copying, release = threading.Event(), threading.Event()
    ended: list[object] = []

    def write_new(path, payload, **kwargs):
        copying.set()
        release.wait(0.2)  # each file slow: the copy is still going when the save comes
        return real(path, payload, **kwargs)

    def backup():
        try:
            ended.append(store.backup("open"))
        except BaseException as err:
            ended.append(err)

    monkeypatch.setattr(backup_module, "write_new", write_new)
    worker = threading.Thread(target=backup)
    worker.start()
    assert copying.wait(10)
    store.wait_briefly(0.4)  # as the desk's screen thread
    try:
        inc = store.create_incident(sample_intake(what="電話中の件"), operator="受付 花子")  # before: StoreBusyError
    finally:
        store.wait_briefly(None)
        release.set()
        worker.join(20)
    assert store.incident(inc.id).intake["what"] == "電話中の件"
    assert ended and isinstance(ended[0], BackupStopped), ended
    assert _leftovers(store_dir) == []
    monkeypatch.setattr(backup_module, "write_new", real)
    assert store.backup("open").is_dir()  # made again whole

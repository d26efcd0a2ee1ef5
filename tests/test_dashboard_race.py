"""Folders listed while another thread or process writes in them (issue 14, defect 10).

The dashboard's 2 s poll fingerprints index/ and drafts/. A draft is written
as a temporary file renamed over the draft: the temporary file can vanish
between the listing and its stat, and that FileNotFoundError closed the desk
with a traceback (seen in CI). Files and folders that vanish between the two
are simply not in the fingerprint.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import threading

from conftest import Clock, wait_until
from csirt_tui.app import CsirtDeskApp, run_app
from csirt_tui.store import Store
from screens.dashboard import DashboardScreen


class Vanishing:
    """os.scandir / os.listdir / Path.iterdir that list a folder, then remove ``victims``
    (as a writer's os.replace does to its temporary file) before the caller looks at them."""

    def __init__(self, monkeypatch, victims) -> None:
        self.victims = victims
        real_scandir, real_listdir, real_iterdir = os.scandir, os.listdir, pathlib.Path.iterdir
        vanish = self.vanish

        class Listing(list):
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def close(self):
                pass

        def scandir(path="."):
            with real_scandir(path) as it:
                entries = Listing(it)
            vanish()
            return Listing(entries)

        def listdir(path="."):
            names = real_listdir(path)
            vanish()
            return names

        def iterdir(self):
            paths = list(real_iterdir(self))
            vanish()
            return iter(paths)

        monkeypatch.setattr(os, "scandir", scandir)
        monkeypatch.setattr(os, "listdir", listdir)
        monkeypatch.setattr(pathlib.Path, "iterdir", iterdir)

    def vanish(self) -> None:
        for path in self.victims:
            if path.exists():
                path.unlink() if path.is_file() else path.rmdir()


def run_dashboard(store, check):
    async def scenario():
        app = CsirtDeskApp(store, operator="受付 花子", clock=Clock(), backups=False)
        async with app.run_test(size=(120, 40)) as pilot:
            # (with a draft in the store the resume offer is on top of it)
            assert await wait_until(pilot, lambda: any(isinstance(s, DashboardScreen) for s in app.screen_stack))
            await check(next(s for s in app.screen_stack if isinstance(s, DashboardScreen)), pilot)
            assert app.is_running

    asyncio.run(scenario())


def test_a_temporary_file_vanishing_between_listing_and_stat_is_skipped(store_dir, monkeypatch):
    store = Store.open(store_dir, clock=Clock())
    store.save_draft("20261122-143000-abcd", {"what": "書きかけ"}, operator="受付 花子")
    drafts = store_dir / "drafts"

    async def check(screen, pilot):
        before = screen._store_stamp()
        tmp = drafts / ".20261122-143000-abcd.json.4242.4242.tmp"  # a writer's, about to be renamed
        tmp.write_bytes(b"{}")
        gone_dir = drafts / "sub"
        gone_dir.mkdir()
        with monkeypatch.context() as m:
            Vanishing(m, [tmp, gone_dir])
            stamp = screen._store_stamp()
            screen._poll()
            screen.refresh_data()
            await pilot.pause()
        assert stamp == before  # what vanished is not in it; the draft is
        assert any(name == "20261122-143000-abcd.json" for name, *_ in stamp)

    run_dashboard(store, check)


def test_the_drafts_folder_vanishing_is_an_empty_fingerprint(store_dir, monkeypatch):
    store = Store.open(store_dir, clock=Clock())
    drafts = store_dir / "drafts"
    drafts.mkdir(exist_ok=True)

    async def check(screen, pilot):
        real_iterdir = pathlib.Path.iterdir
        real_scandir = os.scandir

        def gone(path):
            if pathlib.Path(path) == drafts:
                raise FileNotFoundError(2, "No such file or directory", str(path))

        monkeypatch.setattr(pathlib.Path, "iterdir", lambda self: (gone(self), real_iterdir(self))[1])
        monkeypatch.setattr(os, "scandir", lambda path=".": (gone(path), real_scandir(path))[1])
        screen._store_stamp()
        screen._poll()

    run_dashboard(store, check)


def test_polling_while_another_thread_writes_drafts_never_fails(store_dir):
    """The race itself: a writer saving a draft as fast as it can (temporary file, fsync,
    rename) while the dashboard fingerprints the folder, until 200 drafts are written."""
    import time

    store = Store.open(store_dir, clock=Clock())
    store.save_draft("20261122-143000-abcd", {"what": "0"}, operator="受付 花子")
    stop = threading.Event()
    written = [0]

    def writer():
        while not stop.is_set():
            written[0] += 1
            store.save_draft("20261122-143000-abcd", {"what": str(written[0])}, operator="受付 花子")

    stamps = [0]

    async def check(screen, pilot):
        thread = threading.Thread(target=writer)
        thread.start()
        end = time.monotonic() + 60
        try:
            while written[0] < 200 and time.monotonic() < end:
                screen._store_stamp()
                stamps[0] += 1
        finally:
            stop.set()
            thread.join()

    run_dashboard(store, check)
    assert written[0] >= 200 and stamps[0] > written[0], (written, stamps)


def test_the_backup_on_close_failing_on_a_vanished_file_is_said_not_a_traceback(store_dir, monkeypatch, capsys):
    """run_app's close backup copies every store file; one renamed away meanwhile (a draft set
    aside by another desk) must be a plain message, not a traceback after the desk closed."""
    Store.open(store_dir)
    monkeypatch.setattr(CsirtDeskApp, "run", lambda self, *a, **k: None)

    def backup(self, reason="manual"):
        raise FileNotFoundError(2, "No such file or directory", str(store_dir / "drafts" / "x.json"))

    monkeypatch.setattr(Store, "backup", backup)
    assert run_app(store_dir=str(store_dir), profile=None, operator="受付 花子") == 0
    assert "バックアップできませんでした" in capsys.readouterr().err

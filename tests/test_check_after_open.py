"""Damage inside a year index file, which the open no longer reads whole (issue 18): a pass
after the desk's first paint finds it and says so in plain Japanese, and makes no backup of
the damaged store; an intact store gets its backup as before."""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable

from conftest import sample_intake, wait_until
import csirt_tui.app as app_mod
from csirt_tui.app import CsirtDeskApp
from csirt_tui.response import close_incident
from csirt_tui.store import Store, list_backup_dirs


def _desk(store):
    inc = store.create_incident(sample_intake(what="端末の不具合"), operator="op")
    close_incident(store, inc.id, operator="op", note="完了を確認", force=True)
    store.create_incident(sample_intake(what="対応中の件"), operator="op")
    return store.root / "index" / "2026.json"


def _run(store, clock, monkeypatch):
    monkeypatch.setattr(app_mod, "BACKUP_DELAY", 0.05)
    seen = {}

    async def scenario():
        app = CsirtDeskApp(Store.open(store.root, clock=clock), operator="試験", clock=clock)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            seen["rows"] = app.screen.query_one("#incidents", DataTable).row_count
            await wait_until(pilot, lambda: list_backup_dirs(store.root) or any(
                "壊れています" in n.message for n in app._notifications), timeout=20)
            await pilot.pause(0.2)
            seen["notes"] = [(n.title, n.message, n.severity) for n in app._notifications]

    asyncio.run(scenario())
    return seen


def test_damage_inside_a_year_file_is_said_after_the_first_paint(store, clock, monkeypatch):
    path = _desk(store)
    raw = path.read_bytes()
    path.write_bytes(raw.replace("端末".encode(), "端未".encode(), 1))  # its last bytes intact
    assert Store.open(store.root).list_incidents(status="open")  # the open does not see it
    seen = _run(store, clock, monkeypatch)
    assert seen["rows"] == 1  # the first rows drawn as ever
    said = [n for n in seen["notes"] if n[0] == "ストアの破損"]
    assert said and str(path) in said[0][1] and "壊れています" in said[0][1] and said[0][2] == "error", seen
    assert "csirt-desk reindex" in said[0][1]
    assert not list_backup_dirs(store.root)  # no backup of the damaged store


def test_an_intact_store_is_said_nothing_and_backed_up(store, clock, monkeypatch):
    _desk(store)
    seen = _run(store, clock, monkeypatch)
    assert not [n for n in seen["notes"] if n[0] == "ストアの破損"], seen
    assert len(list_backup_dirs(store.root)) == 1


def test_the_check_hashes_the_year_files_without_splitting_their_rows(store, monkeypatch):
    """The check runs in a thread beside the desk: its seal check is a hash (which leaves
    the GIL free); splitting every row of every year (200,000 rows: ~350 ms CPU holding
    the GIL) told it nothing more. It still finds damage inside a file."""
    import csirt_tui.store as store_mod

    path = _desk(store)

    def split(raw):
        raise AssertionError("the rows of a year file split for the check")

    monkeypatch.setattr(store_mod, "_year_lines", split)
    assert store.check_after_open() == []
    path.write_bytes(path.read_bytes().replace("端末".encode(), "端未".encode(), 1))
    problems = store.check_after_open()
    assert len(problems) == 1 and str(path) in problems[0], problems

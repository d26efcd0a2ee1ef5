"""Damaged store files, end to end (issue 8): truncated, not JSON, a wrong schema
version, a missing file, an empty file. Each is refused with a message naming the
file, no byte of the store changes while it is refused, and ``restore`` from the
newest backup gives a store that opens, verifies and holds the record again.

The one exception is deliberate: the index (``index/<year>.json``) is derived
from the timelines, so a *missing* index file is rebuilt from them, not refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import sample_intake
from csirt_tui import jsonfile
from csirt_tui.cli import main
from csirt_tui.errors import StoreCorruptError, StoreError
from csirt_tui.store import SEGMENT_SIZE, Store


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every byte of the store outside its backups and lock."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "backups" not in p.relative_to(root).parts and p.name != ".lock"}


def _schema(version):
    def edit(raw: bytes) -> bytes:
        data = json.loads(raw)
        data["meta"]["1"]["schema"] = version
        return jsonfile.encode(data)
    return edit


DAMAGE = {
    "truncated": lambda raw: raw[: len(raw) // 2],
    "not json": lambda raw: b"{ this is not json\n",
    "empty": lambda raw: b"",
    "missing": None,
}


@pytest.fixture
def filled(store_dir, clock):
    """A store with two incidents, one of them over two timeline segments, and a backup."""
    s = Store.open(store_dir, clock=clock)
    big = s.create_incident(sample_intake(), operator="op")
    for i in range(SEGMENT_SIZE + 5):
        s.append(big.id, "note", f"メモ {i}", operator="op")
    small = s.create_incident(sample_intake(place="別館"), operator="op")
    clock.advance(minutes=1)
    s.backup("good")
    return s, big.id, small.id


def _damage(path: Path, kind: str) -> None:
    if DAMAGE[kind] is None:
        path.unlink()
    else:
        path.write_bytes(DAMAGE[kind](path.read_bytes()))


def _restore_and_check(s: Store, clock, ids, capsys) -> None:
    clock.advance(minutes=1)
    assert main(["--store", str(s.root), "restore"]) == 0, capsys.readouterr().err
    s2 = Store.open(s.root, clock=clock)
    report = s2.verify()
    assert report.ok, report.problems[:3]
    big, small = ids
    assert len(s2.timeline(big)) == 1 + SEGMENT_SIZE + 5
    assert s2.timeline(small)[0].data["place"] == "別館"
    aside = [p for p in s2.list_backups() if p.name.endswith("before-restore")]
    assert aside, "the damaged files are kept aside, not deleted"


def _cli_verify_names(root: Path, path: Path, capsys) -> None:
    assert main(["--store", str(root), "verify"]) == 1
    out, err = capsys.readouterr()
    assert str(path) in out + err


@pytest.mark.parametrize("kind", ["truncated", "not json", "empty", "missing", "schema 99", "schema text"])
def test_damaged_store_json_is_refused_then_restored(filled, clock, capsys, kind):
    s, big, small = filled
    path = s.root / "store.json"
    if kind.startswith("schema"):
        path.write_bytes(_schema(99 if kind == "schema 99" else "二")(path.read_bytes()))
    else:
        _damage(path, kind)
    before = _snapshot(s.root)
    with pytest.raises(StoreError) as err:
        Store.open(s.root, clock=clock)
    named = str(path) if kind != "missing" else str(s.root)
    assert named in str(err.value) and "\n" not in str(err.value)
    assert main(["--store", str(s.root), "list"]) == 1
    assert named in capsys.readouterr().err
    assert _snapshot(s.root) == before  # nothing overwritten, nothing created
    _restore_and_check(s, clock, (big, small), capsys)


@pytest.mark.parametrize("kind", ["truncated", "not json", "empty"])
def test_damaged_index_is_refused_then_restored(filled, clock, capsys, kind):
    s, big, small = filled
    path = s.root / "index" / "2026.json"
    _damage(path, kind)
    before = _snapshot(s.root)
    with pytest.raises(StoreCorruptError) as err:
        Store.open(s.root, clock=clock)
    assert str(path) in str(err.value) and "good" in str(err.value)
    assert _snapshot(s.root) == before
    _restore_and_check(s, clock, (big, small), capsys)


def test_missing_index_is_rebuilt_from_the_record(filled, clock):
    s, big, small = filled
    (s.root / "index" / "2026.json").unlink()
    s2 = Store.open(s.root, clock=clock)
    assert {r["id"] for r in s2.list_incidents()} == {big, small}
    assert s2.verify().ok


@pytest.mark.parametrize("segment", [0, 1])
@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damaged_timeline_segment_is_refused_then_restored(filled, clock, capsys, kind, segment):
    s, big, small = filled
    path = s.root / "incidents" / "2026" / big / f"timeline-{segment:04d}.json"
    _damage(path, kind)
    before = _snapshot(s.root)
    s2 = Store.open(s.root, clock=clock)  # the other incidents stay usable
    assert len(s2.timeline(small)) == 1
    # Appending reads the last segment whole and checks that none is missing; an
    # earlier segment's content is checked by every read and by verify (an append
    # never touches it, and stays O(1) at 50,000 entries).
    # A missing *last* segment looks, to a reader, like a shorter record: only the
    # backup knows better, so there it is verify (below) that names the file.
    tail_gone = segment == 1 and kind == "missing"
    attempts = [] if tail_gone else [lambda: s2.timeline(big), lambda: s2.incident(big)]
    if (segment == 1 or kind == "missing") and not tail_gone:
        attempts.append(lambda: s2.append(big, "note", "書けてはいけない", operator="op"))
    for attempt in attempts:
        with pytest.raises(StoreCorruptError) as err:
            attempt()
        assert str(path) in str(err.value), str(err.value)
        assert "good" in str(err.value)  # and it says which backup to restore
    if not tail_gone and (segment == 1 or kind != "missing"):
        with pytest.raises(StoreCorruptError):
            s2.timeline_tail(big, 10)
    report = s2.verify()
    assert not report.ok and any(str(path) in p for p in report.problems), report.problems
    _cli_verify_names(s.root, path, capsys)
    if not tail_gone:
        assert main(["--store", str(s.root), "show", big]) == 1
        assert str(path) in capsys.readouterr().err
    assert _snapshot(s.root) == before
    _restore_and_check(s, clock, (big, small), capsys)


def test_missing_incident_folder_is_reported(filled, clock, capsys):
    s, big, small = filled
    import shutil

    shutil.rmtree(s.root / "incidents" / "2026" / small)
    s2 = Store.open(s.root, clock=clock)
    with pytest.raises(StoreCorruptError, match="timeline-0000.json"):
        s2.append(small, "note", "x", operator="op")
    assert any(small in p for p in s2.verify().problems)
    # a new report never takes the lost incident's number
    new = s2.create_incident(sample_intake(), operator="op")
    assert new.id != small
    _restore_and_check(s, clock, (big, small), capsys)


def test_desk_open_when_the_index_is_damaged_keeps_running_and_says_which_file(filled, clock, monkeypatch):
    """Damaged under an open desk (another process, a disk problem): the dashboard keeps
    what it showed, names the file, and recovers when the file is back."""
    import asyncio

    import screens.dashboard as dashboard
    from textual.widgets import DataTable, Static

    from conftest import wait_until
    from csirt_tui.app import CsirtDeskApp

    monkeypatch.setattr(dashboard, "REFRESH_SECONDS", 0.2)
    s, big, small = filled
    path = s.root / "index" / "2026.json"
    good = path.read_bytes()

    async def scenario():
        app = CsirtDeskApp(s, operator="op", clock=clock, backups=False)
        async with app.run_test(size=(160, 40)) as pilot:
            await pilot.pause()
            table = app.screen.query_one("#incidents", DataTable)
            status = app.screen.query_one("#dash-status", Static)
            assert table.row_count == 2
            path.write_bytes(b"{ broken")
            assert await wait_until(pilot, lambda: "ストアを読めません" in str(status.render()))
            assert str(path) in str(status.render())
            # the toast is a message to the app: it arrives after the status line is drawn
            assert await wait_until(pilot, lambda: any(str(path) in str(n.message) for n in app._notifications))
            assert table.row_count == 2  # what was read last stays on screen
            await pilot.pause(0.5)
            assert app.is_running and len(app._notifications) == 1  # said once, not every poll
            path.write_bytes(good)
            assert await wait_until(pilot, lambda: "ストアを読めません" not in str(status.render()))
            assert table.row_count == 2

    asyncio.run(scenario())

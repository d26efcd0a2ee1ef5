"""Issue 18: the desk's first rows come from index/open.json alone; 全件 reads the years."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_scale_index import Reads, years  # noqa: F401  (the fixture)

from csirt_tui.store import Store


def test_the_desk_first_rows_come_from_open_json_alone(years, monkeypatch):
    import asyncio

    from textual.widgets import DataTable, Static

    from csirt_tui.app import CsirtDeskApp

    store, ids, done, a, b = years
    reads = Reads(monkeypatch)

    async def scenario():
        app = CsirtDeskApp(Store.open(store.root), operator="op", backups=False)
        async with app.run_test(size=(160, 40)) as pilot:
            await pilot.pause()
            table = app.screen.query_one("#incidents", DataTable)
            assert table.row_count == 2
            assert "全 9 件" in str(app.screen.query_one("#dash-status", Static).render())
            assert reads.years() == []
            await pilot.press("a")  # 全件: now every year is read
            await pilot.pause()
            assert table.row_count == 9 and len(set(reads.years())) == 3

    asyncio.run(scenario())


def test_a_number_past_9999_is_shown_whole_in_the_list(store, clock, monkeypatch):
    """A desk with more than 9,999 incidents in a year (a prefecture's, issue 18) numbers
    them 2026-10000 and on: the 番号 column was 9 cells, so the desk showed 「2026-1...」 for
    every such incident, at 120 and at 80 columns, and the operator could not tell which."""
    import asyncio

    from textual.widgets import DataTable

    from conftest import sample_intake
    from csirt_tui.app import CsirtDeskApp

    small = store.create_incident(sample_intake(what="一件目"), operator="op")
    monkeypatch.setattr(Store, "_last_number", lambda self, year: 12344)
    big = store.create_incident(sample_intake(what="大きな番号"), operator="op")
    monkeypatch.undo()
    assert big.id == "2026-12345"
    seen = {}

    async def scenario(size):
        app = CsirtDeskApp(Store.open(store.root, clock=clock), operator="op", clock=clock, backups=False)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            table = app.screen.query_one("#incidents", DataTable)
            seen[size] = [table.get_row_at(i)[0].plain for i in range(table.row_count)]
            seen[size, "head"] = table.columns["row"].label.plain

    for size in ((120, 30), (80, 24)):
        asyncio.run(scenario(size))
        lines = seen[size]
        assert any(line.startswith("2026-12345 ") for line in lines), lines
        assert any(line.startswith(small.id + " ") for line in lines), lines
        # the columns after the number still line up: the next one starts at the same place
        after = {len(line) - len(line[len(line.split(" ")[0]):].lstrip()) for line in lines}
        assert len(after) == 1, lines
        assert seen[size, "head"].startswith("番号"), seen[size, "head"]


def test_the_30_second_redraw_reads_nothing_when_nothing_was_written(years, clock, monkeypatch):
    """The list is drawn again every 30 s for its 経過 column. It read the index again each
    time: with 全件 shown on a 200,000-incident store that was ~7 s of the desk's own thread
    (keys not taken) every 30 s, on a desk where nobody wrote anything. Now the rows read
    are drawn again with the new time; a write (the stamp moves) still reads them again."""
    import asyncio

    from textual.widgets import DataTable

    import screens.dashboard as dashboard
    from csirt_tui.app import CsirtDeskApp

    store, ids, done, a, b = years
    reads = []
    real = Store.list_incidents

    def counted(self, **kwargs):
        reads.append(kwargs)
        return real(self, **kwargs)

    async def scenario():
        app = CsirtDeskApp(Store.open(store.root, clock=clock), operator="op", clock=clock, backups=False)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            screen = app.screen
            await pilot.press("a")  # 全件
            await pilot.pause()
            table = screen.query_one("#incidents", DataTable)
            assert table.row_count == 9
            before = [table.get_row_at(i)[0].plain for i in range(table.row_count)]
            monkeypatch.setattr(Store, "list_incidents", counted)
            clock.advance(hours=2)
            for _ in range(int(30 / dashboard.REFRESH_SECONDS) + 1):
                screen._poll()
            await pilot.pause()
            after = [table.get_row_at(i)[0].plain for i in range(table.row_count)]
            assert reads == [], reads  # nothing written: nothing read again
            assert after != before and len(after) == 9  # 経過 moved on by two hours
            store.append(a, "note", "メモ", operator="op")  # not an index change: still nothing to read
            Store.open(store.root).create_incident(sample_intake(what="新しい受付"), operator="op")
            screen._poll()
            await pilot.pause()
            assert len(reads) == 1 and table.row_count == 10

    from conftest import sample_intake

    asyncio.run(scenario())


@pytest.mark.parametrize("background", [False, True], ids=["read-here", "read-on-its-thread"])
def test_with_all_shown_a_write_elsewhere_reads_again_only_the_year_file_it_changed(years, clock, monkeypatch,
                                                                                   background):
    """全件 shown: every write in index/ (another desk's intake, close, reopen) read every
    year file again and sorted all the rows on the desk's own thread: ~7-8 s at 200,000
    incidents, keys waiting. The rows of a year file that is the same file are kept: an
    intake (open.json alone) reads no year file, a close or a reopen only its own year's;
    the rows shown are those a fresh read gives. ``background``: a large store's 全件,
    read on a thread of its own (BACKGROUND_ROWS lowered to this small store)."""
    import asyncio

    from textual.widgets import DataTable

    import screens.dashboard as dashboard
    from conftest import sample_intake
    from csirt_tui.app import CsirtDeskApp
    from csirt_tui.response import close_incident, reopen_incident

    store, ids, done, a, b = years
    if background:
        monkeypatch.setattr(dashboard, "BACKGROUND_ROWS", 0)
    reads = Reads(monkeypatch)
    index = store.root / "index"

    def fresh():  # every row as a reader that keeps nothing reads it
        return sorted(Store.open(store.root).list_incidents(), key=lambda r: r["id"])

    async def scenario():
        app = CsirtDeskApp(Store.open(store.root, clock=clock), operator="op", clock=clock, backups=False)
        async with app.run_test(size=(120, 30)) as pilot:
            screen = app.screen
            table = screen.query_one("#incidents", DataTable)

            async def read_again():
                reads.clear()
                screen._poll()  # the 2-second poll: the stamp of index/ moved
                await app.workers.wait_for_complete()
                await pilot.pause()
                return sorted({Path(p).name for p in reads.years()})

            await pilot.pause()
            await pilot.press("a")  # 全件
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert table.row_count == 9 and len(screen._all_rows) == 9
            other = Store.open(store.root, clock=clock)  # another desk
            new = other.create_incident(sample_intake(what="別のデスクの受付"), operator="op")
            assert await read_again() == []  # open.json alone changed
            assert table.row_count == 10 and new.id in {r["id"] for r in screen._all_rows}
            assert sorted(screen._all_rows, key=lambda r: r["id"]) == fresh()
            close_incident(other, a, operator="op", note="完了を確認", force=True)  # 2026's file changes
            assert await read_again() == ["2026.json"]
            assert next(r for r in screen._all_rows if r["id"] == a)["status"] != "open"
            assert sorted(screen._all_rows, key=lambda r: r["id"]) == fresh()
            old = ids[2024][0]
            reopen_incident(other, old, operator="op", reason="再発の連絡")  # out of 2024's file
            assert await read_again() == ["2024.json"]
            assert next(r for r in screen._all_rows if r["id"] == old)["status"] == "open"
            assert sorted(screen._all_rows, key=lambda r: r["id"]) == fresh()
            assert table.row_count == 10
            assert (index / "2025.json").exists()

    asyncio.run(scenario())


def test_with_all_shown_a_draft_written_reads_the_drafts_alone_and_freezes_nothing(years, clock, monkeypatch):
    """全件 shown on a large store (read on its own thread): each draft written (the intake's
    autosave, here or at another desk) changes drafts/, and the 2-second poll read every row
    again and ran gc.freeze after it, which keeps for good whatever was alive then and later
    became cyclic garbage (a closed screen's widgets). Now a change in drafts/ alone reads the
    drafts; and a read that read no year file again freezes nothing."""
    import asyncio
    import gc

    from textual.widgets import DataTable

    import screens.dashboard as dashboard
    from csirt_tui.app import CsirtDeskApp

    store, ids, done, a, b = years
    monkeypatch.setattr(dashboard, "BACKGROUND_ROWS", 0)
    reads = Reads(monkeypatch)
    freezes = []
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(1))
    got = {}

    async def scenario():
        app = CsirtDeskApp(Store.open(store.root, clock=clock), operator="op", clock=clock, backups=False)
        async with app.run_test(size=(120, 30)) as pilot:
            screen = app.screen
            await pilot.pause()
            await pilot.press("a")  # 全件: the first read reads every year file, and freezes
            await app.workers.wait_for_complete()
            await pilot.pause()
            got["first"] = (len(freezes), bool(reads.years()))
            reads.clear()
            freezes.clear()
            Store.open(store.root).save_draft("20261122-143000-abcd", {"what": "書きかけ"}, operator="op")
            screen._poll()
            await app.workers.wait_for_complete()
            await pilot.pause()
            got["draft"] = (len(freezes), reads.years(), screen.query_one("#drafts", DataTable).row_count)
            screen.refresh_data()  # a read that finds every year file as it was
            await app.workers.wait_for_complete()
            await pilot.pause()
            got["again"] = (len(freezes), reads.years())

    asyncio.run(scenario())
    assert got["first"] == (1, True)
    assert got["draft"] == (0, [], 1)
    assert got["again"] == (0, [])

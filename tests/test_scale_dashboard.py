"""Issue 18: the desk's first rows come from index/open.json alone; 全件 reads the years."""

from __future__ import annotations

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

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

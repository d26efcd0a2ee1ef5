"""The Textual shell starts under run_test() and shows the store (Pilot)."""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable, Static

from conftest import sample_intake, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store


def _app(store, clock):
    return CsirtDeskApp(store, operator="試験 操作者", clock=clock, backups=False)


def test_dashboard_lists_open_incidents_and_drafts(store, clock):
    store.create_incident(sample_intake(), operator="op")
    store.create_incident(sample_intake(what="[bold]太字[/] [@click=app.quit]x[/] \x1b[31m"), operator="op")
    closed = store.create_incident(sample_intake(what="終わった件"), operator="op")
    store.append(closed.id, "close", "収束", operator="op", data={"status": "closed"})
    store.save_draft("d1", {"what": "電話が切れた", "place": "3階"}, operator="op")

    async def scenario():
        app = _app(store, clock)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            from screens.resume import ResumeDraftScreen

            assert isinstance(app.screen, ResumeDraftScreen)  # the cut-off call is offered first
            await pilot.press("escape")
            table = app.screen.query_one("#incidents", DataTable)
            assert table.row_count == 2
            # not yet triaged, the longest waiting first
            assert [str(k.value) for k in table.rows] == ["2026-0001", "2026-0002"]
            hostile = str(table.get_row("2026-0002")[-1])
            assert "[bold]" in hostile and "\x1b" not in hostile  # shown as typed, never obeyed
            assert app.screen.query_one("#drafts", DataTable).row_count == 1
            assert "むつ市" in app.title
            await pilot.press("a")  # all incidents, closed included
            assert table.row_count == 3
            status = str(app.screen.query_one("#dash-status", Static).render())
            assert "全 3 件" in status
            await pilot.press("ctrl+q")
        assert app.return_code in (0, None)

    asyncio.run(scenario())


def test_dashboard_sees_another_process_writes(store, clock):
    async def scenario():
        app = _app(store, clock)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            table = app.screen.query_one("#incidents", DataTable)
            assert table.row_count == 0
            other = Store.open(store.root, clock=clock)  # e.g. the CLI from an alert script
            other.create_incident(sample_intake(), operator="alert")
            assert await wait_until(pilot, lambda: table.row_count == 1)

    asyncio.run(scenario())


def test_the_elapsed_column_fits_at_80_and_120_columns(store, clock):
    """The dashboard's 経過 at 80 columns (9 cells) showed 「1687日2...」 for a case received
    years ago and 「13時間0...」 for one of half a day: the whole span did not fit. It is said with
    one unit less as it grows (13時間, 1687日), always whole in its column."""
    from datetime import timedelta

    from screen_walk import drawn
    from csirt_tui.views import ELAPSED_CELLS, elapsed

    ago = {"1687日": timedelta(days=1687, hours=2, minutes=40), "13時間": timedelta(hours=13, minutes=5),
           "9日23時間": timedelta(days=9, hours=23, minutes=59), "12日": timedelta(days=12, hours=20),
           "9時間59分": timedelta(hours=9, minutes=59), "25分": timedelta(minutes=25)}
    said = {store.create_incident(sample_intake(received_at=(clock() - since).isoformat()), operator="op").id: text
            for text, since in ago.items()}
    seen = {}

    async def scenario(size):
        app = _app(store, clock)
        async with app.run_test(size=size) as pilot:
            assert await wait_until(pilot, lambda: app.screen.query("#incidents")
                                    and app.screen.query_one("#incidents", DataTable).row_count == len(ago))
            await pilot.pause()
            seen[size] = drawn(app).text.splitlines()

    from rich.cells import cell_len

    for size in ((80, 24), (120, 30)):
        asyncio.run(scenario(size))
        for incident_id, text in said.items():
            row = next(line for line in seen[size] if incident_id in line)
            assert f" {text} " in row, (size, row)
    for since in list(ago.values()) + [timedelta(days=99999), timedelta(hours=23, minutes=59)]:
        assert cell_len(elapsed((clock() - since).isoformat(), clock())) <= ELAPSED_CELLS
    assert elapsed(None, clock()) == "-"


def test_the_palette_says_in_japanese_that_nothing_matches(store_dir):
    """Walking Ctrl+P at 80x24: 「ぬぬぬ」 (no command contains it) showed 「No matches found」, the
    one English line left on the desk. The theme list (its own palette) says it the same way."""
    import asyncio

    from textual.command import CommandList

    from conftest import Clock
    from csirt_tui.app import CsirtDeskApp
    from csirt_tui.store import Store

    store = Store.open(store_dir, clock=Clock())
    seen = {}

    def lines(app) -> list[str]:
        listed = app.screen.query_one(CommandList)
        out = []
        for i in range(listed.option_count):
            prompt = listed.get_option_at_index(i).prompt
            out.append(str(getattr(prompt, "renderable", prompt)))
        return out

    async def scenario():
        app = CsirtDeskApp(store, operator="受付 花子", clock=Clock(), backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"ぬぬぬ")
            await pilot.pause(1.0)
            seen["palette"] = lines(app)
            await pilot.press("escape")
            await pilot.pause()
            app.action_change_theme()
            await pilot.pause()
            await pilot.press(*"ぬぬぬ")
            await pilot.pause(1.0)
            seen["themes"] = lines(app)

    asyncio.run(scenario())
    assert seen["palette"] == ["該当するものはありません (Esc で閉じる)"], seen
    assert seen["themes"] == ["該当するものはありません (Esc で閉じる)"], seen

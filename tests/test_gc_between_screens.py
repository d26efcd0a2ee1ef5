"""The full garbage collection Python makes on its own after 10 collections of the middle
generation fell in the middle of a screen's opening (~40 ms: the export dialog opened again,
bench/intake.py). The desk makes it once a screen has closed and the one below is drawn again,
when 5 or more have gone by (csirt_tui.app.GC_FULL_AHEAD); never as a screen opens."""

from __future__ import annotations

import asyncio
import gc
import time

import pytest

from conftest import Clock, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store


@pytest.mark.parametrize("since_full, expected", [(5, ["closed"]), (4, [])])
def test_a_full_collection_is_made_after_a_screen_closes_when_due(store_dir, monkeypatch, since_full, expected):
    clock = Clock()
    store = Store.open(store_dir, clock=clock)
    made: list[str] = []
    where = {"now": "start"}

    async def go():
        app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.3)
            monkeypatch.setattr(gc, "get_count", lambda: (0, 0, since_full))
            monkeypatch.setattr(gc, "collect", lambda *a: made.append(where["now"]) or 0)
            where["now"] = "opened"
            await pilot.press("f1")  # the keys' help: a screen opened
            assert await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
            await pilot.pause(0.3)
            where["now"] = "closed"
            await pilot.press("escape")
            assert await wait_until(pilot, lambda: type(app.screen).__name__ == "DashboardScreen")
            await pilot.pause(0.3)
            where["now"] = "after"

    asyncio.run(go())
    assert made == expected


def test_no_more_are_made_once_one_took_longer_than_the_limit(store_dir, monkeypatch):
    """A store whose rows were read again holds millions of objects not frozen at start: a full
    collection at each close would stop the desk a second or more, where Python itself makes one
    only once they have grown by a quarter. After one slower than GC_AHEAD_LIMIT, none."""
    clock = Clock()
    store = Store.open(store_dir, clock=clock)
    made: list[int] = []

    def slow_collect(*args):
        made.append(1)
        time.sleep(0.15)
        return 0

    async def go():
        app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.3)
            monkeypatch.setattr(gc, "get_count", lambda: (0, 0, 7))
            monkeypatch.setattr(gc, "collect", slow_collect)
            for _ in range(2):
                await pilot.press("f1")
                assert await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
                await pilot.press("escape")
                assert await wait_until(pilot, lambda: type(app.screen).__name__ == "DashboardScreen")
                await pilot.pause(0.4)

    asyncio.run(go())
    assert made == [1]  # the first close's, none at the second

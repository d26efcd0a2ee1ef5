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


def test_collection_is_off_while_the_first_intake_is_built_and_on_once_it_is(store_dir, monkeypatch):
    """The intake made ahead right after the first paint (what a Ctrl+N pressed at once waits
    for) is built with collection still off since start: its ~60 widgets made ~30 collections
    of the young objects and two or three of the middle generation as it was built (~4 ms of that
    Ctrl+N, bench/intake.py). Collection is on again once it is mounted."""
    import csirt_tui.app as desk
    from screens.intake import IntakeScreen

    monkeypatch.setattr(desk, "_GC_FROZEN", False)  # as the first desk of a process
    monkeypatch.setattr(gc, "freeze", lambda: None)  # (the test process's objects left as they are)
    clock = Clock()
    store = Store.open(store_dir, clock=clock)
    on_while_built = []
    compose = IntakeScreen.compose

    def watched(self):  # type: ignore[no-untyped-def]
        on_while_built.append(gc.isenabled())
        yield from compose(self)

    monkeypatch.setattr(IntakeScreen, "compose", watched)

    async def go():
        app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            assert await wait_until(pilot, lambda: app._intake_ahead is not None and app._intake_ahead.is_mounted)
            await pilot.pause()
            assert gc.isenabled()

    try:
        asyncio.run(go())
    finally:
        gc.enable()
    assert on_while_built == [False]

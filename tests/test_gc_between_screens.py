"""The full garbage collection Python makes on its own after 10 collections of the middle
generation fell in the middle of a screen's opening (~40 ms: the export dialog opened again,
bench/intake.py). The desk makes it once a screen has closed and the one below is drawn again,
or when no key has come for a while, when 5 or more have gone by (csirt_tui.app.GC_FULL_AHEAD);
never as a screen opens. And a closed screen leaves nothing of itself in memory: each full
collection walked what closed screens had left (bench/gc_opens.py)."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref

import pytest

from conftest import Clock, wait_until
from csirt_tui.app import GC_AHEAD_LIMIT, GC_IDLE, CsirtDeskApp
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


@pytest.mark.parametrize("busy, expected", [(True, [1]), (False, [1, 1])])
def test_no_more_are_made_once_one_took_longer_than_the_limit(store_dir, monkeypatch, busy, expected):
    """A store whose rows were read again holds millions of objects not frozen at start: a full
    collection at each close would stop the desk a second or more, where Python itself makes one
    only once they have grown by a quarter. After one slower than GC_AHEAD_LIMIT (the desk's CPU
    time), none. One as slow only by the clock (the machine busy with other work: a 40 ms walk took
    140 ms of the clock) does not stop them: they were given up for good after it."""
    clock = Clock()
    store = Store.open(store_dir, clock=clock)
    made: list[int] = []

    def slow_collect(*args):
        made.append(1)
        if not busy:  # slow by the clock alone
            time.sleep(GC_AHEAD_LIMIT + 0.05)
            return 0
        started = time.thread_time()
        while time.thread_time() - started < GC_AHEAD_LIMIT + 0.05:
            pass
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
    assert made == expected  # the first close's, none at the second if it was slow


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


def test_one_is_made_when_the_desk_is_idle_not_while_keys_come(store_dir, monkeypatch):
    """Screens opened one after the other (the tracker, then its step form) close none: the
    collection due is made in the first pause of GC_IDLE with no key, not while keys come."""
    clock = Clock()
    store = Store.open(store_dir, clock=clock)
    made: list[str] = []
    where = {"now": "start"}

    async def go():
        app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.3)
            monkeypatch.setattr(gc, "get_count", lambda: (0, 0, 5))
            monkeypatch.setattr(gc, "collect", lambda *a: made.append(where["now"]) or 0)
            where["now"] = "typing"
            await pilot.press("slash")  # the dashboard's filter, then a key every 0.3 s
            for _ in range(round(GC_IDLE / 0.3) + 3):
                await pilot.press("a")
                await pilot.pause(0.3)
            where["now"] = "idle"
            assert await wait_until(pilot, lambda: made, timeout=GC_IDLE + 2)
            where["now"] = "after"

    asyncio.run(go())
    assert made[:1] == ["idle"] and "typing" not in made


def test_none_after_a_close_when_a_key_came_first(store_dir, monkeypatch):
    """Esc, then at once the key of the next screen: the collection due after the close is not
    made when the screen below is drawn again if a key was read meanwhile (it would fall inside
    the next screen's opening); the next pause makes it."""
    clock = Clock()
    store = Store.open(store_dir, clock=clock)
    made: list[str] = []

    async def go():
        app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.3)
            monkeypatch.setattr(gc, "get_count", lambda: (0, 0, 5))
            monkeypatch.setattr(gc, "collect", lambda *a: made.append("collected") or 0)
            changes, keys = app._screen_changes, app._keys_read
            app._keys_read += 1  # a key read after the close
            app._collect_after_close(changes, keys)
            assert made == []
            app._screen_changes += 1  # a screen opened after the close
            app._collect_after_close(changes, app._keys_read)
            assert made == []
            app._collect_after_close(app._screen_changes, app._keys_read)  # nothing since
            assert made == ["collected"]

    asyncio.run(go())


def test_a_closed_screen_leaves_nothing_alive(store_dir):
    """The record screen and its note dialog (a header, a memo: TextArea), opened and closed:
    none of their widgets, nor what they drew, stays alive. Textual's app kept each Header and
    TextArea in its list of watchers of its title and theme, and its StylesCache.get_inner_outer
    (an lru_cache on a method) kept the last 1024 widgets' drawn lines: +30,000 objects each walk
    through the screens at 10,000 incidents, walked by every full collection."""
    from conftest import sample_intake
    from screens.timeline import NoteScreen, TimelineScreen

    clock = Clock()
    store = Store.open(store_dir, clock=clock)
    incident_id = store.create_incident(sample_intake(), operator="受付").id
    refs: list[tuple[str, weakref.ref]] = []

    async def go():
        app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.3)
            app.push_screen(TimelineScreen(incident_id))
            assert await wait_until(pilot, lambda: isinstance(app.screen, TimelineScreen))
            await pilot.pause(0.3)
            await pilot.press("n")
            assert await wait_until(pilot, lambda: isinstance(app.screen, NoteScreen))
            await pilot.pause(0.3)
            for screen in app.screen_stack[-2:]:
                for widget in screen.walk_children(with_self=True):
                    refs.append((type(widget).__name__, weakref.ref(widget)))
                    refs.append((f"{type(widget).__name__}'s StylesCache", weakref.ref(widget._styles_cache)))
            del screen, widget
            assert {"DeskHeader", "SafeTextArea"} <= {name for name, _ in refs}
            for _ in range(2):
                await pilot.press("escape")
                await pilot.pause(0.3)
            assert await wait_until(pilot, lambda: type(app.screen).__name__ == "DashboardScreen")


            def alive() -> list[str]:
                gc.collect()
                return sorted({name for name, ref in refs if ref() is not None})

            # (a screen is taken down after the change that closed it, and the event loop's pending
            # callbacks hold the context they were scheduled in a moment longer)
            await wait_until(pilot, lambda: not alive())
            assert alive() == []

    asyncio.run(go())

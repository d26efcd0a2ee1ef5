"""Ctrl+N shows an intake form made ahead (issue 15: the first Ctrl+N took 300-450 ms): the
desk builds a blank form unseen while the dashboard is idle. What Ctrl+N shows must be what a
form built at that moment shows, stamped with that moment, and must take keys the same way.
(The time it takes is measured in bench/intake.py, not here.)"""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

import csirt_tui.app as desk
from conftest import TZ, Clock, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screen_walk import drawn

WEEKDAY_1710 = datetime(2026, 11, 16, 17, 10, tzinfo=TZ)  # 10 minutes before the PoC's hours end (17:15)


def _ahead_ready(app) -> bool:
    spare = app._intake_ahead
    return spare is not None and spare.is_mounted and spare._drawn_unseen is not None


async def _open(store, clock, size, *, ahead: bool):
    app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        if ahead:
            assert await wait_until(pilot, lambda: _ahead_ready(app))
        clock.advance(minutes=7)  # the phone rings a while after the form was made: 17:17
        made = app._intake_ahead
        await pilot.press("ctrl+n", *"今朝9時")
        await pilot.pause(0.3)
        assert type(app.screen).__name__ == "IntakeScreen"
        assert (app.screen is made) is ahead
        text = drawn(app).text
        assert app.screen.query_one("#found_at").value == "今朝9時"  # typed at once, not lost
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: type(app.screen).__name__ == "SavedScreen")
        await pilot.press("enter")
        await pilot.pause()
        if ahead:  # the next call's form is made again once the dashboard is in front
            assert await wait_until(pilot, lambda: _ahead_ready(app) and app._intake_ahead is not made)
        return text


@pytest.mark.parametrize("size", [(80, 24), (120, 30)])
def test_the_form_made_ahead_is_the_form_made_now(tmp_path, monkeypatch, size):
    monkeypatch.setattr(desk, "INTAKE_AHEAD_DELAY", 0.1)
    shown = {}
    for ahead in (True, False):
        clock = Clock(WEEKDAY_1710)
        store = Store.open(tmp_path / f"s-{ahead}", clock=clock)
        store.add_person({"name": "当番 太郎", "role": "csirt_chief", "mobile": "090-0000-0001",
                          "night": True, "holiday": True}, operator="setup")
        if not ahead:
            monkeypatch.setattr(desk, "INTAKE_AHEAD_DELAY", 3600)
        shown[ahead] = asyncio.run(_open(store, clock, size, ahead=ahead))
        inc = store.incident(store.list_incidents()[0]["id"])
        # stamped when Ctrl+N was pressed (17:17), not when the form was made (17:10)
        assert inc.intake["received_at"].startswith("2026-11-16T17:17"), inc.intake["received_at"]
    assert "時間外です" in shown[True] and "CSIRT責任者 当番" in shown[True]  # 17:17 is after hours: said
    assert "2026-11-16 17:17" in shown[True]
    assert shown[True] == shown[False]

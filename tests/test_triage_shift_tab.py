"""Shift+Tab on the triage's first field (1 事実確認) put the focus on the form's scroll container
(#triage-form, focusable as every VerticalScroll is): no field had it, and the keys typed next went
nowhere. Now it goes to the previous field round the form: the last one. Tab from the last comes back
to the first, not to the container either."""

from __future__ import annotations

import asyncio

from conftest import wait_until
from csirt_tui.app import CsirtDeskApp
from screens.triage import TriageScreen
from test_triage_screen import _store


def test_shift_tab_on_the_first_field_goes_to_the_last_field(store_dir):
    store, clock, incident_id = _store(store_dir)
    seen: dict = {}

    async def go():
        app = CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_triage(incident_id)
            assert await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen) and app.screen._ready)
            await pilot.pause()
            screen = app.screen
            chain = [w for w in screen.focus_chain]
            seen["first"] = chain[0].id
            screen.query_one("#fact").focus()
            await pilot.pause()
            await pilot.press("shift+tab")
            await pilot.pause()
            seen["after shift+tab"] = app.focused
            seen["last"] = chain[-1]
            await pilot.press("tab")
            await pilot.pause()
            seen["after tab"] = app.focused.id if app.focused else None

    asyncio.run(go())
    assert seen["first"] == "fact", seen  # before: triage-form
    focused = seen["after shift+tab"]
    assert focused is not None and focused.id != "triage-form", focused  # before: the container
    assert focused is seen["last"]
    assert seen["after tab"] == "fact"

"""The 受付番号 to the clipboard (issue 15): it could not be copied. c / Ctrl+C on the number's
screen, Ctrl+C on the incident screen; the words say it was sent and where to select it when
the terminal ignores OSC 52 (the old Windows console host)."""

from __future__ import annotations

import asyncio

from textual.widgets import Static

from conftest import sample_intake, wait_until
from csirt_tui.app import CsirtDeskApp


def test_c_on_the_number_copies_it_and_says_so(store, clock):
    inc = store.create_incident(sample_intake(), operator="op")
    sent: list[str] = []

    async def go():
        from screens.intake import SavedScreen

        app = CsirtDeskApp(store, operator="op", clock=clock, backups=False)
        app.copy_to_clipboard = lambda text: sent.append(text)  # what would go out as OSC 52
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.push_screen(SavedScreen(inc.id, []))
            await pilot.pause()
            await pilot.press("c")
            await pilot.pause()
            said = str(app.screen.query_one("#saved-copied", Static).render())
            assert "クリップボードに送りました" in said and inc.id in said
            await pilot.press("ctrl+c")
            await pilot.pause()
            assert isinstance(app.screen, SavedScreen)  # still there: Enter goes on
            await pilot.press("enter")
            assert await wait_until(pilot, lambda: not isinstance(app.screen, SavedScreen))
            from screens.incident import IncidentScreen

            app.push_screen(IncidentScreen(inc.id))
            await pilot.pause()
            await pilot.press("ctrl+c")
            await pilot.pause()
            assert any(inc.id in str(n.message) and "クリップボード" in str(n.message) for n in app._notifications)

    asyncio.run(go())
    assert sent == [inc.id, inc.id, inc.id]


def test_the_osc52_sequence_carries_the_number(store, clock):
    inc = store.create_incident(sample_intake(), operator="op")

    async def go():
        from screens.intake import SavedScreen

        app = CsirtDeskApp(store, operator="op", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            written: list[str] = []
            real = app._driver.write
            app._driver.write = lambda data: (written.append(data), real(data))[1]
            app.push_screen(SavedScreen(inc.id, []))
            await pilot.pause()
            await pilot.press("c")
            await pilot.pause()
            assert app.clipboard == inc.id
            import base64

            assert f"\x1b]52;c;{base64.b64encode(inc.id.encode()).decode()}\a" in written

    asyncio.run(go())

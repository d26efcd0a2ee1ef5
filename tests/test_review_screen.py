"""The 手順の評価・見直し screen (Pilot): reached from the palette, a review recorded with the
closed incidents' evaluations it drew on, a correction as a new row."""

from __future__ import annotations

import asyncio

from textual.widgets import Checkbox, Input, Static, TextArea

from conftest import wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.reviews import list_reviews
from screens.form import FormScreen, PickerScreen
from screens.review import ReviewScreen
from test_reviews import OP, closed_incident


def test_record_a_review_from_the_palette(store, clock):
    done = closed_incident(store, "連絡が遅れた")

    async def scenario():
        app = CsirtDeskApp(store, operator="責任者", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+p")
            await pilot.pause()
            for ch in "手順の評価":
                await pilot.press(ch)
            await pilot.pause(0.3)
            await pilot.press("enter")
            assert await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen))
            text = str(app.screen.query_one("#review-due", Static).render())
            assert "最初の手順の評価・見直し: 2027-11-22 まで" in text
            await pilot.press("a")
            assert await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
            form = app.screen
            form.query_one("#f-reviewer", Input).value = "[bold]総務部長"
            form.query_one("#f-subject", TextArea).text = "初動対応の手順"
            form.query_one("#f-changes", TextArea).text = "変更なし"
            form.query_one(f"#f-inc_{done}", Checkbox).value = True
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen))
            rows = list_reviews(store)
            assert len(rows) == 1 and rows[0]["reviewer"] == "[bold]総務部長"
            assert rows[0]["incidents"][0]["id"] == done
            assert rows[0]["incidents"][0]["evaluation"] == "連絡が遅れた"
            await pilot.pause()
            assert "[bold]総務部長" in str(app.screen.query_one("#review-text", Static).render())
            # a correction: a new row naming the first
            await pilot.press("c")
            assert await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
            await pilot.press("enter")
            assert await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
            app.screen.query_one("#f-changes", TextArea).text = "連絡順を変える"
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: len(list_reviews(store)) == 2)
            rows = list_reviews(store)
            assert rows[1]["corrects"] == 1 and rows[0]["changes"] == "変更なし"

    asyncio.run(scenario())

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


def test_a_review_pasted_long_is_shown_cut_with_where_the_whole_is(store, clock):
    """A review whose text was pasted 300,000 characters long: the screen shows its start and says
    the rest is in `csirt-desk review list` (before, the whole went into one Static: opening the
    screen froze the desk, 17 s for 800,000 characters); the store keeps it whole."""
    from csirt_tui.reviews import SCREEN_CHARS, record_review

    long = "見直した手順[bold]" * 30_000
    record_review(store, operator=OP, reviewer="責任者", reviewed_at="2026-11-20", subject=long, changes="なし")

    async def scenario():
        app = CsirtDeskApp(store, operator="責任者", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_reviews()
            assert await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.rows)
            await pilot.pause()
            shown = str(app.screen.query_one("#review-text", Static).render())
            assert long[:SCREEN_CHARS] in shown and len(shown) < SCREEN_CHARS + 500
            assert f"以下 {len(long) - SCREEN_CHARS:,} 文字は画面では省略しました（全文: csirt-desk review list）" in shown
            assert app.screen.rows[0]["subject"] == long

    asyncio.run(scenario())
    assert list_reviews(store)[0]["subject"] == long

"""The intake form is not laid out again for nothing (issue 15: Ctrl+N to a form that takes keys
<= 100 ms). A layout of the whole form costs ~35 ms at 80x24 (bench/intake.py); what the screen
shows must be the same as before (tests/test_intake_ahead.py compares it with a form built at
the key). Counted here: the layouts of the screen, not their time."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

import csirt_tui.app as desk
from conftest import TZ, Clock, intake_being_built, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens.intake import IntakeScreen
from screen_walk import drawn
from textual.widgets import Static

WEEKDAY_1000 = datetime(2026, 11, 16, 10, 0, tzinfo=TZ)


def _count_layouts(monkeypatch) -> list:
    laid_out = []
    original = IntakeScreen._refresh_layout

    def counted(self, size=None, scroll: bool = False):  # type: ignore[no-untyped-def]
        laid_out.append((self, scroll))
        return original(self, size, scroll)

    monkeypatch.setattr(IntakeScreen, "_refresh_layout", counted)
    return laid_out


def _setup(tmp_path, monkeypatch):
    """(layouts counted, clock, store) for a desk that makes the first intake ahead only."""
    monkeypatch.setattr(desk, "INTAKE_AHEAD_DELAY", 3600)
    clock = Clock(WEEKDAY_1000)
    return _count_layouts(monkeypatch), clock, Store.open(tmp_path / "s", clock=clock)


async def _made_ahead(pilot, app):
    """The intake made ahead, once it is laid out and drawn unseen and nothing more is due."""
    assert await wait_until(pilot, lambda: (made := app._intake_ahead) is not None and made.is_mounted
                            and made._drawn_unseen is not None and not made._unseen_again)
    await pilot.pause(0.3)
    return app._intake_ahead


@pytest.mark.parametrize("size", [(80, 24), (120, 30)])
def test_ctrl_n_shows_the_form_made_ahead_without_laying_it_out_again(tmp_path, monkeypatch, size):
    """The form made ahead was laid out and drawn unseen; its footer, given its width by that
    layout, then showed the keys that fit and asked for a layout, which waited for Ctrl+N (and
    the unchanged previews and checklist, stamped again by Ctrl+N, asked for one too): each
    Ctrl+N laid the whole form out again (~40 of its ~55 ms CPU at 80x24). Now those are met
    while it is unseen; Ctrl+N only draws it."""
    laid_out, clock, store = _setup(tmp_path, monkeypatch)

    async def run():
        app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
        async with app.run_test(size=size) as pilot:
            made = await _made_ahead(pilot, app)
            assert any(screen is made for screen, _ in laid_out)  # laid out, unseen
            laid_out.clear()
            await pilot.press("ctrl+n")
            assert await wait_until(pilot, lambda: app.screen is made)
            await pilot.pause(0.3)
            assert [scroll for screen, scroll in laid_out if not scroll] == []
            await pilot.press(*"今朝9時")  # and it takes keys as before
            await pilot.pause()
            assert made.query_one("#found_at").value == "今朝9時"

    asyncio.run(run())


def test_typing_asks_no_layout_for_a_checklist_of_the_same_size(tmp_path, monkeypatch):
    """Each key typed updated the checklist strip above the form (and the previews, the method)
    with Static.update, which asks for a layout of the whole screen even when the text is the one
    already shown: a layout of the form a key (the one Textual's Input asks for as its text grows
    aside). Now an unchanged text is left as it is, and a changed one of the same width (✘ to ✔)
    is drawn without a layout."""
    monkeypatch.setattr(desk, "INTAKE_AHEAD_DELAY", 3600)
    monkeypatch.setattr(desk, "INTAKE_AHEAD_AT_START", 3600)
    asked = []
    refresh = Static.refresh

    def recorded(self, *regions, repaint=True, layout=False, recompose=False):  # type: ignore[no-untyped-def]
        if layout and self.id in ("checklist", "method", "received_at-preview", "found_at-preview"):
            asked.append(self.id)
        return refresh(self, *regions, repaint=repaint, layout=layout, recompose=recompose)

    monkeypatch.setattr(Static, "refresh", recorded)
    clock = Clock(WEEKDAY_1000)
    store = Store.open(tmp_path / "s", clock=clock)

    async def run():
        app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+n")
            assert await wait_until(pilot, lambda: isinstance(app.screen, IntakeScreen) and app.screen.is_mounted)
            await pilot.pause(0.3)
            screen = app.screen
            screen.query_one("#place").focus()
            await pilot.pause(0.3)
            checklist = screen.query_one("#checklist", Static)
            assert "✘ (2)どこで" in str(checklist.content)
            asked.clear()
            for ch in "本庁舎3階":
                await pilot.press(ch)
                await pilot.pause()
            assert screen.query_one("#place").value == "本庁舎3階"
            assert "✔ (2)どこで" in str(checklist.content)  # the strip says it
            assert "✔ (2)どこで" in drawn(app).text  # and shows it
            assert asked == []

    asyncio.run(run())


def test_the_form_made_ahead_is_laid_out_again_unseen_a_few_times_at_most(tmp_path, monkeypatch):
    """A widget of the unseen form asking for a layout again and again (here: 12 times) does not
    keep the idle desk laying out a form no one sees: at most UNSEEN_LAYOUTS_AGAIN more; the
    last request waits for Ctrl+N, which lays the form out and shows it as before."""
    import screens.intake as intake

    laid_out, clock, store = _setup(tmp_path, monkeypatch)

    async def run():
        app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            made = await _made_ahead(pilot, app)
            for _ in range(12):
                made.query_one("#place").refresh(layout=True)
                await pilot.pause(0.05)
            assert made._unseen_layouts <= 1 + intake.UNSEEN_LAYOUTS_AGAIN
            assert sum(1 for screen, _ in laid_out if screen is made) <= 1 + intake.UNSEEN_LAYOUTS_AGAIN
            await pilot.press("ctrl+n", *"今朝9時")
            assert await wait_until(pilot, lambda: app.screen is made)
            await pilot.pause(0.3)
            assert made.query_one("#found_at").value == "今朝9時"
            assert "受付日時" in drawn(app).text

    asyncio.run(run())


@pytest.mark.parametrize("size", [(80, 24), (120, 30)])
def test_ctrl_n_during_the_build_lays_the_form_out_once_and_sends_it_with_its_keys(tmp_path, monkeypatch, size):
    """Ctrl+N pressed while the form made ahead is still being built (at once after start): the
    form is laid out once, and the first frame sent to the terminal is the whole form, its
    footer's keys in it. It was laid out three times (issue 15: Ctrl+N at once after the first
    paint, ~60 % more CPU than its first frame before it was whole): the first layout found the
    form's scroll bar, which took a column from every field (laid out again at once), and it was
    sent with an empty footer, whose keys were built once it was drawn (laid out and sent again)."""
    from textual.screen import Screen

    monkeypatch.setattr(desk, "INTAKE_AHEAD_DELAY", 3600)
    monkeypatch.setattr(desk, "INTAKE_AHEAD_AT_START", 3600)  # made below, when the test says
    clock = Clock(WEEKDAY_1000)
    store = Store.open(tmp_path / "s", clock=clock)
    sent = []
    keys_at_layout = []  # the footer's keys at each layout of the form (Textual's own, each one counted)
    layout = Screen._refresh_layout

    def counted(self, size=None, scroll: bool = False):  # type: ignore[no-untyped-def]
        result = layout(self, size, scroll)
        if isinstance(self, IntakeScreen) and not scroll:
            keys_at_layout.append(len(self.query("FooterKey")))
        return result

    monkeypatch.setattr(Screen, "_refresh_layout", counted)

    async def run():
        app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
        display = app._display

        def recorded(screen, update):  # type: ignore[no-untyped-def]
            if isinstance(screen, IntakeScreen) and update is not None:
                sent.append(type(update).__name__)
            return display(screen, update)

        app._display = recorded
        async with app.run_test(size=size) as pilot:
            made = await intake_being_built(pilot, app)
            assert not made.query("#received_at")
            app.action_new_intake()  # Ctrl+N's action, now (a key would wait for the build in the queue)
            assert await wait_until(pilot, lambda: app.screen is made and made.is_mounted)
            await pilot.pause(0.5)
            whole = drawn(app).text
            assert "F1 ヘルプ" in whole and "Ctrl+S 保存" in whole
            assert keys_at_layout == [len(made.query("FooterKey"))]  # one layout, its keys there
            assert sent[0] == "LayoutUpdate" and "LayoutUpdate" not in sent[1:]  # drawn whole once
            await pilot.press(*"今朝9時")  # and it takes keys as before
            await pilot.pause()
            assert made.query_one("#found_at").value == "今朝9時"

    asyncio.run(run())

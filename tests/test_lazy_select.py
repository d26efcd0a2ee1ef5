"""The dropdown whose list is built when first opened (screens/select.py, issue 15: the triage's
nine hidden lists were a third of what its screen styled as it opened)."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import App
from textual.widgets import Select
from textual.widgets._select import SelectCurrent, SelectOverlay

from screens.select import LazySelect

OPTIONS = [(Text("機密性3A"), "3A"), (Text("機密性3B"), "3B"), (Text("機密性2"), "2")]


class One(App):
    def __init__(self, value=Select.NULL) -> None:
        super().__init__()
        self.value, self.changes = value, []

    def compose(self):
        yield LazySelect(OPTIONS, id="s", prompt="未確認", value=self.value, compact=True)

    def on_select_changed(self, event: Select.Changed) -> None:
        self.changes.append(event.value)


def _label(app) -> str:
    """What the closed line says, less its arrow (the line is one widget: screens/select.py)."""
    return str(app.query_one(SelectCurrent).render()).rsplit(" ", 1)[0].rstrip()


def test_no_list_until_opened_then_enter_chooses_as_a_select_does():
    app = One()

    async def go():
        async with app.run_test(size=(40, 12)) as pilot:
            select = app.query_one("#s", LazySelect)
            assert not select.query(SelectOverlay)  # the closed line only
            assert "未確認" in _label(app)
            select.focus()
            await pilot.press("enter")
            await pilot.pause()
            assert select.expanded and select.query(SelectOverlay)
            await pilot.press("down", "down", "enter")  # the prompt row, 3A, 3B
            await pilot.pause()
            assert not select.expanded
            assert select.value == "3B" and "機密性3B" in _label(app)
            assert app.changes[-1] == "3B"
            await pilot.press("enter")  # opened again: the same list, on the chosen option
            await pilot.pause()
            assert len(select.query(SelectOverlay)) == 1
            assert select.query_one(SelectOverlay).highlighted == 2
            await pilot.press("escape")
            await pilot.pause()
            assert not select.expanded and select.value == "3B"

    asyncio.run(go())


def test_a_value_given_before_the_list_exists_shows_and_is_highlighted_when_opened():
    app = One(value="2")

    async def go():
        async with app.run_test(size=(40, 12)) as pilot:
            select = app.query_one("#s", LazySelect)
            assert "機密性2" in _label(app) and not select.query(SelectOverlay)
            select.value = "3A"  # set by code (a draft restored)
            await pilot.pause()
            assert "機密性3A" in _label(app) and app.changes[-1] == "3A"
            select.expanded = True  # opened by code, not by a key
            await pilot.pause()
            await pilot.pause()
            overlay = select.query_one(SelectOverlay)
            assert overlay.display and overlay.highlighted == 1
            select.clear()
            await pilot.pause()
            assert "未確認" in _label(app)

    asyncio.run(go())


def test_the_closed_line_is_one_widget_whose_arrow_turns_when_opened():
    # Textual's closed line was three widgets (the text, v and ^, one hidden): 27 of the triage's
    # 108 widgets; the desk's is one, drawn "text ... v" closed and "^" open
    app = One()

    async def go():
        async with app.run_test(size=(40, 12)) as pilot:
            select = app.query_one("#s", LazySelect)
            current = select.query_one(SelectCurrent)
            assert list(current.children) == []
            assert str(current.render()).rstrip().endswith(" v")
            select.focus()
            await pilot.press("enter")
            await pilot.pause()
            assert str(current.render()).rstrip().endswith(" ^")
            await pilot.press("escape")
            await pilot.pause()
            assert str(current.render()).rstrip().endswith(" v")

    asyncio.run(go())

"""What a form and the response tracker cost as they open (issue 15: the step form built at `s`
took keys ~140-160 ms CPU after the key at 10,000 incidents, p90 up to 240, goal 150; timed in
bench/intake.py, counted here).

- Widgets styled together share the styles of their component classes when Textual's own cache
  gives them the same rules (screens/opening.py): a TextArea has 8 component classes, each
  matched against the stylesheet on a node made for it; the step form's six memos matched them
  48 times as it opened. The shared styles must be the ones each widget would get on its own.
- The tracker's footer has its keys at its first paint (built after the bindings signal, they
  cost two more layouts of the tracker just after that paint, and an `s` pressed then waited).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime

from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode
from textual.widget import Widget
from textual.widgets import Input, TextArea
from textual.widgets._footer import FooterKey

from conftest import TZ, Clock, sample_intake, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens.form import Field, FormScreen, SafeTextArea
from screens.response import ResponseScreen

NOW = datetime(2026, 11, 22, 14, 35, tzinfo=TZ)


def _desk(store_dir):
    clock = Clock(NOW)
    store = Store.open(store_dir, clock=clock)
    inc = store.create_incident(sample_intake(), operator="受付")
    return CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False), inc.id


def _memo_form() -> FormScreen:
    return FormScreen("手順の状態: テスト", [Field("who", "担当", value="花子"), Field("when", "いつ", "time", "今"),
                                        *(Field(f"m{i}", f"メモ {i}", "multiline") for i in range(6))])


def _own_styles(app, widget) -> dict:
    """The styles of ``widget``'s component classes as Textual matches them for it alone."""
    out = {}
    for component in sorted(widget._get_component_classes()):
        node = DOMNode(classes=component)
        node._attach(widget)
        app.stylesheet.apply(node)  # (no cache: nothing shared)
        out[component] = node.styles.base.get_rules()
    return out


def test_memos_styled_together_match_their_component_classes_once(store_dir, monkeypatch):
    app, _ = _desk(store_dir)
    counted: Counter = Counter()
    apply = Stylesheet.apply

    def counting(sheet, node, *args, **kwargs):
        if not isinstance(node, Widget) and isinstance(node._parent, SafeTextArea):
            counted[node._classes and next(iter(node._classes))] += 1
        return apply(sheet, node, *args, **kwargs)

    async def go():
        async with app.run_test(size=(100, 60)) as pilot:
            await pilot.pause()
            monkeypatch.setattr(Stylesheet, "apply", counting)
            form = _memo_form()
            app.push_screen(form)
            assert await wait_until(pilot, lambda: app.screen is form and form.keys_wait.is_set())
            await pilot.pause(0.2)
            monkeypatch.setattr(Stylesheet, "apply", apply)
            memos = list(form.query(SafeTextArea))
            assert len(memos) == 6
            components = SafeTextArea._get_component_classes()
            assert len(components) >= 5
            # the memos built before the first paint and those after it: two groups, each matched once
            # (before: each memo matched each of its component classes, 48 matchings)
            assert set(counted) == set(components)
            assert max(counted.values()) <= 2, counted
            # and what each memo got is what it gets matched on its own, focused or not
            for memo in memos:
                shared = {c: memo._component_styles[c].base.get_rules() for c in sorted(components)}
                assert shared == _own_styles(app, memo)
            await pilot.press("tab", "tab")  # to the first memo: restyled as focused
            await pilot.pause()
            assert isinstance(app.focused, TextArea)
            for widget in [*memos, *form.query(Input)]:
                assert {c: widget._component_styles[c].base.get_rules()
                        for c in sorted(widget._get_component_classes())} == _own_styles(app, widget)

    asyncio.run(go())


def test_the_tracker_footer_has_its_keys_at_its_first_paint(store_dir, monkeypatch):
    app, incident_id = _desk(store_dir)
    at_paint: list[int] = []
    display = CsirtDeskApp._display

    def painted(self, screen, update):
        if isinstance(screen, ResponseScreen) and not at_paint:
            at_paint.append(len(screen.query(FooterKey)))
        return display(self, screen, update)

    monkeypatch.setattr(CsirtDeskApp, "_display", painted)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.push_screen(ResponseScreen(incident_id))
            assert await wait_until(pilot, lambda: isinstance(app.screen, ResponseScreen) and bool(at_paint))
            await pilot.pause(0.3)
            keys = [k.key for k in app.screen.query(FooterKey)]
            assert "s" in keys and "f1" in keys
            assert at_paint == [len(keys)]  # before: 0 at the first paint, the keys built after it

    asyncio.run(go())

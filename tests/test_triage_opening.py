"""The triage draws what the operator reads first, then the rest of its form (issue 15: every
screen open <= 150 ms at 10,000 incidents, timed in bench/intake.py; counted here).

Its form has ~80 widgets; the part below 3's examples (~50, below the fold at 80x24 and
120x30) is mounted just after the first paint. Keys read before it is there wait for it: none
is lost, none acts on a field not there yet (Ctrl+S read with 't' crashed the desk on a form
still being built), and they act in the order typed."""

from __future__ import annotations

import asyncio

from textual.screen import Screen

from conftest import Clock, sample_intake, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens.triage import TriageScreen
from test_keys_race import burst


def _desk(store_dir):
    clock = Clock()
    store = Store.open(store_dir, clock=clock)
    inc = store.create_incident(sample_intake(), operator="受付 花子")
    return CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False), inc.id


def test_the_first_paint_has_the_top_of_the_form_and_the_rest_follows(store_dir, monkeypatch):
    app, incident_id = _desk(store_dir)
    at_first_layout = []
    refresh_layout = Screen._refresh_layout

    def laid_out(screen, size=None, scroll=False):
        if isinstance(screen, TriageScreen) and not at_first_layout:
            at_first_layout.append({w.id for w in screen.walk_children() if w.id})
            at_first_layout.append(len(list(screen.walk_children())))
        return refresh_layout(screen, size, scroll)

    monkeypatch.setattr(Screen, "_refresh_layout", laid_out)
    got = {}

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_triage(incident_id)
            assert await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen) and app.screen.keys_wait.is_set())
            await pilot.pause()
            got["whole"] = len(list(app.screen.walk_children()))
            got["warning"] = bool(app.screen.query("#warning"))
            got["summary"] = str(app.screen.query_one("#triage-summary").render())

    asyncio.run(go())
    ids, count = at_first_layout
    assert {"fact", "fact_note", "type", "examples", "triage-summary"} <= ids  # what the operator answers first
    assert not ids & {"personal_data", "override", "reported_to", "warning"}  # below the fold: after
    assert count * 2 < got["whole"], (count, got["whole"])
    assert got["warning"]
    assert got["summary"].startswith("種別がまだ選ばれていません。")


def test_keys_read_as_the_triage_opens_wait_for_its_form(store_dir):
    """The triage opened, and Space (the fact check: 確認中), Space (the first type) and Ctrl+S
    read at once, before its lower form is built: each acts on the whole form, in order. Read
    before it was there, the type was chosen on a half-built form and Ctrl+S said
    「種別を選んでください」 with a type chosen; now it names what is missing: an example."""
    app, incident_id = _desk(store_dir)
    got = {}

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_triage(incident_id)  # as 't' on the dashboard does, then the keys in one read
            burst(app, "  \x13")
            assert await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen) and app.screen.keys_wait.is_set())
            await pilot.pause(0.5)
            got["running"] = app.is_running
            got["type"] = app.screen.query_one("#type").pressed_button.name
            got["said"] = [str(n.message) for n in app._notifications]

    asyncio.run(go())
    assert got["running"] and got["type"].startswith("type:")
    assert got["said"] == ["該当する事例を選ぶか、レベルを指定してください"], got["said"]

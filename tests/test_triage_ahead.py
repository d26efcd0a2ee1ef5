"""`t` shows a triage form made ahead (issue 15: the triage took keys ~300 ms after `t` at 10,000
incidents, bench/intake.py): the desk builds a triage of no incident yet, unseen, while the
dashboard is idle, and `t` gives it its incident. What it shows and what it records must be what
a triage built at that moment shows and records: a new case, one triaged before (its answers
back), one closed as 対象外, one whose callback was confirmed (事実確認 already 確認済み), in
each shipped profile. (The time it takes is measured in bench/intake.py, not here.)"""

from __future__ import annotations

import asyncio

import pytest

import csirt_tui.app as desk
from conftest import Clock, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.demo import build_demo
from csirt_tui.store import Store
from screen_walk import drawn
from screens.triage import TriageScreen

PROFILES = ["mutsu", "mito", "osaki", "tsukuba"]


def _ahead_ready(app) -> bool:
    spare = app._triage_ahead
    return spare is not None and spare.is_mounted and spare.ahead


async def _t_pressed(app, pilot, incident_id: str, *, ahead: bool | str):
    """The desk up (its triage made ahead first, with ``ahead``; "mid": `t` in the very turn it is
    begun), then `t` on ``incident_id``: the triage that was made ahead (None: none)."""
    await pilot.pause()
    if ahead == "mid":
        assert await wait_until(pilot, lambda: app._intake_ahead is not None and app._intake_ahead.is_mounted)
        app._key_at = -1e9  # the desk idle: made now
        app.prepare_triage()
        assert app._triage_ahead is not None and not app._triage_ahead.is_mounted
    elif ahead:
        assert await wait_until(pilot, lambda: _ahead_ready(app))
    made = app._triage_ahead
    app.open_triage(incident_id)
    return made


async def _walk(store, clock, ids, *, ahead: bool, size=(80, 24), resize_to=None,
                mid_build: bool = False) -> dict[str, tuple[str, dict, dict]]:
    """With ``mid_build``, `t` comes in the same turn as the triage made ahead is begun."""
    app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
    seen = {}
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        for incident_id in ids:
            if mid_build:
                assert await wait_until(pilot, lambda: app._intake_ahead is not None and app._intake_ahead.is_mounted)
                assert app._triage_ahead is None
                app._key_at = -1e9  # the desk idle: made now
                app.prepare_triage()
                assert app._triage_ahead is not None and not app._triage_ahead.is_mounted
            elif ahead:
                assert await wait_until(pilot, lambda: _ahead_ready(app))
            if resize_to is not None and app.size != resize_to:  # the terminal resized after it was made
                await pilot.resize_terminal(*resize_to)
                await pilot.pause()
            made = app._triage_ahead
            app.open_triage(incident_id)
            assert await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen)
                                    and app.screen.keys_wait.is_set() and app.screen.keeper is not None)
            screen = app.screen
            assert (screen is made) is ahead
            await pilot.pause(0.2)
            seen[incident_id] = (drawn(app).text, screen.draft_values(), {"focus": app.focused.id})
            await pilot.press("escape")
            assert await wait_until(pilot, lambda: not isinstance(app.screen, TriageScreen))
    return seen


def test_t_while_the_triage_is_being_made_ahead_shows_that_one(tmp_path, monkeypatch):
    """`t` while the triage made ahead is still being built (not mounted yet): that one is finished
    and shown with its incident, the same screen as one built at `t`. A second triage was built
    for `t` instead, beside the first one still being built (twice the wait)."""
    monkeypatch.setattr(desk, "INTAKE_AHEAD_DELAY", 0.1)
    monkeypatch.setattr(desk, "TRIAGE_AHEAD_DELAY", 3600)  # made only by the test, at its moment
    clock = Clock()
    store = Store.open(tmp_path / "store", profile="mito", clock=clock)
    build_demo(store)
    ids = [row["id"] for row in store.list_incidents()][:3]
    assert any(store.incident(i).classifications for i in ids), "one triaged before among them"
    mid_build = asyncio.run(_walk(store, clock, ids, ahead=True, mid_build=True))
    made_now = asyncio.run(_walk(store, clock, ids, ahead=False))
    for incident_id in ids:
        assert mid_build[incident_id] == made_now[incident_id], incident_id


@pytest.mark.parametrize("profile", PROFILES)
def test_the_triage_made_ahead_is_the_triage_made_now(tmp_path, monkeypatch, profile):
    monkeypatch.setattr(desk, "INTAKE_AHEAD_DELAY", 0.1)
    monkeypatch.setattr(desk, "TRIAGE_AHEAD_DELAY", 0.1)
    monkeypatch.setattr(desk, "TRIAGE_AHEAD_IDLE", 0.2)
    clock = Clock()
    store = Store.open(tmp_path / "store", profile=profile, clock=clock)
    build_demo(store)
    ids = [row["id"] for row in store.list_incidents()][:8]
    triaged = [i for i in ids if store.incident(i).classifications]
    assert ids and triaged, "the demo has cases triaged before"
    made_ahead = asyncio.run(_walk(store, clock, ids, ahead=True))
    monkeypatch.setattr(desk, "TRIAGE_AHEAD_DELAY", 3600)
    made_now = asyncio.run(_walk(store, clock, ids, ahead=False))
    for incident_id in ids:
        assert made_ahead[incident_id] == made_now[incident_id], incident_id


def test_keys_on_the_triage_made_ahead_record_the_same_triage(tmp_path, monkeypatch):
    """A whole triage typed at once after `t` (the level-2 row of 情報システムの停止等): recorded for
    the incident `t` was pressed on, as on a triage built then."""
    monkeypatch.setattr(desk, "INTAKE_AHEAD_DELAY", 0.1)
    monkeypatch.setattr(desk, "TRIAGE_AHEAD_DELAY", 0.1)
    monkeypatch.setattr(desk, "TRIAGE_AHEAD_IDLE", 0.2)
    from conftest import sample_intake

    recorded = {}
    for ahead in (True, "mid", False):  # ("mid": `t` while the one made ahead is being built)
        clock = Clock()
        store = Store.open(tmp_path / f"s-{ahead}", clock=clock)
        first = store.create_incident(sample_intake(what="前の件"), operator="受付 花子").id
        second = store.create_incident(sample_intake(), operator="受付 花子").id
        if ahead is not True:
            monkeypatch.setattr(desk, "TRIAGE_AHEAD_DELAY", 3600)

        async def scenario():
            app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
            async with app.run_test(size=(80, 24)) as pilot:
                made = await _t_pressed(app, pilot, second, ahead=ahead)
                await pilot.press("enter", "enter", "end", "space", "ctrl+s")
                assert await wait_until(pilot, lambda: bool(store.incident(second).classifications))
                assert (made is not None) is bool(ahead)

        asyncio.run(scenario())
        assert not store.incident(first).classifications
        answers = store.incident(second).classifications[-1]["answers"]
        recorded[ahead] = {k: answers.get(k) for k in ("fact_check", "type_id", "ticked", "exclusion")}
    assert recorded[True] == recorded["mid"] == recorded[False]
    assert recorded[True]["type_id"] and recorded[True]["ticked"]


@pytest.mark.parametrize("sizes", [((80, 24), (120, 30)), ((120, 30), (80, 24))])
def test_a_triage_made_ahead_at_another_size(tmp_path, monkeypatch, sizes):
    """Made at one size, the terminal resized, then `t`: drawn as a triage made at the new size."""
    made_at, shown_at = sizes
    monkeypatch.setattr(desk, "INTAKE_AHEAD_DELAY", 0.1)
    monkeypatch.setattr(desk, "TRIAGE_AHEAD_DELAY", 0.1)
    monkeypatch.setattr(desk, "TRIAGE_AHEAD_IDLE", 0.2)
    clock = Clock()
    store = Store.open(tmp_path / "store", profile="mito", clock=clock)
    build_demo(store)
    ids = [row["id"] for row in store.list_incidents()][:2]
    made_ahead = asyncio.run(_walk(store, clock, ids, ahead=True, size=made_at, resize_to=shown_at))
    monkeypatch.setattr(desk, "TRIAGE_AHEAD_DELAY", 3600)
    made_now = asyncio.run(_walk(store, clock, ids, ahead=False, size=shown_at))
    for incident_id in ids:
        assert made_ahead[incident_id] == made_now[incident_id], incident_id


def test_the_triage_after_a_call_is_made_while_its_number_is_read_out(tmp_path, monkeypatch):
    """The usual way to a triage: the call saved, its 受付番号 read out to the caller, then `t` on
    that dialog. The triage is made ahead while the number is on screen, and `t` shows it for the
    incident just saved."""
    from conftest import sample_intake
    from screens.intake import SavedScreen

    monkeypatch.setattr(desk, "INTAKE_AHEAD_DELAY", 0.1)
    monkeypatch.setattr(desk, "TRIAGE_AHEAD_DELAY", 3600)  # none made on the dashboard: only while the number is read
    monkeypatch.setattr(desk, "TRIAGE_AHEAD_IDLE", 0.3)
    monkeypatch.setattr(desk, "TRIAGE_AHEAD_RETRY", 0.1)
    clock = Clock()
    store = Store.open(tmp_path / "store", clock=clock)
    store.create_incident(sample_intake(what="前の件"), operator="受付 花子")

    async def scenario():
        app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.set_timer(0.1, app.prepare_triage)  # (the look started after start, kept going)
            await pilot.press("ctrl+n")
            assert await wait_until(pilot, lambda: type(app.screen).__name__ == "IntakeScreen")
            app.screen.query_one("#found_at").focus()
            await pilot.press(*"今朝9時", "tab", *"本庁舎", "tab", *"画面が固まった", "ctrl+s")
            assert await wait_until(pilot, lambda: isinstance(app.screen, SavedScreen))
            saved_id = app.screen.incident_id
            assert await wait_until(pilot, lambda: _ahead_ready(app))
            made = app._triage_ahead
            await pilot.press("t")
            assert await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
            assert app.screen is made and app.screen.incident_id == saved_id
            assert saved_id in app.screen.query_one("#triage-heading").render().plain

    asyncio.run(scenario())


@pytest.mark.parametrize("answer", ["enter", "escape"])
def test_an_unsaved_triage_is_offered_over_the_triage_made_ahead(tmp_path, monkeypatch, answer):
    """`t` on an incident with an unsaved triage (the desk quit mid-triage): the offer to go on
    with it comes over the triage, as over one built at `t`. It came under the made-ahead one:
    the triage opened empty, and the offer, met after it closed, crashed the desk (続きを書く)
    or left it blank (あとで)."""
    from conftest import sample_intake

    monkeypatch.setattr(desk, "INTAKE_AHEAD_DELAY", 0.1)
    monkeypatch.setattr(desk, "TRIAGE_AHEAD_IDLE", 0.2)
    clock = Clock()
    store = Store.open(tmp_path / "store", clock=clock)
    incident_id = store.create_incident(sample_intake(), operator="受付 花子").id

    async def typed_then_quit():
        app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_triage(incident_id)
            assert await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen) and app.screen.keeper)
            app.screen.query_one("#fact_note").focus()
            await pilot.press(*"電話で確認済み")
            app.screen.flush_now()

    monkeypatch.setattr(desk, "TRIAGE_AHEAD_DELAY", 3600)
    asyncio.run(typed_then_quit())
    seen = {}
    for ahead in (True, "mid", False):  # ("mid": `t` while the one made ahead is being built)
        monkeypatch.setattr(desk, "TRIAGE_AHEAD_DELAY", 0.1 if ahead is True else 3600)

        async def offered():
            app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
            async with app.run_test(size=(80, 24)) as pilot:
                made = await _t_pressed(app, pilot, incident_id, ahead=ahead)
                assert await wait_until(pilot, lambda: type(app.screen).__name__ == "DraftOfferScreen")
                stack = [type(s).__name__ for s in app.screen_stack]
                await pilot.press(answer)
                await pilot.pause(0.5)
                after = [type(s).__name__ for s in app.screen_stack]
                note = app.screen.query_one("#fact_note").value if isinstance(app.screen, TriageScreen) else None
                return stack, after, note, made is not None and made is app.screen_stack[-1]

        seen[ahead] = asyncio.run(offered())
    assert seen[True][:3] == seen["mid"][:3] == seen[False][:3]
    assert seen[True][0][-2:] == ["TriageScreen", "DraftOfferScreen"]
    if answer == "enter":  # 続きを書く: the text typed before the quit is back in the triage
        assert seen[True][2] == "電話で確認済み" and seen[True][3] and seen["mid"][3]

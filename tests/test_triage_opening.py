"""The triage draws what the operator reads first, then the rest of its form (issue 15: every
screen open <= 150 ms at 10,000 incidents, timed in bench/intake.py; counted here).

Its form has ~80 widgets; the part below 3's examples (~50, below the fold at 80x24 and
120x30) is mounted just after the first paint. Keys read before it is there wait for it: none
is lost, none acts on a field not there yet (Ctrl+S read with 't' crashed the desk on a form
still being built), and they act in the order typed."""

from __future__ import annotations

import asyncio

from textual.screen import Screen
from textual.widgets import RadioButton

from conftest import Clock, sample_intake, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens.select import OneLineCurrent
from screens.triage import TriageScreen
from test_keys_race import burst


def _desk(store_dir):
    clock = Clock()
    store = Store.open(store_dir, clock=clock)
    inc = store.create_incident(sample_intake(), operator="受付 花子")
    return CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False), inc.id


async def _opened_whole(app, pilot, incident_id):
    """The triage opened as `t` opens it (none made ahead), once its whole form takes keys."""
    await pilot.pause()
    app.open_triage(incident_id)
    assert await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen) and app.screen.keys_wait.is_set())
    await pilot.pause()
    return app.screen


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
            await _opened_whole(app, pilot, incident_id)
            got["whole"] = len(list(app.screen.walk_children()))
            got["override_reason"] = bool(app.screen.query("#override_reason"))  # the lower form's last field
            got["box"] = bool(app.screen.query("#not-incident-box, #warning"))  # 4's box: made when shown
            got["summary"] = str(app.screen.query_one("#triage-summary").render())

    asyncio.run(go())
    ids, count = at_first_layout
    assert {"fact", "fact_note", "type", "examples", "triage-summary"} <= ids  # what the operator answers first
    assert not ids & {"personal_data", "override", "reported_to", "warning"}  # below the fold: after
    assert count * 2 < got["whole"], (count, got["whole"])
    assert got["override_reason"]
    assert not got["box"]
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


def _gated_lower_form(monkeypatch):
    """The lower form's chunks wait for the returned event (its build, slowed down at will: what
    happens while it is still being built is seen, not timed)."""
    gate = asyncio.Event()
    chunk = getattr(TriageScreen, "_mount_lower_chunk", None)

    async def gated(screen):
        if not gate.is_set():
            screen.set_timer(0.05, lambda: gated(screen))  # (the screen's own messages go on meanwhile)
            return
        await chunk(screen)

    monkeypatch.setattr(TriageScreen, "_mount_lower_chunk", gated, raising=False)
    return gate


async def _until(predicate, timeout: float = 4.0) -> bool:
    """``predicate()`` holds within ``timeout`` (polled without the pilot: its pause waits for the
    app to have handled its messages, which a key held for the whole form keeps it from)."""
    end = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > end:
            return False
        await asyncio.sleep(0.02)
    return True


def _while_built(store_dir, monkeypatch, scenario) -> dict:
    """``scenario(app, pilot, screen, gate, got)`` run on the triage opened as `t` opens it (none
    made ahead), drawn with its focus, its lower form waiting for ``gate``; returns ``got``."""
    gate = _gated_lower_form(monkeypatch)
    app, incident_id = _desk(store_dir)
    got: dict = {}

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_triage(incident_id)
            assert await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen) and app.focused is not None)
            await pilot.pause()
            await scenario(app, pilot, app.screen, gate, got)

    asyncio.run(go())
    return got


def test_keys_for_the_top_act_from_the_first_paint_and_the_others_wait_for_the_whole_form(store_dir, monkeypatch):
    """The lower form (below 3's examples) is built after the first paint, a few widgets at a time.
    Meanwhile text typed on 1 goes to 確認の結果・方法, Tab moves on to the types and Down moves
    their cursor, at once; Space (choosing the type fills in 3 and the context below) waits for the
    whole form, then chooses the type the cursor is on, and the Down typed after it moves the cursor
    of that type's examples. Before, every key waited for the whole form (~300 ms at 10,000
    incidents, bench/intake.py)."""
    async def scenario(app, pilot, screen, gate, got):
        kinds = screen.query_one("#type")
        burst(app, "電話で確認\t\x1b[B \x1b[B")  # text on 1, Tab, Down, Space, Down
        note = screen.query_one("#fact_note")
        got["early"] = await _until(lambda: note.value == "電話で確認" and kinds._selected == 1)
        await asyncio.sleep(0.3)
        got["while_built"] = (screen.keys_wait.is_set(), bool(screen.query("#warning")), app.focused.id,
                              kinds.pressed_button)
        gate.set()
        assert await _until(lambda: screen.keys_wait.is_set())
        await pilot.pause(0.3)
        examples = screen.query_one("#examples")
        got["after"] = (kinds.pressed_button is kinds.query(RadioButton)[1], app.focused.id, examples.highlighted,
                        note.value)

    got = _while_built(store_dir, monkeypatch, scenario)
    assert got["early"]
    assert got["while_built"] == (False, False, "type", None), got["while_built"]
    assert got["after"] == (True, "examples", 1, "電話で確認"), got["after"]


def test_text_typed_before_the_whole_form_is_there_is_the_drafts_not_the_forms_as_opened(store_dir, monkeypatch):
    """Text typed in 確認の結果・方法 while the lower form was still being built is typed text: Esc
    asks before discarding it (the draft's 'nothing typed' is the form as it opened, not as it was
    when the drafts started, which would have made Esc close it and drop the text)."""
    async def scenario(app, pilot, screen, gate, got):
        burst(app, "折り返し済み")
        note = screen.query_one("#fact_note")
        assert await _until(lambda: note.value == "折り返し済み")
        got["whole"] = screen.keys_wait.is_set()
        gate.set()
        assert await _until(lambda: screen.keys_wait.is_set() and screen.keeper is not None)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause(0.3)
        got["open"] = app.screen is screen
        got["asked"] = str(screen.query_one("#draft-status").render())

    got = _while_built(store_dir, monkeypatch, scenario)
    assert got["whole"] is False
    assert got["open"], "Esc closed the triage with text typed in it"
    assert "破棄しますか" in got["asked"], got["asked"]


def test_text_typed_with_the_choice_of_an_exclusion_lands_in_its_reply_box(store_dir):
    """4's box (not an incident: 報告先, the reply to the caller) is made only when a decision shows
    it (issue 15: a quarter of the lower form, styled and mounted hidden by every triage). Chosen by
    an exclusion, the focus goes to 通報者へ連絡した人 in the box made then: the name typed in the
    same read of the terminal as the choice lands there whole, its 報告先 shows the profile's default
    (set before the box's mount, it showed 「選ぶ」 with the default chosen), the field is scrolled
    into view (it was not, the box shown in the same turn: the name typed below the edge at 80x24),
    and Esc asks before discarding the name."""
    app, incident_id = _desk(store_dir)
    got = {}

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _opened_whole(app, pilot, incident_id)
            got["before"] = bool(screen.query("#not-incident-box"))
            # 確認中 confirmed; Up from the first type wraps to the last choice (an exclusion); chosen;
            # a name typed at once (its space too: typed in the field, not a choice)
            burst(app, " \x1b[A 試験 花子")
            assert await wait_until(pilot, lambda: screen.query("#reply_who")
                                    and screen.query_one("#reply_who").value == "試験 花子")
            await pilot.pause()
            got["type"] = screen.query_one("#type").pressed_button.name
            got["focus"] = screen.focused.id
            got["shown"] = screen.query_one("#not-incident-box").display
            got["fact_note"] = screen.query_one("#fact_note").value
            got["draft"] = screen.draft_values()["reply_who"]
            got["report_to"] = str(screen.query_one("#reported_to").query_one(OneLineCurrent).render())
            form = screen.query_one("#triage-form").region
            field = screen.query_one("#reply_who").region
            got["in_view"] = bool(field) and form.contains_region(field)
            await pilot.press("escape")
            await pilot.pause()
            got["still"] = app.screen is screen

    asyncio.run(go())
    assert got["before"] is False
    assert got["type"].startswith("excl:"), got["type"]
    assert got["focus"] == "reply_who" and got["shown"]
    assert got["fact_note"] == ""  # nothing of the name went elsewhere
    assert got["draft"] == "試験 花子"
    assert got["report_to"].startswith("CSIRT管理者"), got["report_to"]  # the default 報告先 shown, not 選ぶ
    assert got["in_view"]  # the name is typed where the operator sees it (it was below the edge at 80x24)
    assert got["still"]  # Esc asked first: the typed name is not dropped

"""A draft closed or discarded on the desk's screen thread while another process holds the
drafts' lock (a restore finishing in another window holds it for its whole copy).

Esc Esc on a dialog with typed text, 破棄して新しく書く on the offer of its unsaved text and y on
「この下書きを破棄しますか」 wrote the draft under that lock with the store's own timeout: every
key of the desk froze until the other process let it go (15 s at the default, then 「破棄できません
でした」). The save path waits a fraction of a second (Store.wait_briefly); these now do too: the
screen stays as it was with everything typed, one line says what holds the store and that
nothing is discarded yet, 「ストアが空きました」 once it is free, and the same key discards then.

The holder here keeps the lock HOLD seconds unless stopped, and the store's own timeout is longer:
before the fix the desk's thread waited for the holder's end. The tests assert that a key typed
after the discard reached the desk while the holder still held the lock, not times.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

from textual.widgets import DataTable, TextArea

from conftest import Clock, wait_until
from test_dialog_drafts import NOW, OP, _store, drafts, is_a, open_timeline, said, texts
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import DRAFTS_LOCK, Store

HOLD = 20  # seconds the other process holds the drafts' lock unless stopped

HOLDER = """
import sys, time
from filelock import FileLock
lock = FileLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold_drafts(store_dir) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(store_dir / DRAFTS_LOCK), str(HOLD)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def let_go(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def busy_said(app) -> bool:
    return any("ストアを使用中のため、まだ破棄していません" in m for m in said(app))


def free_said(app) -> bool:
    return any("ストアが空きました" in m for m in said(app))


async def refused_while_held(app, pilot, store_dir, keys, after: str, screen: str, state: dict,
                             typed_first: str = "") -> None:
    """The drafts' lock held by another process: ``typed_first`` (its autosave then waits for the
    lock), ``keys`` (the discard), then ``after`` typed; what the desk did meanwhile in ``state``;
    the lock let go and 「ストアが空きました」 waited for."""
    holder = hold_drafts(store_dir)
    try:
        if typed_first:
            await pilot.press(*typed_first)
            await pilot.pause(1.5)  # its write under way, waiting for the drafts' lock
        await pilot.press(*keys)
        await pilot.press(*after)  # before: it waited for the holder's end
        state["held while typed"] = holder.poll() is None
        await pilot.pause()
        state["still " + screen] = is_a(app, screen)
        state["busy said"] = busy_said(app)
        state["open"] = texts(store_dir, "note")
    finally:
        let_go(holder)
    assert await wait_until(pilot, lambda: free_said(app), timeout=5)


def desk(store_dir, then) -> None:
    store, clock, incident_id = _store(store_dir)
    store = Store.open(store_dir, clock=clock, lock_timeout=HOLD + 30)

    async def scenario():
        app = CsirtDeskApp(store, operator=OP, clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await then(app, pilot, incident_id)

    asyncio.run(scenario())


async def note_typed(app, pilot, incident_id, text: str):
    timeline = await open_timeline(pilot, app, incident_id)
    await pilot.press("n")
    assert await wait_until(pilot, lambda: is_a(app, "NoteScreen"))
    await pilot.pause()
    await pilot.press(*text)
    return timeline


def test_esc_esc_on_a_note_while_the_drafts_are_held_keeps_the_note_and_says_so(store_dir):
    state = {}

    async def then(app, pilot, incident_id):
        timeline = await note_typed(app, pilot, incident_id, "ベンダーに電話")
        assert await wait_until(pilot, lambda: texts(store_dir, "note") == ["ベンダーに電話"], timeout=5)
        await refused_while_held(app, pilot, store_dir, ["escape", "escape"], "した", "NoteScreen", state,
                                 typed_first="中")
        state["note"] = app.screen.query_one(TextArea).text
        await pilot.press("escape", "escape")
        assert await wait_until(pilot, lambda: app.screen is timeline)

    desk(store_dir, then)
    assert state == {"held while typed": True, "still NoteScreen": True, "busy said": True,
                     "open": ["ベンダーに電話"], "note": "ベンダーに電話中した"}
    (gone,) = drafts(store_dir, "note", status="discarded")
    assert gone["closed_by"] == OP and gone["data"]["values"]["text"] == "ベンダーに電話中した"
    assert drafts(store_dir, "note") == []


def test_n_on_the_offer_while_the_drafts_are_held_keeps_the_offer_and_its_draft(store_dir):
    state = {}

    async def then(app, pilot, incident_id):
        timeline = await note_typed(app, pilot, incident_id, "前のメモ")
        assert await wait_until(pilot, lambda: texts(store_dir, "note") == ["前のメモ"], timeout=5)
        await pilot.press("escape")  # the question; the note is left as it is for later
        app.pop_screen()  # (as a crash leaves it: the draft open)
        await pilot.pause()
        await pilot.press("n")
        assert await wait_until(pilot, lambda: is_a(app, "DraftOfferScreen"))
        await pilot.pause(0.3)
        await refused_while_held(app, pilot, store_dir, ["n"], ["tab"], "DraftOfferScreen", state)
        await pilot.press("n")
        assert await wait_until(pilot, lambda: is_a(app, "NoteScreen"))
        await pilot.pause()
        state["new note"] = app.screen.query_one(TextArea).text
        assert timeline in app.screen_stack

    desk(store_dir, then)
    assert state == {"held while typed": True, "still DraftOfferScreen": True, "busy said": True,
                     "open": ["前のメモ"], "new note": ""}
    assert texts(store_dir, "note", status="discarded") == ["前のメモ"]


def test_y_on_discard_this_draft_while_the_drafts_are_held_keeps_the_question(store_dir):
    state = {}

    async def then(app, pilot, incident_id):
        app.store.save_draft("note-1", {"dialog": "note", "title": "メモを追加", "values": {"text": "書きかけ"},
                                        "typed": ["text"]}, operator="op", kind="note", incident=incident_id)
        app.screen.refresh_data()
        await pilot.pause()
        table = app.screen.query_one("#drafts", DataTable)
        assert await wait_until(pilot, lambda: table.row_count == 1)
        table.focus()
        await pilot.pause()
        await pilot.press("x")
        assert await wait_until(pilot, lambda: is_a(app, "DiscardDraftScreen"))
        await refused_while_held(app, pilot, store_dir, ["y"], ["tab"], "DiscardDraftScreen", state)
        await pilot.press("y")
        assert await wait_until(pilot, lambda: is_a(app, "DashboardScreen") and table.row_count == 0)

    desk(store_dir, then)
    assert state == {"held while typed": True, "still DiscardDraftScreen": True, "busy said": True,
                     "open": ["書きかけ"]}
    (gone,) = drafts(store_dir, "note", status="discarded")
    assert gone["closed_by"] == OP


async def note_emptied(app, pilot, store_dir, incident_id):
    """A note typed, autosaved, then every character erased, its empty draft on disk."""
    timeline = await note_typed(app, pilot, incident_id, "メモ")
    assert await wait_until(pilot, lambda: texts(store_dir, "note") == ["メモ"], timeout=5)
    await pilot.press("backspace", "backspace")
    assert await wait_until(pilot, lambda: texts(store_dir, "note") == [""], timeout=5)
    return timeline


async def esc_while_held(pilot, store_dir, during) -> None:
    """Esc while another process holds the drafts' lock; ``during()`` before it lets go."""
    holder = hold_drafts(store_dir)
    try:
        await pilot.press("escape")
        await pilot.pause()
        await during()
    finally:
        let_go(holder)


def test_one_esc_on_an_emptied_note_while_the_drafts_are_held_says_one_esc(store_dir):
    """A note typed, then every character erased: one Esc closes it (nothing typed), so the
    busy line and 「ストアが空きました」 name one Esc (they said 「Esc を2回押して」: a second Esc
    right after the first closes the dialog too, but the line said what the keys would not do)."""
    state = {}

    async def then(app, pilot, incident_id):
        timeline = await note_emptied(app, pilot, store_dir, incident_id)
        async def during():
            state["still NoteScreen"] = is_a(app, "NoteScreen")
            state["busy"] = [m for m in said(app) if "まだ破棄していません" in m]

        await esc_while_held(pilot, store_dir, during)
        assert await wait_until(pilot, lambda: free_said(app), timeout=5)
        state["free"] = [m for m in said(app) if "ストアが空きました" in m]
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: app.screen is timeline)

    desk(store_dir, then)
    assert state["still NoteScreen"]
    assert state["busy"] and all("そのあと Esc でもう一度破棄してください" in m for m in state["busy"]), state["busy"]
    assert state["free"] and all("Esc で破棄" in m and "2回" not in m for m in state["free"]), state["free"]
    (gone,) = drafts(store_dir, "note", status="discarded")
    assert gone["closed_by"] == OP


def status_line(app) -> str:
    from screens.form import DraftStatus
    return app.screen.query_one(DraftStatus).text


def test_the_busy_line_of_an_emptied_note_follows_what_is_typed_after_it(store_dir):
    """The emptied note's Esc refused (the drafts held): the line says no text is kept (the draft
    is empty: it said 「入力は下書きに保存しています。」) and one Esc; typed on, two Escs are needed
    again and the line says so (it kept 「Esc で」), also once the store is free; erased again, one Esc."""
    state = {}

    async def then(app, pilot, incident_id):
        timeline = await note_emptied(app, pilot, store_dir, incident_id)
        async def during():
            state["emptied"] = status_line(app)
            await pilot.press("あ")
            await pilot.pause()
            state["typed on"] = status_line(app)

        await esc_while_held(pilot, store_dir, during)
        assert await wait_until(pilot, lambda: "ストアが空きました" in status_line(app), timeout=5)
        state["free"] = status_line(app)
        await pilot.press("backspace")
        await pilot.pause()
        state["erased"] = status_line(app)
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: app.screen is timeline)

    desk(store_dir, then)
    assert "そのあと Esc でもう一度破棄" in state["emptied"], state
    assert "下書きに保存しています" not in state["emptied"] and "入力はありません" in state["emptied"], state
    assert "そのあと Esc を2回押してもう一度破棄" in state["typed on"], state
    assert "入力はありません" not in state["typed on"], state
    assert "Esc を2回押して破棄" in state["free"], state
    assert "Esc で破棄" in state["erased"] and "2回" not in state["erased"], state

"""A draft written on the desk's screen thread while another process holds the drafts' lock (a
restore finishing in another window holds it for its whole copy; an import or an exchange for a
draft it brought) waits no longer than the desk's short wait (UI_LOCK_WAIT, Store.wait_briefly).

Esc, Ctrl+S and Ctrl+Q write the intake's last keys on the screen thread (DraftKeeper.flush_now,
save_draft(wait=False)): that write waited 2 s for the drafts' lock, every key frozen, and the
desk's thread waited 1 s more for an autosave under way in a worker (itself waiting for the same
lock). Now each wait of the screen thread for a lock is at most the short wait, the refusal is said
as before (「ストアを使用中の処理があります…」), and what was typed reaches the draft once the lock is
free, with no key pressed.

The waits are recorded (each lock's acquire on the screen thread, and how long it may wait), not
timed: the holder keeps the lock until it is stopped.
"""

from __future__ import annotations

import asyncio
import threading

from textual.widgets import TextArea

from conftest import Clock, wait_until
from test_draft_busy_close import hold_drafts, let_go
from test_draft_lock import on_disk
from test_quit_flush import drafts_of, first_half_on_disk
from csirt_tui.app import UI_LOCK_WAIT, CsirtDeskApp
from csirt_tui.store import Store
from screens import form
from screens import intake as intake_screen
from screens.form import BUSY


class Spied:
    """A lock whose acquires on the screen thread are recorded: how long each may wait."""

    def __init__(self, lock, waits: list, ui: int, name: str) -> None:
        self._inner, self._waits, self._ui, self._name = lock, waits, ui, name

    def acquire(self, *args, **kwargs):
        timeout = kwargs.get("timeout", args[1] if len(args) > 1 else args[0] if args else None)
        if threading.get_ident() == self._ui:
            self._waits.append((self._name, timeout))
        return self._inner.acquire(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self._inner.release()


def intake_of(app):
    return next(s for s in app.screen_stack if isinstance(s, intake_screen.IntakeScreen))


def never_blocking(waits) -> bool:
    """Every recorded wait of the screen thread is bounded by the short wait (a negative or a
    missing timeout waits for ever)."""
    return bool(waits) and all(t is not None and 0 <= t <= UI_LOCK_WAIT + 1e-9 for _, t in waits)


def spy(app, store, waits) -> None:
    ui = app._ui_thread
    keeper = app.screen.keeper
    keeper._lock = Spied(keeper._lock, waits, ui, "keeper")
    for lock, name in ((store._drafts_lock, "drafts"), (store._lock, "store")):
        lock.acquire = Spied(Bound(lock.acquire), waits, ui, name).acquire


class Bound:
    """A file lock's own acquire, held before it is replaced by the spy's."""

    def __init__(self, acquire) -> None:
        self.acquire = acquire


def run(store_dir, monkeypatch, during) -> dict:
    clock = Clock()
    store = Store.open(store_dir, clock=clock, lock_timeout=60)
    state: dict = {}

    async def scenario():
        app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await first_half_on_disk(app, pilot, store_dir)
            holder = hold_drafts(store_dir)
            waits: list = []
            try:
                await during(app, pilot, store, waits, state)
                await pilot.press(*"続き")  # the keys go on meanwhile
                await pilot.pause()
                state["held all along"] = holder.poll() is None
                state["on disk while held"] = on_disk(store_dir)
                state["ui waits"] = list(waits)
            finally:
                let_go(holder)
            # nothing pressed: the text reaches the draft once the lock is free
            want = "前半" + state["typed"] + "続き"
            state["on disk after"] = await wait_until(pilot, lambda: on_disk(store_dir) == [want], timeout=10)
            state["form"] = intake_of(app).query_one("#what", TextArea).text

    asyncio.run(scenario())
    assert state.pop("held all along")
    return state


def test_esc_on_the_intake_waits_briefly_for_the_drafts_lock(store_dir, monkeypatch):
    """No autosave under way (its delay a minute): Esc writes the last keys on the screen thread."""

    async def during(app, pilot, store, waits, state):
        monkeypatch.setattr(intake_screen, "SAVE_DELAY", 60.0)
        monkeypatch.setattr(form, "SAVE_DELAY", 60.0)
        await pilot.press(*"最後")
        await pilot.pause()
        spy(app, store, waits)
        await pilot.press("escape")
        await pilot.pause()
        state["typed"] = "最後"
        state["problem"] = intake_of(app).keeper.problem
        state["drafts lock tried"] = any(name == "drafts" for name, _ in waits)
        state["bounded"] = never_blocking(waits)
        await pilot.press("escape")  # back from 「画面を閉じません」 to the intake

    state = run(store_dir, monkeypatch, during)
    assert state["problem"] == BUSY
    assert state["drafts lock tried"], state["ui waits"]
    assert state["bounded"], state["ui waits"]  # before: ("drafts", 2.0)
    assert state["on disk while held"] == ["前半"]
    assert state["on disk after"], drafts_of(store_dir)
    assert state["form"] == "前半最後続き"


def test_esc_while_an_autosave_waits_for_the_drafts_lock_waits_briefly(store_dir, monkeypatch):
    """An autosave is under way in a worker, itself waiting for the drafts' lock: Esc does not
    wait for it longer than the short wait."""

    async def during(app, pilot, store, waits, state):
        await pilot.press(*"途中")
        await pilot.pause(1.0)  # its write under way, waiting for the drafts' lock
        spy(app, store, waits)
        await pilot.press(*"まで")
        await pilot.press("escape")
        await pilot.pause()
        state["typed"] = "途中まで"
        state["problem"] = intake_of(app).keeper.problem
        state["bounded"] = never_blocking(waits)
        await pilot.press("escape")

    state = run(store_dir, monkeypatch, during)
    assert state["problem"] == BUSY
    assert state["bounded"], state["ui waits"]  # before: ("keeper", 1.0)
    assert state["on disk while held"] == ["前半"]
    assert state["on disk after"], drafts_of(store_dir)
    assert state["form"] == "前半途中まで続き"


def test_the_drafts_lock_taken_twice_waits_once_in_all(store_dir, monkeypatch):
    """A draft that needs the store's lock too (a restore's or an import's journal) takes the drafts'
    lock twice on the screen thread: the second wait was the whole brief wait again (0.4 s + 0.4 s);
    now what is left of it."""
    import time

    store = Store.open(store_dir, clock=Clock(), lock_timeout=60)
    monkeypatch.setattr(store, "_draft_needs_store_lock", lambda path: True)
    waits: list = []
    acquire = store._drafts_lock.acquire

    def slow(*args, **kwargs):  # another desk's autosave holds it a moment: 0.3 s waited
        waits.append(kwargs.get("timeout", args[0] if args else None))
        if len(waits) == 1:
            time.sleep(0.3)
        return acquire(*args, **kwargs)

    monkeypatch.setattr(store._drafts_lock, "acquire", slow)
    store.save_draft("20261205-101010-abcd", {"what": "書きかけ"}, operator="受付 花子", wait=0.4)
    assert len(waits) == 2 and waits[0] == 0.4
    assert waits[1] <= 0.1 + 1e-6, waits  # before: 0.4 again
    assert store.load_draft("20261205-101010-abcd")["data"]["what"] == "書きかけ"

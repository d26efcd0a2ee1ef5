"""A draft is written while an import holds the store (issue 17, reliability).

``bundle import`` (or the desk's 取り込み) holds the store's lock for as long as it writes,
minutes for a large bundle. Drafts were written under that lock: the autosave waited up to
15 s for it and then gave up, and Esc or Ctrl+Q on the intake (which write the draft on the
desk's own thread) froze the keys for ~17 s (measured with Pilot: Esc took 17.6 s). Drafts
now have their own lock: the text is on disk while the import runs, and the keys never wait.
A draft the running import itself wrote (one that came in the bundle) still waits for the
store's lock, so that an import undone after a kill never puts back the file over newer text.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest
from conftest import Clock, wait_until
from test_quit_flush import drafts_of, first_half_on_disk
from csirt_tui.app import CsirtDeskApp
from csirt_tui.errors import StoreBusyError
from csirt_tui.store import Store
from screens.intake import IntakeScreen

# An import that holds the store's lock (and its journal) until it is killed; with a draft id,
# it first writes that draft as an import of a bundle's draft does.
IMPORTER = textwrap.dedent("""
    import sys, time
    from csirt_tui.store import Store
    store = Store.open(sys.argv[1])
    def work():
        if len(sys.argv) > 2:
            store.save_draft(sys.argv[2], {"what": "相手のデスクの下書き"}, operator="他デスク")
        print("importing", flush=True)
        time.sleep(120)
    store.import_all(work)
""")


def start_import(store_dir, draft_id: str | None = None) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", IMPORTER, str(store_dir), *([draft_id] if draft_id else [])],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "importing"
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()


def on_disk(store_dir) -> list[str]:
    """The drafts' text as a reader sees it, without the store's lock (Store.open waits for it)."""
    import json

    out = []
    for path in sorted((store_dir / "drafts").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))["draft"]["1"]
        if doc["status"] == "open":
            out.append(doc["data"].get("what", ""))
    return out


@pytest.mark.parametrize("leave", ["escape", "ctrl+q"])
def test_the_intake_draft_is_written_and_the_keys_do_not_wait_while_an_import_runs(store_dir, leave):
    clock = Clock()
    store = Store.open(store_dir, clock=clock)
    state = {}

    async def scenario():
        app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await first_half_on_disk(app, pilot, store_dir)
            importer = start_import(store_dir)
            try:
                await pilot.press(*"電話中の入力")
                # on disk while the import still holds the store (before: only after it, or never)
                assert await wait_until(pilot, lambda: on_disk(store_dir) == ["前半電話中の入力"], timeout=8)
                await pilot.press(*"最後")  # not yet on disk: Esc / Ctrl+Q writes it
                await pilot.press(leave)
                if leave == "ctrl+q":
                    assert await wait_until(pilot, lambda: not app.is_running, timeout=8)
                    state["unsaved"] = app.unsaved_on_exit
                else:
                    assert await wait_until(pilot, lambda: not isinstance(app.screen, IntakeScreen), timeout=8)
                state["during"] = on_disk(store_dir)
                assert importer.poll() is None  # the import was still holding the store all along
            finally:
                stop(importer)

    asyncio.run(scenario())
    assert state["during"] == ["前半電話中の入力最後"]
    assert state.get("unsaved", []) == []
    assert drafts_of(store_dir) == ["前半電話中の入力最後"]


def test_a_draft_the_running_import_wrote_waits_for_the_import(store_dir):
    """The import journaled the draft it brought: written over now, its undo (the import
    killed) would put back the file as it was before, and the operator's words would be gone.
    On the desk's own thread (wait=False) the write is refused at once; a worker's write waits
    and lands after the undo."""
    store = Store.open(store_dir, lock_timeout=0.5)
    store.save_draft("d1", {"what": "前の下書き"}, operator="受付")
    importer = start_import(store_dir, "d1")
    try:
        with pytest.raises(StoreBusyError):
            store.save_draft("d1", {"what": "操作者の入力"}, operator="受付 花子", wait=False)
        # a draft of its own is written at once, the import notwithstanding
        store.save_draft("d2", {"what": "別の受付"}, operator="受付 花子", wait=False)
        assert sorted(on_disk(store_dir)) == ["別の受付", "相手のデスクの下書き"]
    finally:
        stop(importer)  # killed: the next writer undoes it
    store = Store.open(store_dir)
    store.save_draft("d1", {"what": "操作者の入力"}, operator="受付 花子")
    assert sorted(drafts_of(store_dir)) == ["別の受付", "操作者の入力"]


def test_the_desks_own_import_on_another_thread_is_not_taken_for_the_drafts_writer(store_dir):
    """The desk's 取り込み runs in a worker with the desk's own Store: the autosave on another
    thread of a draft that import journaled must wait for it as another process's would (it
    was taken for the import's own write, this Store being the one importing)."""
    import threading

    store = Store.open(store_dir, lock_timeout=0.5)
    store.save_draft("d1", {"what": "前の下書き"}, operator="受付")
    inside, done = threading.Event(), threading.Event()

    def work():
        store.save_draft("d1", {"what": "相手のデスクの下書き"}, operator="他デスク")
        inside.set()
        done.wait(10)

    importer = threading.Thread(target=store.import_all, args=(work,))
    importer.start()
    try:
        assert inside.wait(10)
        with pytest.raises(StoreBusyError):
            store.save_draft("d1", {"what": "操作者の入力"}, operator="受付 花子", wait=False)
        store.save_draft("d2", {"what": "別の受付"}, operator="受付 花子", wait=False)  # its own: at once
    finally:
        done.set()
        importer.join(10)
    store.save_draft("d1", {"what": "操作者の入力"}, operator="受付 花子")
    assert sorted(drafts_of(store_dir)) == ["別の受付", "操作者の入力"]

"""Discarding a draft (issue 15): a stray intake draft was offered at every start until it was
saved as an incident. Now it can be discarded, after a question; the store keeps what it held,
marked discarded, with who discarded it and when."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import DataTable

from conftest import Clock, cli_runner, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.errors import DomainError
from csirt_tui.store import Store

STRAY = {"found_at": "今朝", "place": "本庁舎3階", "what": "[bold]間違えて開いた[/] <para"}


def _app(store, clock, operator="受付 花子"):
    return CsirtDeskApp(store, operator=operator, clock=clock, backups=False)


def test_a_discarded_draft_keeps_its_text_and_who_discarded_it_when(store, clock):
    store.save_draft("d1", STRAY, operator="受付 花子")
    clock.advance(minutes=5)
    done = store.discard_draft("d1", operator="当番 太郎")
    assert done["status"] == "discarded" and done["closed_by"] == "当番 太郎"
    assert done["closed_at"] == clock().isoformat(timespec="seconds")
    assert store.list_drafts() == []  # no offer at start, not in the dashboard's list
    kept = store.list_drafts(status="discarded")
    assert [d["id"] for d in kept] == ["d1"] and kept[0]["data"] == STRAY  # what it held, as typed
    assert kept[0]["operator"] == "受付 花子"  # who typed it: not overwritten by who discarded it
    with pytest.raises(DomainError, match="破棄済み"):
        store.discard_draft("d1", operator="当番 太郎")
    assert store.verify().ok


def test_a_dialog_draft_given_up_with_esc_records_who(store, clock):
    """The dialogs' own discard (Esc twice, 「破棄して新しく書く」) names the operator too."""
    store.save_draft("n1", {"dialog": "note", "values": {"text": "メモ"}}, operator="op", kind="note",
                     incident="2026-0001")
    store.close_draft("n1", status="discarded", incident_id="2026-0001", operator="op2")
    assert store.list_drafts(status="discarded", kind=None)[0]["closed_by"] == "op2"


def test_the_offer_at_start_discards_after_asking_and_never_again(store_dir):
    clock = Clock()
    store = Store.open(store_dir, clock=clock)
    store.save_draft("20261122-140000", STRAY, operator="受付 花子")

    async def first():
        from screens.discard import DiscardDraftScreen
        from screens.resume import ResumeDraftScreen

        app = _app(store, clock, operator="当番 太郎")
        async with app.run_test(size=(80, 24)) as pilot:
            assert await wait_until(pilot, lambda: isinstance(app.screen, ResumeDraftScreen))
            await pilot.press("x")
            assert await wait_until(pilot, lambda: isinstance(app.screen, DiscardDraftScreen))
            await pilot.press("enter")  # Enter is on やめる: nothing discarded
            assert await wait_until(pilot, lambda: isinstance(app.screen, ResumeDraftScreen))
            assert [d["id"] for d in store.list_drafts()] == ["20261122-140000"]
            await pilot.press("x", "y")
            assert await wait_until(pilot, lambda: not store.list_drafts())
            assert await wait_until(pilot, lambda: type(app.screen).__name__ == "DashboardScreen")
            await pilot.press("ctrl+q")

    async def second():
        app = _app(Store.open(store_dir, clock=clock), clock)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.3)
            assert type(app.screen).__name__ == "DashboardScreen"  # not offered again
            await pilot.press("ctrl+q")

    asyncio.run(first())
    gone = store.list_drafts(status="discarded")[0]
    assert gone["closed_by"] == "当番 太郎" and gone["data"] == STRAY
    asyncio.run(second())


def test_x_in_the_dashboards_draft_list_discards_the_highlighted_draft(store, clock):
    store.save_draft("20261122-140000", {"what": "古い受付"}, operator="op")
    clock.advance(minutes=1)
    store.save_draft("note-1", {"dialog": "note", "title": "メモを追加 (2026-0001)", "values": {"text": "書きかけ"},
                                "typed": ["text"]}, operator="op", kind="note", incident="2026-0001")

    async def go():
        app = _app(store, clock)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            if type(app.screen).__name__ == "ResumeDraftScreen":
                await pilot.press("escape")
            await pilot.pause()
            dash = app.screen
            drafts = dash.query_one("#drafts", DataTable)
            await pilot.press("x")  # the incident list has the focus: x is not the draft list's
            await pilot.pause()
            assert type(app.screen).__name__ == "DashboardScreen"
            drafts.focus()
            await pilot.pause()
            assert "下書きを破棄" in [k.description for k in app.screen.query("FooterKey")]
            await pilot.press("down")  # the second row: the intake (newest first)
            await pilot.press("x")
            assert await wait_until(pilot, lambda: type(app.screen).__name__ == "DiscardDraftScreen")
            await pilot.press("y")
            assert await wait_until(pilot, lambda: drafts.row_count == 1)
            await pilot.press("ctrl+q")

    asyncio.run(go())
    assert [d["id"] for d in store.list_drafts(kind=None)] == ["note-1"]
    assert store.list_drafts(status="discarded")[0]["closed_by"] == "受付 花子"


@pytest.fixture
def run(tmp_path, capsys, monkeypatch):
    return cli_runner(tmp_path, capsys, monkeypatch)


def test_the_cli_lists_discards_and_lists_the_discarded(run, clock):
    assert run("list")[0] == 0  # makes the store
    Store.open(run.store, clock=clock).save_draft("d1", STRAY, operator="受付 花子")
    code, out, _ = run("drafts")
    assert code == 0 and out.startswith("d1  受付") and "間違えて開いた" in out
    code, out, err = run("drafts", "discard", "d1", "nope")
    assert code == 1 and "破棄しました: d1" in out and "下書き nope はありません" in err
    code, out, _ = run("drafts")
    assert out.strip() == "下書きはありません"
    code, out, _ = run("drafts", "--discarded")
    assert "試験 操作者 が破棄" in out and "本庁舎3階" in out


# -- the store's lock (the TUI and the CLI discarding or saving the same draft at once) -------------

HOLD = """
import sys
from filelock import FileLock
lock = FileLock(sys.argv[1] + "/" + sys.argv[2])
lock.acquire()
print("held", flush=True)
sys.stdin.readline()
lock.release()
"""


def test_discard_waits_for_the_drafts_lock_held_by_another_process(store_dir, clock):
    """Another process (the CLI, another desk's autosave) holds the drafts' lock: discard waits
    for it, as every other draft write does, and says so when it is not released in time; the
    draft is left open. Before, discard read, checked and wrote without the lock. (Drafts have
    their own lock since the store's was found to hold the autosave for 15 s during an import:
    tests/test_draft_lock.py.)"""
    from csirt_tui.store import DRAFTS_LOCK

    import subprocess
    import sys

    from csirt_tui.errors import StoreBusyError

    store = Store.open(store_dir, clock=clock, lock_timeout=0.5)
    store.save_draft("d1", STRAY, operator="受付 花子")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store_dir), DRAFTS_LOCK], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreBusyError):
            store.discard_draft("d1", operator="当番 太郎")
        assert store.load_draft("d1")["status"] == "open"
    finally:
        holder.communicate("\n", timeout=10)
    assert store.discard_draft("d1", operator="当番 太郎")["status"] == "discarded"


def test_two_desks_discarding_one_draft_at_once_one_is_told_it_is_already_discarded(store_dir, clock, monkeypatch):
    """The TUI (store a) has read the draft as open and is about to write; the CLI (store b, another
    lock holder like another process) discards the same draft in that moment. Before, both saw it
    open, both said 破棄しました, and a's write replaced b's 「誰が・いつ」. Now b waits for a's lock
    and is told it is already discarded; the draft says who really discarded it."""
    import threading

    a = Store.open(store_dir, clock=clock)
    b = Store.open(store_dir, clock=clock)
    a.save_draft("d1", STRAY, operator="受付 花子")
    in_write, b_done = threading.Event(), threading.Event()
    results: dict[str, object] = {}
    close = Store._close_draft  # between discard_draft's check and its write

    def slow_close(self, *args, **kw):
        if self is a:
            in_write.set()
            b_done.wait(1.5)  # b runs here, between a's check and a's write
        return close(self, *args, **kw)

    monkeypatch.setattr(Store, "_close_draft", slow_close)

    def discard(store, who):
        try:
            results[who] = store.discard_draft("d1", operator=who)["closed_by"]
        except DomainError as err:
            results[who] = err
        finally:
            if store is b:
                b_done.set()

    ta = threading.Thread(target=discard, args=(a, "TUI 当番"))
    ta.start()
    assert in_write.wait(5)
    tb = threading.Thread(target=discard, args=(b, "CLI 当番"))
    tb.start()
    ta.join(10)
    tb.join(10)
    assert results["TUI 当番"] == "TUI 当番"
    assert isinstance(results["CLI 当番"], DomainError) and "破棄済み" in str(results["CLI 当番"]), results
    assert a.load_draft("d1")["closed_by"] == "TUI 当番"

"""A draft discarded (or saved) elsewhere is never reopened by a late autosave, and nothing typed
after it is lost. Store.save_draft took no lock and wrote status "open": a TUI still typing into a
draft reopened the draft the CLI (drafts discard) had just discarded, its closed_by/closed_at gone,
offered again at start as if never discarded. Now the check and the write are one step under the
store's lock: the closed draft stays as it was closed, and the new text is a new open draft that
says it continues the closed one."""

from __future__ import annotations

import asyncio

from textual.widgets import TextArea

from conftest import Clock, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.draftsave import draft_row
from csirt_tui.store import Store

FIRST = {"found_at": "今朝", "place": "本庁舎3階", "what": "USB を拾った"}
MORE = dict(FIRST, what="USB を拾った。中身は [bold]住民票[/] <para")


def _two(store_dir):
    clock = Clock()
    return Store.open(store_dir, clock=clock), Store.open(store_dir, clock=clock), clock


def test_a_late_autosave_does_not_reopen_a_draft_discarded_by_another_store(store_dir):
    tui, cli, clock = _two(store_dir)
    tui.save_draft("d1", FIRST, operator="受付 花子")
    clock.advance(minutes=1)
    cli.discard_draft("d1", operator="当番 太郎")
    clock.advance(seconds=5)
    written = tui.save_draft("d1", MORE, operator="受付 花子")  # the TUI's autosave, still typing
    gone = cli.load_draft("d1")
    assert gone["status"] == "discarded" and gone["closed_by"] == "当番 太郎" and gone["data"] == FIRST
    assert written != "d1"
    new = cli.load_draft(written)
    assert new["status"] == "open" and new["data"] == MORE  # what was typed after the discard
    assert new["continues"] == {"id": "d1", "status": "discarded", "closed_by": "当番 太郎",
                                "closed_at": gone["closed_at"]}
    assert [d["id"] for d in cli.list_drafts()] == [written]
    assert [d["id"] for d in cli.list_drafts(status="discarded")] == ["d1"]
    assert "(破棄された下書き d1 の続き)" in draft_row(new)[1]
    # the keeper goes on writing into the continuation: one new draft, not one per write
    again = dict(MORE, what=MORE["what"] + "。続き")
    assert tui.save_draft(written, again, operator="受付 花子") == written
    assert len(cli.list_drafts()) == 1 and cli.load_draft(written)["data"] == again
    assert cli.load_draft(written)["continues"]["id"] == "d1"  # still says whose continuation it is


def test_the_same_text_after_a_discard_writes_nothing(store_dir):
    tui, cli, _clock = _two(store_dir)
    tui.save_draft("d1", FIRST, operator="受付 花子")
    cli.discard_draft("d1", operator="当番 太郎")
    written = tui.save_draft("d1", FIRST, operator="受付 花子")  # in the discarded draft already
    assert cli.list_drafts() == [] and cli.load_draft("d1")["status"] == "discarded"
    assert written == "d1"


def test_a_saved_draft_is_not_reopened_either(store_dir):
    tui, cli, _clock = _two(store_dir)
    tui.save_draft("n1", {"dialog": "note", "values": {"text": "メモ"}}, operator="op", kind="note",
                   incident="2026-0001")
    cli.close_draft("n1", status="saved", incident_id="2026-0001", operator="op2")
    written = tui.save_draft("n1", {"dialog": "note", "values": {"text": "メモの続き"}}, operator="op", kind="note",
                             incident="2026-0001")
    assert written != "n1" and cli.load_draft("n1")["status"] == "saved"
    new = cli.load_draft(written)
    assert new["continues"]["status"] == "saved" and new["kind"] == "note" and new["incident"] == "2026-0001"
    assert "(保存済みの下書き n1 の続き)" in draft_row(new)[1]


def test_the_intake_screen_goes_on_in_a_new_draft_and_says_so(store_dir):
    """The TUI typing, the CLI discarding the draft under it (another Store on the folder)."""
    clock = Clock()
    store = Store.open(store_dir, clock=clock)
    cli = Store.open(store_dir, clock=clock)
    seen = {}

    async def scenario():
        app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("ctrl+n")
            await pilot.pause()
            app.screen.query_one("#what", TextArea).focus()
            await pilot.press(*"前半")
            assert await wait_until(pilot, lambda: [d["data"]["what"] for d in cli.list_drafts()] == ["前半"])
            first = cli.list_drafts()[0]["id"]
            cli.discard_draft(first, operator="当番 太郎")
            await pilot.press(*"後半")
            assert await wait_until(pilot, lambda: len(cli.list_drafts()) == 1)
            await pilot.press(*"まで")
            assert await wait_until(pilot, lambda: cli.list_drafts()[0]["data"]["what"] == "前半後半まで")
            seen["notes"] = [n.message for n in app._notifications]
            seen["first"], seen["open"] = first, cli.list_drafts()
            await pilot.press("ctrl+q")

    asyncio.run(scenario())
    gone = cli.load_draft(seen["first"])
    assert gone["status"] == "discarded" and gone["closed_by"] == "当番 太郎" and gone["data"]["what"] == "前半"
    [new] = seen["open"]  # one continuation, written again as typing went on
    assert new["id"] != seen["first"] and new["continues"]["id"] == seen["first"]
    assert any("当番 太郎 が破棄しました" in n and new["id"] in n for n in seen["notes"]), seen["notes"]

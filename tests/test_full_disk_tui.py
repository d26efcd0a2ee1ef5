"""A full disk must not lose what the operator typed (issue 14, defect 3).

The store's disk is made full by refusing every ``os.write`` the store's one
writer (csirt_tui.jsonfile.atomic_write) makes under the store's folder with
ENOSPC, as a full disk does: the temporary file is made, its write fails, the
old file stays. Another folder (a USB stick, the desktop) still has room.

What must hold: a screen holding text that is not on disk does not close (Esc,
Ctrl+S, Ctrl+Q), says so in plain words that are true (no 「下書きは残っています」
unless a draft is on disk), offers another folder and the clipboard, and closes
once the text is on disk again (space back, or the operator's own file).
"""

from __future__ import annotations

import asyncio
import errno
import os
import random
import stat
import threading
import time

import pytest
from textual.widgets import Input, Static, TextArea

import csirt_tui.jsonfile as jsonfile
from conftest import Clock, sample_intake, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens.intake import IntakeScreen, SavedScreen


class FullDisk:
    """The store's disk, full when ``full`` is set: ``os.write`` to a file under ``root`` fails
    with ENOSPC (every other folder has room). Counts the writes it refused."""

    def __init__(self, root) -> None:
        self.root = str(root) + os.sep
        self.full = False
        self.refused = 0
        self.fail_at: int | None = None  # heavy runs: the disk fills at the n-th store write
        self.writes = 0
        self._fds: dict[int, str] = {}
        self._lock = threading.Lock()

    def install(self, monkeypatch) -> "FullDisk":
        real, disk = os, self

        class DiskOS:
            def __getattr__(self, name):
                return getattr(real, name)

            @staticmethod
            def open(path, flags, mode=0o777, *args, **kwargs):
                fd = real.open(path, flags, mode, *args, **kwargs)
                if flags & (real.O_WRONLY | real.O_RDWR):
                    disk._fds[fd] = os.fspath(path)
                return fd

            @staticmethod
            def write(fd, data):
                path = disk._fds.get(fd, "")
                if path.startswith(disk.root):
                    with disk._lock:
                        disk.writes += 1
                        if disk.fail_at is not None and disk.writes >= disk.fail_at:
                            disk.full = True
                        if disk.full:
                            disk.refused += 1
                            raise OSError(errno.ENOSPC, "No space left on device")
                return real.write(fd, data)

            @staticmethod
            def close(fd):
                disk._fds.pop(fd, None)
                return real.close(fd)

        monkeypatch.setattr(jsonfile, "os", DiskOS())
        return self


def said(app) -> list[str]:
    """Every notification so far and every text on the screens now shown."""
    out = [str(n.message) for n in app._notifications]
    for screen in app.screen_stack:
        for widget in screen.query(Static):
            text = getattr(widget, "text", None)  # a message folded at the width: its text unfolded
            try:
                out.append(text if isinstance(text, str) else str(widget.render()))
            except Exception:
                pass
    return out


def said_all(app, seen: list[str]) -> list[str]:
    seen.extend(m for m in said(app) if m not in seen)
    return seen


def open_drafts(store_dir, kind="intake"):
    return Store.open(store_dir).list_drafts(kind=kind)


def intake_open(app) -> bool:
    return any(isinstance(s, IntakeScreen) for s in app.screen_stack)


def make_app(store, clock):
    return CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)


CALL = {
    "found_at": "今朝9時ごろ",
    "place": "本庁舎3階 税務課 窓口端末",
    "what": "画面が真っ暗になり\n英語の脅迫文が出た 𩸽𠮷",
    "rep_name": "試験 一郎",
    "rep_section": "税務課",
    "rep_contact": "内線2301",
    "callback_number": "0175-22-1111",
    "memo": "相手はかなり動揺している\n折り返しを約束",
}


async def type_call(app, pilot, call=CALL) -> None:
    """Fill every field of the intake: all but its last two characters put in the field (typing
    each would take seconds), the last two typed on the keyboard."""
    screen = app.screen
    for wid, text in call.items():
        field = screen.query_one(f"#{wid}")
        field.focus()
        await pilot.pause()  # focused (an Input selects its text on focus: typing would replace it)
        head, tail = text[:-2], text[-2:]
        if isinstance(field, TextArea):
            field.text = head
            field.move_cursor(field.document.end)
        else:
            field.value = head
            await pilot.press("end")
        for ch in tail:
            await pilot.press("enter" if ch == "\n" else "space" if ch == " " else ch)
    await pilot.pause()


def no_false_draft_claim(messages: list[str]) -> None:
    bad = [m for m in messages if "下書きは残っています" in m]
    assert not bad, bad


def run(coro):
    asyncio.run(coro)


def on_full_disk(store_dir, monkeypatch, then, *, call=CALL, full_before=True) -> list[str]:
    """The desk on a store whose disk is full: Ctrl+N, the disk fills (``full_before``: before
    the first keystroke), ``call`` is typed into the intake, then ``await then(app, pilot, disk)``.
    Returns every message said meanwhile (notifications, texts on the screens)."""
    clock = Clock()
    store = Store.open(store_dir, clock=clock)
    disk = FullDisk(store_dir).install(monkeypatch)
    seen: list[str] = []

    async def scenario():
        app = make_app(store, clock)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("ctrl+n")
            await pilot.pause()
            disk.full = full_before
            if call:
                await type_call(app, pilot, call)
            await then(app, pilot, disk, seen)
            said_all(app, seen)

    run(scenario())
    return seen


def test_esc_and_ctrl_s_do_not_close_an_intake_whose_text_is_on_no_disk(store_dir, monkeypatch):
    """The disk is full before the first keystroke: no draft is ever written."""

    async def then(app, pilot, disk, seen):
        assert await wait_until(pilot, lambda: disk.refused > 0)  # the autosave tried
        await pilot.pause(0.3)
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        assert intake_open(app) and not isinstance(app.screen, SavedScreen)
        said_all(app, seen)
        for _ in range(3):  # whatever is on top (an offer to keep the text), and the intake itself
            await pilot.press("escape")
            await pilot.pause(0.3)
            assert intake_open(app), "Esc closed an intake whose text is on no disk"
            said_all(app, seen)
        screen = next(s for s in app.screen_stack if isinstance(s, IntakeScreen))
        assert screen.query_one("#what", TextArea).text == CALL["what"]

    seen = on_full_disk(store_dir, monkeypatch, then)
    assert open_drafts(store_dir) == [] and Store.open(store_dir).list_incidents() == []
    no_false_draft_claim(seen)
    assert any("この画面にだけ" in m for m in seen), seen  # where the text is, plainly
    assert any("別の場所" in m or "別のフォルダ" in m for m in seen), seen  # and where it can be kept


def test_ctrl_q_does_not_close_an_intake_whose_text_is_on_no_disk(store_dir, monkeypatch):
    async def then(app, pilot, disk, seen):
        await pilot.press("ctrl+q")
        await pilot.pause(0.3)
        assert app.is_running and intake_open(app)

    no_false_draft_claim(on_full_disk(store_dir, monkeypatch, then))


def test_an_older_draft_on_disk_is_said_as_older(store_dir, monkeypatch):
    """前半 is on disk, then the disk fills: the message says the draft holds less than the screen."""

    async def then(app, pilot, disk, seen):
        app.screen.query_one("#what", TextArea).focus()
        await pilot.press(*"前半")
        assert await wait_until(pilot, lambda: [d["data"]["what"] for d in open_drafts(store_dir)] == ["前半"])
        disk.full = True
        await pilot.press(*"最後の一文")
        assert await wait_until(pilot, lambda: disk.refused > 0)
        for key in ("ctrl+s", "escape", "escape"):
            await pilot.press(key)
            await pilot.pause(0.3)
        assert intake_open(app)

    seen = on_full_disk(store_dir, monkeypatch, then, call={}, full_before=False)
    assert [d["data"]["what"] for d in open_drafts(store_dir)] == ["前半"]
    no_false_draft_claim(seen)
    assert any("までの入力は下書きにあります" in m and "それ以降の入力はこの画面にだけ" in m for m in seen), seen


def test_the_text_saved_to_another_folder_holds_every_typed_character(store_dir, tmp_path, monkeypatch):
    usb = tmp_path / "usb"
    usb.mkdir()
    target = usb / "受付の控え.txt"

    async def then(app, pilot, disk, seen):
        await pilot.press("ctrl+o")  # 別の場所に保存・コピー
        await pilot.pause()
        path_input = app.screen.query_one("#keep-path", Input)
        assert path_input.has_focus
        await pilot.press("end", "ctrl+u", *str(target), "enter")
        assert await wait_until(pilot, target.exists)
        await pilot.pause()
        messages = said(app)
        assert any(str(target) in m and "保存しました" in m for m in messages), messages
        await pilot.press("escape")  # back to the form
        await pilot.pause()
        assert isinstance(app.screen, IntakeScreen)
        # the text is on a disk now (the operator's file): the form may close, and says where it is
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert not intake_open(app)
        assert any(str(target) in m for m in said(app))

    on_full_disk(store_dir, monkeypatch, then)
    text = target.read_bytes().decode("utf-8")
    for wid, typed in CALL.items():
        assert typed in text, (wid, typed)
    assert "③" in text and "メモ" in text  # each field labelled
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_another_folder_refuses_an_existing_file_and_the_store(store_dir, tmp_path, monkeypatch):
    existing = tmp_path / "前の控え.txt"
    existing.write_text("前の控え", encoding="utf-8")

    async def then(app, pilot, disk, seen):
        await pilot.press("ctrl+o")
        await pilot.pause()
        for where in (existing, store_dir / "drafts" / "x.txt"):
            app.screen.query_one("#keep-path", Input).value = str(where)
            await pilot.press("enter")
            await pilot.pause()
            assert any(str(where) in m and ("既にあります" in m or "ストアの中" in m) for m in said(app))
        assert existing.read_text(encoding="utf-8") == "前の控え"

    on_full_disk(store_dir, monkeypatch, then, call={"what": "本文"})


def test_copy_to_the_clipboard_says_it_may_not_work_and_does_not_close(store_dir, monkeypatch):
    async def then(app, pilot, disk, seen):
        await pilot.press("ctrl+o")
        await pilot.pause()
        app.screen.query_one("#keep-copy").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert "クリップボードへ" in app.clipboard
        assert any("端末によって" in m for m in said(app)), said(app)
        await pilot.press("escape", "escape")
        await pilot.pause(0.3)
        assert intake_open(app)  # a clipboard is not a disk

    on_full_disk(store_dir, monkeypatch, then, call={"what": "クリップボードへ"})


def test_when_space_returns_the_draft_is_written_and_the_form_closes(store_dir, monkeypatch):
    async def then(app, pilot, disk, seen):
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert intake_open(app)
        if not isinstance(app.screen, IntakeScreen):
            await pilot.press("escape")  # the offer to keep the text elsewhere
            await pilot.pause()
        disk.full = False  # space freed (a backup moved away …)
        # written again without a keystroke (the desk retries), and said
        assert await wait_until(pilot, lambda: [d["data"]["memo"] for d in open_drafts(store_dir)]
                                == [CALL["memo"]], timeout=15)
        said_all(app, seen)
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert not intake_open(app)

    seen = on_full_disk(store_dir, monkeypatch, then)
    data = open_drafts(store_dir)[0]["data"]
    assert (data["what"], data["place"], data["reporter"]["name"]) == (CALL["what"], CALL["place"], CALL["rep_name"])
    assert any("下書きを保存しました" in m for m in seen), seen


def test_ctrl_s_saves_once_space_returns(store_dir, monkeypatch):
    async def then(app, pilot, disk, seen):
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        while not isinstance(app.screen, IntakeScreen):
            await pilot.press("escape")
            await pilot.pause()
        disk.full = False
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        assert isinstance(app.screen, SavedScreen)

    on_full_disk(store_dir, monkeypatch, then)
    store = Store.open(store_dir)
    inc = store.incident("2026-0001")
    assert inc.intake["what"] == CALL["what"] and inc.intake["memo"] == CALL["memo"]
    assert store.list_drafts() == []

def note_on_full_disk(store_dir, monkeypatch, then) -> str:
    """An incident's record, its note dialog open (n), the store's disk not full yet: ``await
    then(app, pilot, disk)``. Returns the incident's id."""
    from screens.timeline import NoteScreen, TimelineScreen

    clock = Clock()
    store = Store.open(store_dir, clock=clock)
    inc = store.create_incident(sample_intake(), operator="受付")
    disk = FullDisk(store_dir).install(monkeypatch)

    async def scenario():
        app = make_app(store, clock)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            app.push_screen(TimelineScreen(inc.id))
            await pilot.pause(0.5)
            await pilot.press("n")
            await pilot.pause()
            assert isinstance(app.screen, NoteScreen)
            await then(app, pilot, disk)

    run(scenario())
    return inc.id


def test_a_note_the_full_disk_cannot_take_stays_in_its_dialog(store_dir, monkeypatch):
    """The record's append fails too: the note dialog stays open with the text, says so."""
    from screens.timeline import NoteScreen, TimelineScreen

    seen: list[str] = []

    async def then(app, pilot, disk):
        disk.full = True
        await pilot.press(*"ベンダーに電話した")
        await pilot.pause(0.5)
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        assert isinstance(app.screen, NoteScreen), "the dialog closed with its text on no disk"
        assert app.screen.query_one("#note-text", TextArea).text == "ベンダーに電話した"
        said_all(app, seen)
        disk.full = False
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        assert isinstance(app.screen, TimelineScreen)

    incident_id = note_on_full_disk(store_dir, monkeypatch, then)
    assert [e.text for e in Store.open(store_dir).timeline(incident_id)][-1] == "ベンダーに電話した"
    no_false_draft_claim(seen)
    assert any("記録できませんでした" in m for m in seen), seen



# ---------------------------------------------------------------------------
# Heavy: the disk fills at a random write, Esc / Ctrl+S / Ctrl+O at random moments

CHUNKS = ("今朝9時", "本庁舎3階", "税務課の窓口端末", "画面が真っ暗", "英語の脅迫文", "𩸽𠮷", "内線2301",
          "試験一郎", "折り返しを約束", "ランサムウェアの疑い")
FIELDS = ("found_at", "place", "what", "rep_name", "rep_contact", "memo")


def on_disk_somewhere(store_dir, typed: dict[str, str]) -> bool:
    """Is every field's text in an incident's intake or in an open draft?"""
    store = Store.open(store_dir)
    places = [d["data"] for d in store.list_drafts()]
    places += [store.incident(row["id"]).intake for row in store.list_incidents()]

    def holds(data, wid, text):
        rep = data.get("reporter") or {}
        value = {"found_at": data.get("found_at_text", data.get("found_at")), "rep_name": rep.get("name"),
                 "rep_contact": rep.get("contact")}.get(wid, data.get(wid))
        return (value or "") == text

    return any(all(holds(data, wid, text) for wid, text in typed.items() if text) for data in places)


async def back_to_the_form(app, pilot) -> bool:
    """Close what is over the intake (the offer to keep the text elsewhere); False once the
    intake is saved (its number shown) or gone."""
    for _ in range(5):
        if isinstance(app.screen, SavedScreen) or not intake_open(app):
            return False
        if isinstance(app.screen, IntakeScreen):
            return True
        await pilot.press("escape")
        await pilot.pause()
    raise AssertionError(f"the intake is not reached again: {app.screen_stack}")


@pytest.mark.heavy
@pytest.mark.parametrize("seed", range(40))
def test_full_disk_at_a_random_write_loses_no_typed_text(store_dir, tmp_path, monkeypatch, seed):
    """Calls typed into the intake while the disk fills at a random store write (the 1st to the
    12th after the first intake opens); Esc and Ctrl+S at random moments, a new call after each
    that closed the form. Whenever the form closes, all that was typed in it is on disk; once
    space returns, Ctrl+S saves the last call, every character."""
    rnd = random.Random(seed)
    clock = Clock()
    store = Store.open(store_dir, clock=clock)
    disk = FullDisk(store_dir).install(monkeypatch)
    calls: list[dict[str, str]] = [{}]
    closes = {"escape": 0, "ctrl+s": 0, "refused": 0}
    fills_at = rnd.randint(1, 12)

    async def scenario():
        app = make_app(store, clock)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("ctrl+n")
            await pilot.pause()
            disk.writes, disk.fail_at = 0, fills_at
            for _ in range(rnd.randint(6, 12)):
                if not await back_to_the_form(app, pilot):  # closed: a new call
                    while not intake_open(app) or isinstance(app.screen, SavedScreen):
                        await pilot.press("enter" if isinstance(app.screen, SavedScreen) else "ctrl+n")
                        await pilot.pause()
                    calls.append({})
                typed = calls[-1]
                wid = rnd.choice(FIELDS)
                field = app.screen.query_one(f"#{wid}")
                field.focus()
                await pilot.pause()
                if isinstance(field, TextArea):
                    field.move_cursor(field.document.end)
                else:
                    await pilot.press("end")
                text = rnd.choice(CHUNKS)
                await pilot.press(*text)
                typed[wid] = typed.get(wid, "") + text
                await pilot.pause(rnd.choice((0.0, 0.1, 0.4)))
                if rnd.random() < 0.35:
                    key = rnd.choice(("escape", "ctrl+s"))
                    await pilot.press(key)
                    await pilot.pause(0.3)
                    if not intake_open(app) or isinstance(app.screen, SavedScreen):  # closed: all on a disk
                        assert on_disk_somewhere(store_dir, typed), (seed, key, typed, disk.full)
                        closes[key] += 1
                    else:
                        closes["refused"] += 1
            disk.full, disk.fail_at = False, None  # space comes back: Ctrl+S saves it all
            for _ in range(5):
                if not await back_to_the_form(app, pilot):
                    break
                await pilot.press("ctrl+s")
                await pilot.pause(0.5)
            assert isinstance(app.screen, SavedScreen) or not intake_open(app)

    started = time.monotonic()
    run(scenario())
    for typed in calls:
        assert on_disk_somewhere(store_dir, typed), (seed, typed)
    print(f"seed {seed}: full from store write {fills_at}, {disk.refused} writes refused, {len(calls)} calls, "
          f"{sum(len(v) for c in calls for v in c.values())} characters; closed by Esc {closes['escape']}, "
          f"Ctrl+S {closes['ctrl+s']}; refused to close {closes['refused']}; {time.monotonic() - started:.1f} s")


@pytest.mark.heavy
@pytest.mark.parametrize("seed", range(20))
def test_full_disk_at_a_random_write_loses_no_note(store_dir, monkeypatch, seed):
    """The record's note dialog, the disk filling at a random store write: the dialog closes only
    with its text on the record, and Ctrl+S records it, every character, once space returns."""
    from screens.timeline import NoteScreen, TimelineScreen

    rnd = random.Random(seed)
    typed: list[str] = []
    refused = []

    async def then(app, pilot, disk):
        disk.writes, disk.fail_at = 0, rnd.randint(1, 6)
        for _ in range(rnd.randint(3, 7)):
            text = rnd.choice(CHUNKS)
            await pilot.press(*text)
            typed.append(text)
            await pilot.pause(rnd.choice((0.0, 0.1, 0.4)))
            if rnd.random() < 0.4:
                await pilot.press(rnd.choice(("escape", "ctrl+s")))
                await pilot.pause(0.3)
                if not any(isinstance(s, NoteScreen) for s in app.screen_stack):
                    assert app.store.timeline(app.screen.incident_id)[-1].text == "".join(typed), (seed, typed)
                    return
        disk.full, disk.fail_at = False, None
        refused.append(disk.refused)
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: isinstance(app.screen, TimelineScreen))

    incident_id = note_on_full_disk(store_dir, monkeypatch, then)
    assert Store.open(store_dir).timeline(incident_id)[-1].text == "".join(typed), (seed, typed)
    print(f"seed {seed}: {refused[0] if refused else 0} writes refused, {len(''.join(typed))} characters on the record")


def test_the_palettes_backup_on_a_full_disk_says_so_plainly(store_dir, monkeypatch):
    """バックアップ from the palette ran in a worker whose error nobody saw: on a full disk
    the operator got no answer at all."""
    clock = Clock()
    store = Store.open(store_dir, clock=clock)
    store.create_incident(sample_intake(), operator="受付 花子")
    disk = FullDisk(store_dir).install(monkeypatch)
    seen: list[str] = []

    async def go():
        app = make_app(store, clock)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            disk.full = True
            app.action_backup()
            assert await wait_until(pilot, lambda: any("バックアップできませんでした" in m
                                                       for m in said_all(app, seen)))

    asyncio.run(go())
    message = next(m for m in seen if "バックアップできませんでした" in m)
    assert "ディスクの空きがありません" in message and "[Errno" not in message

"""Quitting, or the terminal closing, keeps the last words typed (issue 14, defect 5).

A draft is written 0.25 s after the first unsaved change. Ctrl+Q, the
palette's 終了, SIGTERM and a closed terminal (SIGHUP) must write what is
pending first: type 「前半」, wait until it is on disk, type 「最後の一文」, quit
at once: the draft holds 前半最後の一文.
"""

from __future__ import annotations

import asyncio
import os
import select

try:  # POSIX only: on Windows the pty tests skip (nothing fails at collection)
    import pty
except ImportError:  # pragma: no cover - Windows
    pty = None
import signal
import time

import pytest
from textual import events
from textual.widgets import TextArea

import screens.intake as intake_screen
from conftest import Clock, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens.intake import IntakeScreen


def drafts_of(store_dir) -> list[str]:
    return [d["data"].get("what", "") for d in Store.open(store_dir).list_drafts()]


async def first_half_on_disk(app, pilot, store_dir) -> None:
    """Open the intake (Ctrl+N), type 「前半」 into 発見した内容 and wait until its draft holds it."""
    await pilot.press("ctrl+n")
    await pilot.pause()
    assert isinstance(app.screen, IntakeScreen)
    app.screen.query_one("#what", TextArea).focus()
    await pilot.press(*"前半")
    assert await wait_until(pilot, lambda: drafts_of(store_dir) == ["前半"])


def run_call(store_dir, monkeypatch, quit_how):
    """前半 typed and on disk, then 最後の一文 typed with no draft write due (the throttle set
    to a minute), then ``quit_how(app, pilot)``. The app must be gone afterwards."""
    clock = Clock()
    store = Store.open(store_dir, clock=clock)
    state = {}

    async def scenario():
        app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await first_half_on_disk(app, pilot, store_dir)
            monkeypatch.setattr(intake_screen, "SAVE_DELAY", 60.0)  # no timer write from here on
            await pilot.press(*"最後の一文")
            await pilot.pause()
            assert app.screen.query_one("#what", TextArea).text == "前半最後の一文"
            assert drafts_of(store_dir) == ["前半"]  # the last words are only on the screen
            await quit_how(app, pilot)
            assert await wait_until(pilot, lambda: not app.is_running, timeout=10)
            state["return_code"] = app.return_code
            state["unsaved"] = app.unsaved_on_exit

    asyncio.run(scenario())
    return state


def test_ctrl_q_writes_the_pending_draft(store_dir, monkeypatch):
    async def ctrl_q(app, pilot):
        await pilot.press("ctrl+q")

    state = run_call(store_dir, monkeypatch, ctrl_q)
    assert (state["return_code"], state["unsaved"]) == (0, [])
    assert drafts_of(store_dir) == ["前半最後の一文"]


def test_ctrl_q_read_together_with_the_last_keys_writes_them_too(store_dir, monkeypatch):
    """As the terminal delivers a fast typist's keys: 最後の一文 and Ctrl+Q in one read, so the
    keys are still on their way to the field when the app reads Ctrl+Q."""
    clock = Clock()
    store = Store.open(store_dir, clock=clock)

    async def scenario():
        app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await first_half_on_disk(app, pilot, store_dir)
            monkeypatch.setattr(intake_screen, "SAVE_DELAY", 60.0)
            for ch in "最後の一文":  # what the driver does with one read: a message per key, no wait
                app.post_message(events.Key(ch, ch))
            app.post_message(events.Key("ctrl+q", None))
            assert await wait_until(pilot, lambda: not app.is_running, timeout=10)

    asyncio.run(scenario())
    assert drafts_of(store_dir) == ["前半最後の一文"]


def test_exit_from_the_command_palette_writes_the_pending_draft(store_dir, monkeypatch):
    async def palette_quit(app, pilot):
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"終了")
        await pilot.pause(0.3)
        await pilot.press("enter")

    run_call(store_dir, monkeypatch, palette_quit)
    assert drafts_of(store_dir) == ["前半最後の一文"]


def test_ctrl_q_from_a_screen_over_the_intake_writes_its_draft(store_dir, monkeypatch):
    async def roster_then_quit(app, pilot):
        await pilot.press("ctrl+r")  # 連絡先名簿 opens over the intake
        await pilot.pause()
        assert not isinstance(app.screen, IntakeScreen)
        await pilot.press("ctrl+q")

    run_call(store_dir, monkeypatch, roster_then_quit)
    assert drafts_of(store_dir) == ["前半最後の一文"]


def test_ctrl_q_with_a_draft_that_cannot_be_written_says_so_and_stays_open_once(store_dir, monkeypatch):
    """The disk refuses (full, removed): the first Ctrl+Q does not close the desk but says
    that the text is only on the screen; a second Ctrl+Q closes it all the same."""

    async def ctrl_q_twice(app, pilot):
        def refuse(*args, **kwargs):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(app.store, "save_draft", refuse)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, IntakeScreen)
        said = [str(n.message) for n in app._notifications]
        assert any("保存できませんでした" in m and "もう一度 Ctrl+Q" in m for m in said), said
        # which text, and the truth about it: 前半 is in the older draft, the rest only on screen
        assert any("受付の入力:" in m and "までの入力は下書きにあります" in m and "この画面にだけあります" in m
                   and "Ctrl+O" in m and "画面にだけあります。もう一度" not in m for m in said), said
        await pilot.press("ctrl+q")

    state = run_call(store_dir, monkeypatch, ctrl_q_twice)
    assert drafts_of(store_dir) == ["前半"]
    assert state["unsaved"] and "No space left on device" in state["unsaved"][0]  # run_app says it on stderr


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="needs a spare POSIX signal")
@pytest.mark.parametrize("handler", ["event loop (POSIX)", "plain handler (what Windows gets)"])
def test_a_closing_signal_writes_the_draft_and_the_old_handler_comes_back(store_dir, monkeypatch, handler):
    """In-process, with SIGUSR1 standing in for SIGTERM / SIGHUP / SIGBREAK: both ways the desk
    catches a closing signal (asyncio's add_signal_handler does not exist on Windows)."""
    import csirt_tui.app as app_module

    monkeypatch.setattr(app_module, "CLOSING_SIGNALS", ("SIGUSR1",))
    if handler.startswith("plain"):
        def not_here(*args, **kwargs):
            raise NotImplementedError

        monkeypatch.setattr(asyncio.SelectorEventLoop, "add_signal_handler", not_here)
    caught = []

    def before(signum, frame):  # what the process had: catches the signal if the desk did not
        caught.append(signum)

    previous = signal.signal(signal.SIGUSR1, before)
    try:
        async def send_signal(app, pilot):
            os.kill(os.getpid(), signal.SIGUSR1)

        state = run_call(store_dir, monkeypatch, send_signal)
        assert signal.getsignal(signal.SIGUSR1) is before  # given back when the desk closed
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert caught == []
    assert state["return_code"] == 128 + signal.SIGUSR1
    assert drafts_of(store_dir) == ["前半最後の一文"]


# ---------------------------------------------------------------------------
# The real app in a pseudo-terminal: SIGTERM, SIGHUP, and the terminal closed


@pytest.mark.skipif(not hasattr(pty, "fork"), reason="needs a POSIX pseudo-terminal (pty): Windows has only ConPTY")
@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP", "terminal closed", "Ctrl+Q in the same read"])
def test_a_signal_or_a_closed_terminal_writes_the_pending_draft(tmp_path, how):
    from test_tui_crash import Terminal, open_drafts, wait_for

    store_dir = tmp_path / "store"
    Store.open(store_dir)
    term = Terminal(store_dir)

    def what():
        return [d["data"].get("what", "") for d in open_drafts(store_dir)]

    closed, status = False, None
    try:
        assert wait_for(lambda: (store_dir / "backups").is_dir() and any((store_dir / "backups").iterdir()),
                        30, term), term.output[-500:]
        term.send("\x0e")  # Ctrl+N
        assert wait_for(lambda: "発見した内容" in term.output.decode("utf-8", "replace"), 15, term), term.output[-800:]
        term.send("\t\t\t")  # 通報の種類 → ① → ② → ③
        term.send("前半")
        assert wait_for(lambda: what() == ["前半"], 10, term), (what(), term.output[-800:])
        mark = len(term.output)
        if how == "Ctrl+Q in the same read":  # a fast typist: the keys and Ctrl+Q read at once
            os.write(term.fd, "最後の一文\x11".encode())
        else:
            os.write(term.fd, "最後の一文".encode())
        # The desk has read the keys once it has drawn them; its draft write is due 0.25 s after
        # the first of them: signal as soon as they are drawn (no polling pause in between).
        end = time.monotonic() + 10
        while how != "Ctrl+Q in the same read" and "最後の一文" not in term.output[mark:].decode("utf-8", "replace"):
            assert time.monotonic() < end, term.output[-800:]
            if select.select([term.fd], [], [], 0.5)[0]:
                term.output += os.read(term.fd, 65536)
        if how == "Ctrl+Q in the same read":
            pass
        elif how == "terminal closed":
            os.close(term.fd)  # the kernel hangs up the pty: SIGHUP to the desk
            closed = True
        else:
            os.kill(term.pid, getattr(signal, how))
        end = time.monotonic() + 20
        status = None
        while time.monotonic() < end:
            pid, status = os.waitpid(term.pid, os.WNOHANG)
            if pid:
                break
            if not closed:
                term.pump(0.1)
            else:
                time.sleep(0.05)
        else:
            pytest.fail(f"the desk did not exit after {how}")
    finally:
        if status is None:
            try:
                os.kill(term.pid, signal.SIGKILL)
                os.waitpid(term.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        if not closed:
            os.close(term.fd)
    assert what() == ["前半最後の一文"]
    if how in ("SIGTERM", "Ctrl+Q in the same read"):  # an orderly exit, the terminal given back as it was
        assert os.WIFEXITED(status), status
        assert b"\x1b[?1049l" in term.output  # left the alternate screen


def test_a_terminal_that_has_gone_does_not_stop_the_desk_from_exiting(store_dir):
    """Writes to a closed terminal fail (EIO): Textual's writer thread died on the first, its queue
    filled, and the desk blocked for ever on a write as it exited (the test above, one run in three).
    Through TerminalOutput the thread lives on and drops what cannot be written."""
    import errno
    import threading

    from textual.drivers._writer_thread import MAX_QUEUED_WRITES, WriterThread

    from csirt_tui.app import TerminalOutput

    class Gone:
        def write(self, text):
            raise OSError(errno.EIO, "Input/output error")

        flush = write

    out = TerminalOutput(Gone())
    writer = WriterThread(out)
    writer.start()
    # what the desk does as it exits: more writes than the queue holds, then stop (which joins)
    exiting = threading.Thread(target=lambda: ([writer.write("\x1b[?1049l") for _ in range(MAX_QUEUED_WRITES * 3)],
                                               writer.stop()), daemon=True)
    exiting.start()
    exiting.join(15)
    assert not exiting.is_alive(), "the desk would hang here"
    assert out.gone and not writer.is_alive()

    app = CsirtDeskApp(Store.open(store_dir), operator="受付 花子", backups=False)

    async def make_driver():  # a driver is made inside the app's event loop
        return app.driver_class(app, debug=False, size=(80, 24))

    driver = asyncio.run(make_driver())
    assert isinstance(driver._file, TerminalOutput)  # the real drivers write through it


def test_a_windows_console_closed_writes_the_pending_draft(store_dir, monkeypatch):
    """Windows' console control handler (CTRL_CLOSE_EVENT) runs on a thread of its own:
    on_console_close, called the way it would be, has the UI thread write the draft and
    waits for it. (The ctypes registration itself can only run on Windows.)"""
    import threading

    async def console_closed(app, pilot):
        box = {}
        thread = threading.Thread(target=lambda: box.setdefault("problems", app.on_console_close()))
        thread.start()
        while thread.is_alive():
            await pilot.pause(0.05)
        assert box["problems"] == []
        assert drafts_of(store_dir) == ["前半最後の一文"]  # on disk before Windows ends the process
        app.exit()

    state = run_call(store_dir, monkeypatch, console_closed)
    assert drafts_of(store_dir) == ["前半最後の一文"]

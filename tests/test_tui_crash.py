"""The real app in a pseudo-terminal: type into the intake, SIGKILL it, restart.

The draft must hold everything typed up to the last half second, and the
next start must offer it and save it as an incident. POSIX only (a pty); on
Windows the kill-mid-write path is covered by test_durability (TerminateProcess).
"""

from __future__ import annotations

import os
import select
import signal
import struct
import sys
import time
from pathlib import Path

from conftest import posix_pty
from csirt_tui.store import Store

try:  # POSIX only: on Windows the import fails and the test is skipped (posix_pty)
    import fcntl
    import pty
    import termios
except ImportError:
    pass

ROOT = Path(__file__).resolve().parents[1]


class Terminal:
    """csirt-desk running in a pty of 120x40."""

    def __init__(self, store_dir: Path) -> None:
        env = dict(os.environ, TERM="xterm-256color", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), CSIRT_DESK_OPERATOR="試験 受付",
                   COLUMNS="120", LINES="40")
        env.pop("TEXTUAL", None)
        pid, fd = pty.fork()
        if pid == 0:  # child
            # as a terminal window starts it: SIGHUP not ignored (the tests run under nohup, it was
            # inherited ignored, and the desk rightly kept it so: test_quit_flush's SIGHUP and
            # closed-terminal cases then waited for an exit that never came)
            signal.signal(signal.SIGHUP, signal.SIG_DFL)
            os.execve(sys.executable, [sys.executable, "-m", "csirt_tui", "--store", str(store_dir)], env)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.pid, self.fd = pid, fd
        self.output = b""

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                try:
                    self.output += os.read(self.fd, 65536)
                except OSError:
                    return

    def send(self, data: str) -> None:
        os.write(self.fd, data.encode("utf-8"))
        self.pump(0.2)

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def new_desk(tmp_path) -> tuple[Path, Terminal]:
    """A new store in ``tmp_path`` and the desk started on it in a pty."""
    store_dir = tmp_path / "store"
    Store.open(store_dir)
    return store_dir, Terminal(store_dir)


def wait_for(predicate, timeout: float, term: Terminal) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        term.pump(0.1)
    return False


def open_drafts(store_dir):
    try:
        return Store.open(store_dir).list_drafts()
    except Exception:
        return []


@posix_pty
def test_sigkill_mid_call_keeps_the_draft_and_the_next_start_offers_it(tmp_path):
    store_dir, term = new_desk(tmp_path)
    try:
        # The app is up when its start-up backup exists.
        assert wait_for(lambda: (store_dir / "backups").is_dir() and any((store_dir / "backups").iterdir()),
                        30, term), term.output[-500:]
        term.pump(0.5)
        term.send("\x0e")  # Ctrl+N: 新規受付
        term.pump(1.0)
        term.send("\t")  # from 通報の種類 to ①いつ
        term.send("今朝9時\r")
        term.send("本庁舎2階 市民課 窓口端末\r")
        term.send("画面が真っ暗になり、英語の脅迫文")
        assert wait_for(lambda: any("英語の脅迫文" in d["data"].get("what", "") for d in open_drafts(store_dir)),
                        15, term), term.output[-800:]
    finally:
        term.kill()  # SIGKILL: no chance to save anything more

    drafts = open_drafts(store_dir)
    assert len(drafts) == 1
    data = drafts[0]["data"]
    assert (data["found_at"], data["place"], data["what"]) == ("今朝9時", "本庁舎2階 市民課 窓口端末",
                                                               "画面が真っ暗になり、英語の脅迫文")

    term = Terminal(store_dir)
    try:
        assert wait_for(lambda: len(list((store_dir / "backups").iterdir())) >= 2, 30, term)
        term.pump(1.0)
        term.send("\r")     # 続きを入力する
        term.pump(1.0)
        term.send("\x13")   # Ctrl+S: 保存
        assert wait_for(lambda: Store.open(store_dir).list_incidents(), 10, term), term.output[-800:]
    finally:
        term.kill()
    store = Store.open(store_dir)
    inc = store.incident(store.list_incidents()[0]["id"])
    assert inc.intake["what"] == "画面が真っ暗になり、英語の脅迫文"
    assert inc.entries[0].operator == "試験 受付"
    assert store.list_drafts() == []

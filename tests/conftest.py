"""Shared fixtures: a fixed clock, a temporary store, and no network at all."""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import socket
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

# Child processes (CLI runs, writers, the app in a pseudo-terminal) get no network
# either: tests/offline/sitecustomize.py refuses it there and logs each attempt in
# NET_LOG, which the no_network fixture checks after every test.
NET_LOG = Path(tempfile.mkdtemp(prefix="csirt-desk-netlog-"))
atexit.register(shutil.rmtree, NET_LOG, True)
os.environ["CSIRT_DESK_NET_LOG"] = str(NET_LOG)
# The operator's settings (the theme) go to a temporary file, never the user's own folder.
os.environ["CSIRT_DESK_SETTINGS"] = str(NET_LOG.with_name(NET_LOG.name + "-settings.json"))
atexit.register(lambda: Path(os.environ["CSIRT_DESK_SETTINGS"]).unlink(missing_ok=True))
# and the parsed stylesheets kept between starts (screens/css_cache.py) to a temporary folder
os.environ["CSIRT_DESK_CSS_CACHE"] = str(NET_LOG.with_name(NET_LOG.name + "-css"))
atexit.register(shutil.rmtree, os.environ["CSIRT_DESK_CSS_CACHE"], True)
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(Path(__file__).with_name("offline")), os.environ.get("PYTHONPATH")) if p)

# ---------------------------------------------------------------------------
# The suite runs on Windows too (issue 13). What only POSIX has is skipped there,
# each kind with its reason; nothing POSIX-only is touched at collection time.

WINDOWS = os.name == "nt"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

posix_modes = pytest.mark.skipif(
    WINDOWS, reason="Windows has no POSIX file modes (0600/0700): the store relies on the user "
                    "profile's ACL there")
chmod_denies = pytest.mark.skipif(
    WINDOWS, reason="chmod on Windows sets only the read-only attribute (ignored on folders, never "
                    "'unreadable'): access is decided by ACLs")
not_root = pytest.mark.skipif(IS_ROOT, reason="root ignores file permissions (the denied path is also "
                                              "tested with an injected PermissionError)")
posix_pty = pytest.mark.skipif(
    WINDOWS, reason="needs a POSIX pseudo-terminal (pty, termios, fcntl): Windows has only ConPTY, "
                    "which the standard library does not expose")
posix_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="Windows has no FIFOs (os.mkfifo)")


def symlink_or_skip(link: Path, target: Path, *, target_is_directory: bool = False) -> None:
    """Make ``link`` → ``target``, or skip: Windows lets only an administrator or a user in
    Developer Mode create symlinks."""
    try:
        link.symlink_to(target, target_is_directory=target_is_directory)
    except (OSError, NotImplementedError) as err:
        if not WINDOWS:
            raise
        pytest.skip(f"creating a symlink on Windows needs Developer Mode or administrator rights ({err})")


TZ = ZoneInfo("Asia/Tokyo")
# A Sunday afternoon, like the examples in the issues.
FIXED_NOW = datetime(2026, 11, 22, 14, 35, tzinfo=TZ)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> datetime:
        self.now = self.now + timedelta(**kw)
        return self.now


def is_loopback(address) -> bool:
    """A numeric loopback address (127.0.0.0/8, ::1) is local IPC, not network: Windows
    has no AF_UNIX socketpair, so ``socket.socketpair()`` (and with it every asyncio event
    loop's self-pipe, hence every Textual test) connects two sockets over 127.0.0.1.
    Names are not resolved here: ``("localhost", 80)`` is refused like any name."""
    import ipaddress

    try:
        return ipaddress.ip_address(address[0]).is_loopback
    except (TypeError, ValueError, IndexError):
        return False


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any attempt to reach the network, in this process or a child, fails the test (the desk works offline).
    Loopback is not network (see ``is_loopback``)."""

    real_connect = socket.socket.connect

    def guarded(self, address, *args, **kwargs):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address):
            raise AssertionError(f"network access attempted: {address!r}")
        return real_connect(self, address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket, "create_connection",
                        lambda *a, **k: (_ for _ in ()).throw(AssertionError(f"network access attempted: {a!r}")))
    monkeypatch.setattr(socket, "getaddrinfo",
                        lambda *a, **k: (_ for _ in ()).throw(AssertionError(f"DNS lookup attempted: {a!r}")))
    for old in NET_LOG.iterdir():
        old.unlink()
    yield
    attempts = [p.read_text(encoding="utf-8") for p in sorted(NET_LOG.iterdir())]
    assert not attempts, "a child process tried to reach the network:\n" + "\n".join(attempts)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store_dir(tmp_path):
    return tmp_path / "store"


@pytest.fixture
def store(store_dir, clock):
    from csirt_tui.store import Store

    return Store.open(store_dir, clock=clock)


def sample_intake(**over):
    base = {
        "received_at": "2026-11-22T14:30:00+09:00",
        "channel": "naisen",
        "reporter_type": None,
        "found_at_text": "14:10",
        "found_at": "2026-11-22T14:10:00+09:00",
        "place": "本庁舎3階 税務課 窓口端末",
        "what": "画面に身代金を要求するメッセージが表示された",
        "memo": "",
        "reporter": {"name": "試験 一郎", "section": "税務課", "contact": "内線2301"},
        "extras": {},
    }
    base.update(over)
    return base


async def wait_until(pilot, predicate, timeout: float = 10.0) -> bool:
    """Let the app run until ``predicate()`` holds (polls; no fixed sleeps that a busy CI outruns)."""
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        await pilot.pause(0.05)
    return predicate()


async def intake_being_built(pilot, app):
    """The intake made ahead, begun now and not built yet (its build under way, its fields not
    there): what Ctrl+N pressed at once after start finds. Returns it."""
    await pilot.pause()
    app.prepare_intake()
    made = app._intake_ahead
    while not made.is_running:
        await asyncio.sleep(0)
    return made


async def open_screen(pilot, app, open_it, screen_type, ready: str | None = None):
    """Open a screen (``open_it()``) once the app is up and wait until it is in front and, with
    ``ready``, holds that selector; returns it."""
    await pilot.pause()
    open_it()
    assert await wait_until(pilot, lambda: isinstance(app.screen, screen_type)
                            and (ready is None or bool(app.screen.query(ready))))
    await pilot.pause()
    return app.screen


def cli_runner(tmp_path, capture, monkeypatch):
    """``run(*argv, stdin=None) -> (exit code, stdout, stderr)`` for ``csirt-desk`` on a
    temporary store (``run.store``). With ``capsysbinary`` stdout comes as bytes."""
    import io
    import sys

    from csirt_tui.cli import main

    store = tmp_path / "s"
    monkeypatch.setenv("CSIRT_DESK_OPERATOR", "試験 操作者")

    def run(*argv, stdin=None):
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(["--store", str(store), *argv])
        out, err = capture.readouterr()
        return code, out, err.decode("utf-8") if isinstance(err, bytes) else err

    run.store = store
    return run

"""Shared fixtures: a fixed clock, a temporary store, and no network at all."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

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


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any attempt to reach the network fails the test (the desk works offline)."""

    real_connect = socket.socket.connect

    def guarded(self, address, *args, **kwargs):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise AssertionError(f"network access attempted: {address!r}")
        return real_connect(self, address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket, "create_connection",
                        lambda *a, **k: (_ for _ in ()).throw(AssertionError(f"network access attempted: {a!r}")))
    monkeypatch.setattr(socket, "getaddrinfo",
                        lambda *a, **k: (_ for _ in ()).throw(AssertionError(f"DNS lookup attempted: {a!r}")))
    yield


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

"""The bundle dialog's typed text (the reason not to encrypt, a path of one's own) is a draft
like every dialog's: it was not (Esc closed it at once, a quit lost it). Passwords are never in it."""

from __future__ import annotations

import asyncio

from textual.widgets import Input

from conftest import Clock, sample_intake, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens.exchange import BundleScreen
from test_export_drafts import REASON, esc_then_quit_then_offered


def _open(store_dir):
    store = Store.open(store_dir, clock=Clock())
    store.create_incident(sample_intake(), operator="受付 花子")
    return store


async def _bundle_screen(app, pilot):
    app.open_bundle("export")
    assert await wait_until(pilot, lambda: isinstance(app.screen, BundleScreen) and app.screen.query("#bundle-waive"))
    await pilot.pause(0.2)
    return app.screen


def test_esc_asks_before_the_typed_reason_is_discarded_and_a_quit_keeps_it(store_dir):
    _open(store_dir)
    esc_then_quit_then_offered(store_dir, lambda app: app.open_bundle("export"), BundleScreen,
                               "#bundle-password", "#bundle-waive", size=(80, 24))


def test_a_bundle_written_closes_its_draft(store_dir, tmp_path):
    store = _open(store_dir)

    async def go():
        app = CsirtDeskApp(store, operator="受付 花子", clock=Clock(), backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            screen = await _bundle_screen(app, pilot)
            screen.query_one("#bundle-path", Input).value = str(tmp_path / "t.bundle")
            screen.query_one("#bundle-waive", Input).value = REASON
            await pilot.pause(0.5)
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: not isinstance(app.screen, BundleScreen), timeout=60)

    asyncio.run(go())
    assert (tmp_path / "t.bundle").exists()
    assert Store.open(store_dir).list_drafts(kind="form") == []
    assert [d["status"] for d in Store.open(store_dir).list_drafts(kind="form", status="saved")] == ["saved"]
    assert Store.open(store_dir).list_exports()[-1]["waive_reason"] == REASON

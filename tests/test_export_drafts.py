"""The export dialog's typed text (the reason not to encrypt, a path of one's own) is a draft
like every dialog's (issue 14, defect 4): Esc discarded it without asking, a quit or a crash
lost it. Passwords are never in it."""

from __future__ import annotations

import asyncio

from textual.widgets import Input

from conftest import Clock, sample_intake, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens.export import ExportScreen
from screens.form import DraftOfferScreen

REASON = "庁内の施錠された端末でのみ扱うため 𩸽"


def _open(store_dir):
    store = Store.open(store_dir, clock=Clock())
    inc = store.create_incident(sample_intake(), operator="受付 花子")
    return store, inc.id


async def _export_screen(app, pilot, incident_id):
    app.open_export(incident_id)
    assert await wait_until(pilot, lambda: isinstance(app.screen, ExportScreen) and app.screen.query("#export-waive"))
    await pilot.pause(0.2)
    return app.screen


def esc_then_quit_then_offered(store_dir, open_dialog, dialog, password: str, waive: str, size=(100, 30)):
    """Type a password and REASON in a dialog (``open_dialog(app)``, a ``dialog`` screen), Esc
    once (it stays), quit: the reason is a draft, the password is not; opened again the draft
    is offered back, and two Esc discard it. Shared by every dialog with a reason not to encrypt."""
    seen = {}

    async def first():
        app = CsirtDeskApp(Store.open(store_dir, clock=Clock()), operator="受付 花子", clock=Clock(), backups=False)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            open_dialog(app)
            assert await wait_until(pilot, lambda: isinstance(app.screen, dialog) and app.screen.query(waive))
            await pilot.pause(0.2)
            app.screen.query_one(password, Input).value = "秘密のパスワード"
            app.screen.query_one(waive, Input).value = REASON
            await pilot.pause(0.5)
            await pilot.press("escape")
            await pilot.pause()
            seen["after_one_esc"] = isinstance(app.screen, dialog)
            app.exit()

    asyncio.run(first())
    assert seen["after_one_esc"]
    drafts = Store.open(store_dir).list_drafts(kind="form")
    assert [d["data"]["values"]["waive"] for d in drafts] == [REASON]
    assert "秘密のパスワード" not in str(drafts)  # never in a draft

    async def again():
        app = CsirtDeskApp(Store.open(store_dir, clock=Clock()), operator="受付 花子", clock=Clock(), backups=False)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            open_dialog(app)
            assert await wait_until(pilot, lambda: isinstance(app.screen, DraftOfferScreen))
            await pilot.press("enter")  # 続きを入力
            assert await wait_until(pilot, lambda: isinstance(app.screen, dialog))
            await pilot.pause(0.2)
            seen["offered"] = app.screen.query_one(waive, Input).value
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("escape")  # the second Esc discards
            assert await wait_until(pilot, lambda: not isinstance(app.screen, dialog))

    asyncio.run(again())
    assert seen["offered"] == REASON
    assert Store.open(store_dir).list_drafts(kind="form") == []


def test_esc_asks_before_the_typed_reason_is_discarded_and_a_quit_keeps_it(store_dir):
    _, incident_id = _open(store_dir)
    esc_then_quit_then_offered(store_dir, lambda app: app.open_export(incident_id), ExportScreen,
                               "#export-password", "#export-waive")


def test_an_export_done_closes_its_draft(store_dir, tmp_path):
    store, incident_id = _open(store_dir)

    async def go():
        app = CsirtDeskApp(store, operator="受付 花子", clock=Clock(), backups=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            screen = await _export_screen(app, pilot, incident_id)
            screen.query_one("#export-path", Input).value = str(tmp_path / "r.pdf")
            screen.query_one("#export-waive", Input).value = REASON
            await pilot.pause(0.5)
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: not isinstance(app.screen, ExportScreen), timeout=60)

    asyncio.run(go())
    assert (tmp_path / "r.pdf").exists()
    assert Store.open(store_dir).list_drafts(kind="form") == []
    assert [d["status"] for d in Store.open(store_dir).list_drafts(kind="form", status="saved")] == ["saved"]

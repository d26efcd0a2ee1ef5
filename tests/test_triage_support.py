"""つくば 4(2)②(I)(II): a vendor or an expert asked for help already during triage (issue 16)."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import Input, TextArea

from conftest import open_screen, sample_intake, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.response import NotificationError, notification_state, request_support
from csirt_tui.store import Store
from screens.form import FormScreen
from screens.triage import TriageScreen

OP = "試験 花子"


@pytest.fixture
def tsukuba(tmp_path, clock):
    return Store.open(tmp_path / "tsukuba", profile="tsukuba", clock=clock)


def test_a_request_during_triage_is_a_support_thread(tsukuba):
    store = tsukuba
    inc = store.create_incident(sample_intake(), operator=OP)
    with pytest.raises(NotificationError):
        request_support(store, inc.id, "police", operator=OP, reason="analysis", note="x")
    with pytest.raises(NotificationError):
        request_support(store, inc.id, "vendor", operator=OP, reason="analysis", note=" ")
    out = request_support(store, inc.id, "vendor", operator=OP, reason="analysis", note="FW のログを見てほしい")
    assert len(out) == 1 and out[0].data["stage"] == "triage" and out[0].data["source"] == "つくば 4(2)②(I)"
    out = request_support(store, inc.id, "experts", operator=OP, reason="priority", note="優先度の判断",
                          means="電話", person="専門家 A")
    assert len(out) == 2
    rows = notification_state(store.profile, store.incident(inc.id))
    assert [(r["label"], r["purpose_label"], r["status_label"]) for r in rows] == [
        ("外部委託事業者", "技術的支援依頼", "未連絡"), ("外部の専門家", "技術的支援依頼", "連絡済み")]
    assert "優先順位の判断が困難" in rows[1]["reason"]


def test_other_profiles_have_no_such_request(store):
    inc = store.create_incident(sample_intake(), operator=OP)
    with pytest.raises(NotificationError):
        request_support(store, inc.id, "vendor", operator=OP, reason="analysis", note="x")


async def support_form(pilot, app, incident_id: str, note: str) -> None:
    """The triage of ``incident_id``, F5, and ``note`` typed as what is asked."""
    await open_screen(pilot, app, lambda: app.open_triage(incident_id), TriageScreen)
    await pilot.press("f5")
    assert await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
    app.screen.query_one("#f-note", TextArea).text = note


def test_f5_on_the_triage_screen_records_it(tsukuba, clock):
    store = tsukuba
    inc = store.create_incident(sample_intake(), operator=OP)

    async def scenario():
        app = CsirtDeskApp(store, operator=OP, clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await support_form(pilot, app, inc.id, "[bold]FW のログ")
            app.screen.query_one("#f-means", Input).value = "電話"
            app.screen.query_one("#f-person", Input).value = "保守 担当"
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
            rows = notification_state(store.profile, store.incident(inc.id))
            assert [(r["party"], r["purpose"], r["status"]) for r in rows] == [("vendor", "support", "done")]
            assert rows[0]["said"] == "[bold]FW のログ"

    asyncio.run(scenario())


def test_a_support_request_typed_and_left_reopens_from_its_draft(tsukuba, clock):
    from screens.incident import dialog_drafts_of, reopen_draft

    store = tsukuba
    inc = store.create_incident(sample_intake(), operator=OP)

    async def scenario():
        app = CsirtDeskApp(store, operator=OP, clock=clock, backups=False)
        async with app.run_test(size=(120, 30)) as pilot:
            await support_form(pilot, app, inc.id, "FW のログ")
            assert await wait_until(pilot, lambda: bool(dialog_drafts_of(store, inc.id)))
            draft = dialog_drafts_of(store, inc.id)[0]
            app.pop_screen()
            app.pop_screen()
            await pilot.pause()
            reopen_draft(app, draft)
            # the dialog is opened again where it was typed, and offers the text back; the test
            # waits until the text is on screen (ending while the form was still being built
            # once crashed its on_mount at the quit)
            # (on screen: the offer's text is set as it mounts, a moment after it is in the DOM)
            assert await wait_until(pilot, lambda: type(app.screen).__name__ == "DraftOfferScreen" and
                                    app.screen.query("#offer-text") and
                                    "FW のログ" in str(app.screen.query_one("#offer-text").render()))
            await pilot.press("enter")  # 続きを書く: the form comes back with what was typed
            assert await wait_until(pilot, lambda: isinstance(app.screen, FormScreen) and
                                    app.screen.query("#f-note") and
                                    app.screen.query_one("#f-note", TextArea).text == "FW のログ")

    asyncio.run(scenario())

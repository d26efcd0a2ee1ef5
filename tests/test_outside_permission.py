"""水戸 3(2)ケ(イ): giving 機密性2+ material outside needs the 情報セキュリティ管理者's permission;
who permitted it is on the record and in 報告様式1 section 7 (issue 16)."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import Input, Static

from conftest import open_screen, sample_intake, wait_until
from csirt_tui import outside
from csirt_tui.app import CsirtDeskApp
from csirt_tui.report.content import form1_content
from csirt_tui.report.export import export_form1
from csirt_tui.report.pdfkit import ReportError
from csirt_tui.response import NotificationError, add_notification, update_notification
from csirt_tui.store import Store
from csirt_tui.triage import Triage, record_triage
from screens.export import ExportScreen
from test_report_form1 import pypdf_pages, squash

OP = "試験 花子"


def mito(tmp_path, clock):
    store = Store.open(tmp_path / "mito", profile="mito", clock=clock)
    inc = store.create_incident(sample_intake(), operator=OP)
    record_triage(store, inc.id, Triage(type_id="cyber", ticked=["L1.1"]), operator=OP)
    return store, inc.id


def section7(store, iid, clock) -> list[str]:
    form = form1_content(store.profile, store.incident(iid), clock())
    return next(s for s in form.sections if s.fill == "external").parts[0].auto


def test_a_notification_of_an_outside_body_needs_the_permission(tmp_path, clock):
    store, iid = mito(tmp_path, clock)
    assert outside.needed(store.profile, store.incident(iid))  # the form's default is 機密性2
    add_notification(store, iid, "police", operator=OP, reason="被害相談")
    with pytest.raises(NotificationError) as err:
        update_notification(store, iid, "police", "done", operator=OP, means="電話", person="生活安全課",
                            said="被害の状況")
    assert "情報セキュリティ管理者の許可" in str(err.value) and "水戸 3(2)ケ(イ)" in str(err.value)
    entry = update_notification(store, iid, "police", "done", operator=OP, means="電話", person="生活安全課",
                                said="被害の状況", permitted_by="管理 一郎")
    assert entry.data["permitted_by"] == "管理 一郎"
    assert any("外部への提供の許可: 管理 一郎" in line for line in section7(store, iid, clock))
    # a role inside the organisation needs none
    update_notification(store, iid, "sec_chief", "done", operator=OP, means="内線", person="責任者", said="報告")


def test_a_report_given_outside_records_who_permitted_it(tmp_path, clock):
    store, iid = mito(tmp_path, clock)
    with pytest.raises(ReportError) as err:
        export_form1(store, iid, tmp_path / "a.pdf", operator=OP, waive_reason="試験", recipient="総務省")
    assert "許可" in str(err.value)
    assert not (tmp_path / "a.pdf").exists()
    export_form1(store, iid, tmp_path / "b.pdf", operator=OP, waive_reason="試験", recipient="総務省",
                 permitted_by="管理 一郎")
    given = outside.permissions(store.incident(iid))
    assert [(p["recipient"], p["permitted_by"], p["classification"]) for p in given] == [("総務省", "管理 一郎", "機密性2")]
    text = squash("\n".join(pypdf_pages(tmp_path / "b.pdf")))
    assert squash("外部への提供の許可: 総務省へ 報告様式1（発生報告）（機密性2）、情報セキュリティ管理者 管理 一郎 が許可") in text
    # a report kept inside (no recipient) needs none
    export_form1(store, iid, tmp_path / "c.pdf", operator=OP, waive_reason="試験")


def test_profiles_without_the_rule_ask_nothing(store):
    inc = store.create_incident(sample_intake(), operator=OP)
    assert not outside.needed(store.profile, store.incident(inc.id))


def test_the_export_dialog_asks_for_the_permission(tmp_path, clock):
    store, iid = mito(tmp_path, clock)

    async def scenario():
        app = CsirtDeskApp(store, operator=OP, clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_screen(pilot, app, lambda: app.open_export(iid), ExportScreen, "#export-recipient")
            assert screen.query_one("#export-outside-box").display
            await pilot.pause()
            # at 80x24 the box was 0 lines high (a Vertical is 1fr: nothing left of the scrolling
            # dialog), its fields never on screen: Tab moved the focus into them, the text typed was unseen
            assert screen.query_one("#export-outside-box").outer_size.height >= 4
            assert [screen.query_one(w).size.height for w in ("#export-recipient", "#export-permitted")] == [1, 1]
            screen.query_one("#export-recipient", Input).value = "総務省"
            screen.query_one("#export-waive", Input).value = "試験"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert "許可した者を入力してください" in str(screen.query_one("#export-message", Static).render())
            screen.query_one("#export-permitted", Input).value = "管理 一郎"
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: outside.permissions(store.incident(iid)), timeout=30)

    asyncio.run(scenario())

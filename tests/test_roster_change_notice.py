"""大崎 3条(2): when the roster's contacts change, the 県 and the 指定情報処理機関 must be told
quickly: the desk prompts and records the report (issue 16)."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import Input, Static, TextArea

from conftest import open_screen, wait_until
from csirt_tui import roster as rc
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens.form import FormScreen
from screens.roster import RosterScreen

OP = "試験 花子"


@pytest.fixture
def osaki(tmp_path, clock):
    store = Store.open(tmp_path / "osaki", profile="osaki", clock=clock)
    rc.add_person(store, {"name": "住基 太郎", "kana": "じゅうき たろう", "role": "jyuki_staff", "extension": "3001",
                          "weekday": True}, operator=OP)
    rc.add_person(store, {"name": "別の 人", "kana": "べつの ひと", "role": "sys_staff", "extension": "3002"},
                  operator=OP)
    return store


def test_a_contact_change_is_owed_to_both_bodies_until_reported(osaki, clock):
    store = osaki
    first = rc.change_notices(store)  # the additions themselves are changes to report
    assert [p["party"] for p in first] == ["miyagi", "jlis"]
    for p in first:
        rc.record_change_notice(store, p["party"], operator=OP, means="電話", person="担当", said="名簿を報告")
    assert rc.change_notices(store) == []
    people = {p["name"]: p for p in rc.list_people(store)}
    rc.update_person(store, people["別の 人"]["doc_id"], {"mobile": "090-0000-0000"}, operator=OP)
    assert rc.change_notices(store) == []  # not a 住基ネット担当者
    rc.update_person(store, people["住基 太郎"]["doc_id"], {"absent": True}, operator=OP)
    assert rc.change_notices(store) == []  # not a contact
    rc.update_person(store, people["住基 太郎"]["doc_id"], {"mobile": "090-1111-2222"}, operator=OP)
    owed = rc.change_notices(store)
    assert [p["label"] for p in owed] == ["宮城県", "指定情報処理機関"]
    assert owed[0]["changes"][0]["fields"] == ["携帯"]
    assert "宮城県・指定情報処理機関へ報告してください（大崎 3条(2)" in rc.change_notice_text(store)
    with pytest.raises(rc.RosterError):
        rc.record_change_notice(store, "miyagi", operator=OP, means="", person="", said="")
    rc.record_change_notice(store, "miyagi", operator=OP, means="電話", person="県 担当", said="携帯の変更")
    assert [p["party"] for p in rc.change_notices(store)] == ["jlis"]
    notices = store.read_roster()["notices"]
    assert len(notices) == 3 and notices["3"]["said"] == "携帯の変更" and notices["3"]["source"] == "大崎 3条(2)"
    assert store.verify().ok


def test_other_profiles_owe_nothing(store):
    rc.add_person(store, {"name": "試験 一樹", "kana": "しけん", "role": "csirt_manager", "extension": "2141"},
                  operator=OP)
    assert rc.change_notices(store) == []


def test_the_roster_prompts_and_records_the_report(osaki, clock):
    store = osaki

    async def scenario():
        app = CsirtDeskApp(store, operator=OP, clock=clock, backups=False)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+r")
            assert await wait_until(pilot, lambda: isinstance(app.screen, RosterScreen))
            await pilot.pause()
            status = str(app.screen.query_one("#roster-status", Static).render())
            assert "宮城県・指定情報処理機関へ報告してください" in status
            await pilot.press("n")
            assert await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
            form = app.screen
            assert "住基 太郎" in form.query_one("#f-said", TextArea).text
            form.query_one("#f-person", Input).value = "県 市町村課"
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: [p["party"] for p in rc.change_notices(store)] == ["jlis"])

    asyncio.run(scenario())


@pytest.mark.parametrize("profile,shown", [("osaki", True), ("mutsu", False), ("tsukuba", False), ("mito", False)])
def test_the_change_notice_key_only_where_the_profile_has_the_rule(tmp_path, clock, profile, shown):
    """n (変更の報告) is a duty of 大崎 3条(2) only: the roster of another profile does not offer it
    (its footer, at a width where every key fits, and the palette of its screen's keys)."""
    store = Store.open(tmp_path / profile, profile=profile, clock=clock)

    async def scenario():
        app = CsirtDeskApp(store, operator=OP, clock=clock, backups=False)
        async with app.run_test(size=(220, 30)) as pilot:
            await open_screen(pilot, app, app.action_roster, RosterScreen)
            active = {b.action for _, b, enabled, _ in app.screen.active_bindings.values() if enabled}
            assert ("change_notice" in active) is shown
            footer = " ".join(str(k.render()) for k in app.screen.query("FooterKey"))
            assert ("変更の報告" in footer) is shown, footer

    asyncio.run(scenario())


def test_the_summary_lists_the_reports_of_its_period_and_who_is_still_owed(osaki, clock, store):
    """The duty shows on paper: the summary (for 大崎, セキュリティ統括責任者向け) lists the reports of
    the contacts' changes made in its period, and who must still be told; other profiles have no such part."""
    import io
    from datetime import timedelta

    from pypdf import PdfReader

    from csirt_tui.report.pdfkit import find_font
    from csirt_tui.report.summary import build_summary, summary_stats

    rc.record_change_notice(osaki, "miyagi", operator=OP, means="電話", person="県 市町村課 <b>担当</b>",
                            said="住基ネット担当者 2 名の追加（内線 3001・3002）")
    day = clock.now.date()
    stats = summary_stats(osaki, day - timedelta(days=30), day)
    assert [(n["party"], n["label"], n["person"]) for n in stats.change_notices] == [
        ("miyagi", "宮城県", "県 市町村課 <b>担当</b>")]
    assert "指定情報処理機関へ報告してください（大崎 3条(2)" in stats.change_pending
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(build_summary(stats, find_font()))).pages)
    flat = "".join(text.split())
    assert "9連絡先の変更の報告（大崎3条(2)）" in flat
    assert "宮城県" in flat and "県市町村課<b>担当</b>" in flat and "住基ネット担当者2名の追加" in flat
    assert "指定情報処理機関へ報告してください" in flat
    earlier = summary_stats(osaki, day - timedelta(days=60), day - timedelta(days=31))
    assert earlier.change_notices == []
    assert summary_stats(store, day - timedelta(days=30), day).change_notice_rule is None  # むつ

"""The phone desk (Pilot): a whole call typed in Japanese, drafts, hostile text, hours."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from textual.widgets import DataTable, Input, Static, TextArea

from conftest import TZ, Clock, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens.intake import IntakeScreen, SavedScreen

MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=TZ)   # an ordinary weekday morning
HOLIDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # 勤労感謝の日 (Monday)


def make_app(store, clock):
    return CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)


async def type_text(pilot, text: str) -> None:
    for ch in text:
        if ch == "\n":
            await pilot.press("enter")
        elif ch == " ":
            await pilot.press("space")
        else:
            await pilot.press(ch)


def run(coro):
    asyncio.run(coro)


def test_a_whole_call_typed_and_saved(store_dir):
    clock = Clock(MONDAY_10)
    store = Store.open(store_dir, clock=clock)
    keys = []

    async def scenario():
        app = make_app(store, clock)
        async with app.run_test(size=(120, 50)) as pilot:
            await pilot.pause()

            async def key(*names):
                keys.extend(names)
                await pilot.press(*names)

            await key("ctrl+n")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, IntakeScreen)
            assert screen.query_one("#received_at", Input).value == "2026-11-16 10:00"  # stamped on open
            assert screen.query_one("#out-of-hours", Static) if screen.query("#out-of-hours") else True
            await key("enter", "down", "enter", "tab")  # 通報の種類: 職員等からの通報
            await type_text(pilot, "今朝9時")
            await pilot.pause()
            assert "2026年11月16日(月) 09:00" in str(screen.query_one("#found_at-preview", Static).render())
            await key("enter")
            await type_text(pilot, "本庁舎3階 税務課 窓口端末")
            await key("enter")
            await type_text(pilot, "画面に英語の文章が出て\nファイルが開けない")
            await key("tab")
            await type_text(pilot, "試験 一郎")
            await key("enter")
            await type_text(pilot, "税務課")
            await key("enter")
            await type_text(pilot, "内線2301")
            await pilot.pause()
            strip = str(screen.query_one("#checklist", Static).render())
            assert "✘" not in strip and strip.count("✔") == 4
            await key("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, SavedScreen)
            assert app.screen.incident_id == "2026-0001"
            await pilot.press("enter")  # back to the dashboard
            await pilot.pause()
            table = app.screen.query_one("#incidents", DataTable)
            assert [str(k.value) for k in table.rows] == ["2026-0001"]
            assert "画面に英語の文章が出て" in str(table.get_row("2026-0001")[-1])

    run(scenario())
    inc = store.incident("2026-0001")
    first = inc.entries[0]
    assert (first.kind, first.operator) == ("intake", "受付 花子")
    it = first.data
    assert it["found_at_text"] == "今朝9時" and it["found_at"] == "2026-11-16T09:00:00+09:00"
    assert it["place"] == "本庁舎3階 税務課 窓口端末"
    assert it["what"] == "画面に英語の文章が出て\nファイルが開けない"
    assert it["reporter"] == {"name": "試験 一郎", "section": "税務課", "contact": "内線2301"}
    assert (it["channel"], it["reporter_type"]) == ("naisen", "staff")
    assert it["received_at"] == "2026-11-16T10:00:00+09:00"
    assert "①事象を発見した日時（いつ）: 今朝9時" in first.text
    assert inc.missing == []
    assert store.list_drafts() == []  # the draft became the incident
    assert len(keys) <= 12, keys  # non-text keystrokes from "new" to saved, for a complete card


def test_draft_is_saved_while_typing_and_offered_again(store_dir):
    clock = Clock(MONDAY_10)
    store = Store.open(store_dir, clock=clock)

    async def first_session():
        app = make_app(store, clock)
        async with app.run_test(size=(120, 50)) as pilot:
            await pilot.press("ctrl+n")
            await pilot.pause()
            app.screen.query_one("#found_at", Input).focus()
            await type_text(pilot, "さっき")
            # on disk without leaving the field (the 0.5 s figure is measured by bench/intake.py)
            assert await wait_until(pilot, lambda: [d["data"]["found_at"] for d in store.list_drafts()] == ["さっき"])
            await type_text(pilot, " 10時前")
            assert await wait_until(pilot, lambda: store.list_drafts()[0]["data"]["found_at"] == "さっき 10時前")
            await pilot.press("escape")  # leave: the draft stays
            await pilot.pause()
            assert app.screen.query_one("#drafts", DataTable).row_count == 1

    async def second_session():
        app = make_app(store, clock)
        async with app.run_test(size=(120, 50)) as pilot:
            await pilot.pause()
            from screens.resume import ResumeDraftScreen

            assert isinstance(app.screen, ResumeDraftScreen)
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, IntakeScreen)
            assert app.screen.query_one("#found_at", Input).value == "さっき 10時前"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, SavedScreen)

    run(first_session())
    run(second_session())
    inc = store.incident("2026-0001")
    assert inc.intake["found_at_text"] == "さっき 10時前"
    assert inc.intake["found_at"] is None and "found_at" in inc.intake["time_errors"]  # kept as typed
    assert inc.missing == ["place", "what", "reporter"]
    assert store.list_drafts() == []


def test_save_right_after_typing_keeps_the_last_keys(store_dir):
    clock = Clock(MONDAY_10)
    store = Store.open(store_dir, clock=clock)

    async def scenario():
        app = make_app(store, clock)
        async with app.run_test(size=(120, 50)) as pilot:
            await pilot.press("ctrl+n")
            await pilot.pause()
            app.screen.query_one("#place", Input).focus()
            await type_text(pilot, "別館1階")
            await pilot.press("ctrl+s")  # before the draft throttle fired
            await pilot.pause()
            assert isinstance(app.screen, SavedScreen)

    run(scenario())
    assert store.incident("2026-0001").intake["place"] == "別館1階"


HOSTILE = {
    "place": "[bold red]x[/]",
    "rep_name": "[link=file:///etc/passwd]y[/link]",
    "rep_section": "\x1b]52;c;SGVsbG8=\x07",
    "rep_contact": "\ud800 \u202e逆 [@click=app.quit]押す[/]",
    "found_at": "[/]",
}


def test_hostile_text_in_every_field_is_shown_literally_and_stored_verbatim(store_dir):
    clock = Clock(MONDAY_10)
    store = Store.open(store_dir, clock=clock)
    paste = ("長い貼り付け " * 10_000)[:100_000]

    async def scenario():
        app = make_app(store, clock)
        async with app.run_test(size=(120, 50)) as pilot:
            await pilot.press("ctrl+n")
            await pilot.pause()
            screen = app.screen
            for wid, text in HOSTILE.items():
                screen.query_one(f"#{wid}", Input).value = text
            screen.query_one("#what", TextArea).text = "[bold]太字?[/]\n" + paste
            screen.query_one("#memo", TextArea).text = "<img src=\"/etc/passwd\"/> <para"
            await pilot.pause(0.4)
            preview = str(screen.query_one("#found_at-preview", Static).render())
            assert preview.startswith("✘")  # an unreadable time is said, not crashed on
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, SavedScreen)
            await pilot.press("enter")
            await pilot.pause()
            table = app.screen.query_one("#incidents", DataTable)
            summary = str(table.get_row("2026-0001")[-1])
            assert "[bold]太字?[/]" in summary
            assert app.is_running  # [@click=app.quit] was text, not an action

    run(scenario())
    it = store.incident("2026-0001").intake
    assert it["place"] == HOSTILE["place"]
    assert it["reporter"] == {"name": HOSTILE["rep_name"], "section": HOSTILE["rep_section"],
                              "contact": HOSTILE["rep_contact"]}
    assert it["found_at_text"] == "[/]"
    assert it["what"] == "[bold]太字?[/]\n" + paste
    assert it["memo"] == "<img src=\"/etc/passwd\"/> <para"
    assert Store.open(store_dir, clock=clock).verify().ok


def test_out_of_hours_banner_shows_the_duty_contacts(store_dir):
    for when, expect in ((MONDAY_10, False), (HOLIDAY_10, True),
                         (datetime(2026, 11, 16, 18, 0, tzinfo=TZ), True)):
        clock = Clock(when)
        store = Store.open(store_dir, clock=clock)
        if not store.list_people():
            store.add_person({"name": "当番 太郎", "role": "csirt_chief", "mobile": "090-0000-0001",
                              "night": True, "holiday": True}, operator="setup")
            store.add_person({"name": "平日 のみ", "role": "handler", "mobile": "090-0000-0002",
                              "night": False, "holiday": False}, operator="setup")

        async def scenario():
            app = make_app(store, clock)
            async with app.run_test(size=(120, 50)) as pilot:
                await pilot.press("ctrl+n")
                await pilot.pause()
                banner = app.screen.query_one("#out-of-hours", Static)
                assert banner.display is expect, when  # always there, shown out of hours
                if expect:
                    text = str(banner.render())
                    assert "当番 太郎 090-0000-0001" in text and "平日 のみ" not in text

        run(scenario())


def test_dashboard_filter_and_row_cap(store_dir):
    from csirt_tui.demo import build_large
    from screens.dashboard import MAX_ROWS

    clock = Clock(MONDAY_10)
    store = Store.open(store_dir, clock=clock)
    build_large(store, incidents=600, entries=2)
    special = store.create_incident({"what": "サーバ室の空調が停止", "place": "別館B1 サーバ室",
                                     "received_at": "2026-11-16T09:00:00+09:00"}, operator="op")

    async def scenario():
        app = make_app(store, clock)
        async with app.run_test(size=(120, 50)) as pilot:
            await pilot.pause()
            table = app.screen.query_one("#incidents", DataTable)
            assert table.row_count == MAX_ROWS
            await pilot.press("slash")
            await type_text(pilot, "空調 別館")
            await pilot.pause()
            assert [str(k.value) for k in table.rows] == [special.id]
            await pilot.press("escape")
            await pilot.pause()
            assert table.row_count == MAX_ROWS
            other = Store.open(store_dir, clock=clock)  # another instance writes
            new = other.create_incident({"what": "別の端末から受付"}, operator="other")
            # not yet triaged: at the top, within a poll or two
            assert await wait_until(pilot, lambda: new.id in [str(k.value) for k in table.rows][:2])

    run(scenario())


def test_going_back_to_a_filled_field_and_typing_adds_to_it(store_dir):
    """Textual's Input selects its text when focused: Shift+Tab back to (2) どこで and typing
    replaced the place typed before ("本庁舎3階" became "税務課")."""
    clock = Clock(MONDAY_10)
    store = Store.open(store_dir, clock=clock)

    async def scenario():
        app = make_app(store, clock)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("ctrl+n")
            await pilot.pause()
            app.screen.query_one("#place").focus()
            await pilot.pause()
            await pilot.press(*"本庁舎3階", "tab", "shift+tab", *" 税務課")
            await pilot.pause()
            assert app.screen.query_one("#place").value == "本庁舎3階 税務課"

    asyncio.run(scenario())


@pytest.mark.parametrize("profile", ["mutsu", "mito", "osaki", "tsukuba"])
def test_an_open_dropdown_draws_every_choice_whole_at_80x24(store_dir, profile):
    """Textual cuts each line at every widget's edge: 「庁内システム等からのアラート」 over the
    label 「(1)事象を発見した日時（いつ）」 was drawn 「庁内システム等か  のアラート」 (its ら fell on
    the label's edge; found walking a call in tmux at 80x24)."""
    from csirt_tui.cells import narrow
    from screen_walk import drawn

    clock = Clock(MONDAY_10)
    store = Store.open(store_dir, clock=clock, profile=profile)

    async def scenario():
        app = make_app(store, clock)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("ctrl+n")
            await pilot.pause()
            await pilot.press("enter")  # 通報の種類, open
            await pilot.pause(0.3)
            text = drawn(app).text
            joined = "".join(text.split())  # a long choice folds onto a second line
            for source in store.profile.report_sources:
                assert "".join(narrow(source["label"]).split()) in joined, (source["label"], text)

    asyncio.run(scenario())


def test_a_time_in_the_future_is_not_ticked_and_its_save_says_it_was_kept_as_typed(store_dir):
    """Issue 15: 「今朝9時」 at 04:29 showed 「✘ 未来の日時は指定できません」 under (1) while the top
    strip said 「✔ ①いつ」, and Ctrl+S saved it silently. Now the strip does not tick it, and the
    受付番号 screen says that (1) was kept as typed, not read as a time, and why. Kept verbatim."""
    clock = Clock(datetime(2026, 11, 17, 4, 29, tzinfo=TZ))
    store = Store.open(store_dir, clock=clock)
    seen = {}

    async def scenario():
        app = make_app(store, clock)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+n")
            await pilot.pause()
            screen = app.screen
            screen.query_one("#found_at", Input).focus()
            await type_text(pilot, "今朝9時")
            await pilot.pause()
            seen["preview"] = str(screen.query_one("#found_at-preview", Static).render())
            seen["strip"] = str(screen.query_one("#checklist", Static).render())
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, SavedScreen)
            seen["saved"] = "\n".join(str(w.render()) for w in app.screen.query(Static))

    run(scenario())
    assert "未来の日時は指定できません" in seen["preview"]
    assert "✘ (1)いつ" in seen["strip"] and "✔ (1)いつ" not in seen["strip"], seen["strip"]
    assert "(1)いつ は日時として読めないため、入力のまま記録しました: 未来の日時は指定できません" in seen["saved"], seen["saved"]
    it = store.incident("2026-0001").entries[0].data
    assert it["found_at_text"] == "今朝9時" and it["found_at"] is None


def test_at_80x24_the_callback_number_stays_in_sight_once_confirmed(store_dir):
    """Walking a call at 80x24: 折り返し確認済み ticked, the line said 「(2026年12月6日(日) 06:49:26
    確認)」 and the number typed, 「０１７５－２２－１１１１」, showed as 「０１７５－２２－１」 in what was
    left of the row. The time is said short; the number typed is seen whole."""
    from rich.cells import cell_len
    from textual.widgets import Checkbox

    clock = Clock(MONDAY_10)
    store = Store.open(store_dir, clock=clock)
    seen = {}

    async def scenario():
        app = make_app(store, clock)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+n")
            assert await wait_until(pilot, lambda: isinstance(app.screen, IntakeScreen))
            await pilot.pause()
            screen = app.screen
            number = screen.query_one("#callback_number", Input)
            number.value = "０１７５－２２－１１１１ 内線2141"
            screen.query_one("#callback_ok", Checkbox).value = True
            await pilot.pause()
            seen["room"] = number.content_region.width
            seen["said"] = str(screen.query_one("#callback_at", Static).render())
            seen["typed"] = cell_len(number.value)

    run(scenario())
    assert seen["said"] == "(10:00 確認)", seen
    assert seen["room"] > seen["typed"], seen


def test_a_resumed_draft_keeps_when_the_callback_was_confirmed(store_dir):
    """折り返し確認済み ticked at 10:00, the desk closed, the draft resumed at 10:30 and saved: the
    record said the callback was confirmed at 10:30 (the tick, loaded from the draft, was stamped
    again when its Changed arrived)."""
    from textual.widgets import Checkbox

    clock = Clock(MONDAY_10)
    store = Store.open(store_dir, clock=clock)

    async def first_session():
        app = make_app(store, clock)
        async with app.run_test(size=(120, 50)) as pilot:
            await pilot.press("ctrl+n")
            assert await wait_until(pilot, lambda: isinstance(app.screen, IntakeScreen))
            app.screen.query_one("#callback_number", Input).value = "0175-22-1111"
            app.screen.query_one("#callback_ok", Checkbox).value = True
            assert await wait_until(pilot, lambda: any(
                (d["data"].get("callback") or {}).get("confirmed_at") for d in store.list_drafts()))

    async def second_session():
        app = make_app(store, clock)
        async with app.run_test(size=(120, 50)) as pilot:
            await pilot.pause()
            await pilot.press("enter")  # the draft's 続きを入力する
            assert await wait_until(pilot, lambda: isinstance(app.screen, IntakeScreen))
            await pilot.pause(0.3)
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: isinstance(app.screen, SavedScreen))

    run(first_session())
    clock.advance(minutes=30)
    run(second_session())
    assert store.incident("2026-0001").intake["callback"]["confirmed_at"] == "2026-11-16T10:00:00+09:00"


def test_a_resumed_draft_counts_さっき_from_when_it_was_typed(store_dir):
    """(1)いつ 「さっき」 typed at 10:00 (09:50), the desk closed, the draft resumed and saved at 11:00:
    the record said found at 10:50, after the call was received at 10:00 (the words were counted
    from the save). They are counted from when they were typed while they are as they came back;
    the words stay as typed."""
    clock = Clock(MONDAY_10)
    store = Store.open(store_dir, clock=clock)
    seen = {}

    async def first_session():
        app = make_app(store, clock)
        async with app.run_test(size=(120, 50)) as pilot:
            await pilot.press("ctrl+n")
            assert await wait_until(pilot, lambda: isinstance(app.screen, IntakeScreen))
            app.screen.query_one("#found_at", Input).value = "さっき"
            assert await wait_until(pilot, lambda: any(d["data"].get("found_at") for d in store.list_drafts()))

    async def second_session():
        app = make_app(store, clock)
        async with app.run_test(size=(120, 50)) as pilot:
            await pilot.pause()
            await pilot.press("enter")  # the draft's 続きを入力する
            assert await wait_until(pilot, lambda: isinstance(app.screen, IntakeScreen))
            await pilot.pause(0.3)
            seen["preview"] = str(app.screen.query_one("#found_at-preview", Static).render())
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: isinstance(app.screen, SavedScreen))

    run(first_session())
    clock.advance(hours=1)
    run(second_session())
    it = store.incident("2026-0001").intake
    assert (it["found_at_text"], it["found_at"]) == ("さっき", "2026-11-16T09:50:00+09:00"), it
    assert "09:50" in seen["preview"], seen


def test_a_draft_resumed_twice_still_counts_さっき_from_the_call(store_dir):
    """The fix above counted from the draft's last write, which moved on with every resume that
    typed anything: 「さっき」 typed at 10:00, resumed at 11:00 to add the place, resumed again and
    saved at 12:00, was recorded found at 10:50, after the call was received at 10:00 (found by
    review). Counted from the call's receipt time as the draft holds it."""
    clock = Clock(MONDAY_10)
    store = Store.open(store_dir, clock=clock)

    async def first_session():
        app = make_app(store, clock)
        async with app.run_test(size=(120, 50)) as pilot:
            await pilot.press("ctrl+n")
            assert await wait_until(pilot, lambda: isinstance(app.screen, IntakeScreen))
            app.screen.query_one("#found_at", Input).value = "さっき"
            assert await wait_until(pilot, lambda: any(d["data"].get("found_at") for d in store.list_drafts()))

    async def resumed(save: bool):
        app = make_app(store, clock)
        async with app.run_test(size=(120, 50)) as pilot:
            await pilot.pause()
            await pilot.press("enter")  # the draft's 続きを入力する
            assert await wait_until(pilot, lambda: isinstance(app.screen, IntakeScreen))
            await pilot.pause(0.3)
            if save:
                await pilot.press("ctrl+s")
                assert await wait_until(pilot, lambda: isinstance(app.screen, SavedScreen))
                return
            app.screen.query_one("#place", Input).value = "本庁舎3階"
            assert await wait_until(pilot, lambda: any("本庁舎" in str(d["data"]) for d in store.list_drafts()))

    run(first_session())
    clock.advance(hours=1)
    run(resumed(False))
    clock.advance(hours=1)
    run(resumed(True))
    it = store.incident("2026-0001").intake
    assert (it["found_at_text"], it["found_at"]) == ("さっき", "2026-11-16T09:50:00+09:00"), it

"""訓練・演習 and the PoC card on the screens (issue 16, Pilot): a drill started from a shipped
scenario (palette), marked at intake or later (k), 【訓練】 on the record screens, outside bodies
said not to be called for real, the review PDF (v), the PoC card (F3) and on the out-of-hours
banner. Core: tests/test_drill.py."""

from __future__ import annotations

import asyncio
from datetime import datetime

from textual.widgets import Checkbox, DataTable, Input, Static, TextArea

from conftest import TZ, Clock, sample_intake, wait_until
from csirt_tui import drill
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store

MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=TZ)
OP = "受付 花子"


def make(store_dir, when=MONDAY_10):
    clock = Clock(when)
    store = Store.open(store_dir, clock=clock)
    return store, clock, CsirtDeskApp(store, operator=OP, clock=clock, backups=False)


def text_of(widget) -> str:
    return str(widget.render())


def test_a_drill_from_a_scenario_shows_the_callers_words_and_is_saved_as_one(store_dir):
    store, clock, app = make(store_dir)
    seen = {}

    async def go():
        from screens.form import PickerScreen
        from screens.intake import IntakeScreen, SavedScreen

        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            titles = [c.title for c in app.get_system_commands(app.screen)]
            seen["palette"] = [t for t in titles if "訓練" in t or "PoC" in t]
            app.start_drill()
            await pilot.pause()
            assert isinstance(app.screen, PickerScreen)
            await pilot.press("enter")  # the first scenario: mutsu-ransom
            assert await wait_until(pilot, lambda: isinstance(app.screen, IntakeScreen))
            screen = app.screen
            await pilot.pause()
            seen["says"] = "\n".join(text_of(w) for w in screen.query("#drill-says Static"))
            seen["banner"] = screen.query_one("#drill-banner").text
            seen["empty"] = screen.query_one("#place", Input).value
            check = screen.query_one("#drill", Checkbox)
            seen["check"] = (check.value, check.disabled)
            for wid, value in (("found_at", "30分前"), ("place", "本庁舎2階 税務課"), ("rep_name", "佐藤 花子")):
                screen.query_one(f"#{wid}", Input).value = value
            screen.query_one("#what", TextArea).text = "支払いを求める画面"
            await pilot.pause()
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: isinstance(app.screen, SavedScreen))
            seen["saved"] = " ".join(text_of(w) for w in app.screen.query("Label"))

    asyncio.run(go())
    assert any("訓練を始める" in t for t in seen["palette"]) and any("PoC" in t for t in seen["palette"])
    assert "税務課の佐藤です" in seen["says"]  # shown to be read out
    assert seen["empty"] == ""                 # not prefilled: the operator types what is said
    assert "【訓練】" in seen["banner"] and seen["check"] == (True, True)
    assert "【訓練】" in seen["saved"]
    (row,) = store.list_incidents()
    inc = store.incident(row["id"])
    assert inc.drill and drill.scenario_of(inc) == "mutsu-ransom" and row["drill"]
    assert inc.intake["place"] == "本庁舎2階 税務課"


def test_the_intake_checkbox_marks_a_drill_and_the_dashboard_counts_it_apart(store_dir):
    store, clock, app = make(store_dir)
    store.create_incident(sample_intake(), operator=OP)
    seen = {}

    async def go():
        from screens.intake import SavedScreen

        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+n")
            await pilot.pause()
            screen = app.screen
            screen.query_one("#place", Input).value = "机上訓練"
            screen.query_one("#drill", Checkbox).value = True
            await pilot.pause()
            seen["banner"] = screen.query_one("#drill-banner").display
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: isinstance(app.screen, SavedScreen))
            await pilot.press("enter")
            await pilot.pause(0.3)
            seen["status"] = text_of(app.screen.query_one("#dash-status", Static))

    asyncio.run(go())
    assert seen["banner"]
    drills = [r for r in store.list_incidents() if r["drill"]]
    assert len(drills) == 1
    assert "対応中 1 件" in seen["status"] and "【訓練】1 件" in seen["status"]
    # the store's total (read from open.json, closed drills of earlier years in it) says it holds drills
    assert "件 (訓練を含む)" in seen["status"].replace("\n", "")


def test_k_marks_and_takes_back_and_the_record_screens_say_drill(store_dir):
    store, clock, app = make(store_dir)
    inc = store.create_incident(sample_intake(), operator=OP)
    seen = {}

    async def go():
        from screens.form import FormScreen
        from screens.incident import IncidentScreen
        from screens.response import ResponseScreen
        from screens.timeline import TimelineScreen

        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            app.push_screen(IncidentScreen(inc.id))
            await pilot.pause()
            await pilot.press("k")
            assert await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: isinstance(app.screen, IncidentScreen))
            await pilot.pause()
            seen["incident"] = text_of(app.screen.query_one("#incident-text", Static))
            app.push_screen(ResponseScreen(inc.id))
            await pilot.pause()
            seen["response"] = text_of(app.screen.query_one("#response-heading", Static))
            app.pop_screen()
            await pilot.pause()
            app.push_screen(TimelineScreen(inc.id))
            await pilot.pause()
            assert await wait_until(pilot, lambda: "【訓練】" in text_of(app.screen.query_one("#timeline-heading")))
            app.pop_screen()
            await pilot.pause(0.3)
            await pilot.press("k")  # take it back: the reason is required
            assert await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
            await pilot.press("ctrl+s")
            await pilot.pause()
            seen["refused"] = isinstance(app.screen, FormScreen)
            app.screen.query_one("#f-note", TextArea).text = "実際の通報だった"
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: isinstance(app.screen, IncidentScreen))

    asyncio.run(go())
    assert "【訓練】" in seen["incident"] and seen["response"].startswith("【訓練】")
    assert seen["refused"]
    got = store.incident(inc.id)
    assert not got.drill and [e.data.get("drill") for e in got.entries if e.kind == "decision"] == [True, False]


def test_outside_bodies_are_said_not_to_be_called_during_a_drill(store_dir):
    from csirt_tui.triage import Triage, level_examples, record_triage

    store, clock, app = make(store_dir)
    sc = drill.find_scenario(store.profile, "mutsu-ransom")
    inc = drill.start_drill(store, drill.caller_intake(sc), operator=OP, scenario=sc)
    level2 = next(k for k, lv, _t, _g in level_examples(store.profile, "cyber") if lv == 2)
    record_triage(store, inc.id, Triage(fact_check="done", type_id="cyber", ticked=[level2]), operator=OP)
    seen = {}

    async def go():
        from screens.form import FormScreen
        from screens.response import ResponseScreen
        from screens.triage import TriageScreen

        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            app.push_screen(TriageScreen(inc.id))
            await pilot.pause(0.3)
            seen["triage"] = text_of(app.screen.query_one("#triage-heading", Static))
            from csirt_tui import triage as core

            t = core.Triage(fact_check="done", type_id="cyber", ticked=[level2])
            seen["parties"] = next(line for line in app.screen.decision_lines(t, core.assess(store.profile, t))
                                   if line.startswith("通知する先"))
            app.pop_screen()
            await pilot.pause(0.3)
            app.push_screen(ResponseScreen(inc.id))
            await pilot.pause()
            screen = app.screen
            table = screen.query_one("#notifs", DataTable)
            rows = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
            seen["rows"] = rows
            table.focus()
            table.move_cursor(row=next(i for i, r in enumerate(rows) if "総務省" in r))
            await pilot.pause()
            await pilot.press("d")
            assert await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
            seen["form"] = text_of(app.screen.query_one("#form-intro", Static))

    asyncio.run(go())
    soumu = next(r for r in seen["rows"] if "総務省" in r)
    manager = next(r for r in seen["rows"] if "CSIRT管理者" in r)
    assert "【訓練:実際には連絡しない】" in soumu and "実際には連絡しない" not in manager
    assert "総務省には実際に連絡しないでください" in seen["form"]
    assert seen["triage"].startswith("【訓練】トリアージ")
    # said before the list (the end of a long line is cut at the screen's edge)
    assert seen["parties"].startswith("通知する先【訓練: 外部の機関には実際に連絡しない】: ")


def test_v_exports_the_review_of_a_drill_only(store_dir, tmp_path):
    store, clock, app = make(store_dir)
    sc = drill.find_scenario(store.profile, "mutsu-ransom")
    inc = drill.start_drill(store, drill.caller_intake(sc), operator=OP, scenario=sc)
    real = store.create_incident(sample_intake(), operator=OP)
    out = tmp_path / "review.pdf"
    seen = {}

    async def go():
        from screens.export import ExportScreen
        from screens.incident import IncidentScreen

        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            app.push_screen(IncidentScreen(real.id))
            await pilot.pause()
            await pilot.press("v")
            await pilot.pause()
            seen["real"] = [str(n.message) for n in app._notifications]
            app.pop_screen()
            app.push_screen(IncidentScreen(inc.id))
            await pilot.pause()
            await pilot.press("v")
            assert await wait_until(pilot, lambda: isinstance(app.screen, ExportScreen))
            screen = app.screen
            seen["kind"] = screen.kind
            path = screen.query_one("#export-path", Input)
            path.value = str(out)
            screen.query_one("#export-waive", Input).value = "訓練のため"
            await pilot.pause()
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: out.exists() and isinstance(app.screen, IncidentScreen), 30)

    asyncio.run(go())
    assert any("訓練ではありません" in m for m in seen["real"])
    assert seen["kind"] == "drill_review"
    from pypdf import PdfReader

    pages = [p.extract_text() for p in PdfReader(str(out)).pages]
    assert pages and all("【訓練】" in p for p in pages)
    assert store.incident(inc.id).entries[-1].data["report"] == "drill_review"


async def open_card(app, pilot) -> None:
    """F3, and wait for the card."""
    from screens.poccard import PocCardScreen

    await pilot.pause()
    await pilot.press("f3")
    assert await wait_until(pilot, lambda: isinstance(app.screen, PocCardScreen))
    await pilot.pause(0.3)


def test_f3_shows_the_whole_poc_card_and_the_out_of_hours_banner_holds_it(store_dir):
    seen = {}

    async def go(size):
        store, clock, app = make(store_dir / f"{size[0]}x{size[1]}", datetime(2026, 11, 22, 14, 35, tzinfo=TZ))  # a Sunday
        async with app.run_test(size=size) as pilot:
            await open_card(app, pilot)
            seen["card", size] = text_of(app.screen.query_one("#poc-text", Static))
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("ctrl+n")
            await pilot.pause()
            seen["banner", size] = text_of(app.screen.query_one("#out-of-hours", Static))
            found_at = app.screen.query_one("#found_at", Input)
            seen["found_at_y", size] = found_at.region.y if found_at.region.height else None

    for size in ((120, 30), (80, 24)):
        asyncio.run(go(size))
        flat = seen["card", size].replace("\n", "").replace(" ", "")
        for want in ("総務部総合情報課", "青森県むつ市中央一丁目8番1号", "0175-22-1111内線2141", "joho@city.mutsu.lg.jp",
                     "平日8時30分～17時15分"):
            assert want in flat, (size, want)
    # 120x30: the banner holds the card's lines beside the night contacts
    banner = seen["banner", (120, 30)].replace("\n", "")
    for want in ("総務部総合情報課", "0175-22-1111 内線2141", "joho@city.mutsu.lg.jp", "夜間・休日の連絡先"):
        assert want in banner, want
    # 80x24: the night contacts and where the card is (F3); (1) いつ, where the first words of the
    # call go, stays on the screen (with the card's lines too it was pushed below the 24th row)
    small = seen["banner", (80, 24)]
    assert "夜間・休日の連絡先" in small and "(F3:PoCカード)" in small and "joho@" not in small
    assert seen["found_at_y", (80, 24)] is not None and seen["found_at_y", (80, 24)] < 23


def test_a_long_card_keeps_its_column_beside_a_scroll_bar(tmp_path):
    """Osaki's card (four more items) is taller than its box at 80x24: a scroll bar takes two
    cells, and a line folded for the full width was wrapped again by Textual, out of its column."""
    clock = Clock(datetime(2026, 11, 22, 14, 35, tzinfo=TZ))
    store = Store.open(tmp_path / "osaki", profile="osaki", clock=clock)
    app = CsirtDeskApp(store, operator=OP, clock=clock, backups=False)
    seen = {}

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await open_card(app, pilot)
            from screen_walk import drawn

            seen["lines"] = drawn(app).text.split("\n")

    asyncio.run(go())
    lines = [line for line in seen["lines"] if line.strip().startswith("|")]
    start = next(i for i, line in enumerate(lines) if "確認項目" in line)
    end = next(i for i, line in enumerate(lines) if "出典" in line)
    assert end - start >= 3
    for line in lines[start + 1:end]:
        assert line.split("|")[1].startswith(" " * 11), line  # under the values, not under the labels


def test_closing_a_drill_at_80x24_shows_the_confirmation_to_tick(store_dir):
    """The close form lists every open step and notification in its intro: at 80x24 (and 120x30)
    that list pushed the 「承知のうえで収束する」 box below the frame and the drill could not be
    closed without a taller terminal (seen in tmux). The intro scrolls now; the box is in view."""
    store, clock, app = make(store_dir)
    sc = drill.find_scenario(store.profile, "mutsu-ransom")
    inc = drill.start_drill(store, drill.caller_intake(sc), operator=OP, scenario=sc)
    seen = {}

    async def go():
        from screens.form import FormScreen
        from screens.response import ResponseScreen

        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.push_screen(ResponseScreen(inc.id))
            await pilot.pause()
            await pilot.press("c")
            assert await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
            app.screen.query_one("#f-note", TextArea).text = "訓練終了"
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: bool(app.screen.query("#f-force")))
            await pilot.pause(0.5)
            box = app.screen.query_one("#f-force", Checkbox)
            seen["focused"] = app.focused is box
            frame = app.screen.query_one("#form-box").region
            seen["inside"] = box.region.height > 0 and frame.contains_region(box.region)
            await pilot.press("space", "ctrl+s")
            assert await wait_until(pilot, lambda: isinstance(app.screen, ResponseScreen))

    asyncio.run(go())
    assert seen["focused"] and seen["inside"]
    assert store.incident(inc.id).status == "closed"

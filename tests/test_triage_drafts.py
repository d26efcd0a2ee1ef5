"""The triage screen keeps a draft (issue 14, defect 4) and fixes of issue 15's triage bugs.

Every free-text field of the triage (fact-check note, override reason, stop hours, the
reply to the reporter, the staff warning) and every choice autosave as a draft (kind
"triage", the incident) as the intake and the dialogs do; Esc with anything typed or
chosen asks first (a dropdown's Esc only closes the dropdown); the triage on the record
closes the draft; opened again after a quit or a crash the triage offers it back.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from textual.widgets import Input, RadioSet, Select, SelectionList, Static

from conftest import TZ, Clock, posix_pty, sample_intake, wait_until
from csirt_tui import triage as core
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens.triage import TriageScreen

MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=TZ)
OP = "見本 ハンドラー"


def _store(store_dir, profile="mutsu"):
    clock = Clock(MONDAY_10)
    store = Store.open(store_dir, profile=profile, clock=clock)
    inc = store.create_incident(sample_intake(received_at="2026-11-16T09:50:00+09:00", reporter_type="staff"),
                                operator="受付")
    return store, clock, inc.id


def drafts(store_dir, status="open"):
    return Store.open(store_dir).list_drafts(kind="triage", status=status)


def values(store_dir, status="open"):
    return [d["data"]["values"] for d in drafts(store_dir, status)]


def said(app) -> str:
    out = [str(n.message) for n in app._notifications]
    for widget in app.screen.query(Static):
        text = getattr(widget, "text", None)
        out.append(text if isinstance(text, str) else str(widget.render()))
    return "\n".join(out)


def run(coro):
    asyncio.run(coro)


def desk(store, clock, then, *, incident_id, size=(120, 40)) -> None:
    """Run ``await then(app, pilot, screen)`` with the triage of ``incident_id`` open."""

    async def scenario():
        app = CsirtDeskApp(store, operator=OP, clock=clock, backups=False)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            app.open_triage(incident_id)
            assert await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
            await pilot.pause()
            await then(app, pilot, app.screen)

    run(scenario())


async def type_into(pilot, screen, wid: str, text: str) -> None:
    screen.query_one(f"#{wid}", Input).focus()
    await pilot.pause()
    await pilot.press(*text)


def pick_type(screen, type_id: str) -> None:
    button = next(b for b in screen.query_one("#type", RadioSet).query("RadioButton") if b.name == f"type:{type_id}")
    button.value = True


# ---------------------------------------------------------------------------
# The draft


def test_typed_text_is_a_draft_within_a_second_and_esc_asks_before_discarding(store_dir):
    store, clock, incident_id = _store(store_dir)

    async def then(app, pilot, screen):
        await type_into(pilot, screen, "fact_note", "本人に電話で確認")
        started = time.monotonic()
        assert await wait_until(pilot, lambda: [v["fact_note"] for v in values(store_dir)] == ["本人に電話で確認"],
                                timeout=5)
        assert time.monotonic() - started < 1.5
        (draft,) = drafts(store_dir)
        assert (draft["incident"], draft["operator"], draft["data"]["dialog"]) == (incident_id, OP, "triage")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen, "Esc discarded a typed triage without asking"
        assert "破棄しますか" in said(app)
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: not isinstance(app.screen, TriageScreen))

    desk(store, clock, then, incident_id=incident_id)
    assert values(store_dir) == []
    assert [v["fact_note"] for v in values(store_dir, "discarded")] == ["本人に電話で確認"]  # kept, marked


def test_a_choice_alone_is_a_draft_and_typing_after_the_first_esc_keeps_it(store_dir):
    store, clock, incident_id = _store(store_dir)

    async def then(app, pilot, screen):
        await pilot.press("enter", "down", "enter")  # 確認中 confirmed, 外部からのサイバー攻撃
        assert await wait_until(pilot, lambda: [v["type"] for v in values(store_dir)] == [["type:cyber"]], timeout=5)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("space")  # the operator goes on: a tick is a change, the question is off
        await pilot.pause(0.5)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen, "the second Esc after going on discarded without asking again"

    desk(store, clock, then, incident_id=incident_id)
    (v,) = values(store_dir)
    assert v["ticked"] == ["L0.1"]


def test_esc_on_an_open_dropdown_only_closes_it(store_dir):
    store, clock, incident_id = _store(store_dir)

    async def then(app, pilot, screen):
        select = screen.query_one("#personal_data", Select)
        select.focus()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert select.expanded
        await pilot.press("escape")
        await pilot.pause()
        assert not select.expanded
        assert app.screen is screen and "破棄しますか" not in said(app)

    desk(store, clock, then, incident_id=incident_id)


def test_an_untouched_triage_closes_at_once_and_leaves_no_draft(store_dir):
    store, clock, incident_id = _store(store_dir)

    async def then(app, pilot, screen):
        await pilot.pause(0.5)
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: not isinstance(app.screen, TriageScreen))

    desk(store, clock, then, incident_id=incident_id)
    assert drafts(store_dir) == [] and drafts(store_dir, "discarded") == []


def test_a_triage_left_by_a_quit_is_offered_back_and_recorded_once(store_dir):
    store, clock, incident_id = _store(store_dir)

    async def first(app, pilot, screen):
        await pilot.press("enter", "down", "enter")  # 外部からのサイバー攻撃: the examples
        await pilot.pause()
        await pilot.press("space")  # the first row, highlighted: L0 ウイルスを…駆除した場合
        await pilot.pause()
        await type_into(pilot, screen, "reply_who", "試験 花子")
        await type_into(pilot, screen, "reply_how", "電話")
        await pilot.press("ctrl+q")  # at once, within the autosave's delay: the quit writes it
        assert await wait_until(pilot, lambda: not app.is_running)

    async def second(app, pilot, screen):
        assert await wait_until(pilot, lambda: type(app.screen).__name__ == "DraftOfferScreen")
        await pilot.press("enter")  # 続きを書く
        assert await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
        await pilot.pause()
        screen = app.screen
        assert screen.query_one("#reply_who", Input).value == "試験 花子"
        assert screen.query_one("#reply_how", Input).value == "電話"
        assert list(screen.query_one("#examples", SelectionList).selected) == ["L0.1"]
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: not isinstance(app.screen, TriageScreen))

    desk(store, clock, first, incident_id=incident_id)
    (v,) = values(store_dir)
    assert (v["reply_who"], v["reply_how"], v["type"]) == ("試験 花子", "電話", ["type:cyber"])
    desk(store, clock, second, incident_id=incident_id)
    inc = store.incident(incident_id)
    assert inc.status == "not_incident"
    call = next(e for e in inc.entries if e.kind == "call")
    # 「今」 typed at 10:00 meant 10:00 when it comes back
    assert (call.data["who"], call.data["how"], call.data["when"]) == ("試験 花子", "電話", "2026-11-16T10:00:00+09:00")
    assert values(store_dir) == [] and len(drafts(store_dir, "saved")) == 1
    assert sum(e.kind == "triage" for e in inc.entries) == 1


def test_the_offer_can_start_anew(store_dir):
    store, clock, incident_id = _store(store_dir)
    store.save_draft("triage-1", {"dialog": "triage", "screen": "triage", "title": "トリアージ",
                                  "values": {"fact_note": "前の入力"}, "typed": ["fact_note"]},
                     operator=OP, kind="triage", incident=incident_id)

    async def then(app, pilot, screen):
        assert await wait_until(pilot, lambda: type(app.screen).__name__ == "DraftOfferScreen")
        assert "前の入力" in said(app)
        await pilot.press("n")
        assert await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
        assert app.screen.query_one("#fact_note", Input).value == ""

    desk(store, clock, then, incident_id=incident_id)
    assert values(store_dir) == [] and [v["fact_note"] for v in values(store_dir, "discarded")] == ["前の入力"]


# ---------------------------------------------------------------------------
# A crash: the real desk in a pseudo-terminal, SIGKILL while the triage is typed


@posix_pty
def test_a_triage_typed_then_sigkill_is_offered_after_the_restart(tmp_path):
    from test_tui_crash import Terminal, wait_for

    store_dir = tmp_path / "store"
    store = Store.open(store_dir)
    store.create_incident(sample_intake(reporter_type="staff"), operator="受付")

    def typed():
        try:
            return [v.get("fact_note") for v in values(store_dir)]
        except Exception:
            return []

    term = Terminal(store_dir)
    try:
        assert wait_for(lambda: (store_dir / "backups").is_dir() and any((store_dir / "backups").iterdir()),
                        30, term), term.output[-500:]
        term.send("t")  # the dashboard's first row: its triage
        assert wait_for(lambda: "事実確認" in term.output.decode("utf-8", "replace"), 15, term)
        term.send("\t")  # 確認の結果・方法
        term.pump(0.5)
        term.send("本人に電話で確認済み")
        assert wait_for(lambda: typed() == ["本人に電話で確認済み"], 15, term), (typed(), term.output[-800:])
    finally:
        term.kill()  # SIGKILL: nothing more is written

    term = Terminal(store_dir)
    try:
        assert wait_for(lambda: len(list((store_dir / "backups").iterdir())) >= 2, 30, term)
        mark = len(term.output)
        term.send("t")
        assert wait_for(lambda: "書きかけのトリアージ" in term.output[mark:].decode("utf-8", "replace"), 15, term), \
            term.output[-1500:].decode("utf-8", "replace")
        term.send("\r")  # 続きを書く
        term.pump(1.0)
        assert "本人に電話で確認済み" in term.output[mark:].decode("utf-8", "replace")
        term.send("\x11")  # Ctrl+Q: the draft is the one offered, still open
        term.pump(2.0)
    finally:
        term.kill()
    assert typed() == ["本人に電話で確認済み"]


# ---------------------------------------------------------------------------
# Issue 15's triage bugs


def test_an_override_without_a_suggestion_and_a_type_without_levels_never_say_none(store_dir):
    store, clock, incident_id = _store(store_dir)

    async def then(app, pilot, screen):
        pick_type(screen, "cyber")
        await pilot.pause()
        screen.query_one("#override", Select).value = 2
        await pilot.pause()
        panel = str(screen.query_one("#triage-summary", Static).render())
        assert "None" not in panel and "事例からの提案 なし" in panel, panel

    desk(store, clock, then, incident_id=incident_id)

    store, clock, incident_id = _store(store_dir / "osaki", profile="osaki")

    async def osaki(app, pilot, screen):
        pick_type(screen, "fault")
        await pilot.pause()
        screen.query_one("#fault_type", Select).value = "hardware"
        await pilot.pause()
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: not isinstance(app.screen, TriageScreen))
        toast = said(app)
        assert "トリアージを記録しました" in toast and "None" not in toast, toast

    desk(store, clock, osaki, incident_id=incident_id)
    assert store.incident(incident_id).classifications


def test_an_osaki_fault_retriaged_as_fraud_sends_no_fault_type(store_dir):
    store, clock, incident_id = _store(store_dir, profile="osaki")
    core.record_triage(store, incident_id, core.Triage(type_id="fault", fault_type="hardware",
                                                       fault_checks=["警告ランプの確認"]), operator=OP)

    async def then(app, pilot, screen):
        assert screen.query_one("#fault_type", Select).value == "hardware"  # the previous answer, shown
        pick_type(screen, "fraud")
        await pilot.pause()
        assert not screen.query_one("#fault-box").display
        examples = screen.query_one("#examples", SelectionList)
        examples.select(examples.get_option_at_index(0).value)
        await pilot.pause()
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: not isinstance(app.screen, TriageScreen)), said(app)

    desk(store, clock, then, incident_id=incident_id)
    latest = store.incident(incident_id).classifications[-1]
    assert latest["type"] == "fraud"
    assert (latest["answers"]["fault_type"], latest["answers"]["fault_checks"]) == (None, [])


def test_ctrl_s_names_only_what_is_missing_and_goes_there(store_dir):
    store, clock, incident_id = _store(store_dir)

    async def then(app, pilot, screen):
        pick_type(screen, "cyber")
        await pilot.pause()
        examples = screen.query_one("#examples", SelectionList)
        examples.select("L0.1")
        await pilot.pause()
        assert screen.query_one("#reported_to", Select).value  # the default 報告先
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert screen.focused is screen.query_one("#reply_who", Input)
        message = str(app._notifications and list(app._notifications)[-1].message)
        assert "通報者へ連絡した人" in message and "報告先" not in message, message
        await pilot.press(*"試験")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen.focused is screen.query_one("#reply_how", Input)

    desk(store, clock, then, incident_id=incident_id)


def test_space_on_the_preselected_fact_check_confirms_it_and_moves_on(store_dir):
    store, clock, incident_id = _store(store_dir)

    async def then(app, pilot, screen):
        fact = screen.query_one("#fact", RadioSet)
        assert screen.focused is fact and fact.pressed_button.name == "pending"
        assert fact._selected == fact.pressed_index  # the cursor is on the choice made
        await pilot.press("space")
        await pilot.pause()
        assert screen.focused is screen.query_one("#type", RadioSet)
        assert fact.pressed_button.name == "pending"
        await pilot.press("enter")  # the first type, confirmed: on to its examples
        await pilot.pause()
        examples = screen.query_one("#examples", SelectionList)
        assert screen.focused is examples and examples.highlighted == 0
        await pilot.press("space")  # the first Space ticks the highlighted first row
        await pilot.pause()
        assert list(examples.selected) == [examples.get_option_at_index(0).value]

    desk(store, clock, then, incident_id=incident_id)


def test_a_triage_draft_in_the_dashboards_list_opens_the_triage(store_dir):
    """Enter on a triage draft in the dashboard's list said 「この書きかけを開く画面が分かりません」."""
    from csirt_tui.draftsave import draft_what
    from screens.incident import reopen_draft

    store = Store.open(store_dir, clock=Clock())
    inc = store.create_incident(sample_intake(), operator="受付 花子")
    store.save_draft("triage-20261122-143500-abcd", {"dialog": "triage", "screen": "triage", "title": "トリアージ",
                                                     "values": {"fact_note": "電話で確認"}, "typed": ["fact_note"]},
                     operator="受付 花子", kind="triage", incident=inc.id)
    draft = store.list_drafts(kind="triage")[0]
    assert draft_what(draft) == "トリアージ"  # the lists called it 入力
    seen = {}

    async def go():
        app = CsirtDeskApp(store, operator="受付 花子", clock=Clock(), backups=False)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            reopen_draft(app, draft)
            seen["opened"] = await wait_until(pilot, lambda: any(isinstance(s, TriageScreen) for s in app.screen_stack))
            seen["said"] = [str(n.message) for n in app._notifications]

    asyncio.run(go())
    assert seen["opened"] and not any("開く画面が分かりません" in m for m in seen["said"])

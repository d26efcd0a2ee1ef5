"""Guided triage through the screen (Pilot): one test per path of the issue."""

from __future__ import annotations

import asyncio
from datetime import datetime

from textual.widgets import Input, RadioSet, Select, SelectionList, Static

from conftest import TZ, Clock, sample_intake
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens.triage import TriageScreen

MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=TZ)


def _store(store_dir, profile="mutsu"):
    clock = Clock(MONDAY_10)
    store = Store.open(store_dir, profile=profile, clock=clock)
    inc = store.create_incident(sample_intake(received_at="2026-11-16T09:50:00+09:00",
                                              reporter_type="staff" if profile != "osaki" else None),
                                operator="受付")
    return store, clock, inc.id


async def _open(pilot, app, incident_id):
    await pilot.pause()
    app.open_triage(incident_id)
    await pilot.pause()
    assert isinstance(app.screen, TriageScreen)
    return app.screen


def _pick_type(screen, type_id: str, exclusion: str | None = None) -> None:
    name = f"excl:{type_id}:{exclusion}" if exclusion else f"type:{type_id}"
    radio = screen.query_one("#type", RadioSet)
    button = next(b for b in radio.query("RadioButton") if b.name == name)
    button.value = True


def _tick(screen, text: str) -> None:
    examples = screen.query_one("#examples", SelectionList)
    for i in range(examples.option_count):
        option = examples.get_option_at_index(i)
        if text in str(option.prompt):
            examples.select(option.value)
            return
    raise AssertionError(f"example not offered: {text}")


def run(coro):
    asyncio.run(coro)


def test_typical_call_by_keyboard_in_ten_keys(store_dir):
    store, clock, incident_id = _store(store_dir)
    keys = ["t"]

    async def scenario():
        app = CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False)
        async with app.run_test(size=(120, 50)) as pilot:
            await pilot.pause()
            await pilot.press("t")  # on the dashboard row
            await pilot.pause()
            assert isinstance(app.screen, TriageScreen)
            seq = ["enter",                      # 1 事実確認: 確認中 (the default, confirmed: moves on to 種別)
                   "down", "enter",              # 2 種別: 外部からのサイバー攻撃 (moves on to the examples)
                   "down", "down", "down", "down", "space",  # 3 L1 ネットワーク接続している端末に…
                   "ctrl+s"]
            for k in seq:
                await pilot.press(k)
                await pilot.pause()
            keys.extend(seq)

    run(scenario())
    assert len(keys) <= 10, keys
    inc = store.incident(incident_id)
    assert (inc.type_id, inc.level, inc.priority) == ("cyber", 1, "中")
    triage = next(e for e in inc.entries if e.kind == "triage")
    assert triage.data["answers"]["fact_check"] == "pending"
    assert {n["party"] for n in inc.notifications} == {"csirt_manager", "csirt_chief"}
    assert [s["status"] for s in inc.steps.values()] and all(s["status"] == "todo" for s in inc.steps.values())


def test_cyber_level_2_with_personal_data_notifies_the_personal_information_body(store_dir):
    store, clock, incident_id = _store(store_dir)

    async def scenario():
        app = CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False)
        async with app.run_test(size=(120, 50)) as pilot:
            screen = await _open(pilot, app, incident_id)
            _pick_type(screen, "cyber")
            await pilot.pause()
            _tick(screen, "情報漏えいの可能性がある場合")
            screen.query_one("#personal_data", Select).value = "personal"
            screen.query_one("#encrypted", Select).value = "no"
            await pilot.pause()
            panel = str(screen.query_one("#triage-summary", Static).render())
            assert "レベル: 2 (事例から)" in panel and "個人情報保護委員会" in panel
            await pilot.press("ctrl+s")
            await pilot.pause()

    run(scenario())
    inc = store.incident(incident_id)
    assert (inc.level, inc.priority) == (2, "高")
    parties = {n["party"] for n in inc.notifications}
    assert "ppc" in parties and "ciso" in parties


def test_level_0_closes_as_not_an_incident_with_the_reply(store_dir):
    store, clock, incident_id = _store(store_dir)

    async def scenario():
        app = CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False)
        async with app.run_test(size=(120, 50)) as pilot:
            screen = await _open(pilot, app, incident_id)
            _pick_type(screen, "cyber")
            await pilot.pause()
            _tick(screen, "ウイルスを検知したが、端末のウイルス対策ソフトが駆除した場合")
            await pilot.pause()
            assert screen.query_one("#not-incident-box").display
            await pilot.press("ctrl+s")  # the reply is missing: refused
            await pilot.pause()
            assert isinstance(app.screen, TriageScreen)
            screen.query_one("#reply_who", Input).value = "試験 花子"
            screen.query_one("#reply_how", Input).value = "電話"
            screen.query_one("#reply_when", Input).value = "9:55"
            screen.query_one("#warning", Input).value = "不審なメールの添付を開かないよう周知"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert not isinstance(app.screen, TriageScreen)

    run(scenario())
    inc = store.incident(incident_id)
    assert inc.status == "not_incident"
    call = next(e for e in inc.entries if e.kind == "call")
    assert (call.data["who"], call.data["how"], call.data["when"]) == ("試験 花子", "電話", "2026-11-16T09:55:00+09:00")
    assert any(e.kind == "note" and "周知" in e.text for e in inc.entries)
    assert [r["id"] for r in store.list_incidents(status="not_incident")] == [incident_id]


def test_osaki_hardware_fault_shows_its_check_items(store_dir):
    store, clock, incident_id = _store(store_dir, profile="osaki")

    async def scenario():
        app = CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False)
        async with app.run_test(size=(120, 50)) as pilot:
            screen = await _open(pilot, app, incident_id)
            _pick_type(screen, "fault")
            await pilot.pause()
            assert screen.query_one("#fault-box").display
            screen.query_one("#fault_type", Select).value = "hardware"
            await pilot.pause()
            checks = screen.query_one("#fault_checks", SelectionList)
            offered = [str(checks.get_option_at_index(i).prompt) for i in range(checks.option_count)]
            assert "電源スイッチ・コンセントの確認" in offered and "警告ランプの確認" in offered
            checks.select("警告ランプの確認")
            await pilot.pause()
            await pilot.press("ctrl+s")
            await pilot.pause()

    run(scenario())
    triage = next(e for e in store.incident(incident_id).entries if e.kind == "triage")
    assert triage.data["answers"]["fault_type"] == "hardware"
    assert triage.data["answers"]["fault_checks"] == ["警告ランプの確認"]


def test_override_without_a_reason_is_refused_then_recorded_with_it(store_dir):
    store, clock, incident_id = _store(store_dir)

    async def scenario():
        app = CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False)
        async with app.run_test(size=(120, 50)) as pilot:
            screen = await _open(pilot, app, incident_id)
            _pick_type(screen, "system_stop")
            await pilot.pause()
            _tick(screen, "一部の電源系統の障害")
            screen.query_one("#override", Select).value = 2
            await pilot.pause()
            assert "理由" in str(screen.query_one("#triage-summary", Static).render())
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, TriageScreen)  # refused
            assert not any(e.kind == "triage" for e in store.timeline(incident_id))
            screen.query_one("#override_reason", Input).value = "基幹系の窓口業務が止まるため"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert not isinstance(app.screen, TriageScreen)

    run(scenario())
    inc = store.incident(incident_id)
    triage = next(e for e in inc.entries if e.kind == "triage")
    assert (triage.data["level"], triage.data["suggested_level"]) == (2, 1)
    assert triage.data["answers"]["override_reason"] == "基幹系の窓口業務が止まるため"


def test_retriage_keeps_the_history(store_dir):
    store, clock, incident_id = _store(store_dir)

    async def once(example, priority_expected):
        app = CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False)
        async with app.run_test(size=(120, 50)) as pilot:
            screen = await _open(pilot, app, incident_id)
            _pick_type(screen, "cyber")
            await pilot.pause()
            examples = screen.query_one("#examples", SelectionList)
            examples.deselect_all()
            _tick(screen, example)
            await pilot.pause()
            await pilot.press("ctrl+s")
            await pilot.pause()

    run(once("記録媒体内のウイルス感染", "中"))
    clock.advance(hours=2)
    run(once("情報システム等から外部に向けた攻撃を行っている形跡が確認された場合", "高"))
    inc = store.incident(incident_id)
    kinds = [(r["seq"], r.get("level")) for r in inc.classifications]
    assert [lv for _, lv in kinds] == [1, 2] and inc.level == 2
    assert [e.kind for e in inc.entries if e.kind in ("triage", "classification")] == ["triage", "classification"]


def test_an_expected_stop_typed_in_words_is_read_or_refused_never_dropped(store_dir):
    """想定停止時間 「２日」 (大崎: 4 時間からは長期間の停止で優先度が上がる) was float()ed, failed, and
    recorded as no stop at all: the priority stayed 中 and the text was gone. Now 「２日」 is 48 hours,
    and 「三時間くらい」 is refused with the field named, the focus on it, and kept as typed."""
    store, clock, incident_id = _store(store_dir, profile="osaki")

    async def scenario():
        app = CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False)
        async with app.run_test(size=(120, 50)) as pilot:
            screen = await _open(pilot, app, incident_id)
            _pick_type(screen, "fault")
            await pilot.pause()
            screen.query_one("#fault_type", Select).value = "software"
            stop = screen.query_one("#stop_hours", Input)
            stop.value = "三時間くらい"
            await pilot.pause()
            assert "想定停止時間は時間数で" in str(screen.query_one("#triage-summary", Static).render())
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, TriageScreen)  # refused: nothing recorded without it
            assert not any(e.kind == "triage" for e in store.timeline(incident_id))
            assert app.focused is stop and stop.value == "三時間くらい"
            stop.value = "２日"
            await pilot.pause()
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert not isinstance(app.screen, TriageScreen)

    run(scenario())
    triage = next(e for e in store.incident(incident_id).entries if e.kind == "triage")
    assert triage.data["answers"]["context"]["stop_hours"] == 48
    assert triage.data["priority"] == "高"  # 大崎: the long stop raises 障害's 中

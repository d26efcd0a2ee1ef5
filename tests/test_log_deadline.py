"""水戸 7-1(6)ア (logs kept about one month): the evidence step of the response tracker says
by when the logs behind the incident must be secured (issue 16)."""

from __future__ import annotations

import asyncio
from datetime import date

from textual.widgets import DataTable, Static

from conftest import open_screen, sample_intake
from csirt_tui.app import CsirtDeskApp
from csirt_tui.response import log_deadline, log_deadline_text, step_states
from csirt_tui.store import Store
from csirt_tui.triage import Triage, record_triage
from screens.response import ResponseScreen

OP = "試験 花子"


def mito_incident(tmp_path, clock):
    store = Store.open(tmp_path / "mito", profile="mito", clock=clock)
    inc = store.create_incident(sample_intake(found_at="2026-10-31T09:00:00+09:00"), operator=OP)
    record_triage(store, inc.id, Triage(type_id="cyber", ticked=["L1.1"]), operator=OP)
    return store, inc.id


def test_the_evidence_step_holds_the_date(tmp_path, clock):
    store, iid = mito_incident(tmp_path, clock)
    inc = store.incident(iid)
    rows = {r["step"]: r for r in step_states(store.profile, inc)}
    assert rows["evidence"]["log_deadline"]["date"] == date(2026, 11, 30)  # 10/31 + 1 month
    assert [s for s, r in rows.items() if r["log_deadline"]] == ["evidence"]
    assert "過ぎています" in log_deadline_text(rows["evidence"]["log_deadline"], date(2026, 12, 1))
    # a profile without log_retention says nothing
    mutsu = Store.open(tmp_path / "mutsu", clock=clock)
    other = mutsu.create_incident(sample_intake(), operator=OP)
    assert log_deadline(mutsu.profile, mutsu.incident(other.id)) is None


def test_the_tracker_shows_it_on_the_evidence_step(tmp_path, clock):
    store, iid = mito_incident(tmp_path, clock)

    async def scenario():
        app = CsirtDeskApp(store, operator=OP, clock=clock, backups=False)
        async with app.run_test(size=(120, 30)) as pilot:
            screen = await open_screen(pilot, app, lambda: app.push_screen(ResponseScreen(iid)), ResponseScreen,
                                       "#steps")
            table = screen.query_one("#steps", DataTable)
            index = next(i for i, r in enumerate(screen.steps) if r["step"] == "evidence")
            assert "ログ確保 11/30 まで" in str(table.get_row_at(index)[0])
            table.move_cursor(row=index)
            await pilot.pause()
            info = str(screen.query_one("#response-info", Static).render())
            assert "ログの確保: 2026年11月30日まで（発見から1か月。水戸 7-1(6)ア）" in info
            assert "過ぎています" not in info  # 11/22: not yet

    asyncio.run(scenario())

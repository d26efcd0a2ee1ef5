"""大崎 5条(5): 脅威度1 「庁内で必要な報告を行い,緊急時対応を解除する」 as its own short path
instead of opening every fraud phase and closing by the ordinary 収束 (issue 16)."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import TextArea

from conftest import open_screen, sample_intake, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.response import ResponseError, open_steps, release_low_threat, release_rule, response_state
from csirt_tui.store import Store
from csirt_tui.triage import Triage, record_triage
from screens.form import FormScreen
from screens.response import ResponseScreen

OP = "試験 花子"


@pytest.fixture
def osaki(tmp_path, clock):
    return Store.open(tmp_path / "osaki", profile="osaki", clock=clock)


def fraud(store, ticked):
    inc = store.create_incident(sample_intake(what="無権限者が端末室に入った"), operator=OP)
    record_triage(store, inc.id, Triage(type_id="fraud", ticked=[ticked]), operator=OP)
    return inc.id


def test_level_1_is_reported_inside_and_released(osaki):
    iid = fraud(osaki, "L1.1.1")
    inc = osaki.incident(iid)
    assert inc.level == 1 and release_rule(osaki.profile, inc) is not None
    with pytest.raises(ResponseError):
        release_low_threat(osaki, iid, operator=OP, reported_to="sec_chief", reported=" ")
    out = release_low_threat(osaki, iid, operator=OP, reported_to="sec_chief", reported="侵入者なし。施錠を確認",
                             note="入退室記録で確認")
    inc = osaki.incident(iid)
    assert inc.status == "closed"
    assert open_steps(osaki.profile, inc) == []
    assert inc.steps["fraud_threat_level"]["status"] == "done"
    assert inc.steps["fraud_council"]["status"] == "na" and "大崎 5条(5)" in inc.steps["fraud_council"]["note"]
    decision = next(e for e in out if e.kind == "decision")
    assert decision.data == {"decision": "release", "level": 1, "reported_to": "sec_chief",
                             "reported": "侵入者なし。施錠を確認", "note": "入退室記録で確認", "source": "大崎 5条(5)"}
    assert "緊急時対応を解除" in response_state(inc).closures[-1]["note"]
    assert osaki.verify().ok


def test_other_levels_and_profiles_take_the_ordinary_path(osaki, store):
    iid = fraud(osaki, "L3.2.1")
    with pytest.raises(ResponseError):
        release_low_threat(osaki, iid, operator=OP, reported_to="sec_chief", reported="x")
    inc = store.create_incident(sample_intake(), operator=OP)
    record_triage(store, inc.id, Triage(type_id="cyber", ticked=["L1.1"]), operator=OP)
    assert release_rule(store.profile, store.incident(inc.id)) is None


def test_r_on_the_tracker_releases(osaki, clock):
    iid = fraud(osaki, "L1.1.1")

    async def scenario():
        app = CsirtDeskApp(osaki, operator=OP, clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_screen(pilot, app, lambda: app.open_response(iid), ResponseScreen, "#steps")
            await pilot.press("r")
            assert await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
            app.screen.query_one("#f-reported", TextArea).text = "[bold]異常なし"
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: osaki.incident(iid).status == "closed")

    asyncio.run(scenario())

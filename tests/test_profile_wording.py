"""Each profile's own wording where the desk used one organisation's for all (issue 16): the
not-an-incident step of triage names the chosen profile's role; the summary is named after
the profile's addressee (only つくば's goes to a 委員会); 水戸's crime clause is 7-6(3)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from pathlib import Path

import pytest
from textual.widgets import Label

from conftest import TZ, open_screen, sample_intake
from csirt_tui.app import CsirtDeskApp
from csirt_tui.profiles import load_profile
from csirt_tui.report.summary import summary_filename, summary_label
from csirt_tui.store import Store
from screens.triage import TriageScreen

OP = "試験 花子"
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("pid,label", [("mutsu", "CISO向け集計"), ("tsukuba", "委員会向け集計"),
                                       ("mito", "CISO向け集計"), ("osaki", "セキュリティ統括責任者向け集計")])
def test_the_summary_is_named_after_the_profile_addressee(pid, label):
    profile = load_profile(pid)
    assert summary_label(profile) == label
    name = summary_filename(date(2026, 4, 1), date(2026, 11, 30), datetime(2026, 11, 22, 14, 35, tzinfo=TZ), profile)
    assert name.startswith(label + "_20260401-20261130_")


@pytest.mark.parametrize("pid,role", [("mito", "情報セキュリティ管理者"), ("osaki", "セキュリティ責任者"),
                                      ("tsukuba", "CSIRT管理者")])
def test_triage_names_the_profile_role_for_not_an_incident(tmp_path, clock, pid, role):
    store = Store.open(tmp_path / pid, profile=pid, clock=clock)
    inc = store.create_incident(sample_intake(), operator=OP)

    async def scenario():
        app = CsirtDeskApp(store, operator=OP, clock=clock, backups=False)
        async with app.run_test(size=(120, 30)) as pilot:
            screen = await open_screen(pilot, app, lambda: app.open_triage(inc.id), TriageScreen, "#override_reason")
            screen._not_incident_box()  # (made when a decision of level 0 or an exclusion shows it)
            await pilot.pause()
            titles = [str(w.render()) for w in app.screen.query("#not-incident-box Label")]
            assert f"4 インシデントではない: {role}への報告と通報者への連絡" in titles
            if role != "CSIRT管理者":
                assert not any("CSIRT管理者" in t for t in titles)

    asyncio.run(scenario())


def test_no_code_cites_mito_7_5():
    for path in (ROOT / "csirt_tui").rglob("*.py"):
        assert "水戸 7-5(" not in path.read_text(encoding="utf-8"), path

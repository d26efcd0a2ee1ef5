"""Threat kinds (issue 16; むつ ポリシー「対象とする脅威」): profile data, chosen where the cause
of 報告様式1 section 3 is recorded, printed there in the rule's own words."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import OptionList

from conftest import sample_intake, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.profiles import load_profile
from csirt_tui.report.content import ReportContentError, form1_content, set_threat, threat_choice
from csirt_tui.report.form1 import build_form1
from csirt_tui.report.pdfkit import find_font
from screens.export import ReportTextsScreen
from screens.form import PickerScreen
from test_report_form1 import pypdf_pages, squash

OP = "試験 花子"
SEEDS = "/work/shared/seeds"


def test_the_mutsu_policy_threats_in_its_own_words():
    threats = load_profile("mutsu").threats
    assert [t["label"] for t in threats] == ["意図的な要因", "非意図的要因", "災害", "疾病による要員不足", "提供サービスの障害"]
    import glob

    policy = open(glob.glob(f"{SEEDS}/002_*.txt")[0], encoding="utf-8").read()
    for t in threats:
        assert t["text"] in policy, t["id"]
    assert load_profile("osaki").threats == []


def test_choice_is_on_the_record_and_in_section_3(store, clock):
    inc = store.create_incident(sample_intake(), operator=OP)
    with pytest.raises(ReportContentError):
        set_threat(store, inc.id, "meteor", operator=OP)
    entry = set_threat(store, inc.id, "utility", operator=OP)
    assert entry.kind == "report" and entry.data["threat"] == "utility"
    assert set_threat(store, inc.id, "utility", operator=OP) is None  # nothing changes
    fresh = store.incident(inc.id)
    assert threat_choice(store.profile, fresh)["label"] == "提供サービスの障害"
    form = form1_content(store.profile, fresh, clock())
    cause = next(s for s in form.sections if s.fill == "cause")
    assert cause.parts[0].auto[0].startswith("脅威の種類: 提供サービスの障害（むつ ポリシー 対象とする脅威 5）")
    text = squash("\n".join(pypdf_pages(build_form1(form, find_font()))))
    assert squash("脅威の種類: 提供サービスの障害") in text and squash("電力供給の途絶") in text
    # taken back: a new entry, the old one stays
    set_threat(store, inc.id, None, operator=OP)
    fresh = store.incident(inc.id)
    assert threat_choice(store.profile, fresh) is None
    assert [e.data.get("threat") for e in fresh.entries if e.kind == "report"] == ["utility", None]


def test_threat_is_chosen_on_the_report_texts_screen(store, clock):
    inc = store.create_incident(sample_intake(), operator=OP)

    async def scenario():
        app = CsirtDeskApp(store, operator=OP, clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.push_screen(ReportTextsScreen(inc.id))
            assert await wait_until(pilot, lambda: isinstance(app.screen, ReportTextsScreen)
                                    and app.screen.query("#texts-list"))
            await pilot.pause()
            lst = app.screen.query_one("#texts-list", OptionList)
            ids = [lst.get_option_at_index(i).id for i in range(lst.option_count)]
            assert ids.index("threat") == ids.index("cause") - 1
            lst.highlighted = ids.index("threat")
            await pilot.press("enter")
            assert await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
            await pilot.press("down", "down", "enter")  # 災害
            assert await wait_until(pilot, lambda: threat_choice(store.profile, store.incident(inc.id)) is not None)
            assert threat_choice(store.profile, store.incident(inc.id))["threat"] == "disaster"

    asyncio.run(scenario())

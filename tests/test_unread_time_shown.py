"""A time typed on the intake but not readable as a time (「今朝9時」 typed at 04:29: 「未来の日時は指定
できません」) is kept verbatim with the reason in the intake's ``time_errors``. The 受付番号 screen said
so at Ctrl+S (0650ba2), and nothing else did: the incident screen showed 「(1)いつ: 今朝9時」 and the
報告様式1 「（受付時の聴取: 今朝9時）」, as if it had been read. Now both say it, in the 受付番号
screen's words (「日時として読めないため、入力のまま記録しました: …」)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from datetime import datetime

import pytest

from conftest import TZ, Clock, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.intake import build_intake
from csirt_tui.report.content import form1_content
from csirt_tui.report.export import export_form1
from csirt_tui.store import Store
from csirt_tui.views import chrome_lines, incident_text_lines, intake_entry_text, intake_labels
from screens.incident import IncidentScreen

EARLY = datetime(2026, 12, 6, 4, 29, tzinfo=TZ)
SAID = "日時として読めないため、入力のまま記録しました"


def early_call(store_dir):
    clock = Clock(EARLY)
    store = Store.open(store_dir, clock=clock)
    values = {"channel": "naisen", "found_at": "今朝9時", "place": "本庁舎3階 税務課",
              "what": "画面に英語のメッセージ", "reporter": {"name": "試験 一郎", "section": "税務課", "contact": "内線2301"}}
    intake = build_intake(store.profile, values, clock(), strict=False)
    assert "found_at" in intake["time_errors"]  # (the call as the intake screen saves it)
    inc = store.create_incident(intake, operator="受付", text=intake_entry_text(store.profile, intake))
    return store, clock, inc.id, intake["time_errors"]["found_at"]


def test_the_incident_text_says_the_time_was_kept_as_typed(store_dir):
    store, _clock, iid, reason = early_call(store_dir)
    lines = chrome_lines(incident_text_lines(store.profile, store.incident(iid)), intake_labels(store.profile))
    at = next(i for i, line in enumerate(lines) if ": 今朝9時" in line)
    assert SAID in lines[at + 1] and reason in lines[at + 1], lines[:8]  # right under (1)いつ
    assert lines[at + 1].lstrip().startswith("(1)いつ は")  # drawn narrowed, as the 受付番号 screen does


def test_the_incident_screen_shows_it(store_dir):
    store, clock, iid, reason = early_call(store_dir)
    for size in ((80, 24), (120, 30)):
        seen: dict = {}

        async def go():
            app = CsirtDeskApp(store, operator="受付", clock=clock, backups=False)
            async with app.run_test(size=size) as pilot:
                await pilot.pause()
                app.push_screen(IncidentScreen(iid))
                assert await wait_until(pilot, lambda: isinstance(app.screen, IncidentScreen))
                await pilot.pause()
                text = app.screen.query_one("#incident-text")
                seen["text"] = "".join(strip.text for strip in text.render_lines(text.content_region.reset_offset))

        asyncio.run(go())
        squashed = seen["text"].replace(" ", "")
        assert SAID in squashed and "未来の日時は指定できません" in squashed, (size, seen["text"][:400])


def test_the_form1_says_it_under_when(store_dir, tmp_path):
    store, clock, iid, reason = early_call(store_dir)
    form = form1_content(store.profile, store.incident(iid), clock())
    lines = [line for section in form.sections for part in section.parts for line in part.auto]
    at = next(i for i, line in enumerate(lines) if "受付時の聴取: 今朝9時" in line)
    assert lines[at + 1] == f"（{SAID}: {reason.rstrip('。')}）"
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext not installed")
    pdf = export_form1(store, iid, tmp_path / "f1.pdf", operator="受付", waive_reason="試験").path
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True).stdout
    assert SAID in "".join(text.decode("utf-8").split())

"""A desk open on the store while another process writes to it (issue 8): the
dashboard shows the other process's new incidents, an open record and incident
view show its entries as they land, and what this desk writes in between keeps
its place in one valid chain."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from textual.widgets import DataTable, Input, Static, TextArea

from conftest import Clock, sample_intake, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store

WRITER = Path(__file__).with_name("writer_proc.py")
ROOT = Path(__file__).resolve().parents[1]


def _writer(store_root, target, count, tag):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen([sys.executable, str(WRITER), str(store_root), target, str(count), tag],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
                            errors="replace", env=env)


def test_open_desk_shows_the_other_process_entries(store_dir, monkeypatch):
    import screens.dashboard as dashboard
    import screens.timeline as timeline

    monkeypatch.setattr(dashboard, "REFRESH_SECONDS", 0.3)
    monkeypatch.setattr(timeline, "WATCH_SECONDS", 0.3)
    import screens.incident as incident_screen

    monkeypatch.setattr(incident_screen, "WATCH_SECONDS", 0.3)
    clock = Clock()
    store = Store.open(store_dir, clock=clock)
    shared = store.create_incident(sample_intake(), operator="受付").id

    async def scenario():
        app = CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            incidents = app.screen.query_one("#incidents", DataTable)
            assert incidents.row_count == 1

            # Another process records three new reports: the dashboard shows them unasked.
            creator = _writer(store_dir, "new", 3, "別端末")
            assert await wait_until(pilot, lambda: incidents.row_count == 4, timeout=20)
            assert creator.wait(timeout=30) == 0, creator.stderr.read()

            # Open the shared incident's record, then another process appends to it.
            from screens.timeline import TimelineScreen

            app.push_screen(TimelineScreen(shared))
            await pilot.pause()
            screen = app.screen
            table = screen.query_one("#entries", DataTable)
            assert await wait_until(pilot, lambda: table.row_count == 1)
            appender = _writer(store_dir, shared, 20, "別端末")

            # While it writes, this desk adds a note of its own.
            await pilot.press("n")
            await pilot.pause()
            note = app.screen
            note.query_one("#note-text", TextArea).text = "こちらの端末から [bold]メモ[/]"
            note.query_one("#note-when", Input).value = "今"
            await pilot.press("ctrl+s")
            out, err = await asyncio.to_thread(appender.communicate, timeout=60)
            assert appender.returncode == 0, err
            assert len(out.split()) == 20

            # All 22 entries appear, in one order.
            assert await wait_until(pilot, lambda: table.row_count == 22, timeout=20)
            heading = screen.query_one("#timeline-heading", Static)
            assert await wait_until(pilot, lambda: "22 件" in str(heading.render())
                                    and "✔" in str(heading.render()), timeout=20)
            texts = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
            assert sum("別端末" in t for t in texts) == 20
            assert sum("こちらの端末から [bold]メモ[/]" in t for t in texts) == 1

            # One more from outside, with this desk only watching: it appears, and the
            # cursor on the newest row follows it.
            table.move_cursor(row=table.row_count - 1)
            await pilot.pause()
            other = _writer(store_dir, shared, 1, "夜間端末")
            assert await asyncio.to_thread(other.wait, 30) == 0
            assert await wait_until(pilot, lambda: table.row_count == 23, timeout=20)
            assert "夜間端末" in str(table.get_row_at(22)[0])
            assert table.cursor_row == 22

            # The incident view behind it follows too.
            await pilot.press("escape")
            from screens.incident import IncidentScreen

            app.push_screen(IncidentScreen(shared))
            await pilot.pause()
            view = app.screen.query_one("#incident-text", Static)
            before = str(view.render())
            store.append(shared, "note", "第三の書き手", operator="CLI")  # as `csirt-desk log` would
            assert await wait_until(pilot, lambda: "第三の書き手" in str(view.render()), timeout=10)
            assert before != str(view.render())

    asyncio.run(scenario())
    report = Store.open(store_dir).verify()
    assert report.ok, report.problems[:3]
    assert len(Store.open(store_dir).timeline(shared)) == 24

"""Every dialog where an operator types free text keeps a draft (issue 14, defect 4).

The record's note and correction dialogs, the tracker's and the roster's forms and
the report texts autosave as the intake does (Store.save_draft with a kind and the
incident); Esc with text typed asks first; the text saved to the record (or
discarded after the question) closes the draft; the same dialog opened again, after
a quit or a crash too, offers the text back; the dashboard and the incident screen
say that a dialog's text is waiting. Passwords are never drafted.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pytest
from textual.widgets import DataTable, Input, OptionList, Static, TextArea

from conftest import TZ, Clock, posix_pty, sample_intake, wait_until
from csirt_tui import triage as core
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store

NOW = datetime(2026, 11, 16, 15, 0, tzinfo=TZ)
OP = "見本 ハンドラー"


def _store(store_dir):
    clock = Clock(NOW)
    store = Store.open(store_dir, clock=clock)
    inc = store.create_incident(sample_intake(received_at="2026-11-16T09:50:00+09:00", reporter_type="staff"),
                                operator="受付")
    store.append(inc.id, "note", "ベンダーに連絡", operator="受付")
    return store, clock, inc.id


def _app(store, clock):
    return CsirtDeskApp(store, operator=OP, clock=clock, backups=False)


def drafts(store_dir, kind, status="open"):
    return Store.open(store_dir).list_drafts(kind=kind, status=status)


def texts(store_dir, kind, key="text", status="open"):
    return [(d["data"].get("values") or {}).get(key) for d in drafts(store_dir, kind, status)]


def said(app) -> list[str]:
    out = [str(n.message) for n in app._notifications]
    for screen in app.screen_stack:
        for widget in screen.query(Static):
            text = getattr(widget, "text", None)
            try:
                out.append(text if isinstance(text, str) else str(widget.render()))
            except Exception:
                pass
    return out


async def open_timeline(pilot, app, incident_id):
    from screens.incident import IncidentScreen
    from screens.timeline import TimelineScreen

    await pilot.pause()
    app.push_screen(IncidentScreen(incident_id))
    await pilot.pause()
    await pilot.press("l")
    assert await wait_until(pilot, lambda: isinstance(app.screen, TimelineScreen))
    screen = app.screen
    assert await wait_until(pilot, lambda: "✔" in str(screen.query_one("#timeline-heading", Static).render()))
    return screen


def run(coro):
    asyncio.run(coro)


def desk(store, clock, then, *, incident_id=None, key=None, size=(120, 40)) -> None:
    """Run ``await then(app, pilot, screen)`` in the desk: with ``incident_id``, on its record
    (``screen``: the TimelineScreen), ``key`` pressed there first (n: a note, c: a correction)."""

    async def scenario():
        app = _app(store, clock)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            screen = await open_timeline(pilot, app, incident_id) if incident_id else app.screen
            if key:
                await pilot.press(key)
                await pilot.pause()
            await then(app, pilot, screen)

    run(scenario())


async def take_the_offer(app, pilot, dialog: str, field: str, text: str):
    """The dialog opened again offers its draft: Enter (続きを書く) brings ``text`` back into ``field``."""
    assert await wait_until(pilot, lambda: is_a(app, "DraftOfferScreen"))
    await pilot.press("enter")
    assert await wait_until(pilot, lambda: is_a(app, dialog))
    await pilot.pause()
    widget = app.screen.query_one(field)
    assert (widget.text if isinstance(widget, TextArea) else widget.value) == text
    return app.screen


async def quit_desk(app, pilot) -> None:
    """Ctrl+Q: the desk closes at once, its drafts written (not closed)."""
    await pilot.press("ctrl+q")
    assert await wait_until(pilot, lambda: not app.is_running)


def is_a(app, name: str) -> bool:
    return type(app.screen).__name__ == name


# ---------------------------------------------------------------------------
# The record's note dialog


def test_a_note_is_a_draft_within_a_second_and_esc_asks_before_discarding(store_dir):
    store, clock, incident_id = _store(store_dir)

    async def then(app, pilot, timeline):
        assert is_a(app, "NoteScreen")
        await pilot.press(*"ベンダーに電話した")
        started = time.monotonic()
        assert await wait_until(pilot, lambda: texts(store_dir, "note") == ["ベンダーに電話した"], timeout=5)
        assert time.monotonic() - started < 1.5
        (draft,) = drafts(store_dir, "note")
        assert draft["incident"] == incident_id and draft["operator"] == OP
        await pilot.press("escape")
        await pilot.pause()
        assert is_a(app, "NoteScreen"), "Esc discarded typed text without asking"
        assert any("破棄しますか" in m and "Esc" in m for m in said(app)), said(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is timeline

    desk(store, clock, then, incident_id=incident_id, key="n")
    assert texts(store_dir, "note") == []
    assert texts(store_dir, "note", status="discarded") == ["ベンダーに電話した"]  # the file keeps it
    assert [e.text for e in store.timeline(incident_id)][-1] == "ベンダーに連絡"


def test_the_discarded_note_keeps_what_was_typed_up_to_the_second_esc(store_dir):
    """Esc Esc right after typing (before the autosave's moment): the discarded draft held the
    text of the last autosave, without the characters typed since (found by the clean-clone run:
    「ベンダーに電話し」 kept for 「ベンダーに電話した」). What the dialog holds is written, then discarded."""
    store, clock, incident_id = _store(store_dir)

    async def then(app, pilot, timeline):
        await pilot.press(*"ベンダーに電話")
        assert await wait_until(pilot, lambda: texts(store_dir, "note") == ["ベンダーに電話"], timeout=5)
        await pilot.press(*"した", "escape", "escape")
        await pilot.pause()
        assert app.screen is timeline

    desk(store, clock, then, incident_id=incident_id, key="n")
    assert texts(store_dir, "note") == []
    assert texts(store_dir, "note", status="discarded") == ["ベンダーに電話した"]


def test_typing_after_the_first_esc_keeps_the_note(store_dir):
    store, clock, incident_id = _store(store_dir)

    async def then(app, pilot, timeline):
        await pilot.press(*"本文", "escape")
        await pilot.pause()
        await pilot.press(*"続き", "escape")  # the question is off: a later Esc asks again
        await pilot.pause()
        assert is_a(app, "NoteScreen")
        assert app.screen.query_one("#note-text", TextArea).text == "本文続き"

    desk(store, clock, then, incident_id=incident_id, key="n")


def test_an_untouched_note_dialog_closes_at_once_and_leaves_no_draft(store_dir):
    store, clock, incident_id = _store(store_dir)

    async def then(app, pilot, timeline):
        await pilot.pause(0.5)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is timeline

    desk(store, clock, then, incident_id=incident_id, key="n")
    assert Store.open(store_dir).list_drafts(kind=None, status="open") == []
    assert Store.open(store_dir).list_drafts(kind=None, status="discarded") == []


def test_saving_the_note_closes_its_draft(store_dir):
    store, clock, incident_id = _store(store_dir)

    async def then(app, pilot, timeline):
        await pilot.press(*"機器を隔離")
        assert await wait_until(pilot, lambda: texts(store_dir, "note") == ["機器を隔離"])
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: app.screen is timeline)

    desk(store, clock, then, incident_id=incident_id, key="n")
    assert [e.text for e in store.timeline(incident_id)][-1] == "機器を隔離"
    assert texts(store_dir, "note") == [] and texts(store_dir, "note", status="saved") == ["機器を隔離"]


def test_a_note_left_by_a_quit_is_offered_back_and_saved_once(store_dir):
    store, clock, incident_id = _store(store_dir)

    async def first(app, pilot, timeline):
        await pilot.press(*"途中まで")
        await quit_desk(app, pilot)

    async def second(app, pilot, timeline):
        assert await wait_until(pilot, lambda: is_a(app, "DraftOfferScreen"))
        assert any("途中まで" in m for m in said(app))
        note = await take_the_offer(app, pilot, "NoteScreen", "#note-text", "途中まで")
        note.query_one("#note-text", TextArea).focus()
        await pilot.press("end", *"続き", "ctrl+s")
        assert await wait_until(pilot, lambda: app.screen is timeline)

    desk(store, clock, first, incident_id=incident_id, key="n")
    assert texts(store_dir, "note") == ["途中まで"]
    desk(store, clock, second, incident_id=incident_id, key="n")
    assert [e.text for e in store.timeline(incident_id)][-1] == "途中まで続き"
    assert texts(store_dir, "note") == []
    assert len(drafts(store_dir, "note", "saved")) == 1  # the same draft went on, no second one


def test_the_offer_can_start_anew_or_wait(store_dir):
    store, clock, incident_id = _store(store_dir)
    store.save_draft("note-old", {"dialog": "note", "screen": "timeline", "title": "メモ", "values": {"text": "古い"}},
                     operator="別の人", kind="note", incident=incident_id)

    async def then(app, pilot, timeline):
        assert await wait_until(pilot, lambda: is_a(app, "DraftOfferScreen"))
        await pilot.press("escape")  # あとで: the dialog does not open, the draft stays
        assert await wait_until(pilot, lambda: app.screen is timeline)
        assert texts(store_dir, "note") == ["古い"]
        await pilot.press("n")
        assert await wait_until(pilot, lambda: is_a(app, "DraftOfferScreen"))
        await pilot.press("n")  # 破棄して新しく書く
        assert await wait_until(pilot, lambda: is_a(app, "NoteScreen"))
        assert app.screen.query_one("#note-text", TextArea).text == ""

    desk(store, clock, then, incident_id=incident_id, key="n")
    assert texts(store_dir, "note") == [] and texts(store_dir, "note", status="discarded") == ["古い"]


def test_a_time_typed_as_now_means_when_it_was_typed_not_when_it_comes_back(store_dir):
    """「今」 typed at 15:00, the desk crashed, the note resumed at 16:00: the note happened at 15:00."""
    store, clock, incident_id = _store(store_dir)
    store.save_draft("note-1", {"dialog": "note", "screen": "timeline", "title": "メモ",
                                "values": {"text": "サーバを停止", "when": "今"}},
                     operator=OP, kind="note", incident=incident_id)
    clock.advance(hours=1)

    async def then(app, pilot, timeline):
        await take_the_offer(app, pilot, "NoteScreen", "#note-when", "2026-11-16 15:00")
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: app.screen is timeline)

    desk(store, clock, then, incident_id=incident_id, key="n")
    last = store.timeline(incident_id)[-1]
    assert last.text == "サーバを停止" and last.occurred_at.startswith("2026-11-16T15:00")


def test_a_correction_draft_is_offered_for_its_entry_only(store_dir):
    store, clock, incident_id = _store(store_dir)

    async def first(app, pilot, timeline):
        assert is_a(app, "NoteScreen")  # c: the newest entry (#2) highlighted
        await pilot.press(*"連絡先はベンダーB")
        await quit_desk(app, pilot)

    async def second(app, pilot, timeline):
        await pilot.pause(0.5)  # n: a note is another dialog, nothing to offer
        assert is_a(app, "NoteScreen")
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: app.screen is timeline)
        await pilot.press("c")
        await take_the_offer(app, pilot, "NoteScreen", "#note-text", "連絡先はベンダーB")
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: app.screen is timeline)

    desk(store, clock, first, incident_id=incident_id, key="c")
    desk(store, clock, second, incident_id=incident_id, key="n")
    last = store.timeline(incident_id)[-1]
    assert (last.kind, last.text, last.corrects) == ("correction", "連絡先はベンダーB", 2)
    assert Store.open(store_dir).list_drafts(kind=None) == []


def test_after_a_restart_the_dashboard_and_the_incident_say_a_note_is_waiting(store_dir):
    from screens.incident import IncidentScreen

    store, clock, incident_id = _store(store_dir)
    store.save_draft("note-1", {"dialog": "note", "screen": "timeline", "title": f"メモを追加 ({incident_id})",
                                "values": {"text": "電話の途中で落ちた", "when": "今"}},
                     operator=OP, kind="note", incident=incident_id)

    async def scenario():
        app = _app(store, clock)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert is_a(app, "DashboardScreen")  # the startup offer is for intakes only
            assert any("書きかけ" in m for m in said(app)), said(app)
            table = app.screen.query_one("#drafts", DataTable)
            assert table.row_count == 1
            row = " ".join(str(c) for c in table.get_row_at(0))
            assert "電話の途中で落ちた" in row and incident_id in row
            app.push_screen(IncidentScreen(incident_id))
            await pilot.pause()
            assert any("書きかけのメモがあります" in m for m in said(app)), said(app)
            await pilot.press("escape")
            await pilot.pause()
            table.focus()
            await pilot.press("enter")  # the draft's row: its dialog opens, offering the text
            await take_the_offer(app, pilot, "NoteScreen", "#note-text", "電話の途中で落ちた")
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: is_a(app, "TimelineScreen"))

    run(scenario())
    assert store.timeline(incident_id)[-1].text == "電話の途中で落ちた"
    assert texts(store_dir, "note") == []


# ---------------------------------------------------------------------------
# The tracker's and the roster's forms, the report texts


def _triaged(store, incident_id):
    t = core.Triage(fact_check="done", type_id="cyber",
                    ticked=[k for k, lv, text, _ in core.level_examples(store.profile, "cyber")
                            if "ネットワーク接続している端末" in text])
    core.record_triage(store, incident_id, t, operator="ハンドラー")


async def open_step(app, pilot, incident_id, step):
    """The tracker of ``incident_id``, the form of ``step`` (s)."""
    app.open_response(incident_id)
    await pilot.pause()
    table = app.screen.query_one("#steps", DataTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(step))
    await pilot.press("s")


def test_a_response_form_is_a_draft_offered_back_after_a_quit(store_dir):
    store, clock, incident_id = _store(store_dir)
    _triaged(store, incident_id)

    async def first(app, pilot, dashboard):
        await open_step(app, pilot, incident_id, "containment")
        assert await wait_until(pilot, lambda: is_a(app, "FormScreen"))
        app.screen.query_one("#f-note").focus()
        await pilot.press(*"LANケーブルを抜いた")
        assert await wait_until(pilot, lambda: texts(store_dir, "form", "note") == ["LANケーブルを抜いた"])
        await pilot.press("escape")
        await pilot.pause()
        assert is_a(app, "FormScreen"), "Esc discarded a form's text without asking"
        await quit_desk(app, pilot)

    async def second(app, pilot, dashboard):
        await open_step(app, pilot, incident_id, "containment")
        form = await take_the_offer(app, pilot, "FormScreen", "#f-note", "LANケーブルを抜いた")
        form.query_one("#f-status").value = "done"
        await pilot.pause()
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: is_a(app, "ResponseScreen"))

    desk(store, clock, first, size=(120, 45))
    (draft,) = drafts(store_dir, "form")
    assert draft["incident"] == incident_id
    desk(store, clock, second, size=(120, 45))
    step = store.incident(incident_id).steps["containment"]
    assert (step["status"], step["note"]) == ("done", "LANケーブルを抜いた")
    assert texts(store_dir, "form", "note") == []


def test_a_refused_form_stays_open_with_its_text(store_dir):
    """The record refuses (a note is required): the form stays, the draft too."""
    store, clock, incident_id = _store(store_dir)
    _triaged(store, incident_id)

    async def then(app, pilot, dashboard):
        await open_step(app, pilot, incident_id, "evidence")
        assert await wait_until(pilot, lambda: is_a(app, "FormScreen"))
        form = app.screen
        form.query_one("#f-who", Input).value = "担当 太郎"
        form.query_one("#f-status").value = "done"  # 完了 needs a note: refused
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        assert app.screen is form and form.query_one("#f-who", Input).value == "担当 太郎"
        assert any("記録できませんでした" in m for m in said(app))
        seen["refused"] = [d["data"]["values"]["who"] for d in drafts(store_dir, "form")]
        # the note given, saved: the toast that says the text is still on this screen goes with it
        # (it stayed its 15 s over the tracker, saying what was no longer true)
        form.query_one("#f-note", TextArea).text = "サーバのログを USB に複製した"
        await pilot.pause()
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: is_a(app, "ResponseScreen"))
        await pilot.pause()
        seen["after"] = [str(n.message) for n in app._notifications]

    seen = {}
    desk(store, clock, then, size=(120, 45))
    assert seen["refused"] == ["担当 太郎"]
    assert not any("記録できませんでした" in m for m in seen["after"]), seen["after"]
    assert store.incident(incident_id).steps["evidence"]["status"] == "done"


def test_a_roster_form_is_a_draft_and_esc_asks(store_dir):
    store, clock, _incident = _store(store_dir)

    async def scenario():
        app = _app(store, clock)
        async with app.run_test(size=(120, 45)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+r")
            assert await wait_until(pilot, lambda: is_a(app, "RosterScreen"))
            roster = app.screen
            await pilot.press("a")
            assert await wait_until(pilot, lambda: is_a(app, "FormScreen"))
            app.screen.query_one("#f-name").focus()
            await pilot.press(*"新任次郎")
            assert await wait_until(pilot, lambda: texts(store_dir, "form", "name") == ["新任次郎"])
            (draft,) = drafts(store_dir, "form")
            assert draft["incident"] is None
            await pilot.press("escape")
            await pilot.pause()
            assert is_a(app, "FormScreen")
            await pilot.press("escape")
            assert await wait_until(pilot, lambda: app.screen is roster)

    run(scenario())
    assert texts(store_dir, "form", "name") == [] and texts(store_dir, "form", "name", "discarded") == ["新任次郎"]


def test_a_report_text_is_a_draft_offered_back_after_a_quit(store_dir):
    from screens.export import ReportTextsScreen

    store, clock, incident_id = _store(store_dir)

    async def open_cause(app, pilot):
        await pilot.pause()
        app.push_screen(ReportTextsScreen(incident_id))
        assert await wait_until(pilot, lambda: is_a(app, "ReportTextsScreen") and app.screen.query("#texts-list"))
        await pilot.pause()
        lst = app.screen.query_one("#texts-list", OptionList)
        lst.highlighted = lst.get_option_index("cause")
        await pilot.press("enter")

    async def first():
        app = _app(store, clock)
        async with app.run_test(size=(120, 45)) as pilot:
            await open_cause(app, pilot)
            assert await wait_until(pilot, lambda: is_a(app, "ReportTextScreen"))
            await pilot.press(*"添付ファイルを開いた")
            assert await wait_until(pilot, lambda: texts(store_dir, "report") == ["添付ファイルを開いた"])
            await pilot.press("escape")
            await pilot.pause()
            assert is_a(app, "ReportTextScreen")
            await pilot.press("ctrl+q")
            assert await wait_until(pilot, lambda: not app.is_running)

    async def second():
        app = _app(store, clock)
        async with app.run_test(size=(120, 45)) as pilot:
            await open_cause(app, pilot)
            await take_the_offer(app, pilot, "ReportTextScreen", "#report-text", "添付ファイルを開いた")
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: is_a(app, "ReportTextsScreen"))

    run(first())
    run(second())
    report = [e for e in store.timeline(incident_id) if e.kind == "report"]
    assert report and report[-1].data.get("text") == "添付ファイルを開いた"
    assert texts(store_dir, "report") == []


def test_passwords_are_never_drafted(store_dir):
    from screens.export import ExportScreen
    from screens.incident import IncidentScreen

    store, clock, incident_id = _store(store_dir)
    secret = "Pw-7731-秘密"

    async def scenario():
        app = _app(store, clock)
        async with app.run_test(size=(120, 45)) as pilot:
            await pilot.pause()
            app.push_screen(IncidentScreen(incident_id))
            await pilot.pause()
            await pilot.press("p")
            assert await wait_until(pilot, lambda: isinstance(app.screen, ExportScreen))
            for wid in ("#export-password", "#export-confirm"):
                app.screen.query_one(wid, Input).focus()
                await pilot.pause()
                await pilot.press(*secret)
            await pilot.pause(1.0)
            await pilot.press("ctrl+q")
            assert await wait_until(pilot, lambda: not app.is_running)

    run(scenario())
    folder = store_dir / "drafts"
    for path in folder.iterdir() if folder.is_dir() else []:
        assert secret.encode("utf-8") not in path.read_bytes(), path


# ---------------------------------------------------------------------------
# A crash: the real desk in a pseudo-terminal, SIGKILL while the note is typed


@posix_pty
def test_a_note_typed_then_sigkill_is_offered_after_the_restart(tmp_path):
    from test_tui_crash import Terminal, wait_for

    store_dir = tmp_path / "store"
    store = Store.open(store_dir)
    inc = store.create_incident(sample_intake(), operator="受付")

    def note_texts():
        try:
            return texts(store_dir, "note")
        except Exception:
            return []

    term = Terminal(store_dir)
    try:
        assert wait_for(lambda: (store_dir / "backups").is_dir() and any((store_dir / "backups").iterdir()),
                        30, term), term.output[-500:]
        term.send("\r")  # the dashboard's first row: the incident
        assert wait_for(lambda: "時系列の記録" in term.output.decode("utf-8", "replace"), 15, term)
        term.send("l")
        term.pump(1.0)
        term.send("n")
        term.pump(1.0)
        term.send("ベンダーに電話、折り返し待ち")
        assert wait_for(lambda: note_texts() == ["ベンダーに電話、折り返し待ち"], 15, term), (
            note_texts(), term.output[-800:])
    finally:
        term.kill()  # SIGKILL: nothing more is written

    term = Terminal(store_dir)
    try:
        assert wait_for(lambda: len(list((store_dir / "backups").iterdir())) >= 2, 30, term)
        mark = len(term.output)
        term.pump(1.0)
        assert "書きかけ" in term.output[mark - 20000:].decode("utf-8", "replace")
        term.send("\t")      # the incidents → the drafts list
        term.send("\r")      # its one row: the note's dialog opens, offering the text
        term.pump(1.5)
        term.send("\r")      # 続きを書く
        term.pump(1.0)
        term.send("\x13")    # Ctrl+S: on the record
        assert wait_for(lambda: Store.open(store_dir).timeline(inc.id)[-1].text == "ベンダーに電話、折り返し待ち",
                        15, term), term.output[-800:]
    finally:
        term.kill()
    assert texts(store_dir, "note") == []

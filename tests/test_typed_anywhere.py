"""Text typed where the focus takes no text is never silently dropped (issue 15: the operator on
the phone types without looking; an IME commits a whole word at once).

Typed on the triage's list of examples or on a closed dropdown, 「サーバ停止」 went nowhere;
likewise on a checkbox, a button, a radio set. Every form screen is walked: each focusable widget
that is not a text field has the focus in turn, a Japanese word is typed as the terminal sends it,
and it must end in a field's value or be drawn on the screen (screens/typed.py).
"""

from __future__ import annotations

import asyncio
import unicodedata

import pytest

from conftest import Clock, wait_until
from screen_walk import OPERATOR, SCENES, _keys, _push, _response, _then, drawn

WORD = "榊原様"  # what the caller says, typed on the wrong widget (on no screen of the demo store)

# Every scene whose screen has a form or a dialog (the dashboard's and the lists' letters are
# commands: their screens are not walked), and forms the snapshot scenes do not open.
FORM_SCENES = {
    **{name: SCENES[name] for name in (
        "intake", "intake_channel", "saved", "resume", "resume_discard", "incident_call", "response_step",
        "timeline_note", "export", "export_summary", "report_texts", "triage", "drill_picker", "drill_intake",
        "drill_mark", "review_add", "threat", "bundle_out", "bundle_in")},
    "roster_add": _then(_keys("ctrl+r"), _keys("a")),           # a person of the roster (FormScreen)
    "notify": _then(_push(_response), _keys("tab", "d")),       # 連絡済: the party notified
    "evidence": _then(_push(_response), _keys("e")),            # 証拠を登録
    "close": _then(_push(_response), _keys("c")),               # 収束
}


async def type_as_the_terminal_sends(app, pilot, text: str) -> None:
    """The bytes of ``text`` read at once, as an IME commits a word (tests/test_typed_characters.py)."""
    from textual._xterm_parser import XTermParser

    for event in XTermParser().feed(text):
        app.post_message(event)
    await pilot.pause()


def field_values(app) -> dict[int, str]:
    from textual.widgets import Input, TextArea

    values = {id(w): w.value for w in app.screen.query(Input)}
    values.update({id(w): w.text for w in app.screen.query(TextArea)})
    return values


async def walk(tmp_path, scene: str) -> tuple[str, list[str], int]:
    """Type WORD on each non-text widget of the scene's screen; what failed, as 'Widget#id'."""
    from textual.widgets import Input, Select, TextArea

    from csirt_tui.app import CsirtDeskApp
    from csirt_tui.demo import build_demo
    from csirt_tui.store import Store
    from screens.dashboard import DashboardScreen

    clock = Clock()
    store = Store.open(tmp_path / "store", clock=clock)
    build_demo(store, operator=OPERATOR)
    app = CsirtDeskApp(store, operator=OPERATOR, clock=clock, backups=False)
    failed: list[str] = []
    async with app.run_test(size=(80, 24), notifications=True) as pilot:  # toasts drawn
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await pilot.pause()
        await FORM_SCENES[scene](app, pilot)
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        widgets = [w for w in screen.focus_chain if not isinstance(w, (Input, TextArea))]
        for widget in widgets:
            name = f"{type(widget).__name__}#{widget.id}"
            for select in screen.query(Select):  # a dropdown opened on the widget before: closed
                if select.expanded and widget not in select.children:
                    select.expanded = False
            app.clear_notifications()
            await pilot.pause()
            widget.focus()
            await pilot.pause()
            if app.focused is not widget:
                continue  # closed with its dropdown
            before_values = field_values(app)
            before_drawn = drawn(app).text.count(WORD)
            await type_as_the_terminal_sends(app, pilot, WORD)
            await pilot.pause(0.1)
            if app.screen is not screen:
                failed.append(f"{name} (left the screen)")
                break
            after_values = field_values(app)
            in_field = any(WORD in value and before_values.get(key) != value for key, value in after_values.items())
            shown = drawn(app).text.count(WORD) > before_drawn
            if not (in_field or shown):
                failed.append(name)
        return type(screen).__name__, failed, len(widgets)


@pytest.mark.parametrize("scene", list(FORM_SCENES))
def test_text_typed_on_any_widget_of_a_form_ends_in_a_field_or_on_screen(tmp_path, scene):
    screen, failed, walked = asyncio.run(walk(tmp_path, scene))
    assert not failed, f"{scene} ({screen}): typed 「{WORD}」 lost on {', '.join(failed)}"


# ------------------------------------------------------------------ the triage, as found
def _triage_app(store_dir):
    from conftest import sample_intake
    from csirt_tui.app import CsirtDeskApp
    from csirt_tui.store import Store

    clock = Clock()
    store = Store.open(store_dir, profile="mutsu", clock=clock)
    inc = store.create_incident(sample_intake(), operator="受付")
    return CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False), inc.id


async def _open_triage(app, pilot, incident_id: str) -> None:
    """The triage in front, its whole form mounted (its lower part comes after the first paint)."""
    from screens.triage import TriageScreen

    await pilot.pause()
    app.open_triage(incident_id)
    assert await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
    assert await wait_until(pilot, lambda: app.screen.keys_wait.is_set())


def test_triage_typing_on_the_examples_finds_one_and_on_a_dropdown_opens_it_on_the_match(store_dir):
    """The defect as found: Tab from the types into the examples and type a word of the example
    wanted (the last of its table): the highlight goes to it and the word is on screen; a word no
    example holds is said in one line; typed on a closed dropdown, its list opens on the match."""
    from textual.widgets import Select, SelectionList

    from csirt_tui.cells import cut

    app, incident_id = _triage_app(store_dir)

    async def go():
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await _open_triage(app, pilot, incident_id)
            screen = app.screen
            await pilot.press("enter", "enter")  # 1 確認中 confirmed; 2 the first type chosen: the examples
            examples = screen.query_one("#examples", SelectionList)
            assert await wait_until(pilot, lambda: app.focused is examples and examples.option_count > 2)
            last = examples.text_at(examples.option_count - 1)
            word = next(last[i:i + 3] for i in range(len(last) - 2)  # wide characters: one line of the toast
                        if all(unicodedata.east_asian_width(c) == "W" for c in last[i:i + 3])
                        and not any(last[i:i + 3] in examples.text_at(j) for j in range(examples.option_count - 1)))
            await type_as_the_terminal_sends(app, pilot, word)
            await pilot.pause(0.1)
            found = examples.highlighted, drawn(app).text, [n.message for n in app._notifications]
            await pilot.press("space")  # Space still ticks, the example found
            await pilot.pause()
            ticked = list(examples.selected)
            await pilot.press("up")  # a key that is not text: the next word is a new search
            before = examples.highlighted
            await type_as_the_terminal_sends(app, pilot, "榊原様")
            await pilot.pause(0.1)
            missing = examples.highlighted == before, drawn(app).text, [n.message for n in app._notifications]
            select = screen.query_one("#encrypted", Select)
            select.focus()
            await pilot.pause()
            app.clear_notifications()
            await type_as_the_terminal_sends(app, pilot, "なし")
            await pilot.pause(0.2)
            overlay = select.query_one("SelectOverlay")
            opened = select.expanded, select._options[overlay.highlighted][1], drawn(app).text
            await pilot.press("enter")
            await pilot.pause()
            chosen = select.value
            await type_as_the_terminal_sends(app, pilot, "ありません")  # あり is an option: opened on it
            await pilot.pause(0.2)
            after_miss = (select.expanded, select._options[overlay.highlighted][1],
                          [n.message for n in app._notifications][-1])
            await pilot.press("escape")
            await pilot.pause()
            after_miss += (app.focused is select, not select.expanded)
            return examples.option_count, (word, last), found, ticked, missing, opened, chosen, \
                examples.get_option_at_index(examples.option_count - 1).value, after_miss

    count, (word, last), found, ticked, missing, opened, chosen, last_value, after_miss = asyncio.run(go())
    assert found[0] == count - 1
    assert f"「{word}」" in found[1]  # drawn
    assert found[2] == [f"「{word}」: {count}/{count} 件目の事例「{cut(last, 30)}」"]  # one line
    assert ticked == [last_value]
    assert missing[0]  # the highlight stays
    assert "「榊原様」" in missing[1]
    assert missing[2][-1] == f"「榊原様」を含む事例はありません ({count} 件)"
    assert opened[0] and opened[1] == "no" and "「なし」" in opened[2]
    assert chosen == "no"
    # no option holds the whole word: the list stays on the option chosen, and says so; Esc closes it
    assert after_miss == (True, "no", "「ありません」を含む選択肢はありません (4 件)", True, True)


def test_a_line_about_the_triage_s_list_goes_with_the_triage_and_text_not_taken_stays_said(store_dir):
    """「含む事例はありません」 said on the triage stayed its 10 s on the dashboard after the triage had
    closed, about a list no longer there. It goes when another screen comes in front; a line
    quoting text that was not taken (to be typed again) stays its time wherever the operator is."""
    from textual.widgets import Checkbox, SelectionList

    app, incident_id = _triage_app(store_dir)

    async def go():
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await _open_triage(app, pilot, incident_id)
            screen = app.screen
            await pilot.press("enter", "enter")  # the examples of the first type
            examples = screen.query_one("#examples", SelectionList)
            assert await wait_until(pilot, lambda: app.focused is examples and examples.option_count > 2)
            await type_as_the_terminal_sends(app, pilot, "榊原様")
            screen.query_one("#crime", Checkbox).focus()
            await pilot.pause()
            await pilot.press("escape")  # Tab and Esc end the word: the next one is a word of its own
            await type_as_the_terminal_sends(app, pilot, "電話中")
            await pilot.pause(0.1)
            on_triage = [n.message for n in app._notifications]
            app.pop_screen()  # the triage closed (its Esc asks first: the question is not what is tested)
            await pilot.pause(0.2)
            return on_triage, [n.message for n in app._notifications], drawn(app).text

    on_triage, on_dashboard, text = asyncio.run(go())
    assert any("「榊原様」を含む事例はありません" in m for m in on_triage)
    assert any(m.startswith("「電話中」は入力されていません") for m in on_triage)
    assert not any("含む事例" in m for m in on_dashboard) and "含む事例" not in text
    assert any(m.startswith("「電話中」は入力されていません") for m in on_dashboard)


def test_triage_text_typed_on_the_types_is_added_to_the_fact_check_note_not_replacing_it(store_dir):
    """Typed on 2 種別, text goes to 確認の結果・方法 (TriageScreen.text_field_for): the field took
    the focus with its whole value selected, and the first character typed replaced it."""
    from textual.widgets import Input

    app, incident_id = _triage_app(store_dir)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await _open_triage(app, pilot, incident_id)
            await type_as_the_terminal_sends(app, pilot, "電話で確認")  # on 1: goes to the note
            await pilot.press("tab")   # back to the choices: 2 種別 (the note's Tab moves on)
            await pilot.pause()
            app.screen.query_one("#type").focus()
            await pilot.pause()
            await type_as_the_terminal_sends(app, pilot, "済み")
            await pilot.pause()
            return app.screen.query_one("#fact_note", Input).value

    assert asyncio.run(go()) == "電話で確認済み"


def test_triage_a_paste_where_no_text_goes_is_moved_found_or_said(store_dir):
    """A paste (tmux paste-buffer, the terminal's paste) on a choice, a list or a checkbox was
    dropped as typed text was: on 2 種別 it goes to 確認の結果・方法, on the examples it finds
    one, on a checkbox one line quotes it (cut when long, with its length)."""
    from textual import events
    from textual.widgets import Input, SelectionList

    app, incident_id = _triage_app(store_dir)
    long_text = "[bold]" + "長" * 300

    async def go():
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await _open_triage(app, pilot, incident_id)
            screen = app.screen
            screen.query_one("#type").focus()
            await pilot.pause()
            app.post_message(events.Paste("折り返しで確認"))
            await pilot.pause()
            note = screen.query_one("#fact_note", Input).value
            await pilot.press("tab", "enter")  # back on 2 種別: the first type; on to the examples
            examples = screen.query_one("#examples", SelectionList)
            assert await wait_until(pilot, lambda: app.focused is examples and examples.option_count > 2)
            app.post_message(events.Paste(examples.text_at(2)[3:9]))
            await pilot.pause()
            found = examples.highlighted
            screen.query_one("#crime").focus()
            await pilot.pause()
            app.clear_notifications()
            app.post_message(events.Paste(long_text))
            await pilot.pause()
            return note, found, [n.message for n in app._notifications], [n.markup for n in app._notifications]

    note, found, said, markup = asyncio.run(go())
    assert note == "折り返しで確認"
    assert found == 2
    assert said == [f"「[bold]{'長' * 194}... (全 306 文字)」は入力されていません: "
                    "チェック欄「犯罪の可能性 (警察)」は文字を受け付けません。入力欄へは Tab で移ってください"]
    assert markup == [False]


def test_on_the_dashboard_letters_stay_commands_and_other_text_is_said(store_dir):
    """The dashboard's letters are commands (t: the triage); a word typed on its list, meant for an
    intake not yet opened, is said with where to type it (it went nowhere)."""
    from screens.triage import TriageScreen

    app, incident_id = _triage_app(store_dir)

    async def go():
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await pilot.pause()
            await type_as_the_terminal_sends(app, pilot, "停電です")
            said = [n.message for n in app._notifications]
            await pilot.press("t")
            opened = await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
            return said, opened

    said, opened = asyncio.run(go())
    assert said == ["「停電です」は入力されていません: 一覧は文字を受け付けません。"
                    "新しい通報の受付は Ctrl+N、一覧の絞り込みは / で入力してください"]
    assert opened


def test_a_line_quoting_text_not_taken_goes_once_that_text_is_typed_again_in_a_field(store_dir):
    """「電話中」 typed on a checkbox is quoted in a line for 30 s, to be typed again where it belongs;
    the line sat over the lower right of the screen, over the field it was being typed into (the
    triage's 想定停止時間 at 80x24, found walking a call). It goes once the field holds the text;
    text typed that is not it leaves the line as it is."""
    from textual.widgets import Checkbox, Input

    app, incident_id = _triage_app(store_dir)

    async def go():
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await _open_triage(app, pilot, incident_id)
            screen = app.screen
            await pilot.press("enter", "enter")  # a type: the lower form follows
            assert await wait_until(pilot, lambda: screen.query("#stop_hours"))
            screen.query_one("#crime", Checkbox).focus()
            await pilot.pause()
            await type_as_the_terminal_sends(app, pilot, "電話中")
            await pilot.pause(0.1)
            said = [n.message for n in app._notifications]
            field = screen.query_one("#stop_hours", Input)
            field.focus()
            await pilot.pause()
            await type_as_the_terminal_sends(app, pilot, "電話")
            await pilot.pause(0.2)
            half = [n.message for n in app._notifications]
            await type_as_the_terminal_sends(app, pilot, "中")
            await pilot.pause(0.2)
            return said, half, [n.message for n in app._notifications], field.value

    said, half, after, value = asyncio.run(go())
    assert any(m.startswith("「電話中」は入力されていません") for m in said), said
    assert any(m.startswith("「電話中」は入力されていません") for m in half), half
    assert value == "電話中"
    assert not any("「電話中」は入力されていません" in m for m in after), after

"""Hostile input through the whole desk: intake → dashboard → timeline → PDF → CSV.

A corpus of hostile strings (markup of Rich, Textual and ReportLab, ANSI / OSC /
C1 escapes, NUL, lone surrogates, bidi and zero-width characters, CSV formulas,
a 10,000-character line, many newlines, a 1 MB paste, invalid and far-future
dates) goes in through the core API (every string) and through the real intake
and note screens (a representative subset, typed key by key and pasted with a
Paste event, the path a terminal's bracketed paste takes).

What must hold:

- nothing crashes;
- **no escape reaches the terminal**: the text of every segment Textual renders
  holds no C0/C1 control, no DEL, no bidi control and no lone surrogate (they
  are shown as symbols: ␛ ␀ ⟨U+202E⟩ …), and markup is shown as typed
  (``[bold]x`` is visible, ``[@click=app.quit]`` clicked does nothing);
- **no markup or escape reaches the PDF**: ReportLab tags print as typed,
  ``<img src="/etc/passwd"/>`` opens no file and embeds no image, ``<a href>``
  makes no link, controls print as 〔ESC〕 …; a 1 MB text does not stall it;
- **the store keeps the text verbatim**, character for character (lone
  surrogates included: the file layer writes them as JSON escapes). Two
  documented exceptions, both of the *field*, not the store — the store keeps
  exactly what the field holds: a line break pasted into a one-line field
  becomes a space (a terminal sends line breaks as CR; Textual's Input kept
  only the first line), and a multi-line field (Textual's TextArea) has one
  kind of line break: CR, CRLF, LF and what ``str.splitlines`` counts as a
  break (VT, FF, FS/GS/RS, NEL, U+2028/2029) all become LF. The core also
  joins a UTF-16 surrogate *pair* given as two code units into the character
  it means (``model.clean_text``).
- **CSV** (``csirt-desk list --csv``): for Excel, so the text is written as
  typed (controls included: a spreadsheet does not obey them) and every cell a
  spreadsheet would run as a formula (``= + - @``, or a tab / CR before one) is
  guarded with a leading ``'``; lone surrogates, which UTF-8 cannot hold, are
  written as U+FFFD. Written to a terminal (``--csv -`` on a tty) the controls
  are shown as symbols instead, like every other command's output.

In a real terminal (the heavy pty test) an ESC inside a bracketed paste never
arrives as typed: Textual's input parser takes it for key presses (``^``, ``]``…),
so the field holds those characters instead; nothing is obeyed either way.
The CSV, the PDFs and the store are also checked with the 1 MB paste; the PDF
prints at most 10,000 characters / 200 lines of one text in sections 1–8 and
60,000 characters / 1,000 lines of one record entry, with a note where it cuts.
"""

from __future__ import annotations

import asyncio
import builtins
import csv
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.cells import cell_len
from textual import events
from textual.widgets import DataTable, Input, Static, TextArea

from conftest import Clock, posix_pty, sample_intake, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.cli import main
from csirt_tui.csvexport import FORMULA_START, unguard
from csirt_tui.report.content import set_report_text
from csirt_tui.report.export import export_form1
from csirt_tui.store import Store
from csirt_tui.views import intake_entry_text

# ---------------------------------------------------------------------------
# The corpus: (id, text). Every text goes through the core; the screens get a subset.

ANSI_RED = "\x1b[31m赤字\x1b[0m"
ANSI_CLEAR = "\x1b[2J\x1b[H消える?"
OSC8_LINK = "\x1b]8;;http://x\x07y\x1b]8;;\x07"
OSC52_CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x07"
OSC_TITLE = "\x1b]0;pwned\x07"
C1_CSI = "\x9b31m赤?\x9b0m"
LONG_LINE = "W" * 10_000
MANY_NEWLINES = "上\n" + "\n" * 3000 + "下"

CORPUS: tuple[tuple[str, str], ...] = (
    # Rich / Textual markup
    ("rich-bold", "[bold]x"),
    ("rich-close", "[/]"),
    ("rich-click", "[@click=app.quit]x[/]"),
    ("rich-link", "[link=file:///etc/passwd]x[/link]"),
    ("rich-style", "[red on white blink]点滅[/red on white blink]"),
    ("rich-escape", "\\[bold]x \\\\[/]"),
    ("textual-var", "$accent $text [$warning]x[/] $"),
    ("braces", "{} {0} {x!r} {{}} %s %(x)s"),
    # ANSI, OSC, C0 / C1 controls
    ("ansi-red", ANSI_RED),
    ("ansi-clear", ANSI_CLEAR),
    ("osc8-link", OSC8_LINK),
    ("osc52-clipboard", OSC52_CLIPBOARD),
    ("osc-title", OSC_TITLE),
    ("c1-csi", C1_CSI),
    ("c1-osc", "\x9d0;pwned\x9c"),
    ("c1-nel", "前\x85後"),
    ("bel", "鳴る\x07\x07"),
    ("backspace", "abc\x08\x08\x08XYZ"),
    ("cr-alone", "見える\r隠す"),
    ("nul", "前\x00後"),
    ("del", "前\x7f後"),
    ("tab", "列1\t列2"),
    ("vt-ff", "a\x0bb\x0cc"),
    ("fs-gs-rs", "a\x1cb\x1dc\x1ed"),
    ("escaped-escapes", "\\x1b[31m \\u001b \\033 &#27; &#x1b;"),
    # Unicode: surrogates, bidi, invisible, combining, emoji, kana
    ("surrogate-high", "\ud800"),
    ("surrogate-low", "前\udfff後"),
    ("rtl-override", "\u202etxt.exe"),
    ("bidi-isolates", "\u2066左\u2067右\u2068先\u2069終"),
    ("bidi-marks", "\u200e\u200f\u061c\u202a\u202b\u202c\u202d"),
    ("zero-width", "ゼ\u200bロ\u200d幅\ufeff文字\u2060"),
    ("line-separators", "行\u2028段\u2029落"),
    ("combining", "e" + "\u0301" * 40 + "Z\u0336\u0337\u0338"),
    ("emoji-zwj", "👩\u200d💻 👨\u200d👩\u200d👧\u200d👦 🏳\ufe0f\u200d🌈 🇯🇵"),
    ("kana-widths", "ｶﾀｶﾅ ﾊﾝｶｸ ｶﾞｷﾞ カタカナ ぜんかく　全角空白"),
    ("rare-chars", "𠮷野家 髙橋 﨑 ㍻ ①②"),
    # ReportLab paragraph markup
    ("rl-bold", "<b>x</b>"),
    ("rl-end-para", "</para>"),
    ("rl-open-para", "<para"),
    ("rl-img", '<img src="/etc/passwd"/>'),
    ("rl-font", '<font name="x" size="99">y</font>'),
    ("rl-entities", "&amp; &#0; &lt; &gt &nbsp; &#xD800;"),
    ("rl-link", '<a href="javascript:alert(1)">x</a>'),
    ("rl-ondraw", "<onDraw name=x/>"),
    ("rl-br-seq", "<br/><seq/><greek>a</greek><strike>s</strike>"),
    # CSV formulas
    ("csv-cmd", "=cmd|'/c calc'!A1"),
    ("csv-plus", "+1"),
    ("csv-minus", "-1"),
    ("csv-at", "@SUM(1)"),
    ("csv-tab", "\t=1+1"),
    ("csv-newline", "\n=HYPERLINK(\"http://x\")"),
    ("csv-cr", "\r=1+1"),
    ("csv-quoted", "'=1+1"),
    # size
    ("long-line", LONG_LINE),
    ("many-newlines", MANY_NEWLINES),
    # invalid and far-future dates (as typed in 発見日時)
    ("date-feb30", "2026-02-30"),
    ("date-25-61", "25:61"),
    ("date-37", "昨日の37時"),
    ("date-reiwa99", "令和99年"),
    ("date-9999", "9999-12-31"),
    ("date-3000", "3000-01-01"),
    ("date-10000", "10000-01-01 00:00"),
    # other
    ("path", "../../../../etc/passwd"),
    ("sql", "'; DROP TABLE incidents; --"),
)
TEXT = dict(CORPUS)

# The 1 MB paste: a firewall log with a little of everything in it (1,048,576 characters).
_LOG_LINE = "2026-11-22 14:{:02d}:{:02d} fw01 DENY 10.0.{}.{} → 203.0.113.9:445 [bold]x[/] \x1b[31m <b>y</b> =1+1\n"
PASTE_1MB = "".join(_LOG_LINE.format(i // 60 % 60, i % 60, i // 256 % 256, i % 256) for i in range(15_000))
PASTE_1MB = (PASTE_1MB * (1_048_576 // len(PASTE_1MB) + 1))[:1_048_576]

OP = "試験 操作者"

# Characters that must never be in a rendered segment's text (the terminal would
# obey them or they would break its layout): C0 (tab and newline too: Textual
# lays text out in cells), DEL, C1, bidi controls, lone surrogates.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ud800-\udfff]")


def run(coro):
    asyncio.run(coro)


# ---------------------------------------------------------------------------
# Reading what Textual renders


def rendered_lines(app) -> list[str]:
    """The screen as Textual would send it, one string per line (segment texts only)."""
    return ["".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips()]


def unsafe_in_render(app) -> list[tuple[int, str, str]]:
    """(line, characters, the line) for every rendered line holding a character a terminal would obey."""
    found = []
    for y, strip in enumerate(app.screen._compositor.render_strips()):
        for seg in strip:
            if seg.control:
                continue
            bad = UNSAFE.findall(seg.text)
            if bad:
                found.append((y, "".join(sorted(set(bad))), "".join(s.text for s in strip)[:120]))
    return found


def assert_terminal_safe(app, where: str) -> None:
    found = unsafe_in_render(app)
    assert not found, f"{where}: control characters reach the terminal: {found[:5]!r}"


# ---------------------------------------------------------------------------
# The store, filled through the core API (module scope: built once)


def _intake_of(text: str) -> dict:
    return sample_intake(place=text, what=text, memo=text, found_at_text=text, found_at=None,
                         reporter={"name": text, "section": text, "contact": text})


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile") / "store"
    clock = Clock()
    store = Store.open(root, clock=clock)
    ids: dict[str, str] = {}
    for cid, text in CORPUS:
        intake = _intake_of(text)
        inc = store.create_incident(intake, operator=OP, text=intake_entry_text(store.profile, intake))
        store.append(inc.id, "note", text, operator=text[:30] or OP)
        ids[cid] = inc.id
    # one incident holding the whole corpus (the record and the PDF), and the 1 MB paste
    everything = "\n".join(text for _, text in CORPUS if text not in (LONG_LINE, MANY_NEWLINES))
    intake = sample_intake(what=everything, place=TEXT["rl-img"], reporter={"name": TEXT["rich-click"],
                                                                           "section": OSC_TITLE,
                                                                           "contact": TEXT["csv-cmd"]})
    inc = store.create_incident(intake, operator=OP, text=intake_entry_text(store.profile, intake))
    for _cid, text in CORPUS:
        store.append(inc.id, "note", text, operator=OP)
    set_report_text(store, inc.id, "cause", everything, operator=OP)
    set_report_text(store, inc.id, "summary", TEXT["rl-bold"] + TEXT["rich-bold"], operator=OP)
    ids["everything"] = inc.id
    intake = sample_intake(what=PASTE_1MB)
    ids["paste-1mb"] = store.create_incident(intake, operator=OP,
                                             text=intake_entry_text(store.profile, intake)).id
    # a far-future receipt time in the store (no input path lets one in; nothing may crash on it)
    ids["received-9999"] = store.create_incident(sample_intake(received_at="9999-12-31T23:59:00+09:00",
                                                               what="9999年の受付"), operator=OP).id
    return SimpleNamespace(root=root, store=store, clock=clock, ids=ids, everything=everything)


# ---------------------------------------------------------------------------
# The corpus itself


def test_the_corpus_is_large_and_covers_every_kind():
    assert len(CORPUS) >= 50
    assert len(TEXT) == len(CORPUS), "ids must be unique"
    for needle in ("[bold]x", "[/]", "[@click=app.quit]x[/]", "[link=file:///etc/passwd]x[/link]", "$accent", "{}",
                   "\x1b[31m", "\x1b[2J", "\x1b]8;;", "\x1b]52;c;", "\x1b]0;pwned\x07", "\x9b", "\x07", "\x08",
                   "\r", "\x00", "\x7f", "\ud800", "\u202e", "\u2066", "\u200b", "\u200d", "\ufeff", "\u0301",
                   "ｶﾀｶﾅ", "<b>", "</para>", "<para", '<img src="/etc/passwd"/>', "<font name=", "&amp;", "&#0;",
                   "&lt;", '<a href="javascript:', "<onDraw name=x/>", "=cmd|'/c calc'!A1", "+1", "-1", "@SUM(1)",
                   "\t=", "\n=", "2026-02-30", "25:61", "昨日の37時", "令和99年", "9999-12-31", "3000-01-01",
                   "10000-"):
        assert any(needle in text for _, text in CORPUS), needle
    assert len(LONG_LINE) == 10_000 and " " not in LONG_LINE
    assert MANY_NEWLINES.count("\n") > 3000
    assert len(PASTE_1MB) == 1_048_576


# ---------------------------------------------------------------------------
# Store: verbatim


def test_the_store_keeps_every_string_verbatim(corpus_store):
    store = Store.open(corpus_store.root, clock=corpus_store.clock)  # read back from disk
    for cid, text in CORPUS:
        inc = store.incident(corpus_store.ids[cid])
        it = inc.intake
        assert it["place"] == text, cid
        assert it["what"] == text, cid
        assert it["memo"] == text, cid
        assert it["found_at_text"] == text, cid
        assert it["reporter"] == {"name": text, "section": text, "contact": text}, cid
        note = inc.entries[1]
        assert (note.kind, note.text, note.operator) == ("note", text, text[:30] or OP), cid
    inc = store.incident(corpus_store.ids["everything"])
    assert [e.text for e in inc.entries[1:1 + len(CORPUS)]] == [text for _, text in CORPUS]
    assert inc.intake["what"] == corpus_store.everything
    assert store.incident(corpus_store.ids["paste-1mb"]).intake["what"] == PASTE_1MB
    report = store.verify()
    assert report.ok, report.problems[:3]
    # every file is valid UTF-8 JSON (a lone surrogate is written as a \ud800 escape)
    files = [p for p in Path(corpus_store.root).rglob("*.json") if "backups" not in p.parts]
    for p in files:
        p.read_bytes().decode("utf-8")
    assert any(b"\\ud800" in p.read_bytes() for p in files)


def test_a_surrogate_pair_given_as_two_code_units_is_joined():
    """The documented exception (model.clean_text): a pair that arrives as two
    UTF-16 code units is stored as the one character it means."""
    from csirt_tui.model import clean_text

    assert clean_text("前\ud83d\ude00後") == "前😀後"
    assert clean_text("\ud800 \udfff") == "\ud800 \udfff"  # lone ones stay


# ---------------------------------------------------------------------------
# Dashboard


def _app(store, clock, operator=OP):
    return CsirtDeskApp(store, operator=operator, clock=clock, backups=False)


def test_dashboard_shows_every_row_literally_and_obeys_nothing(corpus_store):
    store, clock = corpus_store.store, corpus_store.clock
    state: dict = {}

    async def scenario():
        app = _app(store, clock)
        async with app.run_test(size=(200, 60)) as pilot:
            await pilot.pause()
            table = app.screen.query_one("#incidents", DataTable)
            assert await wait_until(pilot, lambda: table.row_count > 0)
            # every row the dashboard built, visible or not
            for key in list(table.rows):
                plain = "".join(str(c) for c in table.get_row(key))
                assert not UNSAFE.search(plain), (key.value, plain[:80])
            assert_terminal_safe(app, "dashboard (top)")
            screen_text = "\n".join(rendered_lines(app))
            table.move_cursor(row=table.row_count - 1)  # the rest of the rows
            await pilot.pause()
            assert_terminal_safe(app, "dashboard (bottom)")
            screen_text += "\n".join(rendered_lines(app))
            for literal in ("[bold]x", "[/]", "[@click=app.quit]x[/]", "[link=file:///etc/passwd]x[/link]",
                            "$accent $text [$warning]x[/] $", "{} {0} {x!r} {{}}", "<b>x</b>", "␛[31m赤字",
                            "=cmd|'/c calc'!A1", "⟨U+202E⟩txt.exe", "前␀後"):
                assert literal in screen_text, literal
            # the ones past the first 50 rows: through the filter
            for query in ("2026-005", "2026-006", "9999-"):
                flt = app.screen.query_one("#filter", Input)
                flt.value = query
                await pilot.pause()
                assert table.row_count >= 1, query
                assert_terminal_safe(app, f"dashboard (filter {query})")
            flt.value = ""
            await pilot.pause()
            # click right on the [@click=app.quit] text: it is text, not a link to an action
            table.move_cursor(row=0)
            await pilot.pause()
            lines = rendered_lines(app)
            y = next(i for i, line in enumerate(lines) if "[@click=app.quit]x[/]" in line)
            x = cell_len(lines[y][: lines[y].index("[@click=app.quit]x[/]")]) + 3
            await pilot.click(offset=(x, y))
            await pilot.pause()
            await pilot.click(offset=(x, y))  # a second click opens the row
            await pilot.pause(0.2)
            state["running"] = app.is_running
            state["screen"] = type(app.screen).__name__
            assert_terminal_safe(app, "after the clicks")

    run(scenario())
    assert state["running"], "[@click=app.quit] quit the app"
    assert state["screen"] == "IncidentScreen"


# ---------------------------------------------------------------------------
# Intake screen: typed and pasted, then saved


async def _type(pilot, text: str) -> None:
    await pilot.press(*("space" if ch == " " else ch for ch in text))


async def _paste(pilot, app, text: str) -> None:
    app.post_message(events.Paste(text))  # what the terminal's bracketed paste becomes
    await pilot.pause()


# one-line fields: (field id, how, text)
INTAKE_LINES = (
    ("received_at", "paste", "令和99年"),                      # unreadable: stamped at save, kept as typed
    ("found_at", "type", "昨日の37時"),
    ("place", "type", "[bold]x[/]$a{0}=1"),
    ("rep_name", "paste", "=cmd|'/c calc'!A1" + OSC8_LINK),
    ("rep_section", "paste", OSC52_CLIPBOARD + OSC_TITLE + ANSI_CLEAR + C1_CSI + "\x00\x7f\x08\x07"),
    ("rep_contact", "paste", "\u202e逆 \u2066x\u2069 \ud800 ゼ\u200bロ ｶﾀｶﾅ 👩\u200d💻 e\u0301\u0301"),
    ("callback_number", "paste", "+1 -1 @SUM(1) \x9d0;t\x9c 前\x85後 a\x1cb"),
)
# A multi-line field breaks its lines at CR, LF and CRLF only: VT, FF, U+001C-U+001E, U+0085,
# U+2028 and U+2029 are characters of the text (issue 14.11; Textual's own TextArea broke there).
MULTI_BREAKS = re.compile("\r\n|[\r\n]")


def one_line_paste(text: str) -> str:
    """What a one-line field holds after a paste (see the module docstring)."""
    return re.sub(r"\r\n|\r|\n", " ", re.sub(r"(?:\r\n|\r|\n)+$", "", text))


def multi_line(text: str) -> str:
    """What a multi-line field holds after a paste: one kind of line break."""
    return MULTI_BREAKS.sub("\n", text)


def test_intake_screen_typed_and_pasted_hostile_text_is_saved_as_typed(store_dir):
    clock = Clock()
    store = Store.open(store_dir, clock=clock)
    what = "\n".join(text for cid, text in CORPUS if cid not in ("long-line", "many-newlines")) + "\n" + LONG_LINE
    memo = "<img src=\"/etc/passwd\"/> <para </para> &#0; 見える\r隠す\r\n行\u2028段 \x0bVT \x1cFS"
    held: dict = {}

    async def scenario():
        app = _app(store, clock)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.press("ctrl+n")
            await pilot.pause()
            screen = app.screen
            for wid, how, text in INTAKE_LINES:
                field = screen.query_one(f"#{wid}", Input)
                field.focus()
                await pilot.pause()
                field.value = ""
                if how == "type":
                    await _type(pilot, text)
                else:
                    await _paste(pilot, app, text)
            # a paste of several lines into a one-line field keeps every line
            screen.query_one("#place", Input).focus()
            await pilot.press("end")  # focus selects the whole value: add at the end instead
            await _paste(pilot, app, " [@click=app.quit]押す[/] 別館\r2階\n")
            screen.query_one("#what", TextArea).focus()
            await _paste(pilot, app, what)
            screen.query_one("#memo", TextArea).focus()
            await _paste(pilot, app, memo)
            await pilot.pause(0.3)
            assert_terminal_safe(app, "intake form")
            screen.query_one("#what", TextArea).focus()
            await pilot.pause()
            assert_terminal_safe(app, "intake form (③ focused)")
            assert "✘" in str(screen.query_one("#found_at-preview", Static).render())
            held.update({wid: screen.query_one(f"#{wid}", Input).value for wid, _, _ in INTAKE_LINES})
            held["what"] = screen.query_one("#what", TextArea).text
            held["memo"] = screen.query_one("#memo", TextArea).text
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: type(app.screen).__name__ == "SavedScreen")
            await pilot.press("enter")
            await pilot.pause()
            assert_terminal_safe(app, "dashboard after the save")
            assert app.is_running

    run(scenario())
    expect = {wid: (text if how == "type" else one_line_paste(text)) for wid, how, text in INTAKE_LINES}
    expect["place"] += " [@click=app.quit]押す[/] 別館 2階"
    expect["what"], expect["memo"] = multi_line(what), multi_line(memo)
    assert held == expect  # the fields hold what was typed and pasted
    inc = Store.open(store_dir, clock=clock).incident("2026-0001")
    it = inc.intake
    assert it["found_at_text"] == expect["found_at"] and it["found_at"] is None
    assert set(it["time_errors"]) == {"received_at", "found_at"}
    assert it["received_at_text"] == "令和99年" and it["received_at"] == clock().isoformat(timespec="seconds")
    assert "受付日時（読めない入力のまま）: 令和99年" in inc.entries[0].text  # on the record as typed
    assert it["place"] == expect["place"]
    assert it["reporter"] == {"name": expect["rep_name"], "section": expect["rep_section"],
                              "contact": expect["rep_contact"]}
    assert it["callback"]["number"] == expect["callback_number"]
    assert it["what"] == expect["what"] and it["memo"] == expect["memo"]
    first = inc.entries[0].text
    assert "受付日時（読めない入力のまま）: 令和99年" in first and expect["rep_section"] in first
    assert store.verify().ok


def test_intake_screen_takes_a_1mb_paste_whole(store_dir):
    """The 1 MB paste into ③何が through the screen: kept whole, drawn safely, saved."""
    clock = Clock()
    store = Store.open(store_dir, clock=clock)

    async def scenario():
        app = _app(store, clock)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.press("ctrl+n")
            await pilot.pause()
            app.screen.query_one("#what", TextArea).focus()
            await _paste(pilot, app, PASTE_1MB)
            assert await wait_until(pilot, lambda: any(len(d["data"]["what"]) == len(PASTE_1MB)
                                                       for d in store.list_drafts()), 30)
            assert_terminal_safe(app, "intake with 1 MB")
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: type(app.screen).__name__ == "SavedScreen", 30)
            await pilot.press("enter")
            await pilot.pause()
            assert_terminal_safe(app, "dashboard with 1 MB")

    run(scenario())
    assert Store.open(store_dir, clock=clock).incident("2026-0001").intake["what"] == PASTE_1MB


# ---------------------------------------------------------------------------
# Incident view and timeline (record), with a note added through the dialog


def test_incident_and_timeline_show_the_record_literally(corpus_store):
    store, clock = corpus_store.store, corpus_store.clock
    incident_id = corpus_store.ids["everything"]
    note = "\n".join((TEXT["rich-click"], ANSI_RED, OSC_TITLE, C1_CSI, "\u202eabc", "前\x00後", TEXT["rl-img"],
                      TEXT["csv-cmd"], "\ud800", "\t=1+1"))

    async def scenario():
        from screens.incident import IncidentScreen
        from screens.timeline import NoteScreen, TimelineScreen

        app = _app(store, clock)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            app.push_screen(IncidentScreen(incident_id))
            await pilot.pause()
            assert_terminal_safe(app, "incident view")
            await pilot.press("l")
            assert await wait_until(pilot, lambda: isinstance(app.screen, TimelineScreen))
            screen = app.screen
            assert await wait_until(pilot, lambda: "✔" in str(screen.query_one("#timeline-heading",
                                                                                  Static).render()))
            table = screen.query_one("#entries", DataTable)
            for key in list(table.rows):
                plain = "".join(str(c) for c in table.get_row(key))
                assert not UNSAFE.search(plain), plain[:80]
            assert_terminal_safe(app, "timeline (newest)")
            # the detail pane of every entry (the full text)
            for row in range(table.row_count):
                table.move_cursor(row=row)
                detail = str(screen.query_one("#detail", Static).render())
                assert not UNSAFE.search(detail.replace("\n", "")), (row, detail[:80])
            table.move_cursor(row=3)
            await pilot.pause()
            assert_terminal_safe(app, "timeline (oldest)")
            await pilot.press("n")
            assert await wait_until(pilot, lambda: isinstance(app.screen, NoteScreen))
            await _paste(pilot, app, note)
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: app.screen is screen)
            assert await wait_until(pilot, lambda: store.timeline(incident_id)[-1].kind == "note"
                                    and store.timeline(incident_id)[-1].text == note)
            await pilot.pause(0.2)
            assert_terminal_safe(app, "timeline after the note")
            assert app.is_running

    before = len(store.timeline(incident_id))
    run(scenario())
    entries = store.timeline(incident_id)
    assert len(entries) == before + 1
    assert entries[-1].text == note and entries[-1].operator == OP


# The dashboard filter, the record's note dialog and search, and the header.

def test_note_dialog_and_search_show_controls_as_symbols(corpus_store):
    store, clock = corpus_store.store, corpus_store.clock
    incident_id = corpus_store.ids["ansi-red"]
    found: dict = {}

    async def scenario():
        from screens.timeline import NoteScreen, TimelineScreen

        app = _app(store, clock)
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause()
            app.push_screen(TimelineScreen(incident_id))
            await pilot.pause()
            search = app.screen.query_one("#search", Input)
            search.focus()
            await _paste(pilot, app, OSC_TITLE + ANSI_RED)
            found["search"] = unsafe_in_render(app)
            search.value = ""
            app.screen.query_one("#entries", DataTable).focus()
            await pilot.pause()
            await pilot.press("n")
            assert await wait_until(pilot, lambda: isinstance(app.screen, NoteScreen))
            await _paste(pilot, app, OSC52_CLIPBOARD + ANSI_CLEAR + C1_CSI)
            app.screen.query_one("#note-when", Input).value = OSC_TITLE
            await pilot.pause()
            found["note"] = unsafe_in_render(app)

    run(scenario())
    assert found == {"search": [], "note": []}


def test_dashboard_filter_shows_controls_as_symbols(corpus_store):
    store, clock = corpus_store.store, corpus_store.clock
    found: list = []

    async def scenario():
        app = _app(store, clock)
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause()
            app.screen.query_one("#filter", Input).focus()
            await _paste(pilot, app, OSC_TITLE + "\x9b2J")
            await pilot.pause()
            found.extend(unsafe_in_render(app))

    run(scenario())
    assert found == []


def test_operator_name_in_the_header_is_shown_literally(corpus_store):
    store, clock = corpus_store.store, corpus_store.clock
    found: list = []

    async def scenario():
        app = _app(store, clock, operator="受付" + OSC_TITLE + ANSI_RED)
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause()
            found.extend(unsafe_in_render(app))

    run(scenario())
    assert found == []


# ---------------------------------------------------------------------------
# PDF (報告様式1)


def _pdftotext(path: Path) -> str:
    exe = shutil.which("pdftotext")
    if not exe:
        pytest.skip("pdftotext is not installed")
    res = subprocess.run([exe, "-enc", "UTF-8", str(path), "-"], capture_output=True, timeout=120)
    assert res.returncode == 0, res.stderr.decode(errors="replace")
    return res.stdout.decode("utf-8")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


PDF_LITERALS = ("[bold]x", "[@click=app.quit]x[/]", "[link=file:///etc/passwd]x[/link]", "$accent$text[$warning]x[/]",
                "<b>x</b>", "</para>", "<para", '<img src="/etc/passwd"/>', '<font name="x" size="99">y</font>',
                "&amp;", "&#0;", "&lt;", "&#xD800;", '<a href="javascript:alert(1)">x</a>', "<onDraw name=x/>",
                "<br/><seq/><greek>a</greek>", "=cmd|'/c calc'!A1", "@SUM(1)", "ｶﾀｶﾅ", "ぜんかく", "昨日の37時",
                "令和99年", "9999-12-31", "10000-01-01", "\\x1b[31m", "'; DROP TABLE incidents; --",
                # controls printed by name, bidi controls by code point
                "〔ESC〕[31m赤字", "〔ESC〕]0;pwned〔BEL〕", "前〔NUL〕後", "前〔DEL〕後", "abc〔BS〕〔BS〕〔BS〕XYZ",
                "〈U+009B〉31m", "〈U+202E〉txt.exe", "〈U+2066〉左")


def test_form1_pdf_prints_the_corpus_as_typed_and_opens_nothing(corpus_store, tmp_path, monkeypatch):
    from pypdf import PdfReader
    from reportlab.lib import utils as rl_utils

    store = corpus_store.store
    opened: list[str] = []
    real_open, real_open_for_read = builtins.open, rl_utils.open_for_read

    def watch_open(file, *a, **kw):
        opened.append(str(file))
        return real_open(file, *a, **kw)

    def watch_open_for_read(name, *a, **kw):
        opened.append(str(name))
        return real_open_for_read(name, *a, **kw)

    monkeypatch.setattr(builtins, "open", watch_open)
    monkeypatch.setattr(rl_utils, "open_for_read", watch_open_for_read)
    result = export_form1(store, corpus_store.ids["everything"], tmp_path / "corpus.pdf", operator=OP,
                          waive_reason="試験")
    monkeypatch.undo()
    assert not [p for p in opened if "passwd" in p or p.startswith(("http", "javascript"))], opened
    text = _pdftotext(result.path)
    for ch in "\x1b\x9b\x9d\x07\x00\x08\x7f\u202e\u2066\u2069\u202a\ud800":
        assert ch not in text, repr(ch)
    flat = _squash(text)
    for literal in PDF_LITERALS:
        assert _squash(literal) in flat, literal
    reader = PdfReader(str(result.path))
    for page in reader.pages:
        xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
        assert not any(x.get_object().get("/Subtype") == "/Image" for x in xobjects.values())
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A") or {}
            assert "/URI" not in action and "/JS" not in action, action
    assert not any(b in result.path.read_bytes() for b in (b"/JavaScript", b"/URI"))


def test_form1_pdf_of_each_hostile_incident_and_the_1mb_paste(corpus_store, tmp_path):
    """A few incidents whose every field is one hostile string (the long line, the
    many newlines, a far-future receipt) and the 1 MB paste: built in bounded time."""
    import time

    store = corpus_store.store
    for cid in ("long-line", "many-newlines", "rl-end-para", "surrogate-high", "emoji-zwj", "received-9999"):
        result = export_form1(store, corpus_store.ids[cid], tmp_path / f"{cid}.pdf", operator=OP,
                              waive_reason="試験")
        assert result.pages >= 1, cid
    text = _pdftotext(tmp_path / "long-line.pdf")
    assert text.count("W") >= 2 * len(LONG_LINE)  # ③ and the record: every character
    assert "インシデント9999-0001" in _squash(_pdftotext(tmp_path / "received-9999.pdf"))
    flat = _squash(_pdftotext(tmp_path / "many-newlines.pdf"))  # 3,000 blank lines: cut, and said so
    assert "上" in flat and "文字は報告書では省略しました" in flat
    start = time.perf_counter()
    result = export_form1(store, corpus_store.ids["paste-1mb"], tmp_path / "1mb.pdf", operator=OP,
                          waive_reason="試験")
    took = time.perf_counter() - start
    assert took < 60, took  # was unbounded: one 1 MB paragraph is laid out again at every page break
    flat = _squash(_pdftotext(result.path))
    assert "文字は報告書では省略しました" in flat and "〔ESC〕[31m" in flat
    assert store.incident(corpus_store.ids["paste-1mb"]).intake["what"] == PASTE_1MB  # the store has it all


def test_form1_pdf_with_an_operator_name_of_any_length(tmp_path):
    """The 担当者 column is narrow: a 10,000-character or 3,000-line operator name
    (``--operator`` takes anything) made a row taller than a page (LayoutError)."""
    store = Store.open(tmp_path / "store", clock=Clock())
    iid = store.create_incident(sample_intake(), operator=LONG_LINE).id
    store.append(iid, "note", "メモ", operator=MANY_NEWLINES)
    result = export_form1(store, iid, tmp_path / "op.pdf", operator=OSC_TITLE, waive_reason="試験")
    flat = _squash(_pdftotext(result.path))
    assert "W" * 40 + "…" in flat and "上" in flat
    # the record keeps them (the export is two entries: started, written)
    assert [e.operator for e in store.timeline(iid)] == [LONG_LINE, MANY_NEWLINES, OSC_TITLE, OSC_TITLE]


def test_a_text_starting_with_blank_lines_survives_any_page_break():
    """ReportLab could not draw the part of a split paragraph made only of blank
    lines (TypeError: 'FragLine' object is not subscriptable): a ③何が pasted with
    empty lines first failed to export whenever they met a page break."""
    from reportlab.platypus import SimpleDocTemplate, Spacer

    from csirt_tui.report.pdfkit import PAGE, find_font, make_styles, para

    st = make_styles(find_font())
    for text in ("\n" * 10 + "本文", "\n \n\u3000\n\t\n" * 5 + "本文", "前" + "\n" * 30 + "後"):
        for fill in range(24):
            doc = SimpleDocTemplate(io.BytesIO(), pagesize=PAGE)
            doc.build([Spacer(1, doc.height - 30 - 4 * fill), para(text, st.item)])


def test_committee_summary_pdf_lists_the_corpus_as_typed(corpus_store, tmp_path):
    from datetime import date

    from csirt_tui.report.summary import export_summary

    result = export_summary(corpus_store.store, tmp_path / "summary.pdf", start=date(2026, 4, 1),
                            end=date(2026, 11, 30), operator=OP, waive_reason="試験")
    text = _pdftotext(result.path)
    for ch in "\x1b\x9b\x07\x00\u202e\ud800":
        assert ch not in text, repr(ch)
    flat = _squash(text)
    for literal in ("[@click=app.quit]x[/]", "<b>x</b>", '<img src="/etc/passwd"/>', "=cmd|'/c calc'!A1"):
        assert _squash(literal) in flat, literal


# ---------------------------------------------------------------------------
# CSV (csirt-desk list --csv)


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_list_csv_keeps_the_text_and_guards_formulas(corpus_store, tmp_path, capsys):
    out = tmp_path / "list.csv"
    assert main(["--store", str(corpus_store.root), "--operator", OP, "list", "--all", "--csv", str(out)]) == 0
    assert "CSV に書き出しました" in capsys.readouterr().out
    data = out.read_bytes()
    rows = _csv_rows(data)
    header, body = rows[0], rows[1:]
    index = {r["id"]: r for r in corpus_store.store.list_incidents()}
    assert [r[0] for r in body] == list(index)  # every incident, once, in the list's order
    columns = {name: header.index(name) for name in ("概要", "発生場所", "報告者")}
    for row in body:
        for cell in row:  # no cell a spreadsheet would run
            assert not cell.startswith(FORMULA_START), (row[0], cell)
        src = index[row[0]]
        for name, key in (("概要", "summary"), ("発生場所", "place"), ("報告者", "reporter")):
            expected = re.sub("[\ud800-\udfff]", "\ufffd", src.get(key) or "")
            cell = row[columns[name]]
            assert unguard(cell) == expected, (row[0], name)
            guarded = expected.lstrip("'").startswith(FORMULA_START)
            assert cell == ("'" + expected if guarded else expected), (row[0], name, cell)
    by_id = {r[0]: r for r in body}
    assert by_id[corpus_store.ids["csv-cmd"]][columns["概要"]] == "'=cmd|'/c calc'!A1"
    assert by_id[corpus_store.ids["csv-at"]][columns["報告者"]] == "'@SUM(1)"
    assert by_id[corpus_store.ids["csv-quoted"]][columns["概要"]] == "''=1+1"  # read back as '=1+1
    assert by_id[corpus_store.ids["sql"]][columns["概要"]] == "'; DROP TABLE incidents; --"  # not a formula
    # verbatim, as the CSV is for a spreadsheet: the controls are in the file
    assert by_id[corpus_store.ids["ansi-red"]][columns["概要"]] == ANSI_RED
    assert by_id[corpus_store.ids["rich-click"]][columns["概要"]] == "[@click=app.quit]x[/]"


class _Tty(io.TextIOWrapper):
    def isatty(self) -> bool:
        return True


def test_list_csv_to_a_terminal_shows_controls_as_symbols(corpus_store, monkeypatch):
    raw = io.BytesIO()
    tty = _Tty(raw, encoding="utf-8", newline="", write_through=True)
    monkeypatch.setattr(sys, "stdout", tty)
    assert main(["--store", str(corpus_store.root), "list", "--all", "--csv", "-"]) == 0
    tty.flush()
    data = raw.getvalue()
    text = data.decode("utf-8")
    assert not UNSAFE.search(text.replace("\r\n", "").replace("\n", "").replace("\t", ""))
    rows = _csv_rows(data)
    assert len(rows) == len(corpus_store.store.list_incidents()) + 1
    assert "'=cmd|'/c calc'!A1" in [cell for row in rows for cell in row]
    assert "␛[31m赤字␛[0m" in text


# ---------------------------------------------------------------------------
# The real app in a pseudo-terminal: what reaches the terminal, byte for byte


PTY_PAYLOADS = {  # text on the record → bytes that must never come out of the app
    "\x1b]0;pwned-title\x07": b"\x1b]0;pwned",
    "\x1b]52;c;cHduZWQ=\x07": b"\x1b]52;c;cHduZWQ",
    "\x1b]8;;http://evil.example/\x07x\x1b]8;;\x07": b"evil.example/\x07",
    "\x9b2J\x9d0;c1-title\x9c": b"\xc2\x9d0;c1",
    "\x1b[5m\x1b[38;5;196mBLINK\x1b[0m": b"\x1b[5m",
}
# Pasted in the terminal: no ESC (Textual's input parser takes an ESC inside a
# bracketed paste for a key press, so such a paste never arrives as typed).
PTY_PASTE = "C1\x9b2J\x9d0;c1-title\x9c \u202e逆 \x7f [bold]x[/] <b>y</b> =1+1"


@pytest.mark.heavy
@posix_pty
def test_in_a_real_terminal_no_escape_comes_out(tmp_path):
    """csirt-desk in a pty: a record holding OSC / C1 / SGR sequences shown on the
    dashboard and in the incident view, a bracketed paste of C1 and bidi controls
    into the intake; the bytes the app writes hold none of them (the terminal's
    title, clipboard and links stay untouched), and the paste is saved as pasted."""
    from test_tui_crash import Terminal, wait_for

    store_dir = tmp_path / "store"
    store = Store.open(store_dir)
    record = "".join(PTY_PAYLOADS)
    store.create_incident(sample_intake(what=record, place=record, reporter={"name": record}), operator=OP)
    term = Terminal(store_dir)
    try:
        assert wait_for(lambda: (store_dir / "backups").is_dir() and any((store_dir / "backups").iterdir()),
                        30, term), term.output[-500:]
        term.pump(0.5)
        term.send("\r")  # open the incident
        term.pump(1.0)
        term.send("\x1b")  # back
        term.pump(0.5)
        term.send("\x0e")  # Ctrl+N
        term.pump(1.0)
        for _ in range(3):  # ①いつ, ②どこで, ③何が
            term.send("\t")
            term.send("\x1b[200~" + PTY_PASTE + "\x1b[201~")
        assert wait_for(lambda: any(d["data"].get("what") == PTY_PASTE for d in open_drafts(store_dir)), 15,
                        term), term.output[-800:]
        term.send("\x13")  # Ctrl+S
        assert wait_for(lambda: len(Store.open(store_dir).list_incidents()) == 2, 10, term)
        term.send("\r")    # back to the dashboard
        term.pump(1.0)
    finally:
        term.kill()
    for needle in list(PTY_PAYLOADS.values()) + [b"\xc2\x9b", b"\xe2\x80\xae"]:
        assert needle not in term.output, needle
    assert "␛]0;pwned-title".encode() in term.output  # drawn as symbols instead
    saved = Store.open(store_dir).incident("2026-0002").intake
    assert saved["what"] == PTY_PASTE and saved["place"] == PTY_PASTE and saved["found_at_text"] == PTY_PASTE


def open_drafts(store_dir):
    try:
        return Store.open(store_dir).list_drafts()
    except Exception:
        return []

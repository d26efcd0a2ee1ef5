"""The triage screen for an operator on a call (issue 15), at 80x24 and 120x30.

The example under the cursor is always on screen (the list scrolls with Down / End / PgDn;
the consequence texts are under the list, never above it pushing it away); the decision
panel stays as high whatever is ticked; what the screen draws has no character of
ambiguous East Asian width (one cell for Textual, two in a Japanese font); the whole
triage of a call takes few keys (issue 15's goals: <= 8 for a level with a matching
example, <= 12 for a level-0 close).
"""

from __future__ import annotations

import asyncio
import unicodedata
from datetime import datetime

import pytest
from textual.widgets import Input, RadioSet, Select, SelectionList, Static

from conftest import TZ, Clock, sample_intake, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens.triage import TriageScreen, narrow

MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=TZ)
SIZES = [(80, 24), (120, 30)]
PROFILES = ["mutsu", "tsukuba", "mito", "osaki"]


def _store(store_dir, profile="mutsu", source=None):
    clock = Clock(MONDAY_10)
    store = Store.open(store_dir, profile=profile, clock=clock)
    source = source or store.profile.report_sources[-1]["id"]
    inc = store.create_incident(sample_intake(received_at="2026-11-16T09:50:00+09:00", reporter_type=source,
                                              callback={"number": "0175-22-1111"}), operator="受付")
    return store, clock, inc.id


def run(coro):
    asyncio.run(coro)


def screen_text(app) -> list[str]:
    """What is drawn on the terminal, line by line (the screen's compositor: every widget, toast,
    scroll bar and border, as Textual will write them)."""
    return ["".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips()]


def ambiguous(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        for ch in line:
            if unicodedata.east_asian_width(ch) == "A":
                found.setdefault(ch, line.strip()[:60])
    return found


def type_buttons(screen):
    return list(screen.query_one("#type", RadioSet).query("RadioButton"))


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_what_the_triage_draws_has_no_ambiguous_width_character(store_dir, profile, size):
    store, clock, incident_id = _store(store_dir, profile)
    found: dict[str, str] = {}

    async def scenario():
        app = CsirtDeskApp(store, operator="見本", clock=clock, backups=False)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            app.open_triage(incident_id)
            assert await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
            screen = app.screen
            await pilot.pause()
            found.update(ambiguous(screen_text(app)))
            await pilot.press("enter")  # 確認中 confirmed: the types
            for index, _button in enumerate(type_buttons(screen)):
                screen.set_focus(screen.query_one("#type", RadioSet))
                await pilot.pause()
                for _ in range(index):
                    await pilot.press("down")
                await pilot.pause()
                found.update(ambiguous(screen_text(app)))  # the type under the cursor, described
                await pilot.press("enter")
                await pilot.pause()
                examples = screen.query_one("#examples", SelectionList)
                for _ in range(examples.option_count):
                    found.update(ambiguous(screen_text(app)))
                    await pilot.press("down")
                    await pilot.pause()
                if examples.option_count:
                    await pilot.press("space")  # the decision: level, priority, parties, steps
                    await pilot.pause()
                    found.update(ambiguous(screen_text(app)))
            for wid in ("personal_data", "segment", "ac-confidentiality", "reported_to", "override"):
                if not screen.query(f"#{wid}"):  # (4's 報告先: made only when its box is shown)
                    continue
                select = screen.query_one(f"#{wid}", Select)
                if not select.display or not select.parent.display:
                    continue
                screen.set_focus(select)
                await pilot.pause()
                await pilot.press("enter")  # the dropdown, open
                await pilot.pause()
                found.update(ambiguous(screen_text(app)))
                await pilot.press("escape")
                await pilot.pause()
            await pilot.press("ctrl+s")  # what is missing, said (or, all answered, recorded)
            await pilot.pause()
            if isinstance(app.screen, TriageScreen):
                found.update(ambiguous(screen_text(app)))

    run(scenario())
    assert found == {}, found


def test_narrow_keeps_the_wording_and_draws_one_width():
    assert narrow("②通報者へ連絡 → 報告…") == "(2)通報者へ連絡 -> 報告..."
    assert narrow("本人確認情報") == "本人確認情報"


def _cursor_row_on_screen(screen) -> bool:
    """The highlighted example is inside the list's visible rows, and the list inside the form's."""
    examples = screen.query_one("#examples", SelectionList)
    form = screen.query_one("#triage-form")
    index = examples.highlighted
    if index is None:
        return False
    top = examples.scroll_offset.y
    rows = examples.scrollable_content_region.height
    row_y = examples.content_region.y + index - top
    visible = form.content_region
    return top <= index < top + rows and visible.y <= row_y < visible.y + visible.height


@pytest.mark.parametrize("profile,type_index", [("mutsu", 2), ("osaki", 1), ("tsukuba", 0)])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_example_under_the_cursor_is_always_on_screen(store_dir, profile, type_index, size):
    store, clock, incident_id = _store(store_dir, profile)
    seen: list[tuple[str, int | None, bool]] = []

    async def scenario():
        app = CsirtDeskApp(store, operator="見本", clock=clock, backups=False)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            app.open_triage(incident_id)
            assert await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
            screen = app.screen
            await pilot.pause()
            await pilot.press("enter", *["down"] * type_index, "enter")
            await pilot.pause()
            examples = screen.query_one("#examples", SelectionList)
            assert screen.focused is examples and examples.option_count > 3
            summary = screen.query_one("#triage-summary", Static)
            height = summary.region.height
            seen.append(("first", examples.highlighted, _cursor_row_on_screen(screen)))
            for key in ["down"] * 4 + ["end", "pageup", "home", "pagedown", "space", "home", "space"]:
                await pilot.press(key)
                await pilot.pause()
                seen.append((key, examples.highlighted, _cursor_row_on_screen(screen)))
                assert summary.region.height == height, "the decision panel grew and hid the list"
            assert len(examples.selected) == 2

    run(scenario())
    assert all(ok for _key, _index, ok in seen), seen


def test_a_level_with_the_last_example_takes_seven_keys_and_a_level_0_close_nine(store_dir):
    store, clock, incident_id = _store(store_dir, "mutsu", source="staff")
    other = store.create_incident(sample_intake(reporter_type="staff"), operator="受付").id
    pressed: list[str] = []

    async def press(pilot, *keys):
        pressed.extend(keys)
        await pilot.press(*keys)

    async def scenario():
        app = CsirtDeskApp(store, operator="見本", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_triage(incident_id)
            assert await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
            await pilot.pause()
            # 確認中 confirmed, 外部からのサイバー攻撃, its last example (L2 情報漏えい), recorded
            await press(pilot, "enter", "down", "enter", "end", "space", "ctrl+s")
            assert await wait_until(pilot, lambda: not isinstance(app.screen, TriageScreen)), \
                [str(n.message) for n in app._notifications]
            level_keys = len(pressed) + 1  # and the key that opened the triage
            pressed.clear()
            app.open_triage(other)
            assert await wait_until(pilot, lambda: isinstance(app.screen, TriageScreen))
            await pilot.pause()
            screen = app.screen
            # the first example (L0), Ctrl+S goes to what is missing: who, (when: 今), how
            await press(pilot, "enter", "down", "enter", "space", "ctrl+s")
            await pilot.pause()
            assert screen.focused is screen.query_one("#reply_who", Input)
            await pilot.press(*"試験")
            await press(pilot, "enter", "enter")
            await pilot.press(*"電話")
            await press(pilot, "ctrl+s")
            assert await wait_until(pilot, lambda: not isinstance(app.screen, TriageScreen)), \
                [str(n.message) for n in app._notifications]
            pressed.append("t")
            return level_keys

    level_keys = asyncio.run(scenario())
    assert store.incident(incident_id).level == 2
    assert store.incident(other).status == "not_incident"
    assert level_keys <= 8 and len(pressed) <= 12, (level_keys, pressed)
    assert (level_keys, len(pressed)) == (7, 9)

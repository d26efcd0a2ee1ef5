"""One list of keys (screens/commands.py) feeds the bindings, the footer, F1, the palette
and the README (issue 15): they had drifted as three hand-kept lists."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import re
import unicodedata
from pathlib import Path

import pytest
from textual.widgets._footer import FooterKey

from conftest import Clock, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store
from screens.commands import KEYS, SCREENS, keys_for, readme_table

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_key_table_is_the_registry():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = text[text.index("## キー操作"):].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    assert lines[start:end] == readme_table(), (
        "README's key table differs from screens/commands.py: paste the output of "
        "`python -m screens.commands` into the README")


def test_no_screen_builds_its_own_bindings():
    """Every Binding of the desk comes from the registry (screens/commands.py)."""
    found = []
    for path in sorted((ROOT / "screens").glob("*.py")) + [ROOT / "csirt_tui" / "app.py"]:
        if path.name == "commands.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Binding":
                found.append(f"{path.name}:{node.lineno}")
    assert found == []


def test_every_screen_names_its_keys_and_every_row_has_a_home():
    import screens.dashboard, screens.export, screens.form, screens.help, screens.incident  # noqa: E401,F401
    import screens.intake, screens.response, screens.resume, screens.roster, screens.timeline  # noqa: E401,F401
    import screens.discard, screens.palette  # noqa: E401,F401
    from textual.command import CommandPalette
    from textual.screen import Screen

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    # (the palette is Textual's, its keys its own: screens/palette.py only words its 「no matches」)
    desk = [c for c in set(subclasses(Screen)) if c.__module__.startswith("screens.")
            and not issubclass(c, CommandPalette)]
    assert len(desk) >= 14
    for cls in desk:
        sid = getattr(cls, "KEYS_SCREEN", None)
        assert sid in SCREENS, cls
        for binding in cls.BINDINGS:
            rows = [k for k in keys_for(sid) + keys_for("app") if binding.key in k.keys]
            assert rows, (cls.__name__, binding.key)
    for screen in SCREENS:
        assert keys_for(screen), screen  # no screen in the help without keys


def _ambiguous(text: str) -> list[str]:
    return [f"{ch} U+{ord(ch):04X}" for ch in text if unicodedata.east_asian_width(ch) == "A"]


def test_no_ambiguous_width_character_in_any_key_text():
    for k in KEYS:
        for text in (k.label, k.description, k.keys_text, SCREENS[k.screen]):
            assert _ambiguous(text) == [], (k.screen, text)


def _app(store_dir, **kw):
    store = Store.open(store_dir, clock=Clock())
    return CsirtDeskApp(store, operator="受付 花子", clock=Clock(), backups=False, **kw)


def _footer_keys(app) -> list[FooterKey]:
    return list(app.screen.query(FooterKey))


@pytest.mark.parametrize("size", [(80, 24), (120, 30)])
def test_the_footer_fits_and_keeps_f1_and_what_matters_most(store_dir, size):
    """At 80 columns the dashboard's footer was cut mid-word (「^r 連▏」)."""
    shown = {}

    async def go():
        app = _app(store_dir)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            for name, keys in (("dashboard", None), ("intake", "ctrl+n")):
                if keys:
                    await pilot.press(keys)
                    await pilot.pause(0.3)
                items = _footer_keys(app)
                assert sum(i.outer_size.width for i in items) <= size[0]
                assert all(i.region.right <= size[0] for i in items)
                shown[name] = [i.description for i in items]

    asyncio.run(go())
    assert shown["dashboard"][0] == "ヘルプ" and shown["intake"][0] == "ヘルプ"
    assert {"トリアージ", "対応の記録", "終了", "新規受付"} <= set(shown["dashboard"])
    assert {"保存", "戻る"} <= set(shown["intake"])
    if size[0] >= 120:
        assert "名簿" in shown["dashboard"]


def test_f1_lists_every_key_of_the_screen_and_esc_closes(store_dir):
    from screens.help import HelpScreen

    got = {}

    async def go():
        app = _app(store_dir)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("f1")
            assert await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
            got["text"] = str(app.screen.query_one("#help-text").render())
            await pilot.press("escape")
            await pilot.pause()
            got["closed"] = not isinstance(app.screen, HelpScreen)
            await pilot.press("ctrl+n")
            await pilot.pause(0.3)
            await pilot.press("f1")
            await pilot.pause()
            got["intake"] = str(app.screen.query_one("#help-text").render())

    asyncio.run(go())
    flat = got["text"].replace("\n", "").replace(" ", "")
    for k in keys_for("dashboard") + keys_for("app"):
        assert k.keys_text.replace(" ", "") in flat and k.description.replace(" ", "")[:12] in flat, k
    assert got["closed"]
    assert "保存 (受付番号を表示)" in got["intake"]
    assert "開いた選択肢 (受付方法など):" in got["intake"] and "選ばずに選択肢を閉じる" in got["intake"]  # its dropdowns
    assert "開いた選択肢 (受付方法など):" not in got["text"]  # the dashboard has none


def test_the_palette_is_all_the_desks_in_japanese(store_dir):
    titles = {}

    async def go():
        app = _app(store_dir)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            titles["all"] = [c.title for c in app.get_system_commands(app.screen)]
            await pilot.press("ctrl+c")
            await pilot.pause()
            titles["ctrl+c"] = [str(n.message) for n in app._notifications]

    asyncio.run(go())
    assert titles["all"] and not {"Keys", "Quit", "Theme", "Screenshot", "Maximize", "Minimize"} & set(titles["all"])
    assert all(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", t) for t in titles["all"]), titles["all"]
    assert "キー一覧 (ヘルプ)" in titles["all"] and "テーマ (画面の色)" in titles["all"]
    assert any("Ctrl+Q" in m and "終了" in m for m in titles["ctrl+c"]), titles["ctrl+c"]


def test_the_chosen_theme_is_kept_for_the_next_start(store_dir, tmp_path, monkeypatch):
    settings = tmp_path / "cfg" / "settings.json"
    monkeypatch.setenv("CSIRT_DESK_SETTINGS", str(settings))
    seen = {}

    async def first():
        app = _app(store_dir)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.theme = "nord"
            await pilot.pause()

    async def second():
        app = _app(store_dir)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            seen["theme"] = app.theme

    asyncio.run(first())
    assert json.loads(settings.read_text(encoding="utf-8")) == {"theme": "nord"}
    asyncio.run(second())
    assert seen["theme"] == "nord"
    settings.write_bytes(b"{ broken")  # a damaged settings file never keeps the desk from starting
    asyncio.run(second())
    assert seen["theme"] != "nord"
    assert os.environ["CSIRT_DESK_SETTINGS"] == str(settings)


def _shown_words(screen) -> list[str]:
    """What the screen's footer is given to show: every shown binding's word, before the footer
    keeps what fits (a wider terminal shows them all); nothing for a screen with no footer (the
    command palette: its own Esc 「Exit the command palette」 is never drawn)."""
    from textual.widgets import Footer

    if not screen.query(Footer):
        return []
    return [b.description for (_ns, b, _enabled, _tip) in screen.active_bindings.values() if b.show]


def test_no_english_binding_of_textual_reaches_a_footer(tmp_path):
    """With a dropdown open the footer said 「Esc Dismiss menu」 (Textual's SelectOverlay). Every
    screen with a footer is walked with each of its widgets focused in turn and each of its
    dropdowns open (a TextArea, an Input, a table, a list...), and with the command palette open:
    every word given to a footer is one of the registry's."""
    from textual.widgets import Select

    from csirt_tui.demo import build_demo
    from screen_walk import INCIDENT, UNTRIAGED
    from screens.incident import IncidentScreen
    from screens.response import ResponseScreen
    from screens.timeline import TimelineScreen
    from screens.triage import TriageScreen

    labels = {k.label for k in KEYS}
    store = Store.open(tmp_path / "s", clock=Clock())
    build_demo(store, operator="試験")
    found: dict[str, set[str]] = {}
    walked: list[str] = []

    async def collect(app, pilot, where: str) -> None:
        await pilot.pause()
        for word in _shown_words(app.screen):
            if word not in labels:
                found.setdefault(word, set()).add(where)

    async def walk(app, pilot, name: str) -> None:
        walked.append(name)
        await collect(app, pilot, name)
        for widget in list(app.screen.focus_chain):
            if not widget.is_attached:
                continue
            widget.focus()
            await collect(app, pilot, f"{name}: {type(widget).__name__}#{widget.id}")
        for select in list(app.screen.query(Select)):
            select.expanded = True  # as Enter / Down / Space open it
            assert await wait_until(pilot, lambda: select.expanded and select.query("SelectOverlay"))
            await collect(app, pilot, f"{name}: {select.id} open")
            walked.append(f"{name}: {select.id} open")
            select.expanded = False
            await pilot.pause()

    async def go():
        app = CsirtDeskApp(store, operator="試験", clock=Clock(), backups=False)
        async with app.run_test(size=(200, 50)) as pilot:
            from screens.dashboard import DashboardScreen

            assert await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
            await walk(app, pilot, "dashboard")
            await pilot.press("ctrl+p")
            assert await wait_until(pilot, lambda: app.screen.id == "--command-palette")
            for screen in app.screen_stack:  # the palette, and the footer under it
                for word in _shown_words(screen):
                    if word not in labels:
                        found.setdefault(word, set()).add(f"palette over {type(screen).__name__}")
            await pilot.press("escape")
            await pilot.pause()
            screens = [("intake", None), ("triage", lambda: TriageScreen(UNTRIAGED)),
                       ("incident", lambda: IncidentScreen(INCIDENT)), ("response", lambda: ResponseScreen(INCIDENT)),
                       ("timeline", lambda: TimelineScreen(INCIDENT)), ("roster", None), ("review", None)]
            for name, make in screens:
                if name == "intake":
                    app.action_new_intake()
                elif name == "roster":
                    app.action_roster()
                elif name == "review":
                    app.open_reviews()
                else:
                    app.push_screen(make())
                assert await wait_until(pilot, lambda: getattr(app.screen, "KEYS_SCREEN", "") == name)
                await app.workers.wait_for_complete()
                await walk(app, pilot, name)
                app.pop_screen()
                await pilot.pause()

    asyncio.run(go())
    assert {"intake: channel open", "triage: encrypted open"} <= set(walked)
    assert found == {}, found

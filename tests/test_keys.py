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
    import screens.discard  # noqa: F401
    from textual.screen import Screen

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    desk = [c for c in set(subclasses(Screen)) if c.__module__.startswith("screens.")]
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

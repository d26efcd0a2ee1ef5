"""The stylesheets parsed by one start of the desk are read back by the next (screens/css_cache.py,
issue 15: Ctrl+N at once after the first paint waited ~45 ms for Textual to parse the intake's CSS).
What the cache gives must be what parsing gives; a damaged cache file or edited CSS is parsed."""

from __future__ import annotations

import asyncio

import pytest
from textual.css import stylesheet as textual_stylesheet
from textual.css.stylesheet import Stylesheet

from conftest import wait_until
from csirt_tui.app import CsirtDeskApp
from screens import css_cache


@pytest.fixture
def cache(tmp_path, monkeypatch):
    where = tmp_path / "css-cache"
    monkeypatch.setenv(css_cache.ENV_CACHE, str(where))
    monkeypatch.setattr(css_cache, "_files", {})  # as in a new process
    return where


@pytest.fixture
def parses(monkeypatch):
    """The stylesheets Textual parses (its own parser, called by Stylesheet._parse_rules)."""
    seen: list[str] = []
    parse = textual_stylesheet.parse

    def counted(scope, css, read_from, *args, **kwargs):
        seen.append(read_from)
        return parse(scope, css, read_from, *args, **kwargs)

    monkeypatch.setattr(textual_stylesheet, "parse", counted)
    return seen


async def _start(store, clock) -> dict:
    """A desk started, Ctrl+N, closed (nothing typed: no draft offered at the next start): the
    intake's styles as drawn."""
    app = CsirtDeskApp(store, operator="受付 花子", clock=clock, backups=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n")
        assert await wait_until(pilot, lambda: type(app.screen).__name__ == "IntakeScreen" and app.focused)
        screen = app.screen
        styles = {wid: (str(w.styles.width), str(w.styles.height), str(w.styles.background), w.region)
                  for wid in ("#received_at", "#channel", "#reporter_type", "#what", "#memo", "#drill")
                  for w in [screen.query_one(wid)]}
        await pilot.press("escape")
        await pilot.pause()
    return styles


def test_a_second_start_parses_no_stylesheet_and_styles_the_same(store, clock, cache, parses):
    first = asyncio.run(_start(store, clock))
    assert parses, "the first start parses"
    assert list(cache.glob("tcss-*.pickle")), "kept as the desk closed"
    parses.clear()
    css_cache._files.clear()  # a new process: read from the file
    again = asyncio.run(_start(store, clock))
    assert parses == []  # (before: every .tcss and DEFAULT_CSS parsed again, ~85 ms at 10,000 incidents)
    assert again == first


def test_a_damaged_cache_file_is_parsed_as_before(store, clock, cache, parses):
    first = asyncio.run(_start(store, clock))
    for path in cache.glob("tcss-*.pickle"):
        path.write_bytes(b"not a pickle")  # noqa: test damage
    css_cache._files.clear()
    parses.clear()
    again = asyncio.run(_start(store, clock))
    assert parses and again == first
    css_cache._files.clear()
    parses.clear()
    assert asyncio.run(_start(store, clock)) == first and parses == []  # written again whole


def test_edited_css_is_parsed_not_taken_from_the_cache(cache):
    def width_of(css: str) -> str:
        sheet = Stylesheet()  # a new stylesheet: nothing from this process's own parse cache
        sheet.add_source(css, read_from=("desk.tcss", ""))
        return str(sheet.rules[0].styles.width)

    assert width_of("Label { width: 3; }") == "3"
    assert width_of("Label { width: 4; }") == "4"  # same place, other text
    css_cache.save()
    css_cache._files.clear()
    assert width_of("Label { width: 3; }") == "3"


def test_off_reads_and_writes_nothing(tmp_path, monkeypatch, parses):
    monkeypatch.setenv(css_cache.ENV_CACHE, "off")
    monkeypatch.setattr(css_cache, "_files", {})
    sheet = Stylesheet()
    sheet.add_source("Label { width: 5; }", read_from=("x.tcss", ""))
    assert str(sheet.rules[0].styles.width) == "5" and parses
    css_cache.save()
    assert not list(tmp_path.rglob("tcss-*"))


def _sheet(css: str = "Label { width: 3; }") -> None:
    sheet = Stylesheet()
    sheet.add_source(css, read_from=("desk.tcss", ""))
    assert sheet.rules


def test_the_file_is_named_with_textuals_and_richs_versions(cache):
    """The pickle holds Textual's and Rich's objects: after either is upgraded, a file of the other
    version must not be read (before: only Textual's version was in the name)."""
    from importlib.metadata import version

    _sheet()
    css_cache.save()
    (path,) = cache.glob("tcss-*.pickle")
    assert f"t{version('textual')}-" in path.name and f"-r{version('rich')}-" in path.name, path.name


def test_a_new_file_removes_the_caches_own_files_of_other_versions_and_nothing_else(cache, monkeypatch, parses):
    _sheet()
    css_cache.save()
    (current,) = cache.glob("tcss-*.pickle")
    key = current.name[-len("0123456789abcdef.pickle"):]
    stale = [cache / f"tcss-8.0.0-py311-{key}",  # the naming before Rich's version was in it
             cache / f"tcss-t8.0.0-r14.0.0-py311-{key}",
             cache / f".tcss-t8.0.0-r14.0.0-py311-{key}.123.456.tmp"]  # a write killed half-way
    others = [cache / "tcss-notes.pickle", cache / f"tcss-t8.0.0-r14.0.0-py311-{key}.bak",
              cache / "settings.json", cache / f".tcss-t8.0.0-r14.0.0-py311-{key}"]
    for path in stale + others:
        path.write_bytes(b"x")  # noqa: test files
    other_theme = cache / f"{css_cache.prefix()}{'f' * 16}.pickle"  # this version, another theme: kept
    other_theme.write_bytes(b"x")  # noqa: test file
    css_cache.save()  # nothing new parsed: nothing written, nothing removed
    assert all(path.exists() for path in stale)
    css_cache._files.clear()
    parses.clear()
    # an upgrade: the names of this process are another version's; the old file is not read
    monkeypatch.setattr(css_cache, "_prefix", "tcss-t9.0.0-r15.0.0-py311-")
    _sheet()
    assert parses
    css_cache.save()
    left = sorted(p.name for p in cache.iterdir())
    assert left == sorted([p.name for p in others] + [f"tcss-t9.0.0-r15.0.0-py311-{key}"]), left
    assert not other_theme.exists()  # (an old version's too, now)


def test_a_stale_file_held_open_on_windows_is_left_quietly(cache, monkeypatch):
    from winemu import WindowsFiles

    win = WindowsFiles(monkeypatch)
    _sheet()
    css_cache.save()
    (old,) = cache.glob("tcss-*.pickle")
    win.hold(old)  # an antivirus scan has it open
    css_cache._files.clear()
    monkeypatch.setattr(css_cache, "_prefix", "tcss-t9.0.0-r15.0.0-py311-")
    _sheet()
    css_cache.save()  # never raises
    assert old.exists() and win.violations == 1
    assert len(list(cache.glob("tcss-t9.0.0-*.pickle"))) == 1
    win.release(old)
    css_cache._files.clear()
    _sheet("Label { width: 4; }")  # something new to write: removed then
    css_cache.save()
    assert not old.exists()
    assert [p.name.startswith("tcss-t9.0.0-") for p in cache.iterdir()] == [True]

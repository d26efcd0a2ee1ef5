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

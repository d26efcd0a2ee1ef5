"""Every desk is told its own organisation's clauses (issue 16, "Names that belong to another
organisation"): the roster's review reminder cited 「つくば 5(1)(1)」 on every desk, the key
registry's help (F1) named むつ 別表第1, つくば, 大崎市 5条(5) / 3条(2), and `export --help` named
水戸市議会. Each now cites the store's profile (its clause where its seed has one, the desk's rule
or 「このプロファイルには定めがありません」 where it has none); what cannot know the profile (the
README's key table, --help) names no organisation, or names it clearly labelled."""

from __future__ import annotations

import asyncio
import contextlib
import io
from datetime import datetime
from pathlib import Path

import pytest
from textual.widgets import Static

from conftest import TZ, Clock
from csirt_tui import roster as rc
from csirt_tui.app import CsirtDeskApp
from csirt_tui.profiles import list_profiles, load_profile
from csirt_tui.response import release_refusal
from csirt_tui.store import Store
from screens.commands import KEYS, SCREENS, cite_for, help_rows, readme_table

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 22, 14, 35, tzinfo=TZ)
NAMES = ("水戸", "むつ", "つくば", "大崎")
OWN = {"mito": "水戸", "mutsu": "むつ", "tsukuba": "つくば", "osaki": "大崎"}
PIDS = sorted(OWN)


def _foreign(pid: str, text: str) -> list[str]:
    return [name for name in NAMES if name != OWN[pid] and name in text]


def test_shipped_profiles_are_the_four():
    assert {p.id for p in list_profiles()} == set(OWN)


@pytest.mark.parametrize("pid", PIDS)
def test_the_help_of_every_screen_cites_only_the_stores_own_profile(pid):
    profile = load_profile(pid)
    text = "\n".join(desc for screen in SCREENS for _keys, desc in help_rows(screen, profile=profile))
    assert not _foreign(pid, text), (pid, _foreign(pid, text))
    rows = dict(help_rows("app", profile=profile))
    assert rows["F3"].endswith(f"。{cite_for(profile, 'poc')})")


def test_the_help_cites_each_profiles_clause_or_says_it_has_none():
    def row(pid, screen, key):
        return dict(help_rows(screen, profile=load_profile(pid)))[key]

    assert row("mutsu", "app", "F3").endswith("確認項目。むつ 別表第1)")
    assert row("tsukuba", "app", "F3").endswith("確認項目。つくば 4(2)(1))")  # ① narrowed: one cell
    assert row("tsukuba", "triage", "F5").endswith("困難なとき。つくば 4(2)(2)(I)・つくば 4(2)(2)(II))")
    assert row("mutsu", "triage", "F5").endswith("。このプロファイルには定めがありません)")
    assert "大崎 5条(5)" in row("osaki", "response", "r")
    assert row("mutsu", "response", "r").endswith("収束 (このプロファイルには定めがありません)")
    assert "大崎 3条(2)" in row("osaki", "roster", "n")
    assert row("mito", "roster", "n").endswith("。このプロファイルには定めがありません)")
    assert "大崎" in row("osaki", "response", "k") and "大崎" in row("osaki", "response", "o")
    assert row("tsukuba", "response", "k").endswith("。このプロファイルには定めがありません)")


def test_text_that_cannot_know_the_profile_names_no_organisation():
    # the registry's own words feed the README's table and the footer: no organisation in them
    for k in KEYS:
        assert not [n for n in NAMES if n in k.description or n in k.label], (k.screen, k.description)
    assert not [n for n in NAMES if n in "\n".join(readme_table())]
    # the README's class mark: Mito's clause only where it says it is Mito's
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    mark = next(line for line in readme.splitlines() if "機密性の表示" in line)
    assert "水戸市議会は 水戸 3(2)イ" in mark and "デスクの既定" in mark


def test_export_help_names_no_organisation():
    from csirt_tui import cli

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        cli.main(["export", "--help"])
    text = out.getvalue()
    assert "--permitted-by" in text
    assert not [n for n in NAMES if n in text], text


@pytest.mark.parametrize("pid", PIDS)
def test_release_refusal_cites_the_stores_own_rule(pid):
    said = release_refusal(load_profile(pid))
    assert not _foreign(pid, said), said
    if pid == "osaki":
        assert "大崎 5条(5): レベル1" in said
    else:
        assert "定めがありません" in said


@pytest.mark.parametrize("pid", PIDS)
def test_the_roster_reminder_cites_the_stores_own_rule(tmp_path, pid):
    clock = Clock(NOW)
    store = Store.open(tmp_path / pid, profile=pid, clock=clock)
    rc.add_person(store, {"name": "試験 一樹", "kana": "しけん かずき", "role": store.profile.roles[0]["id"],
                          "extension": "2141", "weekday": True}, operator="setup")  # never reviewed: overdue
    seen = {}

    async def scenario():
        app = CsirtDeskApp(store, operator="受付", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+r")
            await pilot.pause()
            seen["status"] = str(app.screen.query_one("#roster-status", Static).render())

    asyncio.run(scenario())
    status = seen["status"]
    assert "見直しの時期を過ぎています" in status
    assert not _foreign(pid, status), status
    if pid == "tsukuba":
        assert "(つくば 5(1)(1): 最新の状態を維持)" in status
    else:
        assert "(デスクの既定: 連絡先を最新の状態に保つ)" in status

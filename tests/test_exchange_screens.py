"""On screen (issue 17): an incident another desk took shows that desk's number (「2026-0001@本庁デスク」),
which search and the CLI accept; where the desks decided differently while apart, the incident
screen says 「判断が分かれています」 with both decisions and which one is the state."""

from __future__ import annotations

import asyncio

from textual.widgets import Static

from conftest import Clock, sample_intake, wait_until
from csirt_tui.app import CsirtDeskApp
from csirt_tui.cli import main
from csirt_tui.exchange import read_and_plan, take_in, write_bundle
from csirt_tui.merge import exchange_lines
from csirt_tui.store import Store
from csirt_tui.uids import resolve
from csirt_tui.views import RowFilter
from screens.incident import IncidentScreen


def carry(src: Store, dst: Store, path, desk: str | None = None) -> None:
    write_bundle(src, path, ids=None, password=None, waive_reason="試験", operator="試験", force=True)
    plan, family = read_and_plan(dst, path, password=None)
    take_in(dst, plan, family, desk=desk)


def apart(tmp_path):
    clock = Clock()
    desk = Store.open(tmp_path / "desk", clock=clock)
    desk.join_family(desk.family, desk="本庁デスク")
    for n in range(2):
        desk.create_incident(sample_intake(what=f"通報 {n}"), operator="受付 花子")
    term = Store.open(tmp_path / "term", clock=clock)
    carry(desk, term, tmp_path / "a.bundle", desk="隔離端末1")
    term.create_incident(sample_intake(what="端末で受けた通報"), operator="端末 太郎")  # its own 2026-0003
    there = desk.create_incident(sample_intake(what="デスクで受けた通報"), operator="受付 花子").id  # the desk's
    carry(desk, term, tmp_path / "a2.bundle")
    here = resolve(term, f"{there}@本庁デスク")
    clock.advance(minutes=5)
    desk.append(there, "triage", "レベル1", operator="受付 花子",
                data={"type": "malware", "level": 1, "priority": "中"})
    clock.advance(minutes=5)
    term.append(here, "triage", "レベル2", operator="端末 太郎",
                data={"type": "malware", "level": 2, "priority": "高"})
    carry(term, desk, tmp_path / "b.bundle")
    carry(desk, term, tmp_path / "c.bundle")
    return desk, term, there, here


def test_both_desks_say_the_decisions_apart_and_agree_on_the_state(tmp_path):
    desk, term, there, here = apart(tmp_path)
    (alias_d, on_desk), (alias_t, on_term) = (exchange_lines(desk, desk.incident(there)),
                                              exchange_lines(term, term.incident(here)))
    for lines in (on_desk, on_term):
        text = "\n".join(lines)
        assert "判断が分かれています" in text and "状態の決め方" in text
        assert "レベル: 状態は レベル2" in text and "は レベル1" in text  # written later (no desk saw the other)
        assert "優先度: 状態は 高" in text
    assert "このデスク は レベル1" in "\n".join(on_desk) and "(隔離端末1 " in "\n".join(on_desk)
    assert "本庁デスク は レベル1" in "\n".join(on_term)
    assert desk.incident(there).level == term.incident(here).level == 2
    assert alias_t == f"受け付けたデスクでの番号: {there}@本庁デスク"
    assert alias_d is None  # the desk's own incident


def test_the_other_desks_number_is_accepted_by_the_cli_and_search(tmp_path, capsys):
    desk, term, there, here = apart(tmp_path)
    assert here != there  # the terminal numbered it after its own 2026-0001
    capsys.readouterr()
    assert main(["--store", str(term.root), "show", f"{there}@本庁デスク"]) == 0
    out = capsys.readouterr().out
    assert f"インシデント {here}" in out and f"{there}@本庁デスク" in out and "判断が分かれています" in out
    assert main(["--store", str(term.root), "show", f"{there}@第二端末"]) == 1
    assert "第二端末" in capsys.readouterr().err
    rows = [term._row_of(r["id"]) for r in term.iter_incidents(status=None)]
    hits = RowFilter(term.profile, rows, {desk.store_id: "本庁デスク"}).apply(f"{there}@本庁デスク")
    assert [r["id"] for r in hits] == [here]


def _on_the_incident_screen(term, here, read):
    """``read(app)`` of the terminal's incident screen of ``here`` at 80x24."""
    seen = {}

    async def go():
        app = CsirtDeskApp(term, operator="端末 太郎", clock=Clock(), backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.push_screen(IncidentScreen(here))
            assert await wait_until(pilot, lambda: isinstance(app.screen, IncidentScreen)
                                    and app.screen.query("#incident-text"))
            await pilot.pause(0.3)
            seen["read"] = read(app)

    asyncio.run(go())
    return seen["read"]


def test_the_incident_screen_shows_them(tmp_path):
    desk, term, there, here = apart(tmp_path)
    text = _on_the_incident_screen(term, here, lambda app: str(app.screen.query_one("#incident-text", Static).render()))
    assert f"{there}@本庁デスク" in text and "判断が分かれています" in text


def test_at_80_columns_the_decisions_apart_keep_their_indent_when_they_wrap(tmp_path):
    """The lines under 「判断が分かれています」 are indented (each desk's decision, the rule); at 80
    columns they wrap, and their second lines started at the edge like the header's own lines
    (「レベル1 (11/22 14:40 受付 花子)」 read as a line of its own). They keep the indent, and a
    word is not cut in two (「レ」「ベル1」)."""
    from screen_walk import drawn

    desk, term, there, here = apart(tmp_path)
    lines = _on_the_incident_screen(term, here, lambda app: drawn(app).text.splitlines())
    start = next(i for i, line in enumerate(lines) if "判断が分かれています" in line)
    end = next(i for i in range(start, len(lines)) if lines[i].lstrip().startswith("(1)"))
    block = lines[start + 1:end]
    assert len(block) > 3  # three lines, wrapped at 80 columns
    assert all(line.startswith("   ") for line in block), "\n".join(block)
    assert any(line.strip().startswith("レベル1 (") for line in block), "\n".join(block)

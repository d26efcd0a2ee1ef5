"""What this desk has not yet sent to that desk (issue 17; csirt_tui/peers.py, docs/exchange.md 6):
two desks exchange again and again, each bundle carries only the entries the other has not got,
and the stores converge."""

from __future__ import annotations

import random

import pytest

from conftest import Clock, sample_intake
from csirt_tui.bundle import read_bundle
from csirt_tui.cli import main
from csirt_tui.errors import DomainError
from csirt_tui.exchange import read_and_plan, take_in, write_bundle
from csirt_tui.peers import find
from csirt_tui.store import Store
from test_exchange import record, snapshot, state


def send(src: Store, dst: Store, path, *, for_peer: str | None) -> int:
    """src → file (only what dst has not got, when ``for_peer``) → dst; the entries it carried."""
    write_bundle(src, path, ids=None, password=None, waive_reason="試験", operator="試験", force=True,
                 for_peer=for_peer)
    carried = sum(len(i["entries"]) for i in read_bundle(path)["incidents"])
    plan, family = read_and_plan(dst, path, password=None)
    assert not plan.gap
    take_in(dst, plan, family)
    return carried


def work(store: Store, rng: random.Random, who: str, n: int) -> int:
    """n notes on random incidents and one new incident (intake and a note): entries written."""
    ids = [r["id"] for r in store.iter_incidents(status=None)]
    for k in range(n):
        store.append(rng.choice(ids), "note", f"{who} のメモ {k}", operator=who)
    inc = store.create_incident(sample_intake(what=f"{who} の新しい通報"), operator=who)
    store.append(inc.id, "note", f"{who} の初動", operator=who)
    return n + 2


@pytest.fixture
def pair(tmp_path):
    clock = Clock()
    desk = Store.open(tmp_path / "desk", clock=clock)
    desk.join_family(desk.family, desk="本庁デスク")
    for n in range(5):
        inc = desk.create_incident(sample_intake(what=f"通報 {n}"), operator="受付")
        desk.append(inc.id, "note", "メモ", operator="担当")
    term = Store.open(tmp_path / "term", clock=clock)
    path = tmp_path / "first.bundle"
    write_bundle(desk, path, ids=None, password=None, waive_reason="試験", operator="試験")
    plan, family = read_and_plan(term, path, password=None)
    take_in(term, plan, family, desk="隔離端末1")  # the terminal made from the desk's whole bundle
    return desk, term, tmp_path


def test_each_delta_carries_only_the_new_entries_and_the_stores_converge(pair):
    desk, term, tmp = pair
    rng = random.Random(17)
    to_desk, to_term = find(term, "本庁デスク"), None
    for round_no in range(4):
        written = work(term, rng, "端末", 3 + round_no)
        assert send(term, desk, tmp / "to-desk.bundle", for_peer=to_desk) == written
        to_term = to_term or find(desk, "隔離端末1")  # known to the desk once it took a bundle of it in
        written = work(desk, rng, "デスク", 2 + round_no)
        # the terminal's bundle said what it held of the desk's: the first delta is not the whole store
        assert send(desk, term, tmp / "to-term.bundle", for_peer=to_term) == written
    assert send(term, desk, tmp / "to-desk.bundle", for_peer=to_desk) == 0  # nothing new: nothing carried
    assert record(desk) == record(term) and state(desk) == state(term)
    assert desk.verify().ok and term.verify().ok
    # a delta taken in twice changes nothing, byte for byte
    before = snapshot(term.root)
    plan, family = read_and_plan(term, tmp / "to-term.bundle", password=None)
    assert plan.changes_nothing
    take_in(term, plan, family)
    assert snapshot(term.root) == before


def test_a_delta_taken_in_without_the_one_before_it_is_flagged(pair):
    desk, term, tmp = pair
    to_desk = find(term, "本庁デスク")
    term.append(next(r["id"] for r in term.iter_incidents(status=None)), "note", "一つ目", operator="端末")
    write_bundle(term, tmp / "lost.bundle", ids=None, password=None, waive_reason="t", operator="t",
                 for_peer=to_desk)  # the stick is lost
    plan, family = read_and_plan(desk, tmp / "lost.bundle", password=None)
    assert not plan.gap  # the first bundle of the terminal: from nothing (base none)
    term.append(next(r["id"] for r in term.iter_incidents(status=None)), "note", "二つ目", operator="端末")
    write_bundle(term, tmp / "second.bundle", ids=None, password=None, waive_reason="t", operator="t",
                 for_peer=to_desk)
    plan, family = read_and_plan(desk, tmp / "second.bundle", password=None)
    assert plan.gap and plan.new_entries == 1
    assert any("まだ取り込んでいません" in line for line in plan.lines())


def test_an_unknown_desk_is_refused_naming_the_known_ones(pair):
    desk, term, tmp = pair
    with pytest.raises(DomainError, match="受け取ったことがありません.*本庁デスク"):
        find(term, "第二端末")


def test_the_cli_exports_for_a_desk(pair, capsys):
    desk, term, tmp = pair
    term.append(next(r["id"] for r in term.iter_incidents(status=None)), "note", "端末のメモ", operator="端末")
    code = main(["--store", str(term.root), "bundle", "export", str(tmp / "d.bundle"), "--for", "本庁デスク",
                 "--waive-reason", "試験"])
    out = capsys.readouterr().out
    assert code == 0 and "インシデント 1 件、記録 1 件" in out and "まだ渡していない" in out
    code = main(["--store", str(term.root), "bundle", "export", str(tmp / "e.bundle"), "--for", "第二端末",
                 "--waive-reason", "試験"])
    assert code == 1 and "受け取ったことがありません" in capsys.readouterr().err


def export_on_screen(store: Store, target, choose=None) -> None:
    """Open the bundle dialog, fill in ``target`` and a reason, ``choose(screen)`` (the other
    fields), Ctrl+S, and wait until the bundle is written."""
    import asyncio

    from textual.widgets import Input

    from conftest import wait_until
    from csirt_tui.app import CsirtDeskApp
    from screens.exchange import BundleScreen

    async def go():
        app = CsirtDeskApp(store, operator="試験", clock=Clock(), backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_bundle("export")
            assert await wait_until(pilot, lambda: isinstance(app.screen, BundleScreen) and app.screen.query("#bundle-go"))
            screen = app.screen
            if choose is not None:
                choose(screen)
            screen.query_one("#bundle-path", Input).value = str(target)
            screen.query_one("#bundle-waive", Input).value = "試験"
            await pilot.pause(0.2)
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: not isinstance(app.screen, BundleScreen), timeout=60)

    asyncio.run(go())


def test_the_screen_offers_what_that_desk_has_not_got(pair):
    from textual.widgets import Select

    desk, term, tmp = pair
    first = next(r["id"] for r in term.iter_incidents(status=None))
    term.append(first, "note", "端末のメモ", operator="端末")
    target = tmp / "screen.bundle"
    seen = {}

    def choose(screen):
        choice = screen.query_one("#bundle-for", Select)
        seen["options"] = [str(label) for label, _ in choice._options]
        choice.value = desk.store_id

    export_on_screen(term, target, choose)
    assert "本庁デスク にまだ渡していない記録だけ" in seen["options"]
    carried = read_bundle(target)["incidents"]
    assert [len(i["entries"]) for i in carried] == [1] and carried[0]["entries"][0]["text"] == "端末のメモ"


def test_verify_names_an_exchange_file_not_in_its_form(pair):
    from csirt_tui.jsonfile import atomic_write, read_file, seal

    desk, term, tmp = pair
    path = term.root / "exchange.json"
    data = read_file(path)
    data["peers"]["1"]["sent"] = {"n": "all", "rhash": ""}  # resealed: only the form check sees it
    atomic_write(path, seal(data))
    report = term.verify()
    assert any("exchange.json" in p and "形式" in p for p in report.problems), report.problems

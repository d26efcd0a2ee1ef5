"""Drafts in bundles, when asked (issue 17: "a bundle holds incidents' entries, evidence register,
drafts if asked"): a note begun at the desk goes on at the terminal. Taken in once, under this
desk's number of the incident; a later text of the same draft is a draft of its own."""

from __future__ import annotations

import json

import pytest

from conftest import Clock, sample_intake
from csirt_tui.bundle import BundleError, pack, read_bundle, unpack
from csirt_tui.cli import main
from csirt_tui.exchange import export_payload, plan_import, read_and_plan, take_in, write_bundle
from csirt_tui.store import Store
from test_exchange import snapshot
from test_exchange_peers import export_on_screen

NOTE = {"text": "端末で続きを書くメモ 𩸽 [bold]x[/]", "dialog": "note", "screen": "timeline"}


@pytest.fixture
def desks(tmp_path):
    clock = Clock()
    desk = Store.open(tmp_path / "desk", clock=clock)
    desk.join_family(desk.family, desk="本庁デスク")
    desk.create_incident(sample_intake(what="先の通報"), operator="受付 花子")
    there = desk.create_incident(sample_intake(what="通報"), operator="受付 花子").id
    term = Store.open(tmp_path / "term", clock=clock)  # made from the desk's first bundle
    write_bundle(desk, tmp_path / "first.bundle", ids=None, password=None, waive_reason="t", operator="t")
    plan, family = read_and_plan(term, tmp_path / "first.bundle", password=None)
    take_in(term, plan, family, desk="隔離端末1")
    term.create_incident(sample_intake(what="端末の通報"), operator="端末")
    clock.advance(minutes=3)
    desk.save_draft("n1", NOTE, operator="担当 太郎", kind="note", incident=there)
    desk.save_draft("i1", {"what": "保存前の受付"}, operator="受付 花子")
    return desk, term, there, tmp_path


def carry(src, dst, path, **kw):
    write_bundle(src, path, password=None, waive_reason="t", operator="t", force=True, **kw)
    plan, family = read_and_plan(dst, path, password=None)
    take_in(dst, plan, family)
    return plan


def test_drafts_go_when_asked_under_the_receivers_numbers_and_once(desks):
    desk, term, there, tmp = desks
    assert "drafts" not in export_payload(desk)  # not asked: none
    plan = carry(desk, term, tmp / "d.bundle", ids=None, drafts=True)
    assert len(plan.drafts) == 2 and any("下書き 2 件" in line for line in plan.lines())
    got = {d.get("kind", "intake"): d for d in term.list_drafts(kind=None)}
    note = got["note"]
    assert note["data"] == NOTE and note["operator"] == "担当 太郎"
    assert note["updated_at"] == desk.load_draft("n1")["updated_at"]  # its own time (relative times keep meaning)
    assert note["origin"]["desk"] == "本庁デスク" and note["origin"]["id"] == "n1"
    assert term.incident(note["incident"]).entries[0].origin["incident"] == there  # this desk's number of it
    assert got["intake"]["data"] == {"what": "保存前の受付"}
    before = snapshot(term.root)
    again = carry(desk, term, tmp / "d.bundle", ids=None, drafts=True)
    assert again.drafts == [] and snapshot(term.root) == before  # taken in once
    # the desk goes on typing: the later text comes as a draft of its own; nothing is overwritten
    desk.save_draft("n1", {**NOTE, "text": NOTE["text"] + " 続き"}, operator="担当 太郎", kind="note", incident=there)
    carry(desk, term, tmp / "d2.bundle", ids=[there], drafts=True)
    texts = sorted(d["data"]["text"] for d in term.list_drafts(kind="note"))
    assert texts == [NOTE["text"], NOTE["text"] + " 続き"]
    assert term.verify().ok


def test_hostile_drafts_are_refused_and_nothing_changes(desks):
    desk, term, there, tmp = desks
    payload = json.loads(json.dumps(export_payload(desk, drafts=True)))
    for bad, match in ((lambda d: d.update(id="../../store"), "draft: id"),
                       (lambda d: d.update(kind="ledger"), "draft: kind"),
                       (lambda d: d.update(incident={"store": "0" * 16, "incident": "2026-0099"}), "この端末にもバンドルにも")):
        broken = json.loads(json.dumps(payload))
        bad(next(d for d in broken["drafts"] if d["kind"] == "note"))
        before = snapshot(term.root)
        with pytest.raises(BundleError, match=match):
            plan_import(term, unpack(pack(broken)), store_id=term.store_id, family=term.family)
        assert snapshot(term.root) == before


def test_the_cli_carries_them_with_drafts(desks, capsys):
    desk, term, there, tmp = desks
    capsys.readouterr()
    assert main(["--store", str(desk.root), "bundle", "export", str(tmp / "c.bundle"), "--drafts",
                 "--waive-reason", "t"]) == 0
    assert "下書き 2 件" in capsys.readouterr().out
    assert len(read_bundle(tmp / "c.bundle")["drafts"]) == 2
    assert main(["--store", str(term.root), "bundle", "import", str(tmp / "c.bundle")]) == 0
    assert "下書き 2 件を取り込みました" in capsys.readouterr().out


def test_the_screen_carries_them_when_ticked(desks):
    from textual.widgets import Checkbox

    desk, term, there, tmp = desks
    target = tmp / "screen.bundle"
    export_on_screen(desk, target, lambda screen: setattr(screen.query_one("#bundle-drafts", Checkbox), "value", True))
    assert sorted(d["id"] for d in read_bundle(target)["drafts"]) == ["i1", "n1"]

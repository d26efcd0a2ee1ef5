"""The demo's triage goes through the triage's own record (issue 16): its reports carry what a
triage asks (personal data, network segment, asset class), as the desk's own triage does."""

from __future__ import annotations

import pytest

from csirt_tui.demo import build_demo
from csirt_tui.report.content import form1_content
from csirt_tui.store import Store
from csirt_tui.triage import Triage, triage_entry


@pytest.mark.parametrize("pid", ["mutsu", "tsukuba", "mito", "osaki"])
def test_demo_triage_entries_are_the_triage_record(tmp_path, clock, pid):
    store = Store.open(tmp_path / pid, profile=pid, clock=clock)
    ids = build_demo(store)
    seen = 0
    for iid in ids:
        for e in store.timeline(iid):
            if e.kind != "triage":
                continue
            seen += 1
            answers = e.data["answers"]
            assert (e.text, e.data) == triage_entry(store.profile, Triage.from_dict(answers))
            assert answers["context"]["asset_classes"].get("confidentiality")
    assert seen >= 8
    assert store.verify().ok


def test_a_demo_report_holds_segment_personal_data_and_class(tmp_path, clock):
    store = Store.open(tmp_path / "mutsu", clock=clock)
    ids = build_demo(store)
    found = False
    for iid in ids:
        inc = store.incident(iid)
        if inc.intake.get("what", "").startswith("朝、窓口端末を起動したら"):
            form = form1_content(store.profile, inc, clock())
            lines = [line for s in form.sections for p in s.parts for line in p.auto]
            assert "ネットワークの区分: マイナンバー利用事務系" in lines
            assert "個人情報: 特定個人情報" in lines
            assert any(line.startswith("情報資産の分類: 機密性") for line in lines)
            found = True
    assert found

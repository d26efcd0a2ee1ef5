"""The rule for sending 機密性2 and above, cited as the store's own profile has it (issue 16:
"Names that belong to another organisation"). Mito's 「水戸 3(2)キ」 was written into the report
export's refusal, the export dialog and the bundle's refusal, and so shown to every desk; each
profile now keeps its own ``send`` handling rule (context.handling_rules, not shared with the
asset classes it takes from Mito), and where its rules say nothing it is the desk's rule."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

import pytest
from textual.widgets import Static

from conftest import TZ, Clock, sample_intake, wait_until
from csirt_tui.errors import DomainError
from csirt_tui.exchange import write_bundle
from csirt_tui.profiles import list_profiles, load_profile
from csirt_tui.report.export import export_form1
from csirt_tui.report.pdfkit import ReportError
from csirt_tui.report.summary import export_summary
from csirt_tui.store import Store

NOW = datetime(2026, 11, 22, 14, 35, tzinfo=TZ)

# what each shipped organisation's own rules say about sending 機密性2 and above (the seeds):
# only Mito's 対策基準 has a clause; the others are told it is the desk's rule
CITED = {"mito": "水戸 3(2)キ", "mutsu": "デスクの既定", "tsukuba": "デスクの既定", "osaki": "デスクの既定"}
OTHERS = ("水戸", "むつ", "つくば", "大崎")
OWN = {"mito": "水戸", "mutsu": "むつ", "tsukuba": "つくば", "osaki": "大崎"}


def _foreign(pid: str, text: str) -> list[str]:
    return [name for name in OTHERS if name != OWN[pid] and name in text]


def test_every_shipped_profile_has_its_own_send_rule():
    assert {p.id for p in list_profiles()} == set(CITED)
    for pid, cited in CITED.items():
        rule = load_profile(pid).send_rule
        assert rule["source"] == cited, pid
        assert rule["label"] == "機密性2以上は暗号化して送る"
        assert not _foreign(pid, rule["text"] + rule["source"]), (pid, rule)
        assert (rule["text"] == "") == (cited == "デスクの既定"), rule  # no clause: no clause text
    assert "電子メール等により機密性2以上の情報を送信する者" in load_profile("mito").send_rule["text"]


def test_the_asset_classes_are_still_mitos_for_all():
    # the classes are shared as before (with each profile's read_as); only the handling rules are not
    mito = load_profile("mito").context["asset_classes"]
    for pid in CITED:
        classes = load_profile(pid).context["asset_classes"]
        assert [c["label"] for c in classes["confidentiality"]] == [c["label"] for c in mito["confidentiality"]]
    assert "職員の業務及びサービスに支障" in load_profile("tsukuba").context["asset_classes"]["integrity"][0]["criterion"]
    assert "住基ネットの運用に支障" in load_profile("osaki").context["asset_classes"]["integrity"][0]["criterion"]


def _store(tmp_path, pid):
    clock = Clock(NOW)
    store = Store.open(tmp_path / pid, profile=pid, clock=clock)
    inc = store.create_incident(sample_intake(), operator="受付")
    return store, clock, inc.id


@pytest.mark.parametrize("pid", sorted(CITED))
def test_refusals_cite_the_stores_own_rule(tmp_path, pid):
    store, _clock, incident_id = _store(tmp_path, pid)
    with pytest.raises(ReportError) as report:
        export_form1(store, incident_id, tmp_path / "r.pdf", operator="受付")
    with pytest.raises(ReportError) as summary:
        export_summary(store, tmp_path / "s.pdf", start=date(2026, 4, 1), end=date(2027, 3, 31), operator="受付")
    with pytest.raises(DomainError) as bundle:
        write_bundle(store, tmp_path / "b.bundle", ids=None, password=None, waive_reason="", operator="受付")
    for err in (report, summary, bundle):
        said = str(err.value)
        assert f"機密性2以上は暗号化して送る: {CITED[pid]}" in said, said
        assert not _foreign(pid, said), said


@pytest.mark.parametrize("pid", sorted(CITED))
def test_export_dialog_cites_the_stores_own_rule(tmp_path, pid):
    from csirt_tui.app import CsirtDeskApp
    from screens.export import ExportScreen
    from screens.incident import IncidentScreen

    store, clock, incident_id = _store(tmp_path, pid)
    seen = {}

    async def scenario():
        app = CsirtDeskApp(store, operator="見本 ハンドラー", clock=clock, backups=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.push_screen(IncidentScreen(incident_id))
            await pilot.pause()
            await pilot.press("p")
            assert await wait_until(pilot, lambda: isinstance(app.screen, ExportScreen))
            await pilot.pause()
            seen["class"] = str(app.screen.query_one("#export-class", Static).render())
            await pilot.press("ctrl+s")  # no password, no reason: refused with the rule
            await pilot.pause()
            seen["message"] = str(app.screen.query_one("#export-message", Static).render())

    asyncio.run(scenario())
    assert f"暗号化が必要です（{CITED[pid]}）" in seen["class"], seen
    assert f"機密性2以上は暗号化して送る: {CITED[pid]}" in seen["message"], seen
    assert not _foreign(pid, seen["class"] + seen["message"]), seen

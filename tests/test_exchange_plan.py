"""What taking a bundle in would change, decided before any write (csirt_tui/exchange.py)."""

from __future__ import annotations

import json

import pytest

from conftest import sample_intake
from csirt_tui.bundle import BundleError, incident_record, make_payload, pack, unpack
from csirt_tui.exchange import plan_import
from csirt_tui.model import entry_hash
from csirt_tui.store import Store

A, B, FAMILY = "aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", "aaaaaaaaaaaaaaaa"


@pytest.fixture
def desk(tmp_path, clock):
    store = Store.open(tmp_path / "desk", clock=clock)
    ids = []
    for n in range(2):
        inc = store.create_incident(sample_intake(what=f"通報 {n}"), operator="受付 花子")
        store.append(inc.id, "note", "メモ", operator="担当 太郎")
        ids.append(inc.id)
    store.append(ids[1], "correction", "訂正: 場所は別館", operator="担当 太郎", corrects=2)
    return store, ids


def payload_of(store, ids, since=0):
    records = [incident_record(store.incident(i), A, since=since) for i in ids]
    return unpack(pack(make_payload(records, family=FAMILY, store_id=A, desk="本庁デスク", profile="mutsu",
                                    schema=3, created_at="2026-11-22T14:35:00+09:00")))


def test_a_new_desk_would_take_everything(desk, tmp_path):
    store, ids = desk
    empty = Store.open(tmp_path / "terminal")
    plan = plan_import(empty, payload_of(store, ids), store_id=B, family=FAMILY)
    assert [p.local_id for p in plan.incidents] == [None, None]
    assert plan.new_entries == 5 and len(plan.new_incidents) == 2
    assert "新しいインシデント 2 件、新しい記録 5 件" in plan.lines()[0]
    assert [e["kind"] for e in plan.incidents[1].entries] == ["intake", "note", "correction"]
    assert plan.incidents[1].entries[-1]["refs"] == {"corrects": [A, ids[1], 2]}


def test_its_own_bundle_changes_nothing(desk):
    store, ids = desk
    plan = plan_import(store, payload_of(store, ids), store_id=A, family=FAMILY)
    assert plan.changes_nothing and plan.new_entries == 0 and [p.known for p in plan.incidents] == [2, 3]
    assert "変更はありません" in "\n".join(plan.lines())


def test_a_bundle_of_another_family_is_refused(desk, tmp_path):
    store, ids = desk
    with pytest.raises(BundleError, match="別のストアのバンドル"):
        plan_import(Store.open(tmp_path / "other"), payload_of(store, ids), store_id=B, family=B)


def test_part_of_an_incident_this_desk_does_not_have_is_refused(desk, tmp_path):
    store, ids = desk
    with pytest.raises(BundleError, match="一部だけ"):
        plan_import(Store.open(tmp_path / "terminal"), payload_of(store, ids, since=1), store_id=B, family=FAMILY)


def test_an_entry_held_here_with_other_content_is_refused(desk):
    store, ids = desk
    payload = json.loads(json.dumps(payload_of(store, ids)))
    e = payload["incidents"][0]["entries"][1]
    e["text"] = "別の内容"
    e["hash"] = entry_hash(e)  # a valid entry, under an identity this desk holds with other content
    with pytest.raises(BundleError, match="別の内容"):
        plan_import(store, unpack(pack(payload)), store_id=A, family=FAMILY)


def test_a_reference_to_an_entry_neither_side_has_is_refused(desk, tmp_path):
    store, ids = desk
    payload = json.loads(json.dumps(payload_of(store, ids)))
    payload["incidents"][1]["entries"][-1]["refs"]["corrects"] = [A, ids[1], 2]
    payload["incidents"][1]["entries"].pop(1)  # the entry the correction names is not in the bundle
    with pytest.raises(BundleError, match="どちらの端末にもない記録"):
        plan_import(Store.open(tmp_path / "terminal"), unpack(pack(payload)), store_id=B, family=FAMILY)

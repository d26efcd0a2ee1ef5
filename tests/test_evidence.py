"""The evidence register, SHA-256 of files and the chain of custody (csirt_tui.evidence)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from conftest import chmod_denies, not_root, posix_fifo, sample_intake, symlink_or_skip
from csirt_tui.errors import DomainError
from csirt_tui.evidence import (
    EvidenceError,
    EvidenceItem,
    FileHashError,
    add_evidence,
    custody_chain,
    evidence_items,
    hand_over,
    sha256_file,
)
from csirt_tui.response import close_incident
from csirt_tui.triage import Triage, record_triage

OP = "試験 花子"


def incident(store) -> str:
    inc = store.create_incident(sample_intake(), operator=OP)
    record_triage(store, inc.id, Triage(fact_check="done", type_id="cyber", ticked=["L1.4"]), operator=OP)
    return inc.id


def verified(store) -> None:
    report = store.verify()
    assert report.ok, report.problems


def item(**over) -> EvidenceItem:
    base = dict(item="FW ログ（11/20～11/22）", collected_by="情報 太郎", collected_at="13:00",
                location="情報政策課 金庫 A-2", source_device="本庁舎 FW-01", path="", sha256="", note="")
    base.update(over)
    return EvidenceItem(**base)


# ---------------------------------------------------------------------------
# SHA-256 of a file


def test_sha256_equals_hashlib_and_reports_progress(tmp_path):
    data = os.urandom(3 * 1024 + 500)
    path = tmp_path / "fw.log"
    path.write_bytes(data)
    calls = []
    digest = sha256_file(path, progress=lambda done, total: calls.append((done, total)), chunk=1024)
    assert digest == hashlib.sha256(data).hexdigest()
    assert calls[0] == (0, len(data)) and calls[-1] == (len(data), len(data))
    assert [c[0] for c in calls] == [0, 1024, 2048, 3072, len(data)]
    assert sha256_file(str(path)) == digest  # default chunk, no callback


def test_sha256_of_an_empty_file(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    calls = []
    assert sha256_file(path, progress=lambda d, t: calls.append((d, t))) == hashlib.sha256(b"").hexdigest()
    assert calls == [(0, 0)]


def test_progress_may_cancel(tmp_path):
    path = tmp_path / "big"
    path.write_bytes(b"x" * 5000)

    class Cancelled(Exception):
        pass

    def stop(done, total):
        if done >= 2000:
            raise Cancelled

    with pytest.raises(Cancelled):
        sha256_file(path, progress=stop, chunk=1000)


def test_sha256_refuses_folders_and_missing_files(tmp_path):
    with pytest.raises(FileHashError, match="フォルダです"):
        sha256_file(tmp_path)
    with pytest.raises(FileHashError) as info:
        sha256_file(tmp_path / "nothing.log")
    assert "nothing.log" in str(info.value) and "ファイルがありません" in str(info.value)
    assert isinstance(info.value, DomainError)


def test_sha256_refuses_a_symlink_to_a_folder(tmp_path):
    link = tmp_path / "link-to-dir"
    symlink_or_skip(link, tmp_path, target_is_directory=True)
    with pytest.raises(FileHashError, match="フォルダです"):
        sha256_file(link)


@posix_fifo
def test_sha256_refuses_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(FileHashError, match="通常のファイルではありません"):
        sha256_file(fifo)  # refused without opening it (opening a FIFO would block)


@chmod_denies
@not_root
def test_sha256_unreadable_file(tmp_path):
    path = tmp_path / "secret"
    path.write_bytes(b"x")
    path.chmod(0)
    try:
        with pytest.raises(FileHashError, match="権限"):
            sha256_file(path)
    finally:
        path.chmod(0o600)


def test_sha256_unreadable_file_as_root_too(tmp_path, monkeypatch):
    path = tmp_path / "secret"
    path.write_bytes(b"x")

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(FileHashError, match="読み取りの権限がありません"):
        sha256_file(path)


# ---------------------------------------------------------------------------
# The register


def test_add_evidence_keeps_the_typed_text(store, tmp_path):
    iid = incident(store)
    data = b"2026-11-22 13:58 deny tcp 203.0.113.9\n"
    path = tmp_path / "fw.log"
    path.write_bytes(data)
    digest = sha256_file(path)
    typed = item(item="  FW ログ\n（抜粋）  ", note="<b>原本</b> は金庫", path=str(path), sha256=digest.upper())
    entry = add_evidence(store, iid, typed, operator=OP)
    assert entry.kind == "evidence"
    d = entry.data
    assert d["item"] == "  FW ログ\n（抜粋）  " and d["note"] == "<b>原本</b> は金庫"  # verbatim
    assert d["sha256"] == hashlib.sha256(data).hexdigest()  # stored in lower case
    assert d["collected_at"] == "2026-11-22T13:00:00+09:00" and d["collected_at_text"] == "13:00"
    assert d["source_device"] == "本庁舎 FW-01" and d["location"] == "情報政策課 金庫 A-2"
    # the entry's text says the time as people read it (it said 「情報 太郎（2026-11-22T13:00:00+09:00）」
    # in the timeline, `show` and the report's table)
    assert "収集: 情報 太郎（2026年11月22日(日) 13:00）" in entry.text.splitlines(), entry.text
    rows = evidence_items(store.incident(iid))
    assert len(rows) == 1 and rows[0]["seq"] == entry.seq and rows[0]["holder"] == "情報 太郎"
    verified(store)


def test_add_evidence_refuses_what_is_missing(store):
    iid = incident(store)
    before = len(store.timeline(iid))
    with pytest.raises(EvidenceError) as info:
        add_evidence(store, iid, item(item=" ", collected_by="", location="", collected_at=None,
                                      sha256="abc"), operator=OP)
    problems = info.value.problems
    assert len(problems) == 5
    assert any("品目" in p for p in problems) and any("保管場所" in p for p in problems)
    assert any("収集日時" in p for p in problems) and any("SHA-256" in p for p in problems)
    assert len(store.timeline(iid)) == before
    with pytest.raises(EvidenceError, match="収集日時"):
        add_evidence(store, iid, item(collected_at="来週"), operator=OP)


def test_evidence_may_be_added_after_closure(store):
    iid = incident(store)
    close_incident(store, iid, operator=OP, note="収束", force=True)
    add_evidence(store, iid, item(), operator=OP)
    assert len(evidence_items(store.incident(iid))) == 1
    verified(store)


# ---------------------------------------------------------------------------
# Chain of custody


def test_custody_chain_in_order(store, clock):
    iid = incident(store)
    first = add_evidence(store, iid, item(), operator=OP)
    other = add_evidence(store, iid, item(item="端末 HDD", collected_by="保守 次郎"), operator=OP)
    clock.advance(hours=1)
    e1, w1 = hand_over(store, iid, first.seq, from_="情報 太郎", to="解析 三郎", when="15:00",
                       why="ログ解析のため", operator=OP)
    assert w1 == [] and e1.occurred_at == "2026-11-22T15:00:00+09:00"
    assert e1.data["custody_of"] == first.seq and e1.data["from"] == "情報 太郎" and e1.data["to"] == "解析 三郎"
    clock.advance(hours=1)
    e2, _ = hand_over(store, iid, first.seq, from_="解析 三郎", to="警察 生活安全課", when="今",
                      why="捜査のため提出", operator=OP, location="県警")
    inc = store.incident(iid)
    chain = custody_chain(inc, first.seq)
    assert [c["event"] for c in chain] == ["collected", "handover", "handover"]
    assert [(c["from"], c["to"]) for c in chain] == [
        (None, "情報 太郎"), ("情報 太郎", "解析 三郎"), ("解析 三郎", "警察 生活安全課")]
    assert [c["seq"] for c in chain] == [first.seq, e1.seq, e2.seq]
    assert chain[2]["why"] == "捜査のため提出"
    assert len(custody_chain(inc, other.seq)) == 1  # the other item's chain is its own
    rows = {r["seq"]: r for r in evidence_items(inc)}
    assert rows[first.seq]["holder"] == "警察 生活安全課" and rows[first.seq]["current_location"] == "県警"
    assert rows[first.seq]["handovers"] == 2 and rows[other.seq]["holder"] == "保守 次郎"
    assert len(rows) == 2  # hand-overs are not items
    verified(store)


def test_hand_over_warns_but_records_when_the_holder_differs(store):
    iid = incident(store)
    first = add_evidence(store, iid, item(), operator=OP)
    entry, warnings = hand_over(store, iid, first.seq, from_="情報太郎", to="解析 三郎", when="13:30",
                                why="解析", operator=OP)
    assert len(warnings) == 1 and "記録上の保管者（情報 太郎）" in warnings[0]
    assert entry.data["warnings"] == warnings
    _, early = hand_over(store, iid, first.seq, from_="解析 三郎", to="情報 太郎", when="12:00",
                         why="返却", operator=OP)
    assert any("収集日時より前" in w for w in early)


def test_hand_over_refusals(store):
    iid = incident(store)
    first = add_evidence(store, iid, item(), operator=OP)
    with pytest.raises(EvidenceError) as info:
        hand_over(store, iid, first.seq, from_="", to=" ", when=None, why="", operator=OP)
    assert len(info.value.problems) == 4
    with pytest.raises(EvidenceError, match="登録されていません"):
        hand_over(store, iid, 1, from_="a", to="b", when="今", why="c", operator=OP)  # #1 is the intake
    with pytest.raises(EvidenceError, match="登録されていません"):
        custody_chain(store.incident(iid), 999)


def test_editing_one_byte_of_an_evidence_entry_is_named(store):
    iid = incident(store)
    first = add_evidence(store, iid, item(note="HASH-CHECK-7"), operator=OP)
    hand_over(store, iid, first.seq, from_="情報 太郎", to="解析 三郎", when="13:10", why="解析", operator=OP)
    verified(store)
    seg = Path(store.root) / "incidents" / "2026" / iid / "timeline-0000.json"
    raw = seg.read_bytes()
    assert raw.count(b"HASH-CHECK-7") == 2
    seg.write_bytes(raw.replace(b"HASH-CHECK-7", b"HASH-CHECK-8"))
    report = store.verify()
    assert not report.ok
    assert f"{iid}#{first.seq}" in report.problems[0] and "改ざん" in report.problems[0]

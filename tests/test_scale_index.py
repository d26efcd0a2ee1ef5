"""Issue 18: what a command or the desk's first paint reads does not grow with the closed
incidents. The open incidents' rows are in index/open.json; a year's file holds the rows of
its incidents no longer open, and is read only by `list --all`, the summary, verify and the
writes that move a row into or out of it. Small stores, behaviour only (the figures are
bench/scale.py's): reads are counted by patching the store's file readers."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime

import pytest

import csirt_tui.store as store_mod
from conftest import TZ, sample_intake
from csirt_tui import jsonfile
from csirt_tui.cli import main
from csirt_tui.errors import StoreCorruptError
from csirt_tui.response import close_incident, reopen_incident
from csirt_tui.store import Store


def _intake(day: datetime, what: str = "端末の不具合") -> dict:
    at = day.isoformat()
    return sample_intake(received_at=at, found_at=at, what=what)


@pytest.fixture
def years(store, clock):
    """Three years of incidents: 2024 and 2025 all closed, 2026 one closed and two open."""
    ids = {}
    for year in (2024, 2025):
        for n in range(3):
            inc = store.create_incident(_intake(datetime(year, 3, 1 + n, 10, tzinfo=TZ)), operator="op")
            close_incident(store, inc.id, operator="op", note="完了を確認", force=True)
            ids.setdefault(year, []).append(inc.id)
    done = store.create_incident(_intake(datetime(2026, 5, 1, 9, tzinfo=TZ)), operator="op")
    close_incident(store, done.id, operator="op", note="完了を確認", force=True)
    a = store.create_incident(_intake(datetime(2026, 11, 20, 9, tzinfo=TZ), "メールの誤送信"), operator="op")
    b = store.create_incident(sample_intake(), operator="op")
    return store, ids, done.id, a.id, b.id


class Reads:
    """Counts whole-file reads of the index files (read_bytes / read_file of store.py;
    the cheap look at a year file's last bytes is not one)."""

    def __init__(self, monkeypatch):
        self.paths: list[str] = []
        real_bytes, real_file = store_mod.read_bytes, store_mod.read_file

        def read_bytes(path):
            self.paths.append(str(path))
            return real_bytes(path)

        def read_file(path):
            self.paths.append(str(path))
            return real_file(path)

        monkeypatch.setattr(store_mod, "read_bytes", read_bytes)
        monkeypatch.setattr(store_mod, "read_file", read_file)

    def years(self) -> list[str]:
        return [p for p in self.paths if "/index/" in p.replace("\\", "/") and not p.endswith("open.json")]

    def clear(self) -> None:
        self.paths.clear()


class Cut(BaseException):
    """A process killed at that point (nothing after it runs)."""


@contextmanager
def _cut(monkeypatch, method: str):
    """The store's ``method`` kills the write (as a crash would) inside the block; undone after."""
    def cut(self, *args, **kwargs):
        raise Cut()

    monkeypatch.setattr(Store, method, cut)
    with pytest.raises(Cut):
        yield
    monkeypatch.undo()


def test_rows_live_in_open_json_while_open_and_in_their_years_file_once_closed(years):
    store, ids, done, a, b = years
    root = store.root
    open_doc = jsonfile.decode(root / "index" / "open.json", (root / "index" / "open.json").read_bytes())
    assert sorted(r["id"] for r in open_doc["incidents"].values()) == sorted([a, b])
    y2024 = jsonfile.decode(root / "index" / "2024.json", (root / "index" / "2024.json").read_bytes())
    assert sorted(r["id"] for r in y2024["incidents"].values()) == ids[2024]
    assert {r["status"] for r in y2024["incidents"].values()} == {"closed"}
    assert open_doc["years"]["2026"]["count"] == 3 and open_doc["years"]["2024"]["last"] == 3
    assert [r["id"] for r in store.list_incidents(status="open")] == [b, a]  # newest receipt first
    everything = store.list_incidents()
    assert len(everything) == 9 == store.count_incidents()
    assert [r["id"] for r in everything] == [r["id"] for r in store.iter_incidents()]
    assert [r["received_at"] for r in everything] == sorted((r["received_at"] for r in everything), reverse=True)
    assert store.verify().ok, store.verify().problems


def test_closing_and_reopening_move_the_row_and_verify_holds(years):
    store, ids, done, a, b = years
    close_incident(store, a, operator="op", note="完了", force=True)
    assert [r["id"] for r in store.list_incidents(status="open")] == [b]
    assert any(r["id"] == a and r["status"] == "closed" for r in store.list_incidents())
    assert store.verify().ok
    reopen_incident(store, a, operator="op", reason="再発")
    assert sorted(r["id"] for r in store.list_incidents(status="open")) == sorted([a, b])
    assert [r["id"] for r in store.list_incidents(status="closed")].count(a) == 0
    assert store.count_incidents() == 9
    report = store.verify()
    assert report.ok, report.problems


@pytest.mark.parametrize("argv", [["log", "{a}", "電話で状況を確認"], ["show", "{a}"], ["list"], ["list", "--json"],
                                  ["verify", "{a}"]])
def test_a_command_reads_no_year_file(years, monkeypatch, capsys, argv):
    store, ids, done, a, b = years
    reads = Reads(monkeypatch)
    assert main(["--store", str(store.root), *[x.format(a=a) for x in argv]]) == 0
    assert reads.years() == [], reads.years()
    assert any(p.endswith("open.json") for p in reads.paths) or argv[0] in ("show", "verify")


def test_an_intake_reads_no_year_file(years, monkeypatch, capsys, tmp_path):
    store, *_ = years
    card = tmp_path / "card.json"
    card.write_text(json.dumps({"what": "不審なメール", "place": "本庁舎2階"}, ensure_ascii=False), encoding="utf-8")
    reads = Reads(monkeypatch)
    assert main(["--store", str(store.root), "intake", "--json", str(card)]) == 0
    new_id = capsys.readouterr().out.strip()
    assert reads.years() == []
    assert new_id in [r["id"] for r in Store.open(store.root).list_incidents(status="open")]


def test_list_all_reads_them_and_gives_the_same_json_as_before(years, monkeypatch, capsys):
    """The counter can fail: --all reads every year. Its JSON (written row by row) is the
    text json.dumps(..., indent=2) gives for the whole list."""
    from csirt_tui.textsafe import json_for_terminal

    store, *_ = years
    reads = Reads(monkeypatch)
    assert main(["--store", str(store.root), "list", "--all", "--json"]) == 0
    out = capsys.readouterr().out
    assert len(set(reads.years())) == 3
    assert out == json_for_terminal(store.list_incidents()) + "\n"
    assert main(["--store", str(store.root), "list", "--all", "--json"]) == 0  # and an empty list
    empty = Store.open(store.root.parent / "empty")
    assert main(["--store", str(empty.root), "list", "--all", "--json"]) == 0
    assert capsys.readouterr().out.endswith("[]\n")


def test_opening_walks_no_incident_folder(years, monkeypatch):
    store, ids, done, a, b = years

    def walked(*args, **kwargs):
        raise AssertionError("a walk over the incidents")

    monkeypatch.setattr(Store, "_incident_dirs", walked)
    monkeypatch.setattr(Store, "_rebuild_index", walked)
    s = Store.open(store.root)
    s.append(a, "note", "メモ", operator="op")
    assert len(s.list_incidents(status="open")) == 2 and s.count_incidents() == 9
    s.create_incident(sample_intake(what="三件目"), operator="op")


def test_a_year_file_damaged_inside_is_refused_where_it_is_read(years):
    """Its last bytes intact (the open does not read it whole): every read of it, the
    write that would move a row into it, and verify refuse it by name; nothing is written."""
    store, ids, done, a, b = years
    path = store.root / "index" / "2025.json"
    raw = path.read_bytes()
    bad = raw.replace("端末".encode(), "端未".encode(), 1)
    assert bad != raw
    path.write_bytes(bad)
    s = Store.open(store.root)
    assert len(s.list_incidents(status="open")) == 2
    with pytest.raises(StoreCorruptError, match="2025.json"):
        s.list_incidents()
    late = s.create_incident(_intake(datetime(2025, 12, 30, 9, tzinfo=TZ)), operator="op")
    with pytest.raises(StoreCorruptError, match="2025.json"):
        close_incident(s, late.id, operator="op", note="完了", force=True)
    assert path.read_bytes() == bad
    assert any("2025.json" in p for p in s.verify().problems)


def test_a_year_file_damaged_at_its_end_is_refused_at_open(years):
    store, *_ = years
    path = store.root / "index" / "2024.json"
    bad = path.read_bytes()[:-20]
    path.write_bytes(bad)
    with pytest.raises(StoreCorruptError, match="2024.json"):
        Store.open(store.root)
    assert path.read_bytes() == bad


def test_a_close_cut_off_between_its_two_index_writes_is_made_good_and_said(years, monkeypatch, capsys):
    """The year file written, open.json not (a crash): the next open sees the year file is not
    the one open.json records, makes that year again from the record, and says so."""
    store, ids, done, a, b = years

    with _cut(monkeypatch, "_write_open_index"):
        close_incident(store, a, operator="op", note="完了", force=True)
    assert main(["--store", str(store.root), "list"]) == 0
    out, err = capsys.readouterr()
    assert a not in out and b in out
    assert "注意" in err and "2026.json" in err and "作り直しました" in err
    report = Store.open(store.root).verify()
    assert report.ok, report.problems


def test_an_intake_cut_off_before_its_row_gets_it_at_the_next_open(years, monkeypatch):
    store, *_ = years

    with _cut(monkeypatch, "_update_index"):
        store.create_incident(sample_intake(what="途中で止まった受付"), operator="op")
    s = Store.open(store.root)
    assert any(r["summary"].startswith("途中で止まった受付") for r in s.list_incidents(status="open"))
    assert s.count_incidents() == 10
    assert s.verify().ok


def test_a_store_of_the_older_layout_is_converted_when_opened(years, capsys):
    """The previous csirt-desk kept every row in its year's file and had no open.json."""
    store, ids, done, a, b = years
    rows = store.list_incidents()
    index = store.root / "index"
    for path in index.glob("*.json"):
        path.unlink()
    for year in (2024, 2025, 2026):
        mine = {r["id"].split("-")[1].lstrip("0"): r for r in rows if r["id"].startswith(str(year))}
        jsonfile.atomic_write(index / f"{year}.json", jsonfile.seal({"incidents": mine}))
    s = Store.open(store.root)
    assert "open.json" in " ".join(s.take_notices())
    assert s.list_incidents() == rows
    assert s.verify().ok


def test_verify_says_a_row_in_the_wrong_file(years):
    store, ids, done, a, b = years
    path = store.root / "index" / "open.json"
    doc = jsonfile.decode(path, path.read_bytes())
    victim = ids[2024][0]
    doc["incidents"]["2024000001"] = dict(store.list_incidents(status="closed")[-1], id=victim)
    jsonfile.atomic_write(path, jsonfile.seal(doc))
    problems = store.verify().problems
    assert any(victim in p and "両方" in p for p in problems), problems


def test_year_payload_is_what_seal_writes():
    rows = {str(n): {"id": f"2026-{n:04d}", "summary": s, "n": n}
            for n, s in enumerate(["端末", "a\u2028b", "\ud83d", "引用\"符", ""], start=1)}
    lines = [jsonfile.doc_line(k, v).encode("utf-8") for k, v in rows.items()]
    payload, digest = store_mod._year_payload(lines)
    assert payload == jsonfile.seal({"incidents": rows})
    assert store_mod._year_payload([])[0] == jsonfile.seal({"incidents": {}})
    assert store_mod._year_lines(payload) == lines
    assert store_mod._SEAL_TAIL.search(payload).group(1).decode() == digest
    assert store_mod._year_lines(payload.replace("端末".encode(), "端未".encode())) is None  # its seal no longer holds


def test_verify_progress_is_reported_and_quiet_for_a_small_store(years, capsys):
    store, *_ = years
    seen = []
    assert store.verify(progress=lambda stage, done, total: seen.append((stage, done, total))).ok
    incidents = [s for s in seen if s[0] == "incidents"]
    assert incidents[-1] == ("incidents", 9, 9) and len(incidents) == 9
    assert any(s[0] == "files" for s in seen)
    # every long pass says where it is: at 50,000 incidents the index, the ledger's 1,173
    # segments and the folders took ~15 s between the files and the first incident, unsaid
    order = [s[0] for s in seen]
    stages = [st for i, st in enumerate(order) if i == 0 or order[i - 1] != st]
    assert stages == ["files", "index", "ledger", "folders", "incidents"], stages
    assert ("index", 3, 3) in seen and ("folders", 3, 3) in seen
    ledger = [s for s in seen if s[0] == "ledger"]
    assert ledger[-1][1] == ledger[-1][2] >= 1
    assert main(["--store", str(store.root), "verify"]) == 0
    assert capsys.readouterr().err == ""  # under 2 s: no progress lines


def test_verify_progress_lines_on_stderr(monkeypatch, capsys):
    from csirt_tui import cli

    ticks = iter(range(0, 1000, 3))
    monkeypatch.setattr("time.monotonic", lambda: float(next(ticks)))
    progress = cli._Progress()
    for done in range(1, 5):
        progress("incidents", done, 4)
    progress("ledger", 10, 10)
    err = capsys.readouterr().err
    assert "verify: インシデントの記録 1 / 4 (25%)" in err and "4 / 4 (100%)" in err
    assert "verify: 台帳 10 / 10 (100%)" in err


def test_a_large_demo_is_a_realistic_mix_and_verifies(store_dir, clock):
    from csirt_tui.demo import build_large

    s = Store.open(store_dir, clock=clock)
    assert build_large(s, incidents=300, entries=4, open_count=12, years=4) == 300
    rows = s.list_incidents()
    statuses = [r["status"] for r in rows]
    assert statuses.count("open") == 12 == len(s.list_incidents(status="open"))
    assert "closed" in statuses and "not_incident" in statuses
    assert len({r["id"][:4] for r in rows}) >= 4
    assert all(e for e in s.timeline(rows[-1]["id"]))
    assert len(s.timeline(rows[0]["id"])) == 4
    newest = sorted(rows, key=lambda r: r["received_at"])[-5:]
    assert all(r["status"] == "open" for r in newest)  # most open ones are the newest
    report = s.verify()
    assert report.ok and report.incidents == 300 and report.entries == 1200, report.problems[:3]


def test_bulk_create_writes_what_the_desks_own_calls_write(tmp_path, clock):
    """The same intake and entries through create_incident + append, and through
    bulk_create: the same entries (hashes too), the same index row."""
    at = clock().isoformat()
    intake = sample_intake(received_at=at)
    triage = {"type": "malware", "level": 1, "phase": "detect"}
    one = Store.open(tmp_path / "one", clock=clock)
    inc = one.create_incident(intake, operator="試験 花子")
    one.append(inc.id, "triage", "トリアージ", operator="試験 花子", data=triage)
    one.append(inc.id, "note", "経過メモ", operator="試験 花子")
    two = Store.open(tmp_path / "two", clock=clock)
    [made] = two.bulk_create([(intake, [
        {"kind": "triage", "text": "トリアージ", "operator": "試験 花子", "at": at, "data": triage},
        {"kind": "note", "text": "経過メモ", "operator": "試験 花子", "at": at}])])
    assert made == inc.id
    assert [e.to_dict() for e in two.timeline(made)] == [e.to_dict() for e in one.timeline(inc.id)]
    assert two.list_incidents() == one.list_incidents()
    assert two.verify().ok


def test_numbers_keep_counting_past_a_lost_incident(years):
    """A year's highest number is kept in open.json: a new report never takes a number
    whose folder is gone (test_corruption has the same for a folder removed)."""
    import shutil

    store, ids, done, a, b = years
    shutil.rmtree(store.root / "incidents" / "2026" / b)
    new = store.create_incident(sample_intake(what="次の受付"), operator="op")
    assert new.id == "2026-0004"


def test_reindex_makes_the_layout_again(years):
    store, *_ = years
    before = store.list_incidents()
    (store.root / "index" / "open.json").unlink()
    assert store.reindex() == 9
    assert store.list_incidents() == before and store.verify().ok


def test_an_intake_cut_off_before_its_row_gets_it_at_another_desks_next_write(years, monkeypatch):
    """No Store.open in between: the desk that writes next looks at the incident of the
    ledger's newest record (the one a killed write can have left without its row)."""
    store, ids, done, a, b = years
    other = Store.open(store.root)  # another desk, open all along

    with _cut(monkeypatch, "_update_index"):
        store.create_incident(sample_intake(what="途中で止まった受付"), operator="op")
    assert not any(r["summary"].startswith("途中で止まった受付") for r in other.list_incidents(status="open"))
    other.append(a, "note", "別のデスクのメモ", operator="op2")
    assert any(r["summary"].startswith("途中で止まった受付") for r in other.list_incidents(status="open"))
    assert other.verify().ok


def test_verify_id_of_an_old_incident_finds_its_record_far_back_in_the_ledger(store):
    """Its newest ledger record lies segments back: found by the incident's name in the
    segments' bytes; a consistent rewrite of its chain is still caught."""
    from csirt_tui.model import entry_hash

    old = store.create_incident(sample_intake(what="古い受付"), operator="op")
    store.append(old.id, "note", "古いメモ", operator="op")
    busy = store.create_incident(sample_intake(what="新しい受付"), operator="op")
    for i in range(300):  # three ledger segments after the old incident's last record
        store.append(busy.id, "note", f"メモ {i}", operator="op")
    assert len(list((store.root / "ledger").glob("ledger-*.json"))) == 3
    assert store.verify_incident(old.id).ok
    seg = store.root / "incidents" / "2026" / old.id / "timeline-0000.json"
    data = jsonfile.decode(seg, seg.read_bytes())
    entry = data["timeline"]["2"]
    entry["text"] = "書き換えたメモ"
    entry["hash"] = entry_hash(entry)
    seg.write_bytes(jsonfile.encode(data))
    problems = store.verify_incident(old.id).problems
    assert any("台帳" in p and old.id in p for p in problems), problems

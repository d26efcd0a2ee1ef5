"""The bundle container (csirt_tui/bundle.py, issue 17): what a hostile or damaged bundle
cannot get past, before anything is written to a store."""

from __future__ import annotations

import json
import random

import pytest

from conftest import sample_intake
from csirt_tui.bundle import (MAGIC, BundleError, check_payload, incident_record, make_payload, pack,
                              read_bundle, unpack)
from csirt_tui.store import Store

DESK = "0123456789abcdef"
PASSWORD = "隔離端末へ 2026".encode()


@pytest.fixture(scope="module")
def payload(tmp_path_factory):
    store = Store.open(tmp_path_factory.mktemp("bundle") / "store")
    ids = []
    for n in range(3):
        inc = store.create_incident(sample_intake(what=f"不審なメール {n} <b>[bold]\x1b[2J"), operator="受付 花子")
        for k in range(4):
            store.append(inc.id, "note", f"メモ {k}\n𩸽 ①", operator="担当 太郎")
        ids.append(inc.id)
    store.append(ids[0], "correction", "訂正", operator="担当 太郎", corrects=2)
    records = [incident_record(store.incident(i), DESK) for i in ids]
    return make_payload(records, family=DESK, store_id=DESK, desk="本庁デスク", profile="mutsu", schema=3,
                        created_at="2026-11-22T14:35:00+09:00")


def test_a_bundle_comes_back_as_it_was_made_plain_and_encrypted(payload, tmp_path):
    for password in (None, PASSWORD):
        raw = pack(payload, password=password)
        path = tmp_path / "b.bundle"
        path.write_bytes(raw)
        assert read_bundle(path, password=password) == payload
    assert PASSWORD not in raw and "不審なメール".encode() not in raw  # encrypted: nothing readable


def test_a_wrong_or_missing_password_is_one_line(payload):
    raw = pack(payload, password=PASSWORD)
    with pytest.raises(BundleError, match="パスワードが違うか、ファイルが壊れています"):
        unpack(raw, password=b"wrong")
    with pytest.raises(BundleError, match="暗号化されたバンドルです"):
        unpack(raw)


@pytest.mark.parametrize("password", [None, PASSWORD], ids=["plain", "encrypted"])
def test_truncated_at_50_points_each_is_refused(payload, password):
    raw = pack(payload, password=password)
    rng = random.Random(17)
    for cut in sorted(rng.sample(range(len(raw)), 50)):
        with pytest.raises(BundleError) as err:
            unpack(raw[:cut], password=password)
        assert "\n" not in str(err.value)


@pytest.mark.parametrize("password", [None, PASSWORD], ids=["plain", "encrypted"])
def test_100_random_byte_edits_are_each_refused(payload, password):
    raw = pack(payload, password=password)
    rng = random.Random(1700 if password else 1701)
    refused = 0
    for _ in range(100):
        pos = rng.randrange(len(raw))
        edited = bytearray(raw)
        edited[pos] = (edited[pos] + rng.randrange(1, 256)) % 256
        try:
            unpack(bytes(edited), password=password)
        except BundleError:
            refused += 1
    assert refused == 100


def test_a_claimed_size_of_1_gb_is_refused_from_the_header(payload, tmp_path, monkeypatch):
    import csirt_tui.bundle as bundle

    def never(path):
        raise AssertionError("the body was read: the header alone must refuse it")

    monkeypatch.setattr(bundle, "read_bytes", never)
    raw = pack(payload)
    head, rest = raw[len(MAGIC):].split(b"\n", 1)
    header = json.loads(head)
    header["length"] = 1 << 30
    path = tmp_path / "big.bundle"
    path.write_bytes(MAGIC + json.dumps(header).encode() + b"\n" + rest)
    with pytest.raises(BundleError, match="途中で切れているか"):
        read_bundle(path)  # refused from the header: nothing more is read, nothing allocated
    header["length"] = 1 << 40  # beyond any bundle
    path.write_bytes(MAGIC + json.dumps(header).encode() + b"\n" + rest)
    with pytest.raises(BundleError, match="ヘッダーが壊れています"):
        read_bundle(path)


def _repacked(payload, change) -> bytes:
    doc = json.loads(json.dumps(payload))
    change(doc)
    from csirt_tui import bundle

    body = json.dumps(doc, ensure_ascii=False).encode()
    import hashlib

    header = {"format": bundle.FORMAT, "encrypted": False, "length": len(body),
              "sha256": hashlib.sha256(body).hexdigest()}
    return MAGIC + json.dumps(header).encode() + b"\n" + body


HOSTILE = {
    "path traversal in an incident number": lambda d: d["incidents"][0].update(id="../../../etc/passwd"),
    "path traversal in an entry's incident": lambda d: d["incidents"][0]["entries"][1].update(
        incident="2026-0001/../../x"),
    "a Windows path in a uid": lambda d: d["incidents"][0]["uid"].update(incident="C:\\Windows\\x"),
    "an edited text under the old hash": lambda d: d["incidents"][0]["entries"][1].update(text="書き換え"),
    "a changed author": lambda d: d["incidents"][0]["entries"][1].update(operator="別人"),
    "a family that is not an id": lambda d: d.update(family="../x"),
    "an unknown kind": lambda d: d["incidents"][0]["entries"][1].update(kind="delete_all"),
    "an intake in the middle": lambda d: d["incidents"][0]["entries"][2].update(kind="intake"),
    "a field the format does not have": lambda d: d["incidents"][0]["entries"][1].update(path="/etc/passwd"),
    "an incident twice": lambda d: d["incidents"].append(d["incidents"][0]),
    "a newer format": lambda d: d.update(format=2),
    "a time that is not a time": lambda d: d["incidents"][0]["entries"][1].update(at="昨日"),
    "an intake that names another entry": lambda d: (
        d["incidents"][0]["entries"][0]["data"].update(custody_of=1),
        d["incidents"][0]["entries"][0]["refs"].update({"data.custody_of": [DESK, "2026-0001", 1]})),
    "a seen that is not a desk": lambda d: d["incidents"][0]["entries"][1]["seen"].update({"../x": 1}),
    "a reference with no identity": lambda d: d["incidents"][0]["entries"][-1]["refs"].clear(),
    "an identity that is a path": lambda d: d["incidents"][0]["entries"][-1]["refs"].update(corrects=[DESK, "../x", 1]),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_payload_is_refused_in_one_line(payload, name):
    with pytest.raises(BundleError) as err:
        unpack(_repacked(payload, HOSTILE[name]))
    assert "\n" not in str(err.value)


def test_one_entry_twice_with_different_content_is_refused(payload):
    def twice(d):
        again = json.loads(json.dumps(d["incidents"][1]))
        first = again["entries"][1]
        d["incidents"][0]["entries"].append(first)  # the same entry twice, the same content: fine
    unpack(_repacked(payload, twice))

    def forged(d):
        # another entry under an existing identity: a valid hash for a different content
        from csirt_tui.model import entry_hash

        e = dict(d["incidents"][0]["entries"][1])
        e["text"] = "別の内容"
        e["hash"] = entry_hash(e)
        d["incidents"][0]["entries"].append(e)
    with pytest.raises(BundleError, match="内容を変えて二度"):
        unpack(_repacked(payload, forged))


def test_duplicate_keys_and_nan_are_refused(payload):
    raw = _repacked(payload, lambda d: None)
    head, body = raw[len(MAGIC):].split(b"\n", 1)
    import hashlib

    for bad in (body.replace(b'"format":', b'"format":1,"format":', 1), body.replace(b'"schema": 3', b'"schema": NaN')):
        header = json.loads(head)
        header.update(length=len(bad), sha256=hashlib.sha256(bad).hexdigest())
        with pytest.raises(BundleError):
            unpack(MAGIC + json.dumps(header).encode() + b"\n" + bad)


def test_not_a_bundle_and_a_newer_one_say_so(tmp_path):
    with pytest.raises(BundleError, match="バンドルではありません"):
        unpack(b"%PDF-1.7\n")
    with pytest.raises(BundleError, match="新しい版"):
        unpack(b"csirt-desk bundle 2\n{}\n")
    (tmp_path / "d").mkdir()
    with pytest.raises(BundleError):
        read_bundle(tmp_path / "d")


def test_pack_refuses_to_make_what_would_be_refused(payload):
    bad = json.loads(json.dumps(payload))
    bad["incidents"][0]["entries"][0]["text"] = "changed"
    with pytest.raises(BundleError):
        pack(bad)
    check_payload(payload)


def test_a_header_that_asks_for_gigabytes_of_key_work_is_refused_before_any(payload, tmp_path):
    """scrypt n=2^20, r=16, p=4 in a 247-byte file made the reader spend a minute and 2 GiB."""
    raw = pack(payload, password=PASSWORD)
    head, rest = raw[len(MAGIC):].split(b"\n", 1)
    header = json.loads(head)
    header["kdf"].update(n=1 << 20, r=16, p=4)
    with pytest.raises(BundleError, match="kdf"):
        unpack(MAGIC + json.dumps(header).encode() + b"\n" + rest, password=PASSWORD)


@pytest.fixture(scope="module")
def large_payload(tmp_path_factory):
    """Ten incidents, each with log excerpts of ~5 kB and short notes: ~0.7 MB of bundle."""
    store = Store.open(tmp_path_factory.mktemp("large") / "store")
    records = []
    for n in range(10):
        inc = store.create_incident(sample_intake(what=f"不審な通信 {n}"), operator="受付 花子")
        for k in range(8):
            store.append(inc.id, "note", f"ログの抜粋 {k}\n" + "192.0.2.10 -> 198.51.100.7:443 不審な通信 " * 120,
                         operator="担当 太郎")
        for k in range(40):
            store.append(inc.id, "note", f"メモ {k}", operator="担当 太郎")
        records.append(incident_record(store.incident(inc.id), DESK))
    return make_payload(records, family=DESK, store_id=DESK, desk="本庁デスク", profile="mutsu", schema=3,
                        created_at="2026-11-22T14:35:00+09:00")


@pytest.mark.parametrize("password", [None, PASSWORD], ids=["plain", "encrypted"])
def test_a_bundle_is_read_holding_its_bytes_once(large_payload, tmp_path, password):
    """Issue 17 (an old PC, a 1 GB bundle): the file was read whole, then its body copied out of
    it (and for an encrypted one decrypted into a third copy) and decoded, all held while the JSON
    was parsed (Python's own allocations, tracemalloc: 5.8 times the file at the peak on a bundle of
    two large incidents); with the bytes read once into one buffer, still 4.0 (plain) and 4.4
    (encrypted) times on this one. Now it is read in chunks and checked, then read again and parsed
    as it comes, one incident at a time (its check made again at the end), and equal short strings
    of the payload are one object: 2.3 and 2.4 times, about what the payload's objects are.
    bench/bundle_memory.py has the process's peak RSS on a large store."""
    import tracemalloc

    import csirt_tui.bundle as bundle_module

    chunk = getattr(bundle_module, "CHUNK", 1 << 18)  # the buffer each read goes through

    path = tmp_path / "b.bundle"
    path.write_bytes(pack(large_payload, password=password))
    size = path.stat().st_size
    tracemalloc.start()
    try:
        got = read_bundle(path, password=password)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got == large_payload
    assert peak < 3.2 * size + chunk, (peak / size, kept / size)

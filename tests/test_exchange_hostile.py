"""Hostile bundles taken in by a real store through `csirt-desk bundle import` (issue 17,
"Done when"): each is refused in one line, exit code 1, and the store is byte-identical
afterwards (every file, backups included); a store that did not exist is not made.

tests/test_bundle.py checks the container's refusals one by one (csirt_tui/bundle.py);
this file checks what the issue asks of them: that nothing of the store changed."""

from __future__ import annotations

import hashlib
import json
import random
import shutil

import pytest

from csirt_tui.bundle import MAGIC, unpack
from csirt_tui.cli import main
from csirt_tui.model import entry_hash

PASSWORD = "持ち出し用 2026"


def everything(root):
    """Every byte of the store: each file's content, and which folders exist."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*")) if p.name != ".lock"}


@pytest.fixture(scope="module")
def desks(tmp_path_factory):
    """The desk (a demo store), a terminal that took in the desk's bundle and wrote while
    apart, and the terminal's bundles back (plain and encrypted)."""
    tmp = tmp_path_factory.mktemp("hostile")
    desk, term = tmp / "desk", tmp / "term"
    (tmp / "pw.txt").write_text(PASSWORD + "\n", encoding="utf-8")
    assert main(["--store", str(desk), "demo"]) == 0
    assert main(["--store", str(desk), "bundle", "export", str(tmp / "d.bundle"), "--waive-reason", "試験"]) == 0
    assert main(["--store", str(term), "bundle", "import", str(tmp / "d.bundle"), "--desk", "隔離端末1"]) == 0
    for n in range(5):
        assert main(["--store", str(term), "log", "2026-0003", f"端末で: ログを保全した {n}"]) == 0
    assert main(["--store", str(term), "bundle", "export", str(tmp / "t.bundle"), "--waive-reason", "試験"]) == 0
    assert main(["--store", str(term), "bundle", "export", str(tmp / "t-enc.bundle"),
                 "--password-file", str(tmp / "pw.txt")]) == 0
    other = tmp / "other"
    assert main(["--store", str(other), "demo"]) == 0
    assert main(["--store", str(other), "bundle", "export", str(tmp / "o.bundle"), "--waive-reason", "試験"]) == 0
    return desk, tmp


def refused(capsys, desk, tmp, raw: bytes, *, password=False, name="bad.bundle") -> str:
    path = tmp / name
    path.write_bytes(raw)
    argv = ["--store", str(desk), "bundle", "import", str(path)]
    if password:
        argv += ["--password-file", str(tmp / "pw.txt")]
    capsys.readouterr()
    code = main(argv)
    out = capsys.readouterr()
    assert code == 1, (out.out, out.err)
    assert out.err.startswith("csirt-desk: ") and out.err.count("\n") == 1, out.err  # one line
    assert "取り込みました" not in out.out
    return out.err


def repacked(raw: bytes, change) -> bytes:
    """A plain bundle whose payload ``change`` edited, with a header that matches it (its length
    and its SHA-256): only the payload's own checks stand in the way."""
    payload = unpack(raw)
    change(payload)
    body = json.dumps(payload, ensure_ascii=False).encode()
    header = {"format": 1, "encrypted": False, "length": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    return MAGIC + json.dumps(header).encode() + b"\n" + body


def truncated_at_50_points(raw: bytes, rng: random.Random):
    return [raw[:cut] for cut in sorted(rng.sample(range(len(raw)), 50))]


def edited_100_times(raw: bytes, rng: random.Random):
    out = []
    for _ in range(100):
        edited = bytearray(raw)
        edited[rng.randrange(len(raw))] ^= rng.randrange(1, 256)
        out.append(bytes(edited))
    return out


@pytest.mark.parametrize("damage", [truncated_at_50_points, edited_100_times], ids=["truncated", "edited"])
def test_a_damaged_bundle_plain_and_encrypted(desks, capsys, damage):
    desk, tmp = desks
    before = everything(desk)
    rng = random.Random(1750)
    for name, password in (("t.bundle", False), ("t-enc.bundle", True)):
        for bad in damage((tmp / name).read_bytes(), rng):
            refused(capsys, desk, tmp, bad, password=password)
    assert everything(desk) == before


def test_a_bundle_of_another_store(desks, capsys):
    desk, tmp = desks
    before = everything(desk)
    err = refused(capsys, desk, tmp, (tmp / "o.bundle").read_bytes())
    assert "別のストアのバンドル" in err
    assert everything(desk) == before


TRAVERSAL = {
    "incident number": lambda d: d["incidents"][0].update(id="../../../etc/passwd"),
    "uid": lambda d: d["incidents"][0]["uid"].update(incident="../../incidents/2026/2026-0001"),
    "Windows path in a uid": lambda d: d["incidents"][0]["uid"].update(incident="C:\\Windows\\x"),
    "entry's incident": lambda d: d["incidents"][0]["entries"][0].update(incident="2026-0001/../../x"),
    "desk id": lambda d: d["sender"].update(store="../../.."),
    "family": lambda d: d.update(family="/etc/passwd"),
    "seen desk": lambda d: d["incidents"][0]["entries"][-1]["seen"].update({"..\\..\\x": 1}),
    "draft id": lambda d: d.update(drafts=[{"id": "../../drafts/x", "operator": "a", "kind": "intake",
                                            "updated_at": "2026-11-22T14:35:00+09:00", "incident": None,
                                            "data": {}}]),
    "draft's incident": lambda d: d.update(drafts=[{"id": "d1", "operator": "a", "kind": "note",
                                                    "updated_at": "2026-11-22T14:35:00+09:00",
                                                    "incident": {"store": d["sender"]["store"],
                                                                 "incident": "../../../x"}, "data": {}}]),
}


@pytest.mark.parametrize("where", list(TRAVERSAL))
def test_path_traversal_names_inside(desks, capsys, where):
    desk, tmp = desks
    before = everything(desk)
    refused(capsys, desk, tmp, repacked((tmp / "t.bundle").read_bytes(), TRAVERSAL[where]))
    assert everything(desk) == before
    assert not (tmp / "etc").exists() and not (desk.parent / "x").exists()


def test_a_claimed_size_of_1_gb(desks, capsys):
    desk, tmp = desks
    before = everything(desk)
    raw = (tmp / "t.bundle").read_bytes()
    head, body = raw[len(MAGIC):].split(b"\n", 1)
    header = json.loads(head)
    for claim in (1 << 30, 10 ** 9, (1 << 30) + 17):
        header["length"] = claim
        refused(capsys, desk, tmp, MAGIC + json.dumps(header).encode() + b"\n" + body)
    assert everything(desk) == before


def _forged(entry: dict, text: str) -> dict:
    e = dict(entry, text=text)
    e["hash"] = entry_hash(e)  # a valid hash for a different content under the same identity
    return e


def test_duplicate_entry_ids_with_different_content(desks, capsys, tmp_path):
    src, tmp = desks
    desk = tmp_path / "desk"
    shutil.copytree(src, desk)
    before = everything(desk)
    raw = (tmp / "t.bundle").read_bytes()

    def in_the_bundle(d):
        inc = next(i for i in d["incidents"] if len(i["entries"]) > 2)
        inc["entries"].append(_forged(inc["entries"][-1], "別の内容"))

    err = refused(capsys, desk, tmp, repacked(raw, in_the_bundle))
    assert "内容を変えて二度" in err

    def against_the_store(d):  # the desk's own intake, said with other words
        inc = d["incidents"][0]
        inc["entries"][0] = _forged(inc["entries"][0], "書き換えた通報")

    refused(capsys, desk, tmp, repacked(raw, against_the_store))
    assert everything(desk) == before

    def theirs_changed(d):  # an entry the terminal wrote, which the desk took in before, changed
        for inc in d["incidents"]:
            for n, e in enumerate(inc["entries"]):
                if e["text"].startswith("端末で:"):
                    inc["entries"][n] = _forged(e, "端末で: 何もしなかった")
                    return
        raise AssertionError("no entry of the terminal")

    assert main(["--store", str(desk), "bundle", "import", str(tmp / "t.bundle")]) == 0  # taken in once
    now = everything(desk)
    err = refused(capsys, desk, tmp, repacked(raw, theirs_changed))
    assert "別の内容で" in err
    assert everything(desk) == now


def test_a_bundle_of_a_newer_version(desks, capsys):
    desk, tmp = desks
    before = everything(desk)
    raw = (tmp / "t.bundle").read_bytes()
    head, body = raw[len(MAGIC):].split(b"\n", 1)
    newer = [
        b"csirt-desk bundle 2\n" + head + b"\n" + body,   # a newer container
        MAGIC + json.dumps({**json.loads(head), "format": 2}).encode() + b"\n" + body,  # a newer header
        repacked(raw, lambda d: d.update(format=2)),                       # a newer payload
        repacked(raw, lambda d: d["sender"].update(schema=99)),          # made by a store of a newer schema
    ]
    for n, bad in enumerate(newer):
        err = refused(capsys, desk, tmp, bad)
        assert "新しい" in err, (n, err)
    assert everything(desk) == before


def test_a_store_that_did_not_exist_is_not_made(desks, capsys):
    desk, tmp = desks
    raw = (tmp / "o.bundle").read_bytes()
    for bad in (raw[:len(raw) // 2], repacked(raw, TRAVERSAL["incident number"])):
        refused(capsys, tmp / "mistyped", tmp, bad)
        assert not (tmp / "mistyped").exists()

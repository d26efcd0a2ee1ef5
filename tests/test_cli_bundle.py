"""csirt-desk bundle export / import (issue 17) as the handler types it."""

from __future__ import annotations

import random

import pytest

from csirt_tui.cli import main
from csirt_tui.store import Store


def snapshot(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "backups" not in p.parts and p.name != ".lock"}


@pytest.fixture
def desks(tmp_path, capsys):
    desk, term = tmp_path / "desk", tmp_path / "term"
    assert main(["--store", str(desk), "demo"]) == 0
    (tmp_path / "pw.txt").write_text("持ち出し用 2026\n", encoding="utf-8")
    capsys.readouterr()
    return desk, term, tmp_path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_bundle_leaves_encrypted_or_with_a_reason(desks, capsys):
    desk, term, tmp = desks
    code, out, err = run(capsys, "--store", desk, "bundle", "export", tmp / "a.bundle")
    assert code == 1 and "--password-file" in err and not (tmp / "a.bundle").exists()
    code, out, err = run(capsys, "--store", desk, "bundle", "export", tmp / "a.bundle", "--password-file",
                         tmp / "pw.txt", "--desk", "本庁デスク")
    assert code == 0 and "暗号化あり" in out and "インシデント 12 件" in out
    assert "持ち出し用".encode() not in (tmp / "a.bundle").read_bytes()
    code, out, err = run(capsys, "--store", desk, "bundle", "export", tmp / "a.bundle", "--password-file",
                         tmp / "pw.txt")
    assert code == 1 and "--force" in err  # an existing file is not overwritten unasked
    code, out, err = run(capsys, "--store", desk, "bundle", "export", desk / "store.json", "--waive-reason", "t")
    assert code == 1  # never into the store's own files
    exports = Store.open(desk).list_exports()
    assert [e["report"] for e in exports] == ["bundle"] and exports[0]["encrypted"] is True


def test_there_and_back_with_a_dry_run_that_changes_nothing(desks, capsys):
    desk, term, tmp = desks
    pw = tmp / "pw.txt"
    assert run(capsys, "--store", desk, "bundle", "export", tmp / "d.bundle", "--password-file", pw)[0] == 0
    code, out, err = run(capsys, "--store", term, "bundle", "import", tmp / "d.bundle", "--password-file", pw,
                         "--dry-run")
    assert code == 0 and "新しいインシデント 12 件" in out and "取り込んでいません" in out
    assert not term.exists()  # a dry run makes no store (a mistyped --store would have made one)
    code, out, err = run(capsys, "--store", term, "bundle", "import", tmp / "d.bundle", "--password-file", pw,
                         "--desk", "隔離端末1")
    assert code == 0 and "取り込みました" in out
    t = Store.open(term)
    assert [r["id"] for r in sorted(t.iter_incidents(status=None), key=lambda r: r["id"])][:2] == [
        "2026-0001", "2026-0002"]  # taken in oldest first: the same numbers where nothing collides
    assert run(capsys, "--store", term, "log", "2026-0003", "端末で: ログを保全した")[0] == 0
    assert run(capsys, "--store", term, "bundle", "export", tmp / "t.bundle", "--password-file", pw)[0] == 0
    before = snapshot(desk)
    code, out, err = run(capsys, "--store", desk, "bundle", "import", tmp / "t.bundle", "--password-file", pw,
                         "--dry-run")
    assert code == 0 and "隔離端末1 からのバンドル" in out and "新しい記録 1 件" in out and snapshot(desk) == before
    assert run(capsys, "--store", desk, "bundle", "import", tmp / "t.bundle", "--password-file", pw)[0] == 0
    assert any(e.text == "端末で: ログを保全した" for e in Store.open(desk).incident("2026-0003").entries)
    after = snapshot(desk)
    code, out, err = run(capsys, "--store", desk, "bundle", "import", tmp / "t.bundle", "--password-file", pw)
    assert code == 0 and "変更はありません" in out and snapshot(desk) == after  # again: byte-identical
    assert run(capsys, "--store", desk, "verify")[0] == 0 and run(capsys, "--store", term, "verify")[0] == 0


def test_a_damaged_or_foreign_bundle_is_refused_in_one_line_and_nothing_changes(desks, capsys):
    desk, term, tmp = desks
    pw = tmp / "pw.txt"
    assert run(capsys, "--store", desk, "bundle", "export", tmp / "d.bundle", "--waive-reason", "試験")[0] == 0
    other = tmp / "other"
    assert run(capsys, "--store", other, "demo")[0] == 0
    before = snapshot(other)
    code, out, err = run(capsys, "--store", other, "bundle", "import", tmp / "d.bundle")
    assert code == 1 and "別のストアのバンドル" in err and err.count("\n") == 1 and snapshot(other) == before
    raw = (tmp / "d.bundle").read_bytes()
    rng = random.Random(3)
    for n in range(10):
        bad = bytearray(raw)
        bad[rng.randrange(len(bad))] ^= 1 << rng.randrange(8)
        (tmp / "bad.bundle").write_bytes(bytes(bad))
        code, out, err = run(capsys, "--store", desk, "bundle", "import", tmp / "bad.bundle")
        assert code == 1 and err.startswith("csirt-desk: ") and err.count("\n") == 1, err
    code, out, err = run(capsys, "--store", desk, "bundle", "import", tmp / "d.bundle", "--password-file", pw)
    assert code == 0  # a plain bundle with a password given: read as it is

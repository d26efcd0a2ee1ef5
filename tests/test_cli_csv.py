"""``csirt-desk list --csv PATH|-``: the incident list for a spreadsheet.

UTF-8 with BOM and CRLF (Excel), Japanese headers, the text as typed, every cell
a spreadsheet would run as a formula guarded with a leading ``'``; written
atomically with mode 0600 (POSIX; Windows has no modes); plain one-line errors.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import chmod_denies, cli_runner, not_root, posix_modes
from csirt_tui.cli import main
from csirt_tui.csvexport import INCIDENT_COLUMNS, guard, unguard

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def run(tmp_path, capsysbinary, monkeypatch):
    return cli_runner(tmp_path, capsysbinary, monkeypatch)


def _intake(run, **raw) -> str:
    code, out, err = run("intake", "--json", "-", stdin=json.dumps(raw))
    assert code == 0, err
    return out.decode().strip()


def _rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")  # CRLF only (no newline in these cells)
    return list(csv.reader(io.StringIO(text, newline="")))


def test_list_csv_to_a_file(run, tmp_path):
    first = _intake(run, what="=cmd|'/c calc'!A1", place="-1 本庁舎", reporter={"name": "@SUM(1)"})
    second = _intake(run, what="サーバ室の空調が停止", place="別館B1", reporter={"name": "試験 一郎"})
    out = tmp_path / "一覧.csv"
    code, stdout, err = run("list", "--csv", str(out))
    assert code == 0, err
    assert "2 件を CSV に書き出しました" in stdout.decode() and str(out) in stdout.decode()
    rows = _rows(out.read_bytes())
    assert rows[0] == [label for _, label in INCIDENT_COLUMNS]
    by_id = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert set(by_id) == {first, second}
    a = by_id[first]
    assert (a["概要"], a["発生場所"], a["報告者"]) == ("'=cmd|'/c calc'!A1", "'-1 本庁舎", "'@SUM(1)")
    assert unguard(a["概要"]) == "=cmd|'/c calc'!A1"
    b = by_id[second]
    assert (b["概要"], b["発生場所"], b["報告者"], b["状態"]) == ("サーバ室の空調が停止", "別館B1", "試験 一郎", "対応中")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_list_csv_replaces_an_existing_file_whole(run, tmp_path):
    _intake(run, what="一件目")
    out = tmp_path / "list.csv"
    out.write_bytes(b"old content " * 1000)
    code, _, err = run("list", "--csv", str(out))  # not without being told (issue 14.2)
    assert code == 1 and "既にあります" in err and "--force" in err
    assert out.read_bytes() == b"old content " * 1000
    assert run("list", "--csv", str(out), "--force")[0] == 0
    rows = _rows(out.read_bytes())
    assert len(rows) == 2 and rows[1][-1] == "一件目"


@posix_modes
def test_list_csv_is_0600_new_or_replacing_a_0644_file(run, tmp_path):
    _intake(run, what="一件目")
    new, old = tmp_path / "new.csv", tmp_path / "old.csv"
    old.write_bytes(b"old content")
    os.chmod(old, 0o644)
    for out in (new, old):
        assert run("list", "--csv", str(out), "--force")[0] == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o600, out


def test_list_csv_to_stdout_is_the_same_bytes(run, tmp_path):
    _intake(run, what="+1 は数式ではない", place="\x1b[31m赤\x9b2J")
    out = tmp_path / "list.csv"
    assert run("list", "--csv", str(out))[0] == 0
    code, stdout, err = run("list", "--csv", "-")
    assert code == 0 and err == ""
    assert stdout == out.read_bytes()  # a pipe or a file: verbatim (the spreadsheet obeys no escape)
    assert "\x1b[31m赤\x9b2J" in stdout.decode("utf-8-sig")
    assert _rows(stdout)[1][-1] == "'+1 は数式ではない"


def test_list_csv_to_a_terminal_makes_controls_visible(run, monkeypatch):
    _intake(run, what="\x1b]0;pwned\x07 =1", place="=A1 \u202e逆")

    class Tty(io.TextIOWrapper):
        def isatty(self):
            return True

    raw = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", Tty(raw, encoding="utf-8", newline="", write_through=True))
    assert main(["--store", str(run.store), "list", "--csv", "-"]) == 0
    text = raw.getvalue().decode("utf-8-sig")
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "␛]0;pwned␇ =1" in text and "'=A1 ⟨U+202E⟩逆" in text


def test_list_csv_all_and_open_only(run):
    from csirt_tui.response import close_incident
    from csirt_tui.store import Store

    open_id = _intake(run, what="対応中のもの")
    closed_id = _intake(run, what="収束したもの")
    close_incident(Store.open(run.store), closed_id, operator="試験", note="確認済み", force=True)
    code, out, _ = run("list", "--csv", "-")
    assert [r[0] for r in _rows(out)[1:]] == [open_id]
    code, out, _ = run("list", "--all", "--csv", "-")
    assert sorted(r[0] for r in _rows(out)[1:]) == sorted([open_id, closed_id])


@pytest.mark.parametrize("target, needle", [
    ("{tmp}", "フォルダです"),
    ("{tmp}/no-such-folder/list.csv", "フォルダがありません"),
    ("{tmp}/file.txt/list.csv", "途中にフォルダでないもの"),
    ("", "保存先を指定してください"),
])
def test_list_csv_errors_are_one_plain_line(run, tmp_path, target, needle):
    _intake(run, what="x")
    (tmp_path / "file.txt").write_bytes(b"x")
    code, out, err = run("list", "--csv", target.format(tmp=tmp_path))
    assert code == 1 and out == b""
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


@chmod_denies
@not_root
def test_list_csv_read_only_folder(run, tmp_path):
    _intake(run, what="x")
    folder = tmp_path / "ro"
    folder.mkdir()
    os.chmod(folder, 0o500)
    try:
        code, _, err = run("list", "--csv", str(folder / "list.csv"))
    finally:
        os.chmod(folder, 0o700)
    assert code == 1 and "書き込む権限がありません" in err


def test_list_csv_and_json_together_is_a_usage_error(run):
    with pytest.raises(SystemExit) as exc:
        run("list", "--csv", "-", "--json")
    assert exc.value.code == 2


@pytest.mark.parametrize("text", ["=1", "+1", "-1", "@x", "\t=1", "\r=1", "'=1", "''@x", "'", "'x", "x=1", "", "-"])
def test_guard_round_trips(text):
    assert unguard(guard(text)) == text
    cell = guard(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_list_csv_does_not_import_textual(tmp_path):
    code = ("import sys; from csirt_tui.cli import main; "
            f"main(['--store', {str(tmp_path / 's')!r}, 'list', '--csv', {str(tmp_path / 'l.csv')!r}]); "
            "print('TEXTUAL' if 'textual' in sys.modules else 'NO-TEXTUAL')")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8",
                         errors="replace", env=env, stdin=subprocess.DEVNULL, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().endswith("NO-TEXTUAL")
    assert (tmp_path / "l.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def _streaming(run, monkeypatch, target):
    """``list --all --csv`` over 3,000 rows: how many rows had been taken when the first
    bytes were written (issue 18: it held the whole list before writing anything)."""
    from csirt_tui import cli as cli_mod, jsonfile
    from csirt_tui.store import Store

    _intake(run, what="一件目")
    taken, first_write = [0], []
    real_rows = Store.iter_incidents

    def rows(self, **kw):
        row = next(iter(real_rows(self, **kw)))
        for i in range(3000):
            taken[0] += 1
            yield {**row, "id": f"2026-{i + 1:04d}", "summary": "長い概要 " * 20}

    monkeypatch.setattr(Store, "iter_incidents", rows)
    real_write, real_out = jsonfile.os.write, cli_mod._write_bytes

    def write(fd, data):
        first_write.append(taken[0])
        return real_write(fd, data)

    def out(data):
        first_write.append(taken[0])
        return real_out(data)

    monkeypatch.setattr(jsonfile.os, "write", write)
    monkeypatch.setattr(cli_mod, "_write_bytes", out)
    code, stdout, err = run("list", "--all", "--csv", target)
    monkeypatch.setattr(jsonfile.os, "write", real_write)
    assert code == 0, err
    return first_write, stdout


def test_list_all_csv_to_a_file_is_written_as_the_rows_are_read(run, monkeypatch, tmp_path):
    target = tmp_path / "all.csv"
    writes, stdout = _streaming(run, monkeypatch, str(target))
    csv_writes = [w for w in writes if w]
    assert csv_writes and csv_writes[0] < 1000, writes[:5]
    assert "3000 件を CSV に書き出しました" in stdout.decode()
    assert len(_rows(target.read_bytes())) == 3001


def test_list_all_csv_to_stdout_is_written_as_the_rows_are_read(run, monkeypatch):
    writes, stdout = _streaming(run, monkeypatch, "-")
    assert writes and writes[0] < 1000, writes[:5]
    assert len(_rows(stdout)) == 3001

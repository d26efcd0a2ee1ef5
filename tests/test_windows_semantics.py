"""Windows' file semantics on Linux CI (tests/winemu.py): text-mode descriptors and
sharing violations, while the store appends, backs up, restores, exports PDF and
CSV and verifies. Nothing lost, everything verifies, errors are one clear line."""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import cli_runner
from winemu import WindowsFiles, crlf_files

ROOT = Path(__file__).resolve().parents[1]


def sample_intake(**over):
    """An intake as `csirt-desk intake --json -` takes it."""
    return {"what": "画面に身代金を要求するメッセージが表示された", "place": "本庁舎3階 税務課",
            "reporter": {"name": "試験 一郎", "contact": "内線2301"}, **over}


@pytest.fixture
def win(monkeypatch):
    from csirt_tui import jsonfile

    monkeypatch.setattr(jsonfile, "RETRY_DELAYS", (0.001,) * 8, raising=False)
    return WindowsFiles(monkeypatch)


@pytest.fixture
def run(tmp_path, capsys, monkeypatch):
    return cli_runner(tmp_path, capsys, monkeypatch)


def test_the_emulation_translates_what_windows_would(win, tmp_path):
    """The layer itself: without this, the tests below could pass by doing nothing."""
    a, b, c, d = (tmp_path / n for n in "abcd")
    fd = os.open(a, os.O_WRONLY | os.O_CREAT)  # no O_BINARY: text mode on Windows
    os.write(fd, b"x\ny\n")
    os.close(fd)
    fd = os.open(b, os.O_WRONLY | os.O_CREAT | os.O_BINARY)
    os.write(fd, b"x\ny\n")
    os.close(fd)
    with open(c, "w", encoding="utf-8") as fh:
        fh.write("x\n")
    with open(d, "w", encoding="utf-8", newline="") as fh:
        fh.write("x\n")
    assert a.read_bytes() == b"x\r\ny\r\n"
    assert b.read_bytes() == b"x\ny\n"
    assert c.read_bytes() == b"x\r\n"
    assert d.read_bytes() == b"x\n"
    win.fail_first(2)
    with pytest.raises(PermissionError) as first:
        os.replace(b, a)
    assert first.value.winerror == 32
    with pytest.raises(PermissionError) as second:
        os.replace(b, a)
    assert second.value.winerror == 5
    os.replace(b, a)
    assert a.read_bytes() == b"x\ny\n"


def _busy_desk(run, store_root: Path, n_entries: int = 140) -> str:
    """Every kind of write a desk makes: intake, notes over a segment boundary,
    a draft, the roster, a backup; returns the incident id."""
    from csirt_tui.store import Store

    code, out, err = run("intake", "--json", "-",
                         stdin=json.dumps(sample_intake(what="一行目\n二行目\r\n三行目"), ensure_ascii=False))
    assert code == 0, err
    incident = out.strip()
    store = Store.open(store_root)
    for i in range(n_entries):
        store.append(incident, "note", f"メモ {i}\n改行を含む\n", operator="試験")
    store.save_draft("d1", {"what": "下書き\n二行目"}, operator="試験")
    store.add_person({"name": "試験 花子", "role": "ciso", "extension": "2301"}, operator="試験")
    assert run("backup")[0] == 0
    return incident


def _assert_store_whole(run, store_root: Path, incident: str, n_entries: int) -> None:
    from csirt_tui.jsonfile import is_canonical
    from csirt_tui.store import Store, store_files

    code, out, err = run("verify")
    assert code == 0, err
    assert crlf_files(store_root) == []
    for path in store_files(store_root):
        assert is_canonical(path) == (True, ""), path
    timeline = Store.open(store_root).timeline(incident)
    assert [e.seq for e in timeline] == list(range(1, n_entries + 2))
    assert timeline[0].data["what"] == "一行目\n二行目\r\n三行目"
    assert [e.text for e in timeline[1:]] == [f"メモ {i}\n改行を含む\n" for i in range(n_entries)]


def _assert_pdf_whole(path: Path, *needles: str) -> None:
    raw = path.read_bytes()
    assert raw.startswith(b"%PDF-") and raw.rstrip().endswith(b"%%EOF")
    reader = PdfReader(str(path), strict=True)
    text = "".join("".join(p.extract_text().split()) for p in reader.pages)
    for needle in needles:
        assert needle in text
    if shutil.which("qpdf"):
        check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


def _assert_csv_whole(path: Path, rows: int) -> None:
    raw = path.read_bytes()
    assert b"\r\r\n" not in raw
    assert raw.count(b"\r\n") == raw.count(b"\n")  # RFC 4180 rows, nothing translated twice
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert len(table) == rows + 1


@pytest.mark.parametrize("violations", [0, 3], ids=["text-mode", "text-mode+sharing-violations"])
def test_a_desk_on_windows_semantics_keeps_every_file_whole(win, run, tmp_path, violations):
    win.fail_first(violations)
    incident = _busy_desk(run, run.store)
    _assert_store_whole(run, run.store, incident, 140)

    pdf = tmp_path / "報告.pdf"
    code, out, err = run("export", incident, "--pdf", str(pdf), "--waive-reason", "試験")
    assert code == 0, err
    _assert_pdf_whole(pdf, "報告", "一行目", "メモ139改行を含む")
    summary = tmp_path / "集計.pdf"
    code, out, err = run("summary", "--from", "2026-11-01", "--to", "2026-11-30", "--pdf", str(summary),
                         "--waive-reason", "試験")
    assert code == 0, err
    _assert_pdf_whole(summary)
    listing = tmp_path / "一覧.csv"
    code, out, err = run("list", "--csv", str(listing))
    assert code == 0, err
    _assert_csv_whole(listing, 1)

    # restore the backup taken before the exports, then everything verifies again
    code, out, err = run("restore")
    assert code == 0, err
    _assert_store_whole(run, run.store, incident, 140)
    if violations:
        assert win.violations > 50  # every rename met a held file first
    assert not list(run.store.rglob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


def test_a_pdf_held_open_by_acrobat_is_one_clear_line(win, run, tmp_path):
    code, out, err = run("intake", "--json", "-", stdin=json.dumps(sample_intake(), ensure_ascii=False))
    incident = out.strip()
    pdf = tmp_path / "報告.pdf"
    pdf.write_bytes(b"%PDF-1.4 the old report Acrobat shows\n")
    before = pdf.read_bytes()
    win.hold(pdf)
    code, out, err = run("export", incident, "--pdf", str(pdf), "--waive-reason", "試験", "--force")
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "別のプログラムが開いて" in err and str(pdf) in err
    assert "権限がありません" not in err  # not the wrong way (it is not a permissions problem)
    assert pdf.read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))
    win.release(pdf)
    code, out, err = run("export", incident, "--pdf", str(pdf), "--waive-reason", "試験", "--force")
    assert code == 0, err
    _assert_pdf_whole(pdf, "報告")


def test_a_csv_held_open_by_excel_is_one_clear_line(win, run, tmp_path):
    assert run("intake", "--json", "-", stdin=json.dumps(sample_intake(), ensure_ascii=False))[0] == 0
    target = tmp_path / "一覧.csv"
    target.write_bytes(b"old\r\n")
    win.hold(target)
    code, out, err = run("list", "--csv", str(target), "--force")
    assert code == 1 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "別のプログラムが開いて" in err
    assert target.read_bytes() == b"old\r\n"


def test_a_store_file_held_for_good_refuses_the_write_and_loses_nothing(win, run):
    """A reader that never lets go of a segment: the note is refused in one line,
    nothing acknowledged is lost, and the next note goes in once it lets go."""
    from csirt_tui.store import Store

    code, out, err = run("intake", "--json", "-", stdin=json.dumps(sample_intake(), ensure_ascii=False))
    incident = out.strip()
    assert run("log", incident, "一件目")[0] == 0
    store = Store.open(run.store)
    seg = sorted(store._incident_dir(incident).glob("timeline-*.json"))[-1]
    win.hold(seg)
    code, out, err = run("log", incident, "二件目")
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "別のプログラムが開いて" in err and seg.name in err
    win.release(seg)
    assert run("log", incident, "三件目")[0] == 0
    assert [e.text for e in store.timeline(incident)][1:] == ["一件目", "三件目"]
    assert run("verify")[0] == 0


def test_a_backup_folder_renamed_while_a_file_inside_is_open_is_waited_out(win, run, monkeypatch):
    """Directory renames (new incident folder, backup folder, restore) retry too:
    an antivirus scan holds a file inside for the first tries."""
    win.fail_first(4)
    code, out, err = run("intake", "--json", "-", stdin=json.dumps(sample_intake(), ensure_ascii=False))
    assert code == 0, err
    assert run("backup")[0] == 0
    assert run("restore")[0] == 0
    assert run("verify")[0] == 0


@pytest.mark.skipif(not hasattr(__import__("time"), "tzset"), reason="time.tzset is POSIX only (the TZ switch)")
def test_before_restore_is_named_on_the_backups_clock(run, monkeypatch):
    """The folder the current files are moved to sorts among the backups (both
    in the store's time zone, whatever the machine's TZ is)."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert run("intake", "--json", "-", stdin=json.dumps(sample_intake(), ensure_ascii=False))[0] == 0
        assert run("backup")[0] == 0
        assert run("restore")[0] == 0
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    names = sorted(p.name for p in (run.store / "backups").iterdir() if not p.name.startswith("."))
    aside = next(n for n in names if n.endswith("before-restore"))
    manual = next(n for n in names if n.endswith("-manual"))
    restored = next(n for n in names if n.endswith("-restored"))
    assert manual[:13] <= aside[:13] <= restored[:13]  # same clock, to the minute


# ---------------------------------------------------------------- the code
def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            yield name, node


def _const_mode(node: ast.Call, pos: int) -> str | None:
    arg = node.args[pos] if len(node.args) > pos else next(
        (k.value for k in node.keywords if k.arg == "mode"), None)
    return arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None


def test_no_module_writes_a_file_in_a_way_windows_would_translate():
    """Every file is written through jsonfile.atomic_write (binary, atomic, 0600,
    waits out sharing violations): no raw os.open for writing without O_BINARY,
    no text-mode open() for writing without newline=, no Path.write_text/bytes."""
    problems = []
    for path in sorted([*ROOT.glob("csirt_tui/**/*.py"), *ROOT.glob("screens/*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = lambda n: f"{path.relative_to(ROOT)}:{n.lineno}"  # noqa: E731
        for name, node in _calls(tree):
            if name in ("write_text", "write_bytes"):
                problems.append(f"{where(node)}: {name} (use jsonfile.atomic_write / fileout.write_private)")
            elif name == "open" and isinstance(node.func, ast.Attribute) and getattr(node.func.value, "id", "") == "os":
                flags = ast.unparse(node.args[1]) if len(node.args) > 1 else ""
                if any(f in flags for f in ("O_WRONLY", "O_RDWR", "O_CREAT")) and "O_BINARY" not in flags:
                    problems.append(f"{where(node)}: os.open({flags}) without O_BINARY")
            elif name in ("open", "fdopen"):
                pos = 1 if name == "fdopen" or not isinstance(node.func, ast.Attribute) else 0
                mode = _const_mode(node, pos)
                if node.args and ast.unparse(node.args[0]) == "os.devnull":
                    continue  # the sink stdout becomes after a broken pipe: not a file
                if mode and "b" not in mode and any(c in mode for c in "wax+") \
                        and not any(k.arg == "newline" for k in node.keywords):
                    problems.append(f"{where(node)}: open(mode={mode!r}) without newline=")
    assert problems == []


def test_the_one_writer_opens_its_descriptor_in_binary_mode(win, tmp_path):
    from csirt_tui.jsonfile import atomic_write

    atomic_write(tmp_path / "f", b"a\nb\n")
    assert (tmp_path / "f").read_bytes() == b"a\nb\n"
    assert win.translated_writes == 0

"""The report commands of the CLI: export (報告様式1), summary, report-text.

The password only ever comes from a file (or stdin): never from argv, never
printed, never stored. Exit codes as elsewhere: 0 ok, 1 domain error (one
line), 2 usage.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pypdf import PasswordType, PdfReader

from conftest import cli_runner
from csirt_tui.cli import main
from csirt_tui.report import pdfkit

PASSWORD = "pa ss：秘密 "  # spaces inside and at the end are part of it
INTAKE = {"what": "窓口端末で不審なポップアップが表示される", "place": "本庁舎2階 市民課",
          "reporter": {"name": "試験 次郎", "contact": "内線2205"}}


@pytest.fixture
def run(tmp_path, capsys, monkeypatch):
    return cli_runner(tmp_path, capsys, monkeypatch)


@pytest.fixture
def incident(run):
    code, out, err = run("intake", "--json", "-", stdin=json.dumps(INTAKE, ensure_ascii=False))
    assert code == 0, err
    return out.strip()


def pdf_text(path: Path, password: str | None = None) -> str:
    reader = PdfReader(str(path))
    if password is not None:
        assert reader.decrypt(password) != PasswordType.NOT_DECRYPTED
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))


def timeline(run, incident_id: str) -> list[dict]:
    code, out, _ = run("show", incident_id, "--json")
    assert code == 0
    return json.loads(out)["timeline"]


def store_bytes(root: Path) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in root.rglob("*") if p.is_file()]


# ---------------------------------------------------------------------------
# export


def test_export_with_a_password_file(run, incident, tmp_path):
    pw = tmp_path / "pw.txt"
    pw.write_text(PASSWORD + "\n2行目は使わない\n", encoding="utf-8")
    target = tmp_path / "報告.pdf"
    code, out, err = run("export", incident, "--pdf", str(target), "--password-file", str(pw))
    assert code == 0, err
    assert str(target) in out and "ページ" in out and "暗号化あり" in out and "機密性2" in out
    assert f"{incident}#" in out
    assert err == ""
    assert PASSWORD.strip() not in out + err
    reader = PdfReader(str(target))
    assert reader.is_encrypted
    assert reader.decrypt(PASSWORD.rstrip()) == PasswordType.NOT_DECRYPTED  # the trailing space counts
    assert "窓口端末で不審なポップアップ" in pdf_text(target, PASSWORD)
    pages = int(re.search(r"(\d+) ページ", out).group(1))
    reader = PdfReader(str(target))
    reader.decrypt(PASSWORD)
    assert pages == len(reader.pages) >= 2
    entry = timeline(run, incident)[-1]
    assert entry["kind"] == "report" and entry["data"]["encrypted"] is True
    assert entry["data"]["path"] == str(target)
    for path, data in store_bytes(run.store):
        assert PASSWORD.encode() not in data and PASSWORD.strip().encode() not in data, path


@pytest.mark.parametrize("content, password", [
    (b"abc\r\n", "abc"),                      # Windows line end
    (b"\xef\xbb\xbfabc\n", "abc"),             # Notepad's BOM
    (b"abc", "abc"),                          # no line end
    (" 前後に空白 \n".encode(), " 前後に空白 "),  # spaces kept
])
def test_password_file_first_line_without_its_newline(run, incident, tmp_path, content, password):
    pw = tmp_path / "pw"
    pw.write_bytes(content)
    target = tmp_path / "r.pdf"
    code, _, err = run("export", incident, "--pdf", str(target), "--password-file", str(pw))
    assert code == 0, err
    assert PdfReader(str(target)).decrypt(password) != PasswordType.NOT_DECRYPTED


def test_password_from_stdin(run, incident, tmp_path):
    target = tmp_path / "r.pdf"
    code, out, err = run("export", incident, "--pdf", str(target), "--password-file", "-",
                         stdin="標準入力のパスワード\n")
    assert code == 0, err
    assert "標準入力のパスワード" not in out + err
    assert "暗号化あり" in out
    assert pdf_text(target, "標準入力のパスワード")


@pytest.mark.parametrize("argv", [
    ("--password", "hunter2"), ("--password=hunter2",), ("--password",),
])
def test_a_password_on_the_command_line_is_refused_without_echo(run, incident, tmp_path, argv):
    with pytest.raises(SystemExit) as exc:
        run("export", incident, "--pdf", str(tmp_path / "r.pdf"), *argv)
    assert exc.value.code == 2
    assert not (tmp_path / "r.pdf").exists()


def test_password_refusal_message_does_not_echo(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--store", str(tmp_path / "s"), "export", "2026-0001", "--pdf", "x.pdf", "--password", "hunter2"])
    err = capsys.readouterr().err
    assert "hunter2" not in err and "--password-file" in err


def test_export_needs_a_password_or_a_waiver(run, incident, tmp_path):
    target = tmp_path / "r.pdf"
    code, out, err = run("export", incident, "--pdf", str(target))
    assert code == 1 and "機密性2" in err and err.count("\n") == 1
    assert not target.exists()
    assert [e["kind"] for e in timeline(run, incident)] == ["intake"]
    code, out, err = run("export", incident, "--pdf", str(target), "--waive-reason", "庁内 LAN のみで手渡し")
    assert code == 0, err
    assert "暗号化なし（理由: 庁内 LAN のみで手渡し）" in out
    assert not PdfReader(str(target)).is_encrypted
    entry = timeline(run, incident)[-1]
    assert entry["data"]["encryption_waived"] == "庁内 LAN のみで手渡し"


def test_export_closure_kind(run, incident, tmp_path):
    target = tmp_path / "close.pdf"
    code, _, err = run("export", incident, "--pdf", str(target), "--kind", "closure", "--waive-reason", "訓練")
    assert code == 0, err
    assert "報告様式1（収束報告）" in pdf_text(target)
    assert timeline(run, incident)[-1]["data"]["export"] == "closure"


@pytest.mark.parametrize("make_argv, needle", [
    (lambda t, i: ("export", "2026-0099", "--pdf", str(t / "r.pdf"), "--waive-reason", "x"), "2026-0099"),
    (lambda t, i: ("export", i, "--pdf", str(t), "--waive-reason", "x"), "フォルダです"),
    (lambda t, i: ("export", i, "--pdf", str(t / "no" / "r.pdf"), "--waive-reason", "x"), "フォルダがありません"),
    (lambda t, i: ("export", i, "--pdf", str(t / "r.pdf"), "--password-file", str(t / "nofile")), "ファイルがありません"),
    (lambda t, i: ("export", i, "--pdf", str(t / "r.pdf"), "--password-file", str(t)), "フォルダです"),
    (lambda t, i: ("export", i, "--pdf", str(t / "r.pdf"), "--password-file", str(t / "empty")), "パスワードが空"),
    (lambda t, i: ("export", i, "--pdf", str(t / "r.pdf"), "--password-file", str(t / "blank1")), "パスワードが空"),
    (lambda t, i: ("export", i, "--pdf", str(t / "r.pdf"), "--password-file", str(t / "latin1")), "UTF-8"),
])
def test_export_domain_errors_exit_1_with_one_line(run, incident, tmp_path, make_argv, needle):
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "blank1").write_bytes(b"\nsecond line\n")
    (tmp_path / "latin1").write_bytes("pässwörd\n".encode("latin-1"))
    code, out, err = run(*make_argv(tmp_path, incident))
    assert code == 1, (out, err)
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err
    assert "second line" not in err and "pässwörd" not in err
    assert [e["kind"] for e in timeline(run, incident)] == ["intake"]


@pytest.mark.parametrize("argv", [
    ("export", "2026-0001"),                                             # no --pdf
    ("export", "2026-0001", "--pdf", "r.pdf", "--kind", "final"),
    ("export", "--pdf", "r.pdf"),                                        # no id
    ("summary", "--from", "2026-11-01", "--pdf", "r.pdf"),               # no --to
    ("report-text", "2026-0001", "cause"),                               # neither --text nor --file
    ("report-text", "2026-0001", "cause", "--text", "a", "--file", "f"),
    ("report-text", "2026-0001", "colour", "--text", "a"),
])
def test_report_usage_errors_exit_2(run, argv):
    with pytest.raises(SystemExit) as exc:
        run(*argv)
    assert exc.value.code == 2


def test_font_warning_goes_to_stderr(run, incident, tmp_path, monkeypatch):
    monkeypatch.setattr(pdfkit, "KNOWN_FONTS", ())
    monkeypatch.setattr(pdfkit, "_cache", {})
    monkeypatch.delenv(pdfkit.FONT_ENV, raising=False)
    target = tmp_path / "r.pdf"
    code, out, err = run("export", incident, "--pdf", str(target), "--waive-reason", "訓練")
    assert code == 0
    assert "注意" in err and "埋め込まない" in err and err.count("\n") == 1
    assert "注意" not in out and target.exists()


def test_bad_font_option_says_so(run, incident, tmp_path, monkeypatch):
    monkeypatch.setattr(pdfkit, "_cache", {})
    bad = tmp_path / "font.ttf"
    bad.write_bytes(b"not a font")
    code, out, err = run("export", incident, "--pdf", str(tmp_path / "r.pdf"), "--waive-reason", "訓練",
                         "--font", str(bad))
    assert code == 0
    assert str(bad) in err and "注意" in err


# ---------------------------------------------------------------------------
# report-text


def test_report_text_then_export(run, incident, tmp_path):
    code, out, err = run("report-text", incident, "cause", "--text", "不審メールの <b>添付</b> を開いた")
    assert code == 0, err
    assert out.strip() == f"{incident}#2"
    f = tmp_path / "damage.txt"
    f.write_text("被害は端末1台\n情報の流出は確認されていない\n", encoding="utf-8")
    code, out, err = run("report-text", incident, "damage", "--file", str(f))
    assert code == 0, err
    entry = timeline(run, incident)[-1]
    assert entry["data"] == {"report": "form1", "field": "damage",
                             "text": "被害は端末1台\n情報の流出は確認されていない"}
    # the same text again records nothing
    code, out, _ = run("report-text", incident, "damage", "--file", str(f))
    assert code == 0 and "変更はありません" in out
    assert len(timeline(run, incident)) == 3
    code, out, err = run("report-text", incident, "outlook", "--file", "-", stdin="11/25 に復旧の見込み\n")
    assert code == 0, err
    target = tmp_path / "r.pdf"
    code, _, err = run("export", incident, "--pdf", str(target), "--waive-reason", "訓練")
    assert code == 0, err
    text = pdf_text(target)
    for want in ("不審メールの<b>添付</b>を開いた", "被害は端末1台情報の流出は確認されていない", "11/25に復旧の見込み"):
        assert want in text


def test_report_text_errors(run, incident, tmp_path):
    code, _, err = run("report-text", "2026-0099", "cause", "--text", "x")
    assert code == 1 and "2026-0099" in err
    code, _, err = run("report-text", incident, "cause", "--file", str(tmp_path / "none.txt"))
    assert code == 1 and "ファイルがありません" in err and err.count("\n") == 1


# ---------------------------------------------------------------------------
# summary


def test_summary_with_japanese_dates_and_a_password(run, incident, tmp_path):
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD + "\n", encoding="utf-8")
    target = tmp_path / "summary.pdf"
    code, out, err = run("summary", "--from", "令和8年1月1日", "--to", "2026年12月31日", "--pdf", str(target),
                         "--password-file", str(pw))
    assert code == 0, err
    assert str(target) in out and "ページ" in out and "暗号化あり" in out
    assert "2026-01-01" in out and "2026-12-31" in out
    assert PASSWORD.strip() not in out + err
    assert PdfReader(str(target)).is_encrypted
    assert pdf_text(target, PASSWORD)
    for path, data in store_bytes(run.store):
        assert PASSWORD.encode() not in data, path


@pytest.mark.parametrize("start, end, needle", [
    ("あした", "2026-11-30", "--from"),
    ("2026-11-01", "13/45", "--to"),
    ("2026-11-30", "2026-11-01", "より前"),
])
def test_summary_date_errors(run, incident, tmp_path, start, end, needle):
    code, _, err = run("summary", "--from", start, "--to", end, "--pdf", str(tmp_path / "s.pdf"),
                       "--waive-reason", "x")
    assert code == 1 and needle in err and err.count("\n") == 1
    assert not (tmp_path / "s.pdf").exists()


def test_summary_to_today_in_words(run, incident, tmp_path):
    """`summary --to 今日` was refused (「「今日」には時刻も付けてください」): a day word alone is that day."""
    target = tmp_path / "s.pdf"
    code, out, err = run("summary", "--from", "2026/11/1", "--to", "今日", "--pdf", str(target), "--waive-reason", "x")
    assert code == 0, err
    assert target.exists() and "2026-11-01" in out

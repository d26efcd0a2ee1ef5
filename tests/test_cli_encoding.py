"""The CLI whatever the console's encoding (issue 13, item 2).

On Japanese Windows, redirected output is cp932; an old or misconfigured
console may be ascii. Every command is run as a real process with
PYTHONIOENCODING=utf-8, cp932 and ascii:

- never a traceback; the usual exit codes; an error is one line on stderr;
- ``--json`` (and ``list --csv -``) are the same UTF-8 bytes whatever the encoding;
- text for people is in the console's encoding, and what the console cannot
  show is shown as its code point (〈U+1F600〉, <U+1F600> in ascii): never dropped,
  never a ``?``;
- standard input is read as UTF-8 whatever the console's encoding (else in the
  console's encoding).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from pypdf import PasswordType, PdfReader

from conftest import NET_LOG

ROOT = Path(__file__).resolve().parents[1]
ENCODINGS = ("utf-8", "cp932", "ascii")

# — has no code in cp932 (its dash is U+2015); 〜 ‖ − are the other classic cp932
# mismatches (Python's cp932 encodes them); 𠮷 is outside the BMP, 😀 is in no
# Japanese code page; U+202E and ESC are made visible by textsafe before that.
HOSTILE = "— 〜 𠮷 😀 ‖ − \u202e ESC\x1b"
# What `show` prints for HOSTILE, in each console's encoding.
HOSTILE_SHOWN = {
    "utf-8": "— 〜 𠮷 😀 ‖ − ⟨U+202E⟩ ESC␛".encode("utf-8"),
    "cp932": "\u2015 \u301c 〈U+20BB7〉 〈U+1F600〉 \u2016 \u2212 〈U+202E〉 ESC〈U+241B〉".encode("cp932"),
    "ascii": b"<U+2014> <U+301C> <U+20BB7> <U+1F600> <U+2016> <U+2212> <U+202E> ESC<U+241B>",
}
PASSWORD = "秘密—𠮷 〜"
OPEN_ID = "2026-0012"  # the demo's level-2 incident


def _env(encoding: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("PYTHONUTF8", "PYTHONLEGACYWINDOWSSTDIO", "CSIRT_DESK_STORE"):
        env.pop(name, None)
    env["PYTHONIOENCODING"] = encoding
    # the package, and tests/offline (conftest: no network in child processes either)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env["CSIRT_DESK_OPERATOR"] = "試験 操作者"
    return env


def cli(store: Path, *argv: str, encoding: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "csirt_tui", "--store", str(store), *argv],
                          input=stdin, capture_output=True, env=_env(encoding), timeout=120)


def _no_traceback(res: subprocess.CompletedProcess, what: str) -> None:
    assert b"Traceback" not in res.stderr, f"{what}:\n{res.stderr.decode('utf-8', 'replace')}"
    assert b"Error:" not in res.stderr, f"{what}:\n{res.stderr.decode('utf-8', 'replace')}"


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Path:
    """A demo store with a hostile incident (read-only for the tests below)."""
    store = tmp_path_factory.mktemp("enc") / "s"
    for argv, stdin in ((("demo",), b""),
                        (("intake", "--json", "-"),
                         json.dumps({"what": HOSTILE, "place": "本庁舎〜別館 𠮷野家前"}).encode()),
                        (("log", "2026-0013", HOSTILE), b"")):
        res = cli(store, *argv, encoding="utf-8", stdin=stdin)
        assert res.returncode == 0, res.stderr.decode("utf-8", "replace")
    assert not list(NET_LOG.iterdir()), "a child process tried to reach the network"
    return store


# ---------------------------------------------------------------------------
# --json and --csv -: the same bytes whatever the console's encoding

@pytest.mark.parametrize("argv", [
    ("profiles", "--json"),
    ("list", "--json"),
    ("list", "--json", "--all"),
    ("show", OPEN_ID, "--json"),
    ("show", "2026-0013", "--json"),
    ("list", "--csv", "-", "--all"),
])
def test_machine_output_is_the_same_utf8_bytes(demo_store, argv):
    outs = {}
    for enc in ENCODINGS:
        res = cli(demo_store, *argv, encoding=enc)
        _no_traceback(res, f"{enc} {argv}")
        assert res.returncode == 0 and res.stderr == b"", (enc, res.stderr)
        outs[enc] = res.stdout
    assert outs["cp932"] == outs["utf-8"]
    assert outs["ascii"] == outs["utf-8"]
    text = outs["utf-8"].decode("utf-8")  # UTF-8, and nothing lost
    if "--json" in argv:
        json.loads(text)
    if argv[:2] == ("show", "2026-0013"):
        doc = json.loads(text)
        assert doc["intake"]["what"] == HOSTILE and doc["timeline"][-1]["text"] == HOSTILE
        assert "\x1b" not in text and "\u202e" not in text  # still safe for a terminal
    if "--csv" in argv:
        assert text.startswith("\ufeff") and "𠮷" in text


# ---------------------------------------------------------------------------
# every command, in each console encoding

def _steps(tmp: Path) -> list[tuple[str, tuple[str, ...], bytes, int]]:
    """(name, argv, stdin, exit code) in order, on a new store."""
    today = date.today()
    waive = ("--waive-reason", "試験—𠮷")
    return [
        ("demo", ("demo",), b"", 0),
        ("demo again", ("demo",), b"", 0),
        ("profiles", ("profiles",), b"", 0),
        ("profiles --json", ("profiles", "--json"), b"", 0),
        ("list", ("list",), b"", 0),
        ("list --json", ("list", "--json"), b"", 0),
        ("list --csv -", ("list", "--csv", "-"), b"", 0),
        ("list --csv FILE", ("list", "--csv", str(tmp / "一覧—𠮷.csv")), b"", 0),
        ("show", ("show", OPEN_ID), b"", 0),
        ("show --json", ("show", OPEN_ID, "--json"), b"", 0),
        ("intake --json -", ("intake", "--json", "-"),
         json.dumps({"what": HOSTILE, "place": "本庁舎〜別館"}, ensure_ascii=False).encode("utf-8"), 0),
        ("log", ("log", "2026-0013", HOSTILE), b"", 0),
        ("log --at", ("log", "2026-0013", "電話〜折り返し", "--at", "今"), b"", 0),
        ("show hostile", ("show", "2026-0013"), b"", 0),
        ("show hostile --json", ("show", "2026-0013", "--json"), b"", 0),
        ("report-text --text", ("report-text", "2026-0013", "cause", "--text", HOSTILE), b"", 0),
        ("report-text --file -", ("report-text", "2026-0013", "damage", "--file", "-"),
         (HOSTILE + "\n").encode("utf-8"), 0),
        ("report-text unchanged", ("report-text", "2026-0013", "cause", "--text", HOSTILE), b"", 0),
        ("export", ("export", "2026-0013", "--pdf", str(tmp / "r.pdf"), *waive), b"", 0),
        ("export --password-file -", ("export", OPEN_ID, "--pdf", str(tmp / "p.pdf"), "--password-file", "-"),
         (PASSWORD + "\n").encode("utf-8"), 0),
        ("summary", ("summary", "--from", f"{today - timedelta(days=90):%Y-%m-%d}",
                     "--to", f"{today + timedelta(days=1):%Y-%m-%d}", "--pdf", str(tmp / "s.pdf"), *waive), b"", 0),
        ("verify", ("verify",), b"", 0),
        ("backup", ("backup",), b"", 0),
        ("restore --list", ("restore", "--list"), b"", 0),
        ("log after backup", ("log", OPEN_ID, "バックアップ後—𠮷"), b"", 0),
        ("restore", ("restore",), b"", 0),
        ("reindex", ("reindex",), b"", 0),
        ("verify after restore", ("verify",), b"", 0),
        ("show hostile --json at the end", ("show", "2026-0013", "--json"), b"", 0),
        ("--help", ("--help",), b"", 0),
        # errors: one line on stderr, exit 1 (usage: exit 2)
        ("error: unknown id", ("show", "2026-0999"), b"", 1),
        ("error: hostile id", ("show", "—𠮷😀"), b"", 1),
        ("error: hostile folder", ("export", OPEN_ID, "--pdf", str(tmp / "無い—𠮷" / "r.pdf"), *waive), b"", 1),
        ("error: not JSON", ("intake", "--json", "-"), "{—𠮷".encode("utf-8"), 1),
        ("error: not UTF-8", ("intake", "--json", "-"), b'{"what": "\x81 "}', 1),
        ("error: bad --at", ("log", OPEN_ID, "x", "--at", "—𠮷"), b"", 1),
        ("usage error", ("show",), b"", 2),
    ]


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    """All the steps in one encoding, on a new store of its own (run once per encoding,
    when a test first asks for it; asserted by the tests below)."""
    cache: dict[str, tuple[Path, dict]] = {}

    def get(encoding: str):
        if encoding not in cache:
            tmp = tmp_path_factory.mktemp(f"session-{encoding}")
            results = {}
            for name, argv, stdin, expected in _steps(tmp):
                results[name] = (argv, expected, cli(tmp / "s", *argv, encoding=encoding, stdin=stdin))
            assert not list(NET_LOG.iterdir()), "a child process tried to reach the network"
            cache[encoding] = (tmp, results)
        return cache[encoding]

    return get


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_command_without_a_traceback(sessions, encoding):
    _, results = sessions(encoding)
    for name, (argv, expected, res) in results.items():
        _no_traceback(res, f"{encoding} {name}")
        err = res.stderr.decode(encoding)  # in the console's encoding, whatever it held
        assert res.returncode == expected, f"{encoding} {name}: exit {res.returncode}\n{err}"
        if expected == 1:
            assert err.count("\n") == 1 and err.startswith("csirt-desk: "), (name, err)
        elif expected == 2:
            assert err.splitlines()[-1].startswith("csirt-desk: "), (name, err)
        else:
            # nothing on stderr but a one-line warning (e.g. the font notice of a PDF)
            assert all(line.startswith("csirt-desk: ") for line in err.splitlines()), (name, err)
        if argv[0] in ("profiles", "list", "show") and "--json" in argv or argv[:3] == ("list", "--csv", "-"):
            res.stdout.decode("utf-8")  # machine output: UTF-8
        else:
            res.stdout.decode(encoding)  # text for people: only the console's codes
        if expected == 0 and name not in ("report-text unchanged",):
            assert res.stdout.strip(), name


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_text_the_console_cannot_show_is_visible_not_dropped(sessions, encoding):
    tmp, results = sessions(encoding)
    out = results["show hostile"][2].stdout
    assert HOSTILE_SHOWN[encoding] in out
    assert out.count(HOSTILE_SHOWN[encoding]) >= 2  # the intake's 内容 and the note
    err = results["error: hostile id"][2].stderr
    shown = {"utf-8": "'—𠮷😀'".encode(), "cp932": "'―〈U+20BB7〉〈U+1F600〉'".encode("cp932"),
             "ascii": b"'<U+2014><U+20BB7><U+1F600>'"}[encoding]
    assert shown in err
    export = results["export"][2].stdout
    assert {"utf-8": "試験—𠮷".encode(), "cp932": "試験―〈U+20BB7〉".encode("cp932"),
            "ascii": b"<U+8A66><U+9A13><U+2014><U+20BB7>"}[encoding] in export
    # the CSV file and the records hold the text as typed, whatever the console
    csv = next(tmp.glob("一覧*.csv"))
    assert csv.name == "一覧—𠮷.csv" and csv.read_bytes().startswith(b"\xef\xbb\xbf")
    doc = json.loads(results["show hostile --json"][2].stdout)
    assert doc["intake"]["what"] == HOSTILE and doc["intake"]["place"] == "本庁舎〜別館"
    assert [e["text"] for e in doc["timeline"] if e["kind"] == "note"][0] == HOSTILE


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_stdin_is_utf8_whatever_the_console(sessions, encoding):
    tmp, results = sessions(encoding)
    assert PdfReader(str(tmp / "p.pdf")).decrypt(PASSWORD) != PasswordType.NOT_DECRYPTED
    doc = json.loads(results["show hostile --json at the end"][2].stdout)
    texts = {e["data"]["field"]: e["data"]["text"] for e in doc["timeline"]
             if e["kind"] == "report" and "field" in (e.get("data") or {})}
    assert texts == {"cause": HOSTILE, "damage": HOSTILE}
    assert doc["intake"]["what"] == HOSTILE


def test_stdin_in_the_console_encoding_is_read_too(tmp_path):
    """Text that is not UTF-8 is read in the console's encoding (cp932 from a Japanese
    Windows ``type``); in ascii it is a one-line error, not a traceback."""
    store = tmp_path / "s"
    doc = {"what": "窓口端末〜事務室", "place": "本庁舎 ①番窓口"}
    res = cli(store, "intake", "--json", "-", encoding="cp932",
              stdin=json.dumps(doc, ensure_ascii=False).encode("cp932"))
    assert res.returncode == 0, res.stderr.decode("cp932")
    res = cli(store, "show", "2026-0001", "--json", encoding="cp932")
    got = json.loads(res.stdout.decode("utf-8"))["intake"]
    # as cp932 reads it: its 〜 (0x8160) is U+FF5E
    assert got["what"] == "窓口端末\uff5e事務室" and got["place"] == doc["place"]
    res = cli(store, "intake", "--json", "-", encoding="ascii",
              stdin=json.dumps(doc, ensure_ascii=False).encode("cp932"))
    assert res.returncode == 1 and res.stderr.count(b"\n") == 1 and b"Traceback" not in res.stderr


# ---------------------------------------------------------------------------
# in-process: main() on streams a caller gave it

def test_main_restores_the_streams_and_tolerates_plain_ones(tmp_path, monkeypatch):
    from csirt_tui import cli as cli_module

    monkeypatch.setenv("CSIRT_DESK_OPERATOR", "試験 操作者")
    store = str(tmp_path / "s")
    out = io.TextIOWrapper(io.BytesIO(), encoding="cp932", errors="strict", newline="\n")
    err = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="backslashreplace", newline="\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps({"what": HOSTILE})))
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    assert cli_module.main(["--store", store, "intake", "--json", "-"]) == 0
    assert cli_module.main(["--store", store, "show", "2026-0001"]) == 0
    assert cli_module.main(["--store", store, "show", "2026-0001", "--json"]) == 0
    assert cli_module.main(["--store", store, "show", "—𠮷"]) == 1
    assert (out.errors, err.errors) == ("strict", "backslashreplace")  # put back after main()
    out.flush()
    err.flush()
    data = out.buffer.getvalue()
    assert HOSTILE_SHOWN["cp932"] in data
    # --json: UTF-8 bytes (json_for_terminal escapes the bidi control)
    assert '"— 〜 𠮷 😀 ‖ − \\u202e ESC\\u001b"'.encode("utf-8") in data
    message = err.buffer.getvalue().decode("ascii")
    assert message.startswith("csirt-desk: <U+") and message.count("\n") == 1
    assert "'<U+2014><U+20BB7>'" in message and "\\u" not in message  # one notation, not two

    # streams without reconfigure() or .buffer (a caller's StringIO), and none at all
    plain_out, plain_err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", plain_out)
    monkeypatch.setattr(sys, "stderr", plain_err)
    assert cli_module.main(["--store", store, "show", "2026-0001", "--json"]) == 0
    assert json.loads(plain_out.getvalue())["intake"]["what"] == HOSTILE
    assert cli_module.main(["--store", store, "show", "2026-0999"]) == 1
    assert plain_err.getvalue().count("\n") == 1
    if os.name == "posix":  # a folder name that is not UTF-8: a lone surrogate in a UTF-8 console
        odd = os.fsdecode(os.fsencode(str(tmp_path)) + b"/s\xff")
        out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", newline="\n")
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps({"what": "x"})))
        assert cli_module.main(["--store", odd, "intake", "--json", "-"]) == 0
        assert cli_module.main(["--store", odd, "backup"]) == 0
        out.flush()
        assert "/s〈U+DCFF〉/backups/" in out.buffer.getvalue().decode("utf-8")
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    monkeypatch.setattr(sys, "stdin", None)
    assert cli_module.main(["--store", store, "list", "--json"]) == 0
    assert cli_module.main(["--store", store, "intake", "--json", "-"]) == 1

"""The scriptable CLI: round trips and exit codes (0 ok, 1 domain error, 2 usage)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cli_runner

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def run(tmp_path, capsys, monkeypatch):
    return cli_runner(tmp_path, capsys, monkeypatch)


INTAKE = {
    "channel": "naisen",
    "found_at": "2026-11-22 09:10",
    "place": "本庁舎2階 市民課",
    "what": "窓口端末で不審なポップアップが表示される",
    "reporter": {"name": "試験 次郎", "contact": "内線2205"},
}


def test_intake_list_show_log_verify_round_trip(run, tmp_path):
    f = tmp_path / "in.json"
    f.write_text(json.dumps(INTAKE, ensure_ascii=False), encoding="utf-8")
    code, out, err = run("intake", "--json", str(f))
    assert code == 0, err
    incident_id = out.strip()
    assert incident_id.endswith("-0001")

    code, out, _ = run("list", "--json")
    rows = json.loads(out)
    assert [r["id"] for r in rows] == [incident_id]
    assert rows[0]["missing"] == []

    code, out, err = run("log", incident_id, "ベンダーに連絡した")
    assert code == 0, err
    assert out.strip() == f"{incident_id}#2"

    code, out, _ = run("show", incident_id, "--json")
    doc = json.loads(out)
    assert [e["kind"] for e in doc["timeline"]] == ["intake", "note"]
    assert doc["intake"]["found_at_text"] == "2026-11-22 09:10"
    assert doc["intake"]["what"] == INTAKE["what"]
    assert doc["timeline"][1]["operator"] == "試験 操作者"

    code, out, _ = run("show", incident_id)
    assert code == 0 and "ベンダーに連絡した" in out and "窓口端末" in out

    code, out, _ = run("verify")
    assert code == 0 and out.startswith("OK")


def test_intake_from_stdin_with_missing_items(run):
    code, out, err = run("intake", "--json", "-", stdin=json.dumps({"what": "電話が途中で切れた"}))
    assert code == 0, err
    code, out, _ = run("list", "--json")
    assert json.loads(out)[0]["missing"] == ["found_at", "place", "reporter"]
    code, out, _ = run("list")
    assert "未記入" in out


@pytest.mark.parametrize("argv, stdin, needle", [
    (("show", "2026-0042"), None, "2026-0042"),
    (("show", "nonsense"), None, "形式"),
    (("log", "2026-0042", "x"), None, "2026-0042"),
    (("intake", "--json", "-"), "{not json", "JSON"),
    (("intake", "--json", "-"), json.dumps({"found_at": "あした"}), "found_at"),
    (("intake", "--json", "-"), json.dumps({"found_at": "2099-01-01 10:00"}), "found_at"),
    (("intake", "--json", "-"), json.dumps({"channel": "fax"}), "channel"),
    (("intake", "--json", "-"), json.dumps({"colour": "red"}), "colour"),
    (("intake", "--json", "-"), json.dumps(["a list"]), "JSON"),
    (("intake", "--json", "/nonexistent/file.json"), None, "file.json"),
])
def test_domain_errors_exit_1_with_one_line(run, argv, stdin, needle):
    run("intake", "--json", "-", stdin=json.dumps({"what": "x"}))  # the store exists
    code, out, err = run(*argv, stdin=stdin)
    assert code == 1
    assert needle in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_log_with_bad_time_is_a_domain_error(run):
    run("intake", "--json", "-", stdin=json.dumps({"what": "x"}))
    code, _, err = run("log", "2026-0001", "メモ", "--at", "25:99")
    assert code == 1 and "--at" in err


@pytest.mark.parametrize("argv", [("frobnicate",), ("show",), ("demo", "--incidents", "many"), ("--nope",)])
def test_usage_errors_exit_2(run, argv):
    with pytest.raises(SystemExit) as exc:
        run(*argv)
    assert exc.value.code == 2


ARGPARSE_ENGLISH = ("usage", "argument", "option", "required", "invalid", "choose from", "help message",
                    "unrecognized", "expected", "version number", "exit")


@pytest.mark.parametrize("argv", [("bundle",), ("bundle", "export"), ("frobnicate",), ("--nope",),
                                  ("demo", "--incidents", "many"), ("bundle", "import", "a", "b", "--x"),
                                  ("--help",), ("bundle", "--help"), ("bundle", "export", "--help")])
def test_usage_and_help_are_in_japanese(tmp_path, capsys, argv):
    """The handler at the isolated terminal typing `csirt-desk bundle`: argparse's own words were
    English (「usage:」「positional arguments」「options」「show this help message and exit」
    「the following arguments are required: FILE, ID」, 「invalid choice: ...」)."""
    from csirt_tui.cli import main

    with pytest.raises(SystemExit):
        main(["--store", str(tmp_path / "s"), *argv])
    out, err = capsys.readouterr()
    said = (out + err).casefold()
    assert said.strip() and not [w for w in ARGPARSE_ENGLISH if w in said], out + err


def test_unknown_profile_is_a_domain_error(run):
    code, _, err = run("--profile", "atlantis", "list")
    assert code == 1 and "atlantis" in err


def test_profiles_lists_all_four(run):
    code, out, _ = run("profiles", "--json")
    ids = [p["id"] for p in json.loads(out)]
    assert code == 0 and ids[0] == "mutsu" and set(ids) == {"mutsu", "tsukuba", "mito", "osaki"}


def test_show_does_not_obey_escapes(run):
    run("intake", "--json", "-", stdin=json.dumps({"what": "\x1b]0;owned\x07\x1b[2J消える?"}))
    code, out, _ = run("show", "2026-0001")
    assert code == 0 and "\x1b" not in out and "消える?" in out


def test_json_output_is_safe_and_exact(run):
    text = "\x1b[31m赤\x9b2J \u202e逆 \ud800 [bold]"
    run("intake", "--json", "-", stdin=json.dumps({"what": text}))
    for argv in (("show", "2026-0001", "--json"), ("list", "--json")):
        code, out, _ = run(*argv)
        assert code == 0
        assert not any(ch in out for ch in "\x1b\x9b\u202e\ud800")
    code, out, _ = run("show", "2026-0001", "--json")
    assert json.loads(out)["intake"]["what"] == text


def test_backup_restore_verify(run):
    run("intake", "--json", "-", stdin=json.dumps({"what": "最初の報告"}))
    code, out, _ = run("backup")
    assert code == 0 and Path(out.strip()).is_dir()
    run("log", "2026-0001", "バックアップ後")
    code, out, _ = run("restore")
    assert code == 0
    code, out, _ = run("show", "2026-0001", "--json")
    assert len(json.loads(out)["timeline"]) == 1
    code, out, _ = run("verify")
    assert code == 0


def test_verify_exits_1_naming_the_broken_entry(run):
    run("intake", "--json", "-", stdin=json.dumps({"what": "改ざんされる記録"}))
    seg = next(run.store.glob("incidents/*/*/timeline-0000.json"))
    seg.write_bytes(seg.read_bytes().replace("改ざんされる".encode(), "書き換えた記録".encode()))
    code, _, err = run("verify")
    assert code == 1 and "#1" in err


def test_demo_fills_every_phase_type_and_level(run):
    code, out, err = run("demo")
    assert code == 0, err
    code, out, _ = run("list", "--json", "--all")
    rows = json.loads(out)
    from csirt_tui.profiles import load_profile

    prof = load_profile("mutsu")
    assert {r["type"] for r in rows} >= {t["id"] for t in prof.incident_types}
    assert {r["level"] for r in rows} >= {0, 1, 2}
    assert {r["status"] for r in rows} >= {"open", "closed", "not_incident"}
    assert {r["phase"] for r in rows if r["status"] == "open"} >= {p["id"] for p in prof.phases[:4]}
    code, out, _ = run("verify")
    assert code == 0
    code, out, _ = run("demo")  # the README's first command, run a second time
    assert code == 0 and "追加しません" in out
    code, out, _ = run("list", "--json", "--all")
    assert len(json.loads(out)) == len(rows)


def test_large_demo_store(run):
    code, out, err = run("demo", "--incidents", "30", "--entries", "12")
    assert code == 0, err
    code, out, _ = run("list", "--json", "--all")
    assert len(json.loads(out)) == 30
    code, out, _ = run("verify")
    assert code == 0 and " 360 記録" in out


def _subprocess(*args, env_extra=None, cwd=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")  # and the no-network guard
    env.update(env_extra or {})
    # the child writes in its console's encoding (cp932 on a Japanese Windows): decode without failing
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, encoding="utf-8",
                          errors="replace", env=env, cwd=cwd, stdin=subprocess.DEVNULL)


def test_non_tui_commands_do_not_import_textual(tmp_path):
    code = ("import sys; from csirt_tui.cli import main; "
            f"main(['--store', {str(tmp_path / 's')!r}, 'list']); "
            "print('TEXTUAL' if 'textual' in sys.modules else 'NO-TEXTUAL')")
    res = _subprocess("-c", code)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().endswith("NO-TEXTUAL")


def test_python_dash_m_and_env_store(tmp_path):
    res = _subprocess("-m", "csirt_tui", "intake", "--json", "-", env_extra={"CSIRT_DESK_STORE": str(tmp_path / "e")},
                      cwd=tmp_path)
    # stdin is empty: bad JSON, exit 1, one line
    assert res.returncode == 1 and res.stderr.count("\n") == 1
    res = _subprocess("-m", "csirt_tui", "list", env_extra={"CSIRT_DESK_STORE": str(tmp_path / "e")})
    assert res.returncode == 0
    assert (tmp_path / "e" / "store.json").exists()


def test_list_says_an_empty_field_as_the_rest_of_the_cli_does(run):
    """``csirt-desk list`` printed 「—」 (U+2014, ambiguous width: two cells in a cp932 console)
    for a priority and a level not yet known, and ②④ in its 【未記入: …】 mark: the columns after
    them moved. The desk's columns say 「-」 as short_time does (and the dashboard draws); what was
    typed (its → and …) is printed as typed."""
    import unicodedata

    typed = "電話が途中で切れた→折り返す…"
    code, _out, err = run("intake", "--json", "-", stdin=json.dumps({"what": typed}))
    assert code == 0, err
    code, out, err = run("list")
    assert code == 0, err
    line = out.splitlines()[0]
    cells = line.split("  ")
    assert cells[3] == "-" and cells[5] == "-", cells  # 優先度, レベル: not yet triaged
    assert cells[-1] == "【未記入: (1)いつ・(2)どこで・(4)誰が】" + typed
    desk = line.replace(typed, "")
    assert [c for c in desk if unicodedata.east_asian_width(c) == "A"] == [], desk


def test_show_prints_the_desks_words_as_the_incident_screen_draws_them(run):
    """``csirt-desk show`` printed the desk's 「—」 for an empty item, the profile's ①②③④ and
    「(→ …)」 as written: two cells each in a cp932 console, the text after them moved. It prints
    them as the incident screen draws them (views.chrome_lines); what was typed, as typed."""
    import unicodedata

    typed = "電話が途中で切れた→折り返す…"
    code, out, err = run("intake", "--json", "-", stdin=json.dumps({"what": typed, "found_at": "昨日 9時"}))
    assert code == 0, err
    code, out, err = run("show", out.strip())
    assert code == 0, err
    assert f"(3)発見した内容（何がどのように）: {typed}" in out
    assert "(2)事象を発見したサイト又は場所（どこで）: -" in out
    desk = out.replace(typed, "")
    assert [c for c in desk if unicodedata.east_asian_width(c) == "A"] == [], desk


def test_bundle_export_without_a_file_names_the_file_only(tmp_path, capsys):
    """`csirt-desk bundle export` said the incident numbers were required too (「FILE, ID」),
    though they may be left out (all incidents): argparse takes a '*' positional with no default
    for a required one."""
    from csirt_tui.cli import main

    with pytest.raises(SystemExit):
        main(["--store", str(tmp_path / "s"), "bundle", "export"])
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.endswith(": FILE"), err

"""The CSV formula guard looks at what a spreadsheet sees (issue 14, defect 6):
a leading NUL, control character, zero-width or direction mark, or space is
dropped or unseen by the spreadsheet, and a full-width ＝ is an equals sign to a
Japanese one; each such cell still gets its leading ``'`` and reads back as typed."""

from __future__ import annotations

import csv
import io
import json

import pytest

from conftest import cli_runner
from csirt_tui.csvexport import guard, unguard

PREFIXES = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\u200b", "\u200c", "\u200d", "\u202e", "\u2066",
            "\ufeff", "\u2060", "\U000e0041", "\ufe0f", " ", "\u3000", "\u00a0", "\u2028", "\x00\u200b "]
FORMULAS = ["=1+1", "+1", "-1", "@SUM(A1)", "＝1+1", "＋1", "－1", "＠x", "﹦1", "⁼1", "\u22121"]


@pytest.mark.parametrize("prefix", PREFIXES, ids=lambda p: "+".join(f"U{ord(c):04X}" for c in p))
@pytest.mark.parametrize("formula", FORMULAS)
def test_a_formula_behind_what_a_spreadsheet_ignores_is_guarded(prefix, formula):
    text = prefix + formula
    cell = guard(text)
    assert cell == "'" + text
    assert unguard(cell) == text


@pytest.mark.parametrize("formula", FORMULAS)
def test_a_full_width_or_compatibility_formula_sign_is_guarded(formula):
    assert guard(formula) == "'" + formula and unguard(guard(formula)) == formula


@pytest.mark.parametrize("text", ["本庁舎", "\x00本庁舎", "\u200bメモ", " 1", "１＝１", "x=1", "'", "''", "\x00'=1",
                                  "'\x00=1", "''\u200b＝1", ""])
def test_plain_text_is_left_as_typed_and_round_trips(text):
    assert unguard(guard(text)) == text
    if not text.lstrip("'").lstrip("\x00\u200b ").startswith(("=", "＝")):
        assert guard(text) == text


def test_list_csv_guards_a_nul_before_a_formula_end_to_end(tmp_path, capsys, monkeypatch):
    """The reproduction from the issue: intake --json with "\\u0000=1+1", then list --csv."""
    run = cli_runner(tmp_path, capsys, monkeypatch)
    for what in ("\u0000=1+1", "\u200b=HYPERLINK(\"http://x\")", "\u202e=1", "＝1+1"):
        code, out, err = run("intake", "--json", "-", stdin=json.dumps({"what": what, "place": "本庁舎"}))
        assert code == 0, err
    target = tmp_path / "l.csv"
    code, out, err = run("list", "--csv", str(target))
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(target.read_bytes().decode("utf-8-sig"), newline="")))
    cells = sorted(r["概要"] for r in rows)
    assert all(c.startswith("'") for c in cells), cells
    assert sorted(unguard(c) for c in cells) == sorted(
        ["\u0000=1+1", "\u200b=HYPERLINK(\"http://x\")", "\u202e=1", "＝1+1"])

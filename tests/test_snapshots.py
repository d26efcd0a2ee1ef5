"""Snapshots of every screen at 120x30 and 80x24 (issue 15), as the text on screen.

Each screen is opened on a demo store at a fixed time (tests/screen_walk.py) and read back cell
by cell from Textual's compositor; the store's temporary path is written <STORE>. The text is
compared with tests/__snapshots__/test_snapshots/<scene>-<W>x<H>.txt: a change of layout or
wording shows as a plain diff. After a deliberate change, look at the new screens and write
them with ``CSIRT_SNAPSHOT_UPDATE=1 pytest tests/test_snapshots.py`` (a missing snapshot fails).

Text rather than SVG: the SVG of Textual's screenshot changes with every Textual release and
theme colour, the text only when the desk draws something else. bench/screenshots.py renders
the same screens to PNG in a real xterm with a Japanese font, to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from screen_walk import SCENES, SIZES, open_scene

SNAPSHOTS = Path(__file__).with_name("__snapshots__") / "test_snapshots"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("scene", list(SCENES))
def test_screen_snapshot(tmp_path, scene, size):
    drawn, _texts = open_scene(tmp_path, scene, size)
    path = SNAPSHOTS / f"{scene}-{size[0]}x{size[1]}.txt"
    text = drawn.text.rstrip("\n") + "\n"
    assert len(drawn.rows) == size[1]
    if os.environ.get("CSIRT_SNAPSHOT_UPDATE"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}: write it with CSIRT_SNAPSHOT_UPDATE=1"
    assert text == path.read_text(encoding="utf-8"), f"{scene} at {size} differs from {path.name}"


def test_at_80x24_the_dashboard_shows_the_summary_and_the_roster_a_list():
    """The two layouts issue 15 found unusable at 80x24, checked by what they show."""
    dash = (SNAPSHOTS / "dashboard-80x24.txt").read_text(encoding="utf-8").splitlines()
    head = next(line for line in dash if "番号" in line)
    assert "概要" in head
    assert any("2026-0006" in line and "監視システム" in line for line in dash)  # its summary, not cut off
    roster = (SNAPSHOTS / "roster-80x24.txt").read_text(encoding="utf-8").splitlines()
    assert sum("内線2" in line for line in roster) >= 6  # people in the list (one before)
    export = (SNAPSHOTS / "export-80x24.txt").read_text(encoding="utf-8")
    assert "出力 (Ctrl+S)" in export
    saved = (SNAPSHOTS / "saved-80x24.txt").read_text(encoding="utf-8")
    assert "番号をコピー (c)" in saved  # its key was cut off at 80 columns (found walking a call in tmux)
    dropdown = (SNAPSHOTS / "intake_channel-80x24.txt").read_text(encoding="utf-8").splitlines()
    assert "Esc 選択肢を閉じる" in dropdown[-1]  # with the list open, Esc closes the list (not 「Dismiss menu」)


def test_the_review_screen_says_its_due_date_and_まで_on_one_line():
    """The due line was wrapped at its only space, 「最初の手順の評価・見直し: 2027-11-22」 alone and
    「まで（まだ記録がありません…」 on the next line: folded by characters (screens/form.Folded) now."""
    review = (SNAPSHOTS / "review-80x24.txt").read_text(encoding="utf-8").splitlines()
    assert any("見直し: " in line and " まで（" in line for line in review), review[:4]


def test_no_footer_shows_a_key_twice():
    """The review screen's footer at 120x30 ended in 「Ctrl+P コマンド        Ctrl+P コマンド」: the desk's
    own Ctrl+P (screens/commands.py) and Textual's palette key, docked right, both shown where
    there was room for them (screens/footer.py)."""
    import re

    twice = {}
    for path in sorted(SNAPSHOTS.glob("*.txt")):
        footer = path.read_text(encoding="utf-8").splitlines()[-1]
        keys = re.findall(r"(?:Ctrl\+[A-Z]|F\d+)(?= )", footer)
        if len(keys) != len(set(keys)):
            twice[path.name] = footer
    assert not twice, twice


def test_a_picker_is_whole_on_the_screen_and_its_long_choices_read_whole():
    """The picker (screens/form.py PickerScreen) ran past the bottom of a 24-row screen, its lower
    border and last choices off it (the roles to call, 3 原因: 脅威の種類); and the policy's threats
    were cut at 70 characters in a box 40 cells wide, even at 120 columns (「…情報資産の漏えい・破壊...」)."""
    for scene in ("threat", "incident_call"):
        rows = (SNAPSHOTS / f"{scene}-80x24.txt").read_text(encoding="utf-8").splitlines()
        borders = [r for r in rows if "+-" in r]
        assert len(borders) == 4, (scene, borders)  # the dialog's top and bottom, the list's top and bottom
    wide = (SNAPSHOTS / "threat-120x30.txt").read_text(encoding="utf-8")
    assert "内部不正等" in wide and "..." not in wide


def test_f4_the_callers_words_is_offered_on_a_drills_intake_only():
    """A real call's intake at 120x30 offered 「F4 通報者の言葉」, a key that only shows a drill
    scenario's words: pressed on the phone it did nothing."""
    real = (SNAPSHOTS / "intake-120x30.txt").read_text(encoding="utf-8").splitlines()
    drill = (SNAPSHOTS / "drill_intake-120x30.txt").read_text(encoding="utf-8").splitlines()
    assert "F4" not in real[-1] and "Ctrl+S 保存" in real[-1], real[-1]
    assert "F4 通報者の言葉" in drill[-1], drill[-1]


def test_the_out_of_hours_banner_keeps_its_f3_hint_on_one_line():
    """At 80x24 the banner ended 「(F3: PoC」 with 「カード)」 alone on the next line, a line of the
    form lost to it (screens/intake.py F3_HINT)."""
    for size in ("80x24", "120x30"):
        text = (SNAPSHOTS / f"intake-{size}.txt").read_text(encoding="utf-8")
        assert "(F3:PoCカード)" in text, size

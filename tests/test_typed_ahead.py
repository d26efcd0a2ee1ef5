"""Keys typed before the desk takes the terminal (the phone rings while it starts): the terminal
is still in its cooked mode then, whose ICRNL turns each Enter into a line feed (Ctrl+J) as it is
typed, and the desk read those as Ctrl+J, not Enter: a whole card typed ahead landed in (1) いつ.
The complete lines waiting when the desk takes the terminal are read as typed: their line feeds
as Enter (a POSIX terminal only; a Windows console has no cooked line feeds)."""

from __future__ import annotations

from conftest import posix_pty
from test_paste_pty import draft
from test_tui_crash import new_desk, wait_for


@posix_pty
def test_a_card_typed_before_the_desk_takes_the_terminal_goes_field_by_field(tmp_path):
    store_dir, term = new_desk(tmp_path)
    try:
        # at once: the desk is still starting (Python, its modules), the terminal cooked
        term.send("\x0e今朝9時ごろ\r本庁舎3階\r")
        assert wait_for(lambda: draft(store_dir).get("place"), 20, term), (draft(store_dir), term.output[-300:])
        term.pump(0.5)
        got = draft(store_dir)
    finally:
        term.kill()
    assert (got.get("found_at"), got.get("place")) == ("今朝9時ごろ", "本庁舎3階")

"""The command palette (Ctrl+P) and the theme list, in Japanese.

Textual's CommandPalette says 「No matches found」 when nothing matches what was typed (「ぬぬぬ」,
a command looked for by a word it does not contain). The desk's palette says it in Japanese;
the rest is Textual's (the search, the list, Esc).
"""

from __future__ import annotations

from rich.align import Align
from rich.text import Text
from textual.command import CommandList, CommandPalette
from textual.widgets.option_list import Option

NO_MATCHES = "該当するものはありません (Esc で閉じる)"


class DeskPalette(CommandPalette):
    """CommandPalette whose 「no matches」 line is Japanese (Textual 8.2's
    ``_start_no_matches_countdown``, with the desk's words; tests/test_app.py checks it)."""

    def _start_no_matches_countdown(self, search_value: str) -> None:
        self._stop_no_matches_countdown()

        def show_no_matches() -> None:
            if search_value:
                self.query_one(CommandList).add_option(
                    Option(Align.center(Text(NO_MATCHES, style="not bold")), disabled=True, id=self._NO_MATCHES))
                self._list_visible = True
            else:  # discovery (nothing typed): nothing to say
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_matches)

"""The desk's footer: the keys that fit, most needed first, F1 always (it lists them all).

Textual's Footer lays every key out in one row and cuts the row at the screen's edge: at
80 columns the dashboard's footer ended in 「^r 連▏」 and the tracker's lost 収束 and 戻る.
This one keeps, of the keys a screen shows, those that fit the width, chosen by their rank
in screens/commands.py (F1 first), in their usual order. It is also rebuilt only when the
keys it shows (or the width) change.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from screens.commands import rank_of


def _width(item: FooterKey, compact: bool) -> int:
    """Cells a key takes in the footer (its padding and margin as Textual's CSS sets them)."""
    key, text = cell_len(item.key_display), cell_len(item.description)
    if "-command-palette" in item.classes:
        return key + text + 4  # its border and padding
    if compact:
        return key + (1 + text if text else 0) + 1
    return key + 2 + (text + 1 if text else 0)


class DeskFooter(Footer):
    """Textual's Footer, showing what fits (see above)."""

    _shown: tuple | None = None

    def __init__(self, *, at_mount: bool = False, **kwargs) -> None:
        # Ctrl+P is one of the desk's keys (screens/commands.py), shown by its rank like the others:
        # Textual's own palette key, docked right, showed it a second time where there was room
        # (the review screen at 120x30 ended in 「Ctrl+P コマンド        Ctrl+P コマンド」)
        kwargs.setdefault("show_command_palette", False)
        super().__init__(**kwargs)
        self._at_mount = at_mount

    def _keys_shown(self) -> tuple:
        active = self.screen.active_bindings
        keys = tuple((binding, enabled, tooltip) for (_, binding, enabled, tooltip) in active.values()
                     if binding.show)
        palette = active.get(self.app.COMMAND_PALETTE_BINDING) if self.show_command_palette else None
        return keys, palette[1:] if palette else None, self.app.ENABLE_COMMAND_PALETTE, self._room()

    def _room(self) -> int:
        return self.app.size.width

    def compose(self) -> ComposeResult:
        # at_mount: built with the screen's keys as it mounts. Textual's Footer waits for the
        # screen to say its bindings are ready and then builds its keys: a layout of the whole
        # screen more as it opens, which on the triage (108 widgets) costs more than building the
        # keys early (bench: triage CPU median 388 -> 325 ms at 10,000 incidents); on the small
        # screens it does not (roster 88 -> 104 ms, incident 84 -> 96, tracker 145 -> 164).
        if self._at_mount:
            self._bindings_ready = True
        self._shown = self._keys_shown() if self._bindings_ready else None
        items = list(super().compose())
        for item in items:
            if isinstance(item, FooterKey) and "-command-palette" not in item.classes:
                # made with the footer's compact (Textual binds it to the footer's, the palette's key
                # excepted): FooterKey's own default (True) set its class at its mount and the
                # footer's (False) took it off again, each a restyle of every key
                item.set_reactive(FooterKey.compact, self.compact)
                item.set_class(self.compact, "-compact", update=False)
        yield from self.fitting(items, self._room())

    def fitting(self, items: list, room: int) -> list:
        """``items`` (FooterKeys) that fit ``room`` cells: by rank, F1 always, in their order."""
        screens = (getattr(self.screen, "KEYS_SCREEN", ""), "app")
        ranks = [rank_of(screens, item.action, item.key) if isinstance(item, FooterKey) else 9 for item in items]
        keep, used = set(), 0
        for i in sorted(range(len(items)), key=lambda i: (ranks[i], i)):
            width = _width(items[i], self.compact) if isinstance(items[i], FooterKey) else 0
            if used + width <= room or not keep:
                keep.add(i)
                used += width
        # F1 (rank 0) first, then the rest in the screen's order
        return [items[i] for i in sorted(keep, key=lambda i: (ranks[i] != 0, i))]

    async def recompose(self) -> None:
        if self._shown is not None and self.is_attached and self._keys_shown() == self._shown:
            return  # the same keys as shown now
        await super().recompose()

    def on_resize(self) -> None:
        if self._shown is not None and self._shown[-1] != self._room():
            self.call_later(self.recompose)

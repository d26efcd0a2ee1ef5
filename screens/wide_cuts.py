"""A wide (Japanese) character drawn over another widget's edge is drawn whole (issue 15).

Textual's compositor cuts each line of every widget at every point where any widget on that
line starts or ends (``Compositor.cuts``), including the edges of widgets hidden behind it, and
each piece fills its place unless a widget in front already filled it. A double-width character
that straddles such a cut is split in two halves, and each half becomes a space
(``Segment.divide``): a toast over a dialog's border read 「続き  入力する」 at 120x30, a toast over
the intake's 氏名/所属 row 「わ  ん」; a dropdown or a tooltip over a panel's edge the same. The
cut is needed only where what is on each side comes from different widgets.

:func:`install` replaces ``Compositor._render_chops`` with the same walk, front to back, that
divides a widget's line only where a piece of it is hidden by a widget in front: a run of pieces
the widget shows side by side is one piece, put in the first of their places, and the other
places of the run get an empty piece (taken, zero cells: nothing behind fills them). The line
is the same cell for cell, except that a wide character over a hidden edge is whole. Textual's
own bug: https://github.com/Textualize/textual/issues/6357 (open, Textual 8.2.8). A partial update
(``ChopsUpdate``) is given where each piece ends (it took the next cut, and so wrote a joined
piece only up to the first edge behind it). Installed only
on a Textual whose ``_render_chops`` is the one it was written against (the same source in every
release 8.0.0-8.2.8); on any other, only when the method's source is that one (read then: ~8 ms).
"""

from __future__ import annotations

import hashlib
import inspect
from typing import Callable, Mapping, Sequence

# SHA-256 of Textual's Compositor._render_chops source, the method this one stands in for, the
# same in the releases below (read from their tags). Another Textual's (changed) method is left.
KNOWN = {"ca8c3359d7afd0171bda158ab5b846fec5144539e438de5113d76f11eb357f0f"}
CHECKED = {"8.0.0", "8.0.1", "8.0.2", "8.1.0", "8.1.1", *(f"8.2.{n}" for n in range(9))}

_installed = False
_EMPTY = None  # Strip([], 0), made at install
_intersection = None  # Region.intersection, taken at install


def _render_chops(self, crop, is_rendered_line: Callable[[int], bool]) -> Sequence[Mapping[int, object]]:
    """Compositor._render_chops, dividing a line only where the widget's pieces change hands.

    A partial update (ChopsUpdate) writes each piece at its place, up to where it ends: the end
    of a joined piece is its own (_with_piece_ends), not the next cut's, or a part redrawn that
    begins past that cut inside it is not written at all."""
    cuts = self.cuts
    chops: list[dict[int, object]] = [dict.fromkeys(cut_set[:-1]) for cut_set in cuts]
    intersection = _intersection
    empty = _EMPTY
    for region, clip, strips in self._get_renders(crop):
        render_region = intersection(region, clip)
        render_x = render_region.x
        first_cut, last_cut = render_region.column_span
        for y, strip in zip(render_region.line_range, strips):
            if not is_rendered_line(y):
                continue
            chops_line = chops[y]
            final_cuts = [cut for cut in cuts[y] if last_cut >= cut >= first_cut]
            if len(final_cuts) < 2:  # nothing of it on this line within the screen (as Textual: no piece)
                continue
            get = chops_line.get
            # divide where a place is taken (by a widget in front) or stops being so; a cut
            # between two places both still free is not a division
            keep = [final_cuts[0]]
            merged: list[int] = []
            free_before = get(final_cuts[0]) is None
            for cut in final_cuts[1:-1]:
                free = get(cut) is None
                if free and free_before:
                    merged.append(cut)
                else:
                    keep.append(cut)
                free_before = free
            keep.append(final_cuts[-1])
            pieces = strip.divide([cut - render_x for cut in keep[1:]])
            # painting front to back: the first piece for a place "wins"
            for cut, piece in zip(keep, pieces):
                if get(cut) is None:
                    chops_line[cut] = piece
            for cut in merged:
                chops_line[cut] = empty
    return chops


def _with_piece_ends(render_partial_update):
    """Compositor.render_partial_update, the end of each piece of a line redrawn being where the
    piece ends: Textual's ChopsUpdate takes the next cut for it, and writes a piece only up to
    there. A joined piece goes on past that cut: a part redrawn that began past the cut inside
    it (a widget in front of others changing a few cells: its cells over another widget's
    edge) was not written at all, and the terminal kept the old cells."""

    def partial_update(self):
        update = render_partial_update(self)
        if update is not None:
            chops, ends = update.chops, list(update.chop_ends)
            for y in {y for y, _, _ in update.spans}:
                ends[y] = [x + strip.cell_length if strip is not None else end
                           for end, (x, strip) in zip(ends[y], chops[y].items())]
            update.chop_ends = ends
        return update

    partial_update.__doc__ = render_partial_update.__doc__
    return partial_update


def _digest(fn) -> str | None:
    try:
        return hashlib.sha256(inspect.getsource(fn).encode("utf-8")).hexdigest()
    except (OSError, TypeError):  # no source (a frozen build): not known
        return None


def install() -> bool:
    """Put :func:`_render_chops` in place of Textual's (idempotent); False when this Textual's
    method is not the one it was written for (left as it is)."""
    global _installed, _EMPTY
    if _installed:
        return True
    global _intersection
    import textual
    from textual._compositor import Compositor
    from textual.geometry import Region
    from textual.strip import Strip

    from screens.css_cache import dist_version

    if dist_version(textual) not in CHECKED and _digest(Compositor._render_chops) not in KNOWN:
        return False
    _EMPTY, _intersection = Strip([], 0), Region.intersection
    _render_chops.__doc__ = (Compositor._render_chops.__doc__ or "") + "\n" + (_render_chops.__doc__ or "")
    Compositor._render_chops = _render_chops
    Compositor.render_partial_update = _with_piece_ends(Compositor.render_partial_update)
    _installed = True
    return True


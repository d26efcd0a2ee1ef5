"""The dashboard's status line ended in a cut 「ストア:」 at 120 columns (the label, its value past the
edge): the store's path is shown shortened to what fits, its end kept (the folder's own name), or,
when nothing fits, the label is left out."""

from __future__ import annotations

import asyncio

from rich.cells import cell_len

from conftest import Clock, sample_intake
from csirt_tui.app import CsirtDeskApp
from csirt_tui.cells import cut_start
from csirt_tui.store import Store


def status_line(store, clock, size) -> tuple[str, int]:
    app = CsirtDeskApp(store, operator="試験", clock=clock, backups=False)
    out: list = []

    async def go():
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            widget = app.screen.query_one("#dash-status")
            line = widget.render_lines(widget.content_region.reset_offset)[0]
            out.extend([line.text.rstrip(), widget.content_region.width])

    asyncio.run(go())
    return out[0], out[1]


def test_the_store_path_fits_or_is_left_out(tmp_path):
    root = tmp_path / "庁内共有" / "csirt-desk-stores" / "本庁デスク用ストア"
    clock = Clock()
    store = Store.open(root, clock=clock)
    store.create_incident(sample_intake(), operator="受付")
    for size in ((120, 30), (160, 30), (80, 24)):
        line, width = status_line(store, clock, size)
        assert cell_len(line) <= width, (size, line)
        assert not line.endswith("ストア:"), (size, line)
        if "ストア:" in line:
            shown = line.split("ストア: ", 1)[1]
            assert shown and str(root).endswith(shown.removeprefix("...")), (size, line)
            assert size[0] < 160 or shown.endswith("本庁デスク用ストア"), (size, line)
    wide, _ = status_line(store, clock, (300, 30))
    assert wide.endswith(f"ストア: {root}")  # room for all of it: all of it
    narrow_, _ = status_line(store, clock, (120, 30))
    assert "ストア: ..." in narrow_  # before: 「ストア:」 and nothing


def test_cut_start_keeps_the_end():
    assert cut_start("/tmp/abc/def", 20) == "/tmp/abc/def"
    assert cut_start("/tmp/abc/def", 8) == "...c/def"
    assert cut_start("/庁内/本庁", 7) == "...本庁"
    assert cell_len(cut_start("/庁内/本庁", 6)) <= 6

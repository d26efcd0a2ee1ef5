"""A key name in a Japanese line is kept whole at a fold, with the 「。」 after it: the bundle
import's preview broke 「Ctrl+S。」 across lines (「… Ctrl+」 | 「S。…」 where the line was folded by
characters, 「この内容で取り込むなら」 alone on a line where Textual wrapped it at its only blank)."""

from __future__ import annotations

import asyncio

from rich.cells import cell_len

from csirt_tui.app import CsirtDeskApp
from screens.exchange import BundleScreen
from screens.form import fold

SAID = "この内容で取り込むなら Ctrl+S。全部が取り込まれるか、何も変わらないかのどちらかです。"


def test_fold_keeps_a_key_name_and_its_full_stop_whole():
    text = SAID + "上書きするなら、もう一度 Ctrl+S を押してください。Shift+Tab で前の項目へ。"
    for width in range(20, 121):
        rows = fold(text, width).split("\n")
        joined = "\n".join(rows)
        assert joined.count("Ctrl+S") == 2 and "Ctrl+S。" in joined and "Shift+Tab" in joined, (width, rows)
        assert all(cell_len(row) <= width for row in rows), (width, rows)
        assert "".join(rows) == text  # nothing dropped, nothing added (not hanging: blanks kept)


class Plan:
    changes_nothing = False

    def lines(self) -> list[str]:
        return ["隔離端末1 からのバンドル: 新しいインシデント 0 件、新しい記録 1 件",
                "  2026-0003: 記録 1 件を追加 (既にある 15 件)"]


def preview_rows(store, clock, size) -> list[str]:
    app = CsirtDeskApp(store, operator="試験", clock=clock, backups=False)
    rows: list[str] = []

    async def go():
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            app.push_screen(BundleScreen("import"))
            await pilot.pause()
            screen = app.screen
            screen._planned(Plan(), "family")
            await pilot.pause()
            message = screen.query_one("#bundle-message")
            width = message.content_region.width
            lines = message.render_lines(message.content_region.reset_offset)
            rows.extend(line.text.rstrip() for line in lines)
            rows.append(f"width {width}")

    asyncio.run(go())
    return rows


def test_the_import_preview_keeps_ctrl_s_whole_at_80_and_120_columns(store, clock):
    for size in ((80, 24), (120, 30)):
        rows = preview_rows(store, clock, size)
        text = [row for row in rows if row.strip() and not row.startswith("width")]
        assert any("Ctrl+S。" in row for row in text), (size, rows)
        assert "".join(row.strip() for row in text).replace(" ", "") == SAID.replace(" ", ""), (size, rows)
        # the line is filled before it is folded (not 「この内容で取り込むなら」 alone)
        assert cell_len(text[0]) > cell_len("この内容で取り込むなら Ctrl+S。"), (size, rows)

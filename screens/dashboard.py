"""ダッシュボード: open incidents, drafts, and the store's state at a glance."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from csirt_tui.textsafe import one_line
from csirt_tui.views import DASHBOARD_COLUMNS, incident_row_cells, short_time

REFRESH_SECONDS = 2.0


def cell(text: str, width: int | None = None) -> Text:
    """User text as a plain cell: never parsed as markup, controls made visible."""
    return Text(one_line(text, width), no_wrap=True, overflow="ellipsis")


def fit_last_column(rows: list[list[Text]], headers, width: int) -> None:
    """Shorten the last cell of each row (the summary) so the table fits ``width`` cells."""
    if not rows or width <= 0:
        return
    widths = [max(cell_len(h), *(r[i].cell_len for r in rows)) for i, h in enumerate(headers[:-1])]
    avail = max(width - sum(widths) - 2 * len(headers), 12)
    for r in rows:
        r[-1].truncate(avail, overflow="ellipsis")


class DashboardScreen(Screen):
    """The first screen: what is open now, and drafts left by an interrupted call."""

    BINDINGS = [
        Binding("r", "refresh", "更新"),
        Binding("a", "toggle_all", "全件/対応中"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.show_all = False
        self._stamp: tuple = ()
        self._ticks = 0

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="dash"):
            yield Static("", id="dash-status", markup=False)
            yield Static("対応中のインシデント", classes="section-title", markup=False)
            yield DataTable(id="incidents", cursor_type="row", zebra_stripes=True)
            yield Static("下書き (保存前の受付)", classes="section-title", markup=False)
            yield DataTable(id="drafts", cursor_type="row")
        yield Footer()

    def on_resize(self) -> None:
        self.refresh_data()

    def on_mount(self) -> None:
        table = self.query_one("#incidents", DataTable)
        table.add_columns(*DASHBOARD_COLUMNS)
        drafts = self.query_one("#drafts", DataTable)
        drafts.add_columns("更新", "操作者", "いつ", "どこで", "何が")
        self.refresh_data()
        self.set_interval(REFRESH_SECONDS, self._poll)
        table.focus()

    def _store_stamp(self) -> tuple:
        """A cheap fingerprint of the index and drafts: changes when any process writes."""
        root = self.app.store.root
        stamp = []
        for folder in ("index", "drafts"):
            d = root / folder
            if d.is_dir():
                stamp.extend((p.name, p.stat().st_mtime_ns) for p in sorted(d.iterdir()))
        return tuple(stamp)

    def _poll(self) -> None:
        # Redraw when any process wrote, and every 30 s for the elapsed column.
        self._ticks += 1
        if self._store_stamp() != self._stamp or self._ticks * REFRESH_SECONDS >= 30:
            self.refresh_data()

    def refresh_data(self) -> None:
        store = self.app.store
        profile = store.profile
        now = self.app.now()
        self._stamp = self._store_stamp()
        self._ticks = 0
        rows = store.list_incidents()
        shown = rows if self.show_all else [r for r in rows if r.get("status") == "open"]
        table = self.query_one("#incidents", DataTable)
        cursor = table.cursor_row
        table.clear()
        all_cells = [[cell(c) for c in incident_row_cells(profile, row, now)] for row in shown]
        fit_last_column(all_cells, DASHBOARD_COLUMNS, self.size.width - 4)
        for row, cells in zip(shown, all_cells):
            table.add_row(*cells, key=row["id"])
        if shown:
            table.move_cursor(row=min(cursor, len(shown) - 1))
        drafts = store.list_drafts()
        dtable = self.query_one("#drafts", DataTable)
        dtable.clear()
        for d in drafts:
            data = d.get("data") or {}
            dtable.add_row(cell(short_time(d.get("updated_at"))), cell(d.get("operator", "")),
                           cell(data.get("found_at_text", ""), 20), cell(data.get("place", ""), 20),
                           cell(data.get("what", ""), 40), key=d["id"])
        open_n = sum(1 for r in rows if r.get("status") == "open")
        incomplete = sum(1 for r in rows if r.get("status") == "open" and r.get("missing"))
        status = (f"{now:%m/%d %H:%M}  対応中 {open_n} 件 (未記入あり {incomplete} 件)  全 {len(rows)} 件  下書き {len(drafts)} 件"
                  f"  表示: {'全件' if self.show_all else '対応中のみ'}  ストア: {store.root}")
        self.query_one("#dash-status", Static).update(status)

    def action_refresh(self) -> None:
        self.refresh_data()

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.refresh_data()

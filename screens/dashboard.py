"""ダッシュボード: open incidents and drafts, most urgent first, filtered as you type."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Label, Static

from csirt_tui.textsafe import one_line
from csirt_tui.views import DASHBOARD_COLUMNS, RowFilter, dashboard_order, incident_row_cells, short_time

REFRESH_SECONDS = 2.0
MAX_ROWS = 50  # rows built at once; the filter narrows the rest (10,000 incidents stay fast)


def cell(text: str, width: int | None = None) -> Text:
    """User text as a plain cell: never parsed as markup, controls made visible."""
    return Text(one_line(text, width), no_wrap=True, overflow="ellipsis")


class DashboardScreen(Screen):
    """The first screen: what is open now, and drafts left by an interrupted call."""

    BINDINGS = [
        Binding("n", "app.new_intake", "新規受付"),
        Binding("t", "triage", "トリアージ"),
        Binding("o", "response", "対応の記録"),
        Binding("slash", "focus_filter", "絞り込み"),
        Binding("a", "toggle_all", "全件/対応中"),
        Binding("r", "refresh", "更新"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.show_all = False
        self._stamp: tuple = ()
        self._ticks = 0
        self._rows: list[dict] = []
        self._laid_out_width = -1      # the width the visible rows were laid out for
        self._shown_once = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="dash"):
            yield Static("", id="dash-status", markup=False)
            with Horizontal(id="filter-row"):
                yield Label("絞り込み (/):", classes="label")
                yield Input(id="filter", compact=True, placeholder="番号・概要・場所・報告者・種別 (空白区切りで AND)")
            yield Static("対応中のインシデント", id="incidents-title", classes="section-title", markup=False)
            yield DataTable(id="incidents", cursor_type="row", zebra_stripes=True)
            yield Static("下書き (保存前の受付) — Enter で再開", classes="section-title", markup=False)
            yield DataTable(id="drafts", cursor_type="row")
        yield Footer()

    def _column_widths(self) -> list[int]:
        """Fixed widths from the profile's labels (the summary takes the rest)."""
        profile = self.app.store.profile
        longest = lambda labels: max((cell_len(x) for x in labels), default=4)  # noqa: E731
        # type and phase labels can be long (大崎: 「不正行為: 報告・情報の把握・緊急措置」): capped, …
        widths = [9, 11, 10, 6,
                  min(max(longest(t["label"] for t in profile.incident_types), 6), 16),
                  7,
                  min(max(longest(p["label"] for p in profile.phases), longest(("トリアージ前",))), 14)]
        return [max(w, cell_len(h)) for w, h in zip(widths, DASHBOARD_COLUMNS)]

    def on_mount(self) -> None:
        # One cell per row, laid out here in fixed-width columns: a filter keystroke
        # repaints one Rich text per visible row instead of eight.
        self._widths = self._column_widths()
        table = self.query_one("#incidents", DataTable)
        table.add_column(self._line(list(DASHBOARD_COLUMNS)), key="row")
        self.query_one("#drafts", DataTable).add_columns("更新", "操作者", "いつ", "どこで", "何が")
        self.refresh_data()
        self.set_interval(REFRESH_SECONDS, self._poll)
        table.focus()

    def _line(self, cells: list[str]) -> Text:
        """One dashboard row: user text shown as typed (controls made visible), padded to the columns."""
        line = Text(no_wrap=True, overflow="ellipsis")
        for text, width in zip(cells, self._widths):
            part = Text(one_line(text))
            part.truncate(width, overflow="ellipsis", pad=True)
            line.append_text(part)
            line.append("  ")
        summary = Text(one_line(cells[-1]))
        summary.truncate(max(self.size.width - 6 - line.cell_len, 12), overflow="ellipsis")
        line.append_text(summary)
        return line

    def on_resize(self) -> None:
        # rows are laid out for the screen width: lay them out again only when it changed
        if self._rows and self.size.width != self._laid_out_width:
            self._fill_incidents()

    # ------------------------------------------------------------ data
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
        # Reload when any process wrote, and every 30 s for the elapsed column.
        self._ticks += 1
        if self._store_stamp() != self._stamp or self._ticks * REFRESH_SECONDS >= 30:
            self.refresh_data()

    def refresh_data(self, select: str | None = None) -> None:
        store = self.app.store
        self._stamp = self._store_stamp()
        self._ticks = 0
        self._all_rows = store.list_incidents(sort=False)  # dashboard_order sorts them
        self._make_filter()
        self._fill_incidents(select=select)
        drafts = store.list_drafts()
        dtable = self.query_one("#drafts", DataTable)
        keep = _cursor_key(dtable)
        dtable.clear()
        for d in drafts:
            data = d.get("data") or {}
            dtable.add_row(cell(short_time(d.get("updated_at"))), cell(d.get("operator", ""), 12),
                           cell(data.get("found_at", ""), 16), cell(data.get("place", ""), 24),
                           cell(data.get("what", ""), 50), key=d["id"])
        _restore_cursor(dtable, keep)
        self._drafts = drafts
        self._update_status()

    def _make_filter(self) -> None:
        """Order the rows once (priority, then age); the filter keeps that order."""
        rows = self._all_rows if self.show_all else [r for r in self._all_rows if r.get("status") == "open"]
        self._filter = RowFilter(self.app.store.profile, dashboard_order(rows))
        # Build the searched text once the screen is drawn, before the first keystroke.
        self.call_after_refresh(self._filter.prepare)

    def _fill_incidents(self, select: str | None = None) -> None:
        profile = self.app.store.profile
        now = self.app.now()
        query = self.query_one("#filter", Input).value
        rows = self._filter.apply(query)
        self._matching = len(rows)
        self._rows = rows[:MAX_ROWS]
        table = self.query_one("#incidents", DataTable)
        keep = select or _cursor_key(table)
        table.clear()
        self._laid_out_width = self.size.width
        for r in self._rows:
            table.add_row(self._line(incident_row_cells(profile, r, now)), key=r["id"])
        _restore_cursor(table, keep)
        title = "全インシデント" if self.show_all else "対応中のインシデント"
        if self._matching > MAX_ROWS:
            title += f" (上位 {MAX_ROWS} 件を表示 / 該当 {self._matching:,} 件 — 絞り込んでください)"
        elif query.strip():
            title += f" (該当 {self._matching:,} 件)"
        self.query_one("#incidents-title", Static).update(title)

    def _update_status(self) -> None:
        rows = self._all_rows
        now = self.app.now()
        open_n = sum(1 for r in rows if r.get("status") == "open")
        incomplete = sum(1 for r in rows if r.get("status") == "open" and r.get("missing"))
        from csirt_tui.roster import review_status

        review = "  ⚠ 連絡先名簿の見直し時期です (Ctrl+R)" if review_status(self.app.store, now).get("overdue") else ""
        status = (f"{now:%m/%d %H:%M}{review}  対応中 {open_n} 件 (未記入あり {incomplete} 件)  全 {len(rows):,} 件"
                  f"  下書き {len(self._drafts)} 件  表示: {'全件' if self.show_all else '対応中のみ'}"
                  f"  ストア: {self.app.store.root}")
        self.query_one("#dash-status", Static).update(status)

    # ------------------------------------------------------------ actions
    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._fill_incidents()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one("#incidents", DataTable).focus()

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def key_escape(self) -> None:
        flt = self.query_one("#filter", Input)
        if flt.value or flt.has_focus:
            flt.value = ""
            self.query_one("#incidents", DataTable).focus()

    def action_refresh(self) -> None:
        self.refresh_data()

    def action_triage(self) -> None:
        key = _cursor_key(self.query_one("#incidents", DataTable))
        if key:
            self.app.open_triage(key)

    def action_response(self) -> None:
        key = _cursor_key(self.query_one("#incidents", DataTable))
        if key:
            self.app.open_response(key)

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self._make_filter()
        self._fill_incidents()
        self._update_status()

    @on(DataTable.RowSelected, "#incidents")
    def _open_incident(self, event: DataTable.RowSelected) -> None:
        from screens.incident import IncidentScreen

        self.app.push_screen(IncidentScreen(str(event.row_key.value)))

    @on(DataTable.RowSelected, "#drafts")
    def _open_draft(self, event: DataTable.RowSelected) -> None:
        self.app.open_draft(str(event.row_key.value))

    def on_screen_resume(self) -> None:
        # the first show follows on_mount, which has just loaded everything
        if self._shown_once:
            self.refresh_data()
        self._shown_once = True


def _cursor_key(table: DataTable) -> str | None:
    if not table.row_count:
        return None
    try:
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
    except Exception:
        return None


def _restore_cursor(table: DataTable, key: str | None) -> None:
    if key is None or not table.row_count:
        return
    try:
        table.move_cursor(row=table.get_row_index(key))
    except Exception:
        table.move_cursor(row=0)

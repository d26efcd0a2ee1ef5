"""ダッシュボード: open incidents and drafts, most urgent first, filtered as you type."""

from __future__ import annotations

import gc
import os
from pathlib import Path

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Input, Label, Static

from csirt_tui.cells import cut, cut_start, fit, narrow
from csirt_tui.draftsave import draft_row
from csirt_tui.errors import DomainError
from csirt_tui.textsafe import one_line
from csirt_tui.views import (DASHBOARD_COLUMNS, RowFilter, dashboard_order, incident_row_cells, phase_column,
                             short_time, summary_cell)
from screens.chrome import DeskHeader, install
from screens.commands import bindings
from screens.footer import DeskFooter
from screens.safe_input import SafeInput

install()  # frames, scroll bars and Select arrows without ambiguous-width characters (screens/chrome.py)

REFRESH_SECONDS = 2.0
STAMP_FOLDERS = ("index", "drafts")  # what the poll fingerprints (store_stamp)
ID_WIDTH = 9  # 番号: 2026-0001; a year past 9,999 incidents (2026-10000) widens it to its longest number
MAX_ROWS = 50  # rows built at once; the filter narrows the rest (10,000 incidents stay fast)
# 全件 of a store with more incidents than this is read on a thread of its own (the rows shown
# meanwhile stay, said to be reading): at 200,000 the first read takes ~10 s, and even with the
# year files' rows kept (Store.list_incidents' keep) ordering them and their searched text ~0.5 s
BACKGROUND_ROWS = 5000


def store_stamp(root: Path, folders: tuple[str, ...] = STAMP_FOLDERS) -> tuple:
    """A cheap fingerprint of the index and the drafts: changes when any process writes.

    Other threads and processes write there while it looks (a draft is written as a
    temporary file, then renamed over the old one): what vanishes between the listing and
    its stat is left out, as is a folder that is not there (a restore moving the store
    aside). Hidden names (temporary files) are not store data and are left out too."""
    stamp = []
    for folder in folders:
        try:
            with os.scandir(root / folder) as listing:
                entries = sorted((e for e in listing if not e.name.startswith(".")), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            try:
                stamp.append((entry.name, entry.stat().st_mtime_ns))
            except OSError:  # gone since the listing
                continue
    return tuple(stamp)


NARROW_WIDTH = 100  # below this many columns the list leaves out 受付日時 and shortens its columns
# at 80 columns: 番号 経過 優先 種別 Lv フェーズ in 48 cells, 概要 gets the other 26 (issue 15: it had none)
COMPACT_COLUMNS = (0, 2, 3, 4, 5, 6, 7)  # of DASHBOARD_COLUMNS: all but 受付日時
COMPACT_HEADS = {"優先度": "優先", "レベル": "Lv"}


def cell(text: str, width: int | None = None) -> Text:
    """User text as a plain cell: never parsed as markup, controls made visible."""
    return Text(one_line(text, width), no_wrap=True, overflow="crop")


STORE_LABEL = "  ストア: "
STORE_PATH_MIN = 12  # cells of the store's path worth showing (「.../csirt」); less: no label


class DashboardScreen(Screen):
    """The first screen: what is open now, and drafts left by an interrupted call."""

    STYLED_BY_DESK_TCSS = True  # its styles are all in assets/desk.tcss (csirt_tui.app: SCREENS_CSS)
    AUTO_FOCUS = "#incidents"  # the list, not the filter (its keys differ: the footer would be built twice)
    # where text goes, said when text is typed on the lists (screens/typed.py): the call being taken
    TYPED_TEXT_HINT = "新しい通報の受付は Ctrl+N、一覧の絞り込みは / で入力してください"
    # The footer shows the keys of the daily work; n (the footer shows Ctrl+N), a and r
    # (the list reloads itself within 2 s of a change) work all the same and are listed
    # with the others in F1 (screens/commands.py); a and r are also commands in Ctrl+P (README: キー操作).
    # Each key shown costs the first paint ~3-4 ms (Textual builds one widget per key).
    KEYS_SCREEN = "dashboard"
    BINDINGS = bindings("dashboard")  # screens/commands.py

    def __init__(self) -> None:
        super().__init__()
        self.show_all = False
        self._stamp: tuple = ()
        self._index_stamp: tuple | None = None  # index/ alone: a change in drafts/ alone reads only the drafts
        self._ticks = 0
        self._rows: list[dict] = []
        self._laid_out_width = -1      # the width the visible rows were laid out for
        self._id_width = ID_WIDTH      # the 番号 column: the longest number among the rows read
        self._shown: list[tuple[str, str]] = []   # (key, text) of the rows in the table
        self._title = ""
        self._shown_once = False
        self._all_rows: list[dict] = []
        self._counts: dict[str, int] | None = None  # _counts(self._all_rows)
        self._status_width: int | None = None  # the width the status line was made for
        self._drafts: list[dict] = []
        self._problem: str | None = None  # the store could not be read: what is wrong, shown on top
        self._drafts_read = False  # the drafts have been read once (the start's notice given)
        self._keep: dict = {}  # 全件: each year file's rows as read (Store.list_incidents' keep)
        self._reading = False  # 全件 being read on its thread (the rows shown are the last read)
        self._read_again: tuple | None = None  # a refresh asked for meanwhile: (select,)

    def compose(self) -> ComposeResult:
        yield DeskHeader()
        with Vertical(id="dash"):
            yield Static("", id="dash-status", markup=False)
            with Horizontal(id="filter-row"):
                yield Label("絞り込み (/):", classes="label")
                yield SafeInput(id="filter", compact=True, placeholder="番号・概要・場所・報告者・種別 (空白区切りで AND)")
            yield Static("対応中のインシデント", id="incidents-title", classes="section-title", markup=False)
            yield DataTable(id="incidents", cursor_type="row", zebra_stripes=True)
            yield Static("下書き (保存前の受付・書きかけのメモや入力)。Enter で開く", classes="section-title",
                         markup=False)
            yield DataTable(id="drafts", cursor_type="row")
        yield DeskFooter()

    def _column_widths(self, compact: bool = False) -> list[int]:
        """Fixed widths from the profile's labels (the summary takes the rest); ``compact``: for
        fewer than NARROW_WIDTH columns, without 受付日時 (COMPACT_COLUMNS)."""
        profile = self.app.store.profile
        longest = lambda labels: max((cell_len(x) for x in labels), default=4)  # noqa: E731
        # type and phase labels can be long (大崎: 「不正行為: 報告・情報の把握・緊急措置」): capped, ...
        types = max(longest(t["label"] for t in profile.incident_types), 6)
        phases = max(longest(phase_column(profile, p["id"]) for p in profile.phases), longest(("トリアージ前",)))
        if compact:
            return [self._id_width, 9, 4, min(types, 10), 2, min(phases, 10)]
        widths = [self._id_width, 11, 10, 6, min(types, 16), 7, min(phases, 14)]
        return [max(w, cell_len(h)) for w, h in zip(widths, DASHBOARD_COLUMNS)]

    def _layout(self, *, again: bool = False) -> None:
        """The columns for the screen's width (the header row too); ``again``: even if the
        width class did not change (the 番号 column's width did)."""
        compact = 0 < self.size.width < NARROW_WIDTH
        if getattr(self, "_compact", None) == compact and not again:
            return
        self._compact = compact
        self._widths = self._column_widths(compact)
        heads = [COMPACT_HEADS.get(DASHBOARD_COLUMNS[i], DASHBOARD_COLUMNS[i]) for i in COMPACT_COLUMNS] \
            if compact else list(DASHBOARD_COLUMNS)
        table = self.query_one("#incidents", DataTable)
        keep = _cursor_key(table)
        table.clear(columns=True)
        table.add_column(self._line(heads, head=True), key="row")
        self._shown = []  # the rows are laid out again
        self._restore_after_layout = keep

    def on_mount(self) -> None:
        # One cell per row, laid out here in fixed-width columns: a filter keystroke
        # repaints one Rich text per visible row instead of eight.
        table = self.query_one("#incidents", DataTable)
        self._layout()
        self.query_one("#drafts", DataTable).add_columns("更新", "操作者", "種類", "いつ・どこで / 対象", "内容")
        self.refresh_data()
        self.set_interval(REFRESH_SECONDS, self._poll)
        # Filter as the value changes, inside the key press, not on the Input.Changed message:
        # that one reaches the screen only after Textual has drawn the typed character, and
        # Textual then waits one to two frames (17-33 ms) before it draws again (the table).
        # This way the character and the filtered table are drawn in the same frame.
        self.watch(self.query_one("#filter", Input), "value", self._filter_changed, init=False)
        table.focus()
        self.call_after_refresh(self.app.freeze_startup_objects)  # after the first paint (and the filter's text)

    def _line(self, cells: list[str], summary: str = "", head: bool = False) -> Text:
        """One dashboard row: user text shown as typed (controls made visible), padded to the columns.
        ``summary``: the row's own summary (the rest of the last cell is the desk's marks).
        The desk's columns are drawn without ambiguous-width characters (「—」 as 「-」: cells.narrow).

        Laid out as one plain string, then one Text (no styles: a Text per cell cost twice as much)."""
        if self._compact and not head:
            cells = [cells[i] for i in COMPACT_COLUMNS]
            cells[4] = cells[4].removeprefix("レベル")  # Lv: 2
        gap = " " if self._compact else "  "
        start = "".join([fit(narrow(one_line(text)), width) + gap for text, width in zip(cells, self._widths)])
        last = one_line(cells[-1]) if head else summary_cell(one_line(cells[-1]), one_line(summary))
        room = max(self.size.width - 6 - cell_len(start), 12)
        return Text(start + cut(last, room), no_wrap=True, overflow="crop")

    def on_resize(self) -> None:
        # rows are laid out for the screen width: lay them out again only when it changed
        self._layout()
        if self._status_width is not None and self._status_width != self.query_one("#dash-status").content_region.width:
            self._update_status()  # (the store's path is cut to the width)
        if self._rows and self.size.width != self._laid_out_width:
            self._fill_incidents(select=getattr(self, "_restore_after_layout", None))

    # ------------------------------------------------------------ data
    def _store_stamp(self) -> tuple:
        return store_stamp(self.app.store.root)

    def _poll(self) -> None:
        # Reload when any process wrote; every 30 s draw the rows read again for the elapsed
        # column, without reading them again (全件 of a 200,000-incident store: ~7 s of this
        # thread each time). A store that could not be read is tried again then.
        self._ticks += 1
        stamp = self._store_stamp()
        if stamp != self._stamp and not self._problem and self._index_stamp == store_stamp(self.app.store.root, ("index",)):
            # drafts/ alone (an autosave here or at another desk): the drafts' table alone. It read
            # the incidents again too: with 全件 shown on a large store, a read of every row and a
            # gc.freeze every 2 s while the operator typed over the list (issue 18)
            self._stamp = stamp
            self._refresh_drafts()
        elif stamp != self._stamp or (self._problem and self._ticks * REFRESH_SECONDS >= 30):
            self.refresh_data()
        elif self._ticks * REFRESH_SECONDS >= 30:
            self._ticks = 0
            self._fill_incidents()
            self._update_status()

    def refresh_data(self, select: str | None = None) -> None:
        store = self.app.store
        self._stamp = self._store_stamp()
        self._index_stamp = store_stamp(store.root, ("index",))
        self._ticks = 0
        if not self.show_all:
            self._keep = {}  # 対応中: open.json alone; the years' rows are not held
        elif self._reading:
            self._read_again = (select,)  # read once more when the read under way ends
            return
        else:
            try:
                large = store.count_incidents() > BACKGROUND_ROWS
            except (DomainError, OSError) as err:
                self._show_problem(err, select)
                return
            if large:
                self._read_in_background(select)
                return
        try:
            data = self._read_store(store, self.show_all, self._keep)
        except (DomainError, OSError) as err:
            self._show_problem(err, select)
            return
        self._show(data, select)

    @staticmethod
    def _read_store(store, all_rows: bool, keep: dict) -> tuple:
        """What the list shows, read from the store: (rows, count, drafts, filter or None,
        counts). The open incidents (one small file) unless 全件 is shown; then every year's
        rows, those of a year file not changed since the last read taken as they were."""
        rows = store.list_incidents(status=None, sort=False, keep=keep) if all_rows \
            else store.list_incidents(status="open", sort=False)
        total = store.count_incidents()
        drafts = store.list_drafts(kind=None)  # intakes, and the text of dialogs not yet on the record
        return rows, total, drafts, None, _counts(rows)

    def _read_in_background(self, select: str | None) -> None:
        """全件 of a large store, read on a thread (the keys are answered meanwhile): the rows,
        their order and their searched text; shown when all is there. The rows shown until then
        are the last read, and the status line says the list is being read."""
        store, profile, app, keep = self.app.store, self.app.store.profile, self.app, self._keep
        kept = getattr(self, "_filter", None)
        self._reading = True
        had = {year: id(rows) for year, rows in keep.items()}
        self._update_status()

        def work() -> None:
            try:
                rows, total, drafts, _, counts = self._read_store(store, True, keep)
                flt = RowFilter(profile, dashboard_order(rows), self._desks(rows), kept=kept)
                flt.prepare()
                # What was read lives until the next read: out of the collector's full passes from
                # now on (gc.freeze; freed as before once no longer referenced). Each full pass
                # walked these ~3 million objects holding the interpreter's lock, 0.7-1.5 s in
                # which the desk's thread waited too (bench/dashboard_stall.py). Only when a year
                # file was read (new rows): a freeze also keeps for good whatever else is alive
                # then and later becomes cyclic garbage (a closed screen's widgets)
                if {year: id(rows) for year, rows in keep.items()} != had:
                    gc.freeze()
            except Exception as err:  # said on the status line as any store problem; never left "reading"
                app.call_from_thread(self._read_done, None, err, select)
            else:
                app.call_from_thread(self._read_done, (rows, total, drafts, flt, counts), None, select)

        self.run_worker(work, thread=True, exit_on_error=False, group="dashboard-all")

    def _read_done(self, data: tuple | None, err: Exception | None, select: str | None) -> None:
        self._reading = False
        again, self._read_again = self._read_again, None
        if not self.show_all:  # 対応中 chosen meanwhile: already shown from open.json
            return
        if err is not None:
            self._show_problem(err, select)
        else:
            self._show(data, select)
        if again is not None or self._store_stamp() != self._stamp:
            self.refresh_data(*(again or (None,)))

    def _show_problem(self, err: Exception, select: str | None) -> None:
        # A file damaged (or removed) while the desk is open: keep showing what was read
        # last, say what is wrong (it names the file and the backup), and keep running.
        problem = one_line(str(err))
        if problem != self._problem:
            self.notify(f"ストアを読めません: {problem}", severity="error", timeout=30, markup=False)
        self._problem = problem
        if not hasattr(self, "_filter"):
            self._make_filter()
            self._fill_incidents(select=select)
        self._update_status()

    def _show(self, data: tuple, select: str | None) -> None:
        rows, total, drafts, flt, counts = data
        self.app.report_set_aside()
        self._problem = None
        # 番号 as wide as the longest number read (a year past 9,999 incidents: 2026-10000),
        # or every such number was cut to 「2026-1...」
        width = counts["id_width"]
        self._counts = counts
        if width != self._id_width:
            self._id_width = width
            self._layout(again=True)
            select = select or self._restore_after_layout
        self._all_rows = rows
        self._total = total
        if flt is not None:
            self._filter = flt
        else:
            self._make_filter()
        self._fill_incidents(select=select)
        self._show_drafts(drafts)

    def _refresh_drafts(self) -> None:
        try:
            drafts = self.app.store.list_drafts(kind=None)
        except (DomainError, OSError) as err:
            self._show_problem(err, None)
            return
        self._show_drafts(drafts)

    def _show_drafts(self, drafts: list[dict]) -> None:
        dtable = self.query_one("#drafts", DataTable)
        keep = _cursor_key(dtable)
        dtable.clear()
        for d in drafts:
            kind, target, text = draft_row(d)
            dtable.add_row(cell(short_time(d.get("updated_at"))), cell(d.get("operator", ""), 12), cell(kind, 8),
                           cell(target, 30), cell(text, 50), key=d["id"])
        _restore_cursor(dtable, keep)
        self._drafts = drafts
        dialogs = sum(1 for d in drafts if d.get("kind", "intake") != "intake")
        first, self._drafts_read = not self._drafts_read, True
        if dialogs and first:  # left by a quit or a crash: said once, at start (easy to miss)
            self.notify(f"書きかけのメモ・入力が {dialogs} 件あります（まだ記録していません）。"
                        "下の下書き一覧で Enter を押すと、その画面で続きを書けます。", title="書きかけ",
                        severity="warning", timeout=8, markup=False)
        self._update_status()

    def _desks(self, rows) -> dict[str, str]:
        """The other desks' names, when a row has another desk's number (read only then)."""
        if not any(r.get("alias") for r in rows):
            return {}
        from csirt_tui.peers import desk_names

        try:
            return desk_names(self.app.store)
        except (DomainError, OSError):  # a damaged exchange.json: verify names it; the numbers are still found
            return {}

    def _make_filter(self) -> None:
        """Order the rows once (priority, then age); the filter keeps that order."""
        rows = self._all_rows if self.show_all else [r for r in self._all_rows if r.get("status") == "open"]
        self._filter = RowFilter(self.app.store.profile, dashboard_order(rows), self._desks(rows),
                                 kept=getattr(self, "_filter", None) if self.show_all else None)
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
        self._laid_out_width = self.size.width
        lines = [(r["id"], self._line(incident_row_cells(profile, r, now), r.get("summary") or "")) for r in self._rows]
        shown = [(key, line.plain) for key, line in lines]
        if shown != self._shown or table.row_count != len(shown):
            keep = select or _cursor_key(table)
            table.clear()
            for key, line in lines:
                table.add_row(line, key=key)
            _restore_cursor(table, keep)
            self._shown = shown
        elif select is not None:
            # the same rows, line for line (a longer query often keeps the first 50): the table
            # is left as it is, so Textual need not draw it again
            _restore_cursor(table, select)
        title = "全インシデント" if self.show_all else "対応中のインシデント"
        if self._matching > MAX_ROWS:
            title += f" (上位 {MAX_ROWS} 件を表示 / 該当 {self._matching:,} 件。絞り込んでください)"
        elif query.strip():
            title += f" (該当 {self._matching:,} 件)"
        if title != self._title:
            # one line high and as wide as the screen whatever it says: no new layout needed
            self.query_one("#incidents-title", Static).update(title, layout=False)
            self._title = title

    def _update_status(self) -> None:
        rows = self._all_rows
        now = self.app.now()
        counts = self._counts or _counts(rows)
        open_n, drills, incomplete = counts["open"], counts["drills"], counts["incomplete"]
        from csirt_tui.roster import review_status

        try:
            overdue = review_status(self.app.store, now).get("overdue")
        except (DomainError, OSError) as err:
            overdue, self._problem = False, self._problem or one_line(str(err))
        review = "  ⚠ 連絡先名簿の見直し時期です (Ctrl+R)" if overdue else ""
        from csirt_tui.reviews import review_due

        try:
            due = review_due(self.app.store, now)
        except (DomainError, OSError) as err:
            due, self._problem = None, self._problem or one_line(str(err))
        if due and due["overdue"]:
            review += "  ⚠ 手順の評価・見直しの時期です (Ctrl+P 手順の評価・見直し)"
        if self._problem:
            review = f"  ⚠ ストアを読めません: {self._problem}" + review
        if self._reading and self.show_all:  # the list is the last read (対応中 only, the first time)
            review = "  全件を読み込み中です (一覧は前回読んだ時点のもの)" + review
        status = (f"{now:%m/%d %H:%M}{review}  対応中 {open_n} 件 (未記入あり {incomplete} 件)"
                  + (f"  【訓練】{drills} 件" if drills else "")
                  # the store's count from open.json (no year file read): drills closed in earlier
                  # years are in it and cannot be told apart without reading them, so it says so
                  + f"  全 {getattr(self, '_total', len(rows)):,} 件 (訓練を含む)"
                  f"  下書き {len(self._drafts)} 件  表示: {'全件' if self.show_all else '対応中のみ'}")
        widget = self.query_one("#dash-status", Static)
        width = widget.content_region.width or self.app.size.width - 2
        self._status_width = width
        # the store's path in what is left of the one line, its end kept (the folder's own name); the
        # label left out when too little is left: it ended the line as 「ストア:」 with its value cut off
        room = width - cell_len(status) - cell_len(STORE_LABEL)
        if room >= STORE_PATH_MIN:
            status += STORE_LABEL + cut_start(narrow(one_line(str(self.app.store.root))), room)
        widget.update(status)

    # ------------------------------------------------------------ actions
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
        self.refresh_data()  # 全件 reads every year's index; 対応中 the open incidents' alone

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "discard_draft":  # x: only in the draft list (the footer shows it there)
            drafts = self.query_one("#drafts", DataTable)
            return drafts.has_focus and drafts.row_count > 0
        return True

    def action_discard_draft(self) -> None:
        """x in the draft list: discard the highlighted draft, after a question (screens/discard.py)."""
        from screens.discard import ask_and_discard

        key = _cursor_key(self.query_one("#drafts", DataTable))
        draft = next((d for d in self._drafts if d["id"] == key), None)
        if draft is not None:
            ask_and_discard(self.app, draft, lambda done: self.refresh_data() if done else None)

    @on(DataTable.RowSelected, "#incidents")
    def _open_incident(self, event: DataTable.RowSelected) -> None:
        from screens.incident import IncidentScreen

        self.app.push_screen(IncidentScreen(str(event.row_key.value)))

    @on(DataTable.RowSelected, "#drafts")
    def _open_draft(self, event: DataTable.RowSelected) -> None:
        draft_id = str(event.row_key.value)
        draft = next((d for d in self._drafts if d["id"] == draft_id), None)
        if draft is not None and draft.get("kind", "intake") != "intake":
            from screens.incident import reopen_draft

            reopen_draft(self.app, draft)  # its dialog, where it was opened: it offers the text back
            return
        self.app.open_draft(draft_id)

    def on_screen_resume(self) -> None:
        # the first show follows on_mount, which has just loaded everything
        if self._shown_once:
            self.refresh_data()
        self._shown_once = True


def _counts(rows: list[dict]) -> dict[str, int]:
    """What the status line and the 番号 column need of every row read, counted once per
    read (全件 on its thread: 200,000 rows walked four times took ~0.1 s of the desk's thread).
    Drills (訓練) are never counted with real incidents: said apart."""
    opened = [r for r in rows if r.get("status") == "open"]
    return {"open": sum(1 for r in opened if not r.get("drill")),
            "drills": sum(1 for r in opened if r.get("drill")),
            "incomplete": sum(1 for r in opened if r.get("missing") and not r.get("drill")),
            "id_width": max([ID_WIDTH, *(len(r["id"]) for r in rows)])}


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

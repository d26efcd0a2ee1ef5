"""時系列の記録: every entry of an incident in time order, append-only.

One key adds a note (its time defaults to now and may be set earlier with the
time parser: the entry keeps both times); a correction is a new entry linked
to the one it corrects, and the two are shown together. The hash-chain status
is the same check as ``csirt-desk verify``.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Input, Label, Static, TextArea

from csirt_tui.cells import narrow, narrow_labels
from csirt_tui.errors import DomainError
from csirt_tui.model import KINDS, TimelineEntry
from csirt_tui.textsafe import one_line, printable
from csirt_tui.timeparse import TimeParseError, format_preview, parse_time, to_iso
from csirt_tui.views import intake_labels, recorded_apart, short_time
from screens.form import DraftedDialog, DraftKey, DraftStatus, PickerScreen, SafeInput, SafeTextArea
from screens.chrome import DeskHeader, SteadyStatic
from screens.commands import bindings
from screens.footer import DeskFooter
from screens.opening import StyledAtMount

SHOWN = 100  # newest entries drawn at once ("m" shows 100 more): 5,000 entries open fast
DETAIL_LINES = 200      # of one entry drawn in the detail: a 1.4 MB paste (30,000 lines) took 20 s
DETAIL_CHARS = 20_000   # to draw, every line wrapped again at each scroll, keys held meanwhile
ROW_CHARS = 300         # of an entry's text in its list row (one line, cut by the table's width)
ALL = "__all__"
WATCH_SECONDS = 2.0  # how often an open record looks for other writers' entries


class NoteScreen(DraftedDialog):
    """Add a note, or a correction of an entry. ``save({text, when})`` puts it on the record
    while the dialog is open (it stays, with the text, if that fails); returns {text, when}
    and what ``save`` returned (``entry``), or None. ``draft``: the text is a draft while typed."""

    KEYS_SCREEN = "form"
    BINDINGS = bindings("form", only=("submit", "cancel"), rename={"submit": "save"})  # screens/commands.py
    DRAFT_WHAT = "メモ"
    DEFAULT_CSS = "NoteScreen #note-box { max-width: 100%; }"  # 90 columns wide: an 80-column terminal too

    def __init__(self, title: str, original: TimelineEntry | None = None, *, save=None,
                 draft: DraftKey | None = None) -> None:
        super().__init__(draft)
        self.title_text = title
        self.original = original
        self.save = save
        if original is not None:
            self.DRAFT_WHAT = "訂正"

    def compose(self) -> ComposeResult:
        with Vertical(id="note-box"):
            yield Label(self.title_text, classes="saved-title", markup=False)
            yield DraftStatus(id="draft-status")
            if self.original is not None:  # the 受付 entry's item labels (①…) drawn one-width
                text = narrow_labels(self.original.text, intake_labels(self.app.store.profile))
                yield Static(printable(f"#{self.original.seq} {short_time(self.original.when)} "
                                       f"[{self.original.kind_label}] {text}"),
                             classes="original", markup=False)
            yield SafeTextArea(id="note-text", soft_wrap=True, tab_behavior="focus")
            with Horizontal(classes="row"):
                yield Label("いつ", classes="label")
                yield SafeInput("今", id="note-when", compact=True)
            yield Static("", id="note-when-preview", classes="preview", markup=False)
            yield Static("Ctrl+S 記録   Esc やめる   (入力は自動で下書きに保存)", classes="hint", markup=False)

    def on_mount(self) -> None:
        self._preview()
        self.query_one("#note-text", TextArea).focus()
        self.start_drafts()

    @on(Input.Changed, "#note-when")
    def _preview(self) -> None:
        text = self.query_one("#note-when", Input).value
        target = self.query_one("#note-when-preview", Static)
        try:
            target.update("-> " + format_preview(parse_time(text, self.app.now())))
        except TimeParseError as err:
            target.update("✘ " + one_line(str(err)))

    # the draft (DraftedDialog)
    def draft_values(self) -> dict[str, Any]:
        return {"text": self.query_one("#note-text", TextArea).text,
                "when": self.query_one("#note-when", Input).value}

    def load_draft_values(self, values: dict[str, Any]) -> None:
        area = self.query_one("#note-text", TextArea)
        area.text = values.get("text") or ""
        area.move_cursor(area.document.end)
        self.query_one("#note-when", Input).value = values.get("when") or "今"

    def draft_fields(self) -> list[tuple[str, Any]]:
        values = self.draft_values()
        fields = [("内容", values["text"]), ("いつ", values["when"])]
        if self.original is not None:
            fields.insert(0, ("訂正する記録", f"#{self.original.seq} {self.original.text}"))
        return fields

    def draft_title(self) -> str:
        return self.title_text

    def draft_time_keys(self) -> tuple[str, ...]:
        return ("when",)

    def action_save(self) -> None:
        text = self.query_one("#note-text", TextArea).text
        # one such toast at a time (Ctrl+S again replaces it), taken back when the note is saved
        timeout = self.app.NOTIFICATION_TIMEOUT
        if not text.strip():
            self._say_unsaved("内容を入力してください", "", "error", timeout)
            return
        when_text = self.query_one("#note-when", Input).value
        try:
            when = parse_time(when_text, self.app.now())
        except TimeParseError as err:
            self._say_unsaved(one_line(str(err)), "", "error", timeout)
            return
        result: dict[str, Any] = {"text": text, "when": when}
        self.record_and_return(self.save, result, result)


class TimelineScreen(StyledAtMount, Screen):
    KEYS_SCREEN = "timeline"
    BINDINGS = bindings("timeline")  # screens/commands.py
    AUTO_FOCUS = "#entries"  # the list (Textual focused the search field first, then on_mount the list)

    def __init__(self, incident_id: str, reopen: str | None = None) -> None:
        super().__init__()
        self.incident_id = incident_id
        self._reopen = reopen  # a dialog to open once shown (a draft chosen on the dashboard)
        self.limit = SHOWN
        self.entries: list[TimelineEntry] = []
        self.kind = ALL
        self.total = 0
        self._complete = False
        self._labels: tuple[str, ...] = ()  # the 受付 entry's item labels, drawn one-width (cells.narrow_labels)

    def compose(self) -> ComposeResult:
        yield DeskHeader()
        yield Static("", id="timeline-heading", markup=False)
        with Horizontal(id="timeline-filters"):
            yield Static("種類: すべて (k)", id="kind", markup=False)
            yield SafeInput(id="search", placeholder="記録を検索 (/)", compact=True)
        yield DataTable(id="entries", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="entry-detail"):
            yield SteadyStatic("", id="detail", markup=False)
        yield DeskFooter()

    def on_mount(self) -> None:
        self._labels = intake_labels(self.app.store.profile)
        self.query_one("#entries", DataTable).add_column("記録", key="row")
        self.action_reload()
        self.set_interval(WATCH_SECONDS, self._watch)
        if self._reopen:
            self.call_after_refresh(self.reopen, self._reopen)

    def _watch(self) -> None:
        """Another desk (or the CLI) appended to this record: show it."""
        if self.app.store.incident_stamp(self.incident_id) != self._stamp:
            self.action_reload()

    # ------------------------------------------------------------ data
    def action_reload(self) -> None:
        # First paint from the newest entries only (the last segments); the whole record,
        # needed by the filters, is read right after, and the chain check runs in a worker.
        self._stamp = self.app.store.incident_stamp(self.incident_id)
        try:
            self.entries, self.total = self.app.store.timeline_tail(self.incident_id, self.limit)
        except DomainError as err:
            self.query_one("#timeline-heading", Static).update(str(err))
            return
        self._complete = len(self.entries) >= self.total
        self._index_corrections()
        self._fill()
        self._set_heading("ハッシュチェーン検査中...")
        self.call_after_refresh(lambda: self.run_worker(self._load_all, thread=True, exclusive=True,
                                                        group="load", exit_on_error=False))

    def _load_all(self) -> None:
        """Worker: read the whole record (for the filters), then check the chain."""
        if not self._complete:
            entries = self.app.store.timeline(self.incident_id)
            self.app.call_from_thread(self._apply_all, entries)
        self._check_chain()

    def _apply_all(self, entries: list[TimelineEntry]) -> None:
        self.entries = entries
        self._complete = True
        self._index_corrections()
        self._fill()

    def _index_corrections(self) -> None:
        self._corrected_by: dict[int, list[int]] = {}
        for e in self.entries:
            if e.corrects:
                self._corrected_by.setdefault(e.corrects, []).append(e.seq)

    def _check_chain(self) -> None:
        report = self.app.store.verify_incident(self.incident_id)
        status = ("✔ ハッシュチェーン正常 (verify と同じ検査)" if report.ok
                  else "✘ " + narrow(one_line(report.problems[0])))  # the desk's words: its 「…」 after a hash
        self.app.call_from_thread(self._set_heading, status)

    def _set_heading(self, chain: str) -> None:
        from csirt_tui.drill import DRILL_MARK, is_drill

        mark = DRILL_MARK if self._complete and is_drill(self.entries) else ""
        self.query_one("#timeline-heading", Static).update(
            printable(f"{mark}記録 {self.incident_id}  {self.total} 件  {chain}"))

    def _matching(self) -> list[TimelineEntry]:
        kind = self.kind
        words = self.query_one("#search", Input).value.casefold().split()
        out = []
        for e in self.entries:
            if kind != ALL and e.kind != kind:
                continue
            if words:
                hay = f"{e.text} {e.operator} {e.kind_label}".casefold()
                if not all(w in hay for w in words):
                    continue
            out.append(e)
        return out

    def _line(self, e: TimelineEntry) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"#{e.seq:<4} ", style="dim")
        line.append(short_time(e.when))
        line.append(recorded_apart(e), style="dim")
        line.append(f"  {one_line(e.operator, 12)}  ")
        line.append(f"[{e.kind_label}]", style="bold")
        if e.corrects:
            line.append(f" #{e.corrects}の訂正", style="bold yellow")
        if e.seq in self._corrected_by:
            line.append(" 訂正あり->" + ",".join(f"#{s}" for s in self._corrected_by[e.seq]), style="yellow")
        line.append("  " + one_line(narrow_labels(e.text[:ROW_CHARS], self._labels)))
        return line

    def _fill(self) -> None:
        table = self.query_one("#entries", DataTable)
        # Keep the operator's place; one on the newest row follows new entries (like tail -f).
        keep = table.cursor_row if table.row_count and table.cursor_row < table.row_count - 1 else None
        table.clear()
        matching = self._matching()
        shown = matching[-self.limit:]
        for e in shown:
            table.add_row(self._line(e), key=str(e.seq))
        hidden = len(matching) - len(shown)
        table.border_subtitle = f"古い {hidden} 件は m で表示" if hidden else ""
        if shown:
            table.move_cursor(row=len(shown) - 1 if keep is None else min(keep, len(shown) - 1))
        self._show_detail()

    @on(DataTable.RowHighlighted, "#entries")
    def _show_detail(self, event=None) -> None:
        table = self.query_one("#entries", DataTable)
        detail = self.query_one("#detail", Static)
        if not table.row_count:
            detail.update("該当する記録はありません。")
            return
        try:
            seq = int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        except Exception:
            return
        by_seq = {e.seq: e for e in self.entries}
        e = by_seq[seq]
        parts = [self._detail_text(e)]
        if e.corrects and e.corrects in by_seq:
            parts.append("-- 訂正前の記録 --\n" + self._detail_text(by_seq[e.corrects]))
        for s in self._corrected_by.get(e.seq, []):
            parts.append("-- この記録の訂正 --\n" + self._detail_text(by_seq[s]))
        detail.update(printable("\n".join(parts)))

    def _detail_text(self, e: TimelineEntry) -> str:
        when = f"{short_time(e.when)}" + recorded_apart(e)
        return f"#{e.seq} {when} {e.operator} [{e.kind_label}]\n{self._first_part(e.text)}\n"

    def _first_part(self, text: str) -> str:
        """The entry's text, or its first DETAIL_LINES lines (DETAIL_CHARS characters) and how
        long it is whole and where to read it all (the record keeps every character)."""
        lines = text.split("\n", DETAIL_LINES)
        part = "\n".join(lines[:DETAIL_LINES])[:DETAIL_CHARS]
        if len(part) == len(text):
            return narrow_labels(text, self._labels)
        return (narrow_labels(part, self._labels) +
                f"\n（長い記録のため、ここまでの {len(part):,} 字だけを表示しています。全体は {text.count(chr(10)) + 1:,} 行・"
                f"{len(text):,} 字で、すべて記録に残っています。全文は csirt-desk show {self.incident_id} で表示できます）")

    # ------------------------------------------------------------ filters
    @on(Input.Changed, "#search")
    def _filter_changed(self) -> None:
        self._fill()

    def set_kind(self, kind: str | None) -> None:
        if kind is None:
            return
        self.kind = kind
        label = "すべて" if kind == ALL else KINDS.get(kind, kind)
        self.query_one("#kind", Static).update(f"種類: {label} (k)")
        self._fill()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.query_one("#entries", DataTable).focus()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_kind(self) -> None:
        choices = [("すべての種類", ALL)] + [(label, kind) for kind, label in KINDS.items()]
        self.app.push_screen(PickerScreen(choices, "記録の種類", self.kind), self.set_kind)

    def action_more(self) -> None:
        self.limit += SHOWN
        self._fill()

    def action_leave(self) -> None:
        search = self.query_one("#search", Input)
        if search.has_focus and search.value:
            search.value = ""
            self.query_one("#entries", DataTable).focus()
            return
        self.app.pop_screen()

    # ------------------------------------------------------------ writing
    def action_note(self) -> None:
        self.app.push_screen(NoteScreen(f"メモを追加 ({self.incident_id})", save=self._append,
                                        draft=DraftKey("note", self.incident_id, "note", "timeline")),
                             self._saved)

    def action_correct(self) -> None:
        table = self.query_one("#entries", DataTable)
        if not table.row_count:
            return
        self.correct(int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))

    def correct(self, seq: int) -> None:
        original = next((e for e in self.entries if e.seq == seq), None)
        if original is None:  # not among the entries read yet (an old one): read the whole record
            original = next((e for e in self.app.store.timeline(self.incident_id) if e.seq == seq), None)
        if original is None:
            self.notify(f"#{seq} の記録が見つかりません", severity="error", markup=False)
            return
        self.app.push_screen(NoteScreen(f"#{seq} の訂正 (元の記録は残ります)", original,
                                        save=lambda result: self._append(result, corrects=seq),
                                        draft=DraftKey("note", self.incident_id, f"correction:{seq}", "timeline")),
                             self._saved)

    def reopen(self, dialog: str) -> None:
        """Open the dialog a draft belongs to (the dashboard's list of drafts): it offers the text."""
        if dialog == "note":
            self.action_note()
        elif dialog.startswith("correction:") and dialog.split(":", 1)[1].isdigit():
            self.correct(int(dialog.split(":", 1)[1]))

    def _append(self, result: dict[str, Any], corrects: int | None = None):
        """Put the note on the record (raises when it cannot: the dialog stays open)."""
        now = self.app.now()
        when = result["when"]
        occurred = to_iso(when) if abs((now - when).total_seconds()) >= 60 else None
        return self.app.store.append(
            self.incident_id, "correction" if corrects else "note", result["text"],
            operator=self.app.operator, occurred_at=occurred, corrects=corrects)

    def _saved(self, result: dict[str, Any] | None) -> None:
        if not result or result.get("entry") is None:
            return
        entry = result["entry"]
        self.notify(f"{entry.id} を記録しました", markup=False)
        self.limit = max(self.limit, SHOWN)
        self.action_reload()
        table = self.query_one("#entries", DataTable)
        try:
            table.move_cursor(row=table.get_row_index(str(entry.seq)))
        except Exception:
            pass

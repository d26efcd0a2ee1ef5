"""Modal forms and what keeps their text: a form built from field specs (the tracker's
and the roster's actions), the autosave every screen with typed text uses, and what
such a screen offers when the store cannot take its text.

Every value comes back exactly as typed; times are parsed for the preview and
returned both as typed and as ISO. Ctrl+S records, Esc asks before it discards.

Drafts (issue 14, defects 3 and 4): what an operator types on a call must never be
lost. :class:`DraftKeeper` writes a screen's fields as a draft within
``SAVE_DELAY`` of a change (``Store.save_draft``, in a worker thread: typing never
waits for the disk), and knows where the text is: on disk, or (a full disk) only
on the screen, or an older draft on disk. A dialog (:class:`DraftedDialog`) closes
its draft once the text is on the record, or when the operator discards it (Esc,
then Esc again); opened again for the same incident it offers the draft back
(:class:`DraftOfferScreen`), after a crash too. A screen whose text is on no disk
does not close; :class:`KeepTextScreen` (Ctrl+O) writes the text, each field
labelled, to a file in another folder, or copies it to the clipboard.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from rich.cells import cell_len
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.document._document import Document
from textual.document._document_navigator import DocumentNavigator
from textual.document._wrapped_document import WrappedDocument
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from csirt_tui.draftsave import (busy_holder, busy_line, continued_text, default_copy_path, dialog_drafts, draft_text,
                                 plain_problem, render_text, save_copy)
from csirt_tui.errors import DomainError, StoreBusyError, TargetExistsError
from csirt_tui.cells import narrow
from csirt_tui.textsafe import control_pictures, one_line, printable
from csirt_tui.timeparse import TimeParseError, format_preview, parse_time, to_iso
from csirt_tui.views import short_time
from screens.safe_input import SafeInput, typed_text
from screens.opening import StyledAtMount
from screens.select import LazySelect
from screens.commands import bindings

_CRLF = re.compile(r"\r\n|\r|\n")

SAVE_DELAY = 0.25        # seconds from the first unsaved change to the draft write (goal: ≤ 0.5 s)
RETRY_SECONDS = 2.0      # a draft the disk refused is tried again this often, until it is on disk
ESC_AGAIN_SECONDS = 4.0  # a dialog's typed text is discarded by a second Esc within this
UI_WAIT = 1.0           # seconds the desk's own thread waits for a draft's locks in all, without a brief wait
BUSY = "ストアを使用中の処理があります（取り込みなど）。終わりしだい保存します"
# the screen thread's short wait ran out on this desk's own draft write (a slow disk), not on another window
WRITING = "この画面の下書きを書き込んでいる途中です（ディスクの応答が遅れています）。書き終わりしだい続きも保存します"
CLOSE_TRIES = 150        # a draft that could not be marked saved is tried again (RETRY_SECONDS apart)
FREE_CHECK = 1.0         # seconds between looks at whether a busy store is free again (StoreWait)


# Entry fields that keep what is typed or pasted but never pass a control
# character to the terminal: SafeInput (screens/safe_input.py, light enough for
# the dashboard's first paint) and SafeTextArea here.


class _BreaksAreCRLF(str):
    """A text whose lines break at CR, LF and CRLF only. Textual's Document splits with
    ``str.splitlines``, which also breaks at VT, FF, U+001C-U+001E, U+0085, U+2028 and
    U+2029: a typed or pasted U+2028 became a line break, and a trailing one was dropped
    (issue 14, defect 11). Those are characters of the text, kept as they are."""

    def splitlines(self, keepends: bool = False) -> list[str]:  # Document never asks for keepends
        parts = _CRLF.split(self)
        if parts[-1] == "":  # "a\n" is one line, "" none: as str.splitlines counts them
            parts.pop()
        return parts


class PlainDocument(Document):
    """Textual's Document with line breaks at CR, LF and CRLF only (see _BreaksAreCRLF)."""

    def __init__(self, text: str) -> None:
        super().__init__(_BreaksAreCRLF(text))

    def replace_range(self, start, end, text: str):
        return super().replace_range(start, end, _BreaksAreCRLF(text))


class SafeTextArea(TextArea):
    """A multi-line field, shown with control characters as symbols (tabs are laid
    out by the TextArea). The text is kept as typed or pasted: its lines break at
    CR, LF and CRLF only (PlainDocument); a typed joiner, direction mark, BOM, tag
    character or line separator is text, as it is when pasted (SafeInput does the same)."""

    SHOWS_CONTROLS_AS_SYMBOLS = True  # a paste is given to it as it is (csirt_tui.app: on_event)

    def _set_document(self, text: str, language: str | None) -> None:
        super()._set_document(text, language)
        if type(self.document) is Document:  # plain text (no syntax highlighting): keep every character
            self.document = PlainDocument(text)
            self.wrapped_document = WrappedDocument(self.document, tab_width=self.indent_width)
            self.navigator = DocumentNavigator(self.wrapped_document)
            self._build_highlight_map()
            self.move_cursor((0, 0))

    def _watch_language(self, language: str | None) -> None:
        """TextArea's __init__ sets its language (None) right after it has made the document for
        it, and Textual made it all again at that (always_update): not for a plain text that is
        a PlainDocument already (six memos of the step form: ~3 ms of its opening)."""
        if language is None and type(self.document) is PlainDocument and not self.is_mounted:
            return
        super()._watch_language(language)

    async def _on_key(self, event: events.Key) -> None:
        ch = typed_text(event)
        if ch is None or self.read_only:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        self._restart_blink()
        self._replace_via_keyboard(ch, *self.selection)

    def get_line(self, line_index: int) -> Text:
        return Text(control_pictures(self.document.get_line(line_index), keep="\t"), end="", no_wrap=True)


# ---------------------------------------------------------------------------
# Drafts


def new_draft_id(now: datetime, prefix: str = "") -> str:
    return f"{prefix}{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def _when(iso: str | None) -> str:
    """A draft's time, one unbroken word (a line is not wrapped inside it): 12月02日07:05."""
    try:
        return f"{datetime.fromisoformat(iso):%m月%d日%H:%M}" if iso else ""
    except ValueError:
        return ""


class DraftBeingWritten(StoreBusyError):
    """A draft could not be closed within the screen thread's short wait because this desk's own
    autosave of it is still being written (a slow disk): not a store held by another window."""


class DraftKeeper:
    """The autosave of one screen's fields as a draft, and the truth about where they are.

    ``snapshot()`` reads the fields now (the draft's data); ``blank(data)`` says nothing
    worth keeping was typed (no draft is made for it). Only the store's draft API is used.
    A write the disk refuses is said once, shown by the screen (``on_change``) and tried
    again every ``RETRY_SECONDS`` until the text is on disk; its recovery is said too.
    """

    def __init__(self, screen, snapshot: Callable[[], dict[str, Any]], *, blank: Callable[[dict[str, Any]], bool],
                 kind: str = "intake", incident: str | None = None, draft: dict[str, Any] | None = None,
                 on_change: Callable[[], None] | None = None, delay: Callable[[], float] | None = None) -> None:
        self.screen = screen
        self.snapshot = snapshot
        self.blank = blank
        self.kind = kind
        self.incident = incident
        self.on_change = on_change
        self.delay = delay or (lambda: SAVE_DELAY)
        self.draft_id: str | None = None
        self.ever_written = False  # a draft of this screen is on disk (an older one, perhaps)
        self.written_at = ""       # when the newest write that succeeded was made
        self._disk: dict[str, Any] | None = None  # what that write holds
        self.problem: str | None = None  # why the newest write failed (None: it did not)
        self.copied_to: tuple[str, dict[str, Any]] | None = None  # a file the operator saved the text to
        self.closed = False
        self.detached = False  # the screen has left (no more fields to read)
        self.continued: dict[str, Any] | None = None  # the draft closed elsewhere this one goes on from (unsaid)
        self._timer = None
        self._retry = None
        self._seq = 0      # snapshots handed to a write
        self._written = 0  # the newest of them on disk
        self._reported = False
        self._lock = threading.Lock()
        self._ui: int | None = None
        self._when_written: list[Callable[[], None]] = []  # keys that act once a write under way is done
        self._behind = False  # a worker's write is under way (started, not finished)
        self._close_pending: Callable[[], None] | None = None  # close_later's try, when it had to wait
        if draft:
            self.adopt(draft)

    def start(self) -> None:
        """On mount: the store, the operator and the UI thread; a new draft id if none."""
        app = self.screen.app
        self.app, self.store, self.operator = app, app.store, app.operator
        self._ui = threading.get_ident()
        if self.draft_id is None:
            self.draft_id = new_draft_id(app.now(), "" if self.kind == "intake" else f"{self.kind}-")

    def adopt(self, draft: dict[str, Any]) -> None:
        """Go on with ``draft`` (resumed): it is on disk as it is."""
        self.draft_id = draft["id"]
        self._disk = draft.get("data") or {}
        self.ever_written = True
        self.written_at = _when(draft.get("updated_at"))
        self._seq = self._written = 0

    # -------------------------------------------------------------- writing
    def changed(self) -> None:
        """A field changed: write the draft within the delay (one timer for a burst of keys)."""
        if not self.closed and self._timer is None:
            self._timer = self.screen.set_timer(self.delay(), self._flush)

    def _due(self, snap: dict[str, Any]) -> bool:
        if self.closed:
            return False
        if snap == self._disk and self._written == self._seq:
            return False  # on disk, and no other write on its way
        return self.ever_written or not self.blank(snap)

    def _flush(self) -> None:
        """Snapshot the fields now and write them in a worker thread."""
        self._timer = None
        if self.closed or self.detached:
            return
        if self._behind:  # one write at a time: once it is done, what is newer is written (_after_write)
            return
        snap = self._read_fields()
        if snap is None or not self._due(snap):
            return
        self._seq += 1
        seq = self._seq
        self._behind = True
        self.screen.run_worker(lambda: self._write(seq, snap), thread=True, group="draft", exit_on_error=False)

    def _read_fields(self) -> dict[str, Any] | None:
        """The snapshot, or None when the screen's fields are gone: the desk quit while the screen
        was being built or taken down (a clean-clone CI run: a timer's write found no '#channel' on the
        intake form made ahead). Nothing is on screen to read then; what was typed into it was
        written when it left (``flush_now``)."""
        try:
            return self.snapshot()
        except NoMatches:
            return None

    def _write(self, seq: int, snap: dict[str, Any], report: bool = True) -> str | None:
        """Write ``snap`` unless a newer snapshot is on disk or the draft is closed. Returns
        what went wrong if it could not be written."""
        left = self._ui_time()
        on_ui = left is not None
        if not on_ui:
            try:
                return self._write_held(seq, snap, report, left)
            finally:
                self._behind = False
        return self._write_held(seq, snap, report, left)

    def _write_held(self, seq: int, snap: dict[str, Any], report: bool, left: Callable[[], float] | None) -> str | None:
        on_ui = left is not None
        # The desk's own thread (Esc, Ctrl+S, Ctrl+Q) never waits long: not for a write of a worker
        # (which may be waiting for the drafts' lock), nor for the drafts' lock, all in all no
        # longer than its brief wait (it waited 1 s for the one, then 2 s for the other)
        if not self._lock.acquire(timeout=left() if on_ui else -1):
            self.problem = problem = self._busy()
            self._on_ui(self._after_write, report)
            return problem
        overtaken = False
        try:
            if self.closed or seq <= self._written:  # overtaken by a newer write (the screen thread's)
                overtaken = True
                return None
            try:
                written = self.store.save_draft(self.draft_id, snap, operator=self.operator, kind=self.kind,
                                                incident=self.incident, wait=left() if on_ui else True)
                if written != self.draft_id:  # closed elsewhere meanwhile: the text went on in a new draft
                    self.continued = self.store.load_draft(written).get("continues") or {"id": self.draft_id}
                    self.draft_id = written
            except StoreBusyError:
                self.problem = problem = self._busy()
            except (DomainError, OSError) as err:
                self.problem = problem = plain_problem(err, self.store.root / "drafts")
            else:
                self._written, self._disk, self.ever_written = seq, snap, True
                self.written_at = f"{self.app.now():%H:%M:%S}"
                self.problem = problem = None
        finally:
            self._lock.release()
            if overtaken and not on_ui:  # the keys typed meanwhile were left to this write (_flush,
                self._behind = False     # _behind): _after_write writes what is newer than the disk
                self._on_ui(self._after_write, report)
        if not on_ui:
            self._behind = False  # (before _after_write: the write it sets for what is newer may start)
        self._on_ui(self._after_write, report)  # never under the lock: the UI thread may be waiting for it
        return problem

    def _busy(self) -> str:
        """Why a write found the locks taken: this desk's own draft write under way (a thread of
        this process holds the drafts' lock: a slow disk), or another window's use of the store."""
        return WRITING if self.store.drafts_written_here() else BUSY

    def writing_behind(self) -> bool:
        """The newest write tried found this desk's own draft write under way (WRITING), and it has
        not finished since: a key that needs the text on disk can act once it has (when_written)."""
        return self.problem == WRITING

    def when_written(self, act: Callable[[], None]) -> None:
        """Run ``act`` on the screen's thread once the write under way has finished (written or
        refused: ``act`` looks again). Esc and Ctrl+Q on a slow disk: they were refused as if the
        store were busy (「ストアを使用中の処理があります（取り込みなど）」) after a short wait
        for this very draft's autosave; now they act once it is written."""
        if act not in self._when_written:
            self._when_written.append(act)

    def _ui_time(self) -> Callable[[], float] | None:
        """On the desk's screen thread: what is left (seconds) of the time one write (or close) may
        wait for locks in all, the store's brief wait (Store.wait_briefly; UI_WAIT without one).
        None on a worker: it waits as long as the store says."""
        if threading.get_ident() != self._ui:
            return None
        brief = self.store.brief_wait()
        end = time.monotonic() + (UI_WAIT if brief is None else brief)
        return lambda: max(0.0, end - time.monotonic())

    def flush_now(self, *, report: bool = True) -> str | None:
        """Write the fields as they are now, synchronously (leaving, saving, the desk closing),
        unless they are on disk already. Read from the fields, not from a change flag: a field's
        Changed message may still be on its way. Returns what went wrong, if it could not."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.detached:
            return None
        snap = self._read_fields()
        if snap is None or not self._due(snap):
            return None
        self._seq += 1
        return self._write(self._seq, snap, report)

    def _on_ui(self, fn, *args) -> None:
        if threading.get_ident() == self._ui:
            fn(*args)
            return
        try:
            self.app.call_from_thread(fn, *args)
        except RuntimeError:  # the desk has closed meanwhile
            pass

    def _after_write(self, report: bool) -> None:
        if self.closed or self.detached:  # recorded or left while a key waited for this write:
            if self._close_pending is not None:  # the close refused meanwhile (this write held the
                self._close_pending()            # lock) is done now, not up to 2 s later: a Ctrl+Q
            self._written_now()  # waiting quits next (the key acts and looks again), the draft closed
            return
        if self.continued is not None:
            self.app.notify(continued_text(self.continued, self.draft_id), title="下書き", severity="warning",
                            timeout=12, markup=False)
            self.continued = None
        if self.problem and not self._reported and report:
            self._reported = True
            self.app.notify(f"下書きを保存できません: {self.problem}\nCtrl+O で別の場所に保存・コピーできます。",
                            title="入力は保存されていません", severity="error", timeout=8, markup=False)
        elif not self.problem and self._reported:
            self._reported = False
            self.app.notify(f"下書きを保存しました ({self.written_at})。ディスクに書けるようになりました。",
                            title="下書き", markup=False)
        if self._retry is None and not self.on_disk():
            self._retry = self.screen.set_timer(RETRY_SECONDS if self.problem else self.delay(), self._try_again)
        if self.on_change is not None:
            self.on_change()
        if not self.writing_behind():  # the write under way is done
            self._written_now()

    def _written_now(self) -> None:
        """Run the keys that waited for the write under way (when_written), each once."""
        acts, self._when_written = self._when_written, []
        for act in acts:
            act()

    def _try_again(self) -> None:
        self._retry = None
        if not (self.closed or self.detached):
            self._flush()

    # -------------------------------------------------------------- where the text is
    def on_disk(self) -> bool:
        """The fields as they are now are the draft on disk (or nothing worth keeping was typed)."""
        snap = self.snapshot()
        if snap == self._disk and self._written == self._seq:
            return True
        return not self.ever_written and self.blank(snap)

    def safe(self) -> bool:
        """The screen may close: its text is on disk, in the store or in the operator's own file."""
        return self.on_disk() or (self.copied_to is not None and self.copied_to[1] == self.snapshot())

    def where_text(self) -> str:
        """Where the typed text is, in plain words that are true (empty: nothing to say)."""
        snap = self.snapshot()
        if snap == self._disk and self._written == self._seq:
            return f"入力は下書きに保存しました ({self.written_at})。" if self.written_at else "入力は下書きにあります。"
        if not self.ever_written and self.blank(snap):
            return ""
        if self.copied_to is not None and self.copied_to[1] == snap:
            return (f"入力は {self.copied_to[0]} に保存しました。ストアの下書きには保存できていません"
                    + (f"（{self.problem}）。" if self.problem else "。"))
        if not self.problem:
            return ""  # being written (within a fraction of a second)
        if self.ever_written:
            where = (f"{self.written_at} までの入力は下書きにあります。それ以降の入力はこの画面にだけあります"
                     if self.written_at else "前の下書きはありますが、最新の入力はこの画面にだけあります")
        else:
            where = "入力は保存されていません。この画面にだけあります"
        return f"{where}。{self.problem}。"

    # -------------------------------------------------------------- closing
    def _write_as_discarded(self, left: Callable[[], float] | None) -> None:
        """(Under the lock, in close.) What the dialog holds now, written before its draft is marked
        discarded: the discarded draft keeps all of it, not the text of the last autosave (the
        characters typed just before Esc Esc were missing from the record of what was given up).
        StoreBusyError goes to close, which refuses the discard."""
        snap = None if self.detached else self._read_fields()
        if snap is None or not self._due(snap):
            return
        self._seq += 1
        written = self.store.save_draft(self.draft_id, snap, operator=self.operator, kind=self.kind,
                                        incident=self.incident, wait=left() if left is not None else True)
        self.draft_id = written  # (closed elsewhere meanwhile: the text is in a new draft, discarded now)
        self._written, self._disk, self.ever_written = self._seq, snap, True

    def close(self, status: str = "saved", incident_id: str | None = None) -> str | None:
        """The text is on the record (``saved``) or given up (``discarded``): no more writes, and
        the draft, if one was written, is marked so (its text stays in the file). A refusal is
        tried again in the background; returns what went wrong.

        A discard the store refuses as busy (another window's restore holds the drafts' lock:
        StoreBusyError, within the screen thread's brief wait) is not done: the keeper goes on
        keeping the text, and the error is raised for the screen to say (the operator discards
        again once the store is free). A draft kept open by a discard tried later behind the
        screen would be discarded after the operator had perhaps typed on, or not at all."""
        for timer in (self._timer, self._retry):
            if timer is not None:
                timer.stop()
        self._timer = self._retry = None
        busy: StoreBusyError | None = None
        problem: str | None = None
        # the desk's own thread waits for a worker's write under way a moment only: that write may
        # itself wait for the drafts (another window's restore holds them), as long as the store says;
        # the keeper's lock and the drafts' together no longer than the thread's brief wait
        left = self._ui_time()
        if self._lock.acquire(timeout=left() if left is not None else -1):
            try:
                if status == "discarded":
                    self._write_as_discarded(left)
                self.closed = True
                if not self.ever_written:
                    return None
                self.store.close_draft(self.draft_id, status=status, incident_id=incident_id or self.incident,
                                       operator=self.operator, wait=left() if left is not None else True)
                return None
            except StoreBusyError as err:
                busy = err
            except (DomainError, OSError) as err:
                problem = plain_problem(err, self.store.root / "drafts")
            finally:
                self._lock.release()
        elif self.store.drafts_written_here():  # this desk's own write (a slow disk), not another window
            busy = DraftBeingWritten(f"{self.store.root}: 下書きの書き込みが終わりません (lock timeout)", None)
        else:
            busy = StoreBusyError(f"{self.store.root}: 下書きの書き込みが終わりません (lock timeout)",
                                  self.store.holder())
        if busy is not None and status == "discarded":
            self.closed = False
            self.changed()  # what was typed since the last write still goes to the draft
            raise busy
        if busy is not None:
            self.closed = True
            problem = WRITING if isinstance(busy, DraftBeingWritten) else f"{busy_holder(busy)}がストアを使用中です"
        self._close_pending = close_later(self.app, self.draft_id, status, incident_id or self.incident)
        return problem


def close_later(app, draft_id: str, status: str, incident_id: str | None) -> Callable[[], None]:
    """Mark a draft saved or discarded once the disk takes it (tried every RETRY_SECONDS; while
    the store is busy not tried, nor counted: a try would hold the keys for the brief wait).
    Returns the try, for a caller that knows the disk is free now (DraftKeeper._after_write)."""
    tries = [0]

    def attempt() -> None:
        if tries[0] < 0:  # done
            return
        if not app.store.readonly and not app.store.lock_free():
            return
        tries[0] += 1
        try:
            app.store.close_draft(draft_id, status=status, incident_id=incident_id, operator=app.operator)
        except (DomainError, OSError):
            if tries[0] < CLOSE_TRIES:
                return
        tries[0] = -1
        timer.stop()

    timer = app.set_interval(RETRY_SECONDS, attempt)
    return attempt


NO_LINE_START = frozenset("、。，．）」』】")  # Japanese punctuation a line does not start with (kinsoku)
WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-_")  # Ctrl+S, F1, 2026-0003


def _word_at_end(row: list[str]) -> int:
    """Where the word of WORD_CHARS that ``row`` ends with starts (len(row): none)."""
    start = len(row)
    while start > 0 and row[start - 1] in WORD_CHARS:
        start -= 1
    return start


def fold(text: str, width: int, *, hang: bool = False) -> str:
    """``text`` with its lines folded at ``width`` cells. A message in Japanese has no spaces to
    wrap at: Textual would move a whole sentence to the next line (or past the edge). ``hang``:
    the lines a line is folded into start with its indent (its leading spaces, up to half the
    width), a blank at a fold left out, a short word that would be cut (「レ|ベル1」) moved down
    whole; Textual starts them at the edge. A 「、」 or 「。」 (NO_LINE_START) due at the start of a
    line takes the character before it down with it (the busy store's line at 80 columns began
    a line with 「、まだ記録していません」)."""
    if width <= 1:
        return text
    out = []
    for line in text.split("\n"):
        indent = line[: len(line) - len(line.lstrip(" "))] if hang else ""
        indent = indent if 2 * len(indent) <= width else ""
        row, used, fresh = [], 0, False  # fresh: a row just folded into, nothing of the line on it yet
        for ch in line:
            size = cell_len(ch)
            if used + size > width and row:
                tail: list[str] = []
                if hang and ch != " " and " " in row[1:]:  # a word cut (「レ|ベル1」, 「11/2|2」) goes down whole
                    cut_at = len(row) - row[::-1].index(" ")
                    if cell_len("".join(row[cut_at:])) <= width // 3:
                        row, tail = row[:cut_at - 1], row[cut_at:]
                first = 1 if row[0] == indent else 0  # (the row's indent, "" when none: not a character of the line)
                start = _word_at_end(row)
                if (not tail and first < start < len(row) and (ch in WORD_CHARS or ch in NO_LINE_START)
                        and cell_len("".join(row[start:])) <= width // 3):
                    # a key name (「Ctrl+S」) is neither cut nor parted from its 「。」: it goes down whole
                    row, tail = row[:start], row[start:]
                    if hang and row[-1] == " " and len(row) > first + 1:
                        row.pop()  # (the blank it stood after: a fold's blank is left out, as above)
                if not tail and ch in NO_LINE_START and len(row) - first >= 2:
                    tail = [row.pop()]  # 「、」「。」 never start a line: the character before goes down with it
                out.append("".join(row))
                row, used, fresh = [indent, *tail], len(indent) + cell_len("".join(tail)), not tail
            if hang and fresh and ch == " ":
                continue
            fresh = False
            row.append(ch)
            used += size
        out.append("".join(row))
    return "\n".join(out)


class Folded(Static):
    """A Static for messages in Japanese: shown as typed (no markup), folded at its width."""

    DEFAULT_CSS = "Folded { height: auto; }"

    def __init__(self, text: str = "", **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self.text = printable(text)
        self._shown_for = -1

    def say(self, text: str) -> None:
        if printable(text) == self.text and self._shown_for >= 0:
            return
        self.text = printable(text)
        self._shown_for = -1
        self._show()

    def _show(self) -> None:
        width = self.content_size.width or (self.app.size.width - 8)
        if width != self._shown_for:
            self._shown_for = width
            folded = fold(self.text, width)
            if folded != self.content:  # (the same text at its real width: no layout of the screen again)
                self.update(folded)

    def on_mount(self) -> None:
        self._show()

    def on_resize(self) -> None:
        self._show()


class DraftStatus(Folded):
    """One line under a form: when its draft was written, or (in red) that its text is on no disk."""

    DEFAULT_CSS = """
    DraftStatus { height: auto; color: $text-muted; }
    DraftStatus.-alarm { color: $error; text-style: bold; }
    DraftStatus.-ask { color: $warning; text-style: bold; }
    """

    def say(self, text: str, kind: str = "") -> None:
        super().say(text)
        self.display = bool(text)
        self.set_class(kind == "alarm", "-alarm")
        self.set_class(kind == "ask", "-ask")


class KeepTextScreen(ModalScreen[None]):
    """Keep typed text the store cannot take: in a file in another folder (the operator types
    its path; the text of every field, labelled, UTF-8) or on the clipboard. Esc: back."""

    KEYS_SCREEN = "keep"
    BINDINGS = bindings("keep")  # screens/commands.py
    DEFAULT_CSS = """
    KeepTextScreen { align: center middle; }
    #keep-box { width: 96%; max-width: 100; height: auto; max-height: 100%; padding: 0 1;
                border: thick $error; background: $surface; }
    #keep-box .keep-title { text-style: bold; }
    #keep-reason { text-style: bold; }
    #keep-where { color: $error; margin-bottom: 1; }
    #keep-box .keep-label { margin-top: 0; }
    #keep-buttons { height: auto; margin-top: 1; }
    #keep-buttons Button { margin-right: 1; }
    #keep-result { margin-top: 1; }
    """

    def __init__(self, keeper: DraftKeeper, title: str, fields: Callable[[], list[tuple[str, Any]]],
                 *, about: str = "", file_word: str = "入力", reason: str = "") -> None:
        super().__init__()
        self.keeper = keeper
        self.reason = reason  # why it opened (Esc refused, Ctrl+S failed), said on top
        self.title_text = title
        self.fields = fields
        self.about = about
        self.file_word = file_word
        self._over: str | None = None  # an existing file the operator was told about (Enter again: overwrite)

    def compose(self) -> ComposeResult:
        with Vertical(id="keep-box"):
            yield Label("入力を別の場所に残す", classes="keep-title")
            if self.reason:
                yield Folded(self.reason, id="keep-reason")
            yield Folded("", id="keep-where")
            yield Folded("別のフォルダ（USB メモリ・別のドライブなど）のファイル名を入力して Enter:",
                         classes="keep-label")
            yield SafeInput(default_copy_path(self.app.now(), self.file_word), id="keep-path", compact=True)
            with Horizontal(id="keep-buttons"):
                yield Button("ファイルに保存", id="keep-save", variant="primary", compact=True)
                yield Button("クリップボードへ", id="keep-copy", compact=True)
                yield Button("下書きを再保存", id="keep-retry", compact=True)
                yield Button("戻る (Esc)", id="keep-back", compact=True)
            yield Folded("", id="keep-result")

    def on_mount(self) -> None:
        self.app.clear_notifications()  # this dialog says it all; a toast would cover it at 80 columns
        self._show_where()
        self.set_interval(0.5, self._show_where)  # the desk keeps retrying: say when it got through
        path = self.query_one("#keep-path", Input)
        path.focus()
        path.cursor_position = len(path.value)

    def _show_where(self) -> None:
        where = self.keeper.where_text()
        if self.keeper.on_disk():
            where += " 画面を閉じても入力は残ります。"
        self.query_one("#keep-where", Folded).say(where)

    def _say(self, text: str) -> None:
        self.query_one("#keep-result", Folded).say(text)

    def _text(self) -> str:
        return render_text(self.title_text, self.fields(), operator=self.app.operator, now=self.app.now(),
                           about=self.about)

    @on(Input.Submitted, "#keep-path")
    @on(Button.Pressed, "#keep-save")
    def save_file(self) -> None:
        path = self.query_one("#keep-path", Input).value
        snap = self.keeper.snapshot()
        text = self._text()
        try:
            written = save_copy(path, text, store_root=self.app.store.root, force=path == self._over)
        except TargetExistsError as err:
            self._over = path
            self._say(f"{err}\n上書きするときは、もう一度 Enter を押してください。")
            return
        except DomainError as err:
            self._say(str(err))
            return
        self._over = None
        self.keeper.copied_to = (str(written), snap)
        message = f"{written} に保存しました（{len(text)} 文字、すべての項目）。"
        if not self.keeper.on_disk():
            message += "ストアの下書きに保存できるまで、このファイルを残してください。"
        self._say(message)
        self._show_where()

    @on(Button.Pressed, "#keep-copy")
    def copy(self) -> None:
        self.app.copy_to_clipboard(self._text())
        self._say("クリップボードにコピーしました。ただし端末によってはクリップボードに届きません"
                  "（OSC 52 を使います）: 別のアプリに貼り付けて確かめてください。"
                  "クリップボードはディスクではないので、画面はこのまま閉じません。")

    @on(Button.Pressed, "#keep-retry")
    def retry(self) -> None:
        problem = self.keeper.flush_now()
        self._show_where()
        if problem:
            self._say(f"まだ保存できません: {problem}")
        elif self.keeper.on_disk():
            self._say("下書きに保存しました。画面を閉じても入力は残ります。")

    @on(Button.Pressed, "#keep-back")
    def action_back(self) -> None:
        self.dismiss(None)


class DraftOfferScreen(ModalScreen[str | None]):
    """A dialog opened again for the same incident finds its unsaved text: go on with it
    ("resume"), discard it and start anew ("new"), or not now (None: the dialog closes)."""

    KEYS_SCREEN = "offer"
    BINDINGS = bindings("offer")  # screens/commands.py
    DEFAULT_CSS = """
    DraftOfferScreen { align: center middle; }
    #offer-box { width: 90%; max-width: 90; height: auto; padding: 1 2; border: thick $accent; background: $surface; }
    #offer-box .offer-title { text-style: bold; margin-bottom: 1; }
    #offer-text { margin-bottom: 1; max-height: 8; }
    #offer-buttons { height: auto; }
    #offer-buttons Button { margin-right: 1; }
    #offer-busy { display: none; margin-top: 1; color: $warning; }
    """

    # Keys read before the offer was opened were typed into the dialog as it opened (a Tab and a
    # memo, held while it was built): they are not answers to it (「n」 among them discarded the
    # draft unseen). They are kept (CsirtDeskApp.on_event, took_early) and handed to the dialog once
    # the offer is answered 続きを書く or 破棄して新しく書く; with あとで the dialog closes and they go.

    def __init__(self, drafts: list[dict[str, Any]], what: str, initial: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.drafts = drafts
        self.what = what
        self.initial = initial or {}  # the dialog's fields as it opens: what differs is shown
        from textual import _time

        self.opened_at = _time.get_time()  # (the clock of an event's time)
        self.early_keys: list[tuple[str, str | None]] = []

    def took_early(self, event: events.Key) -> bool:
        """``event`` read before the offer was opened: kept for the dialog, not an answer."""
        if event.time >= self.opened_at:
            return False
        self.early_keys.append((event.key, event.character))
        return True

    def dismiss(self, result=None):  # type: ignore[no-untyped-def]
        keys, self.early_keys = self.early_keys, []
        done = super().dismiss(result)
        if keys and result in ("resume", "new"):
            app = self.app

            def again() -> None:  # after the answer is taken in (the draft loaded), in the order typed
                for key, character in keys:
                    app.post_message(events.Key(key, character))

            app.call_after_refresh(again)
        return done

    def compose(self) -> ComposeResult:
        newest = self.drafts[0]
        values = (newest.get("data") or {}).get("values") or {}
        text = "\n".join(str(v) for k, v in values.items()
                         if isinstance(v, str) and v.strip() and v != self.initial.get(k))
        with Vertical(id="offer-box"):
            yield Label(f"書きかけの{self.what}があります（まだ記録していません）", classes="offer-title")
            yield Static(printable(f"{short_time(newest.get('updated_at'))} {newest.get('operator', '')} の入力:",
                                   keep_newlines=False), markup=False)
            yield Folded(text[:2000], id="offer-text")
            if len(self.drafts) > 1:
                yield Static(f"ほかに {len(self.drafts) - 1} 件（ダッシュボードの下書き一覧）", markup=False)
            with Horizontal(id="offer-buttons"):
                yield Button("続きを書く (Enter)", id="offer-resume", variant="primary", compact=True)
                yield Button("破棄して新しく書く (n)", id="offer-new", compact=True)
                yield Button("あとで (Esc)", id="offer-later", compact=True)
            yield Folded("", id="offer-busy", classes="busy")  # the store busy: one line (StoreWait)

    def on_mount(self) -> None:
        self.query_one("#offer-resume", Button).focus()
        self.store_wait = StoreWait(self, self._show_busy, saving="破棄")

    def _show_busy(self) -> None:
        busy = self.query_one("#offer-busy", Folded)
        busy.display = bool(self.store_wait.line)
        busy.say(self.store_wait.line or "")

    @on(Button.Pressed, "#offer-resume")
    def resume(self) -> None:
        self.dismiss("resume")

    @on(Button.Pressed, "#offer-new")
    def action_new(self) -> None:
        """破棄して新しく書く: the draft marked discarded here, before the offer goes: refused as busy
        (another window's restore holds the drafts), the offer stays, says so, and 「n」 again
        once the store is free (StoreWait) discards it; nothing is opened over a draft not discarded."""
        newest = self.drafts[0]
        try:
            self.app.store.close_draft(newest["id"], status="discarded", incident_id=newest.get("incident"),
                                       operator=self.app.operator)
        except StoreBusyError as err:
            self.store_wait.busy(err, "", again="n で")
            return
        except (DomainError, OSError) as err:
            self.notify(f"書きかけの{self.what}を閉じられませんでした: {plain_problem(err)}",
                        severity="warning", markup=False)
        self.store_wait.clear()
        self.dismiss("new")

    @on(Button.Pressed, "#offer-later")
    def action_later(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class DraftKey:
    """Which dialog a draft belongs to: a dialog opened again with the same key offers it back."""

    kind: str               # Store.save_draft kind: note | report | form
    incident: str | None    # the incident it is about (None: the roster)
    dialog: str             # the dialog: note, correction:12, step:containment, roster_edit:3 …
    screen: str = ""        # where it opens (the dashboard reopens it there): timeline, report, response …


Said = str | Callable[[], str]  # a part of StoreWait's line: fixed, or said as the screen is now


class StoreWait:
    """A save refused because another process holds the store (a large import: minutes). The
    desk's thread waits for the lock a fraction of a second only (Store.wait_briefly): the keys
    go on working, the screen stays open with everything typed (the draft has its own lock, it
    is on disk), and nothing is half-recorded (the whole save runs under one take of the lock,
    :func:`all_or_nothing`). ``line`` says it in one line (draftsave.busy_line) until the store is
    free (looked at every FREE_CHECK, without waiting), then says that; the operator saves
    again with Ctrl+S. No save is left running behind the screen: none can land twice, or
    after the operator has typed on, or after the desk closed."""

    def __init__(self, screen, show: Callable[[], None], saving: str = "記録") -> None:
        self.screen = screen
        self.show = show  # the screen shows ``line`` (its DraftStatus)
        self.saving = saving
        self._err: BaseException | None = None  # the refusal said (None: nothing said)
        self._free = False  # the store is free again since
        self._timer = None
        self._doing: tuple[str, Said, Said] = (saving, "Ctrl+S で", "")  # what was refused, its key, where the text is

    @property
    def line(self) -> str | None:
        """The line as things are now: ``again`` and ``kept`` given as functions are asked each
        time (typed on after an emptied dialog's refusal, two Escs discard it, not one)."""
        if self._err is None:
            return None
        saving, again, kept = self._said()
        if not self._free:
            return busy_line(self._err, saving=saving, kept=kept, again=again)
        kept = "入力はこの画面にあります。" if again == "Ctrl+S で" else ""
        return f"ストアが空きました。{kept}{again}{saving}してください。"

    def _said(self) -> tuple[str, str, str]:
        return tuple(said if isinstance(said, str) else said() for said in self._doing)  # type: ignore[return-value]

    def busy(self, err: BaseException, kept: Said, *, saving: str | None = None, again: Said = "Ctrl+S で") -> str:
        """Say ``err``; ``saving`` / ``again``: what was refused and its key, when not the screen's
        save (a discard: 破棄, 「Esc を2回押して」); ``again`` and ``kept`` may be functions that
        say it as the screen is when the line is shown."""
        self._doing = (saving or self.saving, again, kept)
        self._err, self._free = err, False
        if self._timer is None:
            self._timer = self.screen.set_interval(FREE_CHECK, self._look)
        self.show()
        return self.line

    def _look(self) -> None:
        app = self.screen.app
        if not app.store.lock_free():
            return
        self.stop()
        self._free = True
        saving, again, _ = self._said()
        app.notify(f"ストアが空きました。{again}{saving}できます。", timeout=6, markup=False)
        self.show()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def clear(self) -> None:
        self.stop()
        self._err, self._free = None, False


def kept_text(keeper: "DraftKeeper | None") -> str:
    """Where the typed text is, for a save that did not happen (busy_line's ``kept``)."""
    if keeper is None:
        return "入力はこの画面に残っています。"
    if keeper.on_disk() and keeper.ever_written:  # and the autosave goes on (a failure is said instead)
        return "入力は下書きに保存しています。"
    return keeper.where_text() or "入力はこの画面に残っています（下書きに保存しています）。"


@contextmanager
def all_or_nothing(store):
    """The store's lock for a whole save: waited for briefly on the desk's thread (StoreBusyError
    before anything is written), then every write of the save takes it again at once. A save of
    several writes (a triage's exclusion and the reply to the reporter) found the store taken
    between two of them and left the first on the record alone; saved again, it was there twice."""
    with store.locked():
        yield


class Pending:
    """What a dialog's save returns when it finishes later (a file hashed in a worker): the
    dialog stays open and waits. ``done(error)`` on the UI thread when it has finished."""

    def __init__(self) -> None:
        self._then: Callable[[BaseException | None], None] | None = None
        self._outcome: list[BaseException | None] = []

    def then(self, fn: Callable[[BaseException | None], None]) -> None:
        self._then = fn
        if self._outcome:
            fn(self._outcome[0])

    def done(self, error: BaseException | None = None) -> None:
        self._outcome.append(error)
        if self._then is not None:
            self._then(error)


class DraftedDialog(StyledAtMount, ModalScreen[Any]):
    """A dialog whose typed text is a draft while it is open (``draft_key``; None: not drafted).

    Subclasses give ``draft_values()`` (field key → value), ``load_draft_values()``,
    ``draft_fields()`` ((label, value) for the text copy), ``draft_title()``, call
    ``start_drafts()`` at the end of their on_mount, ``save_to_record(fn, value)``
    from their Ctrl+S, and yield a :class:`DraftStatus`."""

    KEYS_SCREEN = "form"
    BINDINGS = [
        *bindings("form", only=("cancel", "keep_elsewhere")),  # screens/commands.py
    ]
    DRAFT_WHAT = "入力"  # what the messages call the text (メモ, 記載 …)

    def __init__(self, draft_key: DraftKey | None = None) -> None:
        super().__init__()
        self.draft_key = draft_key
        self.keeper: DraftKeeper | None = None
        self.busy = False
        self.store_wait = StoreWait(self, self.show_draft_state)
        self._initial: dict[str, Any] | None = None
        self._esc_at: float | None = None
        self._discard_waits = False  # Esc (Esc) came while its draft was being written: done after it

    # what subclasses give
    def draft_values(self) -> dict[str, Any]:
        raise NotImplementedError

    def load_draft_values(self, values: dict[str, Any]) -> None:
        raise NotImplementedError

    def draft_fields(self) -> list[tuple[str, Any]]:
        raise NotImplementedError

    def draft_title(self) -> str:
        return self.DRAFT_WHAT

    def typed_words(self) -> str:
        """「入力したメモ」, 「入力した記載」; 「入力 (…)」 as it is (not 「入力した入力」)."""
        return self.DRAFT_WHAT if self.DRAFT_WHAT.startswith("入力") else f"入力した{self.DRAFT_WHAT}"

    def draft_time_keys(self) -> tuple[str, ...]:
        """The fields that hold a time as typed (今, 30分前 …): see _anchor_times."""
        return ()

    # -------------------------------------------------------------- the draft
    def _draft_data(self) -> dict[str, Any]:
        key = self.draft_key
        values = self.draft_values()
        initial = self._initial or {}
        return {"dialog": key.dialog, "screen": key.screen, "title": self.draft_title(), "values": values,
                "typed": [k for k, v in values.items() if v != initial.get(k)]}  # what the lists show

    def _untouched(self, data: dict[str, Any]) -> bool:
        return data.get("values") == self._initial

    def start_drafts(self) -> None:
        """The fields as opened are 'nothing typed'; offer an unsaved draft of this dialog."""
        self._initial = self.draft_values()
        if self.draft_key is None:
            return
        key = self.draft_key
        self.keeper = DraftKeeper(self, self._draft_data, blank=self._untouched, kind=key.kind,
                                  incident=key.incident, on_change=self.show_draft_state)
        self.keeper.start()
        try:
            drafts = dialog_drafts(self.app.store, key.kind, key.incident, key.dialog)
        except (DomainError, OSError):
            drafts = []
        if drafts:
            self.app.push_screen(DraftOfferScreen(drafts, self.DRAFT_WHAT, self._initial),
                                 lambda answer: self._offered(answer, drafts))

    def _offered(self, answer: str | None, drafts: list[dict[str, Any]]) -> None:
        newest = drafts[0]
        if answer == "resume":
            self.load_draft_values(self._anchor_times((newest.get("data") or {}).get("values") or {}, newest))
            self.keeper.adopt(newest)
            self.show_draft_state()
        elif answer != "new":  # (new: discarded by the offer, DraftOfferScreen.action_new)
            self.dismiss(None)

    def _anchor_times(self, values: dict[str, Any], draft: dict[str, Any]) -> dict[str, Any]:
        """A time typed relative to then (「今」, 「10分前」) meant then, not now that the draft comes
        back (after a crash, an hour later): written out as the time it meant."""
        try:
            then = datetime.fromisoformat(draft.get("updated_at") or "")
        except ValueError:
            return values
        out = dict(values)
        now = self.app.now()
        for key in self.draft_time_keys():
            typed = out.get(key)
            if not isinstance(typed, str) or not typed.strip():
                continue
            try:
                meant, today = parse_time(typed, then), parse_time(typed, now)
            except TimeParseError:
                continue
            if abs((today - meant).total_seconds()) >= 60:
                out[key] = f"{meant:%Y-%m-%d %H:%M}"
        return out

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _draft_field_changed(self) -> None:
        if self.keeper is None or self._initial is None:
            return
        self.keeper.changed()
        if self._discard_waits:  # typing on: the discard waiting for the draft's write is off
            self._discard_waits = False
            self.show_draft_state()
        if self._esc_at is not None or self.store_wait.line:  # typing on: the question is off; the
            self._esc_at = None                                # busy line says the keys as they are now
            self.show_draft_state()

    def on_unmount(self) -> None:
        if self.keeper is not None:
            self.keeper.detached = True
        self._unsay_unsaved()  # (the text is on the record now, or in its draft)

    def flush_now(self, *, report: bool = True) -> str | None:
        """The desk is closing (Ctrl+Q, a signal): write the draft now (csirt_tui.app.flush_drafts)."""
        return self.keeper.flush_now(report=report) if self.keeper is not None else None

    def show_draft_state(self) -> None:
        statuses = self.query(DraftStatus)
        if not statuses or self._esc_at is not None:
            return
        keeper = self.keeper
        if keeper is None:
            statuses.first().say(self.store_wait.line or "", "ask")
            return
        if keeper.writing_behind() and not keeper.on_disk():  # being written, slowly: not refused
            statuses.first().say(WRITING + "。", "ask")
        elif keeper.problem and not keeper.on_disk():
            statuses.first().say("⚠ " + keeper.where_text() + " Ctrl+O: 別の場所に保存・コピー", "alarm")
        elif self.store_wait.line:
            statuses.first().say(self.store_wait.line, "ask")
        elif keeper.ever_written and keeper.written_at:
            statuses.first().say(f"下書き保存 {keeper.written_at}")
        else:
            statuses.first().say("")

    # -------------------------------------------------------------- keys
    def action_keep_elsewhere(self) -> None:
        if self.keeper is not None:
            self.app.push_screen(KeepTextScreen(self.keeper, self.draft_title(), self.draft_fields,
                                                about=self._about(), file_word=self.DRAFT_WHAT))

    def _about(self) -> str:
        key = self.draft_key
        return f"インシデント: {key.incident}" if key is not None and key.incident else ""

    def action_cancel(self) -> None:
        """Esc: nothing typed closes at once; typed text is discarded by a second Esc only."""
        if self.busy:
            self.notify("記録しています。終わるまでお待ちください", severity="warning")
            return
        keeper = self.keeper
        if keeper is None or self._untouched(self._draft_data()):
            if keeper is not None and not self._discard(keeper):  # one Esc closes it
                return
            self.dismiss(None)
            return
        now = time.monotonic()
        if self._esc_at is not None and now - self._esc_at <= ESC_AGAIN_SECONDS:
            if not self._discard(keeper):
                return
            self.app.notify(f"{self.typed_words()}を破棄しました（記録していません）", markup=False)
            self.dismiss(None)
            return
        self._esc_at = now
        where = "" if keeper.on_disk() or not keeper.problem else keeper.where_text() + " Ctrl+O: 別の場所に保存・コピー"
        self.query_one(DraftStatus).say(
            f"{self.typed_words()}を破棄しますか？ 破棄するときは {ESC_AGAIN_SECONDS:.0f} 秒以内にもう一度 Esc。"
            "記録するときは Ctrl+S、続けるときはそのまま入力してください。" + (f"\n{where}" if where else ""), "ask")
        self.set_timer(ESC_AGAIN_SECONDS, self._question_over)

    def _discard(self, keeper: DraftKeeper) -> bool:
        """Mark the draft discarded; False (the dialog stays, its text kept, the busy line said)
        when the store is busy: the keys that discard it once it is free (StoreWait says when),
        and where the text is, said as the dialog is whenever the line is shown."""
        try:
            keeper.close("discarded")
        except DraftBeingWritten:  # this draft's own autosave is slow (the disk): discarded once it is written
            self._esc_at = None
            self._discard_waits = True
            statuses = self.query(DraftStatus)
            said = ("下書きを書き込んでいる途中です（ディスクの応答が遅れています）。書き終わりしだい破棄して閉じます。"
                    "続けるときは、そのまま入力してください（破棄しません）。")
            if statuses:
                statuses.first().say(said, "ask")
            else:
                self.app.notify(said, severity="warning", markup=False)
            keeper.when_written(self._discard_once_written)
            return False
        except StoreBusyError as err:
            self._esc_at = None
            self.store_wait.busy(err, self._kept_now, saving="破棄", again=self._discard_keys)
            return False
        self.store_wait.clear()
        return True

    def _discard_once_written(self) -> None:
        """The draft's write under way is done: the discard asked for then (nothing typed since)."""
        if not self._discard_waits or not self.is_attached or self.app.screen is not self:
            return
        self._discard_waits = False
        untouched = self._untouched(self._draft_data())
        if not self._discard(self.keeper):
            return
        if not untouched:
            self.app.notify(f"{self.typed_words()}を破棄しました（記録していません）", markup=False)
        self.dismiss(None)

    def _discard_keys(self) -> str:
        """The keys that discard the dialog as it is now: one Esc with nothing typed, else two."""
        return "Esc で" if self._untouched(self._draft_data()) else "Esc を2回押して"

    def _kept_now(self) -> str:
        """Where the typed text is now (the busy line): nothing typed is said so, not 「下書きに保存
        しています」 of a draft that holds nothing."""
        if self._untouched(self._draft_data()):
            return "この画面に入力はありません。"
        return kept_text(self.keeper)

    def _question_over(self) -> None:
        if self._esc_at is not None and time.monotonic() - self._esc_at >= ESC_AGAIN_SECONDS - 0.05:
            self._esc_at = None
            self.show_draft_state()

    # -------------------------------------------------------------- saving to the record
    def save_to_record(self, save: Callable[[], Any], result: Any) -> None:
        """Ctrl+S: ``save()`` writes the record (raises DomainError/OSError when it cannot;
        may return :class:`Pending`); once it has, the draft is closed and the dialog returns
        ``result``. If it cannot, the dialog stays open with the text, and says where it is."""
        if self.busy:
            return
        if self.keeper is not None:
            self.keeper.flush_now(report=False)  # said below, with the record's problem
        try:
            with all_or_nothing(self.app.store):
                outcome = save()
        except (DomainError, OSError) as err:
            self.save_failed(err)
            return
        if isinstance(outcome, Pending):
            self.busy = True
            self.query_one(DraftStatus).say("記録しています...")  # not …: ambiguous width
            outcome.then(lambda err: self._pending_done(err, result))
            return
        self.finish(result)

    def record_and_return(self, save: Callable[[Any], Any] | None, value: Any, result: dict[str, Any]) -> None:
        """Ctrl+S of a one-text dialog: ``save(value)`` puts it on the record (its return is
        ``result["entry"]``), then the dialog returns ``result``; no ``save``: returns at once."""
        if save is None:
            self.finish(result)
            return

        def record() -> None:
            result["entry"] = save(value)

        self.save_to_record(record, result)

    def _pending_done(self, error: BaseException | None, result: Any) -> None:
        self.busy = False
        if error is not None:
            self.save_failed(error)
            self.show_draft_state()
        else:
            self.finish(result)

    def save_failed(self, err: BaseException) -> None:
        if isinstance(err, StoreBusyError):
            line = self.store_wait.busy(err, kept_text(self.keeper))
            if not self.query(DraftStatus):  # said on the form's status line, on top; a toast would cover the text
                self._say_unsaved(line, "まだ記録していません", "warning", 8)
            return
        problem = plain_problem(err)
        keeper = self.keeper
        if keeper is None or keeper.on_disk():
            where = "入力はこの画面に残っています。" + (keeper.where_text() if keeper is not None else "")
        else:
            where = keeper.where_text() + "\nCtrl+O で別の場所に保存・コピーできます。"
        self._say_unsaved(f"記録できませんでした: {problem}\n{where}", "", "error", 15)
        self.show_draft_state()

    def _say_unsaved(self, message: str, title: str, severity: str, timeout: float) -> None:
        """A toast that the text is not on the record yet, taken back when the dialog closes (saved
        at the next Ctrl+S, or closed): 「記録できませんでした … 入力はこの画面に残っています」
        stayed its 15 s over the screen below after the save had gone through. One at a time: the
        newest replaces the one before (what is missing, said again at each Ctrl+S, stacked up)."""
        from textual.notifications import Notification

        self._unsay_unsaved()
        note = self._unsaved_note = Notification(message, title, severity, timeout, markup=False)  # type: ignore[arg-type]
        self.app._notifications.add(note)
        self.app._refresh_notifications()

    def _unsay_unsaved(self) -> None:
        note, self._unsaved_note = getattr(self, "_unsaved_note", None), None
        if note is not None and note in self.app._notifications:
            self.app._unnotify(note)

    def finish(self, result: Any) -> None:
        """The text is on the record: its draft is closed, the dialog returns ``result``."""
        self.store_wait.clear()
        if self.keeper is not None:
            problem = self.keeper.close("saved")
            if problem:
                self.app.notify(f"記録しました。書きかけの下書きを「記録済み」にできませんでした（{problem}）: "
                                "ディスクに書けるようになりしだい行います。", severity="warning", markup=False)
        self.dismiss(result)


# ---------------------------------------------------------------------------
# The form built from field specs

@dataclass
class Field:
    key: str
    label: str
    kind: str = "text"                    # text | multiline | time | select | check
    value: Any = ""
    options: list[tuple[str, Any]] = field(default_factory=list)   # for select: (label, value)
    placeholder: str = ""
    required: bool = False


class AskMore(DomainError):
    """Raised by a form's save: the record needs more (e.g. 「承知のうえで収束する」): the
    form gets ``fields``, shows ``intro`` and stays open with everything typed."""

    def __init__(self, fields: list[Field], intro: str, title: str = "") -> None:
        super().__init__(intro)
        self.fields = fields
        self.intro = intro
        self.title = title


class FormScreen(DraftedDialog):
    """A form from field specs. ``save(values)`` (optional) writes the record while the form is
    still open: if it raises, the form stays with what was typed. ``draft``: the form's text is
    a draft (see DraftedDialog). Returns the values, or None when cancelled."""

    BINDINGS = bindings("form", only=("submit", "cancel"))  # screens/commands.py
    DEFAULT_CSS = "FormScreen #form-box { max-width: 100%; }"  # 96 columns wide: an 80-column terminal too
    # on_mount focuses the first field: Textual's auto focus gave it first to the fields' scroll
    # container, and each move restyled every field (issue 15: the step form opened in 350 ms)
    AUTO_FOCUS = ""

    # rows a field takes in the fields' box (assets/screens.tcss: a label's margin and the label,
    # then the field; a time's preview; a memo 5 high; a check has no label): see _fields_at_open
    FIELD_ROWS = {"check": 1, "text": 3, "select": 3, "time": 4, "multiline": 7}

    def __init__(self, title: str, fields: list[Field], *, intro: str = "",
                 save: Callable[[dict[str, Any]], Any] | None = None, draft: DraftKey | None = None,
                 ahead: bool = False, saves_as: str = "記録") -> None:
        super().__init__(draft)
        self.title_text = title
        self.saves_as = saves_as  # what Ctrl+S does, in its hint (a form that writes a file records nothing)
        self.fields = fields
        self.intro = intro
        self.save = save
        # made ahead (the tracker's step form, ResponseScreen.prepare_step): composed whole, mounted,
        # laid out and drawn unseen; shown by open_now, which starts its draft then
        self.ahead = ahead
        self.made_for: tuple | None = None  # what it was made ahead for (the tracker compares it at `s`)
        self._open_at_mount: tuple | None = None  # (save,): made ahead, opened before it mounted
        self._given_up = False  # made ahead, and not to be shown (give_up)
        self._at_open = len(fields)  # the fields built before the first paint (compose); the rest after it
        self.keys_wait = asyncio.Event()  # set once every field is there (CsirtDeskApp.on_event holds keys till then)

    def compose(self) -> ComposeResult:
        self._at_open = len(self.fields) if self.ahead else self._fields_at_open()  # (nobody waits for one made ahead)
        with Vertical(id="form-box"):
            yield Label(self.title_text, classes="saved-title", id="form-title", markup=False)
            yield DraftStatus(id="draft-status")  # on top: a long form scrolls, this must be seen
            intro = Static(printable(self.intro), classes="intro", id="form-intro", markup=False)
            intro.display = bool(self.intro)
            yield intro
            with VerticalScroll(id="form-fields"):
                for f in self.fields[:self._at_open]:
                    yield from self._widgets(f)
            yield Static(f"Ctrl+S {self.saves_as}   Esc やめる   Tab 次の項目", classes="hint", markup=False)

    def _fields_at_open(self) -> int:
        """How many fields, from the first, the form's first paint can show: the rest (the step
        form's five 留意事項 memos, 10 of its 28 widgets, below its box's edge at 80x24 and
        120x30) are mounted just after that paint (issue 15: the step form opened in ~170 ms at
        10,000 incidents, goal 150), as the triage's lower form is; keys read meanwhile wait
        for them (``keys_wait``). Counted so that none is left out that could be seen: the box
        is taken as tall as it can be (_fit_fields, with the intro as short as its text can be
        drawn: a line a line of it, more where it is wider than the frame), and a field is left
        for later only when the fields before it fill that height, so that the box is as high
        at the first paint as after."""
        size = self.app.size
        height = size.height
        if not height:
            return len(self.fields)
        intro = 0
        if self.intro:
            width = max(1, min(96, size.width) - 6)  # the frame's border and padding (#form-box)
            lines = sum(max(1, -(-cell_len(line) // width)) for line in printable(self.intro).split("\n"))
            intro = min(6, lines) + 1  # (its max-height, its margin)
        rows = max(4, min(30, height - 10, int(height * 0.9) - 8 - intro))
        top = 0
        for n, f in enumerate(self.fields):
            if top >= rows:
                return n
            top += self.FIELD_ROWS.get(f.kind, 3)
        return len(self.fields)

    @staticmethod
    def _widgets(f: Field):
        wid = f"f-{f.key}"
        if f.kind == "check":
            yield Checkbox(Text(f.label), value=bool(f.value), id=wid, compact=True)  # a label may hold user text
            return
        yield Label(f.label + (" *" if f.required else ""), classes="form-label")
        if f.kind == "multiline":
            yield SafeTextArea(str(f.value or ""), id=wid, soft_wrap=True, tab_behavior="focus",
                               classes="form-multiline")
        elif f.kind == "select":
            yield LazySelect([(Text(label), value) for label, value in f.options], id=wid, compact=True,
                         prompt=f.placeholder or "選択", value=f.value if f.value not in ("", None)
                         else getattr(Select, "NULL", None) or getattr(Select, "BLANK"))
        else:
            yield SafeInput(str(f.value or ""), id=wid, placeholder=f.placeholder, compact=True)
            if f.kind == "time":
                yield Static("", id=f"{wid}-preview", classes="preview", markup=False)

    def on_resize(self) -> None:
        self._fit_fields()

    def on_screen_resume(self) -> None:
        # a draft offered at the opening (DraftOfferScreen) covered the form before it was laid out:
        # its intro was measured 0 lines high and the fields' box ran below the frame's edge
        self.call_after_refresh(self._fit_fields)

    def _fit_fields(self) -> None:
        """The fields scroll inside what the screen leaves (title, draft state, intro, hint and the
        frame: about 10 lines): at 80x24 a long form's lower fields were cut off below the frame
        and Tab moved the focus where it could not be seen.

        The frame holds 90% of the screen, of which 8 lines are the title, the draft state (kept
        for it even while it is hidden: it shows up at the first save), the hint and the frame;
        the intro (up to 6 lines and its margin) takes from the rest. An intro of 2 to 6 lines was
        not counted: the fields' box was taller than what the frame showed of it, the frame cut its
        bottom off (and the hint), and a field scrolled "into view" stayed below the frame's edge
        (the step form at 80x24: of the memo refused empty, only its top border was seen)."""
        height = self.app.size.height
        try:  # (by id: a query that walks the form, twice at each call, was ~1 ms of its opening)
            intro, box = self.query_one("#form-intro", Static), self.query_one("#form-fields", VerticalScroll)
        except NoMatches:  # taken down before it was built (the desk quit while it opened)
            return
        if height:
            margin = intro.styles.margin
            tall = self._intro_height(intro) + margin.top + margin.bottom if intro.display else 0
            rows = min(height - 10, int(height * 0.9) - 8 - tall)
            box.styles.max_height = max(4, min(30, rows))

    def _intro_height(self, intro: Static) -> int:
        """The intro's height; before the first layout (on_mount: 0 lines then), the height that
        layout will give it: measured at the frame's width, so that the fields' box is fitted
        before the form is first laid out, not after it (a second layout of the whole form,
        issue 15: the step form opened in ~200 ms at 80x24). The calls once it is laid out
        correct it if the measure was off."""
        if intro.outer_size.height or not intro.display:
            return intro.outer_size.height
        size = self.app.size
        box = self.query_one("#form-box").styles
        width = box.width.resolve(size, size) if box.width is not None else size.width
        if box.max_width is not None:
            width = min(width, box.max_width.resolve(size, size))
        width = int(width) - box.gutter.width - intro.styles.gutter.width
        if width <= 0:
            return 0
        lines = intro.get_content_height(size, size, width)
        if intro.styles.max_height is not None:
            lines = min(lines, int(intro.styles.max_height.resolve(size, size)))
        return lines + intro.styles.gutter.height

    def on_mount(self) -> None:
        if self._given_up:  # made ahead, and given up while it was being built
            self.remove()
            return
        self._fit_fields()  # the intro measured at the frame's width (_intro_height)
        if self.ahead:  # laid out and drawn unseen; its time, focus and draft again when shown (open_now)
            self._open_fields()
            if self._open_at_mount is not None:  # `s` came while it was being built: shown now
                self.open_now(self._open_at_mount[0])
            else:
                self.call_later(self._lay_out_unseen)
            return
        self.call_after_refresh(self._fit_fields)  # once the intro is laid out (the same, but for a measure off)
        self._open_fields()
        if self._at_open < len(self.fields):
            self.call_after_refresh(self._build_lower_fields)  # after the first paint
        else:
            self.start_drafts()
            self.keys_wait.set()

    def _open_fields(self) -> None:
        """The time fields' previews as of now, and the focus on the first field."""
        for f in self.fields[:self._at_open]:
            if f.kind == "time":
                self._preview(f"f-{f.key}")
        first = self.query_one(f"#f-{self.fields[0].key}") if self.fields else None  # (each field is one of these)
        if first is not None:  # the first field, at the top of its box: shown as the box opens,
            # not scrolled to with the box's height still unknown (which scrolled its label away).
            # At once, not through the app's queue as focus() does: keys read as the form opened
            # (held till then: keys_wait) came before it in that queue and went to no field
            self.set_focus(first, scroll_visible=False)

    async def _lay_out_unseen(self) -> None:
        """A form made ahead, laid out for the terminal's size and drawn once, unseen (as the
        triage and the intake made ahead): shown, it lays out and draws again only what changed.
        Laid out, then drawn in a later turn of the event loop: a key that comes meanwhile waits
        for one of the two, not for both."""
        if self.is_current or not self.is_attached or not self.ahead:
            return
        self._refresh_layout(self.app.size)
        await asyncio.sleep(0)
        if self.is_current or not self.is_attached or not self.ahead:
            return
        self._compositor.render_update(full=True)

    def give_up(self) -> None:
        """A form made ahead that will not be shown (made for another step, or the tracker closed):
        removed, once it has mounted. Removed while it was being built, its mount found its fields
        gone (NoMatches: a crash of the desk)."""
        self._given_up = True
        if self.is_mounted:
            self.remove()

    def open_at_mount(self, save: Callable[[dict[str, Any]], Any] | None) -> None:
        """Pushed while still being built (`s` came meanwhile): opened (open_now) as it mounts."""
        self._open_at_mount = (save,)

    def open_now(self, save: Callable[[dict[str, Any]], Any] | None) -> None:
        """The form made ahead is shown (pushed just before): what its on_mount does for one built
        at the key, as of now (the preview of 「今」), with ``save``, the record it writes (made for
        this opening). Its draft starts once it is drawn, as a form built at the key starts it once
        its memos are (the offer of an unsaved draft comes over it then), and the keys read
        meanwhile wait till then: read before the offer was opened, they are the form's, not
        answers to the offer (DraftOfferScreen.took_early)."""
        self.ahead = False
        self.save = save
        self._fit_fields()  # (the terminal may have been resized since)
        self._open_fields()
        self.call_after_refresh(self._start_after_paint)

    def _start_after_paint(self) -> None:
        try:
            self.start_drafts()
        finally:
            self.keys_wait.set()

    async def _build_lower_fields(self) -> None:
        """The fields below the box's edge (_fields_at_open), then the draft: what is on screen
        now is 'nothing typed'; and the keys held meanwhile go on, in the order typed, once the
        layout that places these fields has been drawn: a key handled between their mount and
        that layout (which meets the requests made before it and repaints nothing more,
        screens/opening.py) could have its change left undrawn (seen once in a tmux walk under
        load: after Tab scrolled the box, lines of the memo's box were left on the terminal)."""
        try:
            lower = self.fields[self._at_open:]
            with self.app.batch_update():  # drawn once
                await self.mount_after_paint(self.query_one("#form-fields"),
                                             [w for f in lower for w in self._widgets(f)])
                self._at_open = len(self.fields)
                for f in lower:
                    if f.kind == "time":
                        self._preview(f"f-{f.key}")
            self.start_drafts()
        except BaseException:
            self.keys_wait.set()
            raise
        self.call_after_refresh(self.keys_wait.set)

    def focus_next(self, selector="*"):  # type: ignore[no-untyped-def]
        """Tab stops at the form's last field: it does not wrap round to the first. After a
        refused Ctrl+S the form asks a check at its end (「未完了のものを承知のうえで収束する」)
        and gives it the focus; a Tab there went round to the memo above (through the fields'
        box), and the Space meant for the check was typed into the memo's text."""
        return self._move_within(1, selector)

    def focus_previous(self, selector="*"):  # type: ignore[no-untyped-def]
        """Shift+Tab stops at the form's first field (see :meth:`focus_next`)."""
        return self._move_within(-1, selector)

    def _move_within(self, step: int, selector):  # type: ignore[no-untyped-def]
        fields = [w for w in self.query("#form-fields > Input, #form-fields > TextArea, #form-fields > Select, "
                                        "#form-fields > Checkbox") if w.focusable]
        focused = self.focused
        if selector == "*" and fields and focused is fields[-1 if step > 0 else 0]:
            return focused
        return super().focus_next(selector) if step > 0 else super().focus_previous(selector)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        if event.input.id in {f"f-{f.key}" for f in self.fields if f.kind == "time"}:  # (it has a preview)
            try:
                self._preview(event.input.id)
            except NoMatches:  # (the form taken down meanwhile)
                pass

    def _preview(self, wid: str) -> None:
        text = self.query_one(f"#{wid}", Input).value
        target = self.query_one(f"#{wid}-preview", Static)
        if not text.strip():
            shown = ""
        else:
            try:
                shown = "-> " + narrow(format_preview(parse_time(text, self.app.now())))
            except TimeParseError as err:
                shown = "✘ " + one_line(str(err))
        if shown != target.content:  # the field's first Changed, after on_mount showed it: no layout again
            target.update(shown)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.fields:
            widget = self.query_one(f"#f-{f.key}")
            if isinstance(widget, TextArea):
                out[f.key] = widget.text
            elif isinstance(widget, Select):
                out[f.key] = None if widget.is_blank() else widget.value
            elif isinstance(widget, Checkbox):
                out[f.key] = widget.value
            else:
                out[f.key] = widget.value
        return out

    # the draft (DraftedDialog)
    def draft_values(self) -> dict[str, Any]:
        return self.values()

    def load_draft_values(self, values: dict[str, Any]) -> None:
        for f in self.fields:
            if f.key not in values:
                continue
            value = values[f.key]
            widget = self.query_one(f"#f-{f.key}")
            try:
                if isinstance(widget, TextArea):
                    widget.text = value or ""
                    widget.move_cursor(widget.document.end)
                elif isinstance(widget, Select):
                    widget.value = value if value is not None else (getattr(Select, "NULL", None)
                                                                    or getattr(Select, "BLANK"))
                elif isinstance(widget, Checkbox):
                    widget.value = bool(value)
                else:
                    widget.value = "" if value is None else str(value)
            except Exception:  # an option no longer offered: the rest still comes back
                pass

    def draft_fields(self) -> list[tuple[str, Any]]:
        values = self.values()
        out = []
        for f in self.fields:
            value = values[f.key]
            if f.kind == "select":
                value = next((label for label, v in f.options if v == value), value)
            out.append((f.label, value))
        return out

    def draft_title(self) -> str:
        return self.title_text

    def draft_time_keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields if f.kind == "time")

    def action_submit(self) -> None:
        if self.busy:
            return
        values = self.values()
        problems = []
        for f in self.fields:
            value = values[f.key]
            if f.required and (value is None or (isinstance(value, str) and not value.strip())):
                problems.append(f"{f.label} を入力してください")
            if f.kind == "time" and isinstance(value, str) and value.strip():
                try:
                    values[f"{f.key}_iso"] = to_iso(parse_time(value, self.app.now()))
                except TimeParseError as err:
                    problems.append(f"{f.label}: {one_line(str(err))}")
        if problems:  # one such toast at a time (Ctrl+S again replaces it), taken back when the form closes
            self._say_unsaved("\n".join(problems), "", "error", self.app.NOTIFICATION_TIMEOUT)
            self.focus_named("\n".join(problems))
            return
        if self.save is None:
            self.finish(values)
            return
        self.save_to_record(lambda: self.save(values), values)

    def save_failed(self, err: BaseException) -> None:
        if isinstance(err, AskMore):
            self._ask_more(err)
            return
        super().save_failed(err)
        if not isinstance(err, StoreBusyError):  # the busy line names no field
            self.focus_named(str(err))

    def focus_named(self, problem: str) -> None:
        """The field the problem is about takes the focus, scrolled into view: the first empty field
        it names (「…メモ（何をしたか）を入力してください」: at 80x24 the memo was below the form's
        edge and the focus stayed on the state's dropdown, so the words typed next went into the
        dropdown's search); else a field one of its lines begins with (「いつ: 存在しない日付です…」,
        「外線: 0175-22-1111 の形で…」): typed but refused, it was left out of sight with the focus on
        the field typed last."""
        values = self.values()
        lines = problem.splitlines()

        def base(f: Field) -> str:
            return re.split(r" \(|（| \*", f.label, maxsplit=1)[0].strip()

        def empty(f: Field) -> bool:
            value = values.get(f.key)
            return value is None or (isinstance(value, str) and not value.strip())

        fields = [f for f in self.fields if base(f) and f.kind != "check"]
        named = next((f for f in fields if empty(f) and base(f) in problem), None) or next(
            (f for f in fields if any(line.startswith((base(f) + ":", f.label + ":")) for line in lines)), None)
        if named is None:
            return
        widget = self.query_one(f"#f-{named.key}")
        widget.focus()
        box = self.query_one("#form-fields", VerticalScroll)
        before = box.children[box.children.index(widget) - 1]  # the field's label (not for a check)

        def show() -> None:  # the label at the top, then as much of the field as the box holds
            box.scroll_to_widget(before, animate=False, top=True)
            box.scroll_to_widget(widget, animate=False)

        self.call_after_refresh(show)

    def _ask_more(self, more: AskMore) -> None:
        """The record needs more: the form grows the fields asked for, keeping what was typed."""
        known = {f.key for f in self.fields}
        new = [f for f in more.fields if f.key not in known]
        self.fields.extend(new)
        box = self.query_one("#form-fields", VerticalScroll)
        widgets = [w for f in new for w in self._widgets(f)]
        if widgets:
            box.mount_all(widgets)
            self.call_after_refresh(lambda: widgets[0].focus() if widgets[0].focusable else widgets[-1].focus())
            self.call_after_refresh(lambda: box.scroll_end(animate=False))  # the new fields are last
        if more.title:
            self.title_text = more.title
            self.query_one("#form-title", Label).update(more.title)
        intro = self.query_one("#form-intro", Static)
        intro.update(printable(more.intro))
        intro.display = True
        self.call_after_refresh(self._fit_fields)
        self.notify(printable(more.title or more.intro), severity="warning", markup=False)


class PickerScreen(ModalScreen[str | None]):
    """Pick one of a list (built only when asked). Returns the chosen id, or None."""

    KEYS_SCREEN = "picker"
    BINDINGS = bindings("picker")  # screens/commands.py

    def __init__(self, choices: list[tuple[str, str]], title: str, current: str | None = None, *,
                 wide: bool = False) -> None:
        super().__init__()
        self.choices = choices
        self.title_text = title
        self.current = current
        self.wide = wide  # long choices read whole (the policy's threats): most of the screen's width

    def compose(self) -> ComposeResult:
        with Vertical(id="kind-box", classes="wide" if self.wide else ""):
            yield Label(self.title_text, classes="saved-title")
            yield OptionList(*(Option(Text(label), id=cid) for label, cid in self.choices), id="kind-list")

    def on_mount(self) -> None:
        lst = self.query_one("#kind-list", OptionList)
        if self.current is not None:
            lst.highlighted = lst.get_option_index(self.current)
        lst.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


def pad(text: str, width: int, style: str = "") -> Text:
    """A fixed-width column of user text (double-width Japanese counted), shortened with …."""
    part = Text(one_line(text or ""), style=style)
    part.truncate(width, overflow="ellipsis", pad=True)
    part.append("  ")
    return part

"""The Textual application: joins the core (store, profile) to the screens."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import threading
import time
from datetime import datetime
from typing import Callable

from textual import events
from textual.app import App
from textual.css.query import NoMatches
from textual.message import Message

from .backup import BackupStopped
from .draftsave import plain_problem
from .errors import DomainError
from .profiles import load_profile
from .settings import load_settings, save_setting
from .resources import assets_dir
from .textsafe import control_pictures, one_line, printable
from .store import Store, resolve_store_dir
from screens import css_cache, opening, paste, wide_cuts
from screens.commands import bindings

# Textual's input parser let an ESC inside a pasted text end the paste and read the rest as key
# presses (issue 14, defect 1): read every bracketed paste whole instead, in every driver.
paste.install()
# a widget not in the DOM yet is not restyled at each class set while it is built (screens/opening.py)
opening.install()
# the stylesheets parsed by the last start, read back (~10 ms) instead of parsed again (~85 ms): screens/css_cache.py
css_cache.install()
# a wide character drawn over another widget's edge (a toast over a dialog's border) is drawn whole,
# not as two spaces: screens/wide_cuts.py
wide_cuts.install()

BACKUP_DELAY = 3.0  # seconds after start
UI_LOCK_WAIT = 0.4  # seconds the desk's own thread waits for the store's lock (Store.wait_briefly)
SCREENS_CSS_DELAY = 1.5  # seconds after start: the other screens' styles, parsed while the desk is idle
# The modules of the screens opened from the dashboard and the incident screen (and of what they
# read when they open): imported in a thread while the desk is idle after start. Imported at a
# screen's first open instead, they made it up to 100-300 ms slower than its later opens (issue 15).
MODULES_AHEAD = ("screens.incident", "screens.timeline", "screens.export", "screens.roster", "csirt_tui.drill",
                 "csirt_tui.report.content", "csirt_tui.report.summary", "csirt_tui.response", "csirt_tui.triage",
                 "csirt_tui.outside")
INTAKE_AHEAD_DELAY = 2.0  # seconds after a call, with the dashboard in front: a blank intake made ahead
# seconds after the dashboard's first paint (and the start-up objects' freeze): the first intake made ahead.
# Made 2 s after start, an operator who started the desk as the phone rang and pressed Ctrl+N at once
# waited ~300 ms for a form built then (issue 15: Ctrl+N to a form that takes keys <= 100 ms)
INTAKE_AHEAD_AT_START = 0.0
TRIAGE_AHEAD_DELAY = 3.0  # and then a blank triage form (after start, and after each triage opened),
# once no key has come for this long: its building takes ~0.2 s, in parts of at most ~50-90 ms (a key that
# comes meanwhile waits for the part under way); a `t` before it is made builds one (~0.3 s at 10,000)
TRIAGE_AHEAD_IDLE = 1.0
TRIAGE_AHEAD_RETRY = 0.5  # seconds between two looks for such a pause
QUIT_AGAIN_SECONDS = 10.0  # a refused Ctrl+Q (a draft could not be written) quits if pressed again within this
# Signals that close the desk: each writes the pending drafts first. SIGHUP: the terminal was closed
# (POSIX); SIGBREAK: Ctrl+Break in a Windows console. Those the platform lacks are skipped.
CLOSING_SIGNALS = ("SIGTERM", "SIGHUP", "SIGBREAK")
_GC_FROZEN = False  # see CsirtDeskApp.freeze_startup_objects
# A full collection walks every object not frozen at start (~40,000 once screens were opened: 35-45
# ms here), and Python makes one on its own after 10 collections of the middle generation: about
# every fifth screen opened, in the middle of its opening (the export dialog opened again: ~40 ms of
# its ~190, one open in three, bench/intake.py). Made instead once a screen closed and the one below
# is drawn again, when 5 or more have gone by since the last: the openings that follow (~1 each) do
# not reach Python's 10. Not after an opening: the keys typed into the new screen would wait for it.
GC_FULL_AHEAD = 5
# ... and also when the desk is idle: no key and no screen opened or closed for this long (seconds),
# looked at every GC_IDLE_LOOK. Made only after a close, none was made while screens were opened one
# from another (the tracker, then its step form) or while the operator typed, and Python's own fell
# where it came (issue 15: with the lines below, none of 101 by Python itself in bench/gc_opens.py
# --rounds 20 at 10,000 incidents, 2 of the desk's inside an opening; before, 11 of 69 inside one)
GC_IDLE = 1.0
GC_IDLE_LOOK = 0.5
# Python's own full collection then comes after this many collections of the middle generation (its
# default: 10): the desk's come first (at 5), when it is idle or a screen has closed; Python's is
# left for a long stretch of keys and openings with no pause, as a bound on what is not freed meanwhile
GC_FULL_BY_ITSELF = 25
# ... unless one of them took longer than this (seconds of the desk thread's CPU time, not of the
# clock: on a loaded machine a 40 ms walk took 140 ms of the clock, and the collections ahead were
# given up for good): then no more (as before: Python makes one when GC_FULL_BY_ITSELF have gone by
# and only once the objects that lived on have grown by a quarter; a desk whose 全件 of a
# 200,000-incident store was read again holds millions, a walk of a second or more)
GC_AHEAD_LIMIT = 0.25
GC_PAUSE_LIMIT = 1.0  # seconds: collection, off since start, is on again by then (_resume_gc_after)
PROFILE_CACHE = ".cache"  # in the store; hidden folders are not store data (not backed up, not verified)


def _import_ahead() -> None:
    """Import MODULES_AHEAD (a thread: the keys are read meanwhile; a screen opened during it waits
    for the module it needs, as it would have imported it itself)."""
    import importlib

    for name in MODULES_AHEAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001  (imported again, and reported, when the screen opens)
            return


class KeySettled(Message):
    """Sent after a key handed to the focus, along the way the key goes (the focused widget up to
    the app): where it reaches the app, the key has been handled, its binding run (CsirtDeskApp.on_event)."""

    def __init__(self, target, key: events.Key, since: float | None = None) -> None:
        super().__init__()
        self.target = target
        self.key = key
        # the second round (since: the first's): what the key's handling posted (a Button's Pressed,
        # a DataTable's RowSelected, which open screens too) has been handled as well
        self.again = since is not None
        self.since = time.monotonic() if since is None else since


# seconds: a key whose settling was lost (its widget removed: Esc closed a dialog) is let go (looked at every
# 0.1 s, the key after an Esc that closed a dialog waited 30-60 ms more than before keys were one at a time)
KEY_SETTLE_LOOK = 0.02
CURSOR_KEYS = frozenset({"up", "down", "pageup", "pagedown", "home", "end"})  # (CsirtDeskApp._moves_a_cursor)
KEY_SETTLE_LIMIT = 2.0  # seconds: the keys read after a key never wait longer for it


def typed_ahead(fd: int | None) -> str:
    """The complete lines typed before the desk takes the terminal ``fd`` (a POSIX terminal still
    in its cooked mode: the phone rang while the desk was starting), read now, with their line
    feeds as Enter (CR). The cooked mode's ICRNL turned each Enter into a line feed as it was
    typed, which the desk then read as Ctrl+J: a whole card typed ahead landed in (1) いつ. Only
    what is waiting in whole lines is read (FIONREAD counts no more in canonical mode), so the read
    never waits; a line feed in it was an Enter or a Ctrl+J, which a cooked terminal makes the same
    (a line's end). A part of a line typed after the last Enter is left for the desk to read as
    typed (no line feed in it). Nothing on Windows (its console has no cooked line feeds), nor
    for input that is not a terminal, nor a terminal not in canonical mode."""
    if fd is None or sys.platform == "win32":
        return ""
    try:
        import fcntl
        import struct
        import termios
    except ImportError:
        return ""
    try:
        if not os.isatty(fd) or not termios.tcgetattr(fd)[3] & termios.ICANON:
            return ""
        waiting = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
        data = b""
        while len(data) < waiting:
            line = os.read(fd, waiting - len(data))  # one line a read (canonical mode)
            if not line:
                break
            data += line
    except (OSError, ValueError, termios.error):
        return ""
    return data.decode("utf-8", "replace").replace("\n", "\r")


class TerminalOutput:
    """The terminal as the driver's writer thread sees it. Once the terminal has gone (its window
    closed, the ssh link dropped: the write fails with EIO or EPIPE), what is written is dropped.
    Textual's writer thread would die on that error instead; the desk's next writes then fill its
    queue and block, and the desk, drafts written, never exited after a SIGHUP (test_quit_flush)."""

    def __init__(self, file) -> None:
        self._file = file
        self.gone = False

    def write(self, text: str) -> None:
        if not self.gone:
            try:
                self._file.write(text)
            except (OSError, ValueError):
                self.gone = True

    def flush(self) -> None:
        if not self.gone:
            try:
                self._file.flush()
            except (OSError, ValueError):
                self.gone = True

    def __getattr__(self, name: str):  # fileno, isatty, encoding ...
        return getattr(self._file, name)


class CsirtDeskApp(App):
    """csirt-desk: the incident desk."""

    CSS_PATH = str(assets_dir() / "desk.tcss")  # the dashboard's styles and those all screens share
    # The other screens' styles: read 1.5 s after start, or when a screen not styled by desk.tcss
    # alone opens before that (see push_screen), not before the first paint (they cost it 20-30 ms).
    SCREENS_CSS = assets_dir() / "screens.tcss"
    BINDINGS = bindings("app")  # F1, Ctrl+N, Ctrl+R, Ctrl+P, Ctrl+Q (screens/commands.py)
    COMMAND_PALETTE_DISPLAY = "Ctrl+P"

    def __init__(self, store: Store, *, operator: str, clock: Callable[[], datetime] | None = None,
                 backups: bool = True, freeze_gc: bool = True) -> None:
        super().__init__()
        self.store = store
        self.operator = operator
        self.clock = clock or store.now
        self.backups = backups
        self.freeze_gc = freeze_gc
        self._gc_paused = False
        self._gc_resume: asyncio.Task | None = None  # collection on again once the first intake is built
        self._stack_depth = 0  # screens on the stack at the latest screen change (_screen_changed)
        self._gc_ahead = True  # full collections made between screens (GC_FULL_AHEAD, GC_AHEAD_LIMIT)
        self._gc_idle_timer = None  # looks for a pause to make them in (GC_IDLE)
        self._screen_changed_at = 0.0  # (time.monotonic) the latest screen opened or closed
        self._screen_changes = 0  # screens opened or closed so far (_collect_after_close)
        self._keys_read = 0  # keys and pastes read so far (the same)
        self._screens_css_read = False
        self._imported_ahead = False  # MODULES_AHEAD (import_ahead)
        self._ui_thread: int | None = None
        self._signals: list[tuple[int, object, bool]] = []  # (signal, its handler before, via the loop)
        self._quit_refused_at: float | None = None
        self._intake_ahead = None  # a blank IntakeScreen, composed and mounted, for the next Ctrl+N
        self._triage_ahead = None  # a TriageScreen of no incident yet, composed and mounted, for the next t
        self._key_at = 0.0  # (time.monotonic) when the latest key or paste was read
        self._key_flight: KeySettled | None = None  # a key still being handled (on_event, one at a time)
        self._keys_held: list[events.Event] = []  # keys and pastes read meanwhile, in order
        self.unsaved_on_exit: list[str] = []
        self.damaged: list[str] = []  # what the check after the first paint found (no backup then)
        # Set as the desk closes: a backup still being copied (the one at start: a whole copy of a
        # large store took 42 s here) is given up, rather than keeping the closed desk's process
        # waiting for it, silent, with the terminal already given back (run_app makes the close one)
        self.backup_stop = threading.Event()
        # The validated profile from the store's cache (the same object store.profile returns next):
        # one small JSON file read instead of parsing and validating the TOML files at every start.
        load_profile(store.meta["profile"], cache_dir=store.root / PROFILE_CACHE)
        profile = store.profile
        poc = profile.poc
        self.title = f"csirt-desk — {profile.name}"
        ext = f" 内線{poc['extension']}" if poc.get("extension") else ""
        self.sub_title = printable(f"PoC {poc.get('hours_label', '')}{ext}  操作者: {operator}", keep_newlines=False)

    def on_mount(self) -> None:
        from screens.dashboard import DashboardScreen

        # What the intake needs that the dashboard does not, before the first paint (~10 ms of its
        # ~230 at 10,000 incidents): its modules (screens.intake, screens.form, screens.select …)
        # and the hours of the PoC (jpholiday, read by the out-of-hours banner). Imported when the
        # form made ahead is built, they were ~12 ms of a Ctrl+N pressed at once after that paint,
        # which waits for the form's whole build (issue 15: Ctrl+N <= 100 ms at the 90th percentile)
        import screens.intake  # noqa: F401

        try:
            self.store.profile.in_hours(self.now())
        except Exception:  # noqa: BLE001  (only read ahead: the banner reads it again, and says what is wrong)
            pass

        self._ui_thread = threading.get_ident()
        # A save on this thread waits for the store's lock a fraction of a second, then says the
        # store is busy (StoreBusyError): a large import holds it for minutes, and every key froze
        # for the store's 15 s, then the save failed all the same (screens/form.StoreWait).
        self.store.wait_briefly(UI_LOCK_WAIT)
        self._restore_theme()
        self.screen_change_signal.subscribe(self, self._screen_changed)  # (GC_FULL_AHEAD)
        self._catch_closing_signals()
        from screens import typed

        self.screen_change_signal.subscribe(self, lambda screen: typed.screen_changed(self, screen))
        self.push_screen(DashboardScreen())
        self.set_timer(SCREENS_CSS_DELAY, self._preload_screens_css)
        self.set_timer(INTAKE_AHEAD_DELAY + TRIAGE_AHEAD_DELAY, self.prepare_triage)  # (the intake's: freeze_startup_objects)
        # once the dashboard is up, not during the first paint: the check of what the open
        # did not read, then the backup (what changed since the last one)
        self.set_timer(BACKUP_DELAY, self._after_first_paint)
        drafts = self.store.list_drafts()
        self.report_set_aside()
        if drafts:  # a call was cut by a crash or a closed terminal: offer to go on with it
            from screens.resume import ResumeDraftScreen

            self.push_screen(ResumeDraftScreen(drafts), self._resume_answer)

    def report_set_aside(self) -> None:
        """Say which damaged files the store set aside (they are kept, not deleted)."""
        from csirt_tui.textsafe import printable

        for where, problem in self.store.take_set_aside():
            short = problem if len(problem) <= 30 else problem[:29] + "…"
            self.notify(printable(f"壊れた下書きを退避しました（中身は残っています）: {where.name}\n{short}"),
                        title="下書き", severity="warning", timeout=20, markup=False)

    # ------------------------------------------------------------ garbage collector
    # Python's cyclic garbage collector walks container objects; a full walk covers every
    # one of them (~60,000 after start-up, ~80,000 at 10,000 incidents: 30-70 ms here).
    # During start-up it ran ~150 times (one full walk) for ~75 ms in all, and later its
    # full walks fell on filter keystrokes now and then. So: no automatic collection from
    # the app's Load event until the dashboard is first drawn, then one collection of what
    # start-up made (it frees start-up's cyclic garbage) and gc.freeze(): what is alive then
    # (modules, Textual, the widgets, the first load of the index) lives as long as the desk,
    # and later collections no longer walk it. Frozen objects are still freed by reference
    # counting (index rows replaced by a reload go as before). Collection comes back on once the
    # first intake made ahead, built right after that paint, is mounted (_resume_gc_after).

    def on_load(self) -> None:
        if self.freeze_gc and not _GC_FROZEN and gc.isenabled():
            gc.disable()
            self._gc_paused = True

    def freeze_startup_objects(self) -> None:
        """Called by the dashboard once it is first drawn (see above). Freezes once per
        process (tests start many apps in one process); always turns collection back on: at
        once, or once the first intake made ahead is mounted (prepare_intake)."""
        global _GC_FROZEN
        try:
            if self.freeze_gc and not _GC_FROZEN:
                _GC_FROZEN = True
                gc.collect(1)  # start-up's objects are all still young: this walks only them
                gc.freeze()
                young, middle, full = gc.get_threshold()
                gc.set_threshold(young, middle, max(GC_FULL_BY_ITSELF, full))
        finally:
            if self.freeze_gc and self._gc_idle_timer is None:
                self._gc_idle_timer = self.set_interval(GC_IDLE_LOOK, self._collect_when_idle)
            # the intake made ahead from now, not 2 s after start (after the freeze: a form kept
            # in the freeze would never be collected once closed). A Ctrl+N pressed while it is
            # being built takes it as it is; the keys typed with it wait for its mount and land in
            # order (IntakeScreen.keys_wait). Collection stays off while it is built (prepare_intake)
            if self._intake_ahead is None and not INTAKE_AHEAD_AT_START:
                self.call_later(self.prepare_intake)
            else:
                self._resume_gc()
                if self._intake_ahead is None:
                    self.set_timer(INTAKE_AHEAD_AT_START, self.prepare_intake)

    def _screen_changed(self, _screen) -> None:
        self._screen_changed_at = time.monotonic()
        self._screen_changes += 1
        depth, self._stack_depth = self._stack_depth, len(self.screen_stack)
        if self._stack_depth < depth:  # a screen closed: once the one below is drawn again
            self.forget_closed_watchers()
            self.call_after_refresh(self._collect_after_close, self._screen_changes, self._keys_read)

    def forget_closed_watchers(self) -> None:
        """Textual keeps, on the app, a list of the widgets that watch its ``title``, ``sub_title``
        and ``theme`` (every Header: DeskHeader; every TextArea), and drops those that have closed
        only when that value changes, which it never does on the desk. So every screen with a
        header or a memo, once closed, stayed in memory whole with its drawn lines (issue 15:
        +30,000 objects and ~2.5 MB each walk through the screens at 10,000 incidents,
        bench/gc_opens.py), and each full collection walked them all: 35 ms after one walk, 250 ms
        after twenty, more and more often inside a screen's opening. What Textual's own pruning
        does (Reactive._check_watchers), done when a screen has closed and every GC_IDLE_LOOK, for
        the app and the screens on the stack: the entries of closed widgets go."""
        for obj in (self, *self.screen_stack):
            watchers = getattr(obj, "__watchers", None)  # (Textual's own name: set with setattr, not mangled)
            if not watchers:
                continue
            for name, entries in watchers.items():
                if any(node._closing or node._closed for node, _ in entries):
                    entries[:] = [(node, callback) for node, callback in entries
                                  if not (node._closing or node._closed)]

    def _collect_after_close(self, changes: int, keys: int) -> None:
        """After a close, once the screen below is drawn again: not if a key came or a screen
        opened meanwhile, or a key is waiting to be read (Esc then at once the key of the next
        screen: the collection fell inside that screen's opening, the timeline's from the incident
        4 times in 20 in bench/gc_opens.py --rounds 20); it is made at the next pause then."""
        if self._screen_changes == changes and self._keys_read == keys and self._message_queue.empty():
            self._collect_ahead()

    def _collect_ahead(self) -> None:
        """The full collection Python would soon make by itself, made now, between two openings."""
        if self._gc_ahead and gc.isenabled() and gc.get_count()[2] >= GC_FULL_AHEAD:
            started = time.thread_time()
            gc.collect()
            self._gc_ahead = time.thread_time() - started <= GC_AHEAD_LIMIT

    def _collect_when_idle(self) -> None:
        """The same, when no key has come and no screen opened or closed for GC_IDLE (and no key
        is being handled or held). And, at each look, the watchers of widgets closed since."""
        self.forget_closed_watchers()  # (a screen is taken down after the change that closed it)
        if self._key_flight is not None or self._keys_held or self._exit or self._closing \
                or not self._message_queue.empty():
            return
        if time.monotonic() - max(self._key_at, self._screen_changed_at) >= GC_IDLE:
            self._collect_ahead()

    def _resume_gc(self) -> None:
        if self._gc_paused:
            self._gc_paused = False
            gc.enable()

    def _resume_gc_after(self, screen) -> None:  # type: ignore[no-untyped-def]
        """Collection, off since start (on_load), on again once ``screen`` (the first intake made
        ahead, being built) is mounted, or at once if there is none. Its ~60 widgets made some
        30 collections of the young objects, and two or three of the middle generation, while it
        was built (~4 ms of a Ctrl+N pressed at once after the first paint, which waits for that
        build: bench/intake.py); the collection that follows walks them once, after."""
        if not self._gc_paused:
            return
        built = getattr(screen, "keys_wait", None)
        if built is None:
            self._resume_gc()
            return

        async def resume() -> None:
            try:
                await asyncio.wait_for(built.wait(), GC_PAUSE_LIMIT)
            except asyncio.TimeoutError:
                pass
            finally:
                self._resume_gc()

        self._gc_resume = asyncio.get_running_loop().create_task(resume())

    def on_unmount(self) -> None:
        self.store.wait_briefly(None)  # the backup at the close (run_app) waits as the CLI does
        css_cache.save()  # what this start parsed anew, for the next start
        if self._gc_resume is not None:
            self._gc_resume.cancel()  # (collection on again, below)
        self._resume_gc()  # closed before the dashboard was drawn, or the first intake built
        self._release_closing_signals()

    # ------------------------------------------------------------ closing: drafts first
    # Ctrl+Q, the palette's 終了, SIGTERM and a closed terminal (SIGHUP) used to close the desk
    # with the last <= 0.25 s of typing not yet in the draft (issue 14, defect 5).

    def flush_drafts(self) -> list[str]:
        """Write every open screen's pending draft now (the intake's autosave is 0.25 s behind
        the keyboard). Returns what went wrong for each draft that could not be written."""
        problems = []
        for screen in list(self.screen_stack):
            flush = getattr(screen, "flush_now", None)
            if flush is None:
                continue
            try:
                problem = flush(report=False)
            except Exception as err:  # never keep the desk from closing over it
                problem = one_line(str(err)) or type(err).__name__
            if problem:
                problems.append(self._unsaved_text(screen, problem))
        return problems

    @staticmethod
    def _unsaved_text(screen, problem: str) -> str:
        """What could not be written and where its text is, in words that are true: which
        screen's text, whether an older draft of it is on disk, the disk's reason."""
        try:
            title = screen.draft_title() if hasattr(screen, "draft_title") else ""
            keeper = getattr(screen, "keeper", None)
            where = keeper.where_text() if keeper is not None else ""
        except Exception:  # a screen being torn down: say the plain reason
            title, where = "", ""
        return f"{title}: {where or problem}" if title else (where or problem)

    def exit(self, result=None, return_code: int = 0, message=None) -> None:
        """Close the desk, every pending draft written first (whoever asks: Ctrl+Q, the
        palette, a signal, Textual itself)."""
        if threading.get_ident() == self._ui_thread:  # the widgets are read on the UI thread only
            self.unsaved_on_exit = self.flush_drafts()  # said by run_app once the terminal is back
        self.backup_stop.set()
        super().exit(result, return_code, message)

    def after_keys(self, callback, *args, **kwargs) -> None:
        """Run ``callback`` once the keys read so far are in their field. The app hands each key
        to the focused widget's own queue, and runs a priority binding such as Ctrl+Q at once: a
        Ctrl+Q read together with the last keys typed (one read of a fast typist's keys) came
        before those keys were in the field. This queues ``callback`` behind them."""
        try:
            target = self.focused or self.screen
            if target.call_later(callback, *args, **kwargs):
                return
        except Exception:  # no screen (closing): nothing is on its way
            pass
        callback(*args, **kwargs)

    async def action_quit(self) -> None:
        self.after_keys(self.request_quit)

    def action_move_focus(self, step: int) -> None:
        """Tab / Shift+Tab, as soon as they are read (priority): the keys typed right after go to
        the next field, however fast they come. An open dropdown keeps its own keys."""
        from textual.actions import SkipAction
        from textual.widgets import Select

        screen = self.screen
        if any(getattr(sel, "expanded", False) for sel in screen.query(Select)):
            raise SkipAction()
        if step > 0:
            screen.focus_next()
        else:
            screen.focus_previous()

    async def action_after_typed(self, action: str) -> None:
        """Run the screen's ``action`` once the keys read with its key are in their fields (the
        priority keys that save or copy what was typed: screens/commands.py READS_FIELDS)."""
        screen = self.screen

        async def run() -> None:
            if screen.is_attached:
                await screen.run_action(action)

        try:
            target = self.focused or screen
            if target.call_later(run):
                return
        except Exception:  # nothing focused that could queue it
            pass
        await run()

    def request_quit(self, *, waited: bool = False) -> None:
        """Ctrl+Q / 終了: close, unless a draft cannot be written; then say so and stay open
        (pressed again within QUIT_AGAIN_SECONDS it closes all the same). A draft that could not
        be written only because this desk's own autosave of it was still being written (a slow
        disk: DraftKeeper.writing_behind) is waited for: the desk closes once it is written
        (``waited``: called so), everything typed in the draft."""
        problems = self.flush_drafts()
        now = time.monotonic()
        again = not waited and self._quit_refused_at is not None and now - self._quit_refused_at < QUIT_AGAIN_SECONDS
        if problems and not again:
            self._quit_refused_at = now
            keepers = [getattr(screen, "keeper", None) for screen in self.screen_stack]
            writing = [keeper for keeper in keepers if keeper is not None and keeper.writing_behind()]
            if len(writing) == len(problems):  # nothing else stands in the way
                if not waited:
                    self.notify("下書きを書き込んでいる途中です（ディスクの応答が遅れています）。書き終わりしだい、"
                                "入力をすべて下書きに保存して終了します。\n"
                                "待たずに終了するときは、もう一度 Ctrl+Q（最後の入力は保存されません）",
                                title="終了を待っています", severity="warning", timeout=QUIT_AGAIN_SECONDS, markup=False)
                writing[0].when_written(self._quit_when_written)
                return
            self.notify("下書きを保存できませんでした。\n" + "\n".join(problems)
                        + "\nCtrl+O で別の場所に保存・コピーできます。もう一度 Ctrl+Q を押すと、保存せずに終了します。",
                        title="終了していません", severity="error", timeout=QUIT_AGAIN_SECONDS, markup=False)
            return
        self.exit()

    def _quit_when_written(self) -> None:
        self.request_quit(waited=True)

    def get_driver_class(self):
        """The platform's driver, writing through TerminalOutput (a test's headless driver is not this)."""
        base = super().get_driver_class()

        class DeskDriver(base):
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, **kwargs)
                if getattr(self, "_file", None) is not None:
                    self._file = TerminalOutput(self._file)

            def start_application_mode(self) -> None:
                ahead = typed_ahead(getattr(self, "fileno", None))
                if ahead:
                    from textual._xterm_parser import XTermParser

                    parser = XTermParser()
                    for event in [*parser.feed(ahead), *parser.tick()]:
                        self.process_message(event)
                super().start_application_mode()

        DeskDriver.__name__ = DeskDriver.__qualname__ = "Desk" + base.__name__
        return DeskDriver

    def _catch_closing_signals(self) -> None:
        """SIGTERM, SIGHUP (POSIX: the terminal was closed) and SIGBREAK (Windows: Ctrl+Break)
        close the desk the way Ctrl+Q does, drafts written first. Through the event loop where
        it can (POSIX), else a plain handler that hands over to the loop (Windows). A signal
        ignored when the desk starts (SIGHUP under nohup) stays ignored."""
        loop = self._closing_loop = asyncio.get_running_loop()
        self._catch_console_close()
        for name in CLOSING_SIGNALS:
            signum = getattr(signal, name, None)
            if signum is None:
                continue
            try:
                previous = signal.getsignal(signum)
            except ValueError:
                continue
            if previous is signal.SIG_IGN:
                continue
            try:
                loop.add_signal_handler(signum, self._closing_signal, signum)
                via_loop = True
            except (NotImplementedError, RuntimeError, ValueError, OSError):
                try:
                    signal.signal(signum, lambda sig, _frame: loop.call_soon_threadsafe(self._closing_signal, sig))
                except (ValueError, OSError):
                    continue  # not the main thread (a test harness): the signal is left as it was
                via_loop = False
            self._signals.append((signum, previous, via_loop))

    # Windows: closing the console window, logging off or shutting down ends the process with
    # no Python signal (CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT). A console
    # control handler runs on a thread of its own; Windows waits for it (about 5 s for a close).
    CONSOLE_CLOSE_EVENTS = (2, 5, 6)
    CONSOLE_CLOSE_WAIT = 4.0

    def _catch_console_close(self) -> None:
        if sys.platform != "win32":
            return
        import ctypes
        from ctypes import wintypes

        handler_type = ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.DWORD)

        def handler(event: int) -> bool:
            if event in self.CONSOLE_CLOSE_EVENTS:
                self.on_console_close()
            return False  # then Windows' default: the process ends

        self._console_handler = handler_type(handler)  # kept: the callback must outlive this call
        try:
            ctypes.windll.kernel32.SetConsoleCtrlHandler(self._console_handler, True)
        except (AttributeError, OSError):
            self._console_handler = None

    def on_console_close(self) -> list[str]:
        """From any thread: have the UI thread write every pending draft, and wait for it
        (at most CONSOLE_CLOSE_WAIT s); what could not be written is returned."""
        done = threading.Event()
        result: list[str] = []

        def flush() -> None:
            try:
                result.extend(self.flush_drafts())
            finally:
                done.set()

        loop = getattr(self, "_closing_loop", None)
        if loop is None or loop.is_closed():
            return ["desk not running"]
        loop.call_soon_threadsafe(flush)
        if not done.wait(self.CONSOLE_CLOSE_WAIT):
            return ["timed out"]
        self.unsaved_on_exit = list(result)
        return result

    def _release_closing_signals(self) -> None:
        """Give each signal back the handler it had before the desk started."""
        while self._signals:
            signum, previous, via_loop = self._signals.pop()
            try:
                if via_loop:
                    asyncio.get_running_loop().remove_signal_handler(signum)
                signal.signal(signum, signal.SIG_DFL if previous is None else previous)
            except (RuntimeError, ValueError, OSError):
                pass

    def _closing_signal(self, signum: int) -> None:
        self.after_keys(self.exit, return_code=128 + signum)

    # ------------------------------------------------------------ pastes
    KEYS_WAIT_LIMIT = 5.0  # seconds: a screen that never finished building does not hold the keys for ever

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.Paste)) and not self.screen_stack:
            return  # read as the desk closes, its screens gone (a key read again for a new screen): for no one
        if isinstance(event, events.Key) and event.is_forwarded and self._read_on_another_screen(event):
            return
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            # One key at a time: a key (or a paste) read while the one before is still being handled
            # waits for it (_key_settled). Textual hands a key to the focus and reads the next at
            # once: 「s」 and Tab in one read on the response tracker, the Tab (a priority binding,
            # run as it is read) moved the tracker's focus before 「s」 reached its binding and
            # opened the step form. Held, it acts as typed slowly: on the form.
            if not getattr(event, "desk_let_go", False) and (self._key_flight is not None or self._keys_held):
                self._keys_held.append(event)
                return
            target = self.focused or self.screen
            handed = (isinstance(event, events.Key) and not self._typed_into(target, event)
                      and not self._moves_a_cursor(target, event))
            await self._on_input_event(event)
            if handed and event.is_forwarded:  # given to the focus (no priority binding took it)
                self._key_handed(target, event)
            return
        await super().on_event(event)

    @staticmethod
    def _typed_into(target, key: events.Key) -> bool:
        """``key`` types a character into the text field ``target``: it opens nothing and moves
        no focus, the key after it need not wait (a burst of text would wait for a repaint a key:
        bench/key_burst.py)."""
        from screens import typed

        return isinstance(target, typed.TEXT_WIDGETS) and (key.key == "space" or typed.typed_character(key) is not None)

    @staticmethod
    def _moves_a_cursor(target, key: events.Key) -> bool:
        """``key`` moves the cursor of the list ``target`` (the dashboard's table, a list of
        examples, an open dropdown's list): it opens nothing and moves no focus, the key after it
        need not wait. 40 Downs in one read (a remote session's batch) took 410-760 ms on the
        dashboard at 10,000 incidents, each waiting for the one before, and 70-120 ms before keys
        were handled one at a time (review). A Down on a closed dropdown opens it: that one waits."""
        from textual.widgets import DataTable, OptionList

        return key.key in CURSOR_KEYS and isinstance(target, (DataTable, OptionList))

    def _key_handed(self, target, key: events.Key, since: float | None = None) -> None:
        """``key`` is on its way from ``target`` up to the app: the next key waits for it."""
        self._key_flight = settled = KeySettled(target, key, since)
        target.post_message(settled)
        self.set_timer(KEY_SETTLE_LOOK, lambda: self._settle_lost(settled))

    async def on_key_settled(self, message: KeySettled) -> None:
        message.stop()
        if message is not self._key_flight:
            return  # one given up on (_settle_lost)
        target = message.target
        if not message.again and target.is_attached:
            self._key_handed(target, message.key, since=message.since)
            return
        await self._key_settled()

    def _settle_lost(self, settled: KeySettled) -> None:
        if settled is not self._key_flight:
            return
        if settled.target.is_attached and time.monotonic() - settled.since < KEY_SETTLE_LIMIT:
            self.set_timer(KEY_SETTLE_LOOK, lambda: self._settle_lost(settled))
            return
        self.call_later(self._key_settled)

    async def _key_settled(self) -> None:
        """The key in flight is handled: the keys held meanwhile go on, in order, each waiting
        for the one before it as it did."""
        self._key_flight = None
        while self._keys_held and self._key_flight is None and self.screen_stack:
            event = self._keys_held.pop(0)
            event.desk_let_go = True
            await self.on_event(event)
        if not self.screen_stack:
            self._keys_held.clear()

    async def _on_input_event(self, event: events.Event) -> None:
        """A key or a paste read from the terminal (not one bubbling back up), handled."""
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            self._key_at = time.monotonic()  # (prepare_triage waits for a pause in the typing)
            self._keys_read += 1
            # A screen still mounting part of itself after its first paint (the triage's lower form)
            # has the keys wait for it: none is lost, none acts on a field not there yet, all in order
            # (the app reads the next one only when this one is handled). A screen may say that a key
            # waits for less (``key_ready``: the keys for the triage's top, its choices and
            # 確認の結果・方法, act from its first paint).
            wait = getattr(self.screen, "keys_wait", None)
            if wait is not None and not wait.is_set():
                ready = getattr(self.screen, "key_ready", None)
                try:
                    await asyncio.wait_for(wait.wait() if ready is None else ready(event), self.KEYS_WAIT_LIMIT)
                except asyncio.TimeoutError:
                    pass
        if isinstance(event, events.Key) and not event.is_forwarded:
            event.desk_screen = self.screen  # (_read_on_another_screen)
            took_early = getattr(self.screen, "took_early", None)  # (screens/form.DraftOfferScreen)
            if took_early is not None and took_early(event):
                return
            if await self._typed_where_no_text_goes(event):
                return
            event.desk_focus = self.focused  # (_on_key)
        if isinstance(event, events.Paste) and not event.is_forwarded and await self._pasted_where_no_text_goes(event):
            return
        if isinstance(event, events.Paste) and not event.is_forwarded:
            # A paste is read whole, control characters and all (screens/paste.py). The desk's
            # fields keep them and draw them as symbols; a field that would draw them as they are
            # (Textual's own: the command palette's search) gets the symbols instead.
            focused = self.focused
            if not (getattr(focused, "SHOWS_CONTROLS_AS_SYMBOLS", False) or getattr(focused, "password", False)):
                event.text = control_pictures(event.text, keep="\t\r\n")
        await super().on_event(event)

    def _read_on_another_screen(self, event: events.Key) -> bool:
        """A key read together with the one that opened a screen (one read of the terminal: 「t」
        and the Space after it, from a fast typist, tmux or a remote session) was handed to the
        old screen's focus before that key's action ran; not taken there, it comes back up here
        with the new screen in front, where it was dropped. It is read again, for the new screen."""
        read_on = getattr(event, "desk_screen", None)
        if read_on is None or read_on is self.screen or getattr(event, "desk_again", False):
            return False
        again = events.Key(event.key, event.character)
        again.desk_again = True
        again.time = event.time  # when it was read (DraftOfferScreen.took_early: read before an offer opened)
        if self._key_flight is not None or self._keys_held:
            self._keys_held.insert(0, again)  # before the keys read after it (on_event: one at a time)
        else:
            self.post_message(again)
        return True

    async def _typed_where_no_text_goes(self, event: events.Key) -> bool:
        """A character typed where the focus takes no text (a choice, a list, a dropdown), as the
        key is read (screens/typed.py). It goes to the field the screen names for it
        (``text_field_for``), which has the focus from this key on, so the rest of the text (a
        Space in it too, which on a choice would choose) follows it there however fast it comes.
        On a list of examples or a dropdown it finds the entry containing it, at once too: a Space
        or Enter read right after it acts on the entry found (the triage's Space is read so). True:
        the key is answered here and goes no further. (On anything else the key goes on, and comes
        back unhandled to ``_on_key``: a key read before it may have opened another screen.)"""
        from screens import typed

        ch = typed.typed_character(event)
        if ch is None:
            typed.end_burst(self)  # Tab, Enter, an arrow, Space: the word typed so far is over
            return False
        screen = self.screen
        focused = self.focused
        self._look_for_retyped(focused)
        if focused is not None and getattr(focused, "expanded", False):
            focused = typed.open_list_of(focused)  # a dropdown opening: its list has the focus next
        if focused is None:
            return False
        field_for = getattr(screen, "text_field_for", None)
        field = field_for(focused) if field_for is not None else None
        if field is not None and field is not focused:
            self._focus_for_text(field)
            return False
        if not typed.finds_as_read(focused) or self._bound_here(event):
            return False
        return await typed.find_typed(self, focused, ch)

    async def _pasted_where_no_text_goes(self, event: events.Paste) -> bool:
        """A paste where the focus takes no text, as a typed word (``_typed_where_no_text_goes``):
        to the field the screen names for it, found on a list or a dropdown, or said, quoted, in one
        line (a choice, a button or a list dropped it without a sign). True: answered here."""
        from screens import typed

        focused = self.focused
        self._look_for_retyped(focused)
        if focused is not None and getattr(focused, "expanded", False):
            focused = typed.open_list_of(focused)
        if focused is None or isinstance(focused, typed.TEXT_WIDGETS) or not event.text:
            return False
        typed.end_burst(self)  # a paste is a word of its own
        field_for = getattr(self.screen, "text_field_for", None)
        field = field_for(focused) if field_for is not None else None
        if field is not None and field is not focused:
            self._focus_for_text(field)
            return False  # on to the field (the focus now)
        if typed.can_find(focused):
            await typed.find_typed(self, focused, event.text)
        else:
            typed.say_not_taken(self, focused, event.text)
        return True

    async def _on_key(self, event: events.Key) -> None:
        """A key no widget took and no binding runs (Textual's App._on_key, then): text typed where
        nothing takes it is found on a list (:func:`screens.typed.find_typed`: the lists to pick
        from, whose Enter opens another screen, so text read after an Enter reaches that screen,
        CsirtDeskApp._read_on_another_screen) or said, quoted whole, in one line."""
        from textual._dispatch_key import dispatch_key

        from screens import typed

        event.prevent_default()  # (Textual's own App._on_key would run the binding a second time)
        if await self._check_bindings(event.key) or await dispatch_key(self, event):
            return
        ch = typed.typed_character(event)
        widget = getattr(event, "desk_focus", None)
        if ch is None or widget is None or getattr(event, "desk_screen", None) is not self.screen \
                or not widget.is_attached or isinstance(widget, typed.TEXT_WIDGETS):
            return
        if typed.can_find(widget):
            await typed.find_typed(self, widget, ch)
        else:
            typed.say_not_taken(self, widget, ch)

    def _look_for_retyped(self, focused) -> None:  # type: ignore[no-untyped-def]
        """Text read for a field while a line quotes text not taken: once the field has taken it
        (after its refresh), the line goes if the text is there (screens/typed.py retyped_in)."""
        from screens import typed

        if getattr(self, "typed_lost", None) is not None and isinstance(focused, typed.TEXT_WIDGETS):
            focused.call_after_refresh(typed.retyped_in, self, focused)

    def _focus_for_text(self, field) -> None:  # type: ignore[no-untyped-def]
        """The focus on ``field`` at once (Widget.focus waits for the message loop), its cursor at
        the end: what is there already is kept, the text typed is added after it. (Input selects
        its whole value as it takes the focus: the next character typed replaced it, so the triage's
        確認の結果・方法 lost what was written in it when text was typed on the types.)"""
        from textual.widgets import Input, TextArea

        self.screen.set_focus(field)
        if isinstance(field, Input):
            field.cursor_position = len(field.value)
            if field.select_on_focus:
                field.select_on_focus = False  # for the Focus just posted to it; given back after it
                field.call_later(setattr, field, "select_on_focus", True)
        elif isinstance(field, TextArea):
            field.move_cursor(field.document.end)

    def _bound_here(self, event: events.Key) -> bool:
        """The key is a command where it is typed (a binding of the focus, its screen or the app)."""
        keys = set(event.aliases)
        try:
            chain = self.screen._binding_chain
        except Exception:
            return False
        return any(keys & bindings.key_to_bindings.keys() for _node, bindings in chain)

    # ------------------------------------------------------------ styles of the other screens
    def _read_screens_css(self, screen) -> None:
        if self._screens_css_read or getattr(screen, "STYLED_BY_DESK_TCSS", False):
            return
        self._screens_css_read = True
        if self.css_monitor is not None:  # textual run --dev: reload it when edited, like desk.tcss
            self.css_monitor.add_paths([self.SCREENS_CSS])
        # Parsed when the new screen's widgets are first styled. Its rules only match widgets of
        # the other screens (their ids and screen types), so the dashboard need not be restyled.
        self.stylesheet.read(self.SCREENS_CSS)

    def _preload_screens_css(self) -> None:
        """Parse them now (~20 ms) rather than when the operator first presses Ctrl+N."""
        self._read_screens_css(None)
        self.stylesheet.rules  # noqa: B018  (parses what was read; kept in the stylesheet's parse cache)
        self.import_ahead()

    def import_ahead(self) -> None:
        """MODULES_AHEAD, in a thread started with the dashboard in front (not while the first
        intake, opened at once after start, is being built and typed into: it would compete)."""
        from screens.dashboard import DashboardScreen

        if self._imported_ahead or not self.is_running or self._exit or self._closing:
            return
        if not isinstance(self.screen, DashboardScreen):
            self.set_timer(INTAKE_AHEAD_DELAY, self.import_ahead)
            return
        self._imported_ahead = True
        threading.Thread(target=_import_ahead, name="csirt-desk-import-ahead", daemon=True).start()

    def push_screen(self, screen, *args, **kwargs):
        self._read_screens_css(screen)
        return super().push_screen(screen, *args, **kwargs)

    def switch_screen(self, screen):
        self._read_screens_css(screen)
        return super().switch_screen(screen)

    def _after_first_paint(self) -> None:
        def work() -> None:
            problems = self.store.check_after_open()
            if problems:
                self.damaged = problems
                self.call_from_thread(self.say_damaged_store, problems)
                return  # no backup of a damaged store: the older ones stay as they are
            if self.backups:
                self._open_backup()

        self.run_worker(work, thread=True, exit_on_error=False, group="after-first-paint")

    OPEN_BACKUP_AGAIN = 60.0  # seconds: the backup at start, given way to a save, is made again then

    def _open_backup(self) -> None:
        """(On a worker's thread.) The backup at start. A save on the screen's thread while it
        copies comes first (Store._acquire): it is given up and made again a minute later."""
        try:
            self.store.backup("open", stop=self.backup_stop)
        except BackupStopped:
            if not self.backup_stop.is_set():  # not the desk closing: it gave way to a save
                self.call_from_thread(self.set_timer, self.OPEN_BACKUP_AGAIN, lambda: self.run_worker(
                    self._open_backup, thread=True, exit_on_error=False, group="after-first-paint"))

    def say_damaged_store(self, problems: list[str]) -> None:
        """Damage found after the first paint, said plainly and kept on screen."""
        from csirt_tui.textsafe import printable

        more = f"\nほか {len(problems) - 1} 件" if len(problems) > 1 else ""
        self.notify(printable(f"ストアのファイルが壊れています: {problems[0]}{more}\n"
                              "csirt-desk verify で確かめてください (索引は csirt-desk reindex で記録から"
                              "作り直せます)。起動時のバックアップは作っていません"),
                    title="ストアの破損", severity="error", timeout=3600, markup=False)

    def say_damaged_backup(self, path, problems: list[str]) -> None:
        """A backup made without the damaged index files it found: said, kept on screen."""
        from csirt_tui.textsafe import printable

        more = f"\nほか {len(problems) - 1} 件" if len(problems) > 1 else ""
        self.notify(printable(f"バックアップ {path.name} を作成しましたが、壊れた索引ファイルは入れていません:"
                              f" {problems[0]}{more}\nほかのファイルは保存しました。索引は csirt-desk reindex で"
                              "記録から作り直せます"),
                    title="ストアの破損", severity="error", timeout=3600, markup=False)

    def _resume_answer(self, draft_id: str | None) -> None:
        if draft_id:
            self.open_draft(draft_id)

    def action_new_intake(self) -> None:
        from screens.intake import IntakeScreen

        if isinstance(self.screen, IntakeScreen):
            return  # already taking a call
        screen, self._intake_ahead = self._intake_ahead, None
        if screen is not None and screen.is_running:
            screen.open_now()
        else:
            screen = IntakeScreen()
        self.push_screen(screen)
        self.set_timer(INTAKE_AHEAD_DELAY, self.prepare_intake)  # for the next call

    # Ctrl+N is the first key when the phone rings. Building the intake form when it is pressed
    # (its modules, some 60 widgets, their styles) took 300-450 ms on a desk PC: the form is built
    # ahead instead, while the dashboard is idle (as soon as it is first drawn, and 2 s after each call), registered
    # with the app but on no screen stack, so that it is composed and mounted unseen; Ctrl+N then
    # only shows it (bench/intake.py).
    def _handle_exception(self, error: Exception) -> None:
        """A query for a child that is gone, raised while the desk is shutting down, is not a
        crash: a widget still being built as the desk quit (the intake form made ahead, a dialog
        opened just before Ctrl+Q) asked for a child that the shutdown had already removed
        (clean-clone CI runs: NoMatches '#label' in a Select, '#channel' on the intake form).
        Textual took it for an unhandled error: traceback and exit code 1 at a normal quit.
        Anything else, and anything while the desk runs, is Textual's as before."""
        if isinstance(error, NoMatches) and not self._running:
            self.log.warning(f"at shutdown: {error}")
            return
        super()._handle_exception(error)

    def prepare_intake(self) -> None:
        if self._intake_ahead is not None or not self.is_running or self._exit or self._closing:
            self._resume_gc_after(None)
            return
        from screens.dashboard import DashboardScreen

        if not isinstance(self.screen, DashboardScreen):
            # not while a screen is being typed into: building it holds the keys for a moment
            self._resume_gc_after(None)
            self.set_timer(INTAKE_AHEAD_DELAY, self.prepare_intake)
            return
        from screens.intake import IntakeScreen

        self._intake_ahead = self.build_unseen(IntakeScreen())
        self._resume_gc_after(self._intake_ahead)

    def build_unseen(self, screen):  # type: ignore[no-untyped-def]
        """``screen`` composed, mounted and styled now, registered with the desk but on no screen
        stack (a form made ahead, shown later by push_screen); returns it."""
        self._read_screens_css(screen)
        self._load_screen_css(screen)
        self._register(self, screen)
        return screen

    def action_roster(self) -> None:
        from screens.roster import RosterScreen

        if not isinstance(self.screen, RosterScreen):
            self.push_screen(RosterScreen())

    def open_triage(self, incident_id: str, reopen: str | None = None) -> None:
        from screens.triage import TriageScreen

        ahead = self._triage_ahead
        # (its message loop started, or about to: `t` in the very turn it was begun)
        usable = (ahead is not None and reopen is None and ahead.ahead and not ahead._closed
                  and (ahead.is_running or ahead._task is not None))
        try:
            if usable:
                incident = self.store.incident(incident_id)  # (DomainError: kept for the next t)
                self._triage_ahead = None
                # in front first, then given its incident (before it is drawn): the offer of an
                # unsaved triage of that incident (start_drafts) is pushed over it, not under it
                if ahead.is_mounted:
                    self.push_screen(ahead)
                    ahead.open_for(incident_id, incident)
                else:  # still being built (`t` within its ~0.2 s): finished, not built a second time
                    ahead.open_at_mount(incident_id, incident)
                    self.push_screen(ahead)
            else:
                self.push_screen(TriageScreen(incident_id, reopen=reopen))
        except DomainError as err:
            self.notify(str(err), severity="error", markup=False)
        if self._triage_ahead is None:
            self.set_timer(TRIAGE_AHEAD_DELAY, self.prepare_triage)  # for the next one

    def prepare_triage(self) -> None:
        """A triage form of no incident yet, composed and mounted unseen while the dashboard is
        idle (as the intake's, prepare_intake, and after it: Ctrl+N is the phone's first key), or
        while the 受付番号 of a call just saved is read out to the caller (its `t` is the usual
        way to the triage); `t` gives it its incident (TriageScreen.open_for). Built when `t` is
        pressed, the form took keys ~300 ms later at 10,000 incidents (bench/intake.py)."""
        if self._triage_ahead is not None or not self.is_running or self._exit or self._closing:
            return
        from screens.dashboard import DashboardScreen
        from screens.intake import SavedScreen

        screen = self.screen
        idle = (isinstance(screen, SavedScreen)
                or (isinstance(screen, DashboardScreen) and self._intake_ahead is not None))
        if not idle or time.monotonic() - self._key_at < TRIAGE_AHEAD_IDLE:
            self.set_timer(TRIAGE_AHEAD_RETRY, self.prepare_triage)
            return
        from screens.triage import TriageScreen

        self._triage_ahead = self.build_unseen(TriageScreen(None))

    def open_response(self, incident_id: str) -> None:
        from screens.response import ResponseScreen

        self.push_screen(ResponseScreen(incident_id))

    def open_export(self, incident_id: str | None = None, kind: str | None = None) -> None:
        """The report export dialog (報告様式1 of ``incident_id``, or the committee summary)."""
        from screens.export import ExportScreen

        if isinstance(self.screen, ExportScreen):
            return
        self.push_screen(ExportScreen(incident_id, kind))

    def open_report_texts(self, incident_id: str) -> None:
        """The free-text parts of 報告様式1 (cause, damage, measures …), each save on the record."""
        from screens.export import ReportTextsScreen

        try:
            self.store.incident(incident_id)
        except DomainError as err:
            self.notify(str(err), severity="error", markup=False)
            return
        self.push_screen(ReportTextsScreen(incident_id))

    def _current_incident(self, screen) -> str | None:
        """The incident the operator is looking at: the open one, or the dashboard's highlighted row."""
        incident_id = getattr(screen, "incident_id", None)
        if incident_id:
            return incident_id
        from screens.dashboard import DashboardScreen, _cursor_key

        if isinstance(screen, DashboardScreen):
            return _cursor_key(screen.query_one("#incidents"))
        return None

    def action_export_report(self, screen=None) -> None:
        incident_id = self._current_incident(screen or self.screen)
        if not incident_id:
            self.notify("インシデントを選ぶか開いてから出力してください（集計はインシデント不要: Ctrl+P 集計）",
                        severity="warning", markup=False)
            return
        self.open_export(incident_id)

    def action_report_texts(self, screen=None) -> None:
        incident_id = self._current_incident(screen or self.screen)
        if not incident_id:
            self.notify("インシデントを選ぶか開いてから編集してください", severity="warning", markup=False)
            return
        self.open_report_texts(incident_id)

    def open_draft(self, draft_id: str) -> None:
        from screens.intake import IntakeScreen

        try:
            draft = self.store.load_draft(draft_id)
        except DomainError as err:
            self.notify(str(err), severity="error", markup=False)
            return
        self.push_screen(IntakeScreen(draft))

    def now(self) -> datetime:
        return self.clock()

    # ------------------------------------------------------------ keys, help, palette, theme
    def action_help(self) -> None:
        """F1: the keys of the screen in front (screens/commands.py), all of them."""
        from screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
            return
        from textual.widgets import Select

        widgets = ("dropdown",) if self.screen.query(Select) else ()  # the keys of its open list too
        self.push_screen(HelpScreen(getattr(self.screen, "KEYS_SCREEN", "app"), widgets))

    def action_help_quit(self) -> None:
        """Ctrl+C (a reflex to quit; in a field it copies): say how the desk closes, in Japanese."""
        self.notify("終了するには Ctrl+Q を押してください (入力中の下書きは保存されます)。", title="終了しますか?",
                    markup=False)

    def action_command_palette(self) -> None:
        from textual.command import CommandPalette

        from screens.palette import DeskPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(DeskPalette(id="--command-palette", placeholder="コマンドを名前で探す (例: 報告書)"))

    def action_change_theme(self) -> None:
        """The theme list, searched in Japanese: Textual's said 「Search for themes…」 (English, and
        its … two cells in a Japanese terminal font, one for Textual)."""
        from textual.command import CommandPalette
        from textual.theme import ThemeProvider

        from screens.palette import DeskPalette

        if not CommandPalette.is_open(self):
            self.push_screen(DeskPalette(providers=[ThemeProvider], placeholder="テーマを名前で探す (例: nord)"))

    def _restore_theme(self) -> None:
        theme = load_settings().get("theme")
        if isinstance(theme, str) and theme in self.available_themes:
            self.theme = theme
        self.theme_changed_signal.subscribe(self, self._keep_theme)

    def _keep_theme(self, theme) -> None:
        problem = save_setting("theme", theme.name)
        if problem:
            self.notify(f"テーマを保存できませんでした: {problem}", severity="warning", markup=False)

    def get_system_commands(self, screen):
        """The palette: the desk's commands only, all in Japanese (Textual's own Keys, Maximize,
        Screenshot — an SVG of personal data written to the current folder — are left out)."""
        from textual.app import SystemCommand

        yield SystemCommand("新規受付", "電話・メールなどの通報を受け付ける (Ctrl+N)", self.action_new_intake)
        yield SystemCommand("連絡先名簿", "役割・担当者・今だれに電話するか (Ctrl+R)", self.action_roster)
        yield SystemCommand("更新", "一覧を読み直す", lambda: screen.run_action("refresh"))
        yield SystemCommand("全件 / 対応中のみ", "収束・非インシデントも表示するか切り替える",
                            lambda: screen.run_action("toggle_all"))
        yield SystemCommand("報告書 (PDF) を出力", "報告様式1（発生報告・収束報告）を PDF に (インシデント画面の p)",
                            lambda: self.action_export_report(screen))
        yield SystemCommand("報告書の記載を編集", "原因・被害・再発防止策など報告様式1の記載 (インシデント画面の e)",
                            lambda: self.action_report_texts(screen))
        from csirt_tui.report.summary import summary_label

        label = summary_label(self.store.profile)
        yield SystemCommand(f"{label} (PDF)", f"期間を指定して{label}を PDF に (集計)",
                            lambda: self.open_export(None, "summary"))
        yield SystemCommand("手順の評価・見直し", "手順・計画の定期的な評価及び見直しの記録と、次の見直しの時期",
                            self.open_reviews)
        yield SystemCommand("バンドルの持ち出し", "隔離端末などへ、インシデントをバンドル (1 ファイル) に書き出す",
                            lambda: self.open_bundle("export", getattr(screen, "incident_id", None)))
        yield SystemCommand("バンドルの取り込み", "隔離端末などで記録したバンドルを取り込む (何が変わるかを先に表示)",
                            lambda: self.open_bundle("import"))
        yield SystemCommand("PoC カード (窓口の連絡先)", "所在地・対応時間・電話番号・メール・確認項目 (F3)",
                            self.action_poc_card)
        yield SystemCommand("訓練を始める (シナリオから)", "訓練シナリオを選んで訓練の受付を開く (通報者の言葉を表示)",
                            self.start_drill)
        yield SystemCommand("訓練として記録 / 訓練の指定を取り消す",
                            "選んだインシデントを訓練として記録する、または取り消す (インシデント画面の k)",
                            lambda: self.mark_drill_dialog(self._current_incident(screen)))
        yield SystemCommand("訓練の講評 (PDF)", "訓練のシナリオの期待と記録、受付からの時間を PDF に (インシデント画面の v)",
                            lambda: self.drill_review(self._current_incident(screen)))
        yield SystemCommand("バックアップ", "今すぐストアのバックアップを作る", self.action_backup)
        yield SystemCommand("キー一覧 (ヘルプ)", "この画面のキーと、できること (F1)", self.action_help)
        yield SystemCommand("テーマ (画面の色)", "画面の色を変える (次の起動でも同じ色)", self.action_change_theme)
        yield SystemCommand("終了", "csirt-desk を終了する (Ctrl+Q)", self.request_quit)

    def open_reviews(self) -> None:
        from screens.review import ReviewScreen

        if not isinstance(self.screen, ReviewScreen):
            self.push_screen(ReviewScreen())

    # ------------------------------------------------------------ PoC card, drills (訓練)
    def action_poc_card(self) -> None:
        """F3 / the palette: the whole PoC card (むつ 別表第1) of this desk's profile."""
        from screens.poccard import PocCardScreen

        if isinstance(self.screen, PocCardScreen):
            self.screen.dismiss(None)
            return
        self.push_screen(PocCardScreen())

    def start_drill(self) -> None:
        """The palette's 「訓練を始める」: choose one of the profile's scenarios; the intake opens as
        a drill, the caller's words shown to be read out, the fields empty for the operator to type."""
        from csirt_tui.drill import load_scenarios
        from screens.form import PickerScreen
        from screens.intake import IntakeScreen

        try:
            scenarios = load_scenarios(self.store.profile)
        except DomainError as err:
            self.notify(str(err), severity="error", markup=False)
            return
        if not scenarios:
            self.notify("このプロファイルには訓練シナリオがありません（data/drills/）", severity="warning", markup=False)
            return
        by_id = {sc.id: sc for sc in scenarios}

        def chosen(sid: str | None) -> None:
            if sid:
                self.push_screen(IntakeScreen(drill_scenario=by_id[sid]))

        self.push_screen(PickerScreen([(f"【訓練】{sc.title}", sc.id) for sc in scenarios],
                                      "訓練シナリオを選ぶ (Enter)", wide=True), chosen)

    def _chosen_incident(self, incident_id: str | None, none_chosen: str):
        """The incident an action is about, or None after saying why there is none."""
        if not incident_id:
            self.notify(none_chosen, severity="warning", markup=False)
            return None
        try:
            return self.store.incident(incident_id)
        except DomainError as err:
            self.notify(str(err), severity="error", markup=False)
            return None

    def mark_drill_dialog(self, incident_id: str | None, on_done=None) -> None:
        """Mark the incident a drill, or take the mark back: a form (a note; the reason required to
        take it back), each a new entry on the record."""
        from csirt_tui.response import mark_drill
        from screens.form import DraftKey, Field, FormScreen

        inc = self._chosen_incident(incident_id, "インシデントを選ぶか開いてから記録してください")
        if inc is None:
            return
        undo = inc.drill
        if undo:
            title = f"【訓練】{incident_id} の訓練の指定を取り消す"
            intro = ("取り消すと、このインシデントは実際のインシデントとして件数に数えられます。"
                     "取り消しも新しい記録として残ります（元の記録は消えません）。")
            fields = [Field("note", "取り消す理由", "multiline", required=True)]
        else:
            title = f"{incident_id} を訓練として記録する"
            intro = ("訓練として記録すると、【訓練】と表示され、集計では別掲になります"
                     "（実際のインシデントとして数えません）。あとで取り消すこともできます（新しい記録として残ります）。")
            fields = [Field("note", "メモ (だれの指示の訓練か など。任意)", "multiline")]

        def save(values):
            return mark_drill(self.store, incident_id, operator=self.operator, drill=not undo,
                              note=values.get("note") or "")

        def done(result) -> None:
            if result is not None:
                self.notify("訓練の指定を取り消しました" if undo else "【訓練】として記録しました", markup=False)
            if on_done is not None:
                on_done()

        self.push_screen(FormScreen(title, fields, intro=intro, save=save,
                                    draft=DraftKey("form", incident_id, "drill", "incident")), done)

    def drill_review(self, incident_id: str | None) -> None:
        """The review (講評) of a drill as PDF: the export dialog on 「訓練の講評」."""
        inc = self._chosen_incident(incident_id, "訓練のインシデントを選ぶか開いてから出力してください")
        if inc is None:
            return
        if not inc.drill:
            self.notify(f"{incident_id} は訓練ではありません（講評は訓練のみ。k で訓練として記録できます）",
                        severity="warning", markup=False)
            return
        self.open_export(incident_id, "drill_review")

    def open_bundle(self, mode: str, incident_id: str | None = None) -> None:
        from screens.exchange import BundleScreen

        self.push_screen(BundleScreen(mode, incident_id if isinstance(incident_id, str) else None))

    def action_backup(self) -> None:
        def work():
            try:
                path = self.store.backup("manual", stop=self.backup_stop)
            except BackupStopped:
                if not self.backup_stop.is_set():  # (the desk closing: nothing to say) it gave way to a save
                    self.call_from_thread(self.notify, "記録の保存を先にするため、バックアップを中断しました。"
                                          "もう一度実行してください", severity="warning", timeout=12, markup=False)
                return
            except (DomainError, OSError) as err:  # a full disk: said plainly, not a silent worker error
                self.call_from_thread(self.notify, f"バックアップできませんでした: {plain_problem(err, self.store.root)}",
                                      severity="error", timeout=12, markup=False)
                return
            if self.store.backup_damaged:  # the rest is saved; the damaged index file is named, not copied
                self.call_from_thread(self.say_damaged_backup, path, self.store.backup_damaged)
                return
            self.call_from_thread(self.notify, f"バックアップを作成しました: {path.name}", markup=False)

        self.run_worker(work, thread=True, exit_on_error=False)


def run_app(*, store_dir: str | None, profile: str | None, operator: str) -> int:
    try:
        store = Store.open(resolve_store_dir(store_dir), profile=profile)
    except DomainError as err:
        print(f"csirt-desk: {err}", file=sys.stderr)
        return 1
    app = CsirtDeskApp(store, operator=operator)
    app.run()
    for problem in app.unsaved_on_exit:
        print(f"csirt-desk: 下書きを保存できずに終了しました: {problem}", file=sys.stderr)
    if app.damaged:
        print("csirt-desk: ストアのファイルが壊れているため、終了時のバックアップは作っていません:"
              f" {app.damaged[0]}", file=sys.stderr)
    elif app.backups and (app.return_code or 0) >= 128:
        # closed by a signal (SIGTERM: a shutdown; SIGHUP: the terminal closed): at once, drafts
        # written; the next start makes the backup
        print("csirt-desk: 終了の指示を受けたため、終了時のバックアップは作っていません (記録は保存済みです)",
              file=sys.stderr)
    elif app.backups:
        # After the terminal is back: said, so that a shell that waits (a whole copy of a large
        # store, 42 s here) is not taken for a hung desk; Ctrl+C gives it up
        print("csirt-desk: 終了時のバックアップを作成しています (記録は保存済みです。Ctrl+C で中止できます)",
              file=sys.stderr, flush=True)
        try:
            store.backup("close")
            for problem in store.backup_damaged:
                print(f"csirt-desk: 壊れた索引ファイルは終了時のバックアップに入れていません: {problem}", file=sys.stderr)
        except KeyboardInterrupt:
            print("csirt-desk: 終了時のバックアップを中止しました (記録は保存済みです。次の起動時に作成します)",
                  file=sys.stderr)
            return 130
        except (DomainError, OSError) as err:  # the session's work is already saved; e.g. a file
            # renamed away by another process while it was copied (a draft set aside)
            print(f"csirt-desk: バックアップできませんでした: {plain_problem(err, store.root)}", file=sys.stderr)
    return app.return_code or 0

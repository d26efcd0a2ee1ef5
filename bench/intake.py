"""The phone desk in figures.

usage: python bench/intake.py [--incidents 10000] [--samples 20] [--dashboard-only] [--keep-store DIR]

Prints:
  - the non-text keystrokes needed for a complete PoC card, from "new" to saved
    (goal ≤ 12), with the keys; and those of a typical triage (goal ≈ 10);
  - keystroke → draft on disk: from a key press in the intake screen to the
    draft file holding that character (median, p90; goal ≤ 500 ms);
  - dashboard open and filter keystroke at N incidents (goal ≤ 300 ms / ≤ 50 ms):
    a query typed, erased with Backspace and typed again, each key timed from the
    moment it reaches the app to the end of the next screen refresh, and the full
    garbage collections that fell in that time.
Runs the real app headless (Textual's run_test); figures only, nothing asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import pct  # noqa: E402  (also puts the repository on sys.path)

from csirt_tui.app import CsirtDeskApp  # noqa: E402
from csirt_tui.demo import build_large  # noqa: E402
from csirt_tui.store import Store  # noqa: E402

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


async def _type(pilot, text):
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


async def keystrokes(root: Path) -> list[str]:
    store = Store.open(root / "keys", clock=lambda: NOW)
    app = CsirtDeskApp(store, operator="bench", clock=lambda: NOW, backups=False)
    keys: list[str] = []

    async def key(pilot, *names):
        keys.extend(names)
        await pilot.press(*names)

    async with app.run_test(size=(120, 50)) as pilot:
        await key(pilot, "ctrl+n")
        await pilot.pause()
        await key(pilot, "enter", "down", "enter", "tab")   # 通報の種類
        await _type(pilot, "今朝9時")
        await key(pilot, "enter")
        await _type(pilot, "本庁舎3階 税務課")
        await key(pilot, "enter")
        await _type(pilot, "画面に脅迫文")
        await key(pilot, "tab")
        await _type(pilot, "試験 一郎")
        await key(pilot, "enter")
        await _type(pilot, "税務課")
        await key(pilot, "enter")
        await _type(pilot, "内線2301")
        await key(pilot, "ctrl+s")
        await pilot.pause()
    assert store.list_incidents(), "the card was not saved"
    return keys


async def triage_keys(root: Path) -> list[str]:
    """A typical triage by keyboard: staff report, cyber attack, one level-1 example."""
    store = Store.open(root / "triage", clock=lambda: NOW)
    store.create_incident({"what": "端末にウイルス感染の警告", "reporter_type": "staff",
                           "received_at": "2026-11-16T09:50:00+09:00"}, operator="bench")
    app = CsirtDeskApp(store, operator="bench", clock=lambda: NOW, backups=False)
    keys = ["t", "enter", "down", "enter", "down", "down", "down", "down", "space", "ctrl+s"]
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        for k in keys:
            await pilot.press(k)
            await pilot.pause()
    inc = store.incident(store.list_incidents()[0]["id"])
    assert (inc.type_id, inc.level) == ("cyber", 1), (inc.type_id, inc.level)
    return keys


async def draft_latency(root: Path, samples: int) -> list[float]:
    store = Store.open(root / "draft", clock=lambda: NOW)
    app = CsirtDeskApp(store, operator="bench", clock=lambda: NOW, backups=False)
    times = []
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        screen = app.screen
        screen.query_one("#place").focus()
        typed = ""
        for i in range(samples):
            ch = "あいうえおかきくけこ"[i % 10]
            typed += ch
            t0 = time.perf_counter()
            await pilot.press(ch)
            while True:
                drafts = store.list_drafts()
                if drafts and drafts[0]["data"]["place"] == typed:
                    break
                await asyncio.sleep(0.005)
            times.append((time.perf_counter() - t0) * 1000)
            await asyncio.sleep(0.3)  # let the throttle window close: each sample starts clean
    return times


QUERY = ("サ", "ー", "バ", "の", "不", "具")


async def dashboard(root: Path, incidents: int, keep: Path | None = None
                    ) -> tuple[int, float, list[float], list[float], list[float], int]:
    where = keep or root / "big"
    built = (where / "store.json").exists()
    store = Store.open(where, clock=lambda: NOW)
    if not built:
        t0 = time.perf_counter()
        build_large(store, incidents=incidents, entries=3)
        print(f"  (built {incidents:,} incidents in {time.perf_counter() - t0:.1f} s)", flush=True)
    incidents = len(store.list_incidents(sort=False))
    app = CsirtDeskApp(store, operator="bench", clock=lambda: NOW, backups=False)
    from textual.widgets import DataTable

    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        screen = app.screen
        # open: what the dashboard does when shown (read the index, order, build rows)
        opens = []
        for _ in range(5):
            screen._shown = []  # rows as on a first open (the table skips a rebuild to the same rows)
            t0 = time.perf_counter()
            screen.refresh_data()
            opens.append((time.perf_counter() - t0) * 1000)
        await pilot.press("slash")
        await pilot.pause(0.3)
        table = screen.query_one("#incidents", DataTable)
        # key → painted: from the moment the key is handed to the app (pilot.press puts
        # it in the driver's queue at once) to the end of the first screen refresh after
        # the table was filled again (a callback queued by the fill runs after that refresh)
        marks: list[float] = []
        pressed = [0.0]
        original = type(screen)._fill_incidents

        def timed_fill(self, *a, **kw):
            original(self, *a, **kw)
            start = pressed[0]
            self.call_after_refresh(lambda: marks.append((time.perf_counter() - start) * 1000))

        # full (generation 2) collections while typing, and how long each took
        gcs: list[float] = []
        gc_start = [0.0]

        def gc_watch(phase, info):
            if info["generation"] == 2:
                if phase == "start":
                    gc_start[0] = time.perf_counter()
                else:
                    gcs.append((time.perf_counter() - gc_start[0]) * 1000)

        type(screen)._fill_incidents = timed_fill
        gc.callbacks.append(gc_watch)
        try:
            for word in QUERY + ("backspace",) * len(QUERY) + QUERY:
                pressed[0] = time.perf_counter()
                await pilot.press(word)
                await pilot.pause()
        finally:
            gc.callbacks.remove(gc_watch)
            type(screen)._fill_incidents = original
        rows = table.row_count
    n = len(QUERY)
    return incidents, statistics.median(opens), marks[:n], marks[n:], gcs, rows


async def main_async(args) -> None:
    root = Path(tempfile.mkdtemp(prefix="csirt-bench-intake-"))
    # The dashboard first: the desk freezes what start-up left alive (gc.freeze) once per
    # process, as the first app of the process; measured after other apps, the 10,000
    # incidents would stay in the collector's sight, unlike in a real start.
    figures = await dashboard(root, args.incidents, args.keep_store)
    if not args.dashboard_only:
        await desk_figures(root, args)
    await report_dashboard(*figures)


async def desk_figures(root: Path, args) -> None:
    keys = await keystrokes(root)
    print(f"non-text keystrokes for a complete card: {len(keys)}  ({' '.join(keys)})  goal ≤ 12")
    tkeys = await triage_keys(root)
    print(f"keystrokes for a typical triage (open, fact check, type, one example, record): {len(tkeys)}"
          f"  ({' '.join(tkeys)})  goal ≈ 10")
    lat = await draft_latency(root, args.samples)
    print(f"keystroke → draft on disk: median {statistics.median(lat):.0f} ms, p90 {pct(lat, 90):.0f} ms"
          f" ({len(lat)} samples)  goal ≤ 500 ms")


async def report_dashboard(incidents, open_ms, typed, erased, gcs, rows) -> None:
    print(f"dashboard open at {incidents:,} incidents: {open_ms:.0f} ms (median of 5)  goal ≤ 300 ms")
    every = typed + erased
    print(f"filter keystroke → table repainted at {incidents:,} incidents: median {statistics.median(every):.0f} ms,"
          f" max {max(every):.0f} ms ({len(every)} keys)  goal ≤ 50 ms\n"
          f"  typing {''.join(QUERY)}: {', '.join(f'{t:.0f}' for t in typed[:len(QUERY)])} ms;"
          f" erasing it: {', '.join(f'{t:.0f}' for t in erased[:len(QUERY)])} ms;"
          f" typing it again: {', '.join(f'{t:.0f}' for t in erased[len(QUERY):])} ms"
          f" (rows shown at the end: {rows})\n"
          f"  full garbage collections while typing: {len(gcs)}"
          + (f" ({', '.join(f'{t:.0f}' for t in gcs)} ms)" if gcs else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--incidents", type=int, default=10_000)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--dashboard-only", action="store_true", help="only the dashboard figures")
    ap.add_argument("--keep-store", type=Path, metavar="DIR",
                    help="build the large store in DIR once and use it again in later runs")
    asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    main()

"""The desk's thread while 全件 is shown and another process writes (issue 18).

usage: python bench/dashboard_stall.py --store DIR [--code DIR] [--quiet-seconds 6]

The desk (headless, 120x30, the checkout's own code or that of ``--code DIR``, e.g. an
export of an earlier commit: ``git archive 06a76b7 | tar -x -C /tmp/before``) opens the store,
is asked for 全件 (a) and watched until every row is there. Then, one after the other, another
process writes:
- ``note``: ``csirt-desk log ID TEXT`` on an open incident (the record alone; no index file);
- ``intake``: a new incident (index/open.json changes);
- ``close``: an open incident closed (its year's index file changes too);
and the desk is watched until its list shows the change (the new incident among its rows,
the closed one's status; the note: ``--quiet-seconds``).

Printed for the a and each write: the longest stall of the desk's thread (event-loop lag: a task that
sleeps 10 ms notes how late it wakes), the longest a key waited (Down or Up sent every
100 ms from a thread, as the terminal driver's keys are, until the list's cursor moved), the
longest full collection of the garbage collector (it holds the interpreter's lock: every
thread waits), and how long until the list showed the change.
Figures only, nothing asserted. The store is written to (a note, an incident, a close).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from common import loop_lag

WRITE = {
    "intake": (
        "import sys\n"
        "from csirt_tui.store import Store\n"
        "from csirt_tui.intake import build_intake\n"
        "s = Store.open(sys.argv[1])\n"
        "raw = {'channel': 'naisen', 'place': '本庁舎3階', 'what': 'ベンチ: 別のデスクの受付',"
        " 'reporter': {'name': '試験 一郎', 'section': '税務課', 'contact': '内線2301'}}\n"
        "print(s.create_incident(build_intake(s.profile, raw, s.now()), operator='bench').id)\n"),
    "close": (
        "import sys\n"
        "from csirt_tui.store import Store\n"
        "from csirt_tui.response import close_incident\n"
        "s = Store.open(sys.argv[1])\n"
        "close_incident(s, sys.argv[2], operator='bench', note='ベンチ: 完了を確認', force=True)\n"
        "print(sys.argv[2])\n"),
}


def child_env(code: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(code) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def write(kind: str, store: Path, code: Path, incident: str) -> str:
    """Another process's write; returns the incident it concerns."""
    if kind == "note":
        args = [sys.executable, "-m", "csirt_tui", "--store", str(store), "log", incident, "ベンチのメモ"]
    else:
        args = [sys.executable, "-c", WRITE[kind], str(store), incident]
    out = subprocess.run(args, env=child_env(code), capture_output=True, text=True, timeout=300)
    if out.returncode:
        raise SystemExit(f"{kind}: exit {out.returncode}: {out.stderr.strip()}")
    return out.stdout.strip().split("#")[0]


async def measure(store: Path, code: Path, quiet: float) -> list[tuple[str, float, float, float]]:
    from textual import events
    from textual.widgets import DataTable

    from csirt_tui.app import CsirtDeskApp
    from csirt_tui.store import Store

    app = CsirtDeskApp(Store.open(store), operator="bench", backups=False)
    results = []
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        await pilot.pause()
        lag = [0.0]
        keys = [0.0]
        gcs = [0.0]
        started = {}

        def gc_timer(phase, info):  # the longest full collection (it holds the GIL: every thread waits)
            if info["generation"] == 2:
                if phase == "start":
                    started["t"] = time.perf_counter()
                elif "t" in started:
                    gcs[0] = max(gcs[0], time.perf_counter() - started.pop("t"))

        import gc
        gc.callbacks.append(gc_timer)
        stop = asyncio.Event()

        table = screen.query_one("#incidents", DataTable)
        table.focus()

        loop = asyncio.get_running_loop()

        def key_echo():
            # a thread as the terminal driver's: a key handed to the desk's loop every 100 ms,
            # and the list's cursor watched until it moved (Pilot.press would wait until the
            # whole process is idle, worker included, and could not send during a stall)
            down = True
            while not stop.is_set():
                row = table.cursor_row
                if row >= table.row_count - 1 or row <= 0:
                    down = row <= 0
                t = time.perf_counter()
                loop.call_soon_threadsafe(app.post_message, events.Key("down" if down else "up", None))
                while table.cursor_row == row and time.perf_counter() - t < 120:
                    time.sleep(0.001)
                keys[0] = max(keys[0], time.perf_counter() - t)
                time.sleep(0.1)

        # 全件 itself (a), the keys watched meanwhile
        stop.clear()
        tasks = [asyncio.create_task(loop_lag(stop, lag)), asyncio.create_task(asyncio.to_thread(key_echo))]
        t0 = time.perf_counter()
        app.post_message(events.Key("a", "a"))
        await asyncio.sleep(0.5)
        while getattr(screen, "_reading", False) or len(screen._all_rows) < screen._total:
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*tasks)
        print(f"a (全件) thread stall max {lag[0] * 1000:6.0f} ms   key waited max {keys[0] * 1000:6.0f} ms"
              f"   longest full gc {gcs[0] * 1000:5.0f} ms   {len(screen._all_rows):,} rows shown"
              f" {time.perf_counter() - t0:5.1f} s after the key", flush=True)

        opened = [r["id"] for r in screen._all_rows if r.get("status") == "open" and not r.get("drill")]
        for kind in ("note", "intake", "close"):
            await asyncio.sleep(2.5)  # the poll (every 2 s) has seen everything before
            lag[0] = keys[0] = gcs[0] = 0.0
            stop.clear()
            tasks = [asyncio.create_task(loop_lag(stop, lag)), asyncio.create_task(asyncio.to_thread(key_echo))]
            t = time.perf_counter()
            target = await asyncio.get_running_loop().run_in_executor(
                None, write, kind, store, code, opened[-1] if kind == "close" else opened[0])
            wrote = time.perf_counter() - t

            def shown() -> bool:
                if getattr(screen, "_reading", False):
                    return False
                row = next((r for r in screen._all_rows if r["id"] == target), None)
                return row is not None and (kind != "close" or row.get("status") != "open")

            end = time.perf_counter() + (quiet if kind == "note" else 120)
            while time.perf_counter() < end and (kind == "note" or not shown()):
                await asyncio.sleep(0.02)
            fresh = time.perf_counter() - t - wrote
            stop.set()
            await asyncio.gather(*tasks)
            results.append((kind, lag[0] * 1000, keys[0] * 1000, fresh if kind != "note" else float("nan")))
            print(f"{kind:7s} thread stall max {lag[0] * 1000:6.0f} ms   key waited max {keys[0] * 1000:6.0f} ms"
                  f"   longest full gc {gcs[0] * 1000:5.0f} ms"
                  + ("" if kind == "note" else f"   list shows it {fresh:5.1f} s after the write"), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--code", type=Path, default=Path(__file__).resolve().parents[1],
                        help="the checkout whose desk is measured (default: this one)")
    parser.add_argument("--quiet-seconds", type=float, default=6.0, help="how long the note's write is watched")
    args = parser.parse_args()
    code = args.code.resolve()
    sys.path.insert(0, str(code))
    import csirt_tui

    print(f"code: {Path(csirt_tui.__file__).parent.parent}  store: {args.store}", flush=True)
    asyncio.run(measure(args.store, code, args.quiet_seconds))


if __name__ == "__main__":
    main()

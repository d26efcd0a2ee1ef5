"""The desk's keys while another process's `bundle import` holds the store (issue 17, reliability).

usage: python bench/busy_store.py --store DIR --bundle FILE [--code DIR] [--operator NAME]

The desk (headless, 120x30, this checkout's code or that of ``--code DIR``, e.g. an export of an
earlier commit: ``git archive 326cd28 | tar -x -C /tmp/before``) opens the store, then
``csirt-desk bundle import FILE`` starts in another process (the store must take the bundle: of
the same family, e.g. a store made by importing a small bundle of the same desk). Once the import
holds the store (its .import folder is there):
- dashboard: for 5 s a key (Down / Up) every 100 ms, the list's cursor watched;
- intake: Ctrl+N, 「メール不通」 typed into (3), Ctrl+S, then 「X」: how long the desk's thread
  stalled, how long until X was in the field, what the form said, and whether the import still
  held the store when X arrived;
- when the import has let the store go: Ctrl+S again, and what became of the intake.
Keys are handed to the desk's loop from a thread, as the terminal driver does. Figures only,
nothing asserted. The store is written to (the import, an incident).
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


async def measure(store: Path, bundle: Path, code: Path, operator: str) -> None:
    from textual import events
    from textual.widgets import DataTable

    from csirt_tui.app import CsirtDeskApp
    from csirt_tui.store import Store

    env = dict(os.environ, PYTHONPATH=str(code) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    app = CsirtDeskApp(Store.open(store), operator="受付 花子", backups=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause(1.0)
        loop = asyncio.get_running_loop()
        lag = [0.0]
        stop = asyncio.Event()

        def key(name: str, char: str | None = None) -> None:
            loop.call_soon_threadsafe(app.post_message, events.Key(name, char))

        importing = store / ".import"
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "csirt_tui", "--store", str(store), "--operator", operator,
                                 "bundle", "import", str(bundle)], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        while not importing.exists():
            if proc.poll() is not None:
                raise SystemExit(f"the import ended before it held the store: {proc.stderr.read().strip()}")
            await asyncio.sleep(0.05)
        held = time.perf_counter()
        print(f"import holds the store {held - t0:5.1f} s after it started", flush=True)

        # the dashboard
        table = app.screen.query_one("#incidents", DataTable)
        table.focus()
        keys = [0.0]

        def key_echo(seconds: float):
            down, end = True, time.perf_counter() + seconds
            while time.perf_counter() < end:
                row = table.cursor_row
                if row >= table.row_count - 1 or row <= 0:
                    down = row <= 0
                t = time.perf_counter()
                key("down" if down else "up")
                while table.cursor_row == row and time.perf_counter() - t < 60 and table.row_count > 1:
                    time.sleep(0.001)
                keys[0] = max(keys[0], time.perf_counter() - t)
                time.sleep(0.1)

        stop.clear()
        task = asyncio.create_task(loop_lag(stop, lag))
        await asyncio.to_thread(key_echo, 5.0)
        stop.set()
        await task
        print(f"dashboard   thread stall max {lag[0] * 1000:6.0f} ms   key waited max {keys[0] * 1000:6.0f} ms"
              f"   ({table.row_count} rows)", flush=True)

        # the intake
        key("ctrl+n")
        while type(app.screen).__name__ != "IntakeScreen":
            await asyncio.sleep(0.02)
        await pilot.pause(0.5)
        what = app.screen.query_one("#what")
        what.focus()
        for ch in "メール不通":
            key(ch, ch)
        while what.text != "メール不通":
            await asyncio.sleep(0.02)
        await asyncio.sleep(1.0)  # the draft written
        lag[0] = 0.0
        stop.clear()
        task = asyncio.create_task(loop_lag(stop, lag))
        sent = [0.0]

        def save_then_key():
            sent[0] = time.perf_counter()
            key("ctrl+s")
            key("X", "X")

        await asyncio.to_thread(save_then_key)
        while what.text != "メール不通X" and time.perf_counter() - sent[0] < 120:
            await asyncio.sleep(0.005)
        arrived = time.perf_counter() - sent[0]
        still = importing.exists()
        await asyncio.sleep(0.5)
        stop.set()
        await task
        status = getattr(app.screen.query_one("#draft-status"), "text", "")
        toasts = [str(n.message) for n in app._notifications]
        print(f"intake Ctrl+S then X: X in the field {arrived * 1000:6.0f} ms after Ctrl+S"
              f"   thread stall max {lag[0] * 1000:6.0f} ms   import still holding then: {still}", flush=True)
        print(f"  the form says: {status or '(nothing)'}", flush=True)
        for toast in toasts:
            print(f"  toast: {' '.join(toast.split())}", flush=True)
        print(f"  screen: {type(app.screen).__name__}", flush=True)

        while proc.poll() is None:
            await asyncio.sleep(0.2)
        print(f"import let the store go {time.perf_counter() - held:5.1f} s after taking it (exit {proc.returncode})",
              flush=True)
        await asyncio.sleep(2.0)
        if type(app.screen).__name__ == "IntakeScreen":
            print(f"  the form says: {getattr(app.screen.query_one('#draft-status'), 'text', '') or '(nothing)'}")
            key("ctrl+s")
            await asyncio.sleep(2.0)
        print(f"then: screen {type(app.screen).__name__}; incidents whose (3) is 「メール不通X」: "
              f"{[r['id'] for r in Store.open(store).list_incidents() if 'メール不通X' in str(r)]}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--bundle", required=True, type=Path)
    parser.add_argument("--code", type=Path, default=Path(__file__).resolve().parents[1],
                        help="the checkout whose desk is measured (default: this one)")
    parser.add_argument("--operator", default="他デスク 山田", help="who runs the import")
    args = parser.parse_args()
    code = args.code.resolve()
    sys.path.insert(0, str(code))
    import csirt_tui

    print(f"code: {Path(csirt_tui.__file__).parent.parent}  store: {args.store}  bundle: {args.bundle}", flush=True)
    asyncio.run(measure(args.store, args.bundle.resolve(), code, args.operator))


if __name__ == "__main__":
    main()

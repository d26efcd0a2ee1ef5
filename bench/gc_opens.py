"""Full garbage collections and the desk's memory while screens are opened and closed (issue 15).

usage: python bench/gc_opens.py --store DIR [--rounds 20] [--size 80x24] [--types] [--code DIR]

One desk process (headless, the checkout's own code or that of ``--code DIR``) on the store (a
copy of the 10,000-incident store: it is not written to), the same walk as bench/intake.py's screen
opens, ``--rounds`` times over: from the dashboard the triage (t), the tracker (o), the incident
(Enter), the roster (Ctrl+R), F1; from the incident the timeline (l), the export dialog (p), the
report texts (e); the note (n) from the timeline; the step form (s) on the tracker, made ahead (the
tracker idle 1.5 s first) and built at the key (at once); each closed with Escape. Each key is sent
as the terminal's keys are, and the open is timed until the new screen is drawn with its focus.

Printed: every full (generation 2) collection: how many, how long, who made it (Python on its own:
"python"; the desk's, csirt_tui/app.py: "_collect_after_close", "_collect_when_idle"), and how many
fell inside a screen's open (between its key and its first paint, or until it takes keys: the
triage's and the step form's lower part); the opens' CPU and wall ms per screen (median, p90, max);
the process's resident memory (RSS) after each round, and the number of objects the collector
follows (not frozen) and frozen, to see whether memory grows with the opens. With ``--types``:
which types of object grew between the first round and the last (what closed screens left alive).
Figures only, nothing asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r'''
import asyncio, gc, json, os, sys, time
from datetime import datetime
from zoneinfo import ZoneInfo

from textual import events
from textual._compositor import LayoutUpdate

from csirt_tui.app import CsirtDeskApp
from csirt_tui.store import Store

store_dir, rounds, width, height = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
types = sys.argv[5] == "1"
NOW = datetime(2026, 11, 16, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
PAGE = os.sysconf("SC_PAGE_SIZE")

fulls = []          # (start perf_counter, wall ms, collected objects)
gen_count = [0, 0, 0]
_gc_at = [0.0]
_by = [""]


def watch(phase, info):
    if phase == "start":
        _gc_at[0] = time.perf_counter()
        if info["generation"] == 2:  # who made it: the desk (gc.collect) or Python on its own
            f = sys._getframe(1)
            _by[0] = f.f_code.co_name if f.f_code.co_name in ("_collect_ahead", "_collect_when_idle") else "python"
            if _by[0] == "_collect_ahead":
                _by[0] = f.f_back.f_code.co_name if f.f_back else "?"
        return
    gen_count[info["generation"]] += 1
    if info["generation"] == 2:
        fulls.append((_gc_at[0], (time.perf_counter() - _gc_at[0]) * 1000, info["collected"], _by[0]))


gc.callbacks.append(watch)


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def send(app, key, char=None):
    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)


painted = {}
_display = CsirtDeskApp._display


def _painted(self, screen, update):
    if isinstance(update, LayoutUpdate):
        painted.setdefault(type(screen).__name__, (time.perf_counter(), time.process_time()))
    return _display(self, screen, update)


CsirtDeskApp._display = _painted
opens = {}          # name -> [(wall ms, cpu ms, full GCs inside, their ms)]


async def opened(app, key, char, name, label=None):
    painted.pop(name, None)
    before = len(fulls)
    t0, c0 = time.perf_counter(), time.process_time()
    send(app, key, char)
    while not (type(app.screen).__name__ == name and app.screen.is_mounted and app.focused is not None):
        await asyncio.sleep(0.0005)
    done = asyncio.get_running_loop().create_future()
    app.screen.call_after_refresh(lambda: done.done() or done.set_result((time.perf_counter(), time.process_time())))
    t1, c1 = await done
    wait = getattr(app.screen, "keys_wait", None)
    if wait is not None:
        await wait.wait()
        t1, c1 = time.perf_counter(), time.process_time()
    else:
        t1, c1 = painted.get(name, (t1, c1))
    inside = [f for f in fulls[before:] if t0 <= f[0] <= t1]
    opens.setdefault(label or name, []).append(((t1 - t0) * 1000, (c1 - c0) * 1000, len(inside),
                                                sum(f[1] for f in inside), [f[3] for f in inside]))


async def back(app, pilot, name):
    send(app, "escape")
    while type(app.screen).__name__ != name:
        await asyncio.sleep(0.002)
    await pilot.pause()


rounds_out = []
census, alive = [], []
from collections import Counter


async def auto(pilot):
    app = pilot.app
    while not (type(app.screen).__name__ == "DashboardScreen" and app.screen.query_one("#incidents").row_count):
        await asyncio.sleep(0.01)
    await asyncio.sleep(3.5)  # the intake and the triage made ahead
    start = (rss_mb(), len(gc.get_objects()), gc.get_freeze_count())
    for turn in range(rounds):
        for key, char, name in (("t", "t", "TriageScreen"), ("o", "o", "ResponseScreen"),
                                ("enter", None, "IncidentScreen"), ("ctrl+r", None, "RosterScreen"),
                                ("f1", None, "HelpScreen")):
            await asyncio.sleep(0.3)
            await opened(app, key, char, name)
            await back(app, pilot, "DashboardScreen")
        await asyncio.sleep(0.3)
        await opened(app, "enter", None, "IncidentScreen")
        for key, name in (("l", "TimelineScreen"), ("p", "ExportScreen"), ("e", "ReportTextsScreen")):
            await asyncio.sleep(0.3)
            await opened(app, key, key, name)
            await back(app, pilot, "IncidentScreen")
        await opened(app, "l", "l", "TimelineScreen")
        await asyncio.sleep(0.3)
        await opened(app, "n", "n", "NoteScreen")
        await back(app, pilot, "TimelineScreen")
        await back(app, pilot, "IncidentScreen")
        await back(app, pilot, "DashboardScreen")
        await asyncio.sleep(0.3)
        await opened(app, "o", "o", "ResponseScreen")
        await asyncio.sleep(1.5)
        for _ in range(300):
            spare = getattr(app.screen, "_step_ahead", None)
            if spare is not None and spare.is_mounted:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        await opened(app, "s", "s", "FormScreen", "FormScreen ahead")
        await back(app, pilot, "ResponseScreen")
        await back(app, pilot, "DashboardScreen")
        await asyncio.sleep(0.3)
        await opened(app, "o", "o", "ResponseScreen")
        await opened(app, "s", "s", "FormScreen", "FormScreen built")
        await back(app, pilot, "ResponseScreen")
        await back(app, pilot, "DashboardScreen")
        await asyncio.sleep(0.5)
        rounds_out.append((rss_mb(), len(gc.get_objects()), gc.get_freeze_count(), len(fulls)))
        if types and turn in (0, rounds - 1):  # what is alive after a full collection, by type
            gc.collect()
            census.append(Counter(type(o).__qualname__ for o in gc.get_objects()))
            alive.append(len(gc.get_objects()))
    grown = (census[-1] - census[0]).most_common(25) if len(census) == 2 else []
    out = {"grown": grown, "alive": alive, "opens": opens, "fulls": [[f[1], f[2], f[3]] for f in fulls], "rounds": rounds_out, "start": start,
           "gens": gen_count, "threshold": gc.get_threshold(),
           "ahead": getattr(app, "_gc_ahead", None)}
    print("RESULT " + json.dumps(out))
    app.exit()


store = Store.open(store_dir, clock=lambda: NOW)
app = CsirtDeskApp(store, operator="bench", clock=lambda: NOW, backups=False)
app.run(headless=True, size=(width, height), auto_pilot=auto)
'''


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    import json
    import shutil
    import statistics

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, required=True, help="a store to copy (the copy is used)")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--size", default="80x24")
    ap.add_argument("--types", action="store_true",
                    help="after the first and the last round, a full collection and a count of the objects"
                         " alive by type: prints the types that grew (the collections then are not Python's own)")
    ap.add_argument("--code", type=Path, default=Path(__file__).resolve().parents[1])
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    work = Path(tempfile.mkdtemp(prefix="csirt-bench-gc-"))
    store = work / "store"
    shutil.copytree(args.store, store)
    env = dict(os.environ, PYTHONPATH=str(args.code),
               PYTHONPYCACHEPREFIX=str(Path(tempfile.gettempdir()) / "csirt-bench-intake-pycache"),
               CSIRT_DESK_CSS_CACHE=str(work / "css"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    try:
        out = subprocess.run([sys.executable, "-c", CHILD, str(store), str(args.rounds), str(width), str(height),
                              "1" if args.types else "0"],
                             env=env, capture_output=True, text=True, timeout=120 + 60 * args.rounds, cwd=args.code)
        line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
        if line is None:
            sys.exit(out.stdout[-3000:] + out.stderr[-3000:])
        res = json.loads(line[len("RESULT "):])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    fulls = res["fulls"]
    inside = sum(o[2] for opens in res["opens"].values() for o in opens)
    print(f"{args.rounds} rounds at {args.size}, load average {os.getloadavg()[0]:.1f}; collections by generation"
          f" {res['gens']} (thresholds {res['threshold']}); the desk's own full collections still on at the end:"
          f" {res['ahead']}")
    print(f"full collections: {len(fulls)}, inside a screen's open: {inside};"
          + (f" ms median {statistics.median(f[0] for f in fulls):.0f}, max {max(f[0] for f in fulls):.0f}"
             if fulls else ""))
    by: dict[str, int] = {}
    for f in fulls:
        by[f[2]] = by.get(f[2], 0) + 1
    print("  made by: " + ", ".join(f"{k} {v}" for k, v in sorted(by.items())))
    print("opens (CPU ms median / p90 / max; wall ms median / p90 / max; full GCs inside):")
    for name, opens in res["opens"].items():
        wall, cpu = [o[0] for o in opens], [o[1] for o in opens]
        print(f"  {name:<18} CPU {statistics.median(cpu):4.0f} / {pct(cpu, 90):4.0f} / {max(cpu):4.0f}"
              f"   wall {statistics.median(wall):4.0f} / {pct(wall, 90):4.0f} / {max(wall):4.0f}"
              f"   GCs {sum(o[2] for o in opens)} ({sum(o[3] for o in opens):.0f} ms)"
              + (f" made by {', '.join(sorted(set(b for o in opens for b in o[4])))}" if any(o[4] for o in opens) else ""))
    rss0, objs0, frozen0 = res["start"]
    print(f"before the first round: RSS {rss0:.0f} MB, objects followed {objs0:,}, frozen {frozen0:,}")
    for i, (rss, objs, frozen, nfull) in enumerate(res["rounds"], 1):
        if i in (1, 2, 5) or i % 10 == 0 or i == len(res["rounds"]):
            print(f"  after round {i:>3}: RSS {rss:.0f} MB, objects followed {objs:,}, frozen {frozen:,},"
                  f" full GCs so far {nfull}")
    if res["grown"]:
        print(f"alive after a full collection, after the first round: {res['alive'][0]:,},"
              f" after the last: {res['alive'][-1]:,}; grown most:")
        for name, n in res["grown"]:
            print(f"  {name:<40} +{n:,}")


if __name__ == "__main__":
    main()

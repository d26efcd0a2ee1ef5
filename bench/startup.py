"""Start to interactive dashboard, against a bare Textual app; and peak memory.

usage: python bench/startup.py [--incidents 1000] [--big 10000] [--runs 9]

Each run is a fresh Python process (interpreter start, imports, store open,
first paint). The child notes the wall-clock moment at which the dashboard's
table holds its rows, the footer shows its keys and the screen has been
refreshed once more; the parent takes that moment minus the moment it spawned
the child (so interpreter teardown, which is not start-up, is left out). Runs
of the two apps alternate, so drift on the shared machine hits both alike; the
figure is the median, with the range. The child's CPU time up to that moment
is shown as well: it moves less than wall time when other jobs compete.

The anchor is a bare Textual app in the same harness (same headless driver,
same 120×40 size, same criterion): Header, Input, a DataTable of 50 rows,
Footer. Goal: csirt-desk ≤ 1.3 × the bare app.

Byte code: both apps import from byte-code caches, as an installed app does
(``pip install`` compiles them). The children run without
``PYTHONDONTWRITEBYTECODE`` and with ``PYTHONPYCACHEPREFIX`` in the bench's
temporary folder, which the warm-up runs fill; nothing is written into the
checkout. (Textual's own byte code is in site-packages; csirt-desk's, in a
development checkout with PYTHONDONTWRITEBYTECODE=1 set, would otherwise be
compiled anew in every run: a cost no installed copy pays.)

Peak memory: the child's maximum resident set size (ru_maxrss) with the
store of ``--big`` incidents, after opening the dashboard and typing a
filter query.
Figures only, nothing asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT as REPO  # noqa: E402  (also puts the repository on sys.path)

CHILD = textwrap.dedent('''
    import resource, sys, time
    mode, store_dir, query = sys.argv[1], sys.argv[2], sys.argv[3]
    marks = {}

    def footer_keys(app):
        from textual.widgets._footer import FooterKey
        return len(app.screen.query(FooterKey))

    async def ready(pilot, table_of):
        app = pilot.app
        while True:
            await pilot.pause()
            table = table_of(app)
            if table is not None and table.row_count > 0 and footer_keys(app):
                break
        await pilot.pause()                 # and drawn
        marks["ready"] = time.time()
        marks["cpu"] = time.process_time()
        for ch in query:
            await pilot.press(ch)
        await pilot.pause()
        app.exit()

    if mode == "bare":
        from textual.app import App
        from textual.widgets import DataTable, Footer, Header, Input

        class Bare(App):
            def compose(self):
                yield Header()
                yield Input()
                yield DataTable()
                yield Footer()

            def on_mount(self):
                t = self.query_one(DataTable)
                t.add_column("row")
                t.add_rows([[f"row {i}"] for i in range(50)])

        def table_of(app):
            from textual.widgets import DataTable
            try:
                return app.screen.query_one(DataTable)
            except Exception:
                return None
        app = Bare()
    else:
        from csirt_tui.app import CsirtDeskApp
        from csirt_tui.store import Store

        store = Store.open(store_dir)
        app = CsirtDeskApp(store, operator="bench")

        def table_of(app):
            from textual.widgets import DataTable
            try:
                return app.screen.query_one("#incidents", DataTable)
            except Exception:
                return None

    async def auto(pilot):
        if query:
            await pilot.pause()
        await ready(pilot, table_of)

    app.run(headless=True, size=(120, 40), auto_pilot=auto)
    print(marks["ready"], marks["cpu"], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
''')

def child_env(root: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONPYCACHEPREFIX=str(root / "pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_child(mode: str, store_dir: str, env: dict[str, str], query: str = "") -> tuple[float, float, int]:
    """(spawn → interactive ms, the child's CPU ms up to then, max RSS kB)."""
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", CHILD, mode, store_dir, query], env=env,
                         capture_output=True, text=True, check=True)
    ready, cpu, rss = out.stdout.strip().splitlines()[-1].split()
    return (float(ready) - t0) * 1000, float(cpu) * 1000, int(rss)


def build(root: Path, incidents: int) -> str:
    from csirt_tui.demo import build_large
    from csirt_tui.store import Store

    path = root / f"store-{incidents}"
    t0 = time.perf_counter()
    build_large(Store.open(path), incidents=incidents, entries=3)
    print(f"  (built {incidents:,} incidents in {time.perf_counter() - t0:.1f} s)", flush=True)
    return str(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--incidents", type=int, default=1000)
    ap.add_argument("--big", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="csirt-bench-start-"))
    try:
        run(args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(args, root: Path) -> None:
    env = child_env(root)
    small = build(root, args.incidents)
    for _ in range(2):                  # byte-code caches and the OS file cache, for both
        run_child("bare", small, env)
        run_child("desk", small, env)
    bare, desk, bare_cpu, desk_cpu = [], [], [], []
    for _ in range(args.runs):          # interleaved, so drift hits both alike
        ms, cpu, _ = run_child("bare", small, env)
        bare.append(ms)
        bare_cpu.append(cpu)
        ms, cpu, _ = run_child("desk", small, env)
        desk.append(ms)
        desk_cpu.append(cpu)
    b, d = statistics.median(bare), statistics.median(desk)
    bc, dc = statistics.median(bare_cpu), statistics.median(desk_cpu)
    print(f"start → interactive dashboard, {args.incidents:,} incidents: csirt-desk {d:.0f} ms"
          f" ({min(desk):.0f}–{max(desk):.0f}) vs bare Textual app {b:.0f} ms ({min(bare):.0f}–{max(bare):.0f})"
          f" (median of {args.runs}) = {d / b:.2f}×  goal ≤ 1.3×")
    print(f"  CPU time to interactive: csirt-desk {dc:.0f} ms vs bare {bc:.0f} ms = {dc / bc:.2f}×")
    if args.big:
        big = build(root, args.big)
        run_child("desk", big, env)     # file cache
        _, _, bare_rss = run_child("bare", big, env, "サーバ")
        ms, _, rss = run_child("desk", big, env, "サーバ")
        print(f"peak memory (max RSS), {args.big:,} incidents, dashboard open + filter typed: "
              f"csirt-desk {rss / 1024:.0f} MB vs bare Textual app {bare_rss / 1024:.0f} MB"
              f" (start → interactive {ms:.0f} ms)")


if __name__ == "__main__":
    main()

"""Start to interactive dashboard, against a bare Textual app; and peak memory.

usage: python bench/startup.py [--incidents 1000] [--big 10000] [--runs 5]

Each run is a fresh Python process (interpreter start, imports, store open,
first paint), timed by the parent from spawn to the moment the dashboard's
table holds its rows and the screen has been refreshed; the process then
exits. The anchor is a bare Textual app in the same harness: Header, Input,
a DataTable of 50 rows, Footer. Goal: csirt-desk ≤ 1.3 × the bare app.

Peak memory: the child's maximum resident set size (ru_maxrss) with the
store of ``--big`` incidents, after opening the dashboard and typing a
filter query.
Figures only, nothing asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import pct  # noqa: E402,F401  (puts the repository on sys.path)

REPO = Path(__file__).resolve().parent.parent

CHILD = textwrap.dedent('''
    import resource, sys
    mode, store_dir, query = sys.argv[1], sys.argv[2], sys.argv[3]

    async def ready(pilot, table_of):
        app = pilot.app
        while True:
            await pilot.pause()
            table = table_of(app)
            if table is not None and table.row_count > 0:
                break
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
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
''')


def run_child(mode: str, store_dir: str, query: str = "") -> tuple[float, int]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, mode, store_dir, query], env=env,
                         capture_output=True, text=True, check=True)
    elapsed = (time.perf_counter() - t0) * 1000
    return elapsed, int(out.stdout.strip().splitlines()[-1])


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
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="csirt-bench-start-"))
    small = build(root, args.incidents)
    run_child("bare", small)           # warm the OS file cache for both
    run_child("desk", small)
    bare, desk = [], []
    for _ in range(args.runs):          # interleaved, so drift hits both alike
        bare.append(run_child("bare", small)[0])
        desk.append(run_child("desk", small)[0])
    b, d = statistics.median(bare), statistics.median(desk)
    print(f"start → interactive dashboard, {args.incidents:,} incidents: csirt-desk {d:.0f} ms"
          f" vs bare Textual app {b:.0f} ms (median of {args.runs}) = {d / b:.2f}×  goal ≤ 1.3×")
    if args.big:
        big = build(root, args.big)
        _, bare_rss = run_child("bare", big, "サーバ")
        ms, rss = run_child("desk", big, "サーバ")
        print(f"peak memory (max RSS), {args.big:,} incidents, dashboard open + filter typed: "
              f"csirt-desk {rss / 1024:.0f} MB vs bare Textual app {bare_rss / 1024:.0f} MB"
              f" (start+filter {ms:.0f} ms)")


if __name__ == "__main__":
    main()

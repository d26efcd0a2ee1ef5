"""Every operation's cost against the store's size (issue 18): the demo store and large ones, side by side.

usage: python bench/scale.py [--sizes 50000 200000] [--runs 7] [--keep DIR] [--full-verify]

Stores: the demo store (``csirt-desk demo``: its handful of scenarios) and, for each
size N, ``demo --incidents N --entries 3`` (csirt_tui.demo.build_large: about 50 open,
the others closed over five years; 3 entries each, so 150,000 entries at 50,000). The
build time is printed too. ``--keep DIR`` keeps the built stores there and reuses them
on the next run (building 200,000 takes minutes).

Measured in fresh processes, as a desk or a script meets them (interpreter start and
imports included; the first run of each is a warm-up for the byte-code and file caches,
the figure is the median of ``--runs``, runs of the stores interleaved so that drift on a
shared machine hits them alike):
- ``log ID TEXT``, ``show ID``, ``list`` (the open incidents), ``verify ID``: wall time
  of the CLI process; ID is the newest open incident (``verify ID`` also for the oldest
  closed one, whose newest ledger record lies far back);
- peak memory of ``list --json`` (open) and of ``list --all --json`` (every row,
  streamed): the process's max RSS and the Python heap's peak (tracemalloc), as the
  child says them at exit (see MEM_CHILD);
- the TUI from spawn to its first rows drawn: bench/startup.py's child (headless
  ``App.run`` with an auto-pilot that notes when the dashboard's table holds its rows,
  the footer its keys, and the screen has been refreshed once more);
- ``backup`` after one note: what the desk does 3 s after every start and at quit (a
  backup of what changed since the last one, csirt_tui/backup.py). A store without a backup
  gets its first (full) one first, without fsyncs like its build (``Store.backup(durable=False)``);
- ``--full-verify``: the whole ``verify`` once per store (not a goal: it reads everything),
  then one note and ``verify --changed`` (what was written since that check).
Goals (issue 18): log, show, list ≤ 1.2×, TUI ≤ 1.3×, memory of list ≤ 1.5×, verify ID ≤ 1.2×
the demo store's; the backup has no goal of its own (flat: it was a full copy). Figures only, nothing asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402,F401  (puts the repository on sys.path)
from startup import child_env, run_child  # noqa: E402

CLI = [sys.executable, "-m", "csirt_tui"]


def run_cli(store: Path, args: list[str], env: dict[str, str]) -> tuple[float, int]:
    """(wall ms, max RSS kB) of one CLI process (that RSS includes this process's own, which
    Linux carries over an exec: memory is measured by run_mem)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([*CLI, "--store", str(store), *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    ms = (time.perf_counter() - t0) * 1000
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} on {store}: exit {proc.returncode}: {err.strip()}")
    return ms, usage.ru_maxrss


# The CLI with its own peak memory said on stderr at exit: the Python heap's peak
# (tracemalloc) and the process's max RSS. Started from a shell that forks it (not
# exec'd from this process): Linux counts, in a process's max RSS, the memory of the
# process it was exec'd from (here ~70 MB), which hid every figure.
MEM_CHILD = (
    "import atexit, resource, runpy, sys, tracemalloc\n"
    "tracemalloc.start()\n"
    "atexit.register(lambda: sys.stderr.write('@@mem %d %d\\n' % (tracemalloc.get_traced_memory()[1],"
    " resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))\n"
    "sys.argv = ['csirt-desk', *sys.argv[1:]]\n"
    "runpy.run_module('csirt_tui', run_name='__main__')\n")


def run_mem(store: Path, args: list[str], env: dict[str, str]) -> tuple[int, int]:
    """(Python heap peak bytes, max RSS kB) of one CLI process."""
    out = subprocess.run(["sh", "-c", '"$@"; exit $?', "sh", sys.executable, "-c", MEM_CHILD, "--store", str(store),
                          *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    line = [x for x in out.stderr.splitlines() if x.startswith("@@mem ")][-1]
    heap, rss = line.split()[1:]
    return int(heap), int(rss)


def build_demo(path: Path, env: dict[str, str]) -> None:
    subprocess.run([*CLI, "--store", str(path), "demo"], env=env, check=True, stdout=subprocess.DEVNULL)


def build_large(path: Path, incidents: int, env: dict[str, str]) -> float | None:
    """Build (seconds), or reuse a store kept from an earlier run (None)."""
    if (path / "store.json").exists():
        return None
    t0 = time.perf_counter()
    subprocess.run(["nice", *CLI, "--store", str(path), "demo", "--incidents", str(incidents), "--entries", "3"],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def first_backup(path: Path, env: dict[str, str]) -> float | None:
    """The store's first backup (a full copy, no fsync: a benchmark store), if it has none;
    its heads files too (a store kept from before them). Seconds, or None (had one)."""
    if (path / "backups").is_dir() and any(not p.name.startswith(".") for p in (path / "backups").iterdir()):
        return None
    code = ("import sys; from csirt_tui.store import Store; s = Store.open(sys.argv[1])\n"
            "if s._ledger.folded() is None:\n    with s.locked(): s._rebuild_heads()\n"
            "s.backup('bench', durable=False)")
    t0 = time.perf_counter()
    subprocess.run(["nice", sys.executable, "-c", code, str(path)], env=env, check=True)
    return time.perf_counter() - t0


def ids_of(path: Path, env: dict[str, str]) -> tuple[str, str | None, int]:
    """(newest open incident, oldest closed one, number of open incidents)."""
    out = subprocess.run([*CLI, "--store", str(path), "list", "--json"], env=env, check=True,
                         capture_output=True, text=True).stdout
    rows = json.loads(out)
    code = ("import sys; from csirt_tui.store import Store; s = Store.open(sys.argv[1]);"
            "print(next((r['id'] for r in reversed(list(s.iter_incidents())) if r['status'] != 'open'), ''))")
    closed = subprocess.run([sys.executable, "-c", code, str(path)], env=env, check=True,
                            capture_output=True, text=True).stdout.strip() or None
    return rows[0]["id"], closed, len(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[50_000])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--keep", metavar="DIR", help="keep the built stores here (and reuse them)")
    ap.add_argument("--full-verify", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="csirt-bench-scale-"))
    keep = Path(args.keep) if args.keep else tmp
    keep.mkdir(parents=True, exist_ok=True)
    try:
        run(args, tmp, keep)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, tmp: Path, keep: Path) -> None:
    env = child_env(tmp)
    stores: dict[str, Path] = {"demo": tmp / "demo"}
    build_demo(stores["demo"], env)
    for n in args.sizes:
        path = keep / f"store-{n}"
        took = build_large(path, n, env)
        # the store's own files (du: a walk in Python over 200,000 folders, and the backups', took minutes)
        size = int(subprocess.run(["du", "-sb", "--exclude=backups", str(path)], capture_output=True, text=True,
                                  check=True).stdout.split()[0]) / 1e6
        built = f"built in {took:.1f} s ({took / n * 1000:.2f} ms per incident)" if took else "kept from an earlier run"
        print(f"store of {n:,} incidents: {built}, {size:,.0f} MB", flush=True)
        stores[f"{n:,}"] = path
    for name, path in stores.items():
        took = first_backup(path, env)
        if took is not None:
            print(f"  {name}: first (full) backup in {took:.1f} s (no fsync)", flush=True)
    ids = {name: ids_of(path, env) for name, path in stores.items()}
    for name, (open_id, closed_id, n_open) in ids.items():
        print(f"  {name}: {n_open} open; ID = {open_id} (newest open), oldest closed = {closed_id}")
    metrics = {
        "log ID TEXT": lambda name, p: run_cli(p, ["log", ids[name][0], "ベンチマークのメモ"], env)[0],
        "show ID": lambda name, p: run_cli(p, ["show", ids[name][0]], env)[0],
        "list (open)": lambda name, p: run_cli(p, ["list"], env)[0],
        "verify ID (open)": lambda name, p: run_cli(p, ["verify", ids[name][0]], env)[0],
        "verify ID (oldest closed)": lambda name, p: (run_cli(p, ["verify", ids[name][1]], env)[0]
                                                      if ids[name][1] else float("nan")),
        "TUI start to first rows": lambda name, p: run_child("desk", str(p), env)[0],
        "backup after a note": lambda name, p: (run_cli(p, ["log", ids[name][0], "バックアップ前のメモ"], env),
                                                run_cli(p, ["backup"], env)[0])[1],
    }
    memory = {
        "list --json (open)": ["list", "--json"],
        "list --all --json": ["list", "--all", "--json"],
    }
    goals = {"log ID TEXT": 1.2, "show ID": 1.2, "list (open)": 1.2, "TUI start to first rows": 1.3,
             "verify ID (open)": 1.2, "verify ID (oldest closed)": 1.2, "list --json (open)": 1.5}
    names = list(stores)
    print(f"\n{'':34}" + "".join(f"{n:>14}" for n in names) + "   ratio to demo (goal)")
    for metric, measure in metrics.items():
        for name in names:  # warm-up: byte code, file cache
            measure(name, stores[name])
        samples: dict[str, list[float]] = {name: [] for name in names}
        for _ in range(args.runs):
            for name in names:
                samples[name].append(measure(name, stores[name]))
        med = {name: statistics.median(v) for name, v in samples.items()}
        ratios = "  ".join(f"{med[n] / med['demo']:.2f}×" for n in names[1:])
        print(f"{metric:34}" + "".join(f"{med[n]:>11.0f} ms" for n in names)
              + f"   {ratios}" + (f"  (≤ {goals[metric]}×)" if metric in goals else ""), flush=True)
    for metric, cli in memory.items():
        got = {name: [run_mem(stores[name], cli, env) for _ in range(4)][1:] for name in names}  # after a warm-up
        for label, pick, unit in (("max RSS", 1, 1024), ("Python heap peak", 0, 1024 * 1024)):
            val = {name: statistics.median(g[pick] for g in got[name]) for name in names}
            ratios = "  ".join(f"{val[n] / val['demo']:.2f}×" for n in names[1:])
            print(f"{metric + ', ' + label:34}" + "".join(f"{val[n] / unit:>11.1f} MB" for n in names)
                  + f"   {ratios}" + (f"  (≤ {goals[metric]}×)" if metric in goals else ""), flush=True)
    if args.full_verify:
        for name in names:
            ms, _ = run_cli(stores[name], ["verify"], env)  # notes where it stood (verified.json)
            run_cli(stores[name], ["log", ids[name][0], "検査の後のメモ"], env)
            changed, _ = run_cli(stores[name], ["verify", "--changed"], env)
            print(f"{name}: full verify {ms / 1000:.1f} s; after one note, verify --changed {changed:.0f} ms",
                  flush=True)


if __name__ == "__main__":
    main()

"""Durable timeline append latency: csirt-desk's sharded store vs single-file TinyDB.

usage: python bench/store_append.py [--samples N] [--sizes 0,1000,50000] [--dir DIR]

For each size (timeline entries already in the store, spread across 1,000
incidents), prints the median and p90 of one append:
  - csirt-desk: Store.append (lock, read the newest segment, hash, atomic
    write with fsync of file and directory);
  - TinyDB: the same entry inserted into one TinyDB JSON file holding the
    same number of entries (default JSONStorage: it rewrites the whole file
    and does not even fsync).
Figures only; no goal is asserted here (see docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import pct  # noqa: E402  (also puts the repository on sys.path)

from csirt_tui.demo import build_large  # noqa: E402
from csirt_tui.store import Store  # noqa: E402

INCIDENTS = 1000
TEXT = "経過メモ: サーバ室で機器の状態を確認した。ベンダーに連絡済み。"


def bench_store(root: Path, entries: int, samples: int) -> list[float]:
    store = Store.open(root / "store")
    if entries:
        per = max(entries // INCIDENTS, 1)
        build_large(store, incidents=INCIDENTS, entries=per)
    else:
        store.create_incident({"what": "empty store"}, operator="bench")
    ids = [r["id"] for r in store.list_incidents()]
    rng = random.Random(1)
    times = []
    for _ in range(samples):
        incident_id = rng.choice(ids)
        t0 = time.perf_counter()
        store.append(incident_id, "note", TEXT, operator="bench")
        times.append((time.perf_counter() - t0) * 1000)
    return times


def bench_tinydb(root: Path, entries: int, samples: int) -> list[float]:
    from tinydb import TinyDB

    path = root / "single.json"
    db = TinyDB(path)
    table = db.table("timeline")
    doc = {"incident": "2026-0001", "seq": 1, "at": "2026-11-22T14:30:00+09:00", "occurred_at": None,
           "operator": "bench", "kind": "note", "text": TEXT, "data": {}, "corrects": None,
           "prev_hash": "0" * 64, "hash": "0" * 64}
    if entries:
        table.insert_multiple(dict(doc, seq=i) for i in range(entries))
    times = []
    for i in range(samples):
        t0 = time.perf_counter()
        table.insert(dict(doc, seq=entries + i))
        times.append((time.perf_counter() - t0) * 1000)
    db.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--tinydb-samples", type=int, default=20)
    ap.add_argument("--sizes", default="0,1000,50000")
    ap.add_argument("--dir", default=None, help="where to build the stores (default: a temp dir)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    base = Path(args.dir or tempfile.mkdtemp(prefix="csirt-bench-"))
    print(f"durable append latency, ms ({args.samples} csirt-desk samples, {args.tinydb_samples} TinyDB samples; dir {base})")
    print(f"{'entries':>8} | {'csirt-desk median':>17} {'p90':>7} | {'single-file TinyDB median':>25} {'p90':>8}")
    for size in sizes:
        run = base / f"s{size}"
        run.mkdir(parents=True, exist_ok=True)
        ours = bench_store(run, size, args.samples)
        theirs = bench_tinydb(run, size, args.tinydb_samples)
        print(f"{size:>8} | {statistics.median(ours):>17.2f} {pct(ours, 90):>7.2f} |"
              f" {statistics.median(theirs):>25.2f} {pct(theirs, 90):>8.2f}", flush=True)


if __name__ == "__main__":
    main()

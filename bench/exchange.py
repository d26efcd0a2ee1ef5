"""Bundle export and import times (issue 17): the whole store, and a small delta (one
incident with 10 new entries), on the demo store and on a large one.

    python bench/exchange.py [--incidents 1000] [--entries 50] [--runs 3]

Prints a table of medians. "delta" is the incident being worked on (the same size in both
stores: an intake and 5 notes, made by this script) with 10 new entries, exported by its number (`bundle
export FILE ID`); "--for" is what the terminal has not yet sent the desk (`bundle export FILE
--for DESK`), after one exchange each way (the desk's whole bundle in, the terminal's first
`--for` bundle back). Both plans find the incidents through the index of uids
(csirt_tui/uids.py) and read only those: neither should grow with the store."""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT

sys.path.insert(0, str(ROOT))

from csirt_tui import peers  # noqa: E402
from csirt_tui.bundle import pack, read_bundle, unpack  # noqa: E402
from csirt_tui.exchange import apply_import, export_payload, plan_import  # noqa: E402
from csirt_tui.store import Store  # noqa: E402


CPU: dict[str, list[float]] = {}  # the same figures as process time (no fsync, no waiting for the disk)


def timed(fn, key: str | None = None):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    if key is not None:
        CPU.setdefault(key, []).append(time.process_time() - c0)
    return time.perf_counter() - t0, out


WORKING_NOTES = 5


def build(root: Path, incidents: int | None, entries: int) -> str:
    """The store, and in it the incident being worked on: the same size in every store (an
    intake and WORKING_NOTES notes), so that what the delta costs is compared like with like:
    a store's own incidents differ in size (the demo's have a few entries, the large one's
    ``entries``), and an incident's size is not the store's."""
    cmd = [sys.executable, "-m", "csirt_tui", "--store", str(root), "demo"]
    if incidents:
        cmd += ["--incidents", str(incidents), "--entries", str(entries)]
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
    store = Store.open(root)
    now = store.now().isoformat(timespec="seconds")
    inc = store.create_incident({"received_at": now, "channel": "naisen", "reporter_type": None, "found_at_text": "",
                                 "found_at": None, "place": "本庁舎3階", "what": "ベンチで扱うインシデント", "memo": "",
                                 "reporter": {"name": "試験 一郎", "section": "税務課", "contact": "内線2301"},
                                 "extras": {}}, operator="受付")
    for k in range(WORKING_NOTES):
        store.append(inc.id, "note", f"デスクのメモ {k}", operator="受付")
    return inc.id


def measure(src: Path, work: Path, runs: int, target: str) -> dict[str, float]:
    out: dict[str, list[float]] = {"export all": [], "import all": [], "export delta": [], "import delta": [],
                                   "export --for": [], "import --for": []}
    for n in range(runs):
        desk_root = work / f"desk{n}"
        shutil.copytree(src, desk_root)
        desk = Store.open(desk_root)
        path = work / f"all{n}.bundle"
        t, _ = timed(lambda: path.write_bytes(pack(export_payload(desk))), "export all")
        out["export all"].append(t)
        term = Store.open(work / f"term{n}")

        def take_all():
            payload = read_bundle(path)
            term.join_family(payload["family"])
            plan = plan_import(term, payload, store_id=term.store_id, family=term.family)
            return apply_import(term, plan, store_id=term.store_id)

        t, _ = timed(take_all, "import all")
        out["import all"].append(t)
        assert term.incident(target).entries[0].text == desk.incident(target).entries[0].text  # the same numbers
        for k in range(10):
            term.append(target, "note", f"端末のメモ {k}", operator="端末")
        delta = work / f"delta{n}.bundle"
        t, _ = timed(lambda: delta.write_bytes(pack(export_payload(term, [target]))), "export delta")
        out["export delta"].append(t)

        def take_delta():
            payload = read_bundle(delta)
            plan = plan_import(desk, payload, store_id=desk.store_id, family=desk.family)
            assert plan.new_entries == 10, plan.new_entries
            return apply_import(desk, plan, store_id=desk.store_id)

        t, _ = timed(take_delta, "import delta")
        out["import delta"].append(t)

        def take(payload):
            plan = plan_import(desk, payload, store_id=desk.store_id, family=desk.family)
            apply_import(desk, plan, store_id=desk.store_id)
            return plan

        # one exchange each way first: the terminal's first --for bundle (untimed) tells the desk what it holds
        first = export_payload(term, for_peer=desk.store_id)
        peers.update_sent(term, desk.store_id, first)
        take(unpack(pack(first)))
        for k in range(10):
            term.append(target, "note", f"端末のメモ その2 {k}", operator="端末")
        forward = work / f"for{n}.bundle"

        def export_for():
            payload = export_payload(term, for_peer=desk.store_id)
            forward.write_bytes(pack(payload))
            peers.update_sent(term, desk.store_id, payload)

        t, _ = timed(export_for, "export --for")
        out["export --for"].append(t)
        t, plan = timed(lambda: take(read_bundle(forward)), "import --for")
        assert plan.new_entries == 10, plan.new_entries
        out["import --for"].append(t)
        shutil.rmtree(desk_root)
        shutil.rmtree(work / f"term{n}")
    cpu = {k: statistics.median(CPU.pop(k)) for k in out}
    return {k: statistics.median(v) for k, v in out.items()}, cpu


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--incidents", type=int, default=1000)
    ap.add_argument("--entries", type=int, default=50)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="csirt-bench-exchange-") as tmp:
        tmp = Path(tmp)
        rows = {}
        for name, incidents in (("demo", None), ("big", args.incidents)):
            target = build(tmp / name, incidents, args.entries)
            store = Store.open(tmp / name)
            rows_ = list(store.iter_incidents(status=None))
            n_entries = sum(len(store.incident(r["id"]).entries) for r in rows_)
            n_open = sum(1 for r in rows_ if r["status"] == "open")
            label = f"{len(rows_):,} incidents ({n_open} open) / {n_entries:,} entries"
            rows[label] = measure(tmp / name, tmp / f"w-{name}", args.runs, target)
    keys = list(next(iter(rows.values()))[0])
    for n, title in enumerate(("wall time (what the operator waits)", "process time (CPU: without the disk's fsyncs)")):
        print(f"{title}, medians of {args.runs}")
        print(f"{'store':<48}" + "".join(f"{k:>14}" for k in keys))
        for name, figures in rows.items():
            print(f"{name:<48}" + "".join(f"{figures[n][k] * 1000:>12.1f}ms" for k in keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())

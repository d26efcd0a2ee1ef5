"""Peak memory (RSS) of `bundle import --dry-run` and `bundle import` on a large bundle (issue 17:
the isolated terminal may be an old PC).

    python bench/bundle_memory.py [--incidents 1000] [--entries 50] [--text 0] [--work DIR]

Makes a store with the demo (``demo --incidents N --entries M``; ``--text K``: K bytes of log
excerpt added to every 10th entry's text, for a bundle of large texts), exports it whole as a
plain and as an encrypted bundle, and runs each command in its own process on a new store,
printing that process's peak RSS (ru_maxrss of the one child), its ratio to the bundle's size,
and the baseline (the same CLI's peak on `list` of an empty store). POSIX only (resource).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT

CLI = [sys.executable, "-m", "csirt_tui"]
# One child per measurement: ru_maxrss of RUSAGE_CHILDREN is the peak of that child alone.
PEAK = ("import resource, subprocess, sys, time; t = time.perf_counter();"
        "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode, time.perf_counter() - t,"
        " r.stderr.decode('utf-8', 'replace').strip().replace('\\n', ' ')[:200])")


def peak_of(*argv: str) -> tuple[float, int, float, str]:
    """(peak RSS in MB, exit code, seconds, what it said on stderr) of ``csirt-desk argv``."""
    out = subprocess.run([sys.executable, "-c", PEAK, *CLI, *argv], capture_output=True, text=True, cwd=ROOT,
                         check=True).stdout.split(" ", 3)
    kb = int(out[0]) * (1 if sys.platform != "darwin" else 1 / 1024)
    return kb / 1024, int(out[1]), float(out[2]), out[3].strip() if len(out) > 3 else ""


def build(root: Path, incidents: int, entries: int, text: int) -> None:
    subprocess.run([*CLI, "--store", str(root), "demo", "--incidents", str(incidents), "--entries", str(entries)],
                   check=True, capture_output=True, cwd=ROOT)
    if text:
        sys.path.insert(0, str(ROOT))
        from csirt_tui.store import Store

        store = Store.open(root)
        line = "2026-11-22T14:35:00 192.0.2.10 -> 198.51.100.7:443 不審な通信 (ブロック) "
        excerpt = (line * (text // len(line.encode()) + 1))[:text]
        for n, row in enumerate(store.list_incidents()):
            if n % 10 == 0:
                store.append(row["id"], "note", "ログの抜粋\n" + excerpt, operator="ベンチ")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--incidents", type=int, default=1000)
    ap.add_argument("--entries", type=int, default=50)
    ap.add_argument("--text", type=int, default=0, help="bytes of log excerpt in every 10th incident")
    ap.add_argument("--work", help="folder for the stores and bundles (default: a temporary one, removed)")
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="csirt-bundle-mem-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        src = work / "desk"
        if not (src / "store.json").exists():
            t = time.perf_counter()
            build(src, args.incidents, args.entries, args.text)
            print(f"store: {args.incidents} incidents x {args.entries} entries (+{args.text} B texts),"
                  f" made in {time.perf_counter() - t:.0f} s")
        pw = work / "password.txt"
        pw.write_text("ベンチのパスワード\n", encoding="utf-8")
        bundles = {"plain": (work / "plain.bundle", ["--waive-reason", "bench"]),
                   "encrypted": (work / "enc.bundle", ["--password-file", str(pw)])}
        for path, extra in bundles.values():
            if not path.exists():
                subprocess.run([*CLI, "--store", str(src), "bundle", "export", str(path), *extra],
                               check=True, capture_output=True, cwd=ROOT)
        empty = work / "empty"
        base, *_ = peak_of("--store", str(empty), "list")
        print(f"baseline (list on an empty store): {base:.0f} MB")
        print(f"{'bundle':10} {'size MB':>8} {'command':10} {'peak MB':>8} {'peak/size':>9} {'above base':>10} {'s':>6}")
        for name, (path, _) in bundles.items():
            size = path.stat().st_size / 2**20
            pwarg = ["--password-file", str(pw)] if name == "encrypted" else []
            for cmd in ("dry-run", "import"):
                dest = work / f"to-{name}-{cmd}"
                shutil.rmtree(dest, ignore_errors=True)
                argv = ["--store", str(dest), "bundle", "import", str(path), *pwarg]
                mb, code, secs, said = peak_of(*argv, *(["--dry-run"] if cmd == "dry-run" else []))
                if code != 0:
                    print(f"  {name} {cmd}: exit {code}: {said}")
                print(f"{name:10} {size:8.1f} {cmd:10} {mb:8.0f} {mb / size:9.2f} {(mb - base) / size:10.2f}"
                      f" {secs:6.1f}")
                shutil.rmtree(dest, ignore_errors=True)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUTF8", "1")
    sys.exit(main())

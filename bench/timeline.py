"""The record screen in figures.

usage: python bench/timeline.py [--entries 5000] [--samples 30]

Prints the time to open the record screen of one incident with N entries
(push → the first paint with the entries shown; goal ≤ 300 ms), and the add-note latency (the durable
append behind the "n" key: median, p90). Figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import pct  # noqa: E402  (also puts the repository on sys.path)

from csirt_tui.app import CsirtDeskApp  # noqa: E402
from csirt_tui.store import Store  # noqa: E402
from csirt_tui.timeparse import to_iso  # noqa: E402

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


async def main_async(args) -> None:
    root = Path(tempfile.mkdtemp(prefix="csirt-bench-timeline-"))
    store = Store.open(root / "s", clock=lambda: NOW)
    start = NOW - timedelta(days=20)
    specs = [{"kind": "note", "text": f"経過メモ {i}: サーバ室で機器の状態を確認した", "operator": "bench",
              "at": to_iso(start + timedelta(minutes=5 * i))} for i in range(args.entries - 1)]
    (incident_id,) = store.bulk_create([({"received_at": to_iso(start), "what": "大量の記録"}, specs)])
    from screens.timeline import TimelineScreen

    app = CsirtDeskApp(store, operator="bench", clock=lambda: NOW, backups=False)
    opens = []
    async with app.run_test(size=(120, 45)) as pilot:
        await pilot.pause()
        original = TimelineScreen._fill
        for _ in range(5):
            done = asyncio.get_running_loop().create_future()

            def first_fill(self, *a, **kw):  # the first paint with the rows filled in
                original(self, *a, **kw)
                self.call_after_refresh(lambda: done.done() or done.set_result(time.perf_counter()))

            TimelineScreen._fill = first_fill
            t0 = time.perf_counter()
            screen = TimelineScreen(incident_id)
            app.push_screen(screen)
            t1 = await done
            TimelineScreen._fill = original
            opens.append((t1 - t0) * 1000)
            await pilot.pause(0.5)  # the chain check finishes in its worker
            app.pop_screen()
            await pilot.pause()
    notes = []
    for i in range(args.samples):
        t0 = time.perf_counter()
        store.append(incident_id, "note", f"追加メモ {i}", operator="bench")
        notes.append((time.perf_counter() - t0) * 1000)
    print(f"record screen open, {args.entries:,} entries: median {statistics.median(opens):.0f} ms"
          f" ({', '.join(f'{t:.0f}' for t in opens)})  goal ≤ 300 ms")
    print(f"add-note (durable append) on that incident: median {statistics.median(notes):.2f} ms,"
          f" p90 {pct(notes, 90):.2f} ms ({args.samples} samples)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=5000)
    ap.add_argument("--samples", type=int, default=30)
    asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    main()

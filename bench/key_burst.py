"""Keys read in one burst (a fast typist, tmux send-keys, a remote session): how long until they are
all in their field, now that the desk handles one key at a time (CsirtDeskApp.on_event: a key read
while the one before is still being handled waits for it).

usage: python bench/key_burst.py [--chars 200] [--runs 5]
       PYTHONPATH=/tmp/before python bench/key_burst.py   (an export of an earlier commit:
       ``git archive 8974f31 | tar -x -C /tmp/before``)

The intake (Ctrl+N) at 80x24 on a new store; 「(3) 何がどのように」 focused; ``--chars`` Japanese
characters posted at once, as one read of the terminal gives them; timed until the field holds
them all (wall time, median and worst of ``--runs``). Figures only, nothing asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (this checkout on sys.path, unless PYTHONPATH names another)


async def one(chars: int) -> float:
    from textual._xterm_parser import XTermParser

    from csirt_tui.app import CsirtDeskApp
    from csirt_tui.store import Store

    text = ("電話で確認した内容" * (chars // 9 + 1))[:chars]
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        store = Store.open(Path(tmp) / "store", profile="mutsu")
        app = CsirtDeskApp(store, operator="受付 花子", backups=False, freeze_gc=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.5)
            await pilot.press("ctrl+n")
            await pilot.pause(0.5)
            field = app.screen.query_one("#what")
            field.focus()
            await pilot.pause(0.2)
            start = time.perf_counter()
            for event in XTermParser().feed(text):
                app.post_message(event)
            while field.text != text:
                await asyncio.sleep(0.002)
                if time.perf_counter() - start > 60:
                    raise SystemExit(f"not all there after 60 s: {len(field.text)} of {chars}")
            return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chars", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    import csirt_tui

    times = [asyncio.run(one(args.chars)) for _ in range(args.runs)]
    print(f"code: {Path(csirt_tui.__file__).parent.parent}")
    print(f"{args.chars} characters in one read, into the intake's (3): median {statistics.median(times) * 1000:.0f} ms, "
          f"worst {max(times) * 1000:.0f} ms ({args.runs} runs; {statistics.median(times) / args.chars * 1000:.2f} ms a key)")


if __name__ == "__main__":
    main()

"""Small helpers shared by the bench scripts."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def pct(values, p):
    """The p-th percentile (nearest rank) of ``values``."""
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def loop_lag(stop: asyncio.Event, lag: list[float], tick: float = 0.01) -> None:
    """Until ``stop`` is set, the longest a task that sleeps ``tick`` woke late, into ``lag[0]``:
    how long the desk's thread (its event loop) stalled."""
    while not stop.is_set():
        t = time.perf_counter()
        await asyncio.sleep(tick)
        lag[0] = max(lag[0], time.perf_counter() - t - tick)

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


def _reference_work() -> int:
    # small objects, dict lookups, string formatting and sorting: what a screen's build spends on
    counts: dict[str, int] = {}
    for i in range(200_000):
        key = f"w{i % 1000}"
        counts[key] = counts.get(key, 0) + len(key)
    words = sorted(str(i * 7919 % 50_000) for i in range(50_000))
    return len(counts) + len(words)


def machine_speed(rounds: int = 5) -> float:
    """CPU ms of a fixed pure-Python workload, best of ``rounds``: printed beside figures so that
    runs on different machines can be compared (the desk's screens are pure Python; the same code
    took 2.3 times as long to paint the dashboard on one session's machine as on the next's)."""
    best = float("inf")
    for _ in range(rounds):
        t = time.process_time()
        _reference_work()
        best = min(best, time.process_time() - t)
    return best * 1000

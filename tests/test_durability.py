"""Crash safety (killed mid-write: SIGKILL on POSIX, TerminateProcess on Windows) and two
processes writing at once."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import sample_intake
from csirt_tui.store import Store

WRITER = Path(__file__).with_name("writer_proc.py")
ROOT = Path(__file__).resolve().parents[1]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _start(store_root, incident_id, count, tag):
    return subprocess.Popen([sys.executable, str(WRITER), str(store_root), incident_id, str(count), tag],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
                            errors="replace", env=_env())


def _kill_loop(store_root, kills, seed):
    s = Store.open(store_root)
    inc = s.create_incident(sample_intake(), operator="setup")
    rng = random.Random(seed)
    acknowledged: list[str] = []
    for round_no in range(kills):
        proc = _start(store_root, inc.id if round_no % 4 else "new", 10_000, f"w{round_no}")
        # Wait for its first acknowledged write (starting Python took longer than the whole
        # random moment on a loaded machine: 1 write in 8 rounds), let it write for a random
        # moment, then kill it mid-write.
        first = proc.stdout.readline()
        time.sleep(rng.uniform(0.05, 0.4))
        proc.kill()  # SIGKILL on POSIX, TerminateProcess on Windows: no handler, no flush
        out, err = proc.communicate()
        assert "Traceback" not in err, err
        acknowledged.extend(line for line in (first + out).splitlines() if line)
        s = Store.open(store_root)  # opens after a kill: never torn
        report = s.verify()
        assert report.ok, report.problems[:3]
    # Every acknowledged entry is in the store.
    s = Store.open(store_root)
    have = {e.id for r in s.list_incidents() for e in s.timeline(r["id"])}
    missing = [a for a in acknowledged if a not in have]
    assert not missing, missing[:5]
    assert len(acknowledged) > kills  # the writers really wrote


def test_sigkill_mid_write_loses_nothing_acknowledged(store_dir):
    _kill_loop(store_dir, kills=8, seed=11)


@pytest.mark.heavy
def test_sigkill_mid_write_heavy(store_dir):
    _kill_loop(store_dir, kills=100, seed=12)


def _concurrent(store_dir, per_process):
    s = Store.open(store_dir)
    shared = s.create_incident(sample_intake(), operator="setup").id
    other = s.create_incident(sample_intake(), operator="setup").id
    procs = [_start(store_dir, shared, per_process, "A"), _start(store_dir, shared, per_process, "B"),
             _start(store_dir, other, per_process, "C"), _start(store_dir, "new", per_process // 10, "D")]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        outs.append(out.split())
    s = Store.open(store_dir)
    entries = s.timeline(shared)
    assert len(entries) == 1 + 2 * per_process
    texts = {e.text.split()[0] + " " + e.text.split()[1] for e in entries[1:]}
    assert len(texts) == 2 * per_process  # nobody's write was lost or duplicated
    assert len(s.timeline(other)) == 1 + per_process
    assert len(s.list_incidents()) == 2 + per_process // 10
    assert set(outs[0]) | set(outs[1]) == {e.id for e in entries[1:]}
    report = s.verify()
    assert report.ok, report.problems[:3]


def test_two_processes_append_without_losing_writes(store_dir):
    _concurrent(store_dir, 60)


@pytest.mark.heavy
def test_two_processes_append_500_each(store_dir):
    _concurrent(store_dir, 500)

"""`bundle import` killed at any moment (issue 17): the store verifies and holds the old
record or the new one, never a part of the import. And the issue's divergence at full size."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from csirt_tui.bundle import pack, read_bundle
from csirt_tui.exchange import apply_import, export_payload, plan_import
from csirt_tui.store import IMPORT_DIR, Store
from test_exchange import exchange, record, snapshot, state, two_desks, work_apart

ROOT = Path(__file__).resolve().parents[1]


def _env():
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exchange-kill")
    desk, terminal = two_desks(tmp, notes=150, new=6)
    bundle = tmp / "t.bundle"
    bundle.write_bytes(pack(export_payload(terminal)))
    return desk.root, bundle


def _import_cmd(root: Path, bundle: Path) -> list[str]:
    return [sys.executable, "-m", "csirt_tui", "--store", str(root), "bundle", "import", str(bundle)]


def _kill_rounds(pair, tmp_path, rounds: int, seed: int) -> dict[str, int]:
    src, bundle = pair
    before = record(Store.open(src))
    probe = tmp_path / "probe"
    shutil.copytree(src, probe)
    t0 = time.monotonic()
    done = subprocess.run(_import_cmd(probe, bundle), capture_output=True, text=True, env=_env())
    full = time.monotonic() - t0
    assert done.returncode == 0, done.stderr
    after = record(Store.open(probe))
    assert after != before
    rng = random.Random(seed)
    seen = {"old": 0, "new": 0, "journal_left": 0}
    for n in range(rounds):
        root = tmp_path / f"r{n}"
        shutil.copytree(src, root)
        proc = subprocess.Popen(_import_cmd(root, bundle), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=_env())
        time.sleep(rng.uniform(full * 0.3, full * 1.05))  # most of a run is Python starting
        proc.kill()
        proc.communicate()
        if (root / IMPORT_DIR / "journal.json").exists():
            seen["journal_left"] += 1
        store = Store.open(root, create=False)  # an unfinished import is undone here
        report = store.verify()
        assert report.ok, (n, report.problems[:3])
        now = record(store)
        assert now in (before, after), n
        seen["old" if now == before else "new"] += 1
        assert not (root / IMPORT_DIR).exists()
        shutil.rmtree(root)
    return seen


def test_import_killed_at_random_moments_leaves_the_old_or_the_new_record(pair, tmp_path):
    seen = _kill_rounds(pair, tmp_path, rounds=6, seed=3)
    assert seen["old"] + seen["new"] == 6


@pytest.mark.heavy
def test_import_killed_50_times(pair, tmp_path):
    seen = _kill_rounds(pair, tmp_path, rounds=50, seed=4)
    print(f"\n50 kills during bundle import: {seen}")
    assert seen["journal_left"] >= 3  # the kills did land in the middle of imports


@pytest.mark.heavy
def test_two_desks_1000_entries_and_20_incidents_each_converge(tmp_path):
    desk, terminal = two_desks(tmp_path, notes=1000, new=20)
    before = {"desk": record(desk), "terminal": record(terminal)}
    to_desk, to_terminal = tmp_path / "to-desk.bundle", tmp_path / "to-terminal.bundle"
    to_desk.write_bytes(pack(export_payload(terminal)))
    take(desk, to_desk)
    to_terminal.write_bytes(pack(export_payload(desk), password=b"stick"))
    take(terminal, to_terminal, password=b"stick")
    assert record(desk) == record(terminal) and state(desk) == state(terminal)  # every entry, as written
    for side in before.values():  # nothing either side wrote lost or changed
        assert all(set(entries) <= set(record(desk)[uid]) for uid, entries in side.items())
    assert desk.verify().ok and terminal.verify().ok
    entries = sum(len(v) for v in record(desk).values())
    print(f"\nconverged: {len(record(desk))} incidents, {entries} entries on both desks")
    assert entries == len({e for side in before.values() for es in side.values() for e in es})
    assert entries >= 2 * 1000 + 2 * 20 * 2
    for store, bundle, password in ((desk, to_desk, None), (terminal, to_terminal, b"stick")):
        same = snapshot(store.root)
        assert take(store, bundle, password=password) == []  # a second import of either bundle
        assert snapshot(store.root) == same  # byte-identical
    second = Store.open(tmp_path / "second")
    exchange(desk, second, tmp_path)
    work_apart(second, random.Random(9), [r["id"] for r in second.iter_incidents(status=None)], notes=300,
               new=5, who="端末2")
    for src, dst in ((second, terminal), (terminal, desk), (desk, second)):
        exchange(src, dst, tmp_path)
    assert record(desk) == record(terminal) == record(second)
    assert state(desk) == state(terminal) == state(second)
    assert all(s.verify().ok for s in (desk, terminal, second))


def take(store: Store, path: Path, password: bytes | None = None) -> list[str]:
    """The bundle file taken in as the CLI does (checked whole, planned, applied)."""
    payload = read_bundle(path, password=password)
    if store.family != payload["family"]:
        store.join_family(payload["family"])
    plan = plan_import(store, payload, store_id=store.store_id, family=store.family)
    return apply_import(store, plan, store_id=store.store_id)
